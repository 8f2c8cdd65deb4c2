// Directory plugctl/archive/: tar reading and writing over libarchive (gzip, zstd), safely.
// plugctl/archive/tar.h — streaming tar reading and writing (libarchive behind a small
// interface), safe extraction, and deterministic archive output.
//
// Reading auto-detects uncompressed, gzip and zstd input and accepts the tar variants only
// (ustar, pax, GNU). Entry data is streamed in chunks, never buffered whole:
//
//   PLUGCTL_ASSIGN_OR_RETURN(auto tar, archive::TarReader::Open(path));
//   for (;;) {
//     PLUGCTL_ASSIGN_OR_RETURN(std::optional<archive::TarEntry> entry, tar->Next());
//     if (!entry) break;
//     if (entry->type == archive::EntryType::kFile) {
//       PLUGCTL_ASSIGN_OR_RETURN(uint64_t n, CopyStream(tar->data(), sink));
//     }
//   }
//
// Writing is deterministic: the same calls always produce the same bytes (fixed mtime, uid/gid
// 0, no user/group names, fixed modes, gzip without timestamp or file name):
//
//   PLUGCTL_ASSIGN_OR_RETURN(auto out, AtomicFileWriter::Create(path));
//   PLUGCTL_ASSIGN_OR_RETURN(auto tar, archive::TarWriter::Create(*out, {.compression = ...}));
//   PLUGCTL_RETURN_IF_ERROR(tar->AddFile("plugin.wasm", size, reader));
//   PLUGCTL_RETURN_IF_ERROR(tar->Finish());
//   PLUGCTL_RETURN_IF_ERROR(out->Commit());
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "plugctl/base/io.h"
#include "plugctl/base/status.h"

namespace plugctl::archive {

namespace fs = std::filesystem;

// Entry paths longer than this are rejected (by the reader, the writer and
// SanitizeEntryPath); PATH_MAX on Linux.
inline constexpr size_t kMaxEntryPathBytes = 4096;

enum class EntryType { kFile, kDirectory, kSymlink, kHardlink, kOther };

// "file", "directory", "symlink", "hardlink", "special file".
std::string_view EntryTypeName(EntryType type);

struct TarEntry {
  // The path exactly as stored in the archive: NOT sanitized (see SanitizeEntryPath). Never
  // contains NUL (libarchive hands names over as C strings) and is never empty.
  std::string path;
  EntryType type = EntryType::kFile;
  // Data bytes that data() will yield; 0 for everything but kFile (and hard links with data).
  uint64_t size = 0;
  // Symlink or hardlink target; empty otherwise.
  std::string link_target;
  // Permission bits (e.g. 0644).
  uint32_t mode = 0;
};

// Normalizes an archive member path for use below a directory: "./a//b/" -> "a/b".
// kInvalidArgument (naming the path) for empty paths or ones that normalize to nothing ("."),
// absolute paths, any ".." component, NUL bytes and paths over kMaxEntryPathBytes.
[[nodiscard]] Result<std::string> SanitizeEntryPath(std::string_view path);

// Reads a tar stream entry by entry. Not thread-safe; single pass.
class TarReader {
 public:
  // Opens a file. kNotFound when missing. `name` in errors is the path.
  [[nodiscard]] static Result<std::unique_ptr<TarReader>> Open(const fs::path& path);
  // Reads from `stream`, which must outlive the TarReader. `name` labels errors.
  [[nodiscard]] static Result<std::unique_ptr<TarReader>> Open(Reader& stream, std::string name);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // Advances to the next entry; std::nullopt at the end of the archive. Unread data of the
  // previous entry is skipped. Errors: kInvalidArgument when the input is not a (supported) tar
  // or an entry is malformed (path too long); kDataLoss for truncated or corrupt input; errors of
  // the underlying stream as they are. After an error every call fails.
  [[nodiscard]] Result<std::optional<TarEntry>> Next();

  // The data of the current entry, streamed. Reads after the entry's end return 0; reads before
  // the first Next() or after the next Next() read the then-current entry. Owned by the
  // TarReader.
  Reader& data();

  // The archive name used in errors.
  const std::string& name() const;

 private:
  struct Impl;
  explicit TarReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Whether to write one archive member, and how big it may be.
struct MemberSelection {
  bool extract = true;
  // A selected file whose header declares more bytes is refused (kDataLoss naming it).
  uint64_t max_bytes = UINT64_MAX;
};

// The archive path a link entry points at (normalized, checked like SanitizeEntryPath): hard
// link targets are archive paths, symlink targets are relative to the link's directory.
// kInvalidArgument for targets leaving the archive; `entry` must be a link.
[[nodiscard]] Result<std::string> ResolveLinkTarget(const std::string& sanitized_path,
                                                    const TarEntry& entry);

struct ExtractOptions {
  // Refuse archives with more entries than this (kResourceExhausted).
  uint64_t max_entries = 1'000'000;
  // Refuse archives whose file data adds up to more than this (kResourceExhausted).
  uint64_t max_total_bytes = UINT64_MAX;
  // false: symlinks and hard links are refused. true: a link whose target (after following
  // further links) is a regular file of the same archive is materialized as a copy of that
  // file (a hard link inside the extraction directory); no symlink is ever created. A link
  // that is absolute, leaves the archive ("../x"), dangles, loops or points at a directory is
  // still refused. docker save archives need this: they link duplicate and legacy-path layers.
  bool resolve_links = false;
  // When set, asked for every file and (with resolve_links) link entry, by sanitized path,
  // after the safety checks above (which apply to every entry, selected or not). Declined
  // entries are skipped without writing anything, so an archive's unreferenced members cost
  // no disk. A link is only materialized when selected, and its target must be a file
  // extracted by this or an earlier pass into the same directory.
  std::function<MemberSelection(const std::string& path, const TarEntry& entry)> select;
};

// Extracts every remaining entry of `tar` into `dir`, which must not exist yet or be an empty
// directory; its parent must exist. Only regular files and directories are accepted (and links,
// see ExtractOptions::resolve_links): symlinks, hard links and devices fail with
// kInvalidArgument naming the entry, as do paths that SanitizeEntryPath rejects ("../x", "/x").
// Directory entries that normalize to nothing ("./") are skipped. Files are written with mode
// 0644, directories 0755 (archive modes are ignored); a later entry with the same path replaces
// the earlier one.
//
// All-or-nothing: entries go to a temporary directory beside `dir` that is renamed to `dir` only
// after the whole archive was read; on any failure nothing is left behind. Files are not
// fsync'd (extraction feeds staging directories); callers needing durability must sync.
[[nodiscard]] Status ExtractTo(TarReader& tar, const fs::path& dir,
                               const ExtractOptions& options = {});

// Like ExtractTo, but into the existing directory `root` (typically a private TempDir), in
// place and not atomically: files of the same path are replaced, and on failure what was
// written stays for the caller to remove. Meant for several selective passes over one archive
// (ExtractOptions::select). Links are materialized as hard links (one inode, however many
// links); where the filesystem refuses (EMLINK), one copy is made and later links share it.
// Copies count against max_total_bytes.
[[nodiscard]] Status ExtractInto(TarReader& tar, const fs::path& root,
                                 const ExtractOptions& options = {});

enum class Compression { kNone, kGzip, kZstd };

struct TarWriterOptions {
  Compression compression = Compression::kNone;
  // Modification time (seconds since the epoch) of every entry.
  int64_t mtime = 0;
};

// Writes a deterministic tar stream: pax-restricted format (plain ustar headers, with a pax
// extended header only for entries ustar cannot express such as long paths), uid/gid 0, empty
// uname/gname, mode 0644 files and 0755 directories, the given mtime. Not thread-safe.
//
// The output is complete only after Finish(); a TarWriter destroyed earlier leaves a truncated
// stream (write to an AtomicFileWriter and Commit only after Finish()). After any error every
// further call fails.
class TarWriter {
 public:
  // `out` must outlive the TarWriter. `name` labels errors. kUnimplemented if the compression
  // is not built into libarchive.
  [[nodiscard]] static Result<std::unique_ptr<TarWriter>> Create(
      Writer& out, const TarWriterOptions& options = {}, std::string name = "tar stream");
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // Adds a directory entry. `path` is sanitized (SanitizeEntryPath) first.
  [[nodiscard]] Status AddDirectory(std::string_view path);
  // Adds a regular file of exactly `size` bytes streamed from `content`; kDataLoss if content
  // is shorter or longer. `path` is sanitized first.
  [[nodiscard]] Status AddFile(std::string_view path, uint64_t size, Reader& content);
  // Convenience for small in-memory files.
  [[nodiscard]] Status AddFile(std::string_view path, std::string_view content);
  // Writes the end-of-archive marker and flushes the compressor.
  [[nodiscard]] Status Finish();

 private:
  struct Impl;
  explicit TarWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace plugctl::archive
