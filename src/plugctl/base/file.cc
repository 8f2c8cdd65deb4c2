#include "plugctl/base/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include <sys/file.h>
#include <sys/stat.h>

#include "plugctl/base/cleanup.h"

namespace plugctl {
namespace {

Error ErrnoError(int err, std::string_view what, const fs::path& path) {
  ErrorCode code = ErrorCode::kInternal;
  if (err == ENOENT || err == ENOTDIR) code = ErrorCode::kNotFound;
  if (err == EACCES || err == EPERM || err == EROFS) code = ErrorCode::kPermissionDenied;
  if (err == EEXIST) code = ErrorCode::kAlreadyExists;
  if (err == ENOSPC || err == EDQUOT) code = ErrorCode::kResourceExhausted;
  return Error(code, fmt::format("{} {}: {}", what, path.string(), std::strerror(err)));
}

class FdReader : public Reader {
 public:
  FdReader(int fd, fs::path path) : fd_(fd), path_(std::move(path)) {}
  ~FdReader() override { ::close(fd_); }
  Result<size_t> Read(std::span<char> out) override {
    for (;;) {
      ssize_t n = ::read(fd_, out.data(), out.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return tl::unexpected(ErrnoError(errno, "read", path_));
    }
  }

 private:
  int fd_;
  fs::path path_;
};

Status WriteAllFd(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return tl::unexpected(ErrnoError(errno, "write", path));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<Reader>> OpenFileReader(const fs::path& path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
  // forever (and a device could block too). Only a regular file is accepted,
  // and for a regular file the flag has no effect on reads; it is cleared
  // anyway so the descriptor behaves as a plain blocking one.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return tl::unexpected(ErrnoError(errno, "open", path));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return MakeError(ErrorCode::kInvalidArgument, "{} is not a regular file", path.string());
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    Error err = ErrnoError(errno, "open", path);
    ::close(fd);
    return tl::unexpected(err);
  }
  return std::unique_ptr<Reader>(std::make_unique<FdReader>(fd, path));
}

Result<std::string> ReadFileBounded(const fs::path& path, size_t max_bytes) {
  PLUGCTL_ASSIGN_OR_RETURN(auto reader, OpenFileReader(path));
  return ReadAllBounded(*reader, max_bytes, path.string());
}

Status WriteFileAtomic(const fs::path& path, std::string_view data) {
  PLUGCTL_ASSIGN_OR_RETURN(auto writer, AtomicFileWriter::Create(path));
  PLUGCTL_RETURN_IF_ERROR(writer->Write(data));
  return writer->Commit();
}

Status CreateDirectories(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) {
    return MakeError(ErrorCode::kInternal, "create directory {}: {}", path.string(), ec.message());
  }
  return OkStatus();
}

Result<uint64_t> FileSize(const fs::path& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return tl::unexpected(ErrnoError(errno, "stat", path));
  if (!S_ISREG(st.st_mode)) {
    return MakeError(ErrorCode::kInvalidArgument, "{} is not a regular file", path.string());
  }
  return static_cast<uint64_t>(st.st_size);
}

Status RemoveAll(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return MakeError(ErrorCode::kInternal, "remove {}: {}", path.string(), ec.message());
  return OkStatus();
}

Result<std::unique_ptr<AtomicFileWriter>> AtomicFileWriter::Create(const fs::path& path) {
  fs::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  ReclaimStaleTempPathsOnce(dir);
  std::string templ =
      (dir / fmt::format(".{}.tmp-p{}-XXXXXX", path.filename().string(), ::getpid())).string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  int fd = -1;
  int err = 0;
  fs::path temp;
  uint64_t token = CreateRegisteredTempPath(
      [&]() -> fs::path {
        fd = ::mkostemp(buf.data(), O_CLOEXEC);
        err = errno;
        return fd < 0 ? fs::path() : fs::path(buf.data());
      },
      &temp);
  if (fd < 0) return tl::unexpected(ErrnoError(err, "create temporary file for", path));
  ::fchmod(fd, 0644);
  return std::unique_ptr<AtomicFileWriter>(new AtomicFileWriter(path, temp, fd, token));
}

AtomicFileWriter::AtomicFileWriter(fs::path path, fs::path temp_path, int fd,
                                   uint64_t cleanup_token)
    : path_(std::move(path)),
      temp_path_(std::move(temp_path)),
      fd_(fd),
      cleanup_token_(cleanup_token) {}

void AtomicFileWriter::Forget() {
  if (cleanup_token_ != 0) UnregisterTempPath(cleanup_token_);
  cleanup_token_ = 0;
}

AtomicFileWriter::~AtomicFileWriter() { Abort(); }

Status AtomicFileWriter::Write(std::string_view data) {
  if (fd_ < 0) {
    return MakeError(ErrorCode::kFailedPrecondition, "write after commit: {}", path_.string());
  }
  return WriteAllFd(fd_, data, temp_path_);
}

Status AtomicFileWriter::Commit() {
  if (fd_ < 0) return MakeError(ErrorCode::kFailedPrecondition, "commit twice: {}", path_.string());
  if (::fsync(fd_) != 0) {
    Error err = ErrnoError(errno, "fsync", temp_path_);
    Abort();
    return tl::unexpected(err);
  }
  ::close(fd_);
  fd_ = -1;
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    Error err = ErrnoError(errno, "rename onto", path_);
    ::unlink(temp_path_.c_str());
    Forget();
    return tl::unexpected(err);
  }
  temp_path_.clear();
  Forget();
  return OkStatus();
}

void AtomicFileWriter::Abort() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
  }
  Forget();
}

Result<std::unique_ptr<FileLock>> FileLock::Acquire(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return tl::unexpected(ErrnoError(errno, "open lock", path));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      Error err = ErrnoError(errno, "lock", path);
      ::close(fd);
      return tl::unexpected(err);
    }
  }
  return std::unique_ptr<FileLock>(new FileLock(fd));
}

FileLock::~FileLock() {
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

namespace {
std::mutex& TempRootMutex() {
  static std::mutex mu;
  return mu;
}
fs::path& TempRootPath() {
  static fs::path root;
  return root;
}
}  // namespace

void SetTempRoot(fs::path root) {
  std::lock_guard lock(TempRootMutex());
  TempRootPath() = std::move(root);
}

fs::path TempRoot() {
  std::lock_guard lock(TempRootMutex());
  return TempRootPath().empty() ? fs::path("/tmp") : TempRootPath();
}

CreatedDirectory::~CreatedDirectory() {
  if (!created_.empty() && !keep_) {
    std::error_code ec;
    fs::remove_all(created_, ec);
  }
}

Status CreatedDirectory::Prepare(const fs::path& dir) {
  std::error_code ec;
  fs::file_status st = fs::status(dir, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) {
      return MakeError(ErrorCode::kFailedPrecondition, "{} exists and is not a directory",
                       dir.string());
    }
    return OkStatus();
  }
  fs::path abs = fs::absolute(dir, ec);
  if (ec) return MakeError(ErrorCode::kInternal, "{}: {}", dir.string(), ec.message());
  abs = abs.lexically_normal();
  if (abs.filename().empty()) abs = abs.parent_path();
  fs::path top = abs;
  for (fs::path p = abs.parent_path(); p != top && !fs::exists(p, ec); p = p.parent_path()) {
    top = p;
  }
  PLUGCTL_RETURN_IF_ERROR(CreateDirectories(dir));
  created_ = top;
  return OkStatus();
}

Result<std::unique_ptr<TempDir>> TempDir::Create(std::string_view prefix, const fs::path& parent) {
  const fs::path base = parent.empty() ? TempRoot() : parent;
  ReclaimStaleTempPathsOnce(base);
  std::string templ = (base / fmt::format("{}-p{}-XXXXXX", prefix, ::getpid())).string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  int err = 0;
  fs::path made;
  uint64_t token = CreateRegisteredTempPath(
      [&]() -> fs::path {
        if (::mkdtemp(buf.data()) != nullptr) return fs::path(buf.data());
        err = errno;
        return fs::path();
      },
      &made);
  if (made.empty()) return tl::unexpected(ErrnoError(err, "create temporary directory in", base));
  return std::unique_ptr<TempDir>(new TempDir(made, token));
}

TempDir::TempDir(fs::path path, uint64_t cleanup_token)
    : path_(std::move(path)), cleanup_token_(cleanup_token) {}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
  UnregisterTempPath(cleanup_token_);
}

}  // namespace plugctl
