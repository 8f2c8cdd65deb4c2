// plugctl/spec/config_yaml.h — reads untrusted YAML (or JSON, a YAML subset) into JSON values,
// remembering the line of every value, so spec.yaml checks and plugin-config checks can say
// "spec.yaml:42" about any field.
//
// Typing follows the YAML 1.2 core schema, which is what JSON tools expect:
//   - a quoted or block scalar ("443", '443', |, >) is a string;
//   - a plain scalar is null (~, null, Null, NULL, empty), a boolean (true/True/TRUE,
//     false/False/FALSE), an integer ([-+]?[0-9]+, 0o17, 0x1F), a float (1.5, -2e3, .5, .inf,
//     .nan) or else a string;
//   - explicit tags win: !!str 443 is a string, !!int "443" an integer (or an error);
//   - mapping keys are always strings, as in JSON.
// YAML 1.1 readers (kubectl, SnakeYAML) see some plain scalars differently (yes/no/on/off/y/n
// are booleans there, 0755 is octal, 1_000 is a number); those scalars get a warning note.
//
// A key that appears twice in one mapping keeps its last value (what most YAML readers do) and
// gets a warning note naming both lines.
//
// Hostile input is bounded by YamlLimits: input size, nesting depth, and the number of values
// *after* alias expansion (a "billion laughs" file is a few hundred bytes). Invalid UTF-8 and
// NUL bytes are refused before parsing; a recursive alias is an error.
//
//   PLUGCTL_ASSIGN_OR_RETURN(YamlDocument doc, ParseYamlDocument(text));
//   int line = doc.lines.Find("/spec/phase");     // 1-based, 0 if unknown
//   for (const YamlNote& n : doc.notes) ...;      // duplicate keys, YAML 1.1 ambiguities
//
// Thread-safe: free functions; LineMap is a value type (const use is thread-safe).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugctl/base/status.h"

namespace plugctl::spec {

struct YamlLimits {
  // Larger inputs are refused with kResourceExhausted before parsing.
  size_t max_bytes = 4 * 1024 * 1024;
  // Nesting of mappings and sequences; deeper input is refused.
  int max_depth = 100;
  // Values (scalars, mappings, sequences) after alias expansion, plus values copied for anchors.
  size_t max_values = 250'000;
  // Documents in one stream ("---" separated).
  int max_documents = 100;
};

// Limits for a spec.yaml: real ones are under 30 KiB.
inline constexpr YamlLimits kSpecYamlLimits{.max_bytes = 1024 * 1024};

// Lines of the values of a JSON document, keyed by JSON pointer (RFC 6901). The line of a
// mapping's value is the line of its key. Copyable value type.
class LineMap {
 public:
  void Set(std::string pointer, int line) { lines_[std::move(pointer)] = line; }
  // The 1-based line of `pointer`, or of its nearest ancestor that has one; 0 if none.
  int Find(std::string_view pointer) const;
  size_t size() const { return lines_.size(); }

 private:
  std::unordered_map<std::string, int> lines_;
};

// Something worth a warning that the YAML reader noticed (a duplicate key, an ambiguous scalar).
struct YamlNote {
  int line = 0;         // 1-based
  std::string pointer;  // JSON pointer of the value concerned
  std::string path;     // display path of the same value ("spec.configSchema.required")
  std::string message;
  // The value read differs from the one written (an integer beyond 64 bits kept as a float):
  // readers that pass values on unchanged (WasmPlugin generation) refuse it.
  bool changes_value = false;

  bool operator==(const YamlNote&) const = default;
};

struct YamlDocument {
  nlohmann::json value;  // null for an empty document
  LineMap lines;
  std::vector<YamlNote> notes;
};

// The outcome of reading a stream, with the position of a failure when yaml-cpp gave one.
struct YamlLoadResult {
  std::vector<YamlDocument> documents;
  std::optional<Error> error;  // set on failure (message without the line); documents is empty
  int error_line = 0;          // 1-based line of the failure; 0 if unknown
};

// Reads every document of a YAML stream. Never throws. Errors: kInvalidArgument (syntax,
// invalid UTF-8, recursive alias, bad explicit tag), kResourceExhausted (a YamlLimits bound).
YamlLoadResult LoadYaml(std::string_view text, const YamlLimits& limits = {});

// LoadYaml as a Result; the message starts with "line N: " when the line is known.
[[nodiscard]] Result<std::vector<YamlDocument>> ParseYamlStream(std::string_view text,
                                                                const YamlLimits& limits = {});

// Exactly one document (an empty input gives a null value). More than one is kInvalidArgument.
[[nodiscard]] Result<YamlDocument> ParseYamlDocument(std::string_view text,
                                                     const YamlLimits& limits = {});

// ---- paths ----
// Two spellings of the same location: a JSON pointer ("/consumers/1/name", for lookups) and a
// display path ("consumers[1].name", for people). Keys that are not plain identifiers are
// quoted: a["x.y"].

// `pointer` + "/" + key, with ~ and / escaped.
std::string AppendPointer(std::string_view pointer, std::string_view key);
std::string AppendPointer(std::string_view pointer, size_t index);
// "a" + key → "a.key" (or "key" when `path` is empty; a["k.e"] when the key needs quotes).
std::string AppendPath(std::string_view path, std::string_view key);
// "a" + 1 → "a[1]".
std::string AppendPath(std::string_view path, size_t index);
// Joins two display paths: ("a.b", "c[0].d") → "a.b.c[0].d"; ("a", "[0]") → "a[0]".
std::string JoinPath(std::string_view base, std::string_view rest);

// The JSON type of a value as a schema would name it: "null", "boolean", "integer", "number",
// "string", "array", "object". Floats are "number" even when integral.
std::string_view JsonTypeName(const nlohmann::json& value);

// A short, single-line rendering of a value for messages (strings quoted, long ones cut).
std::string DescribeValue(const nlohmann::json& value, size_t max_chars = 60);

}  // namespace plugctl::spec
