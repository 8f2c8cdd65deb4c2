#include "plugctl/transfer/artifact_dir.h"

#include <algorithm>
#include <string>
#include <system_error>
#include <vector>

#include "plugctl/archive/compress.h"
#include "plugctl/archive/tar.h"
#include "plugctl/base/file.h"

namespace plugctl::transfer {
namespace {

namespace fs = std::filesystem;

// What comes after the tar's end-of-archive marker (record padding) is hashed but not kept;
// more than this is not padding.
constexpr uint64_t kMaxTrailingBytes = 1 << 20;

// Forwards to `out`, hashing and counting what passes.
class HashingWriter : public Writer {
 public:
  explicit HashingWriter(Writer& out) : out_(out) {}
  Status Write(std::string_view data) override {
    hasher_.Update(data);
    size_ += data.size();
    return out_.Write(data);
  }
  oci::Digest Finish() { return hasher_.Finish(); }
  uint64_t size() const { return size_; }

 private:
  Writer& out_;
  oci::Hasher hasher_;
  uint64_t size_ = 0;
};

// Hashes and counts what is read through it.
class HashingReader : public Reader {
 public:
  explicit HashingReader(Reader& in) : in_(in) {}
  Result<size_t> Read(std::span<char> out) override {
    PLUGCTL_ASSIGN_OR_RETURN(size_t n, in_.Read(out));
    hasher_.Update(std::string_view(out.data(), n));
    size_ += n;
    return n;
  }
  oci::Digest Finish() { return hasher_.Finish(); }
  uint64_t size() const { return size_; }

 private:
  Reader& in_;
  oci::Hasher hasher_;
  uint64_t size_ = 0;
};

// Adds `dir` as `name` and everything below it, sorted by name at each level.
Status AddTree(archive::TarWriter& tar, const fs::path& dir, const std::string& name) {
  PLUGCTL_RETURN_IF_ERROR(tar.AddDirectory(name));
  std::error_code ec;
  std::vector<std::string> children;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    children.push_back(it->path().filename().string());
  }
  if (ec) {
    return MakeError(ErrorCode::kPermissionDenied, "{}: cannot list: {}", dir.string(),
                     ec.message());
  }
  std::sort(children.begin(), children.end());
  for (const std::string& child : children) {
    fs::path path = dir / child;
    std::string entry = name + "/" + child;
    fs::file_status st = fs::symlink_status(path, ec);
    if (ec) {
      return MakeError(ErrorCode::kPermissionDenied, "{}: {}", path.string(), ec.message());
    }
    if (fs::is_symlink(st)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{} is a symlink: plugctl packs only files and directories (put the file "
                       "itself there)",
                       path.string());
    }
    if (fs::is_directory(st)) {
      PLUGCTL_RETURN_IF_ERROR(AddTree(tar, path, entry));
      continue;
    }
    if (!fs::is_regular_file(st)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{} is a special file (device, FIFO or socket): refusing to pack it",
                       path.string());
    }
    PLUGCTL_ASSIGN_OR_RETURN(auto reader, OpenFileReader(path));
    uint64_t size = fs::file_size(path, ec);
    if (ec) return MakeError(ErrorCode::kPermissionDenied, "{}: {}", path.string(), ec.message());
    Status added = tar.AddFile(entry, size, *reader);
    if (!added) return tl::unexpected(added.error().WithContext(path.string()));
  }
  return OkStatus();
}

}  // namespace

Result<PackedDirectory> PackDirectory(const fs::path& dir, std::string_view title,
                                      const fs::path& out_file) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(dir, ec)) && !fs::is_directory(fs::status(dir, ec))) {
    return MakeError(ErrorCode::kNotFound, "{}: no such directory", dir.string());
  }
  PLUGCTL_ASSIGN_OR_RETURN(auto out, AtomicFileWriter::Create(out_file));
  HashingWriter compressed(*out);
  PLUGCTL_ASSIGN_OR_RETURN(auto gzip, archive::CompressingWriter::Create(
                                          compressed, archive::Compression::kGzip, dir.string()));
  HashingWriter plain(*gzip);
  PLUGCTL_ASSIGN_OR_RETURN(auto tar, archive::TarWriter::Create(plain, {}, dir.string()));
  PLUGCTL_RETURN_IF_ERROR(AddTree(*tar, dir, std::string(title)));
  PLUGCTL_RETURN_IF_ERROR(tar->Finish());
  PLUGCTL_RETURN_IF_ERROR(gzip->Finish());
  PLUGCTL_RETURN_IF_ERROR(out->Commit());
  PackedDirectory packed{.digest = compressed.Finish(),
                         .size = static_cast<int64_t>(compressed.size()),
                         .tar_digest = plain.Finish()};
  return packed;
}

Status UnpackDirectory(Reader& layer, std::string_view title,
                       const std::optional<oci::Digest>& tar_digest, const fs::path& dest,
                       const UnpackLimits& limits, std::string_view what) {
  PLUGCTL_ASSIGN_OR_RETURN(auto plain,
                           archive::DecompressingReader::Open(layer, std::string(what)));
  HashingReader hashed(*plain);
  PLUGCTL_ASSIGN_OR_RETURN(auto tar, archive::TarReader::Open(hashed, std::string(what)));
  // ExtractTo keeps everything inside `dest` (paths, links, types, sizes); ORAS's rule that
  // entries lie below the title is checked on what it wrote, before anything moves on.
  archive::ExtractOptions options{.max_entries = limits.max_entries,
                                  .max_total_bytes = limits.max_bytes,
                                  .resolve_links = true};
  PLUGCTL_RETURN_IF_ERROR(archive::ExtractTo(*tar, dest, options));
  // From here on `dest` exists: remove it on every failure.
  struct RemoveOnFailure {
    const fs::path& path;
    bool keep = false;
    ~RemoveOnFailure() {
      std::error_code ignored;
      if (!keep) fs::remove_all(path, ignored);
    }
  } cleanup{dest};

  std::string outside;
  std::error_code ec;
  for (fs::directory_iterator it(dest, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name != title) {
      outside = name;
      break;
    }
  }
  if (!outside.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: entry \"{}\" is not inside \"{}/\" (a directory layer holds only its "
                     "title's tree)",
                     what, outside, title);
  }
  if (!fs::exists(fs::symlink_status(dest / std::string(title), ec))) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: holds nothing named \"{}\"", what, title);
  }

  // The rest of the uncompressed stream (record padding) belongs to the tar's digest.
  std::string buffer(64 * 1024, '\0');
  uint64_t at_end = hashed.size();
  for (;;) {
    PLUGCTL_ASSIGN_OR_RETURN(size_t n, hashed.Read(std::span<char>(buffer.data(), buffer.size())));
    if (n == 0) break;
    if (hashed.size() - at_end > kMaxTrailingBytes) {
      return MakeError(ErrorCode::kDataLoss, "{}: more than {} bytes after the tar's end", what,
                       kMaxTrailingBytes);
    }
  }
  // And the compressed stream to its end, so the caller's verification sees all of it.
  for (;;) {
    PLUGCTL_ASSIGN_OR_RETURN(size_t n, layer.Read(std::span<char>(buffer.data(), buffer.size())));
    if (n == 0) break;
  }
  oci::Digest got = hashed.Finish();
  if (tar_digest && got != *tar_digest) {
    return MakeError(ErrorCode::kDataLoss, "{}: the uncompressed tar is {}, but {} says {}", what,
                     got.ToString(), kOrasContentDigestAnnotation, tar_digest->ToString());
  }
  cleanup.keep = true;
  return OkStatus();
}

}  // namespace plugctl::transfer
