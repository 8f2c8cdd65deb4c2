#include "plugctl/catalog/markdown.h"

#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

namespace plugctl::catalog {
namespace {

// cmark-gfm registers its extensions in a process-wide list without a lock: once, before any
// parser reads it.
void EnsureExtensions() {
  static std::once_flag once;
  std::call_once(once, [] { cmark_gfm_core_extensions_ensure_registered(); });
}

// GitHub's set minus "tagfilter": raw HTML never reaches the output here, so it has nothing to
// filter.
constexpr const char* kExtensions[] = {"table", "strikethrough", "autolink", "tasklist"};

// Browsers drop ASCII tab and newline anywhere in a URL and leading C0 controls and spaces, so
// "java\tscript:" runs as javascript:. A scheme is looked for after removing every character a
// browser could skip; when there is one, the URL as written must start with an allowed scheme
// (no character before it or inside it), else the link goes.
bool IsSafeUrl(std::string_view url) {
  std::string scrubbed;
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) continue;
    scrubbed += static_cast<char>(u >= 'A' && u <= 'Z' ? u - 'A' + 'a' : u);
  }
  size_t end = scrubbed.find_first_of(":/?#");
  if (end == std::string::npos || scrubbed[end] != ':') return true;  // relative or "#fragment"
  std::string written(url.substr(0, 7));
  for (char& c : written) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return written.starts_with("http:") || written.starts_with("https:") ||
         written.starts_with("mailto:");
}

// Moves `from`'s children to just before `before`, keeping their order.
void MoveChildrenBefore(cmark_node* from, cmark_node* before) {
  while (cmark_node* child = cmark_node_first_child(from)) {
    cmark_node_unlink(child);
    cmark_node_insert_before(before, child);
  }
}

void ReplaceWith(cmark_node* old_node, cmark_node* new_node) {
  cmark_node_insert_before(old_node, new_node);
  cmark_node_free(old_node);  // unlinks too
}

// Raw HTML as visible text: a block becomes a code block (keeps its lines), an inline fragment
// a text node (the renderer escapes both).
void NeutralizeHtml(cmark_node* node) {
  const char* literal = cmark_node_get_literal(node);
  if (cmark_node_get_type(node) == CMARK_NODE_HTML_BLOCK) {
    cmark_node* code = cmark_node_new(CMARK_NODE_CODE_BLOCK);
    cmark_node_set_literal(code, literal ? literal : "");
    ReplaceWith(node, code);
  } else {
    cmark_node* text = cmark_node_new(CMARK_NODE_TEXT);
    cmark_node_set_literal(text, literal ? literal : "");
    ReplaceWith(node, text);
  }
}

// A path relative to the document ("x.md", "docs/x.md", "./x"): no scheme, not absolute, not
// a fragment. Only called on URLs IsSafeUrl accepted.
bool IsDocumentRelative(std::string_view url) {
  if (url.empty() || url[0] == '/' || url[0] == '#' || url[0] == '?' || url[0] == '\\') {
    return false;
  }
  size_t end = url.find_first_of(":/?#");
  return end == std::string_view::npos || url[end] != ':';
}

// `url` under `relative_base` when it is document-relative ("./" steps dropped), else as is.
std::string Rebased(std::string_view url, std::string_view relative_base) {
  if (relative_base.empty() || !IsDocumentRelative(url)) return std::string(url);
  while (url.starts_with("./")) url.remove_prefix(2);
  return std::string(relative_base) + std::string(url);
}

// A link keeps its text; an unsafe one loses its target; a relative one is rebased.
void CheckLink(cmark_node* node, std::string_view relative_base) {
  const char* url = cmark_node_get_url(node);
  if (url != nullptr && IsSafeUrl(url)) {
    cmark_node_set_url(node, Rebased(url, relative_base).c_str());
    return;
  }
  MoveChildrenBefore(node, node);
  cmark_node_free(node);
}

// An image becomes a link to its URL with the alt text (or the URL when there is none), so the
// page never loads anything a README names.
void ImageToLink(cmark_node* node, std::string_view relative_base) {
  const char* url = cmark_node_get_url(node);
  std::string target = url ? url : "";
  cmark_node* replacement;
  if (!target.empty() && IsSafeUrl(target)) {
    replacement = cmark_node_new(CMARK_NODE_LINK);
    cmark_node_set_url(replacement, Rebased(target, relative_base).c_str());
    const char* title = cmark_node_get_title(node);
    if (title != nullptr) cmark_node_set_title(replacement, title);
  } else {
    replacement = cmark_node_new(CMARK_NODE_EMPH);
  }
  if (cmark_node_first_child(node) == nullptr) {
    cmark_node* text = cmark_node_new(CMARK_NODE_TEXT);
    cmark_node_set_literal(text, target.empty() ? "image" : target.c_str());
    cmark_node_append_child(replacement, text);
  } else {
    while (cmark_node* child = cmark_node_first_child(node)) {
      cmark_node_unlink(child);
      cmark_node_append_child(replacement, child);
    }
  }
  ReplaceWith(node, replacement);
}

struct ParserDeleter {
  void operator()(cmark_parser* p) const { cmark_parser_free(p); }
};
struct NodeDeleter {
  void operator()(cmark_node* n) const { cmark_node_free(n); }
};

}  // namespace

std::string RenderMarkdown(std::string_view markdown, std::string_view relative_base) {
  EnsureExtensions();
  bool cut = markdown.size() > kMaxMarkdownBytes;
  if (cut) markdown = markdown.substr(0, kMaxMarkdownBytes);

  // CMARK_OPT_VALIDATE_UTF8: a cut through a character, or bytes that are not UTF-8, become
  // U+FFFD. No CMARK_OPT_UNSAFE: cmark's own filter stays on behind the walk below.
  const int options = CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8;
  std::unique_ptr<cmark_parser, ParserDeleter> parser(cmark_parser_new(options));
  for (const char* name : kExtensions) {
    if (cmark_syntax_extension* ext = cmark_find_syntax_extension(name)) {
      cmark_parser_attach_syntax_extension(parser.get(), ext);
    }
  }
  cmark_parser_feed(parser.get(), markdown.data(), markdown.size());
  std::unique_ptr<cmark_node, NodeDeleter> doc(cmark_parser_finish(parser.get()));
  if (!doc) return "";

  // Pre-order, then handled last to first: every node is changed after its descendants, and
  // changing one never frees a node still to be visited.
  std::vector<cmark_node*> nodes;
  cmark_iter* iter = cmark_iter_new(doc.get());
  for (cmark_event_type ev; (ev = cmark_iter_next(iter)) != CMARK_EVENT_DONE;) {
    if (ev == CMARK_EVENT_ENTER) nodes.push_back(cmark_iter_get_node(iter));
  }
  cmark_iter_free(iter);
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    cmark_node* node = *it;
    switch (cmark_node_get_type(node)) {
      case CMARK_NODE_HTML_BLOCK:
      case CMARK_NODE_HTML_INLINE:
        NeutralizeHtml(node);
        break;
      case CMARK_NODE_LINK:
        CheckLink(node, relative_base);
        break;
      case CMARK_NODE_IMAGE:
        ImageToLink(node, relative_base);
        break;
      default:
        break;
    }
  }

  char* html =
      cmark_render_html(doc.get(), options, cmark_parser_get_syntax_extensions(parser.get()));
  std::string out = html ? html : "";
  std::free(html);
  if (cut) out += "<p class=\"note\">(cut at 1 MiB)</p>\n";
  return out;
}

}  // namespace plugctl::catalog
