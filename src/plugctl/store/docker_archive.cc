#include "plugctl/store/docker_archive.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <system_error>

#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "plugctl/archive/tar.h"
#include "plugctl/base/file.h"
#include "plugctl/oci/digest.h"
#include "plugctl/oci/json.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/oci/reference.h"
#include "plugctl/store/archive_staging.h"
#include "plugctl/store/content.h"
#include "plugctl/store/oci_layout.h"

namespace plugctl::store {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr size_t kMaxManifestJsonBytes = 4 * 1024 * 1024;
// Image configs carry the build history; big ones exist, but not this big.
constexpr size_t kMaxConfigBytes = 16 * 1024 * 1024;
constexpr std::string_view kManifestJson = "manifest.json";

struct ManifestJsonEntry {
  std::string config;  // sanitized, relative to the archive root
  std::vector<std::string> repo_tags;
  std::vector<std::string> layers;  // sanitized
};

Result<std::string> MemberPath(const json& value, const std::string& field, const fs::path& root,
                               const std::string& label) {
  if (!value.is_string()) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: {}: expected a string, got {}", label, field,
                     value.type_name());
  }
  Result<std::string> clean = archive::SanitizeEntryPath(value.get_ref<const std::string&>());
  if (!clean) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: {}: {}", label, field,
                     clean.error().message());
  }
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(root / *clean, ec))) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: {}: \"{}\" is not a file in the archive",
                     label, field, clean->substr(0, 256));
  }
  return clean;
}

// Parses docker's manifest.json (moby image/tarexport). Every path must be a regular file of
// the extracted archive.
Result<std::vector<ManifestJsonEntry>> ParseManifestJson(const std::string& raw,
                                                         const fs::path& root,
                                                         const std::string& label) {
  PLUGCTL_ASSIGN_OR_RETURN(json doc, oci::ParseJson(raw, label));
  if (!doc.is_array()) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: expected a JSON array, got {}", label,
                     doc.type_name());
  }
  std::vector<ManifestJsonEntry> out;
  for (size_t i = 0; i < doc.size(); ++i) {
    const json& item = doc[i];
    std::string at = fmt::format("[{}]", i);
    if (!item.is_object()) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: {}: expected an object, got {}", label, at,
                       item.type_name());
    }
    ManifestJsonEntry entry;
    auto config = item.find("Config");
    if (config == item.end()) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: {}.Config: missing", label, at);
    }
    PLUGCTL_ASSIGN_OR_RETURN(entry.config, MemberPath(*config, at + ".Config", root, label));
    auto tags = item.find("RepoTags");
    if (tags != item.end() && !tags->is_null()) {
      if (!tags->is_array()) {
        return MakeError(ErrorCode::kInvalidArgument, "{}: {}.RepoTags: expected an array", label,
                         at);
      }
      for (size_t t = 0; t < tags->size(); ++t) {
        const json& tag = (*tags)[t];
        if (!tag.is_string() || tag.get_ref<const std::string&>().empty()) {
          return MakeError(ErrorCode::kInvalidArgument,
                           "{}: {}.RepoTags[{}]: expected a non-empty string", label, at, t);
        }
        entry.repo_tags.push_back(tag.get<std::string>());
      }
    }
    auto layers = item.find("Layers");
    if (layers == item.end() || !layers->is_array()) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: {}.Layers: expected an array", label, at);
    }
    for (size_t l = 0; l < layers->size(); ++l) {
      PLUGCTL_ASSIGN_OR_RETURN(
          std::string layer,
          MemberPath((*layers)[l], fmt::format("{}.Layers[{}]", at, l), root, label));
      entry.layers.push_back(std::move(layer));
    }
    out.push_back(std::move(entry));
  }
  return out;
}

struct FileDigest {
  oci::Digest digest;
  int64_t size = 0;
  bool gzip = false;
};

// Hashes a member file in chunks (layers can be large) and notes the gzip magic.
Result<FileDigest> HashFile(const fs::path& path) {
  PLUGCTL_ASSIGN_OR_RETURN(auto reader, OpenFileReader(path));
  oci::Hasher hasher;
  std::string buffer(kCopyBufferSize, '\0');
  std::string head;
  uint64_t total = 0;
  for (;;) {
    PLUGCTL_ASSIGN_OR_RETURN(size_t n, reader->Read(std::span<char>(buffer.data(), buffer.size())));
    if (n == 0) break;
    if (head.size() < 2) head.append(buffer.data(), std::min<size_t>(n, 2 - head.size()));
    hasher.Update(std::string_view(buffer.data(), n));
    total += n;
  }
  return FileDigest{hasher.Finish(), static_cast<int64_t>(total), head == "\x1f\x8b"};
}

std::string BlobMemberName(const oci::Digest& digest) {
  return fmt::format("blobs/{}/{}", digest.algorithm_name(), digest.hex());
}

// See NormalizedName in oci_layout.cc: "x:1" and "docker.io/library/x:1" are one image name.
std::optional<std::string> NormalizedName(std::string_view name) {
  if (name.find_first_of(":/") == std::string_view::npos) return std::nullopt;
  Result<oci::Reference> ref = oci::Reference::Parse(name);
  if (!ref || ref->digest) return std::nullopt;
  return ref->Name() + ":" + ref->TagOrDigest();
}

std::string JoinTags(const std::vector<std::string>& tags) {
  if (tags.empty()) return "(no tags)";
  std::string out;
  for (const std::string& tag : tags) {
    if (!out.empty()) out += ", ";
    out += tag;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading

class DockerArchiveReader : public Target {
 public:
  DockerArchiveReader(std::string describe, std::unique_ptr<TempDir> staging, fs::path root)
      : describe_(std::move(describe)), staging_(std::move(staging)), root_(std::move(root)) {}

  Status Load() {
    fs::path manifest_json = root_ / kManifestJson;
    std::error_code ec;
    has_manifest_json_ = fs::exists(fs::symlink_status(manifest_json, ec));
    if (!has_manifest_json_) {
      if (!fs::exists(root_ / "oci-layout", ec)) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "{}: not a docker archive: no manifest.json (and no OCI layout)",
                         describe_);
      }
      PLUGCTL_ASSIGN_OR_RETURN(layout_, OpenLayout());
      return OkStatus();
    }
    std::string label = fmt::format("{}: {}", describe_, kManifestJson);
    Result<std::string> raw = ReadFileBounded(manifest_json, kMaxManifestJsonBytes);
    if (!raw) return tl::unexpected(raw.error().WithContext(label));
    PLUGCTL_ASSIGN_OR_RETURN(std::vector<ManifestJsonEntry> entries,
                             ParseManifestJson(*raw, root_, label));
    // docker 25+ archives carry the original manifests: prefer them, digests intact.
    if (fs::exists(root_ / "oci-layout", ec)) {
      PLUGCTL_ASSIGN_OR_RETURN(bool served, TryServeLayout(entries));
      if (served) return OkStatus();
    }
    return Synthesize(entries);
  }

  std::string Describe() const override { return describe_; }

  Result<oci::Descriptor> Resolve(std::string_view reference) override {
    if (!has_manifest_json_) return layout_->Resolve(reference);
    if (reference.empty()) {
      std::set<oci::Digest> digests;
      for (const oci::Descriptor& d : images_) digests.insert(d.digest);
      if (digests.empty()) return MakeError(ErrorCode::kNotFound, "{} holds no images", describe_);
      if (digests.size() > 1) {
        return MakeError(ErrorCode::kFailedPrecondition, "{} holds {} images; name one: {}",
                         describe_, digests.size(), ImageNames());
      }
      return images_.front();
    }
    if (Result<oci::Digest> digest = oci::Digest::Parse(reference)) {
      if (layout_) return layout_->Resolve(reference);
      auto it = manifests_.find(*digest);
      if (it == manifests_.end()) {
        return MakeError(ErrorCode::kNotFound, "{}: {} not found", describe_, digest->ToString());
      }
      return oci::Descriptor::For(oci::kDockerManifest, it->second);
    }
    auto it = tags_.find(std::string(reference));
    if (it == tags_.end()) {
      if (std::optional<std::string> wanted = NormalizedName(reference)) {
        it = std::find_if(tags_.begin(), tags_.end(),
                          [&](const auto& entry) { return NormalizedName(entry.first) == wanted; });
      }
    }
    if (it != tags_.end()) {
      if (auto claims = ambiguous_.find(it->first); claims != ambiguous_.end()) {
        std::vector<std::string> named;
        for (const oci::Digest& d : claims->second) {
          named.push_back(fmt::format("{}:@{}", describe_, d.ToString()));
        }
        return MakeError(ErrorCode::kFailedPrecondition,
                         "{}: RepoTag \"{}\" is claimed by {} images (docker load keeps the "
                         "last); name one by digest: {}",
                         describe_, it->first, claims->second.size(), JoinTags(named));
      }
      return it->second;
    }
    return MakeError(ErrorCode::kNotFound, "{}: tag \"{}\" not found; tags: {}", describe_,
                     reference.substr(0, 256), JoinTags(TagList()));
  }

  Result<std::unique_ptr<Reader>> Fetch(const oci::Descriptor& desc) override {
    if (layout_) return layout_->Fetch(desc);
    if (auto it = manifests_.find(desc.digest); it != manifests_.end()) {
      return std::unique_ptr<Reader>(std::make_unique<StringReader>(it->second));
    }
    if (auto it = blobs_.find(desc.digest); it != blobs_.end()) return OpenFileReader(it->second);
    return MakeError(ErrorCode::kNotFound, "{}: blob {} not found", describe_,
                     desc.digest.ToString());
  }

  Result<bool> Exists(const oci::Descriptor& desc) override {
    if (layout_) return layout_->Exists(desc);
    return manifests_.count(desc.digest) > 0 || blobs_.count(desc.digest) > 0;
  }

  Status Push(const oci::Descriptor&, Reader&) override {
    return internal::ReadOnlyError(describe_, "push");
  }
  Status Tag(const oci::Descriptor&, std::string_view) override {
    return internal::ReadOnlyError(describe_, "tag");
  }

  Result<std::vector<std::string>> Tags() override {
    if (!has_manifest_json_) return layout_->Tags();
    return TagList();
  }

  Status Commit() override { return OkStatus(); }

  // One per manifest.json entry, in file order: the image and its RepoTags (maybe none).
  struct SavedImage {
    oci::Descriptor desc;
    std::vector<std::string> repo_tags;
  };
  const std::vector<SavedImage>& saved() const { return saved_; }

 private:
  std::vector<std::string> TagList() const {
    std::vector<std::string> out;
    for (const auto& [tag, desc] : tags_) out.push_back(tag);
    return out;
  }

  Result<std::unique_ptr<OciLayoutTarget>> OpenLayout() {
    return OciLayoutTarget::Open(root_, {.create = false, .display_name = describe_});
  }

  void AddImage(const oci::Descriptor& desc, const ManifestJsonEntry& entry) {
    images_.push_back(desc);
    saved_.push_back({desc, entry.repo_tags});
    // docker load lets a later entry claiming the same tag win; reading by that tag is
    // refused instead (Resolve), as it is not clear which image was meant.
    for (const std::string& tag : entry.repo_tags) {
      auto [it, inserted] = tags_.emplace(tag, desc);
      if (inserted || it->second.digest == desc.digest) continue;
      std::vector<oci::Digest>& claims = ambiguous_[tag];
      if (claims.empty()) claims.push_back(it->second.digest);
      if (std::find(claims.begin(), claims.end(), desc.digest) == claims.end()) {
        claims.push_back(desc.digest);
      }
      it->second = desc;
    }
  }

  // Each image as a location naming it: by its RepoTags that name it alone, else by digest
  // (FILE:@sha256:…), since FILE:NAME:TAG without the transport would be read as a registry
  // reference.
  std::string ImageNames() const {
    std::vector<std::string> out;
    std::set<oci::Digest> seen;
    for (const SavedImage& image : saved_) {
      if (!seen.insert(image.desc.digest).second) continue;
      bool named = false;
      for (const auto& [tag, desc] : tags_) {
        if (desc.digest != image.desc.digest || ambiguous_.count(tag) != 0) continue;
        out.push_back(fmt::format("{}:{}", describe_, tag));
        named = true;
      }
      if (!named) out.push_back(fmt::format("{}:@{}", describe_, image.desc.digest.ToString()));
    }
    return JoinTags(out);
  }

  bool Complete(const oci::Manifest& m) {
    if (!m.config || !layout_->Exists(*m.config).value_or(false)) return false;
    for (const oci::Descriptor& layer : m.layers) {
      if (!layout_->Exists(layer).value_or(false)) return false;
    }
    return true;
  }

  // Serves the archive's OCI layout if it covers every manifest.json image; false (with
  // nothing changed) if it does not, or is unusable.
  Result<bool> TryServeLayout(const std::vector<ManifestJsonEntry>& entries) {
    Result<std::unique_ptr<OciLayoutTarget>> layout = OpenLayout();
    if (!layout) return false;
    layout_ = std::move(*layout);
    Result<std::vector<oci::Descriptor>> top = layout_->Entries();
    if (!top) {
      layout_.reset();
      return false;
    }
    // Config digest -> what a RepoTag of that image should resolve to.
    std::map<oci::Digest, oci::Descriptor> cover;
    for (const oci::Descriptor& entry : *top) {
      Result<oci::Manifest> m = FetchManifest(*layout_, entry);
      if (!m) continue;
      if (!m->is_index()) {
        if (m->config) cover.emplace(m->config->digest, entry);
        continue;
      }
      std::vector<std::pair<oci::Descriptor, oci::Digest>> children;
      bool complete = true;
      for (const oci::Descriptor& child : m->manifests) {
        Result<oci::Manifest> cm = oci::IsImageManifestType(child.media_type)
                                       ? FetchManifest(*layout_, child)
                                       : Result<oci::Manifest>(tl::unexpected(
                                             Error(ErrorCode::kNotFound, "not an image")));
        if (!cm || cm->is_index() || !cm->config) {
          complete = false;
          continue;
        }
        complete = complete && Complete(*cm);
        children.emplace_back(child, cm->config->digest);
      }
      // docker saves only the platform it has; an index with missing children cannot be
      // copied whole, so hand out the image manifest instead.
      for (const auto& [child, config] : children) cover.emplace(config, complete ? entry : child);
    }
    std::vector<oci::Descriptor> resolved;
    for (const ManifestJsonEntry& e : entries) {
      Result<FileDigest> config = HashFile(root_ / e.config);
      if (!config) return tl::unexpected(config.error().WithContext(describe_));
      auto it = cover.find(config->digest);
      if (it == cover.end()) {
        layout_.reset();
        return false;
      }
      resolved.push_back(it->second);
    }
    for (size_t i = 0; i < entries.size(); ++i) AddImage(resolved[i], entries[i]);
    return true;
  }

  Status Synthesize(const std::vector<ManifestJsonEntry>& entries) {
    // Keyed by inode: links to one layer (materialized as hard links) are hashed once,
    // however many manifest.json entries name them.
    std::map<std::pair<dev_t, ino_t>, FileDigest> hashed;
    auto hash = [&](const std::string& member) -> Result<FileDigest> {
      struct stat st {};
      bool known = ::stat((root_ / member).c_str(), &st) == 0;
      if (auto it = hashed.find({st.st_dev, st.st_ino}); known && it != hashed.end()) {
        return it->second;
      }
      Result<FileDigest> d = HashFile(root_ / member);
      if (!d) return tl::unexpected(d.error().WithContext(describe_));
      blobs_.emplace(d->digest, root_ / member);
      if (known) hashed.emplace(std::make_pair(st.st_dev, st.st_ino), *d);
      return d;
    };
    for (const ManifestJsonEntry& entry : entries) {
      oci::ImageManifestSpec spec;
      spec.media_type = std::string(oci::kDockerManifest);
      PLUGCTL_ASSIGN_OR_RETURN(FileDigest config, hash(entry.config));
      spec.config.media_type = std::string(oci::kDockerConfig);
      spec.config.digest = config.digest;
      spec.config.size = config.size;
      for (const std::string& member : entry.layers) {
        PLUGCTL_ASSIGN_OR_RETURN(FileDigest layer, hash(member));
        oci::Descriptor d;
        d.media_type = std::string(layer.gzip ? oci::kDockerLayerTarGzip : oci::kDockerLayerTar);
        d.digest = layer.digest;
        d.size = layer.size;
        spec.layers.push_back(std::move(d));
      }
      std::string bytes = oci::BuildImageManifest(spec);
      oci::Descriptor desc = oci::Descriptor::For(oci::kDockerManifest, bytes);
      manifests_.emplace(desc.digest, std::move(bytes));
      AddImage(desc, entry);
    }
    return OkStatus();
  }

  std::string describe_;
  std::unique_ptr<TempDir> staging_;
  fs::path root_;
  bool has_manifest_json_ = false;
  // Served layout (docker 25+ archives and layout-only tars), or null when synthesized.
  std::unique_ptr<OciLayoutTarget> layout_;
  std::map<oci::Digest, std::string> manifests_;  // synthesized manifests
  std::map<oci::Digest, fs::path> blobs_;         // synthesized mode: member files by digest
  std::map<std::string, oci::Descriptor> tags_;   // RepoTags
  // RepoTags that several images claim, with their digests in manifest.json order.
  std::map<std::string, std::vector<oci::Digest>> ambiguous_;
  std::vector<oci::Descriptor> images_;  // one per manifest.json entry
  std::vector<SavedImage> saved_;        // the same, with their RepoTags
};

Result<std::unique_ptr<DockerArchiveReader>> OpenReader(const fs::path& file,
                                                        const std::string& describe) {
  PLUGCTL_ASSIGN_OR_RETURN(auto staging, TempDir::Create("plugctl-docker-archive"));
  fs::path root = staging->path() / "root";
  // docker save links duplicate layers and (25+) legacy "<id>/layer.tar" paths to blobs.
  PLUGCTL_RETURN_IF_ERROR(
      internal::ExtractArchiveFile(file, root, describe, {.resolve_links = true}));
  auto reader = std::make_unique<DockerArchiveReader>(describe, std::move(staging), root);
  PLUGCTL_RETURN_IF_ERROR(reader->Load());
  return reader;
}

// Copies the manifest or index `desc` and every blob it reaches from `src` into `dst` (an index
// child `src` lacks is skipped: docker saves only the platform it has).
Status CopyImageInto(Target& src, const oci::Descriptor& desc, OciLayoutTarget& dst, int depth) {
  if (depth > 2) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: indexes nested too deep at {}",
                     src.Describe(), desc.digest.ToString());
  }
  PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest m, FetchManifest(src, desc));
  std::vector<oci::Descriptor> blobs = m.layers;
  if (m.config) blobs.push_back(*m.config);
  for (const oci::Descriptor& child : m.manifests) {
    PLUGCTL_ASSIGN_OR_RETURN(bool present, src.Exists(child));
    if (present) PLUGCTL_RETURN_IF_ERROR(CopyImageInto(src, child, dst, depth + 1));
  }
  for (const oci::Descriptor& blob : blobs) {
    PLUGCTL_ASSIGN_OR_RETURN(bool stored, dst.Exists(blob));
    if (stored) continue;
    PLUGCTL_ASSIGN_OR_RETURN(auto reader, src.Fetch(blob));
    PLUGCTL_RETURN_IF_ERROR(dst.Push(blob, *reader));
  }
  StringReader manifest(m.raw);
  return dst.Push(desc, manifest);
}

// ---------------------------------------------------------------------------------------------
// Writing

// docker load (moby image/tarexport) parses each RepoTag as a normalized name and requires it
// to be tagged; a bare tag or a digest makes the whole load fail. Returns the normalized name.
Result<std::string> ValidateDockerTag(std::string_view tag, const std::string& describe) {
  auto invalid = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: tag \"{}\" {}; docker archives need NAME:TAG, e.g. basic-auth:1.0.0",
                     describe, tag.substr(0, 256), why);
  };
  if (tag.find("://") != std::string_view::npos) return invalid("must not have a scheme");
  Result<oci::Reference> ref = oci::Reference::Parse(tag);
  if (!ref) return invalid(fmt::format("is not an image name ({})", ref.error().message()));
  if (ref->digest) return invalid("has a digest");
  if (ref->tag.empty()) return invalid("has no \":TAG\"");
  return ref->ToString();
}

class DockerArchiveWriter : public Target {
 public:
  DockerArchiveWriter(fs::path file, std::string describe, std::unique_ptr<TempDir> staging,
                      std::unique_ptr<OciLayoutTarget> layout, bool dirty)
      : file_(std::move(file)),
        describe_(std::move(describe)),
        staging_(std::move(staging)),
        layout_(std::move(layout)),
        dirty_(dirty) {}

  // Starts from what the existing archive holds, so that writing adds to it (as oci-archive
  // does) and `tag` works in place: every image with its RepoTags, untagged ones included.
  Status Import(DockerArchiveReader& existing) {
    for (const DockerArchiveReader::SavedImage& image : existing.saved()) {
      Status copied = CopyImageInto(existing, image.desc, *layout_, 0);
      if (!copied) return tl::unexpected(copied.error().WithContext("existing content"));
      if (image.repo_tags.empty()) PLUGCTL_RETURN_IF_ERROR(PutEntry(image.desc, std::nullopt));
      for (const std::string& tag : image.repo_tags) {
        PLUGCTL_RETURN_IF_ERROR(PutEntry(image.desc, tag));
      }
    }
    return OkStatus();
  }

  std::string Describe() const override { return describe_; }
  Result<oci::Descriptor> Resolve(std::string_view reference) override {
    if (!reference.empty()) return layout_->Resolve(reference);
    // "" is the only image, however many tags it has (the layout counts entries).
    PLUGCTL_ASSIGN_OR_RETURN(std::vector<oci::Descriptor> entries, layout_->Entries());
    std::set<oci::Digest> digests;
    for (const oci::Descriptor& entry : entries) digests.insert(entry.digest);
    if (digests.size() == 1) return entries.front();
    return layout_->Resolve(reference);
  }
  Result<std::unique_ptr<Reader>> Fetch(const oci::Descriptor& desc) override {
    return layout_->Fetch(desc);
  }
  Result<bool> Exists(const oci::Descriptor& desc) override { return layout_->Exists(desc); }

  // Content the archive already has changes nothing (and is not read).
  Status Push(const oci::Descriptor& desc, Reader& content) override {
    PLUGCTL_ASSIGN_OR_RETURN(bool stored, layout_->Exists(desc));
    if (stored) return OkStatus();
    PLUGCTL_RETURN_IF_ERROR(layout_->Push(desc, content));
    dirty_ = true;
    return OkStatus();
  }

  // A tag already in the archive (by name as given or normalized: "x:1" is
  // "docker.io/library/x:1") moves to `desc`, as in an OCI archive.
  Status Tag(const oci::Descriptor& desc, std::string_view tag) override {
    PLUGCTL_RETURN_IF_ERROR(ValidateDockerTag(tag, describe_));
    // Fail early when the image is already here; Commit checks again with every blob.
    PLUGCTL_ASSIGN_OR_RETURN(auto checked, CheckLoadable(desc, tag, /*require_blobs=*/false));
    (void)checked;
    PLUGCTL_ASSIGN_OR_RETURN(bool changed, PutEntry(desc, std::string(tag)));
    if (changed) dirty_ = true;
    return OkStatus();
  }

  // The tags as given to Tag (the layout would also list the containerd names).
  Result<std::vector<std::string>> Tags() override {
    PLUGCTL_ASSIGN_OR_RETURN(std::vector<oci::Descriptor> entries, layout_->Entries());
    std::set<std::string> tags;
    for (const oci::Descriptor& entry : entries) {
      auto tag = entry.annotations.find(std::string(oci::kAnnotationRefName));
      if (tag != entry.annotations.end()) tags.insert(tag->second);
    }
    return std::vector<std::string>(tags.begin(), tags.end());
  }

  Status Commit() override {
    if (!dirty_) return OkStatus();
    PLUGCTL_ASSIGN_OR_RETURN(std::vector<oci::Descriptor> entries, layout_->Entries());
    // One manifest.json entry per image, with all its tags (none for an untagged image kept
    // from the existing archive), in index.json order.
    std::vector<std::pair<oci::Descriptor, std::vector<std::string>>> images;
    for (const oci::Descriptor& entry : entries) {
      auto same = std::find_if(images.begin(), images.end(), [&](const auto& image) {
        return image.first.digest == entry.digest;
      });
      if (same == images.end()) {
        images.emplace_back(entry, std::vector<std::string>{});
        same = images.end() - 1;
      }
      auto tag = entry.annotations.find(std::string(oci::kAnnotationRefName));
      if (tag != entry.annotations.end()) same->second.push_back(tag->second);
    }
    ordered_json manifest_json = ordered_json::array();
    for (auto& [desc, tags] : images) {
      std::sort(tags.begin(), tags.end());
      PLUGCTL_ASSIGN_OR_RETURN(
          std::optional<oci::Manifest> image,
          CheckLoadable(desc, tags.empty() ? desc.digest.ToString() : tags.front(),
                        /*require_blobs=*/true));
      ordered_json item = ordered_json::object();
      item["Config"] = BlobMemberName(image->config->digest);
      // docker save writes null for an image without names; docker load accepts it.
      item["RepoTags"] = tags.empty() ? ordered_json(nullptr) : ordered_json(tags);
      ordered_json layers = ordered_json::array();
      for (const oci::Descriptor& layer : image->layers) {
        layers.push_back(BlobMemberName(layer.digest));
      }
      item["Layers"] = std::move(layers);
      manifest_json.push_back(std::move(item));
    }
    std::string manifest_text =
        manifest_json.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
    Status st = internal::WriteArchiveFileAtomically(file_, [&](archive::TarWriter& tar) -> Status {
      PLUGCTL_RETURN_IF_ERROR(internal::AddLayoutMetadata(layout_->dir(), tar));
      PLUGCTL_RETURN_IF_ERROR(tar.AddFile(kManifestJson, manifest_text));
      return internal::AddLayoutBlobs(*layout_, tar);
    });
    if (!st) return tl::unexpected(st.error().WithContext(describe_));
    dirty_ = false;
    return OkStatus();
  }

 private:
  // Puts an index.json entry for `desc`: tagged, it replaces the entries of the same name (as
  // given or normalized) and carries io.containerd.image.name for docker's containerd image
  // store (when the tag normalizes); untagged, it is added only if no entry has the image yet.
  // Returns whether index.json changed (re-tagging an image with its own tag does not).
  Result<bool> PutEntry(const oci::Descriptor& desc, const std::optional<std::string>& tag) {
    std::optional<std::string> normalized = tag ? NormalizedName(*tag) : std::nullopt;
    oci::Descriptor entry;
    entry.media_type = desc.media_type;
    entry.digest = desc.digest;
    entry.size = desc.size;
    entry.platform = desc.platform;
    entry.artifact_type = desc.artifact_type;
    if (tag) entry.annotations[std::string(oci::kAnnotationRefName)] = *tag;
    if (normalized) {
      entry.annotations[std::string(oci::kAnnotationContainerdImageName)] = *normalized;
    }
    auto annotation = [](const oci::Descriptor& d, std::string_view key) -> std::string {
      auto it = d.annotations.find(std::string(key));
      return it == d.annotations.end() ? "" : it->second;
    };
    bool changed = true;
    Status edited = layout_->EditEntries(
        [&](const std::vector<oci::Descriptor>& current) -> Result<OciLayoutTarget::EntryEdit> {
          OciLayoutTarget::EntryEdit edit;
          if (tag) {
            // Already so: exactly one entry of that name, this image, the same annotations.
            size_t same = 0;
            size_t named = 0;
            for (const oci::Descriptor& e : current) {
              const std::string ref = annotation(e, oci::kAnnotationRefName);
              const std::string name = annotation(e, oci::kAnnotationContainerdImageName);
              if (ref == *tag ||
                  (normalized && (name == *normalized || NormalizedName(ref) == normalized))) {
                ++named;
                if (e.digest == desc.digest && e.annotations == entry.annotations) ++same;
              }
            }
            if (named == 1 && same == 1) {
              changed = false;
              return edit;
            }
          }
          for (size_t i = 0; i < current.size(); ++i) {
            const oci::Descriptor& e = current[i];
            if (!tag) {
              if (e.digest == desc.digest) {
                changed = false;  // already listed
                return edit;
              }
              continue;
            }
            const std::string ref = annotation(e, oci::kAnnotationRefName);
            const std::string name = annotation(e, oci::kAnnotationContainerdImageName);
            if (ref == *tag ||
                (normalized && (name == *normalized || NormalizedName(ref) == normalized))) {
              edit.remove.push_back(i);
            } else if (ref.empty() && e.digest == desc.digest) {
              edit.remove.push_back(i);  // an untagged entry of this image gets its name
            }
          }
          edit.add.push_back(entry);
          return edit;
        });
    if (!edited) return tl::unexpected(edited.error());
    return changed;
  }

  // The image manifest docker would load for `desc` (an index contributes its linux/amd64
  // image, else its first), after checking docker can load it. std::nullopt when a manifest
  // is not stored yet and !require_blobs.
  Result<std::optional<oci::Manifest>> CheckLoadable(const oci::Descriptor& desc,
                                                     std::string_view tag, bool require_blobs) {
    auto refuse = [&](std::string_view why) {
      return MakeError(ErrorCode::kFailedPrecondition, "{}: docker cannot load {}: {}", describe_,
                       tag.substr(0, 256), why);
    };
    auto fetch = [&](const oci::Descriptor& d) -> Result<std::optional<oci::Manifest>> {
      PLUGCTL_ASSIGN_OR_RETURN(bool stored, layout_->Exists(d));
      if (!stored) {
        if (!require_blobs) return std::optional<oci::Manifest>();
        return refuse(fmt::format("manifest {} is not stored", d.digest.ToString()));
      }
      PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest m, FetchManifest(*layout_, d));
      return std::optional<oci::Manifest>(std::move(m));
    };
    PLUGCTL_ASSIGN_OR_RETURN(std::optional<oci::Manifest> m, fetch(desc));
    if (!m) return m;
    if (m->is_index()) {
      const oci::Descriptor* pick = nullptr;
      for (const oci::Descriptor& child : m->manifests) {
        if (!oci::IsImageManifestType(child.media_type)) continue;
        if (pick == nullptr) pick = &child;
        if (child.platform && child.platform->os == "linux" &&
            child.platform->architecture == "amd64") {
          pick = &child;
          break;
        }
      }
      if (pick == nullptr) return refuse("the index lists no image manifest");
      oci::Descriptor child = *pick;
      PLUGCTL_ASSIGN_OR_RETURN(m, fetch(child));
      if (!m) return m;
      if (m->is_index()) return refuse("nested indexes are not supported by docker archives");
    }
    const std::string& config_type = m->config->media_type;
    if (!oci::MediaTypeEquals(config_type, oci::kDockerConfig) &&
        !oci::MediaTypeEquals(config_type, oci::kOciConfig)) {
      return refuse(fmt::format("config media type {}; convert with --variant docker",
                                config_type.substr(0, 256)));
    }
    if (!require_blobs) return m;
    PLUGCTL_ASSIGN_OR_RETURN(bool config_stored, layout_->Exists(*m->config));
    if (!config_stored) {
      return refuse(fmt::format("config {} is not stored", m->config->digest.ToString()));
    }
    for (const oci::Descriptor& layer : m->layers) {
      PLUGCTL_ASSIGN_OR_RETURN(bool stored, layout_->Exists(layer));
      if (!stored) return refuse(fmt::format("layer {} is not stored", layer.digest.ToString()));
    }
    // docker load pairs Layers with rootfs.diff_ids one to one and fails otherwise.
    PLUGCTL_ASSIGN_OR_RETURN(auto reader, layout_->Fetch(*m->config));
    PLUGCTL_ASSIGN_OR_RETURN(std::string config_text,
                             ReadAllBounded(*reader, kMaxConfigBytes, "image config"));
    json config = oci::ParseJson(config_text, "image config").value_or(json());
    if (!config.is_object()) return refuse("its config is not a JSON object");
    auto rootfs = config.find("rootfs");
    if (rootfs != config.end() && rootfs->is_object()) {
      auto diff_ids = rootfs->find("diff_ids");
      if (diff_ids != rootfs->end() && diff_ids->is_array() &&
          diff_ids->size() != m->layers.size()) {
        return refuse(fmt::format("its config lists {} rootfs.diff_ids for {} layers",
                                  diff_ids->size(), m->layers.size()));
      }
    }
    return m;
  }

  fs::path file_;
  std::string describe_;
  std::unique_ptr<TempDir> staging_;
  std::unique_ptr<OciLayoutTarget> layout_;
  // A new file is written even if nothing was pushed; an existing one only when changed.
  std::atomic<bool> dirty_;
};

}  // namespace

Result<std::unique_ptr<Target>> OpenDockerArchive(const fs::path& file, OpenMode mode) {
  const std::string describe = "docker-archive:" + file.string();
  std::error_code ec;
  if (mode == OpenMode::kWrite) {
    PLUGCTL_RETURN_IF_ERROR(internal::CheckParentDirectory(file, describe));
    PLUGCTL_RETURN_IF_ERROR(
        internal::CheckReplaceableArchive(file, kManifestJson, "a docker archive", describe));
    const bool has_content = fs::exists(file, ec) && fs::file_size(file, ec) > 0 && !ec;
    PLUGCTL_ASSIGN_OR_RETURN(auto staging, TempDir::Create("plugctl-docker-archive"));
    PLUGCTL_ASSIGN_OR_RETURN(auto layout,
                             OciLayoutTarget::Open(staging->path() / "layout",
                                                   {.create = true, .display_name = describe}));
    auto writer = std::make_unique<DockerArchiveWriter>(file, describe, std::move(staging),
                                                        std::move(layout), !has_content);
    if (has_content) {
      PLUGCTL_ASSIGN_OR_RETURN(std::unique_ptr<DockerArchiveReader> existing,
                               OpenReader(file, describe));
      PLUGCTL_RETURN_IF_ERROR(writer->Import(*existing));
    }
    return std::unique_ptr<Target>(std::move(writer));
  }
  if (!fs::exists(file, ec)) return MakeError(ErrorCode::kNotFound, "{}: file not found", describe);
  PLUGCTL_ASSIGN_OR_RETURN(std::unique_ptr<DockerArchiveReader> reader, OpenReader(file, describe));
  return std::unique_ptr<Target>(std::move(reader));
}

}  // namespace plugctl::store
