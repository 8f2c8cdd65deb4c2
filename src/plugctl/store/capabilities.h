// plugctl/store/capabilities.h — what some targets can do beyond store::Target.
//
// A registry repository can mount blobs from another repository, store a manifest under a tag in
// one request, delete content and list referrers; layouts and archives cannot. Rather than
// downcasting to the registry's class, callers ask the target for the capability (as ORAS asks
// for its Mounter and ReferrerLister interfaces); a null answer means "not supported here":
//
//   if (store::Deleter* deleter = target.deleter()) {
//     PLUGCTL_RETURN_IF_ERROR(deleter->Delete(desc));
//   }
//
// A capability lives as long as the target that returned it, and follows that target's thread
// safety (see each interface).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/io.h"
#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/oci/digest.h"

namespace plugctl::store {

// Where a blob can be mounted from: one repository of one registry connection.
struct MountSource {
  // Identifies the registry connection (session) the repository is reached through. Compared
  // by identity only, never dereferenced: mounts happen only between repositories of one
  // session (same registry, same credentials).
  const void* registry = nullptr;
  std::string repository;
};

// Cross-repository blob mount (distribution-spec: POST /v2/<name>/blobs/uploads/?mount=&from=).
// Thread-safe like Target::Push.
class Mounter {
 public:
  virtual ~Mounter() = default;

  // This target as a source of mounts into other targets.
  virtual MountSource mount_source() const = 0;

  // Makes the blob `desc` of `from` stored here without transferring its bytes. Returns false,
  // sending nothing, when `from` is reached through another registry connection or is this very
  // repository; returns false too (nothing stored) when the registry declines the mount — the
  // caller then uploads. Errors only for failures of the request itself.
  [[nodiscard]] virtual Result<bool> MountFrom(const oci::Descriptor& desc,
                                               const MountSource& from) = 0;
};

// Stores a manifest or index and points a tag at it in one request (a registry stores a
// manifest PUT by tag under its digest too). Same contract as Target::Push followed by
// Target::Tag; called from one thread at a time, like Tag.
class TagPusher {
 public:
  virtual ~TagPusher() = default;
  [[nodiscard]] virtual Status PushTagged(const oci::Descriptor& desc, Reader& content,
                                          std::string_view tag) = 0;
};

// Deletes stored content. For a manifest, every tag naming it goes with it (registries delete
// manifests by digest). Called from one thread at a time.
class Deleter {
 public:
  virtual ~Deleter() = default;
  [[nodiscard]] virtual Status Delete(const oci::Descriptor& desc) = 0;
};

// Lists the manifests whose subject is `digest` (OCI referrers), optionally only those of
// `artifact_type` ("" for all). Called from one thread at a time.
class ReferrerLister {
 public:
  virtual ~ReferrerLister() = default;
  [[nodiscard]] virtual Result<std::vector<oci::Descriptor>> Referrers(
      const oci::Digest& digest, std::string_view artifact_type) = 0;
};

// Keeps a stored manifest whose `subject` is set reachable on a target without a referrers API
// or tags to spare (OCI layouts and archives: an untagged index.json entry, which the image
// layout allows), so its ReferrerLister finds it. Idempotent; called from one thread at a time.
class ReferrerRecorder {
 public:
  virtual ~ReferrerRecorder() = default;
  [[nodiscard]] virtual Status RecordReferrer(const oci::Descriptor& desc) = 0;
};

// Tags with extra annotations on the tag's index entry (OCI layouts and OCI archives, whose
// index.json entries carry annotations; a registry tag has nowhere to keep them). Same contract
// as Target::Tag, which it replaces; called from one thread at a time, like Tag.
class TagAnnotator {
 public:
  virtual ~TagAnnotator() = default;
  [[nodiscard]] virtual Status TagWithAnnotations(const oci::Descriptor& desc, std::string_view tag,
                                                  const oci::Annotations& extra) = 0;
};

}  // namespace plugctl::store
