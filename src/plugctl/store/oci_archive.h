// plugctl/store/oci_archive.h — an OCI image layout packed in one tar file ("oci-archive:",
// as skopeo and buildah name it).
//
// Reading accepts plain and gzip'd (or zstd) tars whose members form an OCI layout; members are
// extracted with archive::ExtractTo's rules (no links, no escapes) into a private staging
// directory, then served like OciLayoutTarget. Writing stages into an OCI layout (starting
// from the existing file's content when there is one, so tagging into a bundle updates it) and
// Commit() writes an uncompressed, deterministic tar: oci-layout, index.json, blobs/,
// blobs/<alg>/, then every staged blob sorted by digest (blobs of an updated archive stay even
// if no tag references them any more). See archive_target.h for the commit/rollback contract.
//
//   PLUGCTL_ASSIGN_OR_RETURN(std::unique_ptr<Target> out,
//                            OpenOciArchive("plugins.tar", OpenMode::kWrite));
//   ... push and tag "reg.example.com/plugins/basic-auth:1.0.0" ...
//   PLUGCTL_RETURN_IF_ERROR(out->Commit());
//
// Thread safety: as store::Target.
#pragma once

#include <filesystem>
#include <memory>

#include "plugctl/base/status.h"
#include "plugctl/store/archive_target.h"
#include "plugctl/store/target.h"

namespace plugctl::store {

// Opens `file`. kRead: kNotFound if missing; kInvalidArgument / kDataLoss for files that are not
// (intact) tars; kNotFound if the tar holds no oci-layout. kWrite: kNotFound if the parent
// directory is missing; an existing file must be an OCI archive (kFailedPrecondition otherwise:
// it is never silently replaced by something else).
[[nodiscard]] Result<std::unique_ptr<Target>> OpenOciArchive(const std::filesystem::path& file,
                                                             OpenMode mode);

}  // namespace plugctl::store
