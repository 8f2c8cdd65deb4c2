// Directory plugctl/spec/: spec.yaml model, OpenAPI schemas, YAML loader, config check.
// plugctl/spec/spec.h — the plugin metadata file spec.yaml: model, parsing and validation.
//
// The Higress Wasm image spec (../shared/seeds/wasm-image-spec.md §3) documents
//   apiVersion: 1.0.0
//   info: {category, name, title, description, x-*-i18n, iconUrl, version, contact}
//   spec: {phase, priority, configSchema: {openAPIV3Schema: <OpenAPI 3.0 schema>}}
// and the real files (Higress console) add a dialect that is accepted here
// (../shared/docs/field-notes.md §3): spec.routeConfigSchema (rule-level configuration), x-scope
// INSTANCE, `phase: default`
// (= UNSPECIFIED_PHASE), categories ai/transform/traffic/o11y/transformation/other, extra info
// keys (type, image, gatewayMinVersion, readmeUrl, x-readmeUrl-i18n), `$ref` into `components`
// inside openAPIV3Schema, null i18n maps, list-valued `example`s, duplicate keys (last wins).
//
// Severity of findings:
//   error   — the image would be wrong: unreadable YAML, a missing required field (apiVersion,
//             info.name, info.title, info.version, spec), an unknown phase or x-scope, a
//             version that is not semver, a schema that is not usable (unknown type,
//             unresolvable $ref, pattern that does not compile, keyword of the wrong kind);
//   warning — a deviation from the documented spec: unknown keys and keywords, an undocumented
//             category or apiVersion, an example that contradicts its schema, duplicate keys,
//             required names missing from properties;
//   info    — real-world dialect that is fine (phase default, x-scope INSTANCE, null i18n).
// `--strict` (SpecCheckOptions::strict) turns warnings into errors.
//
//   PLUGCTL_ASSIGN_OR_RETURN(ParsedSpec parsed, ParseSpecYaml(text, "spec.yaml"));
//   parsed.spec.phase == PluginPhase::kUnspecified;        // for `phase: default`
//   for (const Finding& f : parsed.findings) std::cout << f.ToString() << "\n";
//   // or, for `plugctl validate`:
//   std::vector<Finding> findings = ValidateSpecYaml(text, "spec.yaml", {.strict = true});
//   bool ok = !HasErrors(findings);
//
// Thread-safe: free functions; results are values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugctl/base/finding.h"
#include "plugctl/base/status.h"
#include "plugctl/spec/config_yaml.h"
#include "plugctl/spec/schema.h"

namespace plugctl::spec {

// Istio WasmPlugin PluginPhase.
enum class PluginPhase { kUnspecified, kAuthn, kAuthz, kStats };

// "UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS": the WasmPlugin spelling.
std::string_view PluginPhaseName(PluginPhase phase);

// Reads a spec.yaml phase: the four WasmPlugin names, and "default" (real-world dialect) as
// kUnspecified. nullopt for anything else (case matters, as it does for the gateway).
std::optional<PluginPhase> ParsePluginPhase(std::string_view text);

struct PluginContact {
  std::string name;
  std::string url;
  std::string email;

  bool operator==(const PluginContact&) const = default;
};

struct PluginInfo {
  std::string category;  // "auth", "ai", ...
  std::string name;      // "basic-auth" or "basic-auth/v1"
  std::string title;     // display name
  std::string description;
  std::string version;   // semver, "1.0.0"
  std::string icon_url;  // empty if absent
  std::optional<PluginContact> contact;
  // The x-{field}-i18n maps, by field: {"title": {"zh-CN": "..."}}. A null map is empty.
  std::map<std::string, std::map<std::string, std::string>> i18n;
  // Every other key (type, image, gatewayMinVersion, readmeUrl, ...), as parsed.
  nlohmann::json extra = nlohmann::json::object();
};

struct PluginSpec {
  std::string api_version;  // "1.0.0"
  PluginInfo info;
  std::string phase_text;  // as written ("default", "AUTHN"); empty if absent
  PluginPhase phase = PluginPhase::kUnspecified;  // normalized, for WasmPlugin generation
  int32_t priority = 0;
  // spec.configSchema.openAPIV3Schema: the global configuration (defaultConfig).
  std::optional<Schema> config_schema;
  // spec.routeConfigSchema.openAPIV3Schema: rule-level configurations (matchRules[].config).
  std::optional<Schema> route_config_schema;
  // The errors found in each schema block (configSchema, routeConfigSchema), including a block
  // so broken that it has no schema. A configuration checked against a schema with errors is
  // undecided, never valid (see SchemaErrorsFor).
  std::vector<Finding> config_schema_errors;
  std::vector<Finding> route_config_schema_errors;

  // The schema that checks a global (rule_level false) or rule-level configuration: the
  // matching one, else the other one; nullptr when the spec declares none.
  const Schema* SchemaFor(bool rule_level) const;
  // The errors of the schema block SchemaFor would use — or of the matching block when it is
  // declared but too broken to have a schema. Empty when that schema is sound.
  const std::vector<Finding>& SchemaErrorsFor(bool rule_level) const;
};

struct SpecCheckOptions {
  // Warnings become errors.
  bool strict = false;
  // Check every example/default/enum value against its schema (warnings).
  bool check_examples = true;
  YamlLimits limits = kSpecYamlLimits;
};

struct ParsedSpec {
  PluginSpec spec;
  // Everything found, in line order. Parsing succeeded even if some are errors.
  std::vector<Finding> findings;
  // The document as JSON, and its lines.
  YamlDocument document;
};

// Parses and checks a spec.yaml. Fails only when there is no spec to look at: kInvalidArgument
// for bytes that are not YAML (or not UTF-8), several documents, or a top level that is not a
// mapping; kResourceExhausted for a YamlLimits bound. Everything else is a finding.
[[nodiscard]] Result<ParsedSpec> ParseSpecYaml(std::string_view yaml, std::string_view file_name,
                                               const SpecCheckOptions& options = {});

// `plugctl validate`: every finding about a spec.yaml, including a parse failure (as one error
// finding with its line), with options.strict applied. The spec is valid if !HasErrors().
std::vector<Finding> ValidateSpecYaml(std::string_view yaml, std::string_view file_name,
                                      const SpecCheckOptions& options = {});

// Warnings become errors (what --strict does); other findings are unchanged.
void MakeStrict(std::vector<Finding>& findings);

// The plugin's name without the "/v1" API suffix some specs carry: "basic-auth/v1" ->
// "basic-auth". The one rule by which an image without another name is named after its spec
// (wasmplugin resources and URLs, mirror and pull of bundles with plain tags).
std::string PluginBaseName(std::string_view info_name);

}  // namespace plugctl::spec
