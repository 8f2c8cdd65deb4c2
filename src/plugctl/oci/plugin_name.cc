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

std::vector<std::string> SplitPluginNames(std::string_view value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string part(value.substr(start, comma - start));
    if (!part.empty() && std::find(out.begin(), out.end(), part) == out.end()) {
      out.push_back(std::move(part));
    }
    start = comma + 1;
  }
  if (out.empty()) out.emplace_back();
  return out;
}

std::string JoinPluginNames(const std::vector<std::string>& names) {
  std::string out;
  std::vector<std::string_view> seen;
  for (const std::string& name : names) {
    if (name.empty() || std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    seen.push_back(name);
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

}  // namespace plugctl::oci
