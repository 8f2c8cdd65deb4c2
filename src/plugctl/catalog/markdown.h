// plugctl/catalog/markdown.h — plugin READMEs (untrusted: anyone can publish an image) as HTML
// that is safe to put in the catalog page.
//
// GitHub-flavoured Markdown through cmark-gfm (tables, strikethrough, autolinks, task lists).
// Nothing in the input can run script or load anything:
//   - raw HTML is shown as text (escaped), never passed through: a block as a code block, inline
//     HTML as text in place;
//   - link targets other than http:, https:, mailto:, "#fragment" and relative paths are
//     dropped (javascript:, vbscript:, data:, file:, any other scheme, in any case and with
//     embedded whitespace or control characters; entities are decoded by cmark before the
//     check): the text stays, the link goes. Whatever a browser would read as a scheme after
//     skipping whitespace and controls must be spelled exactly http:/https:/mailto: at the start;
//   - images are never loaded (the page runs in an air gap and a README's image URL is the
//     author's to choose): an image becomes a link to its URL (same rules) with its alt text;
//   - every attribute value is escaped; headings get no ids from the input.
// Input larger than kMaxMarkdownBytes is cut there (with a note in the output); nesting deeper
// than cmark's own limits is flattened by cmark.
//
// Fuzzed by test/fuzz/markdown_fuzzer.cc.
//
// Thread-safe (cmark-gfm's extension registry is filled once, before the first parse).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace plugctl::catalog {

inline constexpr size_t kMaxMarkdownBytes = 1 << 20;

// `relative_base` ("/plugins/NAME/VERSION/") is put before every relative link target (not
// "/…", "//…", "#…" or a scheme), so a README's "README_EN.md" or "docs/x.md" reaches the file
// beside it on the server instead of a path under the page's own URL. Empty: left as written.
std::string RenderMarkdown(std::string_view markdown, std::string_view relative_base = {});

}  // namespace plugctl::catalog
