// plugctl/spec/schema.h — OpenAPI 3.0 Schema Objects: checking a schema document (the
// `openAPIV3Schema` of a spec.yaml) and validating plugin configurations against it.
//
// Compile() reads a schema document and reports, as Findings, everything that makes it a bad
// OpenAPI 3.0 schema: unknown keywords, keyword values of the wrong kind, unknown types, `$ref`s
// that do not resolve (only local ones, "#/components/schemas/x" with `components` inside the
// document as Higress uses it), `required` names missing from `properties`, `pattern`s that do
// not compile, and `example`/`default`/`enum` values that contradict their own schema. It never
// fails: a keyword it cannot use is left out and the rest of the schema still works.
//
// Validate() checks a configuration value and reports *every* violation, each with its path
// ("consumers[1].credential: expected string, got integer"). Semantics are OpenAPI 3.0's:
// type (integer accepts 2.0), nullable, properties, required, additionalProperties (default
// true), items, enum, minimum/maximum with boolean exclusiveMinimum/exclusiveMaximum (numeric
// ones, JSON Schema style, are accepted too), multipleOf, minLength/maxLength (in code points),
// pattern (ECMAScript, unanchored), minItems/maxItems/uniqueItems, minProperties/maxProperties,
// format (date, date-time, email, hostname, ipv4, ipv6, uri, uuid, byte, int32, int64; others
// are not checked), allOf/anyOf/oneOf/not and `$ref` (siblings of `$ref` are ignored). `default`
// and `example` are documentation: defaults are not applied.
//
// Higress scopes: a property with `x-scope: GLOBAL` belongs to the global configuration, so a
// rule-level check (ValidateOptions::rule_level) does not require it and warns if it is set;
// `x-scope: RULE` is the converse. INSTANCE and ANY (the default) apply everywhere.
// Undeclared properties are allowed unless additionalProperties is false, but get a warning
// when the schema declares other properties (a likely typo: "allows" for "allow").
//
// Hostile schemas and values are bounded: schema nesting (200 levels), validation nesting
// (400), validation steps (100k plus 8 per value: combinators inside combinators cannot go
// exponential), $ref cycles that never reach a property or item (reported and dropped), and
// pattern checks (10k per Validate; each first runs with a small PCRE2 match limit, only 20
// may use the full one). A bound that stops a check is reported, never silent.
//
//   SchemaCompilation c = Schema::Compile(doc, {.file = "spec.yaml",
//                                               .path = "spec.configSchema.openAPIV3Schema",
//                                               .pointer = "/spec/configSchema/openAPIV3Schema",
//                                               .lines = &lines});
//   for (const Violation& v : c.schema.Validate(config, {.rule_level = true}))
//     std::cout << v.ToString() << "\n";
//
// Thread-safe: a Schema is immutable after Compile and cheap to copy (shared state).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugctl/base/finding.h"
#include "plugctl/spec/config_yaml.h"

namespace plugctl::spec {

// Higress `x-scope` of a property.
enum class ConfigScope {
  kAny,       // ANY or absent: global and rule-level configurations
  kGlobal,    // GLOBAL: only the global configuration (defaultConfig)
  kRule,      // RULE: only rule-level configurations (matchRules[].config)
  kInstance,  // INSTANCE: real-world dialect, treated like ANY
};

// "ANY", "GLOBAL", "RULE", "INSTANCE".
std::string_view ConfigScopeName(ConfigScope scope);

// Where a schema document sits, so findings can name the file, path and line.
struct SchemaLocation {
  std::string file;     // "spec.yaml"
  std::string path;     // display path of the document: "spec.configSchema.openAPIV3Schema"
  std::string pointer;  // JSON pointer of the document in the file
  const LineMap* lines = nullptr;  // lines of the file; may be null. Used during Compile only.
};

struct SchemaCompileOptions {
  // Check `example`, `default` and `enum` values against their schemas (as warnings).
  bool check_examples = true;
  // The schema describes rule-level configurations (routeConfigSchema): its examples are
  // checked with ValidateOptions::rule_level.
  bool rule_level = false;
};

struct ValidateOptions {
  // A rule-level configuration (matchRules[].config, routeConfigSchema): GLOBAL-scoped
  // properties are not required. Otherwise RULE-scoped ones are not.
  bool rule_level = false;
  // Warn about properties the schema does not declare (when it declares some and does not
  // forbid others).
  bool warn_undeclared = true;
};

// One problem with a configuration value.
struct Violation {
  Severity severity = Severity::kError;
  std::string path;     // display path: "consumers[1].credential"; empty for the value itself
  std::string pointer;  // JSON pointer of the same place: "/consumers/1/credential"
  std::string message;  // "expected string, got integer 443"

  // "consumers[1].credential: expected string, got integer 443" ("(root): ..." for the root).
  std::string ToString() const;

  bool operator==(const Violation&) const = default;
};

struct SchemaCompilation;

class Schema {
 public:
  // An empty schema: every value is valid.
  Schema();

  // Compiles an OpenAPI 3.0 Schema Object. The findings say what is wrong with it (errors: the
  // schema is unusable in part — unknown type, unresolvable $ref, bad keyword value, pattern
  // that does not compile; warnings: deviations such as unknown keywords or an example that
  // contradicts the schema; infos: real-world dialect such as x-scope INSTANCE).
  static SchemaCompilation Compile(const nlohmann::json& document, const SchemaLocation& location,
                                   const SchemaCompileOptions& options = {});

  // Every violation of `config`, in traversal order (an object's properties by name, then its
  // missing required properties). Warnings (undeclared or misplaced properties, patterns too
  // costly to evaluate) have Severity::kWarning; the value is valid if no violation is kError.
  std::vector<Violation> Validate(const nlohmann::json& config,
                                  const ValidateOptions& options = {}) const;

  // The document this schema was compiled from.
  const nlohmann::json& document() const;

  // Names and scopes of the root object's properties, in name order.
  std::vector<std::pair<std::string, ConfigScope>> TopLevelProperties() const;

  struct Data;  // implementation detail

 private:
  explicit Schema(std::shared_ptr<const Data> data) : data_(std::move(data)) {}
  std::shared_ptr<const Data> data_;
};

struct SchemaCompilation {
  Schema schema;
  std::vector<Finding> findings;
};

// Checks the value of an `x-{field}-i18n` key found at `pointer`/`path` of `file`: it must be a
// mapping of locale ("en-US", "zh-CN") to text; `null` (real-world dialect) is accepted.
// Errors for a value that is not a mapping or null, or for entries that are mappings or lists;
// warnings for odd locale names and non-string scalars.
std::vector<Finding> CheckI18nValue(const nlohmann::json& value, std::string_view file,
                                    std::string_view path, std::string_view pointer,
                                    const LineMap* lines);

// Turns violations of a value found at `pointer`/`path` of a file into findings. `severity`
// replaces each violation's own error severity (warnings stay warnings).
std::vector<Finding> ViolationsToFindings(const std::vector<Violation>& violations,
                                          std::string_view file, std::string_view path,
                                          std::string_view pointer, const LineMap* lines,
                                          Severity error_severity = Severity::kError);

}  // namespace plugctl::spec
