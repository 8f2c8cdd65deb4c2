#include "plugctl/server/registry_api.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"

namespace plugctl::server {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kApiVersionHeader = "Docker-Distribution-API-Version";
constexpr std::string_view kJson = "application/json";

using Query = std::multimap<std::string, std::string, std::less<>>;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Query values as Go's url.ParseQuery reads them ('+' is a space, %XX decoded).
std::string Unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Query ParseQuery(std::string_view query) {
  Query out;
  size_t count = 0;
  while (!query.empty() && count++ < 64) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    out.emplace(Unescape(pair.substr(0, eq)),
                eq == std::string_view::npos ? std::string() : Unescape(pair.substr(eq + 1)));
  }
  return out;
}

std::string QueryValue(const Query& query, std::string_view key) {
  auto it = query.find(key);
  return it == query.end() ? std::string() : it->second;
}

// Percent-encodes a query value (names, digests and tags are mostly safe already).
std::string Escape(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' ||
        c == ':') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Response ErrorResponse(const ApiError& error) {
  Response r;
  r.status = static_cast<unsigned>(HttpStatusOf(error));
  r.Set("Content-Type", std::string(kJson));
  r.body = ErrorBody(error);
  return r;
}

Response JsonResponse(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.Set("Content-Type", std::string(kJson));
  r.body = std::move(body);
  return r;
}

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t value = 0;
  if (text.empty() || text.size() > 19) return std::nullopt;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// "0-1023" or "bytes 0-1023/…" → the inclusive range.
std::optional<ChunkRange> ParseContentRange(std::string_view text) {
  if (text.starts_with("bytes ")) text.remove_prefix(6);
  if (size_t slash = text.find('/'); slash != std::string_view::npos) text = text.substr(0, slash);
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto start = ParseUint(text.substr(0, dash));
  auto end = ParseUint(text.substr(dash + 1));
  if (!start || !end || *end < *start) return std::nullopt;
  return ChunkRange{*start, *end};
}

// A single "bytes=a-b" / "bytes=a-" / "bytes=-n" range for a blob of `size` bytes. nullopt
// for anything else (multiple ranges): the whole blob is sent. `unsatisfiable` for a range
// that starts past the end.
struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool unsatisfiable = false;
};
std::optional<ByteRange> ParseRange(std::string_view text, uint64_t size) {
  if (!text.starts_with("bytes=")) return std::nullopt;
  text.remove_prefix(6);
  if (text.find(',') != std::string_view::npos) return std::nullopt;
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::string_view first = text.substr(0, dash);
  std::string_view last = text.substr(dash + 1);
  if (first.empty()) {
    auto suffix = ParseUint(last);
    if (!suffix) return std::nullopt;
    if (*suffix == 0) return ByteRange{.unsatisfiable = true};
    uint64_t n = std::min(*suffix, size);
    return ByteRange{size - n, n};
  }
  auto start = ParseUint(first);
  if (!start) return std::nullopt;
  if (*start >= size) return ByteRange{.unsatisfiable = true};
  uint64_t end = size - 1;
  if (!last.empty()) {
    auto e = ParseUint(last);
    if (!e || *e < *start) return std::nullopt;
    end = std::min(*e, size - 1);
  }
  return ByteRange{*start, end - *start + 1};
}

// The parts of a /v2/ path.
enum class Route {
  kBase,
  kCatalog,
  kTags,
  kManifest,
  kBlob,
  kUploadStart,
  kUpload,
  kReferrers,
  kUnknown,
};

struct Target {
  Route route = Route::kUnknown;
  std::string name;
  std::string ref;  // tag/digest, digest, or upload id
};

Target ParseTarget(std::string_view path) {
  // path starts with "/v2/".
  std::string_view rest = path.substr(4);
  if (rest.empty()) return {Route::kBase};
  if (rest == "_catalog") return {Route::kCatalog};
  auto name_before = [&rest](std::string_view suffix_start) {
    return std::string(rest.substr(0, rest.size() - suffix_start.size()));
  };
  if (rest.ends_with("/tags/list")) {
    return {Route::kTags, name_before("/tags/list")};
  }
  if (rest.ends_with("/blobs/uploads/") || rest.ends_with("/blobs/uploads")) {
    std::string_view suffix = rest.ends_with('/') ? "/blobs/uploads/" : "/blobs/uploads";
    return {Route::kUploadStart, name_before(suffix)};
  }
  size_t last_slash = rest.rfind('/');
  if (last_slash == std::string_view::npos || last_slash == 0) return {};
  std::string_view last = rest.substr(last_slash + 1);
  std::string_view before = rest.substr(0, last_slash);
  auto ends = [&before](std::string_view word) -> std::optional<std::string> {
    if (before.size() > word.size() + 1 && before.ends_with(word) &&
        before[before.size() - word.size() - 1] == '/') {
      return std::string(before.substr(0, before.size() - word.size() - 1));
    }
    return std::nullopt;
  };
  if (auto name = ends("blobs/uploads")) return {Route::kUpload, *name, std::string(last)};
  if (auto name = ends("manifests")) return {Route::kManifest, *name, std::string(last)};
  if (auto name = ends("blobs")) return {Route::kBlob, *name, std::string(last)};
  if (auto name = ends("referrers")) return {Route::kReferrers, *name, std::string(last)};
  return {};
}

// Paginates sorted `items` by the spec's n/last: entries after `last`, at most n. Sets `more`
// when entries remain after the page.
std::vector<std::string> Page(const std::vector<std::string>& items, const Query& query,
                              bool& more, std::string& n_text) {
  std::string last = QueryValue(query, "last");
  n_text = QueryValue(query, "n");
  auto begin = last.empty() ? items.begin() : std::upper_bound(items.begin(), items.end(), last);
  std::optional<uint64_t> n = ParseUint(n_text);
  if (!n) n_text.clear();
  auto end = items.end();
  if (n && static_cast<uint64_t>(end - begin) > *n) end = begin + static_cast<ptrdiff_t>(*n);
  more = n && end != items.end() && *n > 0;
  return std::vector<std::string>(begin, end);
}

// Only plausible host names go into a realm URL: the Host header is the client's to choose.
bool PlausibleHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' ||
           c == ':' || c == '[' || c == ']';
  });
}

class UploadSlot {
 public:
  UploadSlot(std::atomic<int>& counter, Metrics& metrics, int max)
      : counter_(counter), metrics_(metrics) {
    acquired_ = counter_.fetch_add(1) < max;
    if (acquired_) {
      metrics_.UploadStarted();
    } else {
      counter_.fetch_sub(1);
    }
  }
  ~UploadSlot() {
    if (acquired_) {
      counter_.fetch_sub(1);
      metrics_.UploadEnded();
    }
  }
  bool acquired() const { return acquired_; }

 private:
  std::atomic<int>& counter_;
  Metrics& metrics_;
  bool acquired_ = false;
};

}  // namespace

RegistryApi::RegistryApi(RegistryStore& store, Authorizer& auth, Metrics& metrics,
                         RegistryApiOptions options)
    : store_(store), auth_(auth), metrics_(metrics), options_(std::move(options)) {}

Response RegistryApi::Handle(Exchange& exchange) {
  const RequestHead& head = exchange.head();
  std::string_view target(head.target().data(), head.target().size());
  size_t qmark = target.find('?');
  std::string_view path = target.substr(0, qmark);
  Query query = qmark == std::string_view::npos ? Query() : ParseQuery(target.substr(qmark + 1));
  http::verb method = head.method();
  bool is_get = method == http::verb::get || method == http::verb::head;

  if (path == "/healthz") {
    Response r;
    r.Set("Content-Type", "text/plain; charset=utf-8");
    r.body = "ok\n";
    return r;
  }
  if (path == "/metrics") {
    Response r;
    r.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    r.body = metrics_.Render(store_.Stats());
    return r;
  }
  std::string authorization(head[http::field::authorization]);

  std::string realm = options_.public_url;
  if (realm.empty()) {
    std::string_view host(head[http::field::host].data(), head[http::field::host].size());
    realm = fmt::format("{}://{}", exchange.secure() ? "https" : "http",
                        PlausibleHost(host) ? host : std::string_view("localhost"));
  }
  realm += "/token";

  if (path == "/token") {
    if (method != http::verb::get) {
      return ErrorResponse({ApiCode::kUnsupported, "the token endpoint answers GET", 405});
    }
    std::vector<std::string> scopes;
    auto [lo, hi] = query.equal_range("scope");
    for (auto it = lo; it != hi; ++it) scopes.push_back(it->second);
    auto token = auth_.IssueToken(authorization, scopes);
    if (!token) {
      Response r = ErrorResponse(token.error());
      r.Set("WWW-Authenticate", "Basic realm=\"plugctl\"");
      return r;
    }
    Response r = JsonResponse(200, *token);
    r.Set("Cache-Control", "no-store");
    return r;
  }

  if (path != "/v2" && !path.starts_with("/v2/")) {
    return ErrorResponse({ApiCode::kUnsupported, "not found", 404});
  }
  Target t = path == "/v2" ? Target{Route::kBase} : ParseTarget(path);
  auto with_version = [](Response r) {
    r.Set(std::string(kApiVersionHeader), "registry/2.0");
    return r;
  };
  if (t.route == Route::kUnknown) {
    return with_version(ErrorResponse({ApiCode::kUnsupported, "unknown API path", 404}));
  }
  if (!t.name.empty() || (t.route != Route::kBase && t.route != Route::kCatalog)) {
    if (auto valid = ValidateRepositoryName(t.name); !valid) {
      return with_version(ErrorResponse(valid.error()));
    }
  }

  // What the request needs.
  unsigned wanted = kActionNone;
  switch (method) {
    case http::verb::get:
    case http::verb::head: wanted = kActionPull; break;
    case http::verb::delete_:
      wanted = t.route == Route::kUpload ? kActionPush : kActionDelete;
      break;
    default: wanted = kActionPush; break;
  }
  if (t.route == Route::kBase || t.route == Route::kCatalog) wanted = kActionNone;

  auto who = auth_.Check(authorization, t.name, wanted);
  auto challenge = [&](std::string message, std::optional<Scope> scope) {
    Response r = ErrorResponse({ApiCode::kUnauthorized, std::move(message)});
    r.Set("WWW-Authenticate", auth_.Challenge(realm, scope));
    return with_version(std::move(r));
  };
  std::optional<Scope> scope;
  if (!t.name.empty()) scope = Scope{t.name, wanted};
  if (!who) return challenge(who.error().message, scope);
  if (auth_.enabled() && authorization.empty() &&
      (t.route == Route::kBase || t.route == Route::kCatalog)) {
    // Clients ping /v2/ to learn how to authenticate; `docker login` needs the challenge.
    return challenge("authentication required", std::nullopt);
  }
  if ((who->granted & wanted) != wanted) {
    // A token lacking this scope sends the client back for another one (docker's
    // insufficient_scope); only a user who authenticated directly is denied outright.
    bool bearer = authorization.size() > 7 &&
                  boost::beast::iequals(authorization.substr(0, 7), "bearer ");
    if (who->user.empty() || bearer) return challenge("authentication required", scope);
    Response r = with_version(ErrorResponse(
        {ApiCode::kDenied, fmt::format("{} may not do this on {}", who->user, t.name)}));
    r.user = who->user;
    return r;
  }
  bool write = !is_get;
  if (write && options_.read_only) {
    Response r = with_version(ErrorResponse({ApiCode::kUnsupported, "this registry is read-only"}));
    r.user = who->user;
    return r;
  }

  Response r;
  auto fail = [&](const ApiError& error) { r = ErrorResponse(error); };
  auto body_limit = [&]() -> uint64_t {
    return options_.max_blob_bytes == 0 ? UINT64_MAX : options_.max_blob_bytes;
  };
  std::string blob_location_prefix = fmt::format("/v2/{}/blobs/", t.name);
  auto upload_location = [&](const std::string& id) {
    return fmt::format("/v2/{}/blobs/uploads/{}", t.name, id);
  };
  auto upload_state_response = [&](unsigned status, const UploadState& state) {
    Response out;
    out.status = status;
    out.Set("Location", upload_location(state.id));
    out.Set("Range", fmt::format("0-{}", state.offset == 0 ? 0 : state.offset - 1));
    out.Set("Docker-Upload-UUID", state.id);
    return out;
  };
  auto blob_created = [&](const oci::Descriptor& desc) {
    Response out;
    out.status = 201;
    out.Set("Location", blob_location_prefix + desc.digest.ToString());
    out.Set("Docker-Content-Digest", desc.digest.ToString());
    return out;
  };

  switch (t.route) {
    case Route::kBase:
      r = JsonResponse(200, "{}");
      break;

    case Route::kCatalog: {
      if (!is_get) {
        fail({ApiCode::kUnsupported, "method not allowed", 405});
        break;
      }
      std::vector<std::string> names = auth_.FilterPullable(*who, store_.Repositories());
      bool more = false;
      std::string n;
      std::vector<std::string> page = Page(names, query, more, n);
      r = JsonResponse(200, nlohmann::json({{"repositories", page}}).dump());
      if (more) {
        r.Set("Link", fmt::format("</v2/_catalog?n={}&last={}>; rel=\"next\"", n,
                                  Escape(page.back())));
      }
      break;
    }

    case Route::kTags: {
      if (!is_get) {
        fail({ApiCode::kUnsupported, "method not allowed", 405});
        break;
      }
      auto tags = store_.Tags(t.name);
      if (!tags) {
        fail(tags.error());
        break;
      }
      bool more = false;
      std::string n;
      std::vector<std::string> page = Page(*tags, query, more, n);
      r = JsonResponse(200, nlohmann::json({{"name", t.name}, {"tags", page}}).dump());
      if (more) {
        r.Set("Link", fmt::format("</v2/{}/tags/list?n={}&last={}>; rel=\"next\"", t.name, n,
                                  Escape(page.back())));
      }
      break;
    }

    case Route::kManifest: {
      if (is_get) {
        auto manifest = store_.GetManifest(t.name, t.ref);
        if (!manifest) {
          fail(manifest.error());
          break;
        }
        r.Set("Content-Type", manifest->desc.media_type);
        r.Set("Docker-Content-Digest", manifest->desc.digest.ToString());
        r.Set("ETag", fmt::format("\"{}\"", manifest->desc.digest.ToString()));
        r.body = *manifest->bytes;
        break;
      }
      if (method == http::verb::put) {
        std::string content_type(head[http::field::content_type]);
        auto body = ReadUpTo(exchange.Body(oci::kMaxManifestBytes), oci::kMaxManifestBytes + 1);
        if (!body) {
          fail(body.error().code() == ErrorCode::kResourceExhausted
                   ? ApiError{ApiCode::kTooLarge, "manifest over 4 MiB"}
                   : ApiError{ApiCode::kManifestInvalid, body.error().message()});
          r.close = true;
          break;
        }
        if (body->size() > oci::kMaxManifestBytes) {
          fail({ApiCode::kTooLarge, "manifest over 4 MiB"});
          break;
        }
        auto put = store_.PutManifest(t.name, t.ref, content_type, std::move(*body));
        if (!put) {
          fail(put.error());
          break;
        }
        r.status = 201;
        r.Set("Location", fmt::format("/v2/{}/manifests/{}", t.name, put->desc.digest.ToString()));
        r.Set("Docker-Content-Digest", put->desc.digest.ToString());
        if (put->subject) r.Set("OCI-Subject", put->subject->ToString());
        break;
      }
      if (method == http::verb::delete_) {
        auto deleted = store_.DeleteManifest(t.name, t.ref);
        if (!deleted) {
          fail(deleted.error());
          break;
        }
        r.status = 202;
        break;
      }
      fail({ApiCode::kUnsupported, "method not allowed", 405});
      break;
    }

    case Route::kBlob: {
      if (is_get) {
        auto blob = store_.OpenBlob(t.name, t.ref);
        if (!blob) {
          fail(blob.error());
          break;
        }
        std::string digest = blob->digest.ToString();
        r.Set("Docker-Content-Digest", digest);
        r.Set("ETag", fmt::format("\"{}\"", digest));
        r.Set("Accept-Ranges", "bytes");
        r.Set("Content-Type", "application/octet-stream");
        uint64_t offset = 0;
        uint64_t length = blob->size;
        std::string range_header(head[http::field::range]);
        if (!range_header.empty()) {
          if (auto range = ParseRange(range_header, blob->size)) {
            if (range->unsatisfiable) {
              ApiError error{ApiCode::kBlobUnknown, "requested range not satisfiable", 416};
              r.status = 416;
              r.Set("Content-Range", fmt::format("bytes */{}", blob->size));
              r.body = ErrorBody(error);
              break;
            }
            offset = range->offset;
            length = range->length;
            r.status = 206;
            r.Set("Content-Range",
                  fmt::format("bytes {}-{}/{}", offset, offset + length - 1, blob->size));
          }
        }
        r.file = Response::File{blob->fd, offset, length};
        blob->fd = -1;  // the server closes it
        break;
      }
      if (method == http::verb::delete_) {
        auto deleted = store_.DeleteBlob(t.name, t.ref);
        if (!deleted) {
          fail(deleted.error());
          break;
        }
        r.status = 202;
        break;
      }
      fail({ApiCode::kUnsupported, "method not allowed", 405});
      break;
    }

    case Route::kUploadStart: {
      if (method != http::verb::post) {
        fail({ApiCode::kUnsupported, "method not allowed", 405});
        break;
      }
      std::string mount = QueryValue(query, "mount");
      std::string from = QueryValue(query, "from");
      if (!mount.empty() && !from.empty()) {
        auto may_read = auth_.Check(authorization, from, kActionPull);
        if (may_read && (may_read->granted & kActionPull) != 0) {
          auto mounted = store_.MountBlob(t.name, from, mount);
          if (mounted && *mounted) {
            auto digest = oci::Digest::Parse(mount);
            if (digest) {
              oci::Descriptor desc;
              desc.digest = *digest;
              r = blob_created(desc);
              break;
            }
          }
        }
        // Not mountable here: an ordinary upload session, as the spec prescribes.
      }
      std::string digest = QueryValue(query, "digest");
      UploadSlot slot(uploads_, metrics_, options_.max_concurrent_uploads);
      if (!slot.acquired()) {
        fail({ApiCode::kTooManyRequests, "too many uploads at once"});
        r.Set("Retry-After", "1");
        r.close = true;
        break;
      }
      if (!digest.empty()) {
        Reader& body = exchange.Body(body_limit());
        auto put = store_.PutBlob(t.name, digest, exchange.content_length(), body);
        if (!put) {
          fail(put.error());
          break;
        }
        r = blob_created(*put);
        break;
      }
      auto started = store_.StartUpload(t.name);
      if (!started) {
        fail(started.error());
        break;
      }
      r = upload_state_response(202, *started);
      break;
    }

    case Route::kUpload: {
      if (method == http::verb::get) {
        auto state = store_.GetUpload(t.name, t.ref);
        if (!state) {
          fail(state.error());
          break;
        }
        r = upload_state_response(204, *state);
        break;
      }
      if (method == http::verb::delete_) {
        auto cancelled = store_.CancelUpload(t.name, t.ref);
        if (!cancelled) {
          fail(cancelled.error());
          break;
        }
        r.status = 204;
        break;
      }
      if (method != http::verb::patch && method != http::verb::put) {
        fail({ApiCode::kUnsupported, "method not allowed", 405});
        break;
      }
      UploadSlot slot(uploads_, metrics_, options_.max_concurrent_uploads);
      if (!slot.acquired()) {
        fail({ApiCode::kTooManyRequests, "too many uploads at once"});
        r.Set("Retry-After", "1");
        r.close = true;
        break;
      }
      if (method == http::verb::patch) {
        std::optional<ChunkRange> range;
        std::string content_range(head[http::field::content_range]);
        if (!content_range.empty()) {
          range = ParseContentRange(content_range);
          if (!range) {
            fail({ApiCode::kBlobUploadInvalid, "malformed Content-Range", 416});
            r.close = true;
            break;
          }
        }
        auto state = store_.AppendUpload(t.name, t.ref, range, exchange.Body(body_limit()));
        if (!state) {
          fail(state.error());
          break;
        }
        r = upload_state_response(202, *state);
        break;
      }
      std::string digest = QueryValue(query, "digest");
      if (digest.empty()) {
        fail({ApiCode::kDigestInvalid, "the digest parameter is required"});
        break;
      }
      // A closing chunk with a Content-Range must fit where the upload stands (416 if not),
      // exactly as a PATCH would.
      std::string content_range(head[http::field::content_range]);
      if (!content_range.empty()) {
        auto range = ParseContentRange(content_range);
        if (!range) {
          fail({ApiCode::kBlobUploadInvalid, "malformed Content-Range", 416});
          r.close = true;
          break;
        }
        auto state = store_.AppendUpload(t.name, t.ref, range, exchange.Body(body_limit()));
        if (!state) {
          fail(state.error());
          break;
        }
      }
      StringReader rest("");
      Reader& final_chunk = content_range.empty() ? exchange.Body(body_limit()) : rest;
      auto finished = store_.FinishUpload(t.name, t.ref, digest, final_chunk);
      if (!finished) {
        fail(finished.error());
        break;
      }
      r = blob_created(*finished);
      break;
    }

    case Route::kReferrers: {
      if (!is_get) {
        fail({ApiCode::kUnsupported, "method not allowed", 405});
        break;
      }
      std::string artifact_type = QueryValue(query, "artifactType");
      auto referrers = store_.Referrers(t.name, t.ref, artifact_type);
      if (!referrers) {
        fail(referrers.error());
        break;
      }
      nlohmann::ordered_json index = {{"schemaVersion", 2},
                                      {"mediaType", std::string(oci::kOciIndex)},
                                      {"manifests", nlohmann::ordered_json::array()}};
      for (const oci::Descriptor& desc : *referrers) index["manifests"].push_back(desc.ToJson());
      r.Set("Content-Type", std::string(oci::kOciIndex));
      r.body = index.dump();
      if (!artifact_type.empty()) r.Set("OCI-Filters-Applied", "artifactType");
      break;
    }

    case Route::kUnknown:
      break;
  }
  r.user = who->user;
  return with_version(std::move(r));
}

}  // namespace plugctl::server
