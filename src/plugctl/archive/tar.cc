#include "plugctl/archive/tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "plugctl/archive/libarchive_glue.h"
#include "plugctl/base/file.h"

namespace plugctl::archive {
namespace {

bool ContainsNoCase(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char x, char y) {
                          return std::tolower(static_cast<unsigned char>(x)) ==
                                 std::tolower(static_cast<unsigned char>(y));
                        });
  return it != haystack.end();
}

}  // namespace

std::string_view EntryTypeName(EntryType type) {
  switch (type) {
    case EntryType::kFile:
      return "file";
    case EntryType::kDirectory:
      return "directory";
    case EntryType::kSymlink:
      return "symlink";
    case EntryType::kHardlink:
      return "hardlink";
    case EntryType::kOther:
      break;
  }
  return "special file";
}

Result<std::string> SanitizeEntryPath(std::string_view path) {
  if (path.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty archive entry path");
  if (path.size() > kMaxEntryPathBytes) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "archive entry path is longer than {} bytes: \"{}...\"", kMaxEntryPathBytes,
                     path.substr(0, 64));
  }
  if (path.find('\0') != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "archive entry path contains a NUL byte: \"{}\"",
                     path.substr(0, path.find('\0')));
  }
  if (path.front() == '/') {
    return MakeError(ErrorCode::kInvalidArgument, "archive entry path is absolute: \"{}\"", path);
  }
  std::string out;
  out.reserve(path.size());
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(start, end - start);
    if (component == "..") {
      return MakeError(ErrorCode::kInvalidArgument,
                       "archive entry path escapes its directory (\"..\"): \"{}\"", path);
    }
    // "" comes from "a//b" or a trailing slash, "." from "./a": both mean nothing.
    if (!component.empty() && component != ".") {
      if (!out.empty()) out.push_back('/');
      out.append(component);
    }
    start = end + 1;
  }
  if (out.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "archive entry path names no file: \"{}\"", path);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// TarReader

struct TarReader::Impl {
  // The entry data stream handed out by data().
  class EntryData : public Reader {
   public:
    explicit EntryData(Impl* impl) : impl_(impl) {}
    Result<size_t> Read(std::span<char> out) override { return impl_->ReadData(out); }

   private:
    Impl* impl_;
  };

  Impl(std::string archive_name, std::unique_ptr<Reader> owned_stream, Reader* source)
      : name(std::move(archive_name)), owned(std::move(owned_stream)), client(*source) {}
  ~Impl() {
    if (a != nullptr) archive_read_free(a);
  }

  // The error for a failed libarchive call. Errors of our own stream win: they are what
  // really happened (e.g. a verification failure). A tar that cannot even produce its first
  // header is "not a tar" (invalid argument); a failure later means the content is damaged.
  Error Fail(std::string_view doing) {
    failed = true;
    if (client.error) return *client.error;
    std::string msg = LibarchiveError(a);
    ErrorCode code = ErrorCode::kDataLoss;
    if (entries == 0 && !ContainsNoCase(msg, "truncated")) code = ErrorCode::kInvalidArgument;
    if (entries == 0 && ContainsNoCase(msg, "Unrecognized archive format")) {
      msg = "not a tar archive (plain, gzip or zstd)";
    }
    Error err(code, fmt::format("{}: {}: {}", name, doing, msg));
    failed_error = err;
    return err;
  }

  Result<size_t> ReadData(std::span<char> out) {
    if (failed) return tl::unexpected(FailedError());
    if (!have_entry || out.empty()) return 0;
    la_ssize_t n = archive_read_data(a, out.data(), out.size());
    if (n < 0) {
      return tl::unexpected(Fail(fmt::format("read data of \"{}\"", current_path)));
    }
    return static_cast<size_t>(n);
  }

  Error FailedError() const {
    if (client.error) return *client.error;
    if (failed_error) return *failed_error;
    return Error(ErrorCode::kFailedPrecondition, fmt::format("{}: reader failed earlier", name));
  }

  // Configures libarchive for `impl` and opens the stream.
  static Result<std::unique_ptr<Impl>> Start(std::unique_ptr<Impl> impl) {
    impl->a = archive_read_new();
    if (impl->a == nullptr) {
      return MakeError(ErrorCode::kInternal, "{}: cannot allocate libarchive reader", impl->name);
    }
    PLUGCTL_RETURN_IF_ERROR(SupportInProcessFilters(impl->a, impl->name));
    archive_read_support_format_tar(impl->a);
    if (archive_read_open(impl->a, &impl->client, nullptr, &ArchiveReadClient::Callback, nullptr) !=
        ARCHIVE_OK) {
      return tl::unexpected(impl->Fail("open"));
    }
    return impl;
  }

  std::string name;
  std::unique_ptr<Reader> owned;  // the stream `client` reads, when the reader owns it
  ArchiveReadClient client;
  struct archive* a = nullptr;
  std::optional<Error> failed_error;
  bool failed = false;
  bool at_end = false;
  bool have_entry = false;
  uint64_t entries = 0;
  std::string current_path;
  EntryData data{this};
};

TarReader::TarReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TarReader::~TarReader() = default;

Result<std::unique_ptr<TarReader>> TarReader::Open(const fs::path& path) {
  PLUGCTL_ASSIGN_OR_RETURN(std::unique_ptr<Reader> file, OpenFileReader(path));
  Reader* raw = file.get();
  auto impl = std::make_unique<Impl>(path.string(), std::move(file), raw);
  PLUGCTL_ASSIGN_OR_RETURN(impl, Impl::Start(std::move(impl)));
  return std::unique_ptr<TarReader>(new TarReader(std::move(impl)));
}

Result<std::unique_ptr<TarReader>> TarReader::Open(Reader& stream, std::string name) {
  auto impl = std::make_unique<Impl>(std::move(name), nullptr, &stream);
  PLUGCTL_ASSIGN_OR_RETURN(impl, Impl::Start(std::move(impl)));
  return std::unique_ptr<TarReader>(new TarReader(std::move(impl)));
}

Reader& TarReader::data() { return impl_->data; }

const std::string& TarReader::name() const { return impl_->name; }

Result<std::optional<TarEntry>> TarReader::Next() {
  Impl& impl = *impl_;
  if (impl.failed) return tl::unexpected(impl.FailedError());
  if (impl.at_end) return std::optional<TarEntry>();
  impl.have_entry = false;
  struct archive_entry* e = nullptr;
  int r = archive_read_next_header(impl.a, &e);
  if (r == ARCHIVE_EOF) {
    impl.at_end = true;
    return std::optional<TarEntry>();
  }
  // ARCHIVE_WARN: the entry is usable (e.g. an ignored malformed pax attribute).
  if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
    return tl::unexpected(
        impl.Fail(impl.entries == 0 ? std::string("read first header")
                                    : fmt::format("read header after \"{}\"", impl.current_path)));
  }
  ++impl.entries;
  const char* name = archive_entry_pathname(e);
  if (name == nullptr || *name == '\0') {
    impl.failed = true;
    impl.failed_error = Error(ErrorCode::kInvalidArgument,
                              fmt::format("{}: entry {} has no path", impl.name, impl.entries));
    return tl::unexpected(*impl.failed_error);
  }
  TarEntry entry;
  entry.path = name;
  if (entry.path.size() > kMaxEntryPathBytes) {
    impl.failed = true;
    impl.failed_error = Error(ErrorCode::kInvalidArgument,
                              fmt::format("{}: entry {} has a path longer than {} bytes", impl.name,
                                          impl.entries, kMaxEntryPathBytes));
    return tl::unexpected(*impl.failed_error);
  }
  const char* hardlink = archive_entry_hardlink(e);
  if (hardlink != nullptr) {
    entry.type = EntryType::kHardlink;
    entry.link_target = hardlink;
  } else {
    switch (archive_entry_filetype(e)) {
      case AE_IFREG:
        entry.type = EntryType::kFile;
        break;
      case AE_IFDIR:
        entry.type = EntryType::kDirectory;
        break;
      case AE_IFLNK: {
        entry.type = EntryType::kSymlink;
        const char* target = archive_entry_symlink(e);
        if (target != nullptr) entry.link_target = target;
        break;
      }
      default:
        entry.type = EntryType::kOther;
        break;
    }
  }
  int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
  entry.size = size > 0 ? static_cast<uint64_t>(size) : 0;
  entry.mode = static_cast<uint32_t>(archive_entry_perm(e));
  impl.current_path = entry.path;
  impl.have_entry = true;
  return std::optional<TarEntry>(std::move(entry));
}

// ---------------------------------------------------------------------------------------------
// ExtractTo

namespace {

Status EnsureDirectory(const fs::path& root, const std::string& relative,
                       const std::string& entry_path, const std::string& archive_name) {
  std::error_code ec;
  fs::create_directories(root / relative, ec);
  if (ec) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: entry \"{}\": cannot create directory \"{}\" (a file is in the way?): {}",
                     archive_name, entry_path, relative, ec.message());
  }
  return OkStatus();
}

// Writes one file of the private extraction tree. No temp-and-rename per file and no fsync:
// the whole tree becomes visible at once through ExtractTo's final rename, and staging copies
// need no crash durability (an fsync per member made extraction I/O-bound).
class StagingFileWriter : public Writer {
 public:
  static Result<std::unique_ptr<StagingFileWriter>> Create(const fs::path& path) {
    // O_NOFOLLOW: defense in depth; the tree never holds symlinks.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      return MakeError(ErrorCode::kInternal, "create {}: {}", path.string(), std::strerror(errno));
    }
    return std::unique_ptr<StagingFileWriter>(new StagingFileWriter(fd, path));
  }
  ~StagingFileWriter() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Write(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        ErrorCode code = errno == ENOSPC || errno == EDQUOT ? ErrorCode::kResourceExhausted
                                                            : ErrorCode::kInternal;
        return MakeError(code, "write {}: {}", path_.string(), std::strerror(errno));
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return OkStatus();
  }
  Status Close() {
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
      return MakeError(ErrorCode::kInternal, "close {}: {}", path_.string(), std::strerror(errno));
    }
    return OkStatus();
  }

 private:
  StagingFileWriter(int fd, fs::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  fs::path path_;
};

// A link waiting for the end of the archive (its target may come later).
struct PendingLink {
  std::string target;      // archive-relative, normalized
  std::string entry_path;  // as in the archive, for messages
};

// Resolves a symlink's target against the directory holding the link, lexically, refusing
// anything that would leave the archive root.
Result<std::string> ResolveSymlinkTarget(const std::string& link, const std::string& target) {
  if (target.empty() || target.front() == '/') {
    return MakeError(ErrorCode::kInvalidArgument, "symlink target \"{}\" is absolute or empty",
                     target.substr(0, 256));
  }
  std::vector<std::string> parts;
  std::string joined = fs::path(link).parent_path().string();
  if (!joined.empty()) joined += '/';
  joined += target;
  size_t start = 0;
  while (start <= joined.size()) {
    size_t end = joined.find('/', start);
    if (end == std::string::npos) end = joined.size();
    std::string part = joined.substr(start, end - start);
    if (part == "..") {
      if (parts.empty()) {
        return MakeError(ErrorCode::kInvalidArgument, "symlink target \"{}\" leaves the archive",
                         target.substr(0, 256));
      }
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    start = end + 1;
  }
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) out += '/';
    out += part;
  }
  return SanitizeEntryPath(out);
}

Status MaterializeLinks(const std::map<std::string, PendingLink>& links, const fs::path& root,
                        const std::string& archive_name, uint64_t max_total_bytes,
                        uint64_t total_bytes) {
  constexpr int kMaxLinkDepth = 32;
  // Archive file -> the inode later links share: the file itself, or the one copy made when
  // the filesystem refused more hard links to it (EMLINK). Tens of thousands of links to one
  // file thus cost one inode (or a few), never one copy each.
  std::map<std::string, fs::path> shared;
  for (const auto& [path, link] : links) {
    std::string source = link.target;
    for (int depth = 0; links.count(source) > 0; ++depth) {
      if (depth >= kMaxLinkDepth) {
        return MakeError(ErrorCode::kInvalidArgument, "{}: entry \"{}\": too many levels of links",
                         archive_name, link.entry_path);
      }
      source = links.at(source).target;
    }
    std::error_code ec;
    if (!fs::is_regular_file(fs::symlink_status(root / source, ec))) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{}: entry \"{}\" links to \"{}\", which is not a file of the archive",
                       archive_name, link.entry_path, source);
    }
    fs::path dest = root / path;
    std::string parent = fs::path(path).parent_path().string();
    if (!parent.empty()) {
      PLUGCTL_RETURN_IF_ERROR(EnsureDirectory(root, parent, link.entry_path, archive_name));
    }
    fs::file_status st = fs::symlink_status(dest, ec);
    if (fs::is_directory(st)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{}: entry \"{}\" is a link but an earlier entry made it a directory",
                       archive_name, link.entry_path);
    }
    if (fs::exists(st)) fs::remove(dest, ec);
    // The extraction directory is private and never modified in place, so sharing the inode
    // is as good as a copy, and free.
    auto [it, fresh] = shared.emplace(source, root / source);
    (void)fresh;
    ec.clear();
    fs::create_hard_link(it->second, dest, ec);
    if (!ec) continue;
    // Too many links to that inode, or a filesystem without hard links: copy, within the
    // byte budget, and let the next links share the copy.
    uintmax_t size = fs::file_size(it->second, ec);
    if (ec || size > max_total_bytes - total_bytes) {
      return MakeError(ErrorCode::kResourceExhausted,
                       "{}: entry \"{}\": copying linked \"{}\" would exceed {} bytes",
                       archive_name, link.entry_path, source, max_total_bytes);
    }
    total_bytes += size;
    fs::copy_file(it->second, dest, ec);
    if (ec) {
      return MakeError(ErrorCode::kInternal, "{}: entry \"{}\": cannot copy \"{}\": {}",
                       archive_name, link.entry_path, source, ec.message());
    }
    it->second = dest;
  }
  return OkStatus();
}

Status ExtractEntries(TarReader& tar, const fs::path& root, const ExtractOptions& options) {
  uint64_t entries = 0;
  uint64_t total_bytes = 0;
  std::map<std::string, PendingLink> links;
  for (;;) {
    PLUGCTL_ASSIGN_OR_RETURN(std::optional<TarEntry> entry, tar.Next());
    if (!entry) {
      return MaterializeLinks(links, root, tar.name(), options.max_total_bytes, total_bytes);
    }
    if (++entries > options.max_entries) {
      return MakeError(ErrorCode::kResourceExhausted, "{}: more than {} entries", tar.name(),
                       options.max_entries);
    }
    bool is_link = entry->type == EntryType::kSymlink || entry->type == EntryType::kHardlink;
    if (is_link && options.resolve_links) {
      Result<std::string> relative = SanitizeEntryPath(entry->path);
      if (!relative) return tl::unexpected(relative.error().WithContext(tar.name()));
      // Hard link targets are archive paths; symlink targets are relative to the link.
      Result<std::string> target = entry->type == EntryType::kHardlink
                                       ? SanitizeEntryPath(entry->link_target)
                                       : ResolveSymlinkTarget(*relative, entry->link_target);
      if (!target) {
        return tl::unexpected(
            target.error().WithContext(fmt::format("{}: entry \"{}\"", tar.name(), entry->path)));
      }
      if (options.select && !options.select(*relative, *entry).extract) continue;
      links[*relative] = PendingLink{*target, entry->path};
      continue;
    }
    if (entry->type != EntryType::kFile && entry->type != EntryType::kDirectory) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{}: entry \"{}\" is a {}; only regular files and directories are allowed",
                       tar.name(), entry->path, EntryTypeName(entry->type));
    }
    Result<std::string> relative = SanitizeEntryPath(entry->path);
    if (!relative) {
      // "./" and "." name the extraction root itself, which exists.
      if (entry->type == EntryType::kDirectory &&
          entry->path.find_first_not_of("./") == std::string::npos &&
          entry->path.find("..") == std::string::npos && entry->path.front() != '/') {
        continue;
      }
      return tl::unexpected(relative.error().WithContext(tar.name()));
    }
    // A later entry replaces an earlier link of the same path.
    links.erase(*relative);
    if (entry->type == EntryType::kDirectory) {
      // Selective passes create only the directories their files need.
      if (!options.select) {
        PLUGCTL_RETURN_IF_ERROR(EnsureDirectory(root, *relative, entry->path, tar.name()));
      }
      continue;
    }
    if (options.select) {
      MemberSelection selection = options.select(*relative, *entry);
      if (!selection.extract) continue;
      if (entry->size > selection.max_bytes) {
        return MakeError(ErrorCode::kDataLoss,
                         "{}: member \"{}\" is {} bytes, more than the {} its descriptor declares",
                         tar.name(), entry->path, entry->size, selection.max_bytes);
      }
    }
    if (entry->size > options.max_total_bytes - total_bytes) {
      return MakeError(ErrorCode::kResourceExhausted, "{}: file data exceeds {} bytes at \"{}\"",
                       tar.name(), options.max_total_bytes, entry->path);
    }
    total_bytes += entry->size;
    fs::path target = root / *relative;
    std::string parent = fs::path(*relative).parent_path().string();
    if (!parent.empty()) {
      PLUGCTL_RETURN_IF_ERROR(EnsureDirectory(root, parent, entry->path, tar.name()));
    }
    std::error_code ec;
    if (fs::is_directory(fs::symlink_status(target, ec))) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{}: entry \"{}\" is a file but an earlier entry made it a directory",
                       tar.name(), entry->path);
    }
    // Removing first also breaks any hard link a later link entry could share the inode with.
    fs::remove(target, ec);
    PLUGCTL_ASSIGN_OR_RETURN(auto out, StagingFileWriter::Create(target));
    PLUGCTL_ASSIGN_OR_RETURN(uint64_t copied, CopyStream(tar.data(), *out));
    if (copied != entry->size) {
      return MakeError(ErrorCode::kDataLoss, "{}: entry \"{}\" holds {} bytes, header says {}",
                       tar.name(), entry->path, copied, entry->size);
    }
    PLUGCTL_RETURN_IF_ERROR(out->Close());
  }
}

}  // namespace

Result<std::string> ResolveLinkTarget(const std::string& sanitized_path, const TarEntry& entry) {
  if (entry.type == EntryType::kHardlink) return SanitizeEntryPath(entry.link_target);
  if (entry.type == EntryType::kSymlink) {
    return ResolveSymlinkTarget(sanitized_path, entry.link_target);
  }
  return MakeError(ErrorCode::kInvalidArgument, "archive entry \"{}\" is not a link",
                   sanitized_path);
}

Status ExtractInto(TarReader& tar, const fs::path& root, const ExtractOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(root, ec))) {
    return MakeError(ErrorCode::kNotFound, "cannot extract {} into {}: not a directory", tar.name(),
                     root.string());
  }
  return ExtractEntries(tar, root, options);
}

Status ExtractTo(TarReader& tar, const fs::path& dir, const ExtractOptions& options) {
  std::error_code ec;
  fs::file_status st = fs::symlink_status(dir, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st) || !fs::is_empty(dir, ec) || ec) {
      return MakeError(ErrorCode::kAlreadyExists,
                       "cannot extract {} into {}: it exists and is not an empty directory",
                       tar.name(), dir.string());
    }
  }
  fs::path parent = dir.parent_path();
  if (parent.empty()) parent = ".";
  // The staging directory sits beside `dir` so the final rename stays on one filesystem; the
  // TempDir removes it (with whatever was extracted) on every failure path.
  PLUGCTL_ASSIGN_OR_RETURN(auto staging,
                           TempDir::Create("." + dir.filename().string() + ".extract", parent));
  PLUGCTL_RETURN_IF_ERROR(ExtractEntries(tar, staging->path(), options));
  fs::permissions(staging->path(), fs::perms(0755), fs::perm_options::replace, ec);
  // rename(2) replaces an empty directory atomically, and fails if `dir` was filled meanwhile.
  fs::rename(staging->path(), dir, ec);
  if (ec) {
    return MakeError(ErrorCode::kInternal, "cannot move extracted {} into place at {}: {}",
                     tar.name(), dir.string(), ec.message());
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// TarWriter

struct TarWriter::Impl {
  Impl(Writer& sink, const TarWriterOptions& opts, std::string archive_name)
      : client(sink), options(opts), name(std::move(archive_name)) {}
  ~Impl() {
    if (a == nullptr) return;
    if (!finished) {
      // Closing writes an end-of-archive marker, which would make an abandoned, truncated
      // stream look complete: swallow it. (archive_write_fail would avoid the write but leaks
      // libarchive's client state.)
      client.abandoned = true;
      archive_write_close(a);
    }
    archive_write_free(a);
  }

  Error Fail(std::string_view doing) {
    if (!failed_error) {
      failed_error = CallFailure(client.error, a, ErrorCode::kInternal, name, doing);
    }
    return *failed_error;
  }

  Error Fail(Error err) {
    if (!failed_error) failed_error = std::move(err);
    return *failed_error;
  }

  Status CheckUsable() const {
    if (failed_error) return tl::unexpected(*failed_error);
    if (finished) return MakeError(ErrorCode::kFailedPrecondition, "{}: already finished", name);
    return OkStatus();
  }

  // Writes a header for a new entry. Every field that could vary between runs or machines is
  // pinned here.
  Status WriteHeader(const std::string& path, bool is_dir, uint64_t size) {
    struct archive_entry* e = archive_entry_new();
    if (e == nullptr) return tl::unexpected(Fail(Error(ErrorCode::kInternal, "out of memory")));
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, is_dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, is_dir ? 0755 : 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(size));
    archive_entry_set_mtime(e, static_cast<time_t>(options.mtime), 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    int r = archive_write_header(a, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK) return tl::unexpected(Fail(fmt::format("write header of \"{}\"", path)));
    return OkStatus();
  }

  Status WriteData(const std::string& path, std::string_view data) {
    while (!data.empty()) {
      la_ssize_t n = archive_write_data(a, data.data(), data.size());
      if (n <= 0) return tl::unexpected(Fail(fmt::format("write data of \"{}\"", path)));
      data.remove_prefix(static_cast<size_t>(n));
    }
    return OkStatus();
  }

  ArchiveWriteClient client;
  TarWriterOptions options;
  std::string name;
  struct archive* a = nullptr;
  std::optional<Error> failed_error;
  bool finished = false;
};

TarWriter::TarWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TarWriter::~TarWriter() = default;

Result<std::unique_ptr<TarWriter>> TarWriter::Create(Writer& out, const TarWriterOptions& options,
                                                     std::string name) {
  auto impl = std::make_unique<Impl>(out, options, std::move(name));
  impl->a = archive_write_new();
  if (impl->a == nullptr) {
    return MakeError(ErrorCode::kInternal, "{}: cannot allocate libarchive writer", impl->name);
  }
  struct archive* a = impl->a;
  // pax_restricted writes plain ustar headers unless an entry needs an extended header (long
  // or non-ASCII paths, sizes >= 8 GiB); libarchive names those "PaxHeader/..." with no pid, so
  // output stays reproducible.
  if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK) {
    return tl::unexpected(impl->Fail("set format"));
  }
  PLUGCTL_RETURN_IF_ERROR(SetReproducibleCompression(a, options.compression, impl->name));
  if (archive_write_open(a, &impl->client, nullptr, &ArchiveWriteClient::Callback, nullptr) !=
      ARCHIVE_OK) {
    return tl::unexpected(impl->Fail("open"));
  }
  return std::unique_ptr<TarWriter>(new TarWriter(std::move(impl)));
}

Status TarWriter::AddDirectory(std::string_view path) {
  PLUGCTL_RETURN_IF_ERROR(impl_->CheckUsable());
  Result<std::string> clean = SanitizeEntryPath(path);
  if (!clean) return tl::unexpected(clean.error().WithContext(impl_->name));
  return impl_->WriteHeader(*clean, /*is_dir=*/true, 0);
}

Status TarWriter::AddFile(std::string_view path, uint64_t size, Reader& content) {
  PLUGCTL_RETURN_IF_ERROR(impl_->CheckUsable());
  Result<std::string> clean = SanitizeEntryPath(path);
  if (!clean) return tl::unexpected(clean.error().WithContext(impl_->name));
  PLUGCTL_RETURN_IF_ERROR(impl_->WriteHeader(*clean, /*is_dir=*/false, size));
  std::string buffer(kCopyBufferSize, '\0');
  uint64_t total = 0;
  for (;;) {
    Result<size_t> n = content.Read(std::span<char>(buffer.data(), buffer.size()));
    if (!n) return tl::unexpected(impl_->Fail(n.error()));
    if (*n == 0) break;
    if (*n > size - total) {
      return tl::unexpected(impl_->Fail(
          Error(ErrorCode::kDataLoss, fmt::format("{}: content of \"{}\" is longer than {} bytes",
                                                  impl_->name, *clean, size))));
    }
    total += *n;
    PLUGCTL_RETURN_IF_ERROR(impl_->WriteData(*clean, std::string_view(buffer.data(), *n)));
  }
  if (total != size) {
    return tl::unexpected(impl_->Fail(
        Error(ErrorCode::kDataLoss, fmt::format("{}: content of \"{}\" ended after {} of {} bytes",
                                                impl_->name, *clean, total, size))));
  }
  if (archive_write_finish_entry(impl_->a) != ARCHIVE_OK) {
    return tl::unexpected(impl_->Fail(fmt::format("finish \"{}\"", *clean)));
  }
  return OkStatus();
}

Status TarWriter::AddFile(std::string_view path, std::string_view content) {
  StringReader reader{std::string(content)};
  return AddFile(path, content.size(), reader);
}

Status TarWriter::Finish() {
  PLUGCTL_RETURN_IF_ERROR(impl_->CheckUsable());
  if (archive_write_close(impl_->a) != ARCHIVE_OK) {
    return tl::unexpected(impl_->Fail("finish archive"));
  }
  impl_->finished = true;
  return OkStatus();
}

}  // namespace plugctl::archive
