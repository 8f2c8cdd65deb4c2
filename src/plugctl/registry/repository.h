// Directory plugctl/registry/: the distribution-spec client: sessions, auth, repositories.
// plugctl/registry/repository.h — a registry repository as a store::Target
// (OCI distribution-spec v1.1 client).
//
// Everything that takes a target (copy, inspect, tags, build, mirror) works
// with registries through this class. Blob downloads stream with bounded
// memory and resume with Range after a broken connection; uploads are
// monolithic (POST + PUT) or chunked (PATCH, honouring OCI-Chunk-Min-Length,
// recovering from 416); blobs already in another repository of the same
// registry are mounted instead of uploaded.
//
// Thread-safe (Fetch/Exists/Push concurrently, as store::Target requires).
//
//   PLUGCTL_ASSIGN_OR_RETURN(auto session, Session::Create("reg.local:5000", {}));
//   RepositoryTarget repo(session, "plugins/basic-auth");
//   PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor d, repo.Resolve("1.0.0"));
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "plugctl/oci/descriptor.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/registry/session.h"
#include "plugctl/store/capabilities.h"
#include "plugctl/store/target.h"

namespace plugctl::registry {

// Bounds on walking a paginated list (tags/list, _catalog). A registry that keeps linking to a
// next page is refused once any bound is passed — an error naming the list, never a silently
// shortened one. Real registries stay far below them (100k tags is 100 pages of 1000); they cap
// memory at tens of MiB and time at minutes.
struct ListLimits {
  int max_pages = 10000;
  size_t max_items = 1'000'000;
  size_t max_bytes = 64 << 20;  // all pages' bodies together; one page is at most 16 MiB
};

struct RepositoryOptions {
  // 0: monolithic uploads. Otherwise blobs larger than this are uploaded in
  // PATCH chunks of this size (raised to the registry's OCI-Chunk-Min-Length).
  int64_t chunk_size = 0;
  // How often a broken download is resumed before giving up.
  int max_resumes = 5;
  // Tags() follows pagination within these.
  ListLimits list_limits;
};

class RepositoryTarget : public store::Target,
                         public store::Mounter,
                         public store::TagPusher,
                         public store::Deleter,
                         public store::ReferrerLister {
 public:
  RepositoryTarget(std::shared_ptr<Session> session, std::string repository,
                   RepositoryOptions options = {});

  std::string Describe() const override;
  Result<oci::Descriptor> Resolve(std::string_view reference) override;
  Result<std::unique_ptr<Reader>> Fetch(const oci::Descriptor& desc) override;
  Result<bool> Exists(const oci::Descriptor& desc) override;
  Status Push(const oci::Descriptor& desc, Reader& content) override;
  Status Tag(const oci::Descriptor& desc, std::string_view tag) override;
  Result<std::vector<std::string>> Tags() override;
  Status Commit() override { return OkStatus(); }

  // Capabilities (store/capabilities.h): a repository has them all.
  store::Mounter* mounter() override { return this; }
  store::TagPusher* tag_pusher() override { return this; }
  store::Deleter* deleter() override { return this; }
  store::ReferrerLister* referrer_lister() override { return this; }

  // store::Mounter: mounts only from other repositories of this session.
  store::MountSource mount_source() const override;
  Result<bool> MountFrom(const oci::Descriptor& desc, const store::MountSource& from) override;

  // Mounts a blob from another repository of the same registry. Returns false
  // (and uploads nothing) if the registry would not mount it.
  [[nodiscard]] Result<bool> Mount(const oci::Descriptor& desc, std::string_view from_repository);

  // Deletes a manifest (by digest: distribution refuses deleting tags; every
  // tag on that digest goes with it) or a blob.
  [[nodiscard]] Status Delete(const oci::Descriptor& desc) override;

  // Manifests whose subject is `digest` (referrers API, falling back to the
  // "sha256-<hex>" tag schema on registries without it).
  [[nodiscard]] Result<std::vector<oci::Descriptor>> Referrers(
      const oci::Digest& digest, std::string_view artifact_type) override;

  // Push and Tag of a manifest or index in one request: a registry stores a manifest PUT by
  // tag under its digest too.
  [[nodiscard]] Status PushTagged(const oci::Descriptor& desc, Reader& content,
                                  std::string_view tag) override;

  const std::string& repository() const { return repository_; }
  Session& session() { return *session_; }

 private:
  std::string ManifestPath(std::string_view reference) const;
  std::string BlobPath(const oci::Digest& digest) const;
  Status PushManifest(const oci::Descriptor& desc, Reader& content, std::string_view reference);
  // Adds `desc` (whose manifest has a subject) to the subject's "sha256-<hex>" tag schema
  // index, for registries without the referrers API.
  Status AddToReferrersTag(const oci::Descriptor& desc, const oci::Manifest& manifest);
  Status PushBlob(const oci::Descriptor& desc, Reader& content);
  Status UploadMonolithic(const std::string& location, const oci::Descriptor& desc,
                          Reader& content);
  Status UploadChunked(std::string location, const oci::Descriptor& desc, Reader& content,
                       int64_t chunk_size);
  Result<std::string> ManifestBytes(const oci::Descriptor& desc);

  std::shared_ptr<Session> session_;
  const std::string repository_;
  const RepositoryOptions options_;

  std::mutex mu_;
  // Manifests pushed or fetched here, so Tag need not download them again.
  std::map<oci::Digest, std::string> manifest_cache_;
};

// Lists repositories (GET /v2/_catalog), following pagination.
[[nodiscard]] Result<std::vector<std::string>> Catalog(Session& session, int page_size = 1000,
                                                       const ListLimits& limits = {});

// Follows `Link: <url>; rel="next"`: the next page's URL, or "" at the end.
std::string NextLink(const http::Response& response);

}  // namespace plugctl::registry
