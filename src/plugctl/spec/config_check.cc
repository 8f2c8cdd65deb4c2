#include "plugctl/spec/config_check.h"

#include <algorithm>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "plugctl/spec/schema_internal.h"

namespace plugctl::spec {
namespace {

constexpr std::string_view kHigressApiVersion = "extensions.higress.io/v1alpha1";
constexpr std::string_view kIstioApiVersion = "extensions.istio.io/v1alpha1";

class FindingList {
 public:
  FindingList(std::string_view file, const LineMap* lines, std::vector<Finding>* out)
      : file_(file), lines_(lines), out_(out) {}

  void Add(Severity severity, std::string path, std::string_view pointer, std::string message) {
    out_->push_back(Finding{.severity = severity,
                            .file = std::string(file_),
                            .path = std::move(path),
                            .line = lines_ != nullptr ? lines_->Find(pointer) : 0,
                            .message = std::move(message)});
  }
  void Append(std::vector<Finding> findings) {
    for (Finding& f : findings) out_->push_back(std::move(f));
  }

 private:
  std::string_view file_;
  const LineMap* lines_;
  std::vector<Finding>* out_;
};

// spec.phase, when present, must be one of the WasmPlugin phase names ("default" is spec.yaml
// dialect only).
void CheckPhase(const nlohmann::json& body, std::string_view path, std::string_view pointer,
                FindingList& findings) {
  auto phase = body.find("phase");
  if (phase == body.end()) return;
  if (!phase->is_string() || !ParsePluginPhase(phase->get<std::string>()) || *phase == "default") {
    findings.Add(Severity::kError, AppendPath(path, "phase"), AppendPointer(pointer, "phase"),
                 fmt::format("{} is not a WasmPlugin phase (UNSPECIFIED_PHASE, AUTHN, AUTHZ, "
                             "STATS)",
                             DescribeValue(*phase)));
  }
}

void CheckWasmPlugin(const PluginSpec& spec, const YamlDocument& doc, std::string_view file,
                     std::vector<Finding>* out) {
  const nlohmann::json& resource = doc.value;
  FindingList findings(file, &doc.lines, out);
  const nlohmann::json& api = resource["apiVersion"];
  bool istio = api == kIstioApiVersion;
  if (api != kHigressApiVersion && !istio) {
    findings.Add(Severity::kWarning, "apiVersion", "/apiVersion",
                 fmt::format("unexpected apiVersion {} for a Higress WasmPlugin (expected {})",
                             DescribeValue(api), kHigressApiVersion));
  }
  auto body = resource.find("spec");
  if (body == resource.end() || !body->is_object()) {
    findings.Add(Severity::kError, "spec", body == resource.end() ? "" : "/spec",
                 "a WasmPlugin needs a spec mapping");
    return;
  }
  if (istio) {
    CheckPhase(*body, "spec", "/spec", findings);
    // Istio's WasmPlugin has one pluginConfig, no per-rule configurations.
    if (auto config = body->find("pluginConfig"); config != body->end() && !config->is_null()) {
      findings.Append(CheckConfigValue(spec, *config, false, file, "spec.pluginConfig",
                                       "/spec/pluginConfig", &doc.lines));
    }
    return;
  }
  findings.Append(CheckWasmPluginSpec(spec, *body, file, "spec", "/spec", &doc.lines));
}

}  // namespace

std::vector<Finding> CheckWasmPluginSpec(const PluginSpec& spec, const nlohmann::json& body,
                                         std::string_view file, std::string_view path,
                                         std::string_view pointer, const LineMap* lines) {
  std::vector<Finding> out;
  if (!body.is_object()) return out;
  FindingList findings(file, lines, &out);
  CheckPhase(body, path, pointer, findings);
  if (auto config = body.find("defaultConfig"); config != body.end() && !config->is_null()) {
    findings.Append(CheckConfigValue(spec, *config, false, file, AppendPath(path, "defaultConfig"),
                                     AppendPointer(pointer, "defaultConfig"), lines));
  }
  auto rules = body.find("matchRules");
  if (rules == body.end() || rules->is_null()) return out;
  std::string rules_path = AppendPath(path, "matchRules");
  std::string rules_pointer = AppendPointer(pointer, "matchRules");
  if (!rules->is_array()) {
    findings.Add(Severity::kError, rules_path, rules_pointer,
                 fmt::format("must be a list of rules, got {}", JsonTypeName(*rules)));
    return out;
  }
  for (size_t i = 0; i < rules->size(); ++i) {
    const nlohmann::json& rule = (*rules)[i];
    std::string rule_path = AppendPath(rules_path, i);
    std::string rule_pointer = AppendPointer(rules_pointer, i);
    if (!rule.is_object()) {
      findings.Add(Severity::kError, rule_path, rule_pointer,
                   fmt::format("a match rule must be a mapping, got {}", JsonTypeName(rule)));
      continue;
    }
    bool has_target = false;
    for (std::string_view key : {"ingress", "domain", "service"}) {
      auto it = rule.find(key);
      if (it == rule.end() || it->is_null()) continue;
      std::string key_path = AppendPath(rule_path, key);
      std::string key_pointer = AppendPointer(rule_pointer, key);
      if (!it->is_array()) {
        findings.Add(Severity::kError, key_path, key_pointer,
                     fmt::format("must be a list of names, got {}", JsonTypeName(*it)));
        continue;
      }
      for (size_t k = 0; k < it->size(); ++k) {
        if (!(*it)[k].is_string() || (*it)[k].get_ref<const std::string&>().empty()) {
          findings.Add(Severity::kError, AppendPath(key_path, k), AppendPointer(key_pointer, k),
                       fmt::format("must be a non-empty name, got {}", DescribeValue((*it)[k])));
        }
      }
      if (!it->empty()) has_target = true;
    }
    if (!has_target) {
      findings.Add(Severity::kError, rule_path, rule_pointer,
                   "a match rule must list at least one ingress, domain or service; the gateway "
                   "rejects a rule that matches nothing");
    }
    // The CRD's structural schema declares exactly these keys: any other one is dropped by the
    // API server (pruning), so the rule would silently lose it.
    static const std::vector<std::string> kRuleKeys = {"ingress", "domain",        "service",
                                                       "config",  "configDisable", "routeType"};
    for (const auto& [key, value] : rule.items()) {
      std::string key_path = AppendPath(rule_path, key);
      std::string key_pointer = AppendPointer(rule_pointer, key);
      if (std::find(kRuleKeys.begin(), kRuleKeys.end(), key) == kRuleKeys.end()) {
        findings.Add(Severity::kError, key_path, key_pointer,
                     fmt::format("unknown match rule key{}: the WasmPlugin CRD has ingress, "
                                 "domain, service, config, configDisable and routeType, and the "
                                 "API server would drop it",
                                 SuggestKey(key, kRuleKeys)));
      } else if (key == "configDisable" && !value.is_boolean() && !value.is_null()) {
        findings.Add(Severity::kError, key_path, key_pointer,
                     fmt::format("must be true or false, got {}", DescribeValue(value)));
      } else if (key == "routeType" && !value.is_null() && value != "HTTP" && value != "GRPC") {
        findings.Add(Severity::kError, key_path, key_pointer,
                     fmt::format("must be HTTP or GRPC, got {}", DescribeValue(value)));
      }
    }
    auto config = rule.find("config");
    if (config != rule.end() && !config->is_null()) {
      findings.Append(CheckConfigValue(spec, *config, true, file, AppendPath(rule_path, "config"),
                                       AppendPointer(rule_pointer, "config"), lines));
    }
  }
  return out;
}

std::string SuggestKey(std::string_view key, const std::vector<std::string>& known) {
  std::map<std::string, int> candidates;
  for (const std::string& k : known) candidates.emplace(k, 0);
  return schema_internal::DidYouMean(key, candidates);
}

bool IsWasmPluginResource(const nlohmann::json& value) {
  return value.is_object() && value.contains("apiVersion") && value["apiVersion"].is_string() &&
         value.contains("kind") && value["kind"] == "WasmPlugin";
}

std::vector<Finding> CheckConfigValue(const PluginSpec& spec, const nlohmann::json& config,
                                      bool rule_level, std::string_view file, std::string_view path,
                                      std::string_view pointer, const LineMap* lines) {
  // A schema with errors (what `plugctl validate` rejects) cannot say "valid": the check is
  // undecided, an error naming the schema's own problem.
  if (const std::vector<Finding>& broken = spec.SchemaErrorsFor(rule_level); !broken.empty()) {
    int line = lines != nullptr ? lines->Find(pointer) : 0;
    std::vector<Finding> out;
    for (const Finding& error : broken) {
      out.push_back(
          Finding{.severity = Severity::kError,
                  .file = std::string(file),
                  .path = std::string(path),
                  .line = line,
                  .message = fmt::format("undecided: the plugin's schema is invalid ({}); "
                                         "`plugctl validate` shows its errors",
                                         error.ToString())});
    }
    return out;
  }
  const Schema* schema = spec.SchemaFor(rule_level);
  if (schema == nullptr) {
    int line = lines != nullptr ? lines->Find(pointer) : 0;
    return {Finding{.severity = Severity::kInfo,
                    .file = std::string(file),
                    .path = std::string(path),
                    .line = line,
                    .message = "the plugin's spec.yaml declares no configuration schema; the "
                               "configuration is not checked"}};
  }
  std::vector<Violation> violations =
      schema->Validate(config, ValidateOptions{.rule_level = rule_level});
  return ViolationsToFindings(violations, file, path, pointer, lines);
}

std::vector<Finding> CheckConfigDocument(const PluginSpec& spec, std::string_view text,
                                         std::string_view file_name,
                                         const ConfigCheckOptions& options) {
  std::vector<Finding> out;
  YamlLoadResult loaded = LoadYaml(text, options.limits);
  if (loaded.error) {
    out.push_back(Finding{.severity = Severity::kError,
                          .file = std::string(file_name),
                          .line = loaded.error_line,
                          .message = loaded.error->message()});
    return out;
  }
  if (loaded.documents.empty()) {
    // An empty file is an empty configuration.
    loaded.documents.push_back(YamlDocument{});
  }
  for (YamlDocument& doc : loaded.documents) {
    FindingList findings(file_name, &doc.lines, &out);
    for (const YamlNote& note : doc.notes) {
      out.push_back(Finding{.severity = Severity::kWarning,
                            .file = std::string(file_name),
                            .path = note.path,
                            .line = note.line,
                            .message = note.message});
    }
    if (IsWasmPluginResource(doc.value)) {
      CheckWasmPlugin(spec, doc, file_name, &out);
      continue;
    }
    if (loaded.documents.size() > 1 && doc.value.is_null()) continue;  // "---" at the end
    if (doc.value.is_null()) {
      findings.Add(Severity::kInfo, "", "", "empty configuration; checked as {}");
      doc.value = nlohmann::json::object();
    }
    if (doc.value.is_object() && doc.value.contains("kind") && doc.value.contains("apiVersion")) {
      findings.Add(Severity::kWarning, "kind", "/kind",
                   fmt::format("looks like a Kubernetes resource of kind {}, not a WasmPlugin; "
                               "checked as a plain plugin configuration",
                               DescribeValue(doc.value["kind"])));
    }
    findings.Append(
        CheckConfigValue(spec, doc.value, options.rule_level, file_name, "", "", &doc.lines));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Finding& a, const Finding& b) { return a.line < b.line; });
  return out;
}

}  // namespace plugctl::spec
