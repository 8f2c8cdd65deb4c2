#include "plugctl/store/oci_layout.h"

#include <algorithm>
#include <set>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "plugctl/base/file.h"
#include "plugctl/oci/json.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/oci/reference.h"
#include "plugctl/oci/verifying_reader.h"
#include "plugctl/store/content.h"

namespace plugctl::store {
namespace {

using nlohmann::ordered_json;

// distribution's manifest limit; index.json is an index, so the same bound applies.
constexpr size_t kMaxIndexBytes = oci::kMaxManifestBytes;
constexpr size_t kMaxOciLayoutFileBytes = 64 * 1024;
constexpr size_t kMaxTagBytes = 4096;

constexpr std::string_view kOciLayoutFile = "oci-layout";
constexpr std::string_view kIndexFile = "index.json";
constexpr std::string_view kBlobsDir = "blobs";

std::string EmptyIndex() { return oci::BuildIndex({}); }

std::string OciLayoutContent() { return R"({"imageLayoutVersion":"1.0.0"})"; }

struct LayoutIndex {
  ordered_json doc;
  std::vector<oci::Descriptor> entries;
};

// Validates index.json (image-spec image-index.md as used by image-layout.md). Errors name the
// file and the field: "<dir>/index.json: manifests[1].digest: ...".
Result<LayoutIndex> ParseIndex(const std::string& raw, const std::string& label) {
  auto fail = [&label](std::string_view problem) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: {}", label, problem);
  };
  LayoutIndex index;
  PLUGCTL_ASSIGN_OR_RETURN(index.doc, oci::ParseOrderedJson(raw, label));
  if (!index.doc.is_object()) {
    return fail(fmt::format("expected a JSON object, got {}", index.doc.type_name()));
  }
  auto schema = index.doc.find("schemaVersion");
  if (schema == index.doc.end()) return fail("schemaVersion: missing");
  if (!schema->is_number_integer() || schema->get<int64_t>() != 2) {
    return fail(fmt::format("schemaVersion: expected 2, got {}",
                            schema->is_number_integer() ? std::to_string(schema->get<int64_t>())
                                                        : std::string(schema->type_name())));
  }
  auto media_type = index.doc.find("mediaType");
  if (media_type != index.doc.end() && !media_type->is_null()) {
    if (!media_type->is_string() ||
        !oci::MediaTypeEquals(media_type->get<std::string>(), oci::kOciIndex)) {
      return fail(fmt::format("mediaType: expected \"{}\"", oci::kOciIndex));
    }
  }
  auto manifests = index.doc.find("manifests");
  if (manifests == index.doc.end()) return fail("manifests: missing");
  // Go encoders write a nil slice as null; it means no entries.
  if (manifests->is_null()) return index;
  if (!manifests->is_array()) {
    return fail(fmt::format("manifests: expected an array, got {}", manifests->type_name()));
  }
  index.entries.reserve(manifests->size());
  for (size_t i = 0; i < manifests->size(); ++i) {
    Result<oci::Descriptor> d =
        oci::Descriptor::FromJson(nlohmann::json((*manifests)[i]), fmt::format("manifests[{}]", i));
    if (!d) return fail(d.error().message());
    index.entries.push_back(std::move(*d));
  }
  return index;
}

std::string Annotation(const oci::Descriptor& d, std::string_view key) {
  auto it = d.annotations.find(std::string(key));
  return it == d.annotations.end() ? std::string() : it->second;
}

std::vector<std::string> NamesOf(const oci::Descriptor& d) {
  std::vector<std::string> names;
  for (std::string_view key : {oci::kAnnotationRefName, oci::kAnnotationContainerdImageName}) {
    std::string name = Annotation(d, key);
    if (!name.empty()) names.push_back(std::move(name));
  }
  return names;
}

// "x:1.0" and "docker.io/library/x:1.0" name the same image; only names that look like
// references (with ':' or '/') take part, so the plain tag "1.0" never matches an image
// called "1.0".
std::optional<std::string> NormalizedName(std::string_view name) {
  if (name.find_first_of(":/") == std::string_view::npos) return std::nullopt;
  Result<oci::Reference> ref = oci::Reference::Parse(name);
  if (!ref || ref->digest) return std::nullopt;
  return ref->Name() + ":" + ref->TagOrDigest();
}

Status ValidateLayoutTag(std::string_view tag) {
  if (tag.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty tag");
  if (tag.size() > kMaxTagBytes) {
    return MakeError(ErrorCode::kInvalidArgument, "tag is longer than {} bytes", kMaxTagBytes);
  }
  for (char c : tag) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return MakeError(ErrorCode::kInvalidArgument, "tag \"{}\" contains control characters",
                       tag.substr(0, 128));
    }
  }
  return OkStatus();
}

bool IsRegularFile(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(fs::status(path, ec));
}

std::string JoinNames(const std::vector<std::string>& names) {
  if (names.empty()) return "(no tags)";
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<OciLayoutTarget>> OciLayoutTarget::Open(const fs::path& dir,
                                                               const OciLayoutOptions& options) {
  fs::path layout_file = dir / kOciLayoutFile;
  const std::string where = options.display_name.empty() ? dir.string() : options.display_name;
  const std::string layout_label =
      options.display_name.empty() ? layout_file.string()
                                   : fmt::format("{}: {}", options.display_name, kOciLayoutFile);
  std::unique_ptr<FileLock> lock;
  if (!IsRegularFile(layout_file)) {
    if (!options.create) {
      return MakeError(ErrorCode::kNotFound, "{} is not an OCI image layout: {} is missing", where,
                       kOciLayoutFile);
    }
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "cannot create an OCI layout at {}: not a directory", dir.string());
    }
    PLUGCTL_RETURN_IF_ERROR(CreateDirectories(dir));
    // Two creators may race: the lock makes the check-and-create one step.
    PLUGCTL_ASSIGN_OR_RETURN(lock, FileLock::Acquire(dir / kOciLayoutLockFile));
    if (!IsRegularFile(layout_file)) {
      // Only what a (concurrent or interrupted) creation leaves behind may already be there:
      // never adopt a directory holding other files.
      for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (name != kOciLayoutLockFile && name != kIndexFile && name != kBlobsDir) {
          return MakeError(ErrorCode::kFailedPrecondition,
                           "refusing to create an OCI layout in non-empty directory {} (found {})",
                           where, name);
        }
      }
      if (ec) {
        return MakeError(ErrorCode::kInternal, "list {}: {}", dir.string(), ec.message());
      }
      PLUGCTL_RETURN_IF_ERROR(CreateDirectories(dir / kBlobsDir));
      if (!IsRegularFile(dir / kIndexFile)) {
        PLUGCTL_RETURN_IF_ERROR(WriteFileAtomic(dir / kIndexFile, EmptyIndex()));
      }
      // Written last: its presence means the layout is complete.
      PLUGCTL_RETURN_IF_ERROR(WriteFileAtomic(layout_file, OciLayoutContent()));
      return std::unique_ptr<OciLayoutTarget>(new OciLayoutTarget(dir, options.display_name));
    }
  }

  PLUGCTL_ASSIGN_OR_RETURN(std::string raw, ReadFileBounded(layout_file, kMaxOciLayoutFileBytes));
  PLUGCTL_ASSIGN_OR_RETURN(nlohmann::json doc, oci::ParseJson(raw, layout_label));
  if (!doc.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: not a JSON object", layout_label);
  }
  auto version = doc.find("imageLayoutVersion");
  if (version == doc.end() || !version->is_string()) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: imageLayoutVersion: expected a string",
                     layout_label);
  }
  const std::string& v = version->get_ref<const std::string&>();
  if (v.rfind("1.", 0) != 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: unsupported imageLayoutVersion \"{}\" (want 1.x)", layout_label,
                     v.substr(0, 64));
  }
  if (options.create) {
    PLUGCTL_RETURN_IF_ERROR(CreateDirectories(dir / kBlobsDir));
    if (!IsRegularFile(dir / kIndexFile)) {
      if (!lock) {
        PLUGCTL_ASSIGN_OR_RETURN(lock, FileLock::Acquire(dir / kOciLayoutLockFile));
      }
      if (!IsRegularFile(dir / kIndexFile)) {
        PLUGCTL_RETURN_IF_ERROR(WriteFileAtomic(dir / kIndexFile, EmptyIndex()));
      }
    }
  }
  return std::unique_ptr<OciLayoutTarget>(new OciLayoutTarget(dir, options.display_name));
}

std::string OciLayoutTarget::Describe() const {
  return display_name_.empty() ? "oci:" + dir_.string() : display_name_;
}

std::string OciLayoutTarget::Label(std::string_view relative) const {
  if (display_name_.empty()) return (dir_ / relative).string();
  return fmt::format("{}: {}", display_name_, relative);
}

fs::path OciLayoutTarget::BlobPath(const oci::Digest& digest) const {
  return dir_ / kBlobsDir / std::string(digest.algorithm_name()) / digest.hex();
}

namespace {

Result<LayoutIndex> ReadIndex(const fs::path& dir, const std::string& label) {
  Result<std::string> raw = ReadFileBounded(dir / kIndexFile, kMaxIndexBytes);
  if (!raw) {
    if (raw.error().code() == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kDataLoss, "{}: missing; the OCI layout is incomplete", label);
    }
    if (raw.error().code() == ErrorCode::kResourceExhausted) {
      return MakeError(ErrorCode::kResourceExhausted, "{}: larger than the limit of {} bytes",
                       label, kMaxIndexBytes);
    }
    return tl::unexpected(raw.error());
  }
  return ParseIndex(*raw, label);
}

}  // namespace

Result<std::vector<oci::Descriptor>> OciLayoutTarget::Entries() {
  PLUGCTL_ASSIGN_OR_RETURN(LayoutIndex index, ReadIndex(dir_, Label(kIndexFile)));
  return std::move(index.entries);
}

Result<std::vector<std::string>> OciLayoutTarget::Tags() {
  PLUGCTL_ASSIGN_OR_RETURN(LayoutIndex index, ReadIndex(dir_, Label(kIndexFile)));
  std::set<std::string> names;
  for (const oci::Descriptor& d : index.entries) {
    for (std::string& name : NamesOf(d)) names.insert(std::move(name));
  }
  return std::vector<std::string>(names.begin(), names.end());
}

Result<oci::Descriptor> OciLayoutTarget::Resolve(std::string_view reference) {
  PLUGCTL_ASSIGN_OR_RETURN(LayoutIndex index, ReadIndex(dir_, Label(kIndexFile)));
  // An index.json entry whose blob is gone is damage, not absence: say which file lies.
  auto checked = [&](const oci::Descriptor& d) -> Result<oci::Descriptor> {
    if (!IsRegularFile(BlobPath(d.digest))) {
      return MakeError(ErrorCode::kDataLoss, "{} names {}, but its blob is missing",
                       Label(kIndexFile), d.digest.ToString());
    }
    return d;
  };
  auto all_tags = [&]() {
    // One name per entry: its ref name, else its containerd name (docker's store writes both,
    // "x:1" and "docker.io/library/x:1", for one image).
    std::set<std::string> names;
    for (const oci::Descriptor& d : index.entries) {
      std::vector<std::string> of = NamesOf(d);
      if (!of.empty()) names.insert(std::move(of.front()));
    }
    return JoinNames(std::vector<std::string>(names.begin(), names.end()));
  };

  if (reference.empty()) {
    if (index.entries.empty()) {
      return MakeError(ErrorCode::kNotFound, "{} holds no images", Describe());
    }
    std::set<oci::Digest> digests;
    for (const oci::Descriptor& d : index.entries) digests.insert(d.digest);
    if (digests.size() > 1) {
      // Each image as a location to use (LOCATION:NAME, or LOCATION:@DIGEST when unnamed): a
      // bare FILE:NAME would be read as a registry reference.
      std::vector<std::string> choices;
      std::set<std::string> seen;
      for (const oci::Descriptor& d : index.entries) {
        std::vector<std::string> of = NamesOf(d);
        std::string choice = of.empty() ? fmt::format("{}:@{}", Describe(), d.digest.ToString())
                                        : fmt::format("{}:{}", Describe(), of.front());
        if (seen.insert(choice).second) choices.push_back(std::move(choice));
      }
      return MakeError(ErrorCode::kFailedPrecondition, "{} holds {} images; name one: {}",
                       Describe(), digests.size(), JoinNames(choices));
    }
    return checked(index.entries.front());
  }

  if (Result<oci::Digest> digest = oci::Digest::Parse(reference)) {
    for (const oci::Descriptor& d : index.entries) {
      if (d.digest == *digest) return checked(d);
    }
    // Not listed: any stored manifest (e.g. an image's child manifest) counts.
    fs::path path = BlobPath(*digest);
    if (!IsRegularFile(path)) {
      return MakeError(ErrorCode::kNotFound, "{}: {} not found", Describe(), digest->ToString());
    }
    PLUGCTL_ASSIGN_OR_RETURN(std::string raw, ReadFileBounded(path, oci::kMaxManifestBytes));
    if (oci::Digest::Of(raw, digest->algorithm()) != *digest) {
      return MakeError(ErrorCode::kDataLoss, "{}: content does not match its digest",
                       path.string());
    }
    size_t size = raw.size();
    Result<oci::Manifest> m = oci::Manifest::Parse(std::move(raw));
    if (!m) {
      return MakeError(ErrorCode::kFailedPrecondition, "{}: {} is not a manifest or index: {}",
                       Describe(), digest->ToString(), m.error().message());
    }
    oci::Descriptor d;
    d.media_type = m->media_type;
    d.digest = *digest;
    d.size = static_cast<int64_t>(size);
    return d;
  }

  std::vector<const oci::Descriptor*> matches;
  for (const oci::Descriptor& d : index.entries) {
    std::vector<std::string> names = NamesOf(d);
    if (std::find(names.begin(), names.end(), reference) != names.end()) matches.push_back(&d);
  }
  if (matches.empty()) {
    if (std::optional<std::string> wanted = NormalizedName(reference)) {
      for (const oci::Descriptor& d : index.entries) {
        for (const std::string& name : NamesOf(d)) {
          if (NormalizedName(name) == wanted) {
            matches.push_back(&d);
            break;
          }
        }
      }
    }
  }
  if (matches.empty()) {
    return MakeError(ErrorCode::kNotFound, "{}: tag \"{}\" not found; tags: {}", Describe(),
                     reference.substr(0, 256), all_tags());
  }
  for (const oci::Descriptor* d : matches) {
    if (d->digest != matches.front()->digest) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "{}: tag \"{}\" names several images ({} and {}); use a digest", Describe(),
                       reference.substr(0, 256), matches.front()->digest.ToString(),
                       d->digest.ToString());
    }
  }
  return checked(*matches.front());
}

Result<std::unique_ptr<Reader>> OciLayoutTarget::Fetch(const oci::Descriptor& desc) {
  Result<std::unique_ptr<Reader>> reader = OpenFileReader(BlobPath(desc.digest));
  if (reader || reader.error().code() != ErrorCode::kNotFound) return reader;
  // Missing: if index.json promises it, the layout is damaged and index.json is to blame.
  if (Result<LayoutIndex> index = ReadIndex(dir_, Label(kIndexFile))) {
    for (const oci::Descriptor& d : index->entries) {
      if (d.digest == desc.digest) {
        return MakeError(ErrorCode::kDataLoss, "{} names {}, but its blob is missing",
                         Label(kIndexFile), desc.digest.ToString());
      }
    }
  }
  return MakeError(ErrorCode::kNotFound, "{}: blob {} not found", Describe(),
                   desc.digest.ToString());
}

Result<bool> OciLayoutTarget::Exists(const oci::Descriptor& desc) {
  std::error_code ec;
  fs::file_status st = fs::status(BlobPath(desc.digest), ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return MakeError(ErrorCode::kInternal, "stat {}: {}", BlobPath(desc.digest).string(),
                     ec.message());
  }
  return fs::is_regular_file(st);
}

Status OciLayoutTarget::Push(const oci::Descriptor& desc, Reader& content) {
  if (desc.size < 0) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: negative size for {}", Describe(),
                     desc.digest.ToString());
  }
  fs::path path = BlobPath(desc.digest);
  // Content-addressed: an existing blob already holds exactly these bytes.
  if (IsRegularFile(path)) return OkStatus();
  PLUGCTL_RETURN_IF_ERROR(CreateDirectories(path.parent_path()));
  // The temporary file is beside the blob so the rename is atomic; it is removed on every
  // failure path by the writer's destructor.
  PLUGCTL_ASSIGN_OR_RETURN(auto out, AtomicFileWriter::Create(path));
  std::optional<oci::VerifyingReader> storage;
  oci::VerifyingReader& verified = oci::EnsureVerifying(
      content, desc, fmt::format("{}: blob {}", Describe(), desc.digest.ToString()), storage);
  PLUGCTL_ASSIGN_OR_RETURN(uint64_t copied, CopyStream(verified, *out));
  (void)copied;
  if (!verified.verified()) {
    return MakeError(ErrorCode::kDataLoss, "{}: blob {} was not verified", Describe(),
                     desc.digest.ToString());
  }
  return out->Commit();
}

Status OciLayoutTarget::Tag(const oci::Descriptor& desc, std::string_view tag) {
  return TagWithAnnotations(desc, tag, {});
}

Status OciLayoutTarget::TagWithAnnotations(const oci::Descriptor& desc, std::string_view tag,
                                           const oci::Annotations& extra) {
  Status valid = ValidateLayoutTag(tag);
  if (!valid) return tl::unexpected(valid.error().WithContext(Describe()));
  if (!oci::IsManifestOrIndexType(desc.media_type)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: cannot tag {}: media type \"{}\" is not a manifest or index", Describe(),
                     desc.digest.ToString(), desc.media_type);
  }
  if (!IsRegularFile(BlobPath(desc.digest))) {
    return MakeError(ErrorCode::kFailedPrecondition, "{}: cannot tag {}: it is not stored",
                     Describe(), desc.digest.ToString());
  }
  oci::Descriptor entry;
  entry.media_type = desc.media_type;
  entry.digest = desc.digest;
  entry.size = desc.size;
  entry.platform = desc.platform;
  entry.artifact_type = desc.artifact_type;
  entry.annotations = extra;
  entry.annotations[std::string(oci::kAnnotationRefName)] = std::string(tag);

  // Read-modify-write of index.json, serialized across threads and processes; the atomic
  // rename means readers (who take no lock) see the old or the new file, never a mix.
  PLUGCTL_ASSIGN_OR_RETURN(auto lock, FileLock::Acquire(dir_ / kOciLayoutLockFile));
  PLUGCTL_ASSIGN_OR_RETURN(LayoutIndex index, ReadIndex(dir_, Label(kIndexFile)));
  ordered_json manifests = ordered_json::array();
  bool replaced = false;
  for (size_t i = 0; i < index.entries.size(); ++i) {
    if (Annotation(index.entries[i], oci::kAnnotationRefName) == tag) {
      if (!replaced) manifests.push_back(entry.ToJson());
      replaced = true;
      continue;
    }
    // Kept exactly as found (unknown fields included).
    manifests.push_back(index.doc["manifests"][i]);
  }
  if (!replaced) manifests.push_back(entry.ToJson());
  index.doc["manifests"] = std::move(manifests);
  std::string text = index.doc.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  if (text.size() > kMaxIndexBytes) {
    return MakeError(ErrorCode::kResourceExhausted, "{}: would exceed {} bytes", Label(kIndexFile),
                     kMaxIndexBytes);
  }
  return WriteFileAtomic(dir_ / kIndexFile, text);
}

Result<std::vector<oci::Descriptor>> OciLayoutTarget::Referrers(const oci::Digest& digest,
                                                                std::string_view artifact_type) {
  PLUGCTL_ASSIGN_OR_RETURN(std::vector<oci::Descriptor> entries, Entries());
  std::vector<oci::Descriptor> found;
  for (const oci::Descriptor& entry : entries) {
    if (!oci::IsManifestOrIndexType(entry.media_type) || entry.digest == digest) continue;
    if (std::any_of(found.begin(), found.end(),
                    [&](const oci::Descriptor& d) { return d.digest == entry.digest; })) {
      continue;  // several tags on one referrer
    }
    // An entry whose manifest is missing or unreadable cannot be anyone's referrer that we could
    // copy; it must not hide the referrers of every other image in the layout.
    auto manifest = FetchManifest(*this, entry);
    if (!manifest || !manifest->subject || manifest->subject->digest != digest) continue;
    oci::Descriptor referrer = manifest->ReferrerDescriptor(entry.digest);
    if (!artifact_type.empty() && referrer.artifact_type != artifact_type) continue;
    found.push_back(std::move(referrer));
  }
  return found;
}

Status OciLayoutTarget::RecordReferrer(const oci::Descriptor& desc) {
  return EditEntries([&](const std::vector<oci::Descriptor>& current) -> Result<EntryEdit> {
    EntryEdit edit;
    for (const oci::Descriptor& entry : current) {
      if (entry.digest == desc.digest) return edit;
    }
    oci::Descriptor entry;
    entry.media_type = desc.media_type;
    entry.digest = desc.digest;
    entry.size = desc.size;
    edit.add.push_back(std::move(entry));
    return edit;
  });
}

Status OciLayoutTarget::EditEntries(
    const std::function<Result<EntryEdit>(const std::vector<oci::Descriptor>&)>& edit) {
  PLUGCTL_ASSIGN_OR_RETURN(auto lock, FileLock::Acquire(dir_ / kOciLayoutLockFile));
  PLUGCTL_ASSIGN_OR_RETURN(LayoutIndex index, ReadIndex(dir_, Label(kIndexFile)));
  PLUGCTL_ASSIGN_OR_RETURN(EntryEdit change, edit(index.entries));
  if (change.remove.empty() && change.add.empty()) return OkStatus();
  for (const oci::Descriptor& d : change.add) {
    if (!oci::IsManifestOrIndexType(d.media_type)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{}: cannot add {}: media type \"{}\" is not a manifest or index",
                       Describe(), d.digest.ToString(), d.media_type);
    }
    if (!IsRegularFile(BlobPath(d.digest))) {
      return MakeError(ErrorCode::kFailedPrecondition, "{}: cannot add {}: it is not stored",
                       Describe(), d.digest.ToString());
    }
  }
  std::vector<bool> removed(index.entries.size(), false);
  for (size_t i : change.remove) {
    if (i >= index.entries.size()) {
      return MakeError(ErrorCode::kInternal, "{}: edit removes entry {} of {}", Label(kIndexFile),
                       i, index.entries.size());
    }
    removed[i] = true;
  }
  ordered_json manifests = ordered_json::array();
  bool added = false;
  auto add_all = [&] {
    for (const oci::Descriptor& d : change.add) manifests.push_back(d.ToJson());
    added = true;
  };
  for (size_t i = 0; i < index.entries.size(); ++i) {
    if (removed[i]) {
      if (!added) add_all();
      continue;
    }
    manifests.push_back(index.doc["manifests"][i]);
  }
  if (!added) add_all();
  index.doc["manifests"] = std::move(manifests);
  std::string text = index.doc.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  if (text.size() > kMaxIndexBytes) {
    return MakeError(ErrorCode::kResourceExhausted, "{}: would exceed {} bytes", Label(kIndexFile),
                     kMaxIndexBytes);
  }
  return WriteFileAtomic(dir_ / kIndexFile, text);
}

Status OciLayoutTarget::Commit() { return OkStatus(); }

Result<std::vector<oci::Digest>> OciLayoutTarget::ListBlobs() {
  std::vector<oci::Digest> out;
  std::error_code ec;
  fs::path blobs = dir_ / kBlobsDir;
  if (!fs::exists(blobs, ec)) return out;
  for (fs::directory_iterator alg(blobs, ec), end; !ec && alg != end; alg.increment(ec)) {
    if (!alg->is_directory(ec)) continue;
    std::string alg_name = alg->path().filename().string();
    std::error_code ec2;
    for (fs::directory_iterator file(alg->path(), ec2); !ec2 && file != end; file.increment(ec2)) {
      if (!file->is_regular_file(ec2)) continue;
      // Temporary files of in-flight pushes and foreign junk have names that are not digests.
      Result<oci::Digest> d = oci::Digest::Parse(alg_name + ":" + file->path().filename().string());
      if (d) out.push_back(std::move(*d));
    }
    if (ec2) {
      return MakeError(ErrorCode::kInternal, "list {}: {}", alg->path().string(), ec2.message());
    }
  }
  if (ec) return MakeError(ErrorCode::kInternal, "list {}: {}", blobs.string(), ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace plugctl::store
