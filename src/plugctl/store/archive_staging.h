// plugctl/store/archive_staging.h — internal helpers of the archive targets (oci-archive,
// docker-archive): extracting an archive into a staging layout, writing one back atomically,
// reading manifests out of a target. Not part of the public store API.
//
//   PLUGCTL_RETURN_IF_ERROR(internal::ExtractArchiveFile(file, staging / "layout"));
//   PLUGCTL_RETURN_IF_ERROR(internal::WriteArchiveFileAtomically(file, [&](auto& tar) {
//     PLUGCTL_RETURN_IF_ERROR(internal::AddLayoutMetadata(layout.dir(), tar));
//     return internal::AddLayoutBlobs(layout, tar);
//   }));
#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

#include "plugctl/archive/tar.h"
#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/store/oci_layout.h"
#include "plugctl/store/target.h"

namespace plugctl::store::internal {

// Extracts what the tar (plain, gzip or zstd) at `file` references into `dir`, which must not
// exist, with archive::ExtractTo's safety rules (checked for every member). Only "oci-layout",
// "index.json" and "manifest.json", the blobs their descriptors reach (index children, configs,
// layers, recursively) and the members docker's manifest.json names are written: a member
// nothing references costs no disk however big it is, and a referenced blob larger than its
// descriptor declares is refused (kDataLoss), so extraction is bounded by the declared sizes
// plus the metadata allowance. Several passes over the file (one per manifest level). Links
// become hard links (see archive::ExtractInto). Errors are prefixed with `describe`.
[[nodiscard]] Status ExtractArchiveFile(const fs::path& file, const fs::path& dir,
                                        std::string_view describe,
                                        const archive::ExtractOptions& options = {});

// Fails with kNotFound unless the directory that will hold `file` exists, so that a write
// target fails at open time rather than at Commit.
[[nodiscard]] Status CheckParentDirectory(const fs::path& file, std::string_view describe);

// For writers that replace `file` whole: OK when `file` does not exist, is empty, or is a tar
// holding a member named `marker` (e.g. docker's "manifest.json"); kFailedPrecondition naming
// the file otherwise (anything else is someone's unrelated data, or not a regular file).
// Reads member headers only; never blocks on special files.
[[nodiscard]] Status CheckReplaceableArchive(const fs::path& file, std::string_view marker,
                                             std::string_view kind, std::string_view describe);

// Writes a deterministic, uncompressed tar to a temporary file beside `file` through `body`
// and renames it over `file` only if everything succeeded.
[[nodiscard]] Status WriteArchiveFileAtomically(
    const fs::path& file, const std::function<Status(archive::TarWriter&)>& body);

// Adds a regular file of the staging tree under its archive name.
[[nodiscard]] Status AddFileFromDisk(archive::TarWriter& tar, const fs::path& path,
                                     std::string_view name);

// Adds "oci-layout" and "index.json" of the layout at `layout_dir`.
[[nodiscard]] Status AddLayoutMetadata(const fs::path& layout_dir, archive::TarWriter& tar);

// Adds "blobs/", "blobs/<alg>/" and every blob, sorted by digest.
[[nodiscard]] Status AddLayoutBlobs(OciLayoutTarget& layout, archive::TarWriter& tar);

// The kFailedPrecondition error of Push/Tag on a target opened with OpenMode::kRead.
tl::unexpected<Error> ReadOnlyError(std::string_view describe, std::string_view operation);

}  // namespace plugctl::store::internal
