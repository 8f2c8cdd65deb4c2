// plugctl/base/file.h — filesystem helpers with atomic-write and bounded-read
// contracts. std::filesystem exceptions never escape: every function uses the
// error_code overloads and returns Result.
//
//   PLUGCTL_ASSIGN_OR_RETURN(auto out, AtomicFileWriter::Create(dir / "index.json"));
//   PLUGCTL_RETURN_IF_ERROR(out->Write(json));
//   PLUGCTL_RETURN_IF_ERROR(out->Commit());  // fsync + rename; else nothing appears
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "plugctl/base/io.h"
#include "plugctl/base/status.h"

namespace plugctl {

namespace fs = std::filesystem;

// Opens a regular file for streaming reads. kNotFound if it does not exist.
[[nodiscard]] Result<std::unique_ptr<Reader>> OpenFileReader(const fs::path& path);

// Reads a whole file; kResourceExhausted if larger than max_bytes.
[[nodiscard]] Result<std::string> ReadFileBounded(const fs::path& path, size_t max_bytes);

// Writes data to path atomically (temp file in the same directory, fsync, rename).
[[nodiscard]] Status WriteFileAtomic(const fs::path& path, std::string_view data);

[[nodiscard]] Status CreateDirectories(const fs::path& path);

// Size of a regular file; kNotFound when missing.
[[nodiscard]] Result<uint64_t> FileSize(const fs::path& path);

// Removes path recursively; missing paths are not an error.
Status RemoveAll(const fs::path& path);

// A Writer to a temporary file beside `path` that becomes `path` only on
// Commit(). Destroying it uncommitted removes the temporary file, so a failed
// or interrupted write never leaves a partial file under the final name.
// Not thread-safe.
class AtomicFileWriter : public Writer {
 public:
  [[nodiscard]] static Result<std::unique_ptr<AtomicFileWriter>> Create(const fs::path& path);
  ~AtomicFileWriter() override;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  Status Write(std::string_view data) override;
  // Flushes, fsyncs and renames over the final path. Further writes fail.
  [[nodiscard]] Status Commit();
  // Removes the temporary file; idempotent.
  void Abort();

  const fs::path& path() const { return path_; }
  const fs::path& temp_path() const { return temp_path_; }

 private:
  AtomicFileWriter(fs::path path, fs::path temp_path, int fd, uint64_t cleanup_token);
  void Forget();  // the temp path is gone or renamed: no longer removed on interruption

  fs::path path_;
  fs::path temp_path_;
  int fd_;
  uint64_t cleanup_token_ = 0;  // base/cleanup.h
};

// An exclusive advisory lock (flock) on a lock file, released on destruction.
// Serializes writers across processes and threads.
class FileLock {
 public:
  [[nodiscard]] static Result<std::unique_ptr<FileLock>> Acquire(const fs::path& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

// The directory TempDir::Create uses when given no parent: "/tmp" unless set.
// The CLI sets it once at start-up from $TMPDIR (Environment snapshot), so
// the library never reads the environment; library users and tests may set
// it too, or pass a parent explicitly. Thread-safe.
void SetTempRoot(fs::path root);
fs::path TempRoot();

// An output directory a command may have to create: Prepare(dir) creates `dir` and any missing
// parents when absent, and the destructor removes what Prepare created (the topmost directory
// that did not exist) unless Keep() was called, so a failed command leaves nothing behind. An
// existing `dir` is used as it is and never removed.
class CreatedDirectory {
 public:
  CreatedDirectory() = default;
  ~CreatedDirectory();
  CreatedDirectory(const CreatedDirectory&) = delete;
  CreatedDirectory& operator=(const CreatedDirectory&) = delete;

  // kFailedPrecondition when `dir` exists and is not a directory.
  [[nodiscard]] Status Prepare(const fs::path& dir);
  void Keep() { keep_ = true; }

 private:
  fs::path created_;
  bool keep_ = false;
};

// A fresh directory (mkdtemp) removed recursively on destruction — and on SIGINT/SIGTERM
// once the CLI installed base/cleanup.h's handler. Named "<prefix>-p<PID>-XXXXXX"; creating
// one first removes stale ones of killed runs from the same parent (ReclaimStaleTempPaths).
class TempDir {
 public:
  // Creates the directory under `parent` (default: TempRoot()).
  [[nodiscard]] static Result<std::unique_ptr<TempDir>> Create(std::string_view prefix,
                                                               const fs::path& parent = {});
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }

 private:
  TempDir(fs::path path, uint64_t cleanup_token);
  fs::path path_;
  uint64_t cleanup_token_ = 0;
};

}  // namespace plugctl
