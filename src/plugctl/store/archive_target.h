// plugctl/store/archive_target.h — what the single-file archive targets share.
//
// oci-archive and docker-archive targets are a tar file plus a staging OCI layout in a
// temporary directory ($TMPDIR): opening for reading extracts the tar safely into the staging
// layout and serves from it; opening for writing collects pushes there and Commit() writes the
// tar to a temporary file beside the target and renames it over the target. A target destroyed
// without Commit() leaves the file as it was and removes its staging directory.
//
//   PLUGCTL_ASSIGN_OR_RETURN(auto dst, OpenOciArchive("bundle.tar", OpenMode::kWrite));
//   ... dst->Push(...); dst->Tag(...);
//   PLUGCTL_RETURN_IF_ERROR(dst->Commit());
#pragma once

namespace plugctl::store {

enum class OpenMode {
  // Serve the archive's content; Push and Tag fail with kFailedPrecondition.
  kRead,
  // Collect content; Commit() (re)writes the file atomically.
  kWrite,
};

}  // namespace plugctl::store
