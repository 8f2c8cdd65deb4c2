// Directory plugctl/store/: the Target interface, its capabilities, and local targets.
// plugctl/store/target.h — the one abstraction for "a place that holds images".
//
// A registry repository, an OCI image layout directory, an OCI archive, a
// docker archive and an extracted plugin directory are all Targets. The copy
// engine (plugctl/transfer) moves content between any two of them, so pull,
// push, copy, mirror and export are one algorithm.
//
// Content is addressed by Descriptor (media type, digest, size). Manifests and
// indexes are content like blobs; a target tells them apart by media type
// (oci::IsManifestOrIndexType) where it stores them differently.
//
// Thread safety: Fetch, Exists and Push may be called concurrently from
// several threads for different descriptors; Resolve, Tag, Tags and Commit
// are called from one thread at a time.
//
//   PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor root, src.Resolve("1.0.0"));
//   PLUGCTL_ASSIGN_OR_RETURN(auto reader, src.Fetch(root));
//   PLUGCTL_RETURN_IF_ERROR(dst.Push(root, *reader));
//   PLUGCTL_RETURN_IF_ERROR(dst.Tag(root, "1.0.0"));
//   PLUGCTL_RETURN_IF_ERROR(dst.Commit());
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/io.h"
#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/store/capabilities.h"

namespace plugctl::store {

class Target {
 public:
  virtual ~Target() = default;

  // How the user would write this target, e.g. "oci:/srv/layout",
  // "docker-archive:/tmp/x.tar". For messages.
  virtual std::string Describe() const = 0;

  // Resolves a tag, a digest string ("sha256:…"), or "" (the target's only
  // image, if it has exactly one) to the descriptor of a manifest or index.
  // kNotFound if absent; kFailedPrecondition if "" is ambiguous.
  [[nodiscard]] virtual Result<oci::Descriptor> Resolve(std::string_view reference) = 0;

  // Streams the stored bytes of a blob or manifest. The reader does NOT
  // verify: wrap it in oci::VerifyingReader where the bytes are trusted.
  // kNotFound if absent.
  [[nodiscard]] virtual Result<std::unique_ptr<Reader>> Fetch(const oci::Descriptor& desc) = 0;

  // Whether content with desc.digest is stored.
  [[nodiscard]] virtual Result<bool> Exists(const oci::Descriptor& desc) = 0;

  // Stores content, verifying digest and size while streaming. On mismatch:
  // kDataLoss, and nothing is stored (no partial file, no index entry).
  // Pushing content that already exists succeeds (and may skip reading).
  [[nodiscard]] virtual Status Push(const oci::Descriptor& desc, Reader& content) = 0;

  // Points `tag` at the manifest or index `desc`, which must already be stored.
  // What a tag may be depends on the target (a registry tag; an OCI layout
  // ref name; a docker archive "name:tag").
  [[nodiscard]] virtual Status Tag(const oci::Descriptor& desc, std::string_view tag) = 0;

  // The tags, sorted.
  [[nodiscard]] virtual Result<std::vector<std::string>> Tags() = 0;

  // Makes everything pushed and tagged durable. Archive targets write their
  // file here (atomically); a target destroyed before Commit leaves its
  // previous state untouched. Idempotent.
  [[nodiscard]] virtual Status Commit() = 0;

  // Optional capabilities (capabilities.h): null when this target has none of that kind.
  // Registry repositories have the first four; OCI layouts and archives the last.
  virtual Mounter* mounter() { return nullptr; }
  virtual TagPusher* tag_pusher() { return nullptr; }
  virtual Deleter* deleter() { return nullptr; }
  virtual ReferrerLister* referrer_lister() { return nullptr; }
  // OCI layouts and OCI archives only (their ReferrerLister scans index.json).
  virtual TagAnnotator* tag_annotator() { return nullptr; }
  virtual ReferrerRecorder* referrer_recorder() { return nullptr; }
};

}  // namespace plugctl::store
