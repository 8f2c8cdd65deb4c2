#include "plugctl/wasmplugin/wasmplugin.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "plugctl/oci/plugin_name.h"
#include "plugctl/spec/config_check.h"
#include "plugctl/spec/config_yaml.h"
#include "plugctl/wasmplugin/crd_schema.h"

namespace plugctl::wasmplugin {
namespace {

constexpr std::string_view kIstioApiVersion = "extensions.istio.io/v1alpha1";
constexpr std::string_view kOciScheme = "oci://";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsLabel(std::string_view label, size_t max_size) {
  if (label.empty() || label.size() > max_size) return false;
  if (!IsLowerAlnum(label.front()) || !IsLowerAlnum(label.back())) return false;
  return std::all_of(label.begin(), label.end(),
                     [](char c) { return IsLowerAlnum(c) || c == '-'; });
}

std::string LastComponent(std::string_view repository) {
  size_t slash = repository.rfind('/');
  return std::string(slash == std::string_view::npos ? repository : repository.substr(slash + 1));
}

// What the user's name for the image says: the repository's last component, the tag, the
// digest (each possibly unknown).
struct NameParts {
  std::string repository_name;
  std::string tag;
  std::optional<oci::Digest> digest;
};

Result<NameParts> SplitSource(const ImageSource& source) {
  NameParts parts;
  if (source.registry) {
    parts.repository_name = LastComponent(source.registry->repository);
    parts.tag = source.registry->tag;
    parts.digest = source.registry->digest;
    return parts;
  }
  std::string_view ref = source.local_ref;
  if (ref.empty()) return parts;
  if (ref.front() == '@') {
    PLUGCTL_ASSIGN_OR_RETURN(parts.digest, oci::Digest::Parse(ref.substr(1)));
    return parts;
  }
  // A layout ref name may be a whole reference (how bundles and mirrors name images); a plain
  // tag has neither '/' nor ':'.
  if (ref.find_first_of("/:") != std::string_view::npos) {
    if (auto reference = oci::Reference::Parse(ref); reference) {
      parts.repository_name = LastComponent(reference->repository);
      parts.tag = reference->tag;
      parts.digest = reference->digest;
      return parts;
    }
  }
  parts.tag = std::string(ref);
  return parts;
}

std::string SpecBaseName(const spec::PluginSpec* spec) {
  return spec != nullptr ? PluginBaseName(spec->info.name) : std::string();
}

// The sha256 an oci:// URL pins: the digest of the image manifest the gateway resolves.
Result<std::string> OciSha256(const PinRequest& request) {
  if (!request.gateway_manifest) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "{} is an index without a linux/amd64 image, the only platform the gateway "
                     "loads from an oci:// URL",
                     request.root_digest.ToString());
  }
  if (request.gateway_manifest->algorithm_name() != "sha256") {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "the image manifest's digest {} is not a sha256 digest, which WasmPlugin "
                     "spec.sha256 needs",
                     request.gateway_manifest->ToString());
  }
  return request.gateway_manifest->hex();
}

// PREFIX/NAME:TAG (or @DIGEST), checked by parsing it as a reference.
Result<PluginPin> PinToOciPrefix(const PinRequest& request, const NameParts& parts,
                                 std::string_view prefix) {
  // Where `plugctl mirror --to PREFIX` puts the image: the repository the caller mapped with
  // mirror's rules, else (mirror's default) the source repository's last component — the
  // repository the image was resolved from, or the one a bundle's full-reference tag names,
  // never the spec's info.name, which may differ (json-converter lives in
  // plugins/jsonrpc-converter). An image with no repository at all falls back to its plugin name.
  std::string name = parts.repository_name;
  if (name.empty()) name = SpecBaseName(request.spec);
  if (name.empty() && request.mirrored_repository.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot name the repository under --url-prefix {}: the image has no "
                     "spec.yaml (give one with --spec) and its tag is not a full reference",
                     prefix);
  }
  std::string text = fmt::format("{}/{}", prefix.substr(kOciScheme.size()), name);
  if (!request.mirrored_repository.empty()) {
    std::string_view host = prefix.substr(kOciScheme.size());
    host = host.substr(0, host.find('/'));
    text = fmt::format("{}/{}", host, request.mirrored_repository);
    if (name.empty()) name = LastComponent(request.mirrored_repository);
  }
  PluginPin pin;
  pin.tag = parts.tag;
  if (pin.tag.empty() && !parts.digest) {
    // A registry reference without tag or digest meant :latest; an untagged local image is
    // named by the digest it resolved to (mirroring keeps digests).
    if (request.source.registry) {
      pin.tag = "latest";
    } else {
      text += "@" + request.root_digest.ToString();
    }
  }
  if (!pin.tag.empty()) text += ":" + pin.tag;
  if (parts.digest) text += "@" + parts.digest->ToString();
  auto reference = oci::Reference::Parse(text);
  if (!reference) {
    return MakeError(ErrorCode::kInvalidArgument, "--url-prefix {} gives {}, {}", prefix, text,
                     reference.error().message());
  }
  pin.url = std::string(kOciScheme) + reference->ToString();
  PLUGCTL_ASSIGN_OR_RETURN(pin.sha256, OciSha256(request));
  pin.name = !SpecBaseName(request.spec).empty() ? SpecBaseName(request.spec) : name;
  return pin;
}

// PREFIX/NAME/VERSION/plugin.wasm: the Higress plugin-server layout (../shared/docs/field-notes.md
// §5).
Result<PluginPin> PinToHttpPrefix(const PinRequest& request, const NameParts& parts,
                                  std::string_view prefix) {
  // The rule `plugctl serve` and plugin-server trees use (oci/plugin_name.h): the listed name,
  // else the repository's last component; an image with no repository falls back to its spec.
  std::string name = oci::PluginPathName(parts.repository_name, request.plugin_name);
  if (name.empty() && parts.repository_name.empty()) name = SpecBaseName(request.spec);
  if (name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot name the plugin directory under --url-prefix {}: the image has no "
                     "spec.yaml (give one with --spec) and its tag is not a full reference",
                     prefix);
  }
  std::string version = parts.tag;
  if (version.empty() && request.spec != nullptr) version = request.spec->info.version;
  if (version.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot choose the version directory under --url-prefix {}: the image has "
                     "no tag and no spec.yaml info.version (give one with --spec)",
                     prefix);
  }
  for (const std::string* segment : {&name, &version}) {
    if (!oci::IsPluginPathSegment(*segment)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "\"{}\" cannot be a directory of a plugin-server URL (1-128 letters, "
                       "digits and ._+-, not starting with '.')",
                       *segment);
    }
  }
  PluginPin pin;
  pin.url = fmt::format("{}/{}/{}/plugin.wasm", prefix, name, version);
  // For http(s):// the gateway hashes the downloaded module itself.
  pin.sha256 = request.wasm_sha256.hex();
  pin.tag = version;
  pin.name = !SpecBaseName(request.spec).empty() ? SpecBaseName(request.spec) : name;
  return pin;
}

// Findings of a check run without a spec: the structural ones. The "no schema" notes it makes
// for every configuration are replaced by one warning.
std::vector<Finding> WithoutSchemaNotes(std::vector<Finding> findings) {
  findings.erase(std::remove_if(findings.begin(), findings.end(),
                                [](const Finding& f) { return f.severity == Severity::kInfo; }),
                 findings.end());
  return findings;
}

void Append(std::vector<Finding>& out, std::vector<Finding> more) {
  for (Finding& f : more) out.push_back(std::move(f));
}

// Takes defaultConfig / matchRules / defaultConfigDisable from a WasmPlugin spec or fragment
// (`body`, at `path`/`pointer`), warning about keys that do not belong to it.
void TakeSpecKeys(const nlohmann::json& body, std::string_view file, std::string_view path,
                  std::string_view pointer, const spec::LineMap& lines, bool resource,
                  WasmPluginConfig& out) {
  for (const auto& [key, value] : body.items()) {
    std::string key_path = spec::AppendPath(path, key);
    int line = lines.Find(spec::AppendPointer(pointer, key));
    if (key == "defaultConfig") {
      if (!value.is_null()) out.default_config = value;
    } else if (key == "matchRules") {
      if (!value.is_null()) out.match_rules = value;
    } else if (key == "defaultConfigDisable") {
      if (value.is_boolean()) {
        out.default_config_disable = value.get<bool>();
      } else if (!value.is_null()) {
        out.findings.push_back(
            {.severity = Severity::kError,
             .file = std::string(file),
             .path = key_path,
             .line = line,
             .message = fmt::format("must be true or false, got {}", spec::DescribeValue(value))});
      }
    } else {
      // A resource's url, sha256, phase… describe some other image; a fragment's extra keys are
      // probably a misplaced configuration.
      out.findings.push_back(
          {.severity = resource ? Severity::kInfo : Severity::kWarning,
           .file = std::string(file),
           .path = key_path,
           .line = line,
           .message = resource ? "ignored: wasmplugin takes only defaultConfig, matchRules and "
                                 "defaultConfigDisable from a resource"
                               : "ignored: not defaultConfig, matchRules or defaultConfigDisable "
                                 "(a plain configuration has none of these keys)"});
    }
  }
}

}  // namespace

bool IsDns1123Subdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!IsLabel(label, 253)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool IsDns1123Label(std::string_view name) { return IsLabel(name, 63); }

std::string PluginBaseName(std::string_view info_name) { return spec::PluginBaseName(info_name); }

Result<PluginPin> PinPlugin(const PinRequest& request) {
  PLUGCTL_ASSIGN_OR_RETURN(NameParts parts, SplitSource(request.source));
  std::string_view prefix = request.url_prefix;
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);

  if (prefix.empty()) {
    if (!request.source.registry) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "a local image has no registry URL the gateway could pull: pass "
                       "--url-prefix oci://REGISTRY/PATH (where the image is copied or mirrored "
                       "to) or --url-prefix http(s)://HOST/PATH (a plugin server)");
    }
    // The reference as given, tag kept (the gateway resolves it and compares the digest).
    oci::Reference reference = *request.source.registry;
    if (reference.tag.empty() && !reference.digest) reference.tag = "latest";
    PluginPin pin;
    pin.url = std::string(kOciScheme) + reference.ToString();
    PLUGCTL_ASSIGN_OR_RETURN(pin.sha256, OciSha256(request));
    pin.tag = reference.tag;
    pin.name =
        !SpecBaseName(request.spec).empty() ? SpecBaseName(request.spec) : parts.repository_name;
    return pin;
  }
  if (prefix.starts_with(kOciScheme)) {
    if (prefix.size() == kOciScheme.size()) {
      return MakeError(ErrorCode::kInvalidArgument, "--url-prefix {} names no registry",
                       request.url_prefix);
    }
    return PinToOciPrefix(request, parts, prefix);
  }
  if (prefix.starts_with("http://") || prefix.starts_with("https://")) {
    std::string_view rest = prefix.substr(prefix.find("://") + 3);
    if (rest.empty() || rest.front() == '/' ||
        rest.find_first_of(" \t\r\n?#") != std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "--url-prefix {}: expected http(s)://HOST[:PORT][/PATH] without query or "
                       "fragment",
                       request.url_prefix);
    }
    return PinToHttpPrefix(request, parts, prefix);
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "--url-prefix {}: expected oci://HOST[:PORT]/PATH or http(s)://HOST/PATH",
                   request.url_prefix);
}

WasmPluginConfig ReadWasmPluginConfig(const spec::PluginSpec* spec, std::string_view text,
                                      std::string_view file_name) {
  WasmPluginConfig out;
  std::string file(file_name);
  spec::YamlLoadResult loaded = spec::LoadYaml(text);
  if (loaded.error) {
    out.findings.push_back({.severity = Severity::kError,
                            .file = file,
                            .line = loaded.error_line,
                            .message = loaded.error->message()});
    return out;
  }
  std::vector<spec::YamlDocument*> documents;
  for (spec::YamlDocument& doc : loaded.documents) {
    if (!doc.value.is_null()) documents.push_back(&doc);
  }
  if (documents.size() > 1) {
    out.findings.push_back(
        {.severity = Severity::kError,
         .file = file,
         .message = fmt::format("{} documents; give one configuration (or one WasmPlugin)",
                                documents.size())});
    return out;
  }
  spec::YamlDocument empty;
  spec::YamlDocument& doc = documents.empty() ? empty : *documents.front();
  for (const spec::YamlNote& note : doc.notes) {
    // The resource must carry the values as written: a changed one (an integer beyond 64 bits)
    // is refused, not passed on.
    out.findings.push_back(
        {.severity = note.changes_value ? Severity::kError : Severity::kWarning,
         .file = file,
         .path = note.path,
         .line = note.line,
         .message = note.changes_value
                        ? note.message + " (Kubernetes stores int64; quote it to keep a string)"
                        : note.message});
  }
  // Without a spec the values cannot be validated, but the shape (rules naming a target) can.
  const spec::PluginSpec no_spec;
  const spec::PluginSpec& schemas = spec != nullptr ? *spec : no_spec;
  std::vector<Finding> checked;
  const nlohmann::json& value = doc.value;
  if (spec::IsWasmPluginResource(value)) {
    const nlohmann::json& api = value["apiVersion"];
    auto body = value.find("spec");
    if (body == value.end() || !body->is_object()) {
      out.findings.push_back({.severity = Severity::kError,
                              .file = file,
                              .path = "spec",
                              .line = doc.lines.Find("/spec"),
                              .message = "a WasmPlugin needs a spec mapping"});
      return out;
    }
    if (api == kIstioApiVersion) {
      // Istio's WasmPlugin has one pluginConfig: the Higress defaultConfig.
      if (auto config = body->find("pluginConfig"); config != body->end() && !config->is_null()) {
        out.default_config = *config;
        checked = spec::CheckConfigValue(schemas, *config, false, file, "spec.pluginConfig",
                                         "/spec/pluginConfig", &doc.lines);
      }
    } else {
      if (api != kWasmPluginApiVersion) {
        out.findings.push_back(
            {.severity = Severity::kWarning,
             .file = file,
             .path = "apiVersion",
             .line = doc.lines.Find("/apiVersion"),
             .message = fmt::format("unexpected apiVersion {} (expected {}); its spec is read as "
                                    "a Higress WasmPlugin's",
                                    spec::DescribeValue(api), kWasmPluginApiVersion)});
      }
      nlohmann::json taken = nlohmann::json::object();
      for (const char* key : {"defaultConfig", "matchRules"}) {
        if (body->contains(key)) taken[key] = (*body)[key];
      }
      checked = spec::CheckWasmPluginSpec(schemas, taken, file, "spec", "/spec", &doc.lines);
      TakeSpecKeys(*body, file, "spec", "/spec", doc.lines, /*resource=*/true, out);
    }
  } else if (value.is_object() &&
             (value.contains("defaultConfig") || value.contains("matchRules") ||
              value.contains("defaultConfigDisable"))) {
    // Any spec key makes a fragment: `defaultConfigDisable: true` alone disables the plugin
    // (its rules come from elsewhere); read as a plain configuration it would become a
    // defaultConfig field and leave the plugin on.
    nlohmann::json taken = nlohmann::json::object();
    for (const char* key : {"defaultConfig", "matchRules"}) {
      if (value.contains(key)) taken[key] = value[key];
    }
    checked = spec::CheckWasmPluginSpec(schemas, taken, file, "", "", &doc.lines);
    TakeSpecKeys(value, file, "", "", doc.lines, /*resource=*/false, out);
  } else {
    // A plain configuration; an empty file is an empty one.
    out.default_config = value.is_null() ? nlohmann::json::object() : value;
    checked = spec::CheckConfigValue(schemas, *out.default_config, false, file, "", "", &doc.lines);
  }
  if (spec == nullptr) {
    checked = WithoutSchemaNotes(std::move(checked));
    out.findings.push_back(
        {.severity = Severity::kWarning,
         .file = file,
         .message = "no spec.yaml for this image (official Higress images carry none; pass "
                    "--spec FILE): the configuration's values are not validated"});
  }
  Append(out.findings, std::move(checked));
  std::stable_sort(out.findings.begin(), out.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.line < b.line; });
  return out;
}

Result<WasmPluginResult> MakeWasmPlugin(const WasmPluginRequest& request) {
  if (!IsDns1123Subdomain(request.name)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"{}\" is not a valid Kubernetes name (lowercase letters, digits, '-' and "
                     "'.', starting and ending with a letter or digit, at most 253 characters)",
                     request.name);
  }
  if (!IsDns1123Label(request.ns)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"{}\" is not a valid Kubernetes namespace (lowercase letters, digits and "
                     "'-', starting and ending with a letter or digit, at most 63 characters)",
                     request.ns);
  }
  if (request.pin.url.empty() || request.pin.sha256.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a WasmPlugin needs a url and a sha256");
  }
  WasmPluginResult result;
  nlohmann::ordered_json& r = result.resource;
  r["apiVersion"] = kWasmPluginApiVersion;
  r["kind"] = "WasmPlugin";
  r["metadata"]["name"] = request.name;
  r["metadata"]["namespace"] = request.ns;
  nlohmann::ordered_json& spec = r["spec"];
  spec["url"] = request.pin.url;
  spec["sha256"] = request.pin.sha256;
  // IfNotPresent is the default; a mutable tag has to be looked at again
  // (../shared/docs/field-notes.md §1).
  if (request.pin.tag == "latest") spec["imagePullPolicy"] = "Always";
  if (request.spec != nullptr) {
    spec["phase"] = spec::PluginPhaseName(request.spec->phase);
    spec["priority"] = request.spec->priority;
  }
  if (request.config != nullptr) {
    const WasmPluginConfig& config = *request.config;
    if (config.default_config_disable) {
      spec["defaultConfigDisable"] = *config.default_config_disable;
    }
    if (config.default_config) spec["defaultConfig"] = *config.default_config;
    if (config.match_rules) spec["matchRules"] = *config.match_rules;
    result.findings = config.findings;
  } else if (request.spec != nullptr && request.spec->SchemaFor(false) != nullptr) {
    // No configuration means no defaultConfig, and defaultConfigDisable stays unset (false):
    // the plugin is enabled for all traffic with an empty configuration, as a plugin switched
    // on in the Higress console without one. `defaultConfigDisable: true` would instead make the
    // applied resource a silent no-op (a disabled default and no matchRules). A plugin that
    // cannot work without configuration is worth a warning, so check the empty one.
    std::vector<Finding> empty = spec::CheckConfigValue(*request.spec, nlohmann::json::object(),
                                                        false, "", "defaultConfig", "", nullptr);
    if (HasErrors(empty)) {
      std::string first;
      for (const Finding& f : empty) {
        if (f.severity == Severity::kError) {
          first = f.path.empty() ? f.message : fmt::format("{}: {}", f.path, f.message);
          break;
        }
      }
      result.findings.push_back(
          {.severity = Severity::kWarning,
           .path = "spec.defaultConfig",
           .message = fmt::format("no --config: the plugin will run with an empty configuration, "
                                  "which its schema rejects ({}); give one with --config",
                                  first)});
    }
  }
  // The last word is the API server's: a resource its CRD would reject or prune is not one to
  // print. Configuration errors already explain themselves with their file and line.
  if (!HasErrors(result.findings)) {
    for (Finding& f : CheckWasmPluginCrd(r)) {
      f.message = "WasmPlugin CRD: " + f.message;
      result.findings.push_back(std::move(f));
    }
  }
  return result;
}

}  // namespace plugctl::wasmplugin
