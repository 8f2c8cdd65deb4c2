// Directory plugctl/transfer/: the copy engine, locations, mirror lists, plans and runs.
// plugctl/transfer/copy.h — the one copy engine.
//
// Copies an image (a manifest, or an index and everything below it) from any
// store::Target to any other. Pull, push, copy, mirror and export are all this
// function with different targets.
//
// Guarantees:
//  - Digests are preserved: manifests are moved as their exact bytes, never
//    re-serialized.
//  - Every byte read from the source is verified against its descriptor while
//    streaming (oci::VerifyingReader); the destination's Push sees that reader and
//    completes its own write only once it verified (oci::EnsureVerifying: one hash, not two).
//  - Blobs the destination already has are skipped (incremental copies).
//  - Children are stored before their parents, so a destination never holds a
//    manifest whose blobs are missing, even if the copy is interrupted.
//  - Blob transfers run in parallel, at most `concurrency` at once.
//  - The destination is NOT committed: call dst.Commit() after the last copy
//    (archives write their file once for many images).
//
//   CopyOptions opts{.concurrency = 4, .tags = {"1.0.0"}};
//   PLUGCTL_ASSIGN_OR_RETURN(CopyResult r, CopyImage(src, "1.0.0", dst, opts));
//   PLUGCTL_RETURN_IF_ERROR(dst.Commit());
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/store/target.h"

namespace plugctl::transfer {

struct ProgressEvent {
  enum class Kind {
    kPlanned,   // the graph is known: `total_blobs` and `total_bytes` are set
    kStarted,   // a blob transfer began
    kBytes,     // `bytes` more bytes of `descriptor` arrived
    kSkipped,   // the destination already had `descriptor`
    kFinished,  // `descriptor` is stored at the destination
  };
  Kind kind;
  const oci::Descriptor* descriptor = nullptr;  // valid during the call only
  uint64_t bytes = 0;
  uint64_t total_blobs = 0;
  uint64_t total_bytes = 0;
};

// Called from worker threads, possibly concurrently: must be thread-safe.
using ProgressCallback = std::function<void(const ProgressEvent&)>;

struct CopyOptions {
  // Blob transfers in flight at once (ORAS pulls with 3, pushes with 5).
  int concurrency = 3;
  // Tags to point at the copied root at the destination.
  std::vector<std::string> tags;
  ProgressCallback progress;
  // Limits on what a (hostile) source may make us walk.
  int max_index_depth = 4;
  size_t max_manifests = 1000;
  // Whole-blob attempts when a transfer fails with kUnavailable.
  int blob_attempts = 3;
};

struct CopyResult {
  oci::Descriptor root;
  uint64_t manifests = 0;
  uint64_t blobs_copied = 0;
  uint64_t blobs_skipped = 0;
  // Blobs the destination registry mounted from the source repository.
  uint64_t blobs_mounted = 0;
  uint64_t bytes_copied = 0;
};

// Resolves `src_reference` in src (see store::Target::Resolve) and copies the
// image graph to dst. Errors carry the failing descriptor and target as
// context; the first error stops the copy (in-flight transfers finish or
// fail, nothing half-written stays at dst).
[[nodiscard]] Result<CopyResult> CopyImage(store::Target& src, std::string_view src_reference,
                                           store::Target& dst, const CopyOptions& options);

// As CopyImage, starting from an already resolved root descriptor.
[[nodiscard]] Result<CopyResult> CopyGraph(store::Target& src, const oci::Descriptor& root,
                                           store::Target& dst, const CopyOptions& options);

}  // namespace plugctl::transfer
