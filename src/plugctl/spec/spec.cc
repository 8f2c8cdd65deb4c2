#include "plugctl/spec/spec.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <utility>

#include <fmt/format.h>

namespace plugctl::spec {
namespace {

// ../shared/seeds/wasm-image-spec.md §3: "目前固定为 1.0.0".
constexpr std::string_view kDocumentedApiVersion = "1.0.0";

// Categories the image spec documents, and those the Higress console really uses.
constexpr std::array<std::string_view, 6> kDocumentedCategories = {
    "auth", "security", "protocol", "flow-control", "flow-monitor", "custom"};
constexpr std::array<std::string_view, 5> kRealCategories = {"ai", "transform", "traffic", "o11y",
                                                             "other"};

// info keys found in real spec.yaml files beyond the documented ones (../shared/docs/field-notes.md
// §3).
constexpr std::array<std::string_view, 4> kRealInfoKeys = {"type", "image", "gatewayMinVersion",
                                                           "readmeUrl"};

template <size_t N>
bool OneOf(const std::array<std::string_view, N>& set, std::string_view value) {
  return std::find(set.begin(), set.end(), value) != set.end();
}

// Semantic Versioning 2.0.0: MAJOR.MINOR.PATCH[-pre][+build], no leading zeros.
bool IsSemver(std::string_view s) {
  size_t i = 0;
  for (int part = 0; part < 3; ++part) {
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start || (i - start > 1 && s[start] == '0')) return false;
    if (part < 2) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  auto identifiers = [&](char lead) {
    if (i >= s.size() || s[i] != lead) return true;
    ++i;
    size_t start = i;
    while (i < s.size() &&
           (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '-' || s[i] == '.')) {
      ++i;
    }
    std::string_view ids = s.substr(start, i - start);
    return !ids.empty() && ids.front() != '.' && ids.back() != '.' &&
           ids.find("..") == std::string_view::npos;
  };
  if (!identifiers('-')) return false;
  if (!identifiers('+')) return false;
  return i == s.size();
}

bool IsPluginName(std::string_view s) {
  // "basic-auth" or "basic-auth/v1".
  size_t slash = s.find('/');
  std::string_view base = s.substr(0, slash);
  if (base.empty() || !std::isalnum(static_cast<unsigned char>(base.front())) ||
      !std::isalnum(static_cast<unsigned char>(base.back()))) {
    return false;
  }
  for (char c : base) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  if (slash == std::string_view::npos) return true;
  std::string_view suffix = s.substr(slash + 1);
  return suffix.size() >= 2 && suffix[0] == 'v' &&
         std::all_of(suffix.begin() + 1, suffix.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

bool IsHttpUrl(std::string_view s) {
  return (s.starts_with("http://") && s.size() > 7) || (s.starts_with("https://") && s.size() > 8);
}

// Collects findings about one spec.yaml.
class SpecChecker {
 public:
  SpecChecker(std::string_view file, const YamlDocument& doc, const SpecCheckOptions& options,
              PluginSpec* spec, std::vector<Finding>* findings)
      : file_(file), doc_(doc), options_(options), spec_(spec), findings_(findings) {}

  void Run();

 private:
  void Add(Severity severity, std::string_view path, std::string_view pointer,
           std::string message) {
    findings_->push_back(Finding{.severity = severity,
                                 .file = std::string(file_),
                                 .path = std::string(path),
                                 .line = doc_.lines.Find(pointer),
                                 .message = std::move(message)});
  }

  // A string field: returns its text. Missing → `missing` severity (if set); non-string
  // scalars are used as text with a warning; mappings/lists are errors.
  std::optional<std::string> Text(const nlohmann::json& parent, std::string_view key,
                                  std::string_view parent_path, std::string_view parent_pointer,
                                  std::optional<Severity> missing);

  void CheckInfo(const nlohmann::json& info);
  void CheckContact(const nlohmann::json& contact);
  void CheckSpec(const nlohmann::json& body);
  std::optional<Schema> CheckSchemaBlock(const nlohmann::json& block, std::string_view key,
                                         bool rule_level);
  // Copies of the error findings added since findings_ had `first` entries.
  std::vector<Finding> ErrorsSince(size_t first) const {
    std::vector<Finding> errors;
    for (size_t i = first; i < findings_->size(); ++i) {
      if ((*findings_)[i].severity == Severity::kError) errors.push_back((*findings_)[i]);
    }
    return errors;
  }

  std::string_view file_;
  const YamlDocument& doc_;
  const SpecCheckOptions& options_;
  PluginSpec* spec_;
  std::vector<Finding>* findings_;
};

std::optional<std::string> SpecChecker::Text(const nlohmann::json& parent, std::string_view key,
                                             std::string_view parent_path,
                                             std::string_view parent_pointer,
                                             std::optional<Severity> missing) {
  std::string path = AppendPath(parent_path, key);
  std::string pointer = AppendPointer(parent_pointer, key);
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) {
    if (missing) {
      Add(*missing, path, it == parent.end() ? parent_pointer : pointer,
          it == parent.end() ? "required field is missing" : "required field is empty");
    }
    return std::nullopt;
  }
  if (it->is_string()) return it->get<std::string>();
  if (it->is_structured()) {
    Add(Severity::kError, path, pointer, fmt::format("must be text, got {}", JsonTypeName(*it)));
    return std::nullopt;
  }
  std::string text = it->dump();
  Add(Severity::kWarning, path, pointer,
      fmt::format("should be text, got {} {} (quote it)", JsonTypeName(*it), text));
  return text;
}

void SpecChecker::Run() {
  const nlohmann::json& root = doc_.value;
  for (const YamlNote& note : doc_.notes) {
    findings_->push_back(Finding{.severity = Severity::kWarning,
                                 .file = std::string(file_),
                                 .path = note.path,
                                 .line = note.line,
                                 .message = note.message});
  }
  for (const auto& [key, value] : root.items()) {
    if (key != "apiVersion" && key != "info" && key != "spec") {
      Add(Severity::kWarning, AppendPath("", key), AppendPointer("", key),
          "unknown top-level key (the spec documents apiVersion, info and spec); ignored");
    }
  }

  if (std::optional<std::string> api = Text(root, "apiVersion", "", "", Severity::kError)) {
    spec_->api_version = *api;
    if (!IsSemver(*api)) {
      Add(Severity::kError, "apiVersion", "/apiVersion",
          fmt::format("\"{}\" is not a version (the documented value is {})", *api,
                      kDocumentedApiVersion));
    } else if (*api != kDocumentedApiVersion) {
      Add(Severity::kWarning, "apiVersion", "/apiVersion",
          fmt::format("apiVersion {} is not the documented {}", *api, kDocumentedApiVersion));
    }
  }

  auto info = root.find("info");
  if (info == root.end() || info->is_null()) {
    Add(Severity::kError, "info", "", "required section is missing");
  } else if (!info->is_object()) {
    Add(Severity::kError, "info", "/info",
        fmt::format("must be a mapping, got {}", JsonTypeName(*info)));
  } else {
    CheckInfo(*info);
  }

  auto body = root.find("spec");
  if (body == root.end() || body->is_null()) {
    Add(Severity::kError, "spec", "", "required section is missing");
  } else if (!body->is_object()) {
    Add(Severity::kError, "spec", "/spec",
        fmt::format("must be a mapping, got {}", JsonTypeName(*body)));
  } else {
    CheckSpec(*body);
  }
}

void SpecChecker::CheckInfo(const nlohmann::json& info) {
  PluginInfo& out = spec_->info;
  constexpr std::string_view kPath = "info";
  constexpr std::string_view kPointer = "/info";

  if (auto name = Text(info, "name", kPath, kPointer, Severity::kError)) {
    out.name = *name;
    if (!IsPluginName(*name)) {
      Add(Severity::kWarning, "info.name", "/info/name",
          fmt::format("\"{}\" is not a plugin name like basic-auth or basic-auth/v1 (lowercase "
                      "letters, digits, '-')",
                      *name));
    }
  }
  if (auto version = Text(info, "version", kPath, kPointer, Severity::kError)) {
    out.version = *version;
    if (!IsSemver(*version)) {
      Add(Severity::kError, "info.version", "/info/version",
          fmt::format("\"{}\" is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)",
                      *version));
    }
  }
  if (auto title = Text(info, "title", kPath, kPointer, Severity::kError)) out.title = *title;
  if (auto description = Text(info, "description", kPath, kPointer, Severity::kWarning)) {
    out.description = *description;
  }
  if (auto category = Text(info, "category", kPath, kPointer, Severity::kWarning)) {
    out.category = *category;
    if (OneOf(kDocumentedCategories, *category)) {
      // documented
    } else if (OneOf(kRealCategories, *category)) {
      Add(Severity::kInfo, "info.category", "/info/category",
          fmt::format("category \"{}\" is not in the documented list ({}) but the Higress "
                      "console uses it",
                      *category, fmt::join(kDocumentedCategories, ", ")));
    } else if (*category == "transformation") {
      Add(Severity::kWarning, "info.category", "/info/category",
          "category \"transformation\" is not a known category (did you mean \"transform\"?)");
    } else {
      Add(Severity::kWarning, "info.category", "/info/category",
          fmt::format("unknown category \"{}\" (documented: {}; also used by Higress: {})",
                      *category, fmt::join(kDocumentedCategories, ", "),
                      fmt::join(kRealCategories, ", ")));
    }
  }
  if (auto icon = Text(info, "iconUrl", kPath, kPointer, std::nullopt)) {
    out.icon_url = *icon;
    if (!IsHttpUrl(*icon)) {
      Add(Severity::kWarning, "info.iconUrl", "/info/iconUrl",
          fmt::format("\"{}\" is not an http(s) URL", *icon));
    }
  }
  if (auto contact = info.find("contact"); contact != info.end()) CheckContact(*contact);

  for (const auto& [key, value] : info.items()) {
    std::string path = AppendPath(kPath, key);
    std::string pointer = AppendPointer(kPointer, key);
    if (key == "name" || key == "version" || key == "title" || key == "description" ||
        key == "category" || key == "iconUrl" || key == "contact") {
      continue;
    }
    if (key.starts_with("x-") && key.ends_with("-i18n") && key.size() > 7) {
      for (Finding& f : CheckI18nValue(value, file_, path, pointer, &doc_.lines)) {
        findings_->push_back(std::move(f));
      }
      std::string base = key.substr(2, key.size() - 7);
      if (!info.contains(base)) {
        Add(Severity::kWarning, path, pointer,
            fmt::format("translates `info.{}`, which is missing", base));
      }
      auto& translations = out.i18n[base];
      if (value.is_object()) {
        for (const auto& [locale, text] : value.items()) {
          if (text.is_string()) {
            translations[locale] = text.get<std::string>();
          } else if (!text.is_structured() && !text.is_null()) {
            translations[locale] = text.dump();
          }
        }
      }
      continue;
    }
    out.extra[key] = value;
    if (key.starts_with("x-") || OneOf(kRealInfoKeys, key)) {
      if (key == "readmeUrl" && value.is_string() && !IsHttpUrl(value.get<std::string>())) {
        Add(Severity::kWarning, path, pointer,
            fmt::format("\"{}\" is not an http(s) URL", value.get<std::string>()));
      }
      continue;
    }
    Add(Severity::kWarning, path, pointer, "unknown info key (kept, not interpreted)");
  }
}

void SpecChecker::CheckContact(const nlohmann::json& contact) {
  if (contact.is_null()) return;
  if (!contact.is_object()) {
    Add(Severity::kWarning, "info.contact", "/info/contact",
        fmt::format("must be a mapping with name, url and email, got {}", JsonTypeName(contact)));
    return;
  }
  PluginContact out;
  constexpr std::string_view kPath = "info.contact";
  constexpr std::string_view kPointer = "/info/contact";
  if (auto name = Text(contact, "name", kPath, kPointer, std::nullopt)) out.name = *name;
  if (auto url = Text(contact, "url", kPath, kPointer, std::nullopt)) {
    out.url = *url;
    if (!IsHttpUrl(*url)) {
      Add(Severity::kWarning, "info.contact.url", "/info/contact/url",
          fmt::format("\"{}\" is not an http(s) URL", *url));
    }
  }
  if (auto email = Text(contact, "email", kPath, kPointer, std::nullopt)) {
    out.email = *email;
    size_t at = email->find('@');
    if (at == std::string::npos || at == 0 || at + 1 >= email->size() ||
        email->find(' ') != std::string::npos) {
      Add(Severity::kWarning, "info.contact.email", "/info/contact/email",
          fmt::format("\"{}\" is not an email address", *email));
    }
  }
  for (const auto& [key, value] : contact.items()) {
    if (key != "name" && key != "url" && key != "email" && !key.starts_with("x-")) {
      Add(Severity::kWarning, AppendPath(kPath, key), AppendPointer(kPointer, key),
          "unknown contact key (OpenAPI contact has name, url, email)");
    }
  }
  spec_->info.contact = std::move(out);
}

void SpecChecker::CheckSpec(const nlohmann::json& body) {
  auto phase = body.find("phase");
  if (phase == body.end() || phase->is_null()) {
    Add(Severity::kWarning, "spec.phase", "/spec",
        "no phase; the gateway runs the plugin in UNSPECIFIED_PHASE");
  } else if (!phase->is_string()) {
    Add(Severity::kError, "spec.phase", "/spec/phase",
        fmt::format("must be one of UNSPECIFIED_PHASE, AUTHN, AUTHZ, STATS, got {} {}",
                    JsonTypeName(*phase), DescribeValue(*phase)));
  } else {
    spec_->phase_text = phase->get<std::string>();
    if (std::optional<PluginPhase> parsed = ParsePluginPhase(spec_->phase_text)) {
      spec_->phase = *parsed;
      if (spec_->phase_text == "default") {
        Add(Severity::kInfo, "spec.phase", "/spec/phase",
            "phase \"default\" (Higress console dialect) means UNSPECIFIED_PHASE");
      }
    } else {
      std::string upper = spec_->phase_text;
      std::transform(upper.begin(), upper.end(), upper.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      std::string hint;
      if (upper != spec_->phase_text && ParsePluginPhase(upper)) {
        hint = fmt::format(" (phases are upper case: {})", upper);
      }
      Add(Severity::kError, "spec.phase", "/spec/phase",
          fmt::format("unknown phase \"{}\": expected UNSPECIFIED_PHASE, AUTHN, AUTHZ or STATS{}",
                      spec_->phase_text, hint));
    }
  }

  auto priority = body.find("priority");
  if (priority == body.end() || priority->is_null()) {
    Add(Severity::kWarning, "spec.priority", "/spec", "no priority; the gateway uses 0");
  } else {
    bool integral = priority->is_number_integer() || priority->is_number_unsigned();
    bool in_range = false;
    if (priority->is_number_integer()) {
      int64_t p = priority->get<int64_t>();
      in_range =
          p >= std::numeric_limits<int32_t>::min() && p <= std::numeric_limits<int32_t>::max();
      if (in_range) spec_->priority = static_cast<int32_t>(p);
    }
    if (!integral) {
      Add(Severity::kError, "spec.priority", "/spec/priority",
          fmt::format("must be an integer, got {} {}", JsonTypeName(*priority),
                      DescribeValue(*priority)));
    } else if (!in_range) {
      Add(Severity::kError, "spec.priority", "/spec/priority",
          fmt::format("{} does not fit the WasmPlugin priority (a 32-bit integer)",
                      DescribeValue(*priority)));
    }
  }

  for (const auto& [key, value] : body.items()) {
    if (key == "configSchema") {
      size_t first = findings_->size();
      spec_->config_schema = CheckSchemaBlock(value, key, /*rule_level=*/false);
      spec_->config_schema_errors = ErrorsSince(first);
    } else if (key == "routeConfigSchema") {
      size_t first = findings_->size();
      spec_->route_config_schema = CheckSchemaBlock(value, key, /*rule_level=*/true);
      spec_->route_config_schema_errors = ErrorsSince(first);
    } else if (key != "phase" && key != "priority") {
      Add(Severity::kWarning, AppendPath("spec", key), AppendPointer("/spec", key),
          "unknown spec key (the spec documents phase, priority, configSchema, "
          "routeConfigSchema); ignored");
    }
  }
  if (!body.contains("configSchema") && !body.contains("routeConfigSchema")) {
    Add(Severity::kInfo, "spec", "/spec",
        "no configSchema: configurations of this plugin cannot be checked");
  }
}

std::optional<Schema> SpecChecker::CheckSchemaBlock(const nlohmann::json& block,
                                                    std::string_view key, bool rule_level) {
  std::string path = AppendPath("spec", key);
  std::string pointer = AppendPointer("/spec", key);
  if (!block.is_object()) {
    Add(Severity::kError, path, pointer,
        fmt::format("must be a mapping with openAPIV3Schema, got {}", JsonTypeName(block)));
    return std::nullopt;
  }
  for (const auto& [k, v] : block.items()) {
    if (k != "openAPIV3Schema") {
      Add(Severity::kWarning, AppendPath(path, k), AppendPointer(pointer, k),
          "unknown key (only openAPIV3Schema is read); ignored");
    }
  }
  auto schema = block.find("openAPIV3Schema");
  if (schema == block.end()) {
    Add(Severity::kError, AppendPath(path, "openAPIV3Schema"), pointer,
        "required field is missing");
    return std::nullopt;
  }
  SchemaLocation location{.file = std::string(file_),
                          .path = AppendPath(path, "openAPIV3Schema"),
                          .pointer = AppendPointer(pointer, "openAPIV3Schema"),
                          .lines = &doc_.lines};
  SchemaCompilation compiled = Schema::Compile(
      *schema, location, {.check_examples = options_.check_examples, .rule_level = rule_level});
  for (Finding& f : compiled.findings) findings_->push_back(std::move(f));
  if (schema->is_object()) {
    auto type = schema->find("type");
    if (type != schema->end() && *type != "object") {
      Add(Severity::kWarning, AppendPath(location.path, "type"),
          AppendPointer(location.pointer, "type"),
          "a plugin configuration is a mapping: the root schema should have type object");
    }
  }
  return std::move(compiled.schema);
}

}  // namespace

std::string_view PluginPhaseName(PluginPhase phase) {
  switch (phase) {
    case PluginPhase::kUnspecified:
      return "UNSPECIFIED_PHASE";
    case PluginPhase::kAuthn:
      return "AUTHN";
    case PluginPhase::kAuthz:
      return "AUTHZ";
    case PluginPhase::kStats:
      return "STATS";
  }
  return "UNSPECIFIED_PHASE";
}

std::optional<PluginPhase> ParsePluginPhase(std::string_view text) {
  if (text == "UNSPECIFIED_PHASE" || text == "default") return PluginPhase::kUnspecified;
  if (text == "AUTHN") return PluginPhase::kAuthn;
  if (text == "AUTHZ") return PluginPhase::kAuthz;
  if (text == "STATS") return PluginPhase::kStats;
  return std::nullopt;
}

const std::vector<Finding>& PluginSpec::SchemaErrorsFor(bool rule_level) const {
  const std::optional<Schema>& first = rule_level ? route_config_schema : config_schema;
  const std::vector<Finding>& first_errors =
      rule_level ? route_config_schema_errors : config_schema_errors;
  const std::vector<Finding>& second_errors =
      rule_level ? config_schema_errors : route_config_schema_errors;
  return first || !first_errors.empty() ? first_errors : second_errors;
}

const Schema* PluginSpec::SchemaFor(bool rule_level) const {
  const std::optional<Schema>& first = rule_level ? route_config_schema : config_schema;
  const std::optional<Schema>& second = rule_level ? config_schema : route_config_schema;
  if (first) return &*first;
  if (second) return &*second;
  return nullptr;
}

namespace {

Result<ParsedSpec> CheckLoadedSpec(std::vector<YamlDocument> docs, std::string_view file_name,
                                   const SpecCheckOptions& options) {
  if (docs.empty() || docs.front().value.is_null()) {
    return MakeError(ErrorCode::kInvalidArgument, "empty file");
  }
  if (docs.size() > 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{} YAML documents; a spec.yaml holds exactly one", docs.size());
  }
  if (!docs.front().value.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "the top level must be a mapping, got {}",
                     JsonTypeName(docs.front().value));
  }
  ParsedSpec parsed;
  parsed.document = std::move(docs.front());
  SpecChecker checker(file_name, parsed.document, options, &parsed.spec, &parsed.findings);
  checker.Run();
  std::stable_sort(parsed.findings.begin(), parsed.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.line < b.line; });
  if (options.strict) MakeStrict(parsed.findings);
  return parsed;
}

}  // namespace

Result<ParsedSpec> ParseSpecYaml(std::string_view yaml, std::string_view file_name,
                                 const SpecCheckOptions& options) {
  Result<std::vector<YamlDocument>> docs = ParseYamlStream(yaml, options.limits);
  if (!docs) return tl::unexpected(docs.error().WithContext(file_name));
  Result<ParsedSpec> parsed = CheckLoadedSpec(std::move(*docs), file_name, options);
  if (!parsed) return tl::unexpected(parsed.error().WithContext(file_name));
  return parsed;
}

std::vector<Finding> ValidateSpecYaml(std::string_view yaml, std::string_view file_name,
                                      const SpecCheckOptions& options) {
  // LoadYaml rather than ParseYamlStream: a syntax error keeps its line.
  YamlLoadResult loaded = LoadYaml(yaml, options.limits);
  if (loaded.error) {
    return {Finding{.severity = Severity::kError,
                    .file = std::string(file_name),
                    .line = loaded.error_line,
                    .message = loaded.error->message()}};
  }
  Result<ParsedSpec> parsed = CheckLoadedSpec(std::move(loaded.documents), file_name, options);
  if (!parsed) {
    return {Finding{.severity = Severity::kError,
                    .file = std::string(file_name),
                    .line = 0,
                    .message = parsed.error().message()}};
  }
  return std::move(parsed->findings);
}

void MakeStrict(std::vector<Finding>& findings) {
  for (Finding& f : findings) {
    if (f.severity == Severity::kWarning) f.severity = Severity::kError;
  }
}

std::string PluginBaseName(std::string_view info_name) {
  return std::string(info_name.substr(0, info_name.find('/')));
}

}  // namespace plugctl::spec
