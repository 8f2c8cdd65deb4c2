#include "plugctl/transfer/artifact.h"

#include <optional>
#include <set>

#include "plugctl/base/file.h"
#include "plugctl/oci/json.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/oci/verifying_reader.h"
#include "plugctl/plugin/builder.h"
#include "plugctl/plugin/loadability.h"
#include "plugctl/store/content.h"

namespace plugctl::transfer {
namespace {

constexpr int kMaxIndexDepth = 4;

// RFC 6838 restricted-name characters (plus '.', which it allows too).
bool IsMediaTypeNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$&-^_.+").find(c) != std::string_view::npos;
}

// "type/subtype" with optional ";param=value" parts (no control characters, no ':').
bool LooksLikeMediaType(std::string_view text) {
  size_t semi = text.find(';');
  std::string_view name = text.substr(0, semi);
  size_t slash = name.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (i != slash && !IsMediaTypeNameChar(name[i])) return false;
  }
  if (semi == std::string_view::npos) return true;
  for (char c : text.substr(semi)) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ':') return false;
  }
  return true;
}

// One blob the artifact's source holds: bytes in memory (manifest, config "{}") or a file.
struct Blob {
  std::string bytes;
  std::filesystem::path file;  // empty: `bytes`
};

// The read-only target BuildArtifact hands to the copy engine. Fetch opens files anew, so the
// engine's verification catches a file changed since it was hashed.
class ArtifactSource : public store::Target {
 public:
  ArtifactSource(std::map<oci::Digest, Blob> blobs, std::unique_ptr<TempDir> packed)
      : blobs_(std::move(blobs)), packed_(std::move(packed)) {}

  std::string Describe() const override { return "the files to push"; }
  Result<oci::Descriptor> Resolve(std::string_view reference) override {
    return MakeError(ErrorCode::kNotFound, "{}: nothing is tagged here", reference);
  }
  Result<std::unique_ptr<Reader>> Fetch(const oci::Descriptor& desc) override {
    auto it = blobs_.find(desc.digest);
    if (it == blobs_.end()) {
      return MakeError(ErrorCode::kNotFound, "{} not found", desc.digest.ToString());
    }
    if (it->second.file.empty()) {
      return std::unique_ptr<Reader>(std::make_unique<StringReader>(it->second.bytes));
    }
    return OpenFileReader(it->second.file);
  }
  Result<bool> Exists(const oci::Descriptor& desc) override { return blobs_.contains(desc.digest); }
  Status Push(const oci::Descriptor& desc, Reader&) override {
    return MakeError(ErrorCode::kUnimplemented, "{}: read-only", desc.digest.ToString());
  }
  Status Tag(const oci::Descriptor&, std::string_view tag) override {
    return MakeError(ErrorCode::kUnimplemented, "tag {}: read-only", tag);
  }
  Result<std::vector<std::string>> Tags() override { return std::vector<std::string>{}; }
  Status Commit() override { return OkStatus(); }

 private:
  std::map<oci::Digest, Blob> blobs_;
  // The packed directories' files (null when none).
  std::unique_ptr<TempDir> packed_;
};

// Hashes a regular file (streaming) into a descriptor.
Result<oci::Descriptor> DescribeFile(const ArtifactFile& file) {
  PLUGCTL_ASSIGN_OR_RETURN(auto reader, OpenFileReader(file.path));
  oci::Hasher hasher;
  std::string buffer(kCopyBufferSize, '\0');
  int64_t size = 0;
  for (;;) {
    PLUGCTL_ASSIGN_OR_RETURN(size_t n, reader->Read(std::span<char>(buffer.data(), buffer.size())));
    if (n == 0) break;
    hasher.Update(std::string_view(buffer.data(), n));
    size += static_cast<int64_t>(n);
  }
  oci::Descriptor desc;
  desc.media_type = file.media_type;
  desc.digest = hasher.Finish();
  desc.size = size;
  return desc;
}

// Refuses what is not a regular file (or, when `directory_ok`, a directory), with the reason a
// user can act on. Returns whether it is a directory.
Result<bool> CheckRegularFile(const std::filesystem::path& path, bool directory_ok) {
  std::error_code ec;
  std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) {
    return MakeError(ErrorCode::kNotFound, "{}: no such file", path.string());
  }
  if (std::filesystem::is_directory(st)) {
    if (directory_ok) return true;
    return MakeError(ErrorCode::kInvalidArgument, "{} is a directory, not a file", path.string());
  }
  if (!std::filesystem::is_regular_file(st)) {
    return MakeError(ErrorCode::kInvalidArgument, "{} is not a regular file", path.string());
  }
  return false;
}

// A directory's layer title: its base name as given ("a/b/" -> "b").
std::string DirectoryTitle(const std::filesystem::path& path) {
  std::filesystem::path p = path.lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  return p.filename().string();
}

// A title that is a plain file name in any directory.
// A title names where `pull --all` writes the layer below its output directory. ORAS writes a
// relative path as it is (official images have titles like
// `bazel-bin/extensions/custom_response/custom_response.wasm`), so a path of plain components
// is allowed; anything that could name a place outside the directory, or two names for one
// place, is refused. A directory layer's title must be one component (its tar's top entry).
Status CheckTitle(std::string_view title, bool directory_layer) {
  if (title.size() > 4096) {
    return MakeError(ErrorCode::kInvalidArgument, "layer title \"{}…\" is longer than 4096 bytes",
                     title.substr(0, 64));
  }
  for (char c : title) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return MakeError(ErrorCode::kInvalidArgument, "layer title \"{}\" holds control characters",
                       title.substr(0, 256));
    }
    if (c == '\\') {
      return MakeError(ErrorCode::kInvalidArgument,
                       "layer title \"{}\" holds a backslash: refusing a name Windows clients "
                       "read as a path",
                       title);
    }
  }
  if (title.front() == '/') {
    return MakeError(ErrorCode::kInvalidArgument,
                     "layer title \"{}\" is an absolute path: refusing to write outside the "
                     "output directory",
                     title);
  }
  size_t components = 0;
  for (size_t start = 0; start <= title.size();) {
    size_t slash = std::min(title.find('/', start), title.size());
    std::string_view part = title.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") {
      return MakeError(ErrorCode::kInvalidArgument,
                       "layer title \"{}\" has an empty, \".\" or \"..\" component: refusing to "
                       "write outside the output directory",
                       title);
    }
    if (part.size() > 255) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "layer title \"{}…\" has a component longer than 255 bytes",
                       title.substr(0, 64));
    }
    ++components;
    start = slash + 1;
  }
  if (directory_layer && components > 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "layer title \"{}\" is a path, but a packed directory's title must be one "
                     "name (the top entry of its tar)",
                     title);
  }
  return OkStatus();
}

}  // namespace

Result<ArtifactFile> ParseArtifactFileArg(std::string_view arg,
                                          std::string_view default_media_type) {
  size_t colon = arg.find(':');
  ArtifactFile out;
  out.path = std::filesystem::path(std::string(arg.substr(0, colon)));
  out.media_type = colon == std::string_view::npos ? std::string(default_media_type)
                                                   : std::string(arg.substr(colon + 1));
  out.media_type_given = colon != std::string_view::npos;
  if (out.path.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "\"{}\": no file name before ':'", arg);
  }
  if (colon != std::string_view::npos && !LooksLikeMediaType(out.media_type)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "\"{}\": \"{}\" is not a media type (FILE[:TYPE/SUBTYPE]; a file whose name "
                     "holds ':' cannot be named here: link or rename it)",
                     arg, out.media_type);
  }
  return out;
}

Result<std::pair<std::string, std::string>> ParseAnnotationArg(std::string_view arg) {
  size_t eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return MakeError(ErrorCode::kInvalidArgument, "annotation \"{}\" is not KEY=VALUE", arg);
  }
  return std::pair{std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1))};
}

Result<ArtifactAnnotations> ParseAnnotationFile(std::string_view json, std::string_view what) {
  PLUGCTL_ASSIGN_OR_RETURN(nlohmann::json doc, oci::ParseJson(json, what));
  if (!doc.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: not a JSON object (want {{\"$manifest\": {{…}}, \"FILE\": {{…}}}})",
                     what);
  }
  ArtifactAnnotations out;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    std::string path = fmt::format("{}: \"{}\"", what, key.substr(0, 128));
    PLUGCTL_ASSIGN_OR_RETURN(oci::Annotations values, oci::AnnotationsFromJson(it.value(), path));
    if (key == "$manifest") {
      out.manifest = std::move(values);
    } else if (key == "$config") {
      out.config = std::move(values);
    } else {
      out.files[key] = std::move(values);
    }
  }
  return out;
}

Result<BuiltArtifact> BuildArtifact(const ArtifactSpec& spec) {
  if (spec.files.empty() && !spec.config) {
    return MakeError(ErrorCode::kInvalidArgument, "no files to push");
  }
  std::map<oci::Digest, Blob> blobs;
  BuiltArtifact out;
  std::set<std::string> titles;
  std::unique_ptr<TempDir> packed;
  for (const ArtifactFile& file : spec.files) {
    PLUGCTL_ASSIGN_OR_RETURN(bool is_dir, CheckRegularFile(file.path, /*directory_ok=*/true));
    std::string title = is_dir ? DirectoryTitle(file.path) : file.path.filename().string();
    if (title.empty() || title == "." || title == "..") {
      return MakeError(ErrorCode::kInvalidArgument, "{}: not a {} name{}", file.path.string(),
                       is_dir ? "directory" : "file",
                       is_dir ? " (name the directory, e.g. ../NAME, to title its layer)" : "");
    }
    if (!titles.insert(title).second) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "two files or directories are named {}: layers are titled by base name, "
                       "which must be unique",
                       title);
    }
    oci::Descriptor layer;
    std::filesystem::path blob_file = file.path;
    std::optional<oci::Digest> tar_digest;
    if (is_dir) {
      if (!packed) {
        PLUGCTL_ASSIGN_OR_RETURN(packed, TempDir::Create("plugctl-push"));
      }
      blob_file = packed->path() / fmt::format("{}.tar.gz", out.layers.size());
      PLUGCTL_ASSIGN_OR_RETURN(PackedDirectory p, PackDirectory(file.path, title, blob_file));
      layer.media_type =
          file.media_type_given ? file.media_type : std::string(kDefaultDirectoryMediaType);
      layer.digest = p.digest;
      layer.size = p.size;
      tar_digest = p.tar_digest;
    } else {
      PLUGCTL_ASSIGN_OR_RETURN(layer, DescribeFile(file));
    }
    if (auto a = spec.annotations.files.find(title); a != spec.annotations.files.end()) {
      layer.annotations = a->second;
    }
    layer.annotations[std::string(oci::kAnnotationTitle)] = title;
    if (tar_digest) {
      layer.annotations[std::string(kOrasContentDigestAnnotation)] = tar_digest->ToString();
      layer.annotations[std::string(kOrasUnpackAnnotation)] = "true";
    }
    blobs[layer.digest] = Blob{.bytes = {}, .file = blob_file};
    out.layers.push_back(std::move(layer));
  }
  for (const auto& [title, values] : spec.annotations.files) {
    if (!titles.contains(title)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "the annotation file names \"{}\", which is not a file being pushed", title);
    }
  }

  if (spec.config) {
    PLUGCTL_RETURN_IF_ERROR(CheckRegularFile(spec.config->path, /*directory_ok=*/false));
    PLUGCTL_ASSIGN_OR_RETURN(out.config, DescribeFile(*spec.config));
    blobs[out.config.digest] = Blob{.bytes = {}, .file = spec.config->path};
  } else {
    out.config = oci::Descriptor::For(oci::kOciEmpty, "{}");
    blobs[out.config.digest] = Blob{.bytes = "{}", .file = {}};
  }
  out.config.annotations = spec.annotations.config;
  out.artifact_type = spec.artifact_type;
  if (out.artifact_type.empty() && !spec.config) {
    out.artifact_type = std::string(kUnknownArtifactType);
  }

  oci::Annotations annotations = spec.annotations.manifest;
  if (spec.created && !annotations.contains(std::string(oci::kAnnotationCreated))) {
    PLUGCTL_ASSIGN_OR_RETURN(std::string created, plugin::FormatCreatedTime(*spec.created));
    annotations[std::string(oci::kAnnotationCreated)] = created;
  }
  out.manifest_raw = oci::BuildImageManifest({.media_type = std::string(oci::kOciManifest),
                                              .artifact_type = out.artifact_type,
                                              .config = out.config,
                                              .layers = out.layers,
                                              .subject = spec.subject,
                                              .annotations = annotations});
  out.manifest = oci::Descriptor::For(oci::kOciManifest, out.manifest_raw);
  out.manifest.artifact_type = out.artifact_type;
  blobs[out.manifest.digest] = Blob{.bytes = out.manifest_raw, .file = {}};
  out.source = std::make_unique<ArtifactSource>(std::move(blobs), std::move(packed));
  return out;
}

// ---- pull --all ---------------------------------------------------------------------------

namespace {

Result<std::pair<oci::Manifest, oci::Descriptor>> ResolveManifest(store::Target& target,
                                                                  const oci::Descriptor& root,
                                                                  const oci::Platform& platform) {
  oci::Descriptor desc = root;
  PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest manifest, store::FetchManifest(target, desc));
  for (int depth = 0; manifest.is_index(); ++depth) {
    if (depth == kMaxIndexDepth) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: indexes nested more than {} levels deep",
                       root.digest.ToString(), kMaxIndexDepth);
    }
    const oci::Descriptor* child = nullptr;
    for (const oci::Descriptor& d : manifest.manifests) {
      if (plugin::EffectivePlatform(d).Matches(platform)) {
        child = &d;
        break;
      }
    }
    if (child == nullptr) {
      return MakeError(ErrorCode::kNotFound, "index {} has no manifest for {}",
                       desc.digest.ToString(), platform.ToString());
    }
    desc = *child;
    PLUGCTL_ASSIGN_OR_RETURN(manifest, store::FetchManifest(target, desc));
  }
  return std::pair{std::move(manifest), desc};
}

}  // namespace

namespace {

bool IsDirectoryLayer(const oci::Descriptor& layer) {
  auto it = layer.annotations.find(std::string(kOrasUnpackAnnotation));
  return it != layer.annotations.end() && it->second == "true";
}

// One layer written to its temporary place, waiting to be moved into out_dir.
struct StagedLayer {
  std::unique_ptr<AtomicFileWriter> file;
  // An unpacked directory layer: the tree (staging/<i>/<title>).
  fs::path tree;
};

// Moves `from` to `to`, replacing what is at `to` (moved into `graveyard` first, so a directory
// can be replaced; put back if the move fails).
Status MoveIntoPlace(const fs::path& from, const fs::path& to, const fs::path& graveyard) {
  std::error_code ec;
  bool existed = fs::exists(fs::symlink_status(to, ec));
  if (existed) {
    fs::rename(to, graveyard, ec);
    if (ec) {
      return MakeError(ErrorCode::kPermissionDenied, "{}: cannot move it aside: {}", to.string(),
                       ec.message());
    }
  }
  fs::rename(from, to, ec);
  if (ec) {
    std::error_code ignored;
    if (existed) fs::rename(graveyard, to, ignored);
    return MakeError(ErrorCode::kPermissionDenied, "{}: cannot move into place: {}", to.string(),
                     ec.message());
  }
  return OkStatus();
}

}  // namespace

Result<PullAllResult> PullArtifactFiles(store::Target& target, const oci::Descriptor& root,
                                        const fs::path& out_dir, const PullAllOptions& options) {
  if (out_dir.empty()) return MakeError(ErrorCode::kInvalidArgument, "no output directory");
  PullAllResult result;
  result.root = root;
  PLUGCTL_ASSIGN_OR_RETURN(auto resolved, ResolveManifest(target, root, options.platform));
  const oci::Manifest& manifest = resolved.first;
  result.manifest = resolved.second;
  result.artifact_type = manifest.artifact_type;

  // Decide everything about names before writing a byte.
  std::set<std::string> titles;
  std::vector<size_t> wanted;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const oci::Descriptor& layer = manifest.layers[i];
    std::string title = layer.Title();
    if (title.empty()) {
      ++result.untitled;
      continue;
    }
    PLUGCTL_RETURN_IF_ERROR(CheckTitle(title, options.unpack && IsDirectoryLayer(layer)));
    if (!titles.insert(title).second) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "two layers are titled \"{}\": refusing to write one over the other", title);
    }
    wanted.push_back(i);
  }
  // "a" and "a/b" would need "a" to be a file and a directory at once.
  for (const std::string& title : titles) {
    for (size_t slash = title.find('/'); slash != std::string::npos;
         slash = title.find('/', slash + 1)) {
      if (titles.count(title.substr(0, slash)) != 0) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "layer titles \"{}\" and \"{}\" clash: one would be a directory of the "
                         "other",
                         title.substr(0, slash), title);
      }
    }
  }
  if (wanted.empty()) {
    const size_t n = manifest.layers.size();
    return MakeError(ErrorCode::kNotFound, "{} has no titled layers ({})",
                     result.manifest.digest.ToString(),
                     n == 0   ? std::string("it has no layers")
                     : n == 1 ? std::string("1 layer, without a title")
                              : fmt::format("{} layers, none with a title", n));
  }
  std::vector<std::optional<oci::Digest>> tar_digests(manifest.layers.size());
  for (size_t i : wanted) {
    const oci::Descriptor& layer = manifest.layers[i];
    bool unpack = options.unpack && IsDirectoryLayer(layer);
    if (unpack) {
      auto it = layer.annotations.find(std::string(kOrasContentDigestAnnotation));
      if (it != layer.annotations.end()) {
        auto parsed = oci::Digest::Parse(it->second);
        if (!parsed) {
          return MakeError(ErrorCode::kInvalidArgument, "layer \"{}\": {} is not a digest: {}",
                           layer.Title(), kOrasContentDigestAnnotation, parsed.error().message());
        }
        tar_digests[i] = *parsed;
      }
    }
    fs::path path = out_dir / layer.Title();
    std::error_code ec;
    // A path title's directories must be directories below out_dir, never symlinks out of it.
    fs::path walked = out_dir;
    const fs::path relative_parent = fs::path(layer.Title()).parent_path();
    for (const fs::path& part : relative_parent) {
      walked /= part;
      fs::file_status dir_status = fs::symlink_status(walked, ec);
      if (!fs::exists(dir_status)) break;
      if (fs::is_symlink(dir_status) || !fs::is_directory(dir_status)) {
        return MakeError(ErrorCode::kFailedPrecondition,
                         "{} exists and is not a directory (a symlink or file): refusing to write "
                         "{} through it",
                         walked.string(), layer.Title());
      }
    }
    fs::file_status st = fs::symlink_status(path, ec);
    if (!fs::exists(st)) continue;
    if (fs::is_symlink(st) || (!unpack && !fs::is_regular_file(st))) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "{} exists and is not a regular file (a symlink or directory): refusing to "
                       "write through it",
                       path.string());
    }
    if (!options.force) {
      return MakeError(ErrorCode::kAlreadyExists,
                       "{} already exists: refusing to overwrite it (use --force)", path.string());
    }
  }

  CreatedDirectory dir;
  PLUGCTL_RETURN_IF_ERROR(dir.Prepare(out_dir));
  // Declared after `dir`, so removed before it: directory layers unpack here, inside out_dir,
  // so that moving them into place is a rename on one filesystem.
  std::unique_ptr<TempDir> staging;
  // The directories of path titles that this pull creates (see CheckTitle).
  std::vector<std::unique_ptr<CreatedDirectory>> parents;
  std::vector<StagedLayer> staged;
  for (size_t i : wanted) {
    const oci::Descriptor& layer = manifest.layers[i];
    PulledFile file{.title = layer.Title(), .path = out_dir / layer.Title(), .layer = layer};
    std::string what = fmt::format("layers[{}] ({})", i, file.title);
    PLUGCTL_ASSIGN_OR_RETURN(auto reader, target.Fetch(layer));
    oci::VerifyingReader verifying(*reader, layer, what);
    StagedLayer out;
    if (options.unpack && IsDirectoryLayer(layer)) {
      if (!staging) {
        PLUGCTL_ASSIGN_OR_RETURN(staging, TempDir::Create(".plugctl-unpack", out_dir));
      }
      fs::path dest = staging->path() / std::to_string(i);
      PLUGCTL_RETURN_IF_ERROR(UnpackDirectory(verifying, file.title, tar_digests[i], dest,
                                              options.unpack_limits, what));
      out.tree = dest / file.title;
      file.unpacked = true;
    } else {
      if (file.path.parent_path() != out_dir) {
        // Removed again unless the whole pull succeeds (`parents` goes before `dir`).
        parents.push_back(std::make_unique<CreatedDirectory>());
        PLUGCTL_RETURN_IF_ERROR(parents.back()->Prepare(file.path.parent_path()));
      }
      PLUGCTL_ASSIGN_OR_RETURN(out.file, AtomicFileWriter::Create(file.path));
      auto copied = CopyStream(verifying, *out.file, [](size_t) {});
      if (!copied) return tl::unexpected(copied.error().WithContext(file.title));
    }
    if (!verifying.verified()) {
      return MakeError(ErrorCode::kDataLoss, "{}: stream ended before its {} bytes", file.title,
                       layer.size);
    }
    result.files.push_back(std::move(file));
    staged.push_back(std::move(out));
  }
  // Everything verified: move into place. A symlink planted meanwhile is replaced by the
  // rename itself, never followed.
  for (size_t k = 0; k < staged.size(); ++k) {
    std::error_code ec;
    result.files[k].replaced = fs::exists(fs::symlink_status(result.files[k].path, ec));
    if (staged[k].file) {
      PLUGCTL_RETURN_IF_ERROR(staged[k].file->Commit());
    } else {
      PLUGCTL_RETURN_IF_ERROR(MoveIntoPlace(staged[k].tree, result.files[k].path,
                                            staging->path() / fmt::format("replaced-{}", k)));
    }
  }
  for (auto& parent : parents) parent->Keep();
  dir.Keep();
  return result;
}

}  // namespace plugctl::transfer
