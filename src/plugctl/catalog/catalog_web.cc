#include "plugctl/catalog/catalog_web.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugctl/base/file.h"
#include "plugctl/catalog/catalog_assets.h"
#include "plugctl/catalog/catalog_render.h"
#include "plugctl/catalog/markdown.h"
#include "plugctl/server/api_parse.h"

namespace plugctl::catalog {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kCsp =
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// Longest search text taken from the query: enough for any plugin name or phrase.
constexpr size_t kMaxQueryBytes = 200;

// Headers every catalog response carries: the page must not be framed, sniffed or re-typed, and
// links out of a README must not tell the other site where the catalog lives.
void SecurityHeaders(server::Response& r) {
  r.Set("Content-Security-Policy", std::string(kCsp));
  r.Set("X-Content-Type-Options", "nosniff");
  r.Set("Referrer-Policy", "no-referrer");
}

server::Response Html(unsigned status, std::string body) {
  server::Response r;
  r.status = status;
  r.Set("Content-Type", "text/html; charset=utf-8");
  // The page depends on who asks (access) and in which language, and changes with every push.
  r.Set("Cache-Control", "no-cache");
  r.Set("Vary", "Accept-Language, Authorization");
  SecurityHeaders(r);
  r.body = std::move(body);
  return r;
}

server::Response Json(unsigned status, const nlohmann::json& value) {
  server::Response r;
  r.status = status;
  r.Set("Content-Type", "application/json");
  r.Set("Cache-Control", "no-cache");
  r.Set("Vary", "Authorization");
  SecurityHeaders(r);
  r.body = value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return r;
}

server::Response PlainNotFound() {
  server::Response r;
  r.status = 404;
  r.Set("Content-Type", "text/plain; charset=utf-8");
  SecurityHeaders(r);
  r.body = "not found\n";
  return r;
}

server::Response MethodNotAllowed() {
  server::Response r;
  r.status = 405;
  r.Set("Allow", "GET, HEAD");
  r.Set("Content-Type", "text/plain; charset=utf-8");
  SecurityHeaders(r);
  r.body = "method not allowed\n";
  return r;
}

// Splits "/a/b/c" (after a prefix) into segments; empty segments are kept so that "a//b" and
// "a/" never match a name.
std::vector<std::string_view> Segments(std::string_view rest) {
  std::vector<std::string_view> out;
  if (rest.empty()) return out;
  while (true) {
    size_t slash = rest.find('/');
    out.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return out;
}

// Whether an If-None-Match list names `etag` (or is "*"). W/ tags compare weakly, as RFC 9110
// §13.1.2 asks for GET.
bool IfNoneMatch(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
  }
  return false;
}

// The README in the page's language: Higress writes README.md in Chinese and README_EN.md in
// English; whichever exists otherwise.
std::string ChooseReadme(const std::vector<std::string>& readmes, Lang lang) {
  auto has = [&](std::string_view name) {
    return std::find(readmes.begin(), readmes.end(), name) != readmes.end();
  };
  std::string_view first = lang == Lang::kZh ? "README.md" : "README_EN.md";
  std::string_view second = lang == Lang::kZh ? "README_EN.md" : "README.md";
  if (has(first)) return std::string(first);
  if (has(second)) return std::string(second);
  return readmes.empty() ? std::string() : readmes.front();
}

}  // namespace

CatalogWeb::CatalogWeb(PluginCatalog& catalog, CatalogAccess& access, CatalogWebOptions options)
    : catalog_(catalog), access_(access), options_(std::move(options)) {}

bool CatalogWeb::IsSlow(const server::Exchange& /*exchange*/) { return catalog_.NeedsRefresh(); }

server::Response CatalogWeb::Handle(server::Exchange& exchange) {
  const server::RequestHead& head = exchange.head();
  std::string_view target(head.target().data(), head.target().size());
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  server::Query query = server::ParseQuery(
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1));

  bool is_asset = path.starts_with("/assets/");
  bool is_page = path == "/" || path.starts_with("/plugin/");
  bool is_api = path == "/api/plugins" || path.starts_with("/api/plugins/");
  if (!is_asset && !is_page && !is_api) return PlainNotFound();
  if (head.method() != http::verb::get && head.method() != http::verb::head) {
    return MethodNotAllowed();
  }

  if (is_asset) {
    // Assets are the same for everyone: no access check, cacheable, revalidated by ETag.
    const Asset* asset = FindAsset(path.substr(std::string_view("/assets/").size()));
    if (asset == nullptr) return PlainNotFound();
    server::Response r;
    r.Set("Content-Type", std::string(asset->content_type));
    r.Set("ETag", asset->etag);
    r.Set("Cache-Control", "public, max-age=300");
    SecurityHeaders(r);
    auto inm = head[http::field::if_none_match];
    if (IfNoneMatch(std::string_view(inm.data(), inm.size()), asset->etag)) {
      r.status = 304;
      return r;
    }
    r.body = std::string(asset->body);
    return r;
  }

  PageOptions page;
  std::string lang_value = server::QueryValue(query, "lang");
  auto accept_language = head[http::field::accept_language];
  page.lang =
      ChooseLang(lang_value, std::string_view(accept_language.data(), accept_language.size()));
  page.lang_explicit = lang_value == "en" || lang_value == "zh";
  page.self_path = std::string(path);
  page.query = server::QueryValue(query, "q").substr(0, kMaxQueryBytes);

  // Who asks, and which versions they may see: those whose repository they may pull.
  std::optional<CatalogAccess::Who> who = access_.Identify(exchange);
  if (!who) return access_.Challenge();
  std::shared_ptr<const CatalogSnapshot> snapshot = catalog_.Snapshot();
  std::vector<std::string> repositories;
  for (const auto& v : snapshot->versions) repositories.push_back(v->repository);
  std::sort(repositories.begin(), repositories.end());
  repositories.erase(std::unique(repositories.begin(), repositories.end()), repositories.end());
  std::vector<std::string> readable_list = access_.Readable(*who, repositories);
  std::set<std::string, std::less<>> readable(readable_list.begin(), readable_list.end());
  std::vector<const PluginVersion*> visible;
  for (const auto& v : snapshot->versions) {
    if (readable.count(v->repository) > 0) visible.push_back(v.get());
  }
  // A client without credentials may have an account: where it would otherwise see nothing (an
  // empty index, a plugin it may not see or that does not exist) it is asked for them. The
  // same answer for hidden and absent plugins tells nothing about which exist.
  bool challenge = access_.enabled() && !who->authenticated;
  auto not_found = [&](bool api) {
    if (challenge) return access_.Challenge();
    if (api) return Json(404, {{"error", "not found"}});
    return Html(404, RenderMessagePage("404", "No such plugin or version.", page));
  };
  auto finish = [&](server::Response r) {
    r.user = who->user;
    if (!is_api) r.Set("Content-Language", page.lang == Lang::kZh ? "zh-CN" : "en");
    return r;
  };

  std::vector<std::string_view> segments;
  if (path.starts_with("/plugin/")) segments = Segments(path.substr(8));
  if (path.starts_with("/api/plugins/")) segments = Segments(path.substr(13));

  if (path == "/" || path == "/api/plugins") {
    if (visible.empty() && challenge) return access_.Challenge();
    if (path == "/") return finish(Html(200, RenderIndexPage(visible, page)));
    return finish(Json(200, PluginsJson(visible)));
  }
  if (segments.empty() || segments.size() > 2) return not_found(is_api);

  // Names and versions are compared as they are: never decoded, never used as paths.
  std::vector<const PluginVersion*> versions;
  for (const PluginVersion* v : visible) {
    if (v->name == segments[0]) versions.push_back(v);
  }
  if (versions.empty()) return not_found(is_api);
  if (is_api && segments.size() == 1) return finish(Json(200, PluginJson(versions)));

  const PluginVersion* chosen = versions.back();  // newest
  if (segments.size() == 2) {
    auto it = std::find_if(versions.begin(), versions.end(),
                           [&](const PluginVersion* v) { return v->version == segments[1]; });
    if (it == versions.end()) return not_found(is_api);
    chosen = *it;
  }

  VersionPageInput input;
  input.version = chosen;
  input.versions = versions;
  std::string base_url = server::RequestBaseUrl(exchange, options_.public_url);
  input.oci_yaml = WasmPluginYaml(*chosen, base_url, /*http=*/false);
  input.http_yaml = WasmPluginYaml(*chosen, base_url, /*http=*/true);
  if (is_api) return finish(Json(200, VersionDetailJson(input)));

  input.readme_file = ChooseReadme(chosen->readmes, page.lang);
  // The file names come from the catalog, which lists only README*.md it found in the
  // directory; a separator or leading dot would still never be followed.
  if (!input.readme_file.empty() && input.readme_file.find('/') == std::string::npos &&
      !input.readme_file.starts_with('.')) {
    Result<std::string> text =
        ReadFileBounded(chosen->dir / input.readme_file, 4 * kMaxMarkdownBytes);
    if (text) {
      input.readme = std::move(*text);
    } else {
      // Not the error text: it names the server's directories.
      input.readme = "*" + input.readme_file + " could not be read.*";
    }
  }
  return finish(Html(200, RenderVersionPage(input, page)));
}

}  // namespace plugctl::catalog
