// plugctl/server/registry_store.h — the storage of `plugctl serve`: distribution-spec semantics
// (repositories, tags, uploads, mounts, referrers, deletes, gc) over one OCI image layout.
//
// Storage is the layout plugctl mirror and skopeo write, served as it is:
//   DIR/oci-layout, DIR/index.json, DIR/blobs/<alg>/<hex>   the layout (store::OciLayoutTarget)
//   DIR/.plugctl/uploads/<id>/                               uploads in progress (data, repo)
//   DIR/.plugctl/repositories/<repo>/_links/<alg>/<hex>      "this digest is in <repo>" (empty)
// Every blob is stored once under blobs/, however many repositories hold it.
//
// Mapping of index.json entries (their org.opencontainers.image.ref.name, or
// io.containerd.image.name when there is no ref name or only a plain tag, as docker save writes)
// to repository and tag:
//   "reg.io/plugins/basic-auth:1.0.0" → plugins/basic-auth, 1.0.0 (a first component with '.'
//                                        or ':' or equal to "localhost" is a host, dropped)
//   "plugins/basic-auth:1.0.0"        → plugins/basic-auth, 1.0.0
//   "1.0.0" (a plain tag)             → <default_repository>, 1.0.0
//   names that map to no valid repository and tag (no tag, a digest, an invalid repository or
//   tag) are ignored (logged once by the caller via Warnings()).
// When several entries map to one repository and tag, the hostless one wins, else the first in
// sorted order; Warnings() says so. A tag pushed through the store replaces every entry that
// maps to it with one entry, keeping the existing ref name when there was exactly one (so a
// mirrored bundle keeps its names), else writing "<repo>:<tag>" — prefixed with "localhost/"
// when <repo>'s first component would read as a host.
// Manifests pushed by digest (untagged, e.g. referrers) get an index.json entry without a ref
// name and with the annotation kRepositoryAnnotation = <repo>, so other layout readers and gc
// see them. A manifest has one entry per tag in a repository, or else its one untagged entry:
// tagging it replaces the untagged entry, and pushing by digest a manifest a tag already holds
// adds nothing.
//
// Membership: a digest (blob or manifest) is in repository R when R has a link for it or it is
// reachable from a manifest R has an entry for (config, layers, index children — not subjects).
// Every blob uploaded or mounted into R and every manifest pushed to R gets a link. Blob and
// manifest reads, mounts and deletes are scoped to R: a digest of another repository is
// BLOB_UNKNOWN / MANIFEST_UNKNOWN here.
//
// Crash safety: uploads are written under .plugctl/uploads and renamed into blobs/ only after
// their digest and size were verified; a manifest is stored (blob + link) before any index.json
// entry names it; index.json changes are atomic (OciLayoutTarget: temp + fsync + rename, under
// flock). A kill -9 at any point leaves every entry naming a complete manifest whose blobs are
// present; Open reclaims uploads older than options.stale_upload_age.
//
// Uploads keep a running sha256 in memory, so finishing does not read the file again; only an
// upload resumed after a restart, one whose last chunk failed, or one finished with a sha512
// digest is hashed from its file.
//
// Untrusted input: repository names are checked against the spec's grammar
// ([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*, ≤ 255 bytes) before
// any path is built; digests are parsed by oci::Digest; upload ids are 32 lowercase hex digits
// minted here; manifests are parsed by oci::Manifest (≤ 4 MiB) and every descriptor they name
// must be present in the repository.
//
// External writers: another process (plugctl mirror --to oci:DIR) may write the layout while the
// store serves it; the store notices a changed index.json (checked at most once a second) and
// reloads its view. Manifest GETs are served from that view and an in-memory cache of manifest
// bytes (options.manifest_cache_bytes), without reading index.json or parsing JSON.
//
// Thread safety: every method may be called concurrently from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/clock.h"
#include "plugctl/base/io.h"
#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/oci/digest.h"
#include "plugctl/server/api_error.h"

namespace plugctl::server {

namespace fs = std::filesystem;

inline constexpr std::string_view kRepositoryAnnotation = "dev.plugctl.repository";

struct StoreOptions {
  // Create DIR (and an empty layout in it) when missing.
  bool create = true;
  // Where plain-tag ref names ("1.0.0") are served.
  std::string default_repository = "default";
  // Uploads untouched for this long are removed (on Open and by ReclaimStaleUploads).
  std::chrono::seconds stale_upload_age = std::chrono::hours(1);
  // Bytes of manifests kept in memory for fast GETs.
  size_t manifest_cache_bytes = 64 << 20;
  // nullptr: the real clock. Not owned; must outlive the store. Drives the index.json check
  // interval and upload ages (tests pass a FakeClock).
  Clock* clock = nullptr;
};

// A blob opened for reading; the descriptor holds digest and size. Owns `fd` (closed by the
// destructor), so a concurrent gc removing the file does not cut a download short.
struct BlobFile {
  oci::Digest digest = oci::Digest::Of("");
  uint64_t size = 0;
  int fd = -1;
  BlobFile() = default;
  BlobFile(BlobFile&& other) noexcept;
  BlobFile& operator=(BlobFile&& other) noexcept;
  ~BlobFile();
};

struct ManifestRef {
  oci::Descriptor desc;  // media type, digest, size (and artifactType)
  std::shared_ptr<const std::string> bytes;
};

struct PutManifestResult {
  oci::Descriptor desc;
  std::optional<oci::Digest> subject;  // for the OCI-Subject response header
};

// Where an upload stands: bytes received so far (the spec's Range: 0-<offset-1>).
struct UploadState {
  std::string id;
  uint64_t offset = 0;
};

// A chunk's Content-Range "<start>-<end>" (inclusive), when the client sent one.
struct ChunkRange {
  uint64_t start = 0;
  uint64_t end = 0;
};

struct StorageStats {
  uint64_t blob_bytes = 0;
  uint64_t blob_count = 0;
  uint64_t repositories = 0;
  uint64_t uploads_in_progress = 0;
};

struct GcReport {
  std::vector<oci::Digest> removed;  // blobs removed (or, dry run, that would be)
  uint64_t removed_bytes = 0;
  uint64_t kept = 0;
};

struct TaggedEntry {
  std::string repository;
  std::string tag;
  oci::Descriptor desc;  // media type, digest, size
  // The plugins.properties key the index.json entry carries (oci::kAnnotationPluginName: a
  // bundle mirrored from such a list keeps it), "" when none.
  std::string listed_name;
};

struct TaggedEntries {
  // Changes whenever the store's view of index.json does (a push, a delete, an external write).
  uint64_t generation = 0;
  // Sorted by repository, then tag.
  std::vector<TaggedEntry> entries;
};

// NAME_INVALID unless `name` matches the spec's repository grammar (see the banner).
[[nodiscard]] ApiStatus ValidateRepositoryName(std::string_view name);

class RegistryStore {
 public:
  // Opens DIR (creating it when options.create), loads index.json, reclaims stale uploads.
  // Errors name DIR: not a layout, unreadable index.json, an index entry naming a missing blob.
  [[nodiscard]] static Result<std::unique_ptr<RegistryStore>> Open(const fs::path& dir,
                                                                   const StoreOptions& options);
  ~RegistryStore();

  // Messages about index.json entries that are ignored or shadowed (for the startup log).
  std::vector<std::string> Warnings() const;

  // Every tag of every repository.
  TaggedEntries Tagged();
  // Tagged().generation without building the list: cheap enough for every request.
  uint64_t Generation();

  // Repositories with at least one tag or untagged manifest, sorted.
  std::vector<std::string> Repositories();
  // Tags of `repository`, sorted. NAME_UNKNOWN if it has none and no manifests.
  [[nodiscard]] ApiResult<std::vector<std::string>> Tags(std::string_view repository);

  // `reference` is a tag or a digest. MANIFEST_UNKNOWN if absent from the repository (or
  // NAME_UNKNOWN when the repository does not exist); DIGEST_INVALID / MANIFEST_UNKNOWN for a
  // malformed reference.
  [[nodiscard]] ApiResult<ManifestRef> GetManifest(std::string_view repository,
                                                   std::string_view reference);
  // Stores `body` (≤ 4 MiB, else SIZE_INVALID/413) under its sha256 digest (or the sha512
  // digest `reference` names) and, when `reference` is a tag, points the tag at it.
  // MANIFEST_INVALID for unparsable bodies, a content_type that disagrees with the body's
  // mediaType, or an invalid tag (the error model has no TAG_INVALID); DIGEST_INVALID when
  // `reference` is a malformed digest or one the body does not hash to; MANIFEST_BLOB_UNKNOWN
  // when config, a layer or a child manifest is not in the repository (the subject need not
  // exist) — checked again under the layout lock, so a concurrent gc cannot remove them before
  // the entry is written.
  [[nodiscard]] ApiResult<PutManifestResult> PutManifest(std::string_view repository,
                                                         std::string_view reference,
                                                         std::string_view content_type,
                                                         std::string body);
  // By digest: the manifest leaves the repository with every tag naming it (its entries and its
  // link). By tag: only the tag goes; the manifest stays readable by digest until gc, which
  // collects it when no entry is left. MANIFEST_UNKNOWN if absent (a layer's digest included).
  [[nodiscard]] ApiStatus DeleteManifest(std::string_view repository, std::string_view reference);

  // The manifests in `repository` whose subject is `digest`, as descriptors (mediaType, digest,
  // size, artifactType — the config media type when the manifest has none — and annotations),
  // filtered by `artifact_type` when non-empty. Empty (not an error) when there are none.
  [[nodiscard]] ApiResult<std::vector<oci::Descriptor>> Referrers(std::string_view repository,
                                                                  std::string_view digest,
                                                                  std::string_view artifact_type);

  // BLOB_UNKNOWN if absent from the repository; DIGEST_INVALID if malformed.
  [[nodiscard]] ApiResult<BlobFile> OpenBlob(std::string_view repository, std::string_view digest);
  // The blob leaves the repository (its link is removed; gc reclaims the bytes). BLOB_UNKNOWN if
  // absent; UNSUPPORTED (nothing removed) when R has no link for it but holds it through a
  // manifest (delete the manifest instead).
  [[nodiscard]] ApiStatus DeleteBlob(std::string_view repository, std::string_view digest);

  // Monolithic upload (POST ?digest=): reads `body` to its end, verifying it hashes to
  // `digest` (DIGEST_INVALID otherwise, nothing stored) and, when `length` is given, that it
  // has that many bytes (SIZE_INVALID).
  [[nodiscard]] ApiResult<oci::Descriptor> PutBlob(std::string_view repository,
                                                   std::string_view digest,
                                                   std::optional<uint64_t> length, Reader& body);
  // Links a blob of `from` into `repository`. false (nothing done) when `from` does not hold
  // it or is not a valid name; the caller then starts an ordinary upload. DIGEST_INVALID for a
  // malformed digest.
  [[nodiscard]] ApiResult<bool> MountBlob(std::string_view repository, std::string_view from,
                                          std::string_view digest);

  [[nodiscard]] ApiResult<UploadState> StartUpload(std::string_view repository);
  // BLOB_UPLOAD_UNKNOWN for an unknown id or one of another repository.
  [[nodiscard]] ApiResult<UploadState> GetUpload(std::string_view repository, std::string_view id);
  // Appends `body`. With `range`, range->start must equal the current offset (else
  // BLOB_UPLOAD_INVALID with http_status 416, nothing appended) and the body must have
  // range->end - range->start + 1 bytes (SIZE_INVALID otherwise; the upload then stays at its
  // previous offset).
  [[nodiscard]] ApiResult<UploadState> AppendUpload(std::string_view repository,
                                                    std::string_view id,
                                                    std::optional<ChunkRange> range, Reader& body);
  // Appends `body` (may be empty), verifies the whole upload hashes to `digest` and moves it
  // into place. DIGEST_INVALID on mismatch (the upload is discarded); a malformed `digest` is
  // DIGEST_INVALID without touching the upload. Once verification started, the upload is gone
  // after, whatever the outcome.
  [[nodiscard]] ApiResult<oci::Descriptor> FinishUpload(std::string_view repository,
                                                        std::string_view id,
                                                        std::string_view digest, Reader& body);
  [[nodiscard]] ApiStatus CancelUpload(std::string_view repository, std::string_view id);

  // Removes uploads untouched for options.stale_upload_age (by options.clock; uploads found at
  // Open are aged by their file times). Uploads in use are skipped. Returns how many.
  size_t ReclaimStaleUploads();
  StorageStats Stats();

  // Removes blobs (and their link files) that no index.json entry reaches — tagged manifests,
  // and untagged ones pushed by digest (referrers) until they are deleted — through configs,
  // layers and index children. Link files naming a missing blob go too (not in a dry run).
  // Uploads in progress are not blobs yet and are left alone. Safe while a server uses DIR: it
  // holds the layout lock while it decides, and keeps blobs written (or uploaded again, or
  // mounted) in the last `grace`, so a push in flight (blobs first, manifest last) is never cut.
  [[nodiscard]] static Result<GcReport> CollectGarbage(
      const fs::path& dir, bool dry_run, std::chrono::seconds grace = std::chrono::minutes(10));

 private:
  struct Impl;
  explicit RegistryStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace plugctl::server
