// plugctl/store/oci_layout.h — an OCI image layout directory as a Target.
//
// OCI image-spec image-layout.md: `oci-layout` ({"imageLayoutVersion":"1.0.0"}), `index.json`
// (an OCI index whose manifests entries are the layout's images) and `blobs/<alg>/<hex>`.
// A tag is the `org.opencontainers.image.ref.name` annotation of an index.json entry and may be
// any string, including a full reference such as "reg.io/x:1.0" (multi-image bundles). Layouts
// written by skopeo, ORAS and `docker save` (25+) are readable; for the latter, an entry's
// `io.containerd.image.name` also counts as a tag, and a tag like "x:1.0" matches the normalized
// "docker.io/library/x:1.0".
//
//   PLUGCTL_ASSIGN_OR_RETURN(auto layout, OciLayoutTarget::Open(dir, {.create = true}));
//   PLUGCTL_RETURN_IF_ERROR(layout->Push(desc, reader));
//   PLUGCTL_RETURN_IF_ERROR(layout->Tag(manifest_desc, "1.0.0"));
//
// Durability: Push and Tag take effect immediately (temp file + fsync + rename); Commit is a
// no-op. Writers serialize index.json updates with flock(2) on `<dir>/index.json.lock`, a file
// this class creates beside index.json and leaves in place (deleting lock files races), so
// several threads and processes may tag the same layout concurrently. Blobs are written to a
// temporary `blobs/<alg>/.<hex>.tmp-XXXXXX` file and renamed into place only after their digest
// and size were verified.
//
// Untrusted input: index.json and manifests read for Resolve are bounded to 4 MiB; blob paths
// are built only from validated Digests; an index.json that is not valid JSON, has a
// schemaVersion other than 2 or names a missing blob yields a one-line error naming index.json.
//
// Thread safety: as store::Target (Fetch, Exists, Push concurrently; the rest one at a time).
// Several OciLayoutTarget objects, in any processes, may share a directory.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/store/target.h"

namespace plugctl::store {

namespace fs = std::filesystem;

struct OciLayoutOptions {
  // Create the directory (and parents), `oci-layout`, an empty `index.json` and `blobs/` when
  // missing. Without it, a directory lacking `oci-layout` is kNotFound. Even with it, a
  // non-empty directory without `oci-layout` is refused (kFailedPrecondition) rather than
  // turned into a layout.
  bool create = false;
  // Replaces "oci:<dir>" in Describe() and error messages, and files are then named
  // "<display_name>: index.json" rather than by their path. Archive targets serving a staging
  // directory set it to their own name ("oci-archive:/x.tar") so users never see the staging
  // path.
  std::string display_name = {};
};

// The name of the lock file beside index.json.
inline constexpr std::string_view kOciLayoutLockFile = "index.json.lock";

class OciLayoutTarget : public Target,
                        public TagAnnotator,
                        public ReferrerLister,
                        public ReferrerRecorder {
 public:
  // Opens (or creates) a layout. Errors: kNotFound (no layout and !create), kInvalidArgument
  // (oci-layout unreadable or imageLayoutVersion not 1.x), kFailedPrecondition (see create).
  [[nodiscard]] static Result<std::unique_ptr<OciLayoutTarget>> Open(
      const fs::path& dir, const OciLayoutOptions& options = {});

  // "oci:<dir>".
  std::string Describe() const override;

  // "" → the only entry of index.json (kNotFound if none, kFailedPrecondition listing the tags
  // if several); "sha256:…" → the index.json entry with that digest, or else any stored blob
  // that parses as a manifest or index; otherwise a tag (see the banner). A tag matching
  // entries with different digests is kFailedPrecondition. kDataLoss if the entry's blob is
  // missing. The returned descriptor is the index.json entry (annotations included).
  [[nodiscard]] Result<oci::Descriptor> Resolve(std::string_view reference) override;
  [[nodiscard]] Result<std::unique_ptr<Reader>> Fetch(const oci::Descriptor& desc) override;
  [[nodiscard]] Result<bool> Exists(const oci::Descriptor& desc) override;
  // Already-stored blobs succeed without reading `content`.
  [[nodiscard]] Status Push(const oci::Descriptor& desc, Reader& content) override;
  // `desc` must be a manifest or index (by media type) and stored. An existing entry with the
  // same ref name is replaced in place; the new entry keeps desc's media type, digest, size,
  // platform and artifactType, and gets only the ref-name annotation. Tags must be non-empty,
  // at most 4096 bytes, without control characters.
  [[nodiscard]] Status Tag(const oci::Descriptor& desc, std::string_view tag) override;
  // Like Tag, adding `extra` annotations to the entry (e.g. io.containerd.image.name).
  [[nodiscard]] Status TagWithAnnotations(const oci::Descriptor& desc, std::string_view tag,
                                          const oci::Annotations& extra) override;
  TagAnnotator* tag_annotator() override { return this; }
  // Referrers are the index.json entries (tagged or not) whose manifest has that subject; the
  // layout has no other index of them. Each entry's manifest is read (4 MiB at most each);
  // entries whose manifest is missing or unreadable are skipped.
  [[nodiscard]] Result<std::vector<oci::Descriptor>> Referrers(
      const oci::Digest& digest, std::string_view artifact_type) override;
  ReferrerLister* referrer_lister() override { return this; }
  // Adds `desc` (a stored manifest) as an untagged index.json entry unless an entry has it.
  [[nodiscard]] Status RecordReferrer(const oci::Descriptor& desc) override;
  ReferrerRecorder* referrer_recorder() override { return this; }
  // Ref names and containerd image names of the index.json entries, sorted, deduplicated.
  [[nodiscard]] Result<std::vector<std::string>> Tags() override;
  [[nodiscard]] Status Commit() override;

  // The index.json entries as stored (validated descriptors, annotations included).
  [[nodiscard]] Result<std::vector<oci::Descriptor>> Entries();

  // What EditEntries does to index.json: entries at the `remove` indexes go; `add` entries are
  // inserted where the first removed entry was (so a replaced entry keeps its place), else
  // appended.
  struct EntryEdit {
    std::vector<size_t> remove;
    std::vector<oci::Descriptor> add;
  };
  // A read-modify-write of index.json for writers that need more than Tag: removing entries,
  // entries without a ref name, replacing several entries with one. `edit` runs under the
  // layout lock (so no other writer, in any process, changes index.json between what it sees
  // and what is written) with the current entries; its error aborts the edit. Like Tag, every
  // added entry must be a stored manifest or index (kFailedPrecondition otherwise), untouched
  // entries are kept exactly as found (unknown fields included), and an edit that changes
  // nothing writes nothing.
  [[nodiscard]] Status EditEntries(
      const std::function<Result<EntryEdit>(const std::vector<oci::Descriptor>&)>& edit);
  // Every stored blob (files under blobs/ with valid digest names), sorted by digest.
  [[nodiscard]] Result<std::vector<oci::Digest>> ListBlobs();

  // blobs/<alg>/<hex> below the layout root.
  fs::path BlobPath(const oci::Digest& digest) const;
  const fs::path& dir() const { return dir_; }

 private:
  OciLayoutTarget(fs::path dir, std::string display_name)
      : dir_(std::move(dir)), display_name_(std::move(display_name)) {}

  // How errors name a file of the layout (`relative` to its root).
  std::string Label(std::string_view relative) const;

  fs::path dir_;
  std::string display_name_;
};

}  // namespace plugctl::store
