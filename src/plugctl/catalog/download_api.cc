#include "plugctl/catalog/download_api.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "plugctl/catalog/catalog_render.h"
#include "plugctl/server/api_parse.h"

namespace plugctl::catalog {
namespace {

namespace http = boost::beast::http;
using server::Response;

std::string_view Field(const server::Exchange& exchange, http::field field) {
  auto value = exchange.head()[field];
  return {value.data(), value.size()};
}

std::string HttpDate(int64_t seconds) {
  // Every download of a version carries the same date: format it once per thread.
  thread_local int64_t cached_seconds = -1;
  thread_local std::string cached;
  if (seconds != cached_seconds) {
    cached = server::FormatHttpDate(seconds);
    cached_seconds = seconds;
  }
  return cached;
}

Response Text(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.Set("Content-Type", "text/plain; charset=utf-8");
  r.Set("X-Content-Type-Options", "nosniff");
  r.body = std::move(body);
  return r;
}

// Prefers JSON when Accept lists application/json before (or instead of) text/html.
bool WantsJson(std::string_view accept, std::string_view query) {
  if (query.find("format=json") != std::string_view::npos) return true;
  size_t json = accept.find("application/json");
  if (json == std::string_view::npos) return false;
  size_t html = accept.find("text/html");
  return html == std::string_view::npos || json < html;
}

struct FileToSend {
  std::string content_type;
  std::string etag;
  int64_t modified = 0;
  // Bytes made here; else the file of that name in the version's directory.
  std::optional<std::string> bytes;
};

}  // namespace

DownloadApi::DownloadApi(PluginCatalog& catalog, CatalogAccess& access)
    : catalog_(catalog), access_(access) {}

bool DownloadApi::IsSlow(const server::Exchange& /*exchange*/) { return catalog_.NeedsRefresh(); }

server::Response DownloadApi::Handle(server::Exchange& exchange) {
  const auto& head = exchange.head();
  std::string_view target(head.target().data(), head.target().size());
  size_t qmark = target.find('?');
  std::string_view path = target.substr(0, qmark);
  std::string_view query =
      qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);
  if (path != "/plugins" && !path.starts_with("/plugins/")) return Text(404, "not found\n");
  if (head.method() != http::verb::get && head.method() != http::verb::head) {
    Response r = Text(405, "only GET and HEAD\n");
    r.Set("Allow", "GET, HEAD");
    return r;
  }
  // "/plugins/a/b/c" → ["a", "b", "c"]; a trailing slash gives a last empty segment.
  std::optional<server::PluginPath> plugin_path = server::ParsePluginPath(path);
  if (!plugin_path) return Text(404, "not found\n");
  std::vector<std::string_view> parts(plugin_path->part, plugin_path->part + plugin_path->count);

  std::optional<CatalogAccess::Who> who;
  if (access_.enabled()) {
    who = access_.Identify(exchange);
    if (!who) return access_.Challenge();
  }
  const bool sent_credentials = !Field(exchange, http::field::authorization).empty();
  std::shared_ptr<const CatalogSnapshot> snapshot = catalog_.Snapshot();

  // What this client may see: versions whose repository it may pull (asked once per
  // repository; without users everyone may pull everything).
  std::map<std::string, bool, std::less<>> may_read;
  auto readable = [&](const PluginVersion& v) {
    if (!access_.enabled()) return true;
    auto it = may_read.find(v.repository);
    if (it == may_read.end()) {
      it = may_read.emplace(v.repository, access_.MayRead(exchange, v.repository)).first;
    }
    return it->second;
  };
  auto hidden = [&]() {
    // Nothing visible to an anonymous client of a registry with users: ask who it is.
    if (access_.enabled() && !sent_credentials) return access_.Challenge();
    return Text(404, "not found\n");
  };

  const bool json = WantsJson(Field(exchange, http::field::accept), query);
  auto listing = [&](std::string title,
                     const std::vector<std::pair<std::string, std::string>>& rows /* href, label */,
                     nlohmann::json body) {
    Response r;
    r.Set("Cache-Control", "no-cache");
    r.Set("X-Content-Type-Options", "nosniff");
    if (json) {
      r.Set("Content-Type", "application/json");
      r.body = body.dump(2) + "\n";
      return r;
    }
    r.Set("Content-Type", "text/html; charset=utf-8");
    r.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    std::string html = fmt::format(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
        "content=\"width=device-width, initial-scale=1\"><title>Index of {0}</title>"
        "<style>body{{font-family:sans-serif;margin:1em}}li{{margin:.2em 0}}</style></head>"
        "<body><h1>Index of {0}</h1><ul>\n",
        HtmlEscape(title));
    if (title != "/plugins/") html += "<li><a href=\"../\">../</a></li>\n";
    for (const auto& [href, label] : rows) {
      html += fmt::format("<li><a href=\"{}\">{}</a></li>\n", HtmlEscape(href), HtmlEscape(label));
    }
    html += "</ul><p><a href=\"/\">catalog</a></p></body></html>\n";
    r.body = std::move(html);
    return r;
  };

  // /plugins/ : the names.
  if (parts.size() == 1 && parts[0].empty()) {
    std::vector<std::pair<std::string, std::string>> rows;
    nlohmann::json names = nlohmann::json::array();
    std::string previous;
    for (const auto& v : snapshot->versions) {
      if (!v->usable || !readable(*v) || v->name == previous) continue;
      previous = v->name;
      rows.emplace_back(v->name + "/", v->name + "/");
      names.push_back(v->name);
    }
    if (rows.empty() && access_.enabled() && !sent_credentials) return access_.Challenge();
    return listing("/plugins/", rows, {{"plugins", names}});
  }

  const std::string name(parts[0]);
  // /plugins/<name>/ : the versions (newest last).
  if (parts.size() == 1 || (parts.size() == 2 && parts[1].empty())) {
    std::vector<const PluginVersion*> versions;
    for (const PluginVersion* v : snapshot->VersionsOf(name)) {
      if (v->usable && readable(*v)) versions.push_back(v);
    }
    if (versions.empty()) return hidden();
    std::vector<std::pair<std::string, std::string>> rows;
    nlohmann::json list = nlohmann::json::array();
    // Relative links must resolve below the name even when the slash was left out.
    std::string base = parts.size() == 1 ? name + "/" : "";
    for (const PluginVersion* v : versions) {
      rows.emplace_back(base + v->version + "/", v->version + "/");
      list.push_back({{"version", v->version},
                      {"url", fmt::format("/plugins/{}/{}/plugin.wasm", name, v->version)},
                      {"sha256", v->wasm_sha256.hex()},
                      {"size", v->wasm_size}});
    }
    return listing("/plugins/" + name + "/", rows, {{"name", name}, {"versions", list}});
  }

  const PluginVersion* found = snapshot->Find(name, parts[1]);
  if (found == nullptr || !found->usable || !readable(*found)) return hidden();
  const PluginVersion& v = *found;

  // The files this version has, by their names in URLs.
  auto files = [&v] {
    std::vector<std::string> out = {"plugin.wasm", "metadata.txt"};
    if (v.has_spec) out.push_back("spec.yaml");
    for (const std::string& readme : v.readmes) out.push_back(readme);
    if (v.has_icon) out.push_back("icon.png");
    return out;
  };

  // /plugins/<name>/<version>/ : the files.
  if (parts.size() == 2 || parts[2].empty()) {
    std::vector<std::pair<std::string, std::string>> rows;
    std::string base = parts.size() == 2 ? v.version + "/" : "";
    std::vector<std::string> names = files();
    for (const std::string& f : names) rows.emplace_back(base + f, f);
    return listing(fmt::format("/plugins/{}/{}/", name, v.version), rows,
                   {{"name", name},
                    {"version", v.version},
                    {"repository", v.repository},
                    {"digest", v.root.digest.ToString()},
                    {"sha256", v.wasm_sha256.hex()},
                    {"size", v.wasm_size},
                    {"files", names}});
  }

  const std::string_view file = parts[2];
  FileToSend send;
  send.modified = v.modified;
  if (file == "plugin.wasm") {
    send.content_type = "application/wasm";
    send.etag = v.wasm_etag;
  } else {
    std::vector<std::string> names = files();
    if (std::find(names.begin(), names.end(), file) == names.end()) {
      return Text(404, "not found\n");
    }
    if (file == "metadata.txt") {
      send.content_type = "text/plain; charset=utf-8";
      send.bytes = v.MetadataTxt();
      // The text depends on the name it is served under, and on nothing else but the image.
      send.etag = fmt::format("\"{}-{}\"", v.root.digest.hex(),
                              oci::Digest::Of(*send.bytes).hex().substr(0, 16));
    } else {
      send.content_type = file == "icon.png"    ? "image/png"
                          : file == "spec.yaml" ? "application/yaml; charset=utf-8"
                                                : "text/markdown; charset=utf-8";
      // Content addressed by the image: the same image always has the same file.
      send.etag = fmt::format("\"{}-{}\"", v.root.digest.hex(), file);
    }
  }

  Response r;
  r.Set("Content-Type", send.content_type);
  r.Set("ETag", send.etag);
  r.Set("Last-Modified", HttpDate(send.modified));
  r.Set("Cache-Control", "no-cache");
  r.Set("Accept-Ranges", "bytes");
  r.Set("X-Content-Type-Options", "nosniff");
  if (file != "plugin.wasm" && file != "icon.png") {
    // A README opened directly is shown as text, never as a page of the server's origin.
    r.Set("Content-Security-Policy", "default-src 'none'; sandbox");
  }

  std::string_view none_match = Field(exchange, http::field::if_none_match);
  std::string_view modified_since = Field(exchange, http::field::if_modified_since);
  bool not_modified = false;
  if (!none_match.empty()) {
    not_modified = server::IfNoneMatchHits(none_match, send.etag);
  } else if (!modified_since.empty()) {
    auto since = server::ParseHttpDate(modified_since);
    not_modified = since && send.modified <= *since;
  }
  if (not_modified) {
    r.status = 304;
    return r;
  }

  uint64_t size = 0;
  int fd = -1;
  if (send.bytes) {
    size = send.bytes->size();
  } else {
    const std::string file_path = v.dir.string() + "/" + std::string(file);
    fd = ::open(file_path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
      if (fd >= 0) ::close(fd);
      // The cache was removed under us (gc --prune of the cache directory): a server error, not
      // a missing plugin.
      return Text(500, fmt::format("cannot read {}/{}/{}\n", name, v.version, file));
    }
    size = static_cast<uint64_t>(st.st_size);
  }
  uint64_t offset = 0;
  uint64_t length = size;
  std::string_view range_header = Field(exchange, http::field::range);
  std::string_view if_range = Field(exchange, http::field::if_range);
  if (!range_header.empty() && (if_range.empty() || if_range == send.etag)) {
    if (auto range = server::ParseRange(range_header, size)) {
      if (range->unsatisfiable) {
        if (fd >= 0) ::close(fd);
        Response bad = Text(416, "requested range not satisfiable\n");
        bad.Set("Content-Range", fmt::format("bytes */{}", size));
        return bad;
      }
      offset = range->offset;
      length = range->length;
      r.status = 206;
      r.Set("Content-Range", fmt::format("bytes {}-{}/{}", offset, offset + length - 1, size));
    }
  }
  if (send.bytes) {
    r.body = send.bytes->substr(offset, length);
  } else {
    r.file = Response::File{fd, offset, length};
  }
  return r;
}

}  // namespace plugctl::catalog
