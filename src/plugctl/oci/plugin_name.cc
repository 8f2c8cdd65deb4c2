#include "plugctl/oci/plugin_name.h"

#include <algorithm>

namespace plugctl::oci {

bool IsPluginPathSegment(std::string_view text) {
  if (text.empty() || text.size() > kMaxPluginPathSegment || text.front() == '.') return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '+';
  });
}

std::string PluginPathName(std::string_view repository, std::string_view listed_name) {
  if (IsPluginPathSegment(listed_name)) return std::string(listed_name);
  size_t slash = repository.rfind('/');
  std::string_view last =
      slash == std::string_view::npos ? repository : repository.substr(slash + 1);
  return IsPluginPathSegment(last) ? std::string(last) : std::string();
}

}  // namespace plugctl::oci
