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
#include "plugctl/server/api_parse.h"

namespace plugctl::server {

namespace http = boost::beast::http;

namespace {

// Paths the registry API leaves to RegistryApiOptions::fallback.
bool IsFallbackPath(std::string_view path) {
  return path != "/healthz" && path != "/metrics" && path != "/token" && path != "/v2" &&
         !path.starts_with("/v2/");
}

constexpr std::string_view kApiVersionHeader = "Docker-Distribution-API-Version";
constexpr std::string_view kJson = "application/json";

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

// Paginates sorted `items` by the spec's n/last: entries after `last`, at most n. Sets `more`
// when entries remain after the page.
std::vector<std::string> Page(const std::vector<std::string>& items, const Query& query, bool& more,
                              std::string& n_text) {
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

bool RegistryApi::IsSlow(const Exchange& exchange) {
  if (options_.fallback == nullptr) return false;
  std::string_view target(exchange.head().target().data(), exchange.head().target().size());
  std::string_view path = target.substr(0, target.find('?'));
  return IsFallbackPath(path) && options_.fallback->IsSlow(exchange);
}

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
  if (options_.fallback != nullptr && IsFallbackPath(path)) {
    return options_.fallback->Handle(exchange);
  }
  std::string authorization(head[http::field::authorization]);

  std::string realm = RequestBaseUrl(exchange, options_.public_url) + "/token";

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
  ApiPath t = path == "/v2" ? ApiPath{Route::kBase} : ParseApiPath(path);
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
    case http::verb::head:
      wanted = kActionPull;
      break;
    case http::verb::delete_:
      wanted = t.route == Route::kUpload ? kActionPush : kActionDelete;
      break;
    default:
      wanted = kActionPush;
      break;
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
    bool bearer =
        authorization.size() > 7 && boost::beast::iequals(authorization.substr(0, 7), "bearer ");
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
  // --max-blob-size bounds a blob, not a request: a chunked upload's later chunks get what is
  // left of it.
  auto body_limit = [&]() -> uint64_t {
    if (options_.max_blob_bytes == 0) return UINT64_MAX;
    if (t.route == Route::kUpload) {
      if (auto state = store_.GetUpload(t.name, t.ref)) {
        return state->offset >= options_.max_blob_bytes ? 0
                                                        : options_.max_blob_bytes - state->offset;
      }
    }
    return options_.max_blob_bytes;
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
                                  EscapeQueryValue(page.back())));
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
                                  EscapeQueryValue(page.back())));
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
        // Clients may send one Accept field per type (Go's containers/image does).
        std::string accept;
        for (auto [it, end] = head.equal_range(http::field::accept); it != end; ++it) {
          accept.append(it->value().data(), it->value().size()).push_back(',');
        }
        if (!AcceptsMediaType(accept, manifest->desc.media_type)) {
          // As distribution does: a client that cannot read this kind of manifest is told so
          // rather than handed bytes it will misparse.
          fail({ApiCode::kManifestUnknown,
                fmt::format("the manifest is {}, which the Accept header does not list",
                            manifest->desc.media_type)});
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
          auto parsed = ParseContentRange(content_range);
          if (parsed) range = ChunkRange{parsed->start, parsed->end};
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
        auto state = store_.AppendUpload(t.name, t.ref, ChunkRange{range->start, range->end},
                                         exchange.Body(body_limit()));
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
