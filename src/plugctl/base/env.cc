#include "plugctl/base/env.h"

namespace plugctl {

Environment Environment::Capture(const std::function<const char*(const char*)>& lookup) {
  Environment env;
  for (std::string_view name : kVariables) {
    std::string key(name);
    const char* value = lookup(key.c_str());
    if (value != nullptr && *value != '\0') env.variables_[key] = value;
  }
  return env;
}

std::string Environment::Get(std::string_view name) const {
  auto it = variables_.find(name);
  return it == variables_.end() ? std::string() : it->second;
}

std::string Environment::GetFirst(std::initializer_list<std::string_view> names) const {
  for (std::string_view name : names) {
    if (std::string value = Get(name); !value.empty()) return value;
  }
  return {};
}

}  // namespace plugctl
