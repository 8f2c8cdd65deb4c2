// plugctl/http/headers.h — HTTP header fields, names compared case-insensitively
// (RFC 9110 §5.1), order and repeats preserved.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plugctl::http {

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

class Headers {
 public:
  void Add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  // Replaces every field with this name.
  void Set(std::string_view name, std::string value);
  void Remove(std::string_view name);
  // The first value with this name.
  std::optional<std::string> Get(std::string_view name) const;
  std::vector<std::string> GetAll(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }

  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace plugctl::http
