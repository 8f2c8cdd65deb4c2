// Validating configuration values against a compiled Schema.
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

#include <fmt/format.h>

#include "plugctl/spec/schema.h"
#include "plugctl/spec/schema_internal.h"

namespace plugctl::spec {

namespace schema_internal {

namespace {

// Hard bounds for hostile configurations.
constexpr int kMaxValidationDepth = 400;  // nested Validate calls (values + applicators)
// Validation steps (schema applications) allowed: a base plus a few per value. Plain schemas
// need one or two steps per value; only combinators nested in combinators need more.
constexpr size_t kBaseValidationSteps = 100'000;
constexpr size_t kValidationStepsPerValue = 8;
// Pattern checks per Validate call: every value first gets a cheap attempt; only a few may
// use the full PCRE2 match limit. This bounds the regex time of one validation to about a
// second whatever the patterns and values (see schema_regex.h).
constexpr int kMaxPatternEvaluations = 10'000;
constexpr uint32_t kQuickMatchLimit = 10'000;
constexpr int kMaxExpensivePatternEvaluations = 20;

bool IsIntegral(const nlohmann::json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return true;
  if (!v.is_number_float()) return false;
  double d = v.get<double>();
  return std::isfinite(d) && d == std::floor(d);
}

bool TypeMatches(SchemaType type, const nlohmann::json& v) {
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
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// Values in a JSON document (iterative: the document may be deep).
size_t CountJsonValues(const nlohmann::json& root) {
  size_t count = 0;
  std::vector<const nlohmann::json*> stack = {&root};
  while (!stack.empty()) {
    const nlohmann::json* v = stack.back();
    stack.pop_back();
    ++count;
    if (v->is_structured()) {
      for (const nlohmann::json& child : *v) stack.push_back(&child);
    }
  }
  return count;
}

class Validator {
 public:
  Validator(const Schema::Data& data, const ValidateOptions& options)
      : data_(data), options_(options) {}

  std::vector<Violation> Run(int node, const nlohmann::json& value) {
    max_steps_ = kBaseValidationSteps + kValidationStepsPerValue * CountJsonValues(value);
    std::vector<Violation> out;
    Validate(node, value, "", "", /*report_undeclared=*/true, &out);
    if (!stopped_.empty()) {
      out.push_back(Violation{.severity = Severity::kError, .message = stopped_});
    }
    // Undecided is not valid: reported at the top, whatever combinator (not, anyOf…) was
    // evaluating the value when the decision could not be made.
    out.insert(out.end(), undecided_.begin(), undecided_.end());
    return out;
  }

 private:
  void Add(std::vector<Violation>* out, Severity severity, const std::string& pointer,
           const std::string& path, std::string message) {
    out->push_back(Violation{
        .severity = severity, .path = path, .pointer = pointer, .message = std::move(message)});
  }

  const Node& N(int index) const { return data_.nodes[static_cast<size_t>(index)]; }

  void Validate(int index, const nlohmann::json& v, const std::string& pointer,
                const std::string& path, bool report_undeclared, std::vector<Violation>* out);
  void ValidateObject(const Node& n, const nlohmann::json& v, const std::string& pointer,
                      const std::string& path, bool report_undeclared, std::vector<Violation>* out);
  void ValidateArray(const Node& n, const nlohmann::json& v, const std::string& pointer,
                     const std::string& path, std::vector<Violation>* out);
  void ValidateString(const Node& n, const nlohmann::json& v, const std::string& pointer,
                      const std::string& path, std::vector<Violation>* out);
  void ValidateNumber(const Node& n, const nlohmann::json& v, const std::string& pointer,
                      const std::string& path, std::vector<Violation>* out);
  void ValidateApplicators(const Node& n, const nlohmann::json& v, const std::string& pointer,
                           const std::string& path, std::vector<Violation>* out);
  std::string Closest(const std::vector<std::vector<Violation>>& results,
                      const std::string& path) const;

  const Schema::Data& data_;
  const ValidateOptions& options_;
  int depth_ = 0;
  size_t steps_ = 0;
  size_t max_steps_ = kBaseValidationSteps;
  int pattern_evaluations_ = 0;
  int expensive_evaluations_ = 0;
  bool pattern_budget_reported_ = false;
  std::string stopped_;  // set when a global bound stopped validation
  // Values whose pattern check could not be decided (a PCRE2 limit, the evaluation budget).
  std::vector<Violation> undecided_;
};

void Validator::Validate(int index, const nlohmann::json& v, const std::string& pointer,
                         const std::string& path, bool report_undeclared,
                         std::vector<Violation>* out) {
  if (!stopped_.empty()) return;
  if (++steps_ > max_steps_) {
    stopped_ = fmt::format(
        "validation stopped after {} steps: the schema and the value are too "
        "complex (combinators nested in combinators?)",
        max_steps_);
    return;
  }
  if (depth_ >= kMaxValidationDepth) {
    stopped_ = fmt::format("validation stopped: nested more than {} levels deep at {}",
                           kMaxValidationDepth, path.empty() ? "(root)" : path);
    return;
  }
  // Undone on every return below.
  struct DepthGuard {
    int& depth;
    explicit DepthGuard(int& d) : depth(++d) {}
    ~DepthGuard() { --depth; }
  } guard(depth_);
  const Node& n = N(index);
  if (n.ref >= 0) {
    Validate(n.ref, v, pointer, path, report_undeclared, out);
    return;
  }
  if (v.is_null() && n.nullable) return;
  if (n.type && !TypeMatches(*n.type, v)) {
    std::string got(JsonTypeName(v));
    if (!v.is_structured() && !v.is_null()) got += " " + DescribeValue(v);
    Add(out, Severity::kError, pointer, path,
        fmt::format("expected {}, got {}", SchemaTypeName(*n.type), got));
    return;
  }
  if (n.enum_values &&
      std::find(n.enum_values->begin(), n.enum_values->end(), v) == n.enum_values->end()) {
    std::vector<std::string> allowed;
    for (const nlohmann::json& e : *n.enum_values) {
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
    // Properties declared in allOf/anyOf/oneOf branches are not visible here: no undeclared
    // warnings then.
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

void Validator::ValidateObject(const Node& n, const nlohmann::json& v, const std::string& pointer,
                               const std::string& path, bool report_undeclared,
                               std::vector<Violation>* out) {
  for (const auto& [key, child] : v.items()) {
    std::string child_pointer = AppendPointer(pointer, key);
    std::string child_path = AppendPath(path, key);
    if (auto it = n.properties.find(key); it != n.properties.end()) {
      ConfigScope scope = N(it->second).scope;
      if (options_.rule_level && scope == ConfigScope::kGlobal) {
        Add(out, Severity::kWarning, child_pointer, child_path,
            "GLOBAL-scoped property in a rule-level configuration (it belongs in the global "
            "configuration)");
      } else if (!options_.rule_level && scope == ConfigScope::kRule) {
        Add(out, Severity::kWarning, child_pointer, child_path,
            "RULE-scoped property in the global configuration (it belongs in rule-level "
            "configurations)");
      }
      Validate(it->second, child, child_pointer, child_path, true, out);
    } else if (n.additional_schema >= 0) {
      Validate(n.additional_schema, child, child_pointer, child_path, true, out);
    } else if (n.additional_forbidden) {
      Add(out, Severity::kError, child_pointer, child_path,
          "property is not allowed (additionalProperties is false)" +
              DidYouMean(key, n.properties));
    } else if (options_.warn_undeclared && report_undeclared && !n.properties.empty()) {
      Add(out, Severity::kWarning, child_pointer, child_path,
          "property is not declared in the schema" + DidYouMean(key, n.properties));
    }
  }
  for (const std::string& name : n.required) {
    if (v.contains(name)) continue;
    if (auto it = n.properties.find(name); it != n.properties.end()) {
      ConfigScope scope = N(it->second).scope;
      if (options_.rule_level && scope == ConfigScope::kGlobal) continue;
      if (!options_.rule_level && scope == ConfigScope::kRule) continue;
    }
    Add(out, Severity::kError, AppendPointer(pointer, name), AppendPath(path, name),
        "required property is missing");
  }
  if (n.min_properties && v.size() < *n.min_properties) {
    Add(out, Severity::kError, pointer, path,
        fmt::format("object has {} properties, fewer than minProperties {}", v.size(),
                    *n.min_properties));
  }
  if (n.max_properties && v.size() > *n.max_properties) {
    Add(out, Severity::kError, pointer, path,
        fmt::format("object has {} properties, more than maxProperties {}", v.size(),
                    *n.max_properties));
  }
}

void Validator::ValidateArray(const Node& n, const nlohmann::json& v, const std::string& pointer,
                              const std::string& path, std::vector<Violation>* out) {
  if (n.items >= 0) {
    for (size_t i = 0; i < v.size(); ++i) {
      Validate(n.items, v[i], AppendPointer(pointer, i), AppendPath(path, i), true, out);
    }
  }
  if (n.min_items && v.size() < *n.min_items) {
    Add(out, Severity::kError, pointer, path,
        fmt::format("list has {} item(s), fewer than minItems {}", v.size(), *n.min_items));
  }
  if (n.max_items && v.size() > *n.max_items) {
    Add(out, Severity::kError, pointer, path,
        fmt::format("list has {} items, more than maxItems {}", v.size(), *n.max_items));
  }
  if (n.unique_items) {
    std::map<nlohmann::json, size_t> first;
    for (size_t i = 0; i < v.size(); ++i) {
      auto [it, inserted] = first.try_emplace(v[i], i);
      if (!inserted) {
        Add(out, Severity::kError, AppendPointer(pointer, i), AppendPath(path, i),
            fmt::format("duplicate of item [{}] (uniqueItems)", it->second));
      }
    }
  }
}

void Validator::ValidateString(const Node& n, const nlohmann::json& v, const std::string& pointer,
                               const std::string& path, std::vector<Violation>* out) {
  const std::string& s = v.get_ref<const std::string&>();
  if (n.min_length || n.max_length) {
    size_t length = CodePoints(s);
    if (n.min_length && length < *n.min_length) {
      Add(out, Severity::kError, pointer, path,
          fmt::format("string has {} character(s), fewer than minLength {}", length,
                      *n.min_length));
    }
    if (n.max_length && length > *n.max_length) {
      Add(out, Severity::kError, pointer, path,
          fmt::format("string has {} characters, more than maxLength {}", length, *n.max_length));
    }
  }
  if (n.pattern) {
    if (pattern_evaluations_ >= kMaxPatternEvaluations) {
      if (!pattern_budget_reported_) {
        pattern_budget_reported_ = true;
        Add(&undecided_, Severity::kError, pointer, path,
            fmt::format("undecided: more than {} pattern checks; this and later values could "
                        "not be checked against their pattern",
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
        Add(&undecided_, Severity::kError, pointer, path,
            fmt::format("undecided: could not check {} against the pattern `{}`: {}",
                        DescribeValue(v), n.pattern->pattern(), match.error().message()));
      } else if (!*match) {
        Add(out, Severity::kError, pointer, path,
            fmt::format("{} does not match the pattern `{}`", DescribeValue(v),
                        n.pattern->pattern()));
      }
    }
  }
  if (auto check = StringFormatCheck(n.format); check != nullptr && !check(s)) {
    Add(out, Severity::kError, pointer, path,
        fmt::format("{} is not a valid {} (format)", DescribeValue(v), n.format));
  }
}

void Validator::ValidateNumber(const Node& n, const nlohmann::json& v, const std::string& pointer,
                               const std::string& path, std::vector<Violation>* out) {
  double d = v.get<double>();
  std::string shown = DescribeValue(v);
  if (n.minimum) {
    if (n.exclusive_minimum ? !(d > *n.minimum) : !(d >= *n.minimum)) {
      Add(out, Severity::kError, pointer, path,
          fmt::format("{} is {} the minimum {}{}", shown,
                      n.exclusive_minimum ? "not greater than" : "less than",
                      FormatNumber(*n.minimum), n.exclusive_minimum ? " (exclusive)" : ""));
    }
  }
  if (n.maximum) {
    if (n.exclusive_maximum ? !(d < *n.maximum) : !(d <= *n.maximum)) {
      Add(out, Severity::kError, pointer, path,
          fmt::format("{} is {} the maximum {}{}", shown,
                      n.exclusive_maximum ? "not less than" : "greater than",
                      FormatNumber(*n.maximum), n.exclusive_maximum ? " (exclusive)" : ""));
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
    if ((v.is_number_integer() || v.is_number_unsigned()) && m == std::floor(m) && m < 9e15) {
      // Exact for integers.
      if (v.is_number_unsigned()) {
        ok = v.get<uint64_t>() % static_cast<uint64_t>(m) == 0;
      } else {
        ok = v.get<int64_t>() % static_cast<int64_t>(m) == 0;
      }
    } else {
      double q = d / m;
      ok = std::isfinite(q) && std::fabs(q - std::round(q)) <= 1e-9 * std::max(1.0, std::fabs(q));
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
      fits = v.get<uint64_t>() <= (is_32 ? 2147483647ULL : 9223372036854775807ULL);
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

std::string Validator::Closest(const std::vector<std::vector<Violation>>& results,
                               const std::string& path) const {
  size_t best = results.size();
  size_t best_errors = std::numeric_limits<size_t>::max();
  for (size_t i = 0; i < results.size(); ++i) {
    // Fewest errors wins; an alternative whose type does not even match comes last.
    size_t errors = 0;
    for (const Violation& v : results[i]) {
      if (v.severity != Severity::kError) continue;
      errors += v.path == path && v.message.starts_with("expected ") ? 1000 : 1;
    }
    if (errors < best_errors) {
      best = i;
      best_errors = errors;
    }
  }
  if (best == results.size()) return {};
  for (const Violation& v : results[best]) {
    if (v.severity != Severity::kError) continue;
    std::string where = v.path.size() > path.size() ? v.path.substr(path.size()) : "";
    if (!where.empty() && where.front() == '.') where.erase(0, 1);
    return fmt::format(" (closest is #{}: {}{}{})", best, where, where.empty() ? "" : ": ",
                       v.message);
  }
  return {};
}

void Validator::ValidateApplicators(const Node& n, const nlohmann::json& v,
                                    const std::string& pointer, const std::string& path,
                                    std::vector<Violation>* out) {
  for (int sub : n.all_of) Validate(sub, v, pointer, path, false, out);
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
          fmt::format("matches none of the {} anyOf alternatives{}", n.any_of.size(),
                      Closest(results, path)));
    }
  }
  if (!n.one_of.empty()) {
    std::vector<std::vector<Violation>> results;
    std::vector<size_t> matched;
    for (size_t i = 0; i < n.one_of.size(); ++i) {
      std::vector<Violation> r;
      Validate(n.one_of[i], v, pointer, path, false, &r);
      if (!HasErrorViolations(r)) matched.push_back(i);
      results.push_back(std::move(r));
    }
    if (matched.empty()) {
      Add(out, Severity::kError, pointer, path,
          fmt::format("matches none of the {} oneOf alternatives{}", n.one_of.size(),
                      Closest(results, path)));
    } else if (matched.size() > 1) {
      std::vector<std::string> which;
      for (size_t i : matched) which.push_back(fmt::format("#{}", i));
      Add(out, Severity::kError, pointer, path,
          fmt::format("matches {} of the oneOf alternatives ({}); exactly one must match",
                      matched.size(), fmt::join(which, ", ")));
    }
  }
  if (n.not_schema >= 0) {
    std::vector<Violation> r;
    Validate(n.not_schema, v, pointer, path, false, &r);
    if (!HasErrorViolations(r)) {
      Add(out, Severity::kError, pointer, path, "must not match the schema under `not`");
    }
  }
}

}  // namespace

std::vector<Violation> ValidateAt(const Schema::Data& data, int node, const nlohmann::json& value,
                                  const ValidateOptions& options) {
  Validator validator(data, options);
  return validator.Run(node, value);
}

}  // namespace schema_internal

std::vector<Violation> Schema::Validate(const nlohmann::json& config,
                                        const ValidateOptions& options) const {
  return schema_internal::ValidateAt(*data_, data_->root, config, options);
}

}  // namespace plugctl::spec
