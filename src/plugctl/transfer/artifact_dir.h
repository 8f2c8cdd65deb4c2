// plugctl/transfer/artifact_dir.h — directories as ORAS layers: what `plugctl push REF DIR` packs
// and `plugctl pull --all` unpacks, in the shape `oras push ./dir` / `oras pull` use.
//
// A directory layer is a gzip-compressed tar whose entries are DIRNAME and DIRNAME/… (relative
// to the directory's parent), annotated:
//   org.opencontainers.image.title   DIRNAME (the base name)
//   io.deis.oras.content.unpack      "true"
//   io.deis.oras.content.digest      digest of the uncompressed tar
//
// Packing is reproducible: entries sorted by name at each level, mtime 0, uid/gid 0, no user or
// group names, modes 0755 (directories) and 0644 (files; executable bits are not kept), gzip
// without a timestamp. Only regular files and directories are packed: symlinks and special
// files are refused (a symlink's meaning depends on where it is unpacked).
//
//   PLUGCTL_ASSIGN_OR_RETURN(PackedDirectory p, PackDirectory("./docs", "docs", tmp / "0.tgz"));
//   ...
//   PLUGCTL_RETURN_IF_ERROR(UnpackDirectory(verifying, "docs", p.tar_digest, staging / "0", {},
//                                           "layers[0] (docs)"));
//   // staging/0/docs is the tree
//
// Thread-safety: reentrant.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "plugctl/base/io.h"
#include "plugctl/base/status.h"
#include "plugctl/oci/digest.h"

namespace plugctl::transfer {

// ORAS's annotations on a directory layer.
inline constexpr std::string_view kOrasUnpackAnnotation = "io.deis.oras.content.unpack";
inline constexpr std::string_view kOrasContentDigestAnnotation = "io.deis.oras.content.digest";
// The media type of a directory layer unless one is given (ORAS's).
inline constexpr std::string_view kDefaultDirectoryMediaType =
    "application/vnd.oci.image.layer.v1.tar+gzip";

struct PackedDirectory {
  // Of the compressed file written.
  oci::Digest digest;
  int64_t size = 0;
  // Of the tar before compression (io.deis.oras.content.digest).
  oci::Digest tar_digest;
};

// Streams a gzip-compressed tar of `dir` to `out_file` (created; replaced atomically), entries
// named `title` and `title`/…. Files are read once, never held in memory.
// Errors: kNotFound for a missing `dir`; kInvalidArgument naming the path for a symlink, a
// special file (device, FIFO, socket) or a path too long for the tar writer; kDataLoss when a
// file changes size while it is read; I/O errors naming the file.
[[nodiscard]] Result<PackedDirectory> PackDirectory(const std::filesystem::path& dir,
                                                    std::string_view title,
                                                    const std::filesystem::path& out_file);

struct UnpackLimits {
  uint64_t max_entries = 1'000'000;
  // File data in all, after decompression.
  uint64_t max_bytes = uint64_t{16} << 30;
};

// Extracts the directory layer read from `layer` (tar, tar+gzip or tar+zstd) into `dest`, which
// must not exist (its parent must): dest/<title> is then the tree. Reads `layer` to its end (so
// a VerifyingReader around it has checked the digest once this returns). ORAS's rule: every
// entry is `title` or lies below it.
// Refused (nothing left at `dest`): entries outside `title` (kInvalidArgument), what
// archive::ExtractTo refuses (absolute paths, "..", devices, links leaving the tree or pointing
// at directories — links to files inside become copies, no symlink is ever created), more than
// the limits (kResourceExhausted), a layer holding nothing named `title` (kInvalidArgument), an
// uncompressed tar whose digest is not `tar_digest` when given, corrupt compression, or more than
// 1 MiB after the tar's end (kDataLoss); errors of `layer` as they are. `what` labels errors.
[[nodiscard]] Status UnpackDirectory(Reader& layer, std::string_view title,
                                     const std::optional<oci::Digest>& tar_digest,
                                     const std::filesystem::path& dest, const UnpackLimits& limits,
                                     std::string_view what);

}  // namespace plugctl::transfer
