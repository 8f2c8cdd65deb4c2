#include "plugctl/spec/schema.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include <arpa/inet.h>
#include <fmt/format.h>

#include "plugctl/spec/schema_regex.h"

namespace plugctl::spec {

// ---- the compiled form ----

namespace {

enum class SchemaType { kObject, kArray, kString, kInteger, kNumber, kBoolean };

std::string_view SchemaTypeName(SchemaType type) {
  switch (type) {
  case SchemaType::kObject:
    return "object";
  case SchemaType::kArray:
    return "array";
  case SchemaType::kString:
    return "string";
  case SchemaType::kInteger:
    return "integer";
  case SchemaType::kNumber:
    return "number";
  case SchemaType::kBoolean:
    return "boolean";
  }
  return "?";
}

std::optional<SchemaType> ParseSchemaType(std::string_view name) {
  if (name == "object")
    return SchemaType::kObject;
  if (name == "array")
    return SchemaType::kArray;
  if (name == "string")
    return SchemaType::kString;
  if (name == "integer")
    return SchemaType::kInteger;
  if (name == "number")
    return SchemaType::kNumber;
  if (name == "boolean")
    return SchemaType::kBoolean;
  return std::nullopt;
}

struct Node {
  std::string pointer; // relative to the document root ("" for the root)
  std::string path;    // display path relative to the document root
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
  bool exclusive_minimum = false,
       exclusive_maximum = false; // OpenAPI 3.0 booleans
  std::optional<double> exclusive_minimum_value,
      exclusive_maximum_value; // JSON Schema numbers
  std::optional<double> multiple_of;
  std::optional<uint64_t> min_length, max_length, min_items, max_items,
      min_properties, max_properties;
  bool unique_items = false;
  std::optional<EcmaRegex> pattern;
  std::string format;
  std::vector<int> all_of, any_of, one_of;
  int not_schema = -1;
  int ref = -1; // when set, the only thing that counts (OpenAPI 3.0 ignores
                // $ref siblings)
  ConfigScope scope = ConfigScope::kAny;
};

// Hard bounds for hostile schemas and configurations.
constexpr int kMaxSchemaDepth = 200; // nested schema objects in one document
constexpr int kMaxValidationDepth =
    400; // nested Validate calls (values + applicators)
// Validation steps (schema applications) allowed: a base plus a few per value.
// Plain schemas need one or two steps per value; only combinators nested in
// combinators need more.
constexpr size_t kBaseValidationSteps = 100'000;
constexpr size_t kValidationStepsPerValue = 8;
// Pattern checks per Validate call: every value first gets a cheap attempt;
// only a few may use the full PCRE2 match limit. This bounds the regex time of
// one validation to about a second whatever the patterns and values (see
// schema_regex.h).
constexpr int kMaxPatternEvaluations = 10'000;
constexpr uint32_t kQuickMatchLimit = 10'000;
constexpr int kMaxExpensivePatternEvaluations = 20;

bool IsLocale(std::string_view s) {
  // BCP 47-ish: a 2-3 letter language, then subtags of 2-8 letters/digits
  // ("en-US", "zh-Hans").
  size_t i = 0;
  while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i])))
    ++i;
  if (i < 2 || i > 3)
    return false;
  while (i < s.size()) {
    if (s[i] != '-' && s[i] != '_')
      return false;
    size_t start = ++i;
    while (i < s.size() && std::isalnum(static_cast<unsigned char>(s[i])))
      ++i;
    if (i - start < 2 || i - start > 8)
      return false;
  }
  return true;
}

// Adds findings with file, path and line filled in.
class FindingSink {
public:
  FindingSink(std::string_view file, const LineMap *lines,
              std::vector<Finding> *out)
      : file_(file), lines_(lines), out_(out) {}

  void Add(Severity severity, std::string path, std::string_view pointer,
           std::string message) {
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
  const LineMap *lines_;
  std::vector<Finding> *out_;
};

std::optional<uint64_t> AsCount(const nlohmann::json &v) {
  if (v.is_number_unsigned())
    return v.get<uint64_t>();
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (i >= 0)
      return static_cast<uint64_t>(i);
    return std::nullopt;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d >= 0 && d == std::floor(d) && d < 1.8e19) {
      return static_cast<uint64_t>(d);
    }
  }
  return std::nullopt;
}

// Levenshtein distance, for "did you mean" hints on short names.
size_t EditDistance(std::string_view a, std::string_view b) {
  if (a.size() > 64 || b.size() > 64)
    return std::max(a.size(), b.size());
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string DidYouMean(std::string_view name,
                       const std::map<std::string, int> &candidates) {
  std::string best;
  size_t best_distance = 3; // at most 2 edits
  for (const auto &[candidate, index] : candidates) {
    size_t d = EditDistance(name, candidate);
    if (d < best_distance && d < std::max<size_t>(candidate.size(), 2)) {
      best_distance = d;
      best = candidate;
    }
  }
  return best.empty() ? std::string()
                      : fmt::format(" (did you mean `{}`?)", best);
}

const std::set<std::string_view> &OpenApiKeywords() {
  static const std::set<std::string_view> kKeywords = {
      "title",         "multipleOf",
      "maximum",       "exclusiveMaximum",
      "minimum",       "exclusiveMinimum",
      "maxLength",     "minLength",
      "pattern",       "maxItems",
      "minItems",      "uniqueItems",
      "maxProperties", "minProperties",
      "required",      "enum",
      "type",          "allOf",
      "oneOf",         "anyOf",
      "not",           "items",
      "properties",    "additionalProperties",
      "description",   "format",
      "default",       "nullable",
      "discriminator", "readOnly",
      "writeOnly",     "xml",
      "externalDocs",  "example",
      "deprecated",    "$ref"};
  return kKeywords;
}

const std::set<std::string_view> &JsonSchemaOnlyKeywords() {
  static const std::set<std::string_view> kKeywords = {"const",
                                                       "examples",
                                                       "$schema",
                                                       "$id",
                                                       "id",
                                                       "$defs",
                                                       "definitions",
                                                       "patternProperties",
                                                       "dependencies",
                                                       "dependentRequired",
                                                       "dependentSchemas",
                                                       "if",
                                                       "then",
                                                       "else",
                                                       "contains",
                                                       "propertyNames",
                                                       "prefixItems",
                                                       "unevaluatedProperties",
                                                       "unevaluatedItems",
                                                       "$comment",
                                                       "contentMediaType",
                                                       "contentEncoding",
                                                       "minContains",
                                                       "maxContains",
                                                       "$anchor",
                                                       "$dynamicRef",
                                                       "$recursiveRef"};
  return kKeywords;
}

const std::set<std::string_view> &KnownFormats() {
  static const std::set<std::string_view> kFormats = {
      // OpenAPI 3.0 data types
      "int32", "int64", "float", "double", "byte", "binary", "date",
      "date-time", "password",
      // JSON Schema formats that are checked
      "email", "hostname", "ipv4", "ipv6", "uri", "uuid"};
  return kFormats;
}

// Percent-decodes a URI fragment.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size())
      return std::nullopt;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9')
        return c - '0';
      if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
      if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
      return -1;
    };
    int hi = hex(s[i + 1]);
    int lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Resolves a JSON pointer (already unescaped of %XX) in `doc`, returning the
// value and the pointer normalized for our node map; nullptr if it does not
// resolve.
const nlohmann::json *ResolvePointer(const nlohmann::json &doc,
                                     std::string_view pointer,
                                     std::string *normalized) {
  const nlohmann::json *at = &doc;
  normalized->clear();
  if (pointer.empty())
    return at;
  if (pointer.front() != '/')
    return nullptr;
  size_t pos = 1;
  while (true) {
    size_t end = pointer.find('/', pos);
    std::string_view raw =
        pointer.substr(pos, end == std::string_view::npos ? end : end - pos);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size() &&
          (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token += raw[i + 1] == '0' ? '~' : '/';
        ++i;
      } else if (raw[i] == '~') {
        return nullptr;
      } else {
        token += raw[i];
      }
    }
    if (at->is_object()) {
      auto it = at->find(token);
      if (it == at->end())
        return nullptr;
      at = &*it;
      *normalized = AppendPointer(*normalized, token);
    } else if (at->is_array()) {
      if (token.empty() || token.size() > 9 ||
          !std::all_of(token.begin(), token.end(),
                       [](char c) { return c >= '0' && c <= '9'; }) ||
          (token.size() > 1 && token[0] == '0')) {
        return nullptr;
      }
      size_t index = std::stoul(token);
      if (index >= at->size())
        return nullptr;
      at = &(*at)[index];
      *normalized = AppendPointer(*normalized, index);
    } else {
      return nullptr;
    }
    if (end == std::string_view::npos)
      return at;
    pos = end + 1;
  }
}

} // namespace

struct Schema::Data {
  nlohmann::json document;
  std::vector<Node> nodes;
  int root = 0;
};

// ---- validating ----

namespace {

bool IsIntegral(const nlohmann::json &v) {
  if (v.is_number_integer() || v.is_number_unsigned())
    return true;
  if (!v.is_number_float())
    return false;
  double d = v.get<double>();
  return std::isfinite(d) && d == std::floor(d);
}

bool TypeMatches(SchemaType type, const nlohmann::json &v) {
  switch (type) {
  case SchemaType::kObject:
    return v.is_object();
  case SchemaType::kArray:
    return v.is_array();
  case SchemaType::kString:
    return v.is_string();
  case SchemaType::kInteger:
    return IsIntegral(v);
  case SchemaType::kNumber:
    return v.is_number();
  case SchemaType::kBoolean:
    return v.is_boolean();
  }
  return false;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
      ++n;
  }
  return n;
}

bool AllOf(std::string_view s, int (*pred)(int)) {
  return std::all_of(s.begin(), s.end(), [pred](char c) {
    return pred(static_cast<unsigned char>(c)) != 0;
  });
}

bool ParseFixedDigits(std::string_view s, size_t pos, size_t count, int *out) {
  if (pos + count > s.size())
    return false;
  int v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// RFC 3339 full-date: YYYY-MM-DD with a real day of month.
bool IsDate(std::string_view s) {
  int y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-')
    return false;
  if (!ParseFixedDigits(s, 0, 4, &y) || !ParseFixedDigits(s, 5, 2, &m) ||
      !ParseFixedDigits(s, 8, 2, &d)) {
    return false;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1)
    return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

// RFC 3339 date-time: full-date "T" hh:mm:ss[.frac] (Z | ±hh:mm).
bool IsDateTime(std::string_view s) {
  if (s.size() < 20 || !IsDate(s.substr(0, 10)) ||
      (s[10] != 'T' && s[10] != 't'))
    return false;
  int h = 0, mi = 0, sec = 0;
  if (!ParseFixedDigits(s, 11, 2, &h) || s[13] != ':' ||
      !ParseFixedDigits(s, 14, 2, &mi) || s[16] != ':' ||
      !ParseFixedDigits(s, 17, 2, &sec)) {
    return false;
  }
  if (h > 23 || mi > 59 || sec > 60)
    return false;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      ++i;
    if (i == start)
      return false;
  }
  std::string_view zone = s.substr(i);
  if (zone == "Z" || zone == "z")
    return true;
  int zh = 0, zm = 0;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
         ParseFixedDigits(zone, 1, 2, &zh) && zone[3] == ':' &&
         ParseFixedDigits(zone, 4, 2, &zm) && zh <= 23 && zm <= 59;
}

// RFC 1123 host name.
bool IsHostname(std::string_view s) {
  if (!s.empty() && s.back() == '.')
    s.remove_suffix(1);
  if (s.empty() || s.size() > 253)
    return false;
  size_t start = 0;
  while (true) {
    size_t end = s.find('.', start);
    std::string_view label =
        s.substr(start, end == std::string_view::npos ? end : end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' ||
        label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-')
        return false;
    }
    if (end == std::string_view::npos)
      return true;
    start = end + 1;
  }
}

bool IsIpv4(std::string_view s) {
  int parts = 0;
  size_t start = 0;
  while (true) {
    size_t end = s.find('.', start);
    std::string_view part =
        s.substr(start, end == std::string_view::npos ? end : end - start);
    if (part.empty() || part.size() > 3 || !AllOf(part, ::isdigit) ||
        (part.size() > 1 && part[0] == '0') ||
        std::stoi(std::string(part)) > 255) {
      return false;
    }
    ++parts;
    if (end == std::string_view::npos)
      break;
    start = end + 1;
  }
  return parts == 4;
}

bool IsIpv6(std::string_view s) {
  if (s.size() > 45)
    return false;
  unsigned char buffer[16];
  return inet_pton(AF_INET6, std::string(s).c_str(), buffer) == 1;
}

bool IsEmail(std::string_view s) {
  size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64)
    return false;
  std::string_view local = s.substr(0, at);
  for (char c : local) {
    auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || c == '@' || c == '(' || c == ')' || c == ',' || c == ';' ||
        c == '<' || c == '>' || c == '[' || c == ']' || c == '\\' || c == '"') {
      return false;
    }
  }
  if (local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos) {
    return false;
  }
  return IsHostname(s.substr(at + 1));
}

// RFC 3986 absolute URI, loosely: scheme ":" then no spaces or control
// characters.
bool IsUri(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 ||
      !std::isalpha(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  for (size_t i = 1; i < colon; ++i) {
    char c = s[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' &&
        c != '.') {
      return false;
    }
  }
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= ' ' || c == '<' || c == '>' || c == '"' || c == '\\' ||
           c == '^' || c == '`' || c == '{' || c == '|' || c == '}';
  });
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36)
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i])))
      return false;
  }
  return true;
}

bool IsBase64(std::string_view s) {
  if (s.size() % 4 != 0)
    return false;
  size_t padding = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '=') {
      ++padding;
      if (i < s.size() - 2)
        return false;
      continue;
    }
    if (padding > 0)
      return false;
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/')
      return false;
  }
  return padding <= 2;
}

// The check for a string format; nullptr for formats that are not checked.
bool (*StringFormatCheck(std::string_view format))(std::string_view) {
  if (format == "date")
    return IsDate;
  if (format == "date-time")
    return IsDateTime;
  if (format == "hostname")
    return IsHostname;
  if (format == "ipv4")
    return IsIpv4;
  if (format == "ipv6")
    return IsIpv6;
  if (format == "email")
    return IsEmail;
  if (format == "uri")
    return IsUri;
  if (format == "uuid")
    return IsUuid;
  if (format == "byte")
    return IsBase64;
  return nullptr;
}

std::string FormatNumber(double d) {
  if (d == std::floor(d) && std::fabs(d) < 1e15)
    return fmt::format("{}", static_cast<int64_t>(d));
  return fmt::format("{}", d);
}

bool HasErrorViolations(const std::vector<Violation> &violations) {
  return std::any_of(
      violations.begin(), violations.end(),
      [](const Violation &v) { return v.severity == Severity::kError; });
}

// Values in a JSON document (iterative: the document may be deep).
size_t CountJsonValues(const nlohmann::json &root) {
  size_t count = 0;
  std::vector<const nlohmann::json *> stack = {&root};
  while (!stack.empty()) {
    const nlohmann::json *v = stack.back();
    stack.pop_back();
    ++count;
    if (v->is_structured()) {
      for (const nlohmann::json &child : *v)
        stack.push_back(&child);
    }
  }
  return count;
}

class Validator {
public:
  Validator(const Schema::Data &data, const ValidateOptions &options)
      : data_(data), options_(options) {}

  std::vector<Violation> Run(int node, const nlohmann::json &value) {
    max_steps_ = kBaseValidationSteps +
                 kValidationStepsPerValue * CountJsonValues(value);
    std::vector<Violation> out;
    Validate(node, value, "", "", /*report_undeclared=*/true, &out);
    if (!stopped_.empty()) {
      out.push_back(
          Violation{.severity = Severity::kError, .message = stopped_});
    }
    return out;
  }

private:
  void Add(std::vector<Violation> *out, Severity severity,
           const std::string &pointer, const std::string &path,
           std::string message) {
    out->push_back(Violation{.severity = severity,
                             .path = path,
                             .pointer = pointer,
                             .message = std::move(message)});
  }

  const Node &N(int index) const {
    return data_.nodes[static_cast<size_t>(index)];
  }

  void Validate(int index, const nlohmann::json &v, const std::string &pointer,
                const std::string &path, bool report_undeclared,
                std::vector<Violation> *out);
  void ValidateObject(const Node &n, const nlohmann::json &v,
                      const std::string &pointer, const std::string &path,
                      bool report_undeclared, std::vector<Violation> *out);
  void ValidateArray(const Node &n, const nlohmann::json &v,
                     const std::string &pointer, const std::string &path,
                     std::vector<Violation> *out);
  void ValidateString(const Node &n, const nlohmann::json &v,
                      const std::string &pointer, const std::string &path,
                      std::vector<Violation> *out);
  void ValidateNumber(const Node &n, const nlohmann::json &v,
                      const std::string &pointer, const std::string &path,
                      std::vector<Violation> *out);
  void ValidateApplicators(const Node &n, const nlohmann::json &v,
                           const std::string &pointer, const std::string &path,
                           std::vector<Violation> *out);
  std::string Closest(const std::vector<std::vector<Violation>> &results,
                      const std::string &path) const;

  const Schema::Data &data_;
  const ValidateOptions &options_;
  int depth_ = 0;
  size_t steps_ = 0;
  size_t max_steps_ = kBaseValidationSteps;
  int pattern_evaluations_ = 0;
  int expensive_evaluations_ = 0;
  bool pattern_budget_reported_ = false;
  std::string stopped_; // set when a global bound stopped validation
};

void Validator::Validate(int index, const nlohmann::json &v,
                         const std::string &pointer, const std::string &path,
                         bool report_undeclared, std::vector<Violation> *out) {
  if (!stopped_.empty())
    return;
  if (++steps_ > max_steps_) {
    stopped_ = fmt::format(
        "validation stopped after {} steps: the schema and the value are too "
        "complex (combinators nested in combinators?)",
        max_steps_);
    return;
  }
  if (depth_ >= kMaxValidationDepth) {
    stopped_ =
        fmt::format("validation stopped: nested more than {} levels deep at {}",
                    kMaxValidationDepth, path.empty() ? "(root)" : path);
    return;
  }
  // Undone on every return below.
  struct DepthGuard {
    int &depth;
    explicit DepthGuard(int &d) : depth(++d) {}
    ~DepthGuard() { --depth; }
  } guard(depth_);
  const Node &n = N(index);
  if (n.ref >= 0) {
    Validate(n.ref, v, pointer, path, report_undeclared, out);
    return;
  }
  if (v.is_null() && n.nullable)
    return;
  if (n.type && !TypeMatches(*n.type, v)) {
    std::string got(JsonTypeName(v));
    if (!v.is_structured() && !v.is_null())
      got += " " + DescribeValue(v);
    Add(out, Severity::kError, pointer, path,
        fmt::format("expected {}, got {}", SchemaTypeName(*n.type), got));
    return;
  }
  if (n.enum_values && std::find(n.enum_values->begin(), n.enum_values->end(),
                                 v) == n.enum_values->end()) {
    std::vector<std::string> allowed;
    for (const nlohmann::json &e : *n.enum_values) {
      if (allowed.size() == 10) {
        allowed.push_back("…");
        break;
      }
      allowed.push_back(DescribeValue(e, 40));
    }
    Add(out, Severity::kError, pointer, path,
        fmt::format("{} is not one of the allowed values: {}", DescribeValue(v),
                    fmt::join(allowed, ", ")));
  }
  if (v.is_object()) {
    // Properties declared in allOf/anyOf/oneOf branches are not visible here:
    // no undeclared warnings then.
    bool composed = !n.all_of.empty() || !n.any_of.empty() || !n.one_of.empty();
    ValidateObject(n, v, pointer, path, report_undeclared && !composed, out);
  } else if (v.is_array()) {
    ValidateArray(n, v, pointer, path, out);
  } else if (v.is_string()) {
    ValidateString(n, v, pointer, path, out);
  } else if (v.is_number()) {
    ValidateNumber(n, v, pointer, path, out);
  }
  ValidateApplicators(n, v, pointer, path, out);
}

void Validator::ValidateObject(const Node &n, const nlohmann::json &v,
                               const std::string &pointer,
                               const std::string &path, bool report_undeclared,
                               std::vector<Violation> *out) {
  for (const auto &[key, child] : v.items()) {
    std::string child_pointer = AppendPointer(pointer, key);
    std::string child_path = AppendPath(path, key);
    if (auto it = n.properties.find(key); it != n.properties.end()) {
      ConfigScope scope = N(it->second).scope;
      if (options_.rule_level && scope == ConfigScope::kGlobal) {
        Add(out, Severity::kWarning, child_pointer, child_path,
            "GLOBAL-scoped property in a rule-level configuration (it belongs "
            "in the global "
            "configuration)");
      } else if (!options_.rule_level && scope == ConfigScope::kRule) {
        Add(out, Severity::kWarning, child_pointer, child_path,
            "RULE-scoped property in the global configuration (it belongs in "
            "rule-level "
            "configurations)");
      }
      Validate(it->second, child, child_pointer, child_path, true, out);
    } else if (n.additional_schema >= 0) {
      Validate(n.additional_schema, child, child_pointer, child_path, true,
               out);
    } else if (n.additional_forbidden) {
      Add(out, Severity::kError, child_pointer, child_path,
          "property is not allowed (additionalProperties is false)" +
              DidYouMean(key, n.properties));
    } else if (options_.warn_undeclared && report_undeclared &&
               !n.properties.empty()) {
      Add(out, Severity::kWarning, child_pointer, child_path,
          "property is not declared in the schema" +
              DidYouMean(key, n.properties));
    }
  }
  for (const std::string &name : n.required) {
    if (v.contains(name))
      continue;
    if (auto it = n.properties.find(name); it != n.properties.end()) {
      ConfigScope scope = N(it->second).scope;
      if (options_.rule_level && scope == ConfigScope::kGlobal)
        continue;
      if (!options_.rule_level && scope == ConfigScope::kRule)
        continue;
    }
    Add(out, Severity::kError, AppendPointer(pointer, name),
        AppendPath(path, name), "required property is missing");
  }
  if (n.min_properties && v.size() < *n.min_properties) {
    Add(out, Severity::kError, pointer, path,
        fmt::format("object has {} properties, fewer than minProperties {}",
                    v.size(), *n.min_properties));
  }
  if (n.max_properties && v.size() > *n.max_properties) {
    Add(out, Severity::kError, pointer, path,
        fmt::format("object has {} properties, more than maxProperties {}",
                    v.size(), *n.max_properties));
  }
}

void Validator::ValidateArray(const Node &n, const nlohmann::json &v,
                              const std::string &pointer,
                              const std::string &path,
                              std::vector<Violation> *out) {
  if (n.items >= 0) {
    for (size_t i = 0; i < v.size(); ++i) {
      Validate(n.items, v[i], AppendPointer(pointer, i), AppendPath(path, i),
               true, out);
    }
  }
  if (n.min_items && v.size() < *n.min_items) {
    Add(out, Severity::kError, pointer, path,
        fmt::format("list has {} item(s), fewer than minItems {}", v.size(),
                    *n.min_items));
  }
  if (n.max_items && v.size() > *n.max_items) {
    Add(out, Severity::kError, pointer, path,
        fmt::format("list has {} items, more than maxItems {}", v.size(),
                    *n.max_items));
  }
  if (n.unique_items) {
    std::map<nlohmann::json, size_t> first;
    for (size_t i = 0; i < v.size(); ++i) {
      auto [it, inserted] = first.try_emplace(v[i], i);
      if (!inserted) {
        Add(out, Severity::kError, AppendPointer(pointer, i),
            AppendPath(path, i),
            fmt::format("duplicate of item [{}] (uniqueItems)", it->second));
      }
    }
  }
}

void Validator::ValidateString(const Node &n, const nlohmann::json &v,
                               const std::string &pointer,
                               const std::string &path,
                               std::vector<Violation> *out) {
  const std::string &s = v.get_ref<const std::string &>();
  if (n.min_length || n.max_length) {
    size_t length = CodePoints(s);
    if (n.min_length && length < *n.min_length) {
      Add(out, Severity::kError, pointer, path,
          fmt::format("string has {} character(s), fewer than minLength {}",
                      length, *n.min_length));
    }
    if (n.max_length && length > *n.max_length) {
      Add(out, Severity::kError, pointer, path,
          fmt::format("string has {} characters, more than maxLength {}",
                      length, *n.max_length));
    }
  }
  if (n.pattern) {
    if (pattern_evaluations_ >= kMaxPatternEvaluations) {
      if (!pattern_budget_reported_) {
        pattern_budget_reported_ = true;
        Add(out, Severity::kWarning, pointer, path,
            fmt::format("more than {} pattern checks; this and later values "
                        "are not checked "
                        "against their pattern",
                        kMaxPatternEvaluations));
      }
    } else {
      ++pattern_evaluations_;
      Result<bool> match = n.pattern->Search(s, kQuickMatchLimit);
      if (!match && match.error().code() == ErrorCode::kResourceExhausted &&
          expensive_evaluations_ < kMaxExpensivePatternEvaluations) {
        ++expensive_evaluations_;
        match = n.pattern->Search(s);
      }
      if (!match) {
        Add(out, Severity::kWarning, pointer, path,
            fmt::format("not checked against pattern `{}`: {}",
                        n.pattern->pattern(), match.error().message()));
      } else if (!*match) {
        Add(out, Severity::kError, pointer, path,
            fmt::format("{} does not match the pattern `{}`", DescribeValue(v),
                        n.pattern->pattern()));
      }
    }
  }
  if (auto check = StringFormatCheck(n.format); check != nullptr && !check(s)) {
    Add(out, Severity::kError, pointer, path,
        fmt::format("{} is not a valid {} (format)", DescribeValue(v),
                    n.format));
  }
}

void Validator::ValidateNumber(const Node &n, const nlohmann::json &v,
                               const std::string &pointer,
                               const std::string &path,
                               std::vector<Violation> *out) {
  double d = v.get<double>();
  std::string shown = DescribeValue(v);
  if (n.minimum) {
    if (n.exclusive_minimum ? !(d > *n.minimum) : !(d >= *n.minimum)) {
      Add(out, Severity::kError, pointer, path,
          fmt::format("{} is {} the minimum {}{}", shown,
                      n.exclusive_minimum ? "not greater than" : "less than",
                      FormatNumber(*n.minimum),
                      n.exclusive_minimum ? " (exclusive)" : ""));
    }
  }
  if (n.maximum) {
    if (n.exclusive_maximum ? !(d < *n.maximum) : !(d <= *n.maximum)) {
      Add(out, Severity::kError, pointer, path,
          fmt::format("{} is {} the maximum {}{}", shown,
                      n.exclusive_maximum ? "not less than" : "greater than",
                      FormatNumber(*n.maximum),
                      n.exclusive_maximum ? " (exclusive)" : ""));
    }
  }
  if (n.exclusive_minimum_value && !(d > *n.exclusive_minimum_value)) {
    Add(out, Severity::kError, pointer, path,
        fmt::format("{} is not greater than the exclusive minimum {}", shown,
                    FormatNumber(*n.exclusive_minimum_value)));
  }
  if (n.exclusive_maximum_value && !(d < *n.exclusive_maximum_value)) {
    Add(out, Severity::kError, pointer, path,
        fmt::format("{} is not less than the exclusive maximum {}", shown,
                    FormatNumber(*n.exclusive_maximum_value)));
  }
  if (n.multiple_of) {
    bool ok;
    double m = *n.multiple_of;
    if ((v.is_number_integer() || v.is_number_unsigned()) &&
        m == std::floor(m) && m < 9e15) {
      // Exact for integers.
      if (v.is_number_unsigned()) {
        ok = v.get<uint64_t>() % static_cast<uint64_t>(m) == 0;
      } else {
        ok = v.get<int64_t>() % static_cast<int64_t>(m) == 0;
      }
    } else {
      double q = d / m;
      ok = std::isfinite(q) &&
           std::fabs(q - std::round(q)) <= 1e-9 * std::max(1.0, std::fabs(q));
    }
    if (!ok) {
      Add(out, Severity::kError, pointer, path,
          fmt::format("{} is not a multiple of {}", shown, FormatNumber(m)));
    }
  }
  if (n.format == "int32" || n.format == "int64") {
    bool is_32 = n.format == "int32";
    bool fits;
    if (!IsIntegral(v)) {
      fits = false;
    } else if (v.is_number_unsigned()) {
      fits =
          v.get<uint64_t>() <= (is_32 ? 2147483647ULL : 9223372036854775807ULL);
    } else if (v.is_number_integer()) {
      int64_t i = v.get<int64_t>();
      fits = !is_32 || (i >= -2147483648LL && i <= 2147483647LL);
    } else {
      fits = is_32 ? (d >= -2147483648.0 && d <= 2147483647.0)
                   : (d >= -9223372036854775808.0 && d < 9223372036854775808.0);
    }
    if (!fits) {
      Add(out, Severity::kError, pointer, path,
          fmt::format("{} is not a valid {} (format)", shown, n.format));
    }
  }
}

std::string
Validator::Closest(const std::vector<std::vector<Violation>> &results,
                   const std::string &path) const {
  size_t best = results.size();
  size_t best_errors = std::numeric_limits<size_t>::max();
  for (size_t i = 0; i < results.size(); ++i) {
    // Fewest errors wins; an alternative whose type does not even match comes
    // last.
    size_t errors = 0;
    for (const Violation &v : results[i]) {
      if (v.severity != Severity::kError)
        continue;
      errors += v.path == path && v.message.starts_with("expected ") ? 1000 : 1;
    }
    if (errors < best_errors) {
      best = i;
      best_errors = errors;
    }
  }
  if (best == results.size())
    return {};
  for (const Violation &v : results[best]) {
    if (v.severity != Severity::kError)
      continue;
    std::string where =
        v.path.size() > path.size() ? v.path.substr(path.size()) : "";
    if (!where.empty() && where.front() == '.')
      where.erase(0, 1);
    return fmt::format(" (closest is #{}: {}{}{})", best, where,
                       where.empty() ? "" : ": ", v.message);
  }
  return {};
}

void Validator::ValidateApplicators(const Node &n, const nlohmann::json &v,
                                    const std::string &pointer,
                                    const std::string &path,
                                    std::vector<Violation> *out) {
  for (int sub : n.all_of)
    Validate(sub, v, pointer, path, false, out);
  if (!n.any_of.empty()) {
    std::vector<std::vector<Violation>> results;
    bool matched = false;
    for (int sub : n.any_of) {
      std::vector<Violation> r;
      Validate(sub, v, pointer, path, false, &r);
      if (!HasErrorViolations(r)) {
        matched = true;
        break;
      }
      results.push_back(std::move(r));
    }
    if (!matched) {
      Add(out, Severity::kError, pointer, path,
          fmt::format("matches none of the {} anyOf alternatives{}",
                      n.any_of.size(), Closest(results, path)));
    }
  }
  if (!n.one_of.empty()) {
    std::vector<std::vector<Violation>> results;
    std::vector<size_t> matched;
    for (size_t i = 0; i < n.one_of.size(); ++i) {
      std::vector<Violation> r;
      Validate(n.one_of[i], v, pointer, path, false, &r);
      if (!HasErrorViolations(r))
        matched.push_back(i);
      results.push_back(std::move(r));
    }
    if (matched.empty()) {
      Add(out, Severity::kError, pointer, path,
          fmt::format("matches none of the {} oneOf alternatives{}",
                      n.one_of.size(), Closest(results, path)));
    } else if (matched.size() > 1) {
      std::vector<std::string> which;
      for (size_t i : matched)
        which.push_back(fmt::format("#{}", i));
      Add(out, Severity::kError, pointer, path,
          fmt::format("matches {} of the oneOf alternatives ({}); exactly one "
                      "must match",
                      matched.size(), fmt::join(which, ", ")));
    }
  }
  if (n.not_schema >= 0) {
    std::vector<Violation> r;
    Validate(n.not_schema, v, pointer, path, false, &r);
    if (!HasErrorViolations(r)) {
      Add(out, Severity::kError, pointer, path,
          "must not match the schema under `not`");
    }
  }
}

std::vector<Violation> ValidateAt(const Schema::Data &data, int node,
                                  const nlohmann::json &value,
                                  const ValidateOptions &options) {
  Validator validator(data, options);
  return validator.Run(node, value);
}

} // namespace

// ---- compiling ----

namespace {

class Compiler {
public:
  Compiler(const nlohmann::json &document, const SchemaLocation &location,
           const SchemaCompileOptions &options, Schema::Data *data,
           std::vector<Finding> *findings)
      : doc_(document), location_(location), options_(options), data_(data),
        sink_(location.file, location.lines, findings) {}

  void Run() {
    data_->root =
        CompileNode(doc_, "", "", 0, /*is_property=*/false, /*is_root=*/true);
    ResolveRefs();
    BreakRefCycles();
    if (options_.check_examples)
      CheckExamples();
  }

private:
  struct PendingRef {
    int node;
    std::string ref;
  };
  struct Embedded {
    int node;
    std::string keyword; // "example", "default", "enum"
    const nlohmann::json *value;
  };

  std::string FullPath(const std::string &rel,
                       std::string_view keyword = {}) const {
    std::string path = JoinPath(location_.path, rel);
    if (!keyword.empty())
      path = AppendPath(path, keyword);
    return path;
  }
  std::string FullPointer(const std::string &rel,
                          std::string_view keyword = {}) const {
    std::string pointer = location_.pointer + rel;
    if (!keyword.empty())
      pointer = AppendPointer(pointer, keyword);
    return pointer;
  }
  void Report(Severity severity, int index, std::string_view keyword,
              std::string message) {
    const Node &n = N(index);
    sink_.Add(severity, FullPath(n.path, keyword),
              FullPointer(n.pointer, keyword), std::move(message));
  }

  int NewNode(std::string pointer, std::string path) {
    int index = static_cast<int>(data_->nodes.size());
    data_->nodes.push_back(Node{});
    data_->nodes.back().pointer = pointer;
    data_->nodes.back().path = std::move(path);
    by_pointer_[std::move(pointer)] = index;
    return index;
  }

  // Node fields are written through the index: compiling children grows
  // data_->nodes.
  Node &N(int index) { return data_->nodes[static_cast<size_t>(index)]; }

  int CompileNode(const nlohmann::json &value, const std::string &pointer,
                  const std::string &path, int depth, bool is_property,
                  bool is_root);
  void CompileKeyword(int index, const std::string &key,
                      const nlohmann::json &v, int depth, bool is_property,
                      bool is_root, const nlohmann::json &schema);
  int CompileChild(const nlohmann::json &value, int parent,
                   std::string_view keyword, int depth) {
    std::string pointer = AppendPointer(N(parent).pointer, keyword);
    std::string path = AppendPath(N(parent).path, keyword);
    return CompileNode(value, pointer, path, depth + 1, false, false);
  }
  std::optional<std::vector<int>> CompileList(int index, const std::string &key,
                                              const nlohmann::json &v,
                                              int depth);
  void CheckTypeConsistency(int index, const nlohmann::json &schema);
  void ResolveRefs();
  void BreakRefCycles();
  void CheckExamples();
  void CheckValue(const Embedded &embedded);

  const nlohmann::json &doc_;
  const SchemaLocation &location_;
  const SchemaCompileOptions &options_;
  Schema::Data *data_;
  FindingSink sink_;
  std::unordered_map<std::string, int> by_pointer_;
  std::vector<PendingRef> pending_refs_;
  std::vector<Embedded> embedded_;
};

int Compiler::CompileNode(const nlohmann::json &value,
                          const std::string &pointer, const std::string &path,
                          int depth, bool is_property, bool is_root) {
  if (auto it = by_pointer_.find(pointer); it != by_pointer_.end())
    return it->second;
  int index = NewNode(pointer, path);
  if (!value.is_object()) {
    Report(
        Severity::kError, index, {},
        fmt::format("a schema must be a mapping, got {}", JsonTypeName(value)));
    return index;
  }
  if (depth > kMaxSchemaDepth) {
    Report(Severity::kError, index, {},
           fmt::format("schema nested more than {} levels deep; not checked",
                       kMaxSchemaDepth));
    return index;
  }
  for (const auto &[key, v] : value.items()) {
    CompileKeyword(index, key, v, depth, is_property, is_root, value);
  }
  if (value.contains("$ref")) {
    std::vector<std::string> ignored;
    for (const auto &[key, v] : value.items()) {
      if (key != "$ref" && OpenApiKeywords().count(key) && key != "title" &&
          key != "description" && key != "example" && key != "default") {
        ignored.push_back(key);
      }
    }
    if (!ignored.empty()) {
      Report(Severity::kWarning, index, "$ref",
             fmt::format("keywords beside $ref are ignored by OpenAPI 3.0: {}",
                         fmt::join(ignored, ", ")));
    }
  }
  CheckTypeConsistency(index, value);
  return index;
}

std::optional<std::vector<int>> Compiler::CompileList(int index,
                                                      const std::string &key,
                                                      const nlohmann::json &v,
                                                      int depth) {
  if (!v.is_array()) {
    Report(Severity::kError, index, key,
           fmt::format("`{}` must be a list of schemas, got {}", key,
                       JsonTypeName(v)));
    return std::nullopt;
  }
  if (v.empty())
    Report(Severity::kWarning, index, key,
           fmt::format("`{}` is an empty list", key));
  std::vector<int> out;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string pointer =
        AppendPointer(AppendPointer(N(index).pointer, key), i);
    std::string path = AppendPath(AppendPath(N(index).path, key), i);
    out.push_back(CompileNode(v[i], pointer, path, depth + 1, false, false));
  }
  return out;
}

void Compiler::CompileKeyword(int index, const std::string &key,
                              const nlohmann::json &v, int depth,
                              bool is_property, bool is_root,
                              const nlohmann::json &schema) {
  auto error = [&](std::string message) {
    Report(Severity::kError, index, key, std::move(message));
  };
  auto warn = [&](std::string message) {
    Report(Severity::kWarning, index, key, std::move(message));
  };
  auto want_bool = [&]() -> std::optional<bool> {
    if (v.is_boolean())
      return v.get<bool>();
    error(fmt::format("`{}` must be true or false, got {} {}", key,
                      JsonTypeName(v), DescribeValue(v)));
    return std::nullopt;
  };
  auto want_number = [&]() -> std::optional<double> {
    if (v.is_number())
      return v.get<double>();
    error(fmt::format("`{}` must be a number, got {} {}", key, JsonTypeName(v),
                      DescribeValue(v)));
    return std::nullopt;
  };
  auto want_count = [&]() -> std::optional<uint64_t> {
    if (auto c = AsCount(v))
      return c;
    error(fmt::format("`{}` must be a non-negative integer, got {} {}", key,
                      JsonTypeName(v), DescribeValue(v)));
    return std::nullopt;
  };

  if (key == "$ref") {
    if (!v.is_string()) {
      error(fmt::format("`$ref` must be a string, got {}", JsonTypeName(v)));
      return;
    }
    pending_refs_.push_back({index, v.get<std::string>()});
  } else if (key == "type") {
    if (v.is_string()) {
      const std::string &name = v.get_ref<const std::string &>();
      if (auto type = ParseSchemaType(name)) {
        N(index).type = *type;
      } else if (name == "null") {
        error(
            "type `null` does not exist in OpenAPI 3.0 (use `nullable: true`)");
      } else {
        error(fmt::format("unknown type `{}` (expected object, array, string, "
                          "integer, number "
                          "or boolean)",
                          name));
      }
    } else if (v.is_array()) {
      error("`type` must be a single type name in OpenAPI 3.0 (a list is JSON "
            "Schema; use "
            "`nullable: true` for null)");
    } else {
      error(fmt::format("`type` must be a type name, got {}", JsonTypeName(v)));
    }
  } else if (key == "nullable") {
    if (auto b = want_bool())
      N(index).nullable = *b;
  } else if (key == "uniqueItems") {
    if (auto b = want_bool())
      N(index).unique_items = *b;
  } else if (key == "readOnly" || key == "writeOnly" || key == "deprecated") {
    (void)want_bool();
  } else if (key == "properties") {
    if (!v.is_object()) {
      error(fmt::format(
          "`properties` must be a mapping of names to schemas, got {}",
          JsonTypeName(v)));
      return;
    }
    N(index).has_properties = true;
    for (const auto &[name, sub] : v.items()) {
      std::string pointer =
          AppendPointer(AppendPointer(N(index).pointer, "properties"), name);
      std::string path =
          AppendPath(AppendPath(N(index).path, "properties"), name);
      int child = CompileNode(sub, pointer, path, depth + 1,
                              /*is_property=*/true, false);
      N(index).properties[name] = child;
    }
  } else if (key == "required") {
    if (!v.is_array()) {
      error(fmt::format("`required` must be a list of property names, got {}",
                        JsonTypeName(v)));
      return;
    }
    if (v.empty())
      warn("`required` is an empty list (OpenAPI 3.0 wants at least one name)");
    std::set<std::string> seen;
    for (size_t i = 0; i < v.size(); ++i) {
      std::string item_path =
          AppendPath(AppendPath(N(index).path, "required"), i);
      std::string item_pointer =
          AppendPointer(AppendPointer(N(index).pointer, "required"), i);
      if (!v[i].is_string()) {
        sink_.Add(Severity::kError, FullPath(item_path),
                  FullPointer(item_pointer),
                  fmt::format("must be a property name, got {} {}",
                              JsonTypeName(v[i]), DescribeValue(v[i])));
        continue;
      }
      const std::string &name = v[i].get_ref<const std::string &>();
      if (!seen.insert(name).second) {
        sink_.Add(Severity::kWarning, FullPath(item_path),
                  FullPointer(item_pointer),
                  fmt::format("`{}` is listed twice", name));
        continue;
      }
      N(index).required.push_back(name);
    }
  } else if (key == "additionalProperties") {
    N(index).additional_declared = true;
    if (v.is_boolean()) {
      N(index).additional_forbidden = !v.get<bool>();
    } else if (v.is_object()) {
      int child = CompileChild(v, index, key, depth);
      N(index).additional_schema = child;
    } else {
      error(fmt::format(
          "`additionalProperties` must be true, false or a schema, got {}",
          JsonTypeName(v)));
    }
  } else if (key == "items") {
    if (v.is_array()) {
      error("`items` must be a single schema in OpenAPI 3.0 (a list is JSON "
            "Schema's tuple form)");
    } else if (!v.is_object()) {
      error(fmt::format("`items` must be a schema, got {}", JsonTypeName(v)));
    } else {
      int child = CompileChild(v, index, key, depth);
      N(index).items = child;
    }
  } else if (key == "enum") {
    if (!v.is_array()) {
      error(fmt::format("`enum` must be a list of values, got {}",
                        JsonTypeName(v)));
      return;
    }
    if (v.empty())
      warn("`enum` is an empty list: no value can match");
    N(index).enum_values = v;
    embedded_.push_back({index, key, &v});
  } else if (key == "minimum") {
    if (auto d = want_number())
      N(index).minimum = *d;
  } else if (key == "maximum") {
    if (auto d = want_number())
      N(index).maximum = *d;
  } else if (key == "exclusiveMinimum" || key == "exclusiveMaximum") {
    bool is_min = key == "exclusiveMinimum";
    std::string_view bound = is_min ? "minimum" : "maximum";
    if (v.is_boolean()) {
      (is_min ? N(index).exclusive_minimum : N(index).exclusive_maximum) =
          v.get<bool>();
      if (v.get<bool>() && !schema.contains(bound)) {
        warn(fmt::format("`{}: true` has no effect without `{}`", key, bound));
      }
    } else if (v.is_number()) {
      warn(fmt::format(
          "a numeric `{}` is JSON Schema / OpenAPI 3.1; OpenAPI 3.0 wants true "
          "or "
          "false beside `{}` (the number is used as an exclusive bound)",
          key, bound));
      (is_min ? N(index).exclusive_minimum_value
              : N(index).exclusive_maximum_value) = v.get<double>();
    } else {
      error(fmt::format("`{}` must be true or false, got {}", key,
                        JsonTypeName(v)));
    }
  } else if (key == "multipleOf") {
    if (auto d = want_number()) {
      if (*d > 0 && std::isfinite(*d)) {
        N(index).multiple_of = *d;
      } else {
        error(fmt::format("`multipleOf` must be greater than 0, got {}",
                          DescribeValue(v)));
      }
    }
  } else if (key == "minLength") {
    if (auto c = want_count())
      N(index).min_length = *c;
  } else if (key == "maxLength") {
    if (auto c = want_count())
      N(index).max_length = *c;
  } else if (key == "minItems") {
    if (auto c = want_count())
      N(index).min_items = *c;
  } else if (key == "maxItems") {
    if (auto c = want_count())
      N(index).max_items = *c;
  } else if (key == "minProperties") {
    if (auto c = want_count())
      N(index).min_properties = *c;
  } else if (key == "maxProperties") {
    if (auto c = want_count())
      N(index).max_properties = *c;
  } else if (key == "pattern") {
    if (!v.is_string()) {
      error(fmt::format("`pattern` must be a string, got {}", JsonTypeName(v)));
      return;
    }
    const std::string &text = v.get_ref<const std::string &>();
    Result<EcmaRegex> re = EcmaRegex::Compile(text);
    if (!re) {
      error(fmt::format("pattern {} does not compile: {}", DescribeValue(v),
                        re.error().message()));
      return;
    }
    N(index).pattern = *re;
    std::vector<std::string> odd = NonEcmaScriptSyntax(text);
    if (!odd.empty()) {
      warn(fmt::format("pattern uses syntax that ECMAScript (the OpenAPI regex "
                       "dialect) does not "
                       "have or reads differently: {}",
                       fmt::join(odd, ", ")));
    }
  } else if (key == "format") {
    if (!v.is_string()) {
      error(fmt::format("`format` must be a string, got {}", JsonTypeName(v)));
      return;
    }
    N(index).format = v.get<std::string>();
    if (!KnownFormats().count(N(index).format)) {
      Report(Severity::kInfo, index, key,
             fmt::format("format `{}` is not one plugctl checks; values are "
                         "not checked against "
                         "it",
                         N(index).format));
    }
  } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
    if (auto list = CompileList(index, key, v, depth)) {
      (key == "allOf"   ? N(index).all_of
       : key == "anyOf" ? N(index).any_of
                        : N(index).one_of) = std::move(*list);
    }
  } else if (key == "not") {
    if (!v.is_object()) {
      error(fmt::format("`not` must be a schema, got {}", JsonTypeName(v)));
      return;
    }
    int child = CompileChild(v, index, key, depth);
    N(index).not_schema = child;
  } else if (key == "title" || key == "description") {
    if (!v.is_string()) {
      warn(fmt::format("`{}` should be text, got {} {}", key, JsonTypeName(v),
                       DescribeValue(v)));
    }
  } else if (key == "default" || key == "example") {
    embedded_.push_back({index, key, &v});
  } else if (key == "discriminator") {
    if (!v.is_object() || !v.contains("propertyName") ||
        !v["propertyName"].is_string()) {
      error("`discriminator` must be a mapping with a string `propertyName`");
    }
  } else if (key == "xml" || key == "externalDocs") {
    if (!v.is_object())
      error(
          fmt::format("`{}` must be a mapping, got {}", key, JsonTypeName(v)));
  } else if (key == "components" && is_root) {
    if (!v.is_object()) {
      error(fmt::format("`components` must be a mapping, got {}",
                        JsonTypeName(v)));
      return;
    }
    for (const auto &[section, content] : v.items()) {
      std::string section_pointer = AppendPointer("/components", section);
      std::string section_path = AppendPath("components", section);
      if (section != "schemas") {
        sink_.Add(
            Severity::kWarning, FullPath(section_path),
            FullPointer(section_pointer),
            "only `components.schemas` is meaningful inside a schema; ignored");
        continue;
      }
      if (!content.is_object()) {
        sink_.Add(Severity::kError, FullPath(section_path),
                  FullPointer(section_pointer),
                  fmt::format("`components.schemas` must be a mapping of names "
                              "to schemas, got {}",
                              JsonTypeName(content)));
        continue;
      }
      for (const auto &[name, sub] : content.items()) {
        CompileNode(sub, AppendPointer(section_pointer, name),
                    AppendPath(section_path, name), depth + 1, false, false);
      }
    }
  } else if (key == "x-scope") {
    if (!v.is_string()) {
      error(fmt::format("`x-scope` must be GLOBAL, RULE or ANY, got {}",
                        JsonTypeName(v)));
      return;
    }
    const std::string &scope = v.get_ref<const std::string &>();
    if (scope == "GLOBAL") {
      N(index).scope = ConfigScope::kGlobal;
    } else if (scope == "RULE") {
      N(index).scope = ConfigScope::kRule;
    } else if (scope == "ANY") {
      N(index).scope = ConfigScope::kAny;
    } else if (scope == "INSTANCE") {
      N(index).scope = ConfigScope::kInstance;
      Report(Severity::kInfo, index, key,
             "x-scope INSTANCE is not in the documented set (GLOBAL, RULE, "
             "ANY) but Higress uses "
             "it; treated like ANY");
    } else {
      error(fmt::format("unknown x-scope `{}` (expected GLOBAL, RULE or ANY)",
                        scope));
    }
    if (!is_property)
      warn("`x-scope` only has an effect on a property");
  } else if (key.starts_with("x-") && key.ends_with("-i18n") &&
             key.size() > 7) {
    for (Finding &f :
         CheckI18nValue(v, location_.file, FullPath(N(index).path, key),
                        FullPointer(N(index).pointer, key), location_.lines)) {
      sink_.Push(std::move(f));
    }
    std::string base = key.substr(2, key.size() - 7);
    if (!schema.contains(base)) {
      warn(fmt::format("`{}` translates `{}`, which this schema does not have",
                       key, base));
    }
  } else if (key.starts_with("x-")) {
    // Vendor extension: OpenAPI allows them anywhere.
  } else if (JsonSchemaOnlyKeywords().count(key)) {
    warn(fmt::format("`{}` is JSON Schema, not OpenAPI 3.0; ignored", key));
  } else if (key == "components") {
    warn("`components` only has an effect at the root of openAPIV3Schema; "
         "ignored");
  } else if (IsLocale(key)) {
    warn(fmt::format("unknown keyword `{}` (ignored); it looks like a "
                     "translation that belongs "
                     "inside an x-…-i18n mapping",
                     key));
  } else {
    warn(fmt::format(
        "unknown keyword `{}` (not an OpenAPI 3.0 Schema keyword; ignored)",
        key));
  }
}

void Compiler::CheckTypeConsistency(int index, const nlohmann::json &schema) {
  if (schema.contains("$ref"))
    return;
  const Node &n = N(index);
  if (n.type == SchemaType::kArray && !schema.contains("items")) {
    Report(Severity::kError, index, "type",
           "a schema of type array must have `items` (OpenAPI 3.0)");
  }
  if (n.type) {
    struct Group {
      std::vector<std::string_view> keywords;
      std::vector<SchemaType> types;
    };
    static const Group kGroups[] = {
        {{"properties", "required", "additionalProperties", "minProperties",
          "maxProperties"},
         {SchemaType::kObject}},
        {{"items", "minItems", "maxItems", "uniqueItems"},
         {SchemaType::kArray}},
        {{"minLength", "maxLength", "pattern"}, {SchemaType::kString}},
        {{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
          "multipleOf"},
         {SchemaType::kInteger, SchemaType::kNumber}},
    };
    for (const Group &group : kGroups) {
      if (std::find(group.types.begin(), group.types.end(), *n.type) !=
          group.types.end()) {
        continue;
      }
      for (std::string_view keyword : group.keywords) {
        if (!schema.contains(keyword))
          continue;
        std::string hint;
        if (keyword == "required" && n.type == SchemaType::kArray)
          hint = " (move it into `items`)";
        Report(Severity::kWarning, index, keyword,
               fmt::format("`{}` has no effect on a schema of type {}{}",
                           keyword, SchemaTypeName(*n.type), hint));
      }
    }
  }
  if ((!n.type || n.type == SchemaType::kObject) && n.additional_schema < 0) {
    for (const std::string &name : n.required) {
      if (n.properties.count(name))
        continue;
      if (!n.has_properties && !n.all_of.empty())
        continue; // declared in an allOf branch
      Report(Severity::kWarning, index, "required",
             fmt::format(
                 "required property `{}` is not declared in `properties`{}",
                 name, DidYouMean(name, n.properties)));
    }
  }
  auto check_range = [&](std::string_view lo_name,
                         const std::optional<uint64_t> &lo,
                         std::string_view hi_name,
                         const std::optional<uint64_t> &hi) {
    if (lo && hi && *lo > *hi) {
      Report(Severity::kWarning, index, lo_name,
             fmt::format("`{}` {} is greater than `{}` {}: no value can match",
                         lo_name, *lo, hi_name, *hi));
    }
  };
  check_range("minLength", n.min_length, "maxLength", n.max_length);
  check_range("minItems", n.min_items, "maxItems", n.max_items);
  check_range("minProperties", n.min_properties, "maxProperties",
              n.max_properties);
  if (n.minimum && n.maximum && *n.minimum > *n.maximum) {
    Report(Severity::kWarning, index, "minimum",
           fmt::format(
               "`minimum` {} is greater than `maximum` {}: no value can match",
               FormatNumber(*n.minimum), FormatNumber(*n.maximum)));
  }
}

void Compiler::ResolveRefs() {
  // Compiling a $ref target on demand can add more $refs: loop until none are
  // left.
  while (!pending_refs_.empty()) {
    std::vector<PendingRef> batch;
    batch.swap(pending_refs_);
    for (const PendingRef &pending : batch) {
      const std::string &ref = pending.ref;
      auto fail = [&](std::string message) {
        Report(Severity::kError, pending.node, "$ref", std::move(message));
      };
      if (ref.empty() || ref.front() != '#') {
        fail(fmt::format("$ref `{}` points outside the schema document; only "
                         "local references "
                         "(\"#/components/schemas/name\") can be resolved",
                         ref));
        continue;
      }
      std::optional<std::string> decoded =
          PercentDecode(std::string_view(ref).substr(1));
      std::string normalized;
      const nlohmann::json *target =
          decoded ? ResolvePointer(doc_, *decoded, &normalized) : nullptr;
      if (target == nullptr) {
        fail(fmt::format("$ref `{}` does not resolve: nothing at that location "
                         "in the schema "
                         "document",
                         ref));
        continue;
      }
      if (!target->is_object()) {
        fail(fmt::format("$ref `{}` points to a value of type {}, not a schema",
                         ref, JsonTypeName(*target)));
        continue;
      }
      int target_index;
      if (auto it = by_pointer_.find(normalized); it != by_pointer_.end()) {
        target_index = it->second;
      } else {
        // A target nobody compiled yet (e.g. "#/definitions/x"): compile it
        // now.
        std::string path;
        size_t pos = 1;
        while (pos <= normalized.size()) {
          size_t end = normalized.find('/', pos);
          std::string token = normalized.substr(
              pos, end == std::string::npos ? end : end - pos);
          std::string unescaped;
          for (size_t i = 0; i < token.size(); ++i) {
            if (token[i] == '~' && i + 1 < token.size()) {
              unescaped += token[i + 1] == '0' ? '~' : '/';
              ++i;
            } else {
              unescaped += token[i];
            }
          }
          path = AppendPath(path, unescaped);
          if (end == std::string::npos)
            break;
          pos = end + 1;
        }
        target_index = CompileNode(*target, normalized, path, 1, false, false);
      }
      N(pending.node).ref = target_index;
    }
  }
}

void Compiler::BreakRefCycles() {
  // A cycle through $ref/allOf/anyOf/oneOf/not never reaches a property or an
  // item, so validating it would recurse forever. The $ref closing such a cycle
  // is reported and dropped.
  enum Color : uint8_t { kWhite, kGrey, kBlack };
  std::vector<Color> color(data_->nodes.size(), kWhite);
  auto edges = [&](int i) {
    const Node &n = N(i);
    std::vector<int> out;
    if (n.ref >= 0)
      out.push_back(n.ref);
    out.insert(out.end(), n.all_of.begin(), n.all_of.end());
    out.insert(out.end(), n.any_of.begin(), n.any_of.end());
    out.insert(out.end(), n.one_of.begin(), n.one_of.end());
    if (n.not_schema >= 0)
      out.push_back(n.not_schema);
    return out;
  };
  for (size_t start = 0; start < data_->nodes.size(); ++start) {
    if (color[start] != kWhite)
      continue;
    // Iterative: schemas may be deep.
    std::vector<std::pair<int, std::vector<int>>> stack;
    stack.emplace_back(static_cast<int>(start), edges(static_cast<int>(start)));
    color[start] = kGrey;
    while (!stack.empty()) {
      int node = stack.back().first;
      std::vector<int> &next = stack.back().second;
      if (next.empty()) {
        color[static_cast<size_t>(node)] = kBlack;
        stack.pop_back();
        continue;
      }
      int to = next.back();
      next.pop_back();
      Color c = color[static_cast<size_t>(to)];
      if (c == kGrey) {
        if (N(node).ref == to) {
          Report(Severity::kError, node, "$ref",
                 "this $ref makes the schema refer to itself without going "
                 "through a property "
                 "or an item (infinite recursion); ignored");
          N(node).ref = -1;
        }
      } else if (c == kWhite) {
        color[static_cast<size_t>(to)] = kGrey;
        stack.emplace_back(to, edges(to));
      }
    }
  }
}

void Compiler::CheckExamples() {
  for (const Embedded &embedded : embedded_) {
    if (embedded.keyword == "enum") {
      // Each allowed value must itself fit the schema (type, pattern, ...).
      for (size_t i = 0; i < embedded.value->size(); ++i) {
        Embedded item{embedded.node, fmt::format("enum[{}]", i),
                      &(*embedded.value)[i]};
        CheckValue(item);
      }
    } else {
      CheckValue(embedded);
    }
  }
}

void Compiler::CheckValue(const Embedded &embedded) {
  const Node &node = N(embedded.node);
  ValidateOptions options{.rule_level = options_.rule_level,
                          .warn_undeclared = true};
  std::string keyword = embedded.keyword;
  std::string base_path = FullPath(node.path);
  std::string base_pointer = FullPointer(node.pointer);
  if (keyword.starts_with("enum[")) {
    size_t i = std::stoul(keyword.substr(5));
    base_path = AppendPath(AppendPath(base_path, "enum"), i);
    base_pointer = AppendPointer(AppendPointer(base_pointer, "enum"), i);
    keyword = "enum value";
  } else {
    base_path = AppendPath(base_path, keyword);
    base_pointer = AppendPointer(base_pointer, keyword);
  }
  const nlohmann::json &value = *embedded.value;
  // Errors of the value are contradictions (warnings for the spec); its
  // warnings (undeclared or misplaced properties) stay hints.
  auto emit = [&](const std::vector<Violation> &violations,
                  const std::string &path, const std::string &pointer) {
    for (const Violation &v : violations) {
      bool contradiction = v.severity == Severity::kError;
      sink_.Add(contradiction ? Severity::kWarning : v.severity,
                JoinPath(path, v.path), pointer + v.pointer,
                fmt::format("{}{}: {}", keyword,
                            contradiction ? " contradicts the schema" : "",
                            v.message));
    }
  };
  std::vector<Violation> violations =
      ValidateAt(*data_, embedded.node, value, options);
  if (violations.empty())
    return;
  // Real-world quirk: `example: [a, b]` on a string field, meaning "examples".
  if (embedded.keyword == "example" && HasErrorViolations(violations) &&
      value.is_array() && !value.empty() && node.type &&
      *node.type != SchemaType::kArray) {
    sink_.Add(Severity::kInfo, base_path, base_pointer,
              fmt::format("`example` is a list of {} value(s) on a field of "
                          "type {}; OpenAPI 3.0 "
                          "wants a single value (read as a list of examples)",
                          value.size(), SchemaTypeName(*node.type)));
    for (size_t i = 0; i < value.size(); ++i) {
      emit(ValidateAt(*data_, embedded.node, value[i], options),
           AppendPath(base_path, i), AppendPointer(base_pointer, i));
    }
    return;
  }
  emit(violations, base_path, base_pointer);
}

} // namespace

// ---- public API ----

std::string_view ConfigScopeName(ConfigScope scope) {
  switch (scope) {
  case ConfigScope::kAny:
    return "ANY";
  case ConfigScope::kGlobal:
    return "GLOBAL";
  case ConfigScope::kRule:
    return "RULE";
  case ConfigScope::kInstance:
    return "INSTANCE";
  }
  return "ANY";
}

std::string Violation::ToString() const {
  return fmt::format("{}: {}", path.empty() ? "(root)" : path, message);
}

Schema::Schema() {
  auto data = std::make_shared<Data>();
  data->nodes.push_back(Node{});
  data->document = nlohmann::json::object();
  data_ = std::move(data);
}

SchemaCompilation Schema::Compile(const nlohmann::json &document,
                                  const SchemaLocation &location,
                                  const SchemaCompileOptions &options) {
  auto data = std::make_shared<Data>();
  data->document = document;
  std::vector<Finding> findings;
  Compiler compiler(data->document, location, options, data.get(), &findings);
  compiler.Run();
  std::stable_sort(
      findings.begin(), findings.end(),
      [](const Finding &a, const Finding &b) { return a.line < b.line; });
  return SchemaCompilation{Schema(std::move(data)), std::move(findings)};
}

std::vector<Violation> Schema::Validate(const nlohmann::json &config,
                                        const ValidateOptions &options) const {
  return ValidateAt(*data_, data_->root, config, options);
}

const nlohmann::json &Schema::document() const { return data_->document; }

std::vector<std::pair<std::string, ConfigScope>>
Schema::TopLevelProperties() const {
  int index = data_->root;
  // Follow $ref chains (cycles were broken at compile time).
  for (size_t hops = 0; data_->nodes[static_cast<size_t>(index)].ref >= 0 &&
                        hops < data_->nodes.size();
       ++hops) {
    index = data_->nodes[static_cast<size_t>(index)].ref;
  }
  std::vector<std::pair<std::string, ConfigScope>> out;
  for (const auto &[name, child] :
       data_->nodes[static_cast<size_t>(index)].properties) {
    out.emplace_back(name, data_->nodes[static_cast<size_t>(child)].scope);
  }
  return out;
}

std::vector<Finding> CheckI18nValue(const nlohmann::json &value,
                                    std::string_view file,
                                    std::string_view path,
                                    std::string_view pointer,
                                    const LineMap *lines) {
  std::vector<Finding> out;
  FindingSink sink(file, lines, &out);
  if (value.is_null()) {
    sink.Add(Severity::kInfo, std::string(path), pointer,
             "translation map is null (real-world dialect; read as no "
             "translations)");
    return out;
  }
  if (!value.is_object()) {
    sink.Add(
        Severity::kError, std::string(path), pointer,
        fmt::format("must be a mapping of locale to text (en-US: ...), got {}",
                    JsonTypeName(value)));
    return out;
  }
  for (const auto &[locale, text] : value.items()) {
    std::string entry_path = AppendPath(path, locale);
    std::string entry_pointer = AppendPointer(pointer, locale);
    if (!IsLocale(locale)) {
      sink.Add(Severity::kWarning, entry_path, entry_pointer,
               fmt::format("`{}` does not look like a locale (en-US, zh-CN)",
                           locale));
    }
    if (text.is_structured()) {
      sink.Add(Severity::kError, entry_path, entry_pointer,
               fmt::format("a translation must be text, got {}",
                           JsonTypeName(text)));
    } else if (!text.is_string()) {
      sink.Add(Severity::kWarning, entry_path, entry_pointer,
               fmt::format("a translation should be text, got {} {} (quote it)",
                           JsonTypeName(text), DescribeValue(text)));
    }
  }
  return out;
}

std::vector<Finding>
ViolationsToFindings(const std::vector<Violation> &violations,
                     std::string_view file, std::string_view path,
                     std::string_view pointer, const LineMap *lines,
                     Severity error_severity) {
  std::vector<Finding> out;
  out.reserve(violations.size());
  for (const Violation &v : violations) {
    std::string full_pointer = std::string(pointer) + v.pointer;
    out.push_back(Finding{
        .severity =
            v.severity == Severity::kError ? error_severity : v.severity,
        .file = std::string(file),
        .path = JoinPath(path, v.path),
        .line = lines != nullptr ? lines->Find(full_pointer) : 0,
        .message = v.message,
    });
  }
  std::stable_sort(
      out.begin(), out.end(),
      [](const Finding &a, const Finding &b) { return a.line < b.line; });
  return out;
}

} // namespace plugctl::spec
