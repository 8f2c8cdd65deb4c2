#include "plugctl/store/archive_staging.h"

#include <algorithm>
#include <map>
#include <set>
#include <system_error>

#include "plugctl/base/file.h"
#include "plugctl/oci/json.h"
#include "plugctl/oci/verifying_reader.h"

namespace plugctl::store::internal {
namespace {

// The layout and docker metadata files, written whatever references them; their readers apply
// their own (smaller) limits.
constexpr uint64_t kMaxMetadataBytes = 16 << 20;
// index -> index -> manifest -> blobs is three levels; more than this is not an image.
constexpr int kMaxPasses = 12;

// Decides which members of one archive to write, pass after pass.
class ReferencedMembers {
 public:
  // Pass 1: every header is noted, the metadata files are selected.
  archive::MemberSelection FirstPass(const std::string& path, const archive::TarEntry& entry) {
    headers_[path] = entry;
    bool metadata = path == "oci-layout" || path == "index.json" || path == "manifest.json";
    if (!metadata || entry.type != archive::EntryType::kFile) return {.extract = false};
    return {.extract = true, .max_bytes = kMaxMetadataBytes};
  }

  // After pass 1: what index.json and manifest.json reference.
  void ReadMetadata(const fs::path& root) {
    if (auto doc = ReadJson(root / "index.json", kMaxMetadataBytes)) {
      WantDescriptors(*doc, "manifests", /*manifests=*/true);
    }
    auto doc = ReadJson(root / "manifest.json", kMaxMetadataBytes);
    if (!doc || !doc->is_array()) return;
    for (const nlohmann::json& item : *doc) {
      if (!item.is_object()) continue;
      if (auto config = item.find("Config"); config != item.end()) WantMember(*config);
      if (auto layers = item.find("Layers"); layers != item.end() && layers->is_array()) {
        for (const nlohmann::json& layer : *layers) WantMember(layer);
      }
    }
  }

  // Paths (and their size limits) wanted but not written yet; they are written by the next
  // pass. Empty when done.
  std::map<std::string, uint64_t> Pending() const {
    std::map<std::string, uint64_t> out;
    for (const auto& [path, limit] : wanted_) {
      if (!written_.count(path)) out.emplace(path, limit);
    }
    return out;
  }

  // After a pass that wrote `written`: what the manifests among them reference.
  void Written(const std::map<std::string, uint64_t>& written, const fs::path& root) {
    for (const auto& [path, limit] : written) written_.insert(path);
    for (const auto& [path, limit] : written) {
      if (!manifests_.count(path)) continue;
      auto doc = ReadJson(root / path, oci::kMaxManifestBytes);
      if (!doc) continue;  // the reader reports what is wrong with it
      WantDescriptors(*doc, "manifests", /*manifests=*/true);
      WantDescriptors(*doc, "layers", /*manifests=*/false);
      if (auto config = doc->find("config"); config != doc->end()) WantDescriptor(*config, false);
    }
  }

 private:
  static std::optional<nlohmann::json> ReadJson(const fs::path& path, size_t max_bytes) {
    std::error_code ec;
    if (!fs::is_regular_file(fs::symlink_status(path, ec))) return std::nullopt;
    Result<std::string> raw = ReadFileBounded(path, max_bytes);
    if (!raw) return std::nullopt;
    Result<nlohmann::json> doc = oci::ParseJson(*raw, path.filename().string());
    if (!doc || !(doc->is_object() || doc->is_array())) return std::nullopt;
    return std::move(*doc);
  }

  void WantDescriptors(const nlohmann::json& doc, const char* field, bool manifests) {
    if (!doc.is_object()) return;
    auto list = doc.find(field);
    if (list == doc.end() || !list->is_array()) return;
    for (const nlohmann::json& d : *list) WantDescriptor(d, manifests);
  }

  // Read loosely: whatever is malformed is left for the target's reader to report.
  void WantDescriptor(const nlohmann::json& d, bool manifest) {
    if (!d.is_object()) return;
    auto digest_field = d.find("digest");
    auto size_field = d.find("size");
    if (digest_field == d.end() || !digest_field->is_string() || size_field == d.end() ||
        !size_field->is_number_integer() || size_field->get<int64_t>() < 0) {
      return;
    }
    Result<oci::Digest> digest = oci::Digest::Parse(digest_field->get<std::string>());
    if (!digest) return;
    std::string path = fmt::format("blobs/{}/{}", digest->algorithm_name(), digest->hex());
    auto size = static_cast<uint64_t>(size_field->get<int64_t>());
    Want(path, size);
    if (manifest && size <= oci::kMaxManifestBytes) manifests_.insert(path);
  }

  // A member named by docker's manifest.json (no declared size).
  void WantMember(const nlohmann::json& value) {
    if (!value.is_string()) return;
    Result<std::string> path = archive::SanitizeEntryPath(value.get<std::string>());
    if (path) Want(*path, UINT64_MAX);
  }

  // Wants `path` and, through links, the file it ends at.
  void Want(std::string path, uint64_t limit) {
    for (int depth = 0; depth < 32; ++depth) {
      auto header = headers_.find(path);
      if (header == headers_.end()) return;  // missing: the reader reports it
      auto [it, fresh] = wanted_.emplace(path, limit);
      if (!fresh) {
        // Two descriptors of one blob disagreeing on its size: allow the larger, the
        // verifying reader catches the liar.
        if (it->second >= limit) return;
        it->second = limit;
      }
      const archive::TarEntry& entry = header->second;
      if (entry.type != archive::EntryType::kHardlink &&
          entry.type != archive::EntryType::kSymlink) {
        return;
      }
      Result<std::string> target = archive::ResolveLinkTarget(path, entry);
      if (!target) return;
      path = *target;
    }
  }

  std::map<std::string, archive::TarEntry> headers_;  // last entry of each path wins
  std::map<std::string, uint64_t> wanted_;            // path -> max bytes
  std::set<std::string> written_;
  std::set<std::string> manifests_;  // wanted paths to read for further references
};

Status ExtractPass(const fs::path& file, const fs::path& root,
                   const archive::ExtractOptions& options) {
  PLUGCTL_ASSIGN_OR_RETURN(auto tar, archive::TarReader::Open(file));
  return archive::ExtractInto(*tar, root, options);
}

Status ExtractReferenced(const fs::path& file, const fs::path& dir,
                         const archive::ExtractOptions& base) {
  ReferencedMembers members;
  archive::ExtractOptions options = base;
  options.select = [&](const std::string& path, const archive::TarEntry& entry) {
    return members.FirstPass(path, entry);
  };
  PLUGCTL_RETURN_IF_ERROR(ExtractPass(file, dir, options));
  members.ReadMetadata(dir);
  for (int pass = 0;; ++pass) {
    std::map<std::string, uint64_t> pending = members.Pending();
    if (pending.empty()) return OkStatus();
    if (pass >= kMaxPasses) {
      return MakeError(ErrorCode::kInvalidArgument, "manifests nested more than {} levels deep",
                       kMaxPasses);
    }
    uint64_t budget = 0;
    for (const auto& [path, limit] : pending) {
      budget = limit > UINT64_MAX - budget ? UINT64_MAX : budget + limit;
    }
    options.max_total_bytes = std::min(base.max_total_bytes, budget);
    options.select = [&](const std::string& path, const archive::TarEntry&) {
      auto it = pending.find(path);
      if (it == pending.end()) return archive::MemberSelection{.extract = false};
      return archive::MemberSelection{.extract = true, .max_bytes = it->second};
    };
    PLUGCTL_RETURN_IF_ERROR(ExtractPass(file, dir, options));
    members.Written(pending, dir);
  }
}

}  // namespace

Status ExtractArchiveFile(const fs::path& file, const fs::path& dir, std::string_view describe,
                          const archive::ExtractOptions& options) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(dir, ec))) {
    return MakeError(ErrorCode::kAlreadyExists, "{}: cannot extract into {}: it exists", describe,
                     dir.string());
  }
  // A private directory under the caller's (staging) one; removed again on failure.
  PLUGCTL_RETURN_IF_ERROR(CreateDirectories(dir));
  Status st = ExtractReferenced(file, dir, options);
  if (!st) {
    (void)RemoveAll(dir);
    return tl::unexpected(st.error().WithContext(describe));
  }
  fs::permissions(dir, fs::perms(0755), fs::perm_options::replace, ec);
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
