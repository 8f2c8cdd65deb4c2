// plugctl/spec/schema_internal.h — what the schema compiler (schema_compile.cc), validator
// (schema_validate.cc) and format checks (schema_format.cc) share: the compiled node table behind
// a Schema and a few helpers. Private to plugctl_spec; not part of the API (see schema.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugctl/base/finding.h"
#include "plugctl/spec/config_yaml.h"
#include "plugctl/spec/schema.h"
#include "plugctl/spec/schema_regex.h"

namespace plugctl::spec {

namespace schema_internal {

enum class SchemaType { kObject, kArray, kString, kInteger, kNumber, kBoolean };

// "object", "array", ...
std::string_view SchemaTypeName(SchemaType type);

// One schema object of a compiled document; children are indexes into Schema::Data::nodes.
struct Node {
  std::string pointer;  // relative to the document root ("" for the root)
  std::string path;     // display path relative to the document root
  std::optional<SchemaType> type;
  bool nullable = false;
  std::map<std::string, int> properties;
  bool has_properties = false;
  std::vector<std::string> required;
  bool additional_forbidden = false;
  int additional_schema = -1;
  bool additional_declared = false;
  int items = -1;
  std::optional<nlohmann::json> enum_values;
  std::optional<double> minimum, maximum;
  bool exclusive_minimum = false, exclusive_maximum = false;               // OpenAPI 3.0 booleans
  std::optional<double> exclusive_minimum_value, exclusive_maximum_value;  // JSON Schema numbers
  std::optional<double> multiple_of;
  std::optional<uint64_t> min_length, max_length, min_items, max_items, min_properties,
      max_properties;
  bool unique_items = false;
  std::optional<EcmaRegex> pattern;
  std::string format;
  std::vector<int> all_of, any_of, one_of;
  int not_schema = -1;
  int ref = -1;  // when set, the only thing that counts (OpenAPI 3.0 ignores $ref siblings)
  ConfigScope scope = ConfigScope::kAny;
};

// Adds findings with file, path and line filled in.
class FindingSink {
 public:
  FindingSink(std::string_view file, const LineMap* lines, std::vector<Finding>* out)
      : file_(file), lines_(lines), out_(out) {}

  void Add(Severity severity, std::string path, std::string_view pointer, std::string message) {
    int line = lines_ != nullptr ? lines_->Find(pointer) : 0;
    out_->push_back(Finding{.severity = severity,
                            .file = std::string(file_),
                            .path = std::move(path),
                            .line = line,
                            .message = std::move(message)});
  }

  void Push(Finding finding) { out_->push_back(std::move(finding)); }

 private:
  std::string_view file_;
  const LineMap* lines_;
  std::vector<Finding>* out_;
};

// " (did you mean `x`?)" for the candidate within two edits of `name`, or "".
std::string DidYouMean(std::string_view name, const std::map<std::string, int>& candidates);

// A number as the user wrote it: integral values without a fraction.
std::string FormatNumber(double d);

bool HasErrorViolations(const std::vector<Violation>& violations);

// Formats the compiler accepts without a warning (schema_format.cc).
const std::set<std::string_view>& KnownFormats();

// The check for a string `format`; nullptr for formats that are not checked (schema_format.cc).
bool (*StringFormatCheck(std::string_view format))(std::string_view);

// Every violation of `value` against node `node` (schema_validate.cc); the compiler uses it to
// check `example`, `default` and `enum` values.
std::vector<Violation> ValidateAt(const Schema::Data& data, int node, const nlohmann::json& value,
                                  const ValidateOptions& options);

}  // namespace schema_internal

struct Schema::Data {
  nlohmann::json document;
  std::vector<schema_internal::Node> nodes;
  int root = 0;
};

}  // namespace plugctl::spec
