#include "plugctl/registry/repository.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "plugctl/http/url.h"
#include "plugctl/oci/json.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/oci/reference.h"
#include "plugctl/oci/verifying_reader.h"
#include "plugctl/registry/wire.h"

namespace plugctl::registry {
namespace {

constexpr size_t kMaxListPage = 16 << 20;

std::string StripParams(std::string_view content_type) {
  size_t semi = content_type.find(';');
  std::string_view out = content_type.substr(0, semi);
  while (!out.empty() && out.back() == ' ') out.remove_suffix(1);
  return std::string(out);
}

std::string WithQuery(const std::string& url, std::string_view param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + std::string(param);
}

// A blob download that resumes with Range where the connection broke.
class BlobReader : public Reader {
 public:
  BlobReader(Session& session, std::string path, std::string scope, std::string what,
             int max_resumes)
      : session_(session),
        path_(std::move(path)),
        scope_(std::move(scope)),
        what_(std::move(what)),
        max_resumes_(max_resumes) {}

  Status Open() {
    Call call{.method = "GET", .path = path_, .scope = scope_};
    if (offset_ > 0) call.headers.Add("Range", fmt::format("bytes={}-", offset_));
    PLUGCTL_ASSIGN_OR_RETURN(stream_, session_.Open(call));
    const http::Response& r = stream_->response();
    if (r.status == 206 && offset_ > 0) {
      auto range = r.headers.Get("Content-Range");
      std::string expect = fmt::format("bytes {}-", offset_);
      if (!range || !range->starts_with(expect)) {
        return MakeError(ErrorCode::kDataLoss, "{}: resumed at the wrong offset ({})", what_,
                         range.value_or("no Content-Range"));
      }
      return OkStatus();
    }
    if (r.status == 200) {
      // The server ignored Range: skip what we already have.
      std::string skip(64 * 1024, '\0');
      for (uint64_t left = offset_; left > 0;) {
        PLUGCTL_ASSIGN_OR_RETURN(
            size_t n,
            stream_->Read(std::span<char>(skip.data(), std::min<uint64_t>(left, skip.size()))));
        if (n == 0) return MakeError(ErrorCode::kDataLoss, "{}: shorter on retry", what_);
        left -= n;
      }
      return OkStatus();
    }
    http::Response copy = r;
    stream_.reset();
    return tl::unexpected(ResponseError(copy, what_));
  }

  Result<size_t> Read(std::span<char> out) override {
    for (;;) {
      if (!stream_) PLUGCTL_RETURN_IF_ERROR(Open());
      auto n = stream_->Read(out);
      if (n) {
        offset_ += *n;
        return n;
      }
      if (n.error().code() != ErrorCode::kUnavailable || resumes_ >= max_resumes_) {
        return tl::unexpected(n.error().WithContext(what_));
      }
      ++resumes_;
      stream_.reset();
      session_.clock().SleepFor(std::chrono::milliseconds(100 * resumes_));
    }
  }

 private:
  Session& session_;
  std::string path_;
  std::string scope_;
  std::string what_;
  int max_resumes_;
  int resumes_ = 0;
  uint64_t offset_ = 0;
  std::unique_ptr<http::ResponseStream> stream_;
};

}  // namespace

std::string NextLink(const http::Response& response) {
  for (const std::string& link : response.headers.GetAll("Link")) {
    // <url>; rel="next"  (several links may share one header, comma-separated)
    size_t pos = 0;
    while ((pos = link.find('<', pos)) != std::string::npos) {
      size_t end = link.find('>', pos);
      if (end == std::string::npos) break;
      std::string url = link.substr(pos + 1, end - pos - 1);
      size_t next_link = link.find('<', end);
      std::string params =
          link.substr(end, next_link == std::string::npos ? std::string::npos : next_link - end);
      if (params.find("rel=\"next\"") != std::string::npos ||
          params.find("rel=next") != std::string::npos) {
        return url;
      }
      pos = end;
    }
  }
  return "";
}

RepositoryTarget::RepositoryTarget(std::shared_ptr<Session> session, std::string repository,
                                   RepositoryOptions options)
    : session_(std::move(session)), repository_(std::move(repository)), options_(options) {}

std::string RepositoryTarget::Describe() const {
  return fmt::format("{}/{}", session_->host(), repository_);
}

std::string RepositoryTarget::ManifestPath(std::string_view reference) const {
  return fmt::format("/v2/{}/manifests/{}", repository_, reference);
}

std::string RepositoryTarget::BlobPath(const oci::Digest& digest) const {
  return fmt::format("/v2/{}/blobs/{}", repository_, digest.ToString());
}

Result<oci::Descriptor> RepositoryTarget::Resolve(std::string_view reference) {
  std::string ref = reference.empty() ? "latest" : std::string(reference);
  std::optional<oci::Digest> wanted;
  if (ref.find(':') != std::string::npos) {
    PLUGCTL_ASSIGN_OR_RETURN(wanted, oci::Digest::Parse(ref));
  }
  Call call{.method = "HEAD", .path = ManifestPath(ref), .scope = PullScope(repository_)};
  call.headers.Add("Accept", std::string(oci::ManifestAcceptHeader()));
  PLUGCTL_ASSIGN_OR_RETURN(http::Response head, session_->Do(call));
  std::string what = fmt::format("{}:{}", Describe(), ref);
  if (head.status == 404) {
    return MakeError(ErrorCode::kNotFound, "{}: manifest not found", what);
  }
  oci::Descriptor desc;
  auto digest_header = head.headers.Get("Docker-Content-Digest");
  auto type_header = head.headers.Get("Content-Type");
  auto length_header = head.headers.Get("Content-Length");
  bool complete = head.status == 200 && digest_header && type_header && length_header &&
                  oci::IsManifestOrIndexType(StripParams(*type_header));
  if (complete) {
    auto digest = oci::Digest::Parse(*digest_header);
    char* end = nullptr;
    long long size = std::strtoll(length_header->c_str(), &end, 10);
    complete = digest.has_value() && end != length_header->c_str() && size >= 0;
    if (complete) {
      desc.digest = *digest;
      desc.size = size;
      desc.media_type = StripParams(*type_header);
    }
  }
  if (!complete) {
    // HEAD said too little (or was refused): fetch the manifest and measure it.
    call.method = "GET";
    call.max_body = oci::kMaxManifestBytes;
    PLUGCTL_ASSIGN_OR_RETURN(http::Response get, session_->Do(call));
    if (get.status == 404) return MakeError(ErrorCode::kNotFound, "{}: manifest not found", what);
    if (get.status != 200) return tl::unexpected(ResponseError(get, what));
    std::string type = StripParams(get.headers.Get("Content-Type").value_or(""));
    PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest manifest, oci::Manifest::Parse(get.body, type));
    desc = manifest.ToDescriptor();
    std::lock_guard lock(mu_);
    manifest_cache_[desc.digest] = std::move(get.body);
  }
  if (wanted && desc.digest != *wanted) {
    return MakeError(ErrorCode::kDataLoss, "{}: registry answered with digest {}", what,
                     desc.digest.ToString());
  }
  return desc;
}

Result<std::string> RepositoryTarget::ManifestBytes(const oci::Descriptor& desc) {
  {
    std::lock_guard lock(mu_);
    if (auto it = manifest_cache_.find(desc.digest); it != manifest_cache_.end()) return it->second;
  }
  Call call{.method = "GET",
            .path = ManifestPath(desc.digest.ToString()),
            .scope = PullScope(repository_),
            .max_body = oci::kMaxManifestBytes};
  call.headers.Add("Accept", desc.media_type + ", " + std::string(oci::ManifestAcceptHeader()));
  PLUGCTL_ASSIGN_OR_RETURN(http::Response r, session_->Do(call));
  std::string what = fmt::format("{}@{}", Describe(), desc.digest.ToString());
  if (r.status != 200) return tl::unexpected(ResponseError(r, what));
  // Verified here so the cache only ever holds the right bytes.
  if (oci::Digest::Of(r.body, desc.digest.algorithm()) != desc.digest) {
    return MakeError(ErrorCode::kDataLoss, "{}: manifest digest mismatch", what);
  }
  std::lock_guard lock(mu_);
  manifest_cache_[desc.digest] = r.body;
  return std::move(r.body);
}

Result<std::unique_ptr<Reader>> RepositoryTarget::Fetch(const oci::Descriptor& desc) {
  if (oci::IsManifestOrIndexType(desc.media_type)) {
    PLUGCTL_ASSIGN_OR_RETURN(std::string bytes, ManifestBytes(desc));
    return std::unique_ptr<Reader>(std::make_unique<StringReader>(std::move(bytes)));
  }
  auto reader = std::make_unique<BlobReader>(
      *session_, BlobPath(desc.digest), PullScope(repository_),
      fmt::format("{}@{}", Describe(), desc.digest.ToString()), options_.max_resumes);
  PLUGCTL_RETURN_IF_ERROR(reader->Open());
  return std::unique_ptr<Reader>(std::move(reader));
}

Result<bool> RepositoryTarget::Exists(const oci::Descriptor& desc) {
  bool manifest = oci::IsManifestOrIndexType(desc.media_type);
  Call call{.method = "HEAD",
            .path = manifest ? ManifestPath(desc.digest.ToString()) : BlobPath(desc.digest),
            .scope = PullScope(repository_)};
  if (manifest) {
    call.headers.Add("Accept", desc.media_type + ", " + std::string(oci::ManifestAcceptHeader()));
  }
  PLUGCTL_ASSIGN_OR_RETURN(http::Response r, session_->Do(call));
  if (r.status == 200) return true;
  if (r.status == 404) return false;
  return tl::unexpected(ResponseError(r, fmt::format("{}@{}", Describe(), desc.digest.ToString())));
}

Status RepositoryTarget::Push(const oci::Descriptor& desc, Reader& content) {
  if (oci::IsManifestOrIndexType(desc.media_type)) return PushManifest(desc, content, "");
  return PushBlob(desc, content);
}

Status RepositoryTarget::PushTagged(const oci::Descriptor& desc, Reader& content,
                                    std::string_view tag) {
  PLUGCTL_RETURN_IF_ERROR(oci::ValidateTag(tag));
  if (!oci::IsManifestOrIndexType(desc.media_type)) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot tag {}: \"{}\" is not a manifest type",
                     desc.digest.ToString(), desc.media_type);
  }
  return PushManifest(desc, content, tag);
}

Status RepositoryTarget::PushManifest(const oci::Descriptor& desc, Reader& content,
                                      std::string_view reference) {
  std::string what = fmt::format("push manifest {} to {}", desc.digest.ToString(), Describe());
  if (desc.size > static_cast<int64_t>(oci::kMaxManifestBytes)) {
    return MakeError(ErrorCode::kResourceExhausted, "{}: larger than 4 MiB", what);
  }
  oci::VerifyingReader verifying(content, desc, what);
  PLUGCTL_ASSIGN_OR_RETURN(std::string bytes,
                           ReadAllBounded(verifying, oci::kMaxManifestBytes, what));
  Call call{
      .method = "PUT",
      .path = ManifestPath(reference.empty() ? desc.digest.ToString() : std::string(reference)),
      .body = bytes,
      .scope = PushScope(repository_)};
  call.headers.Add("Content-Type", desc.media_type);
  PLUGCTL_ASSIGN_OR_RETURN(http::Response r, session_->Do(call));
  if (r.status != 201 && r.status != 200) return tl::unexpected(ResponseError(r, what));
  // distribution-spec 1.1: a registry that indexes subjects answers with OCI-Subject; on the
  // others the pushing client keeps the "sha256-<hex>" tag schema index up to date.
  if (!r.headers.Get("OCI-Subject")) {
    auto parsed = oci::Manifest::Parse(bytes, desc.media_type);
    if (parsed && parsed->subject) {
      Status indexed = AddToReferrersTag(desc, *parsed);
      if (!indexed) return tl::unexpected(indexed.error().WithContext(what));
    }
  }
  std::lock_guard lock(mu_);
  manifest_cache_[desc.digest] = std::move(bytes);
  return OkStatus();
}

Status RepositoryTarget::AddToReferrersTag(const oci::Descriptor& desc,
                                           const oci::Manifest& manifest) {
  const oci::Digest& subject = manifest.subject->digest;
  const std::string tag = fmt::format("{}-{}", subject.algorithm_name(), subject.hex());
  oci::IndexSpec index;
  auto existing = Resolve(tag);
  if (existing) {
    PLUGCTL_ASSIGN_OR_RETURN(std::string old_bytes, ManifestBytes(*existing));
    PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest old, oci::Manifest::Parse(old_bytes, oci::kOciIndex));
    if (!old.is_index()) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "tag {} (the referrers tag schema) names a manifest, not an index", tag);
    }
    for (const oci::Descriptor& m : old.manifests) {
      if (m.digest == desc.digest) return OkStatus();
    }
    index.manifests = old.manifests;
  } else if (existing.error().code() != ErrorCode::kNotFound) {
    return tl::unexpected(existing.error());
  }
  index.manifests.push_back(manifest.ReferrerDescriptor(desc.digest));
  Call put{.method = "PUT",
           .path = ManifestPath(tag),
           .body = oci::BuildIndex(index),
           .scope = PushScope(repository_)};
  put.headers.Add("Content-Type", std::string(oci::kOciIndex));
  PLUGCTL_ASSIGN_OR_RETURN(http::Response r, session_->Do(put));
  if (r.status != 201 && r.status != 200) {
    return tl::unexpected(ResponseError(r, "update referrers tag " + tag));
  }
  return OkStatus();
}

Status RepositoryTarget::PushBlob(const oci::Descriptor& desc, Reader& content) {
  std::string what = fmt::format("push {} to {}", desc.digest.ToString(), Describe());
  Call start{.method = "POST",
             .path = fmt::format("/v2/{}/blobs/uploads/", repository_),
             .scope = PushScope(repository_)};
  PLUGCTL_ASSIGN_OR_RETURN(http::Response r, session_->Do(start));
  if (r.status != 202) return tl::unexpected(ResponseError(r, what));
  auto location = r.headers.Get("Location");
  if (!location) return MakeError(ErrorCode::kFailedPrecondition, "{}: 202 without Location", what);
  // distribution-spec: Location may be relative to the request URL.
  PLUGCTL_ASSIGN_OR_RETURN(std::string url, http::ResolveUrl(r.url, *location));
  int64_t chunk = options_.chunk_size;
  if (chunk > 0) {
    if (auto min = r.headers.Get("OCI-Chunk-Min-Length")) {
      chunk = std::max<int64_t>(chunk, std::strtoll(min->c_str(), nullptr, 10));
    }
    if (desc.size > chunk) return UploadChunked(url, desc, content, chunk);
  }
  return UploadMonolithic(url, desc, content);
}

Status RepositoryTarget::UploadMonolithic(const std::string& location, const oci::Descriptor& desc,
                                          Reader& content) {
  std::string what = fmt::format("push {} to {}", desc.digest.ToString(), Describe());
  std::optional<oci::VerifyingReader> storage;
  oci::VerifyingReader& verifying = oci::EnsureVerifying(content, desc, what, storage);
  Call put{.method = "PUT",
           .path = WithQuery(location, "digest=" + http::QueryEscape(desc.digest.ToString())),
           .body_reader = &verifying,
           .body_size = desc.size,
           .scope = PushScope(repository_)};
  put.headers.Add("Content-Type", "application/octet-stream");
  PLUGCTL_ASSIGN_OR_RETURN(http::Response r, session_->Do(put));
  if (r.status != 201) return tl::unexpected(ResponseError(r, what));
  // libcurl stops reading at Content-Length; one more read runs the final
  // digest check on our side too.
  char probe;
  PLUGCTL_ASSIGN_OR_RETURN(size_t extra, verifying.Read(std::span<char>(&probe, 1)));
  if (extra != 0) return MakeError(ErrorCode::kDataLoss, "{}: source longer than its size", what);
  return OkStatus();
}

Status RepositoryTarget::UploadChunked(std::string location, const oci::Descriptor& desc,
                                       Reader& content, int64_t chunk_size) {
  std::string what = fmt::format("push {} to {}", desc.digest.ToString(), Describe());
  std::optional<oci::VerifyingReader> storage;
  oci::VerifyingReader& verifying = oci::EnsureVerifying(content, desc, what, storage);
  int64_t offset = 0;
  for (;;) {
    PLUGCTL_ASSIGN_OR_RETURN(std::string chunk,
                             ReadUpTo(verifying, static_cast<size_t>(chunk_size)));
    if (chunk.empty()) break;
    size_t sent = 0;
    for (int tries = 0; sent < chunk.size(); ++tries) {
      if (tries > 5) {
        return MakeError(ErrorCode::kUnavailable, "{}: chunk upload keeps failing", what);
      }
      int64_t start = offset + static_cast<int64_t>(sent);
      Call patch{.method = "PATCH",
                 .path = location,
                 .body = chunk.substr(sent),
                 .scope = PushScope(repository_)};
      patch.headers.Add("Content-Type", "application/octet-stream");
      // distribution-spec: inclusive range, no "bytes " prefix.
      patch.headers.Add(
          "Content-Range",
          fmt::format("{}-{}", start, offset + static_cast<int64_t>(chunk.size()) - 1));
      PLUGCTL_ASSIGN_OR_RETURN(http::Response r, session_->Do(patch));
      if (r.status == 202) {
        auto next = r.headers.Get("Location");
        if (next) {
          PLUGCTL_ASSIGN_OR_RETURN(location, http::ResolveUrl(r.url, *next));
        }
        sent = chunk.size();
        break;
      }
      if (r.status != 416) return tl::unexpected(ResponseError(r, what));
      // Out of order: ask where the upload stands and continue from there.
      Call status_call{.method = "GET", .path = location, .scope = PushScope(repository_)};
      PLUGCTL_ASSIGN_OR_RETURN(http::Response status, session_->Do(status_call));
      auto range = status.headers.Get("Range");
      if (status.status != 204 || !range) return tl::unexpected(ResponseError(r, what));
      auto held = ParseUploadRange(*range);
      if (!held) return tl::unexpected(held.error().WithContext(what));
      int64_t have = *held;
      if (have < offset || have > offset + static_cast<int64_t>(chunk.size())) {
        return MakeError(ErrorCode::kFailedPrecondition,
                         "{}: registry holds {} bytes, cannot resume", what, have);
      }
      if (auto next = status.headers.Get("Location")) {
        PLUGCTL_ASSIGN_OR_RETURN(location, http::ResolveUrl(status.url, *next));
      }
      sent = static_cast<size_t>(have - offset);
    }
    offset += static_cast<int64_t>(chunk.size());
  }
  Call put{.method = "PUT",
           .path = WithQuery(location, "digest=" + http::QueryEscape(desc.digest.ToString())),
           .scope = PushScope(repository_)};
  put.headers.Add("Content-Type", "application/octet-stream");
  PLUGCTL_ASSIGN_OR_RETURN(http::Response r, session_->Do(put));
  if (r.status != 201) return tl::unexpected(ResponseError(r, what));
  return OkStatus();
}

Result<bool> RepositoryTarget::Mount(const oci::Descriptor& desc, std::string_view from) {
  Call call{.method = "POST",
            .path = fmt::format("/v2/{}/blobs/uploads/?mount={}&from={}", repository_,
                                http::QueryEscape(desc.digest.ToString()), http::QueryEscape(from)),
            .scope = PushScope(repository_) + " " + PullScope(from)};
  auto r = session_->Do(call);
  // Harbor answers 401 for a source it does not know: not an error, just no mount.
  if (!r) {
    if (r.error().code() == ErrorCode::kUnauthenticated) return false;
    return tl::unexpected(r.error());
  }
  if (r->status == 201) return true;
  if (r->status == 202) {
    // A plain upload session was opened instead; close it (best effort, GHCR answers 405).
    if (auto location = r->headers.Get("Location")) {
      if (auto url = http::ResolveUrl(r->url, *location)) {
        (void)session_->Do({.method = "DELETE", .path = *url, .scope = PushScope(repository_)});
      }
    }
    return false;
  }
  return false;
}

store::MountSource RepositoryTarget::mount_source() const {
  return store::MountSource{.registry = session_.get(), .repository = repository_};
}

Result<bool> RepositoryTarget::MountFrom(const oci::Descriptor& desc,
                                         const store::MountSource& from) {
  if (from.registry != session_.get() || from.repository == repository_) return false;
  return Mount(desc, from.repository);
}

Status RepositoryTarget::Tag(const oci::Descriptor& desc, std::string_view tag) {
  PLUGCTL_RETURN_IF_ERROR(oci::ValidateTag(tag));
  PLUGCTL_ASSIGN_OR_RETURN(std::string bytes, ManifestBytes(desc));
  Call call{.method = "PUT",
            .path = ManifestPath(tag),
            .body = std::move(bytes),
            .scope = PushScope(repository_)};
  call.headers.Add("Content-Type", desc.media_type);
  PLUGCTL_ASSIGN_OR_RETURN(http::Response r, session_->Do(call));
  if (r.status != 201 && r.status != 200) {
    return tl::unexpected(ResponseError(r, fmt::format("tag {}:{}", Describe(), tag)));
  }
  return OkStatus();
}

namespace {

// Walks a paginated list endpoint ("tags" or "repositories"), within `limits`.
Result<std::vector<std::string>> ListPages(Session& session, std::string path,
                                           const std::string& scope, const char* field,
                                           const std::string& what, const ListLimits& limits) {
  std::vector<std::string> out;
  std::set<std::string> seen_pages;
  size_t bytes = 0;
  for (int page = 0; !path.empty(); ++page) {
    if (!seen_pages.insert(path).second) break;  // a registry looping its Link
    if (page >= limits.max_pages) {
      return MakeError(ErrorCode::kResourceExhausted,
                       "{}: more than {} pages; the registry keeps paginating", what,
                       limits.max_pages);
    }
    size_t left = limits.max_bytes - bytes;
    size_t max_body = std::min(kMaxListPage, left);
    Call call{.method = "GET", .path = path, .scope = scope, .max_body = max_body};
    auto response = session.Do(call);
    if (!response && response.error().code() == ErrorCode::kResourceExhausted &&
        max_body < kMaxListPage) {
      return MakeError(ErrorCode::kResourceExhausted,
                       "{}: more than {} bytes; the registry keeps paginating", what,
                       limits.max_bytes);
    }
    PLUGCTL_ASSIGN_OR_RETURN(http::Response r, std::move(response));
    if (r.status == 404) return MakeError(ErrorCode::kNotFound, "{}: not found", what);
    if (r.status != 200) return tl::unexpected(ResponseError(r, what));
    bytes += r.body.size();
    auto json = oci::ParseJson(r.body, what).value_or(nlohmann::json());
    if (!json.is_object()) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: invalid JSON", what);
    }
    if (json.contains(field) && json[field].is_array()) {
      for (const auto& v : json[field]) {
        if (!v.is_string()) continue;
        if (out.size() >= limits.max_items) {
          return MakeError(ErrorCode::kResourceExhausted,
                           "{}: more than {} items; the registry keeps paginating", what,
                           limits.max_items);
        }
        out.push_back(v.get<std::string>());
      }
    }
    std::string next = NextLink(r);
    if (next.empty()) break;
    PLUGCTL_ASSIGN_OR_RETURN(path, http::ResolveUrl(r.url, next));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

Result<std::vector<std::string>> RepositoryTarget::Tags() {
  return ListPages(*session_, fmt::format("/v2/{}/tags/list?n=1000", repository_),
                   PullScope(repository_), "tags", fmt::format("tags of {}", Describe()),
                   options_.list_limits);
}

Result<std::vector<std::string>> Catalog(Session& session, int page_size,
                                         const ListLimits& limits) {
  return ListPages(session, fmt::format("/v2/_catalog?n={}", page_size), "registry:catalog:*",
                   "repositories", fmt::format("catalog of {}", session.host()), limits);
}

Status RepositoryTarget::Delete(const oci::Descriptor& desc) {
  bool manifest = oci::IsManifestOrIndexType(desc.media_type);
  std::string what = fmt::format("delete {}@{}", Describe(), desc.digest.ToString());
  Call call{.method = "DELETE",
            .path = manifest ? ManifestPath(desc.digest.ToString()) : BlobPath(desc.digest),
            .scope = fmt::format("repository:{}:delete,pull,push", repository_)};
  PLUGCTL_ASSIGN_OR_RETURN(http::Response r, session_->Do(call));
  if (r.status == 202 || r.status == 200 || r.status == 204) return OkStatus();
  if (r.status == 405) {
    return MakeError(ErrorCode::kUnimplemented,
                     "{}: the registry does not allow deletes (distribution: enable "
                     "storage.delete)",
                     what);
  }
  return tl::unexpected(ResponseError(r, what));
}

Result<std::vector<oci::Descriptor>> RepositoryTarget::Referrers(const oci::Digest& digest,
                                                                 std::string_view artifact_type) {
  std::string path = fmt::format("/v2/{}/referrers/{}", repository_, digest.ToString());
  if (!artifact_type.empty()) path += "?artifactType=" + http::QueryEscape(artifact_type);
  Call call{.method = "GET",
            .path = path,
            .scope = PullScope(repository_),
            .max_body = oci::kMaxManifestBytes};
  call.headers.Add("Accept", std::string(oci::kOciIndex));
  PLUGCTL_ASSIGN_OR_RETURN(http::Response r, session_->Do(call));
  std::string index_bytes;
  if (r.status == 200) {
    index_bytes = std::move(r.body);
  } else if (r.status == 404) {
    // distribution-spec 1.1: no referrers API → the "sha256-<hex>" tag schema.
    std::string tag = fmt::format("{}-{}", digest.algorithm_name(), digest.hex());
    auto desc = Resolve(tag);
    if (!desc) {
      if (desc.error().code() == ErrorCode::kNotFound) return std::vector<oci::Descriptor>{};
      return tl::unexpected(desc.error());
    }
    PLUGCTL_ASSIGN_OR_RETURN(index_bytes, ManifestBytes(*desc));
  } else {
    return tl::unexpected(ResponseError(r, "referrers of " + digest.ToString()));
  }
  PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest index, oci::Manifest::Parse(index_bytes, oci::kOciIndex));
  std::vector<oci::Descriptor> out;
  for (auto& m : index.manifests) {
    if (artifact_type.empty() || m.artifact_type == artifact_type) out.push_back(std::move(m));
  }
  return out;
}

}  // namespace plugctl::registry
