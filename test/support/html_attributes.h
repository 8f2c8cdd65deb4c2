// support/html_attributes.h — the attributes of an HTML text as a browser's tokenizer sees them,
// for tests that check untrusted strings stayed text (never became an attribute).
#pragma once

#include <cctype>
#include <string>
#include <utility>
#include <vector>

namespace plugctl::test_support {

// The attributes (name lowercased, value) of every tag in `html`, read the way a browser
// tokenizes: an attribute an image string managed to open shows up here, while text that merely
// looks like markup (serialized as "&lt;a href=…") does not.
inline std::vector<std::pair<std::string, std::string>> HtmlAttributes(const std::string& html) {
  std::vector<std::pair<std::string, std::string>> names;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; };
  size_t i = 0;
  while ((i = html.find('<', i)) != std::string::npos) {
    ++i;
    if (i >= html.size() || !std::isalpha(static_cast<unsigned char>(html[i]))) continue;
    while (i < html.size() && !space(html[i]) && html[i] != '>' && html[i] != '/') ++i;
    while (i < html.size() && html[i] != '>') {
      if (space(html[i]) || html[i] == '/') {
        ++i;
        continue;
      }
      std::string name;
      while (i < html.size() && !space(html[i]) && html[i] != '=' && html[i] != '>' &&
             html[i] != '/') {
        name += static_cast<char>(std::tolower(static_cast<unsigned char>(html[i++])));
      }
      std::string value;
      while (i < html.size() && space(html[i])) ++i;
      if (i < html.size() && html[i] == '=') {
        ++i;
        while (i < html.size() && space(html[i])) ++i;
        size_t start = i;
        if (i < html.size() && (html[i] == '"' || html[i] == '\'')) {
          size_t end = html.find(html[i], i + 1);
          i = end == std::string::npos ? html.size() : end + 1;
          value = html.substr(start + 1, i - start - 2);
        } else {
          while (i < html.size() && !space(html[i]) && html[i] != '>') ++i;
          value = html.substr(start, i - start);
        }
      }
      names.emplace_back(std::move(name), std::move(value));
    }
  }
  return names;
}

}  // namespace plugctl::test_support
