#include "plugctl/catalog/markdown.h"

namespace plugctl::catalog {

// Placeholder until the cmark-gfm renderer lands: escaped text in <pre>.
std::string RenderMarkdown(std::string_view markdown) {
  std::string out = "<pre>";
  for (char c : markdown.substr(0, kMaxMarkdownBytes)) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  out += "</pre>";
  return out;
}

}  // namespace plugctl::catalog
