// plugctl/spec/config_check.h — `plugctl config check`: a plugin configuration against the
// schemas of the plugin's spec.yaml.
//
// The file is YAML or JSON (see config_yaml.h for how scalars are typed) and is either
//   - a plain configuration: checked against spec.configSchema (global), or with
//     ConfigCheckOptions::rule_level against spec.routeConfigSchema (the other schema is used
//     when only one exists), where GLOBAL-scoped properties are not required; or
//   - one or more WasmPlugin resources (apiVersion extensions.higress.io/v1alpha1, kind
//     WasmPlugin; several may share the file, "---" separated): spec.defaultConfig is checked
//     as a global configuration and every spec.matchRules[].config as a rule-level one. A match
//     rule must name at least one ingress, domain or service (the gateway rejects it otherwise;
//     ../shared/docs/field-notes.md §1) and spec.phase must be a WasmPlugin phase.
// Every violation is reported with its path and line, e.g.
//   "wasmplugin.yaml:23: spec.matchRules[1].config.consumers[0].credential: expected string, got
//    integer 123456 (error)".
//
//   std::vector<Finding> findings = CheckConfigDocument(parsed.spec, text, "config.yaml",
//                                                       {.rule_level = true});
//   bool ok = !HasErrors(findings);
//
// Thread-safe: free functions over immutable inputs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugctl/base/finding.h"
#include "plugctl/spec/config_yaml.h"
#include "plugctl/spec/spec.h"

namespace plugctl::spec {

struct ConfigCheckOptions {
  // A plain configuration is a rule-level one (matchRules[].config). WasmPlugin resources say
  // for themselves which configuration is which, so this does not affect them.
  bool rule_level = false;
  YamlLimits limits;
};

// Checks a configuration file. Never fails: unreadable input is one error finding (with its
// line when known); YAML notes (duplicate keys, YAML 1.1 ambiguities) are warnings.
std::vector<Finding> CheckConfigDocument(const PluginSpec& spec, std::string_view text,
                                         std::string_view file_name,
                                         const ConfigCheckOptions& options = {});

// Checks one configuration value found at `path`/`pointer` of `file` (lines may be null):
// against spec.SchemaFor(rule_level). An info finding when the spec has no schema.
std::vector<Finding> CheckConfigValue(const PluginSpec& spec, const nlohmann::json& config,
                                      bool rule_level, std::string_view file, std::string_view path,
                                      std::string_view pointer, const LineMap* lines);

// Checks the spec of a Higress WasmPlugin (`body`, found at `path`/`pointer` of `file`: "spec"
// and "/spec" for a resource, "" for a bare {defaultConfig, matchRules} fragment): phase,
// defaultConfig (global), every matchRules[].config (rule level) and that every rule names an
// ingress, domain or service. A rule key the WasmPlugin CRD does not declare (the API server
// would prune it; `domains` gets a "did you mean `domain`" hint), a non-boolean configDisable and
// a routeType other than HTTP or GRPC are errors. Other keys (url, sha256, priority…) are not
// looked at.
std::vector<Finding> CheckWasmPluginSpec(const PluginSpec& spec, const nlohmann::json& body,
                                         std::string_view file, std::string_view path,
                                         std::string_view pointer, const LineMap* lines);

// " (did you mean `x`?)" for the key of `known` within two edits of `key`, or "".
std::string SuggestKey(std::string_view key, const std::vector<std::string>& known);

// True if `value` looks like a WasmPlugin resource (kind WasmPlugin with an apiVersion).
bool IsWasmPluginResource(const nlohmann::json& value);

}  // namespace plugctl::spec
