#include "plugctl/store/archive_staging.h"

#include <set>
#include <system_error>

#include "plugctl/base/file.h"
#include "plugctl/oci/verifying_reader.h"

namespace plugctl::store::internal {

Status ExtractArchiveFile(const fs::path& file, const fs::path& dir, std::string_view describe,
                          const archive::ExtractOptions& options) {
  Result<std::unique_ptr<archive::TarReader>> tar = archive::TarReader::Open(file);
  if (!tar) return tl::unexpected(tar.error().WithContext(describe));
  Status st = archive::ExtractTo(**tar, dir, options);
  if (!st) return tl::unexpected(st.error().WithContext(describe));
  return OkStatus();
}

Status CheckParentDirectory(const fs::path& file, std::string_view describe) {
  fs::path parent = file.parent_path();
  if (parent.empty()) parent = ".";
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) {
    return MakeError(ErrorCode::kNotFound, "{}: directory {} does not exist", describe,
                     parent.string());
  }
  if (fs::is_directory(file, ec)) {
    return MakeError(ErrorCode::kFailedPrecondition, "{}: {} is a directory", describe,
                     file.string());
  }
  return OkStatus();
}

Status CheckReplaceableArchive(const fs::path& file, std::string_view marker, std::string_view kind,
                               std::string_view describe) {
  auto refuse = [&](std::string_view why) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "{}: the existing file is not {} ({}); refusing to replace it", describe, kind,
                     why);
  };
  std::error_code ec;
  fs::file_status st = fs::status(file, ec);
  if (!fs::exists(st)) return OkStatus();
  if (!fs::is_regular_file(st)) return refuse("not a regular file");
  if (fs::file_size(file, ec) == 0 && !ec) return OkStatus();
  Result<std::unique_ptr<archive::TarReader>> tar = archive::TarReader::Open(file);
  if (!tar) return refuse("not a tar archive");
  for (;;) {
    Result<std::optional<archive::TarEntry>> entry = (*tar)->Next();
    if (!entry) return refuse("not a readable tar archive");
    if (!*entry) return refuse(fmt::format("no {} member", marker));
    Result<std::string> path = archive::SanitizeEntryPath((*entry)->path);
    if (path && *path == marker && (*entry)->type == archive::EntryType::kFile) return OkStatus();
  }
}

Status WriteArchiveFileAtomically(const fs::path& file,
                                  const std::function<Status(archive::TarWriter&)>& body) {
  PLUGCTL_ASSIGN_OR_RETURN(auto out, AtomicFileWriter::Create(file));
  PLUGCTL_ASSIGN_OR_RETURN(auto tar, archive::TarWriter::Create(*out, {}, file.string()));
  PLUGCTL_RETURN_IF_ERROR(body(*tar));
  PLUGCTL_RETURN_IF_ERROR(tar->Finish());
  // `out` is removed by its destructor on every earlier return, leaving `file` untouched.
  return out->Commit();
}

Status AddFileFromDisk(archive::TarWriter& tar, const fs::path& path, std::string_view name) {
  PLUGCTL_ASSIGN_OR_RETURN(uint64_t size, FileSize(path));
  PLUGCTL_ASSIGN_OR_RETURN(auto reader, OpenFileReader(path));
  return tar.AddFile(name, size, *reader);
}

Status AddLayoutMetadata(const fs::path& layout_dir, archive::TarWriter& tar) {
  PLUGCTL_RETURN_IF_ERROR(AddFileFromDisk(tar, layout_dir / "oci-layout", "oci-layout"));
  return AddFileFromDisk(tar, layout_dir / "index.json", "index.json");
}

Status AddLayoutBlobs(OciLayoutTarget& layout, archive::TarWriter& tar) {
  PLUGCTL_ASSIGN_OR_RETURN(std::vector<oci::Digest> blobs, layout.ListBlobs());
  PLUGCTL_RETURN_IF_ERROR(tar.AddDirectory("blobs"));
  std::set<std::string> dirs;
  for (const oci::Digest& digest : blobs) {
    std::string alg(digest.algorithm_name());
    if (dirs.insert(alg).second) PLUGCTL_RETURN_IF_ERROR(tar.AddDirectory("blobs/" + alg));
    PLUGCTL_RETURN_IF_ERROR(
        AddFileFromDisk(tar, layout.BlobPath(digest), "blobs/" + alg + "/" + digest.hex()));
  }
  return OkStatus();
}

tl::unexpected<Error> ReadOnlyError(std::string_view describe, std::string_view operation) {
  return MakeError(ErrorCode::kFailedPrecondition, "{}: opened read-only; cannot {}", describe,
                   operation);
}

}  // namespace plugctl::store::internal
