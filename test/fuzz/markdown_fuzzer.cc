// RenderMarkdown (catalog/markdown.h) on arbitrary READMEs: never crashes, and whatever the
// input, the HTML holds no element that runs or loads anything and no script link target.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "plugctl/catalog/markdown.h"

namespace {

std::string Lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

// Every link target: http(s), mailto, or without a scheme (relative, "#fragment"). cmark writes
// links as `<a href="…"`; a bare `href="` may be the end of a URL that contains "href=".
bool HrefsAreSafe(const std::string& lower) {
  for (size_t at = lower.find("<a href=\""); at != std::string::npos;
       at = lower.find("<a href=\"", at + 1)) {
    size_t start = at + 9;
    size_t end = lower.find('"', start);
    std::string_view url(lower.data() + start,
                         (end == std::string::npos ? lower.size() : end) - start);
    size_t colon = url.find(':');
    if (colon == std::string_view::npos) continue;
    if (url.find_first_of("/?#") < colon) continue;
    if (!url.starts_with("http:") && !url.starts_with("https:") && !url.starts_with("mailto:")) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string lower = Lower(plugctl::catalog::RenderMarkdown(input));
  for (std::string_view tag : {"<script", "<img", "<iframe", "<svg", "<object", "<embed", "<style",
                               "<link", "<meta", "<form", "<base"}) {
    if (lower.find(tag) != std::string::npos) std::abort();
  }
  if (!HrefsAreSafe(lower)) std::abort();
  return 0;
}
