#include "plugctl/spec/schema.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "plugctl/spec/schema_internal.h"

namespace plugctl::spec {

namespace schema_internal {

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

// Levenshtein distance, for "did you mean" hints on short names.
size_t EditDistance(std::string_view a, std::string_view b) {
  if (a.size() > 64 || b.size() > 64) return std::max(a.size(), b.size());
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string DidYouMean(std::string_view name, const std::map<std::string, int>& candidates) {
  std::string best;
  size_t best_distance = 3;  // at most 2 edits
  for (const auto& [candidate, index] : candidates) {
    size_t d = EditDistance(name, candidate);
    if (d < best_distance && d < std::max<size_t>(candidate.size(), 2)) {
      best_distance = d;
      best = candidate;
    }
  }
  return best.empty() ? std::string() : fmt::format(" (did you mean `{}`?)", best);
}

std::string FormatNumber(double d) {
  if (d == std::floor(d) && std::fabs(d) < 1e15) return fmt::format("{}", static_cast<int64_t>(d));
  return fmt::format("{}", d);
}

bool HasErrorViolations(const std::vector<Violation>& violations) {
  return std::any_of(violations.begin(), violations.end(),
                     [](const Violation& v) { return v.severity == Severity::kError; });
}

}  // namespace schema_internal

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
  data->nodes.push_back(schema_internal::Node{});
  data->document = nlohmann::json::object();
  data_ = std::move(data);
}

const nlohmann::json& Schema::document() const { return data_->document; }

std::vector<std::pair<std::string, ConfigScope>> Schema::TopLevelProperties() const {
  int index = data_->root;
  // Follow $ref chains (cycles were broken at compile time).
  for (size_t hops = 0;
       data_->nodes[static_cast<size_t>(index)].ref >= 0 && hops < data_->nodes.size(); ++hops) {
    index = data_->nodes[static_cast<size_t>(index)].ref;
  }
  std::vector<std::pair<std::string, ConfigScope>> out;
  for (const auto& [name, child] : data_->nodes[static_cast<size_t>(index)].properties) {
    out.emplace_back(name, data_->nodes[static_cast<size_t>(child)].scope);
  }
  return out;
}

std::vector<Finding> ViolationsToFindings(const std::vector<Violation>& violations,
                                          std::string_view file, std::string_view path,
                                          std::string_view pointer, const LineMap* lines,
                                          Severity error_severity) {
  std::vector<Finding> out;
  out.reserve(violations.size());
  for (const Violation& v : violations) {
    std::string full_pointer = std::string(pointer) + v.pointer;
    out.push_back(Finding{
        .severity = v.severity == Severity::kError ? error_severity : v.severity,
        .file = std::string(file),
        .path = JoinPath(path, v.path),
        .line = lines != nullptr ? lines->Find(full_pointer) : 0,
        .message = v.message,
    });
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Finding& a, const Finding& b) { return a.line < b.line; });
  return out;
}

}  // namespace plugctl::spec
