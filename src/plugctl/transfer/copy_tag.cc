#include "plugctl/transfer/copy_tag.h"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugctl/oci/json.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/oci/reference.h"
#include "plugctl/plugin/builder.h"
#include "plugctl/store/content.h"

namespace plugctl::transfer {
namespace {

// Configs carrying labels are small; a bigger one is not read for a tag.
constexpr size_t kMaxConfigBytes = 1 << 20;

bool IsLocal(const Location& loc) { return loc.kind != LocationKind::kRegistry; }

bool NamedByDigest(const Location& loc) {
  return loc.kind == LocationKind::kRegistry ? loc.reference.digest.has_value()
                                             : loc.ref_is_digest();
}

// "basic-auth:1.0.0" or "reg.io/x/y:1.0" → its reference; a bare tag ("1.0.0") → nullopt.
std::optional<oci::Reference> AsNameAndTag(const std::string& tag) {
  if (tag.find(':') == std::string::npos) return std::nullopt;
  Result<oci::Reference> ref = oci::Reference::Parse(tag);
  if (!ref || ref->digest || ref->tag.empty()) return std::nullopt;
  return *ref;
}

// The plugin's version and name from the image's metadata (manifest annotations, else the
// config's labels); for an index, its own annotations or else its first image's.
struct Metadata {
  std::string version;
  std::string name;
};

Result<Metadata> ReadMetadata(store::Target& src, const oci::Descriptor& root) {
  Metadata out;
  PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest m, store::FetchManifest(src, root));
  auto take = [&](const std::map<std::string, std::string>& values) {
    auto version = values.find(std::string(oci::kAnnotationVersion));
    if (out.version.empty() && version != values.end()) out.version = version->second;
    auto name = values.find(std::string(plugin::kAnnotationPluginName));
    if (out.name.empty() && name != values.end()) out.name = name->second;
  };
  take(m.annotations);
  if (m.is_index()) {
    auto child = std::find_if(m.manifests.begin(), m.manifests.end(),
                              [](const auto& d) { return oci::IsImageManifestType(d.media_type); });
    if (child == m.manifests.end() || !src.Exists(*child).value_or(false)) return out;
    PLUGCTL_ASSIGN_OR_RETURN(m, store::FetchManifest(src, *child));
    take(m.annotations);
  }
  if ((!out.version.empty() && !out.name.empty()) || !m.config ||
      m.config->size > static_cast<int64_t>(kMaxConfigBytes) ||
      !(oci::MediaTypeEquals(m.config->media_type, oci::kDockerConfig) ||
        oci::MediaTypeEquals(m.config->media_type, oci::kOciConfig))) {
    return out;
  }
  PLUGCTL_ASSIGN_OR_RETURN(std::string config, store::FetchBlob(src, *m.config, kMaxConfigBytes));
  Result<nlohmann::json> doc = oci::ParseJson(config, "image config");
  if (!doc || !doc->is_object()) return out;
  auto inner = doc->find("config");
  if (inner == doc->end() || !inner->is_object()) return out;
  auto labels = inner->find("Labels");
  if (labels == inner->end() || !labels->is_object()) return out;
  std::map<std::string, std::string> values;
  for (const auto& [key, value] : labels->items()) {
    if (value.is_string()) values[key] = value.get<std::string>();
  }
  take(values);
  return out;
}

// The source's own names for `root` (local sources only): the shortest, then the first in sort
// order (a docker 25+ layout lists "x:1" and "docker.io/library/x:1" for one image).
Result<std::string> SourceName(store::Target& src, const oci::Descriptor& root) {
  PLUGCTL_ASSIGN_OR_RETURN(std::vector<std::string> tags, src.Tags());
  std::vector<std::string> mine;
  for (const std::string& tag : tags) {
    Result<oci::Descriptor> d = src.Resolve(tag);
    if (d && d->digest == root.digest) mine.push_back(tag);
  }
  std::sort(mine.begin(), mine.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return mine.empty() ? std::string() : mine.front();
}

// ChooseCopyTag without the final check.
Result<std::string> DeriveCopyTag(store::Target& src, const Location& src_loc,
                                  const Location& dst_loc);

}  // namespace

Status ValidateTagFor(LocationKind kind, std::string_view tag) {
  switch (kind) {
    case LocationKind::kRegistry:
      return oci::ValidateTag(tag);
    case LocationKind::kDockerArchive: {
      if (tag.find("://") == std::string_view::npos) {
        Result<oci::Reference> ref = oci::Reference::Parse(tag);
        if (!ref) return tl::unexpected(ref.error());
        if (!ref->digest && !ref->tag.empty()) return OkStatus();
      }
      return MakeError(ErrorCode::kInvalidArgument,
                       "\"{}\" is not NAME:TAG (docker load needs a tagged name without digest)",
                       tag.substr(0, 256));
    }
    case LocationKind::kOciLayout:
    case LocationKind::kOciArchive:
      break;
  }
  if (tag.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty tag");
  for (char c : tag) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return MakeError(ErrorCode::kInvalidArgument, "tag \"{}\" contains control characters",
                       tag.substr(0, 128));
    }
  }
  return OkStatus();
}

Result<std::string> ChooseCopyTag(store::Target& src, const Location& src_loc,
                                  const Location& dst_loc) {
  PLUGCTL_ASSIGN_OR_RETURN(std::string tag, DeriveCopyTag(src, src_loc, dst_loc));
  if (tag.empty() || !dst_loc.ResolveRef().empty()) return tag;
  Status valid = ValidateTagFor(dst_loc.kind, tag);
  // A source name with a digest ("x@sha256:…", which docker archives may carry) is no name
  // anywhere: `oci:DIR:x@sha256:…` would be read as a digest reference.
  if (valid && tag.find('@') != std::string::npos) {
    valid = MakeError(ErrorCode::kInvalidArgument, "\"{}\" holds a digest", tag.substr(0, 256));
  }
  if (!valid) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "{}: the tag it would keep is not valid in {}: {}; name a tag: {}",
                     src_loc.ToString(), dst_loc.ToString(), valid.error().message(),
                     dst_loc.kind == LocationKind::kDockerArchive
                         ? fmt::format("{}:NAME:TAG", dst_loc.ToString())
                         : fmt::format("{}:TAG", dst_loc.ToString()));
  }
  return tag;
}

namespace {

Result<std::string> DeriveCopyTag(store::Target& src, const Location& src_loc,
                                  const Location& dst_loc) {
  if (std::string given = dst_loc.ResolveRef(); !given.empty()) return given;
  const bool by_digest = NamedByDigest(src_loc);
  if (by_digest && dst_loc.kind == LocationKind::kRegistry) return std::string();

  std::string tag;
  std::optional<Metadata> metadata;
  std::optional<oci::Descriptor> root;
  auto read_metadata = [&]() -> Status {
    if (metadata) return OkStatus();
    if (!root) {
      Result<oci::Descriptor> resolved = src.Resolve(src_loc.ResolveRef());
      if (!resolved) return tl::unexpected(resolved.error());
      root = *resolved;
    }
    PLUGCTL_ASSIGN_OR_RETURN(metadata, ReadMetadata(src, *root));
    return OkStatus();
  };
  if (!by_digest) {
    tag = src_loc.kind == LocationKind::kRegistry ? src_loc.reference.tag : src_loc.ref;
    if (tag.empty() && src_loc.kind == LocationKind::kRegistry) tag = "latest";
  }
  if (tag.empty() && IsLocal(src_loc)) {
    PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor resolved, src.Resolve(src_loc.ResolveRef()));
    root = resolved;
    PLUGCTL_ASSIGN_OR_RETURN(tag, SourceName(src, resolved));
  }
  if (tag.empty()) {
    PLUGCTL_RETURN_IF_ERROR(read_metadata());
    tag = metadata->version;
  }
  if (tag.empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "{} has no tag to keep and its metadata no version: the copy would be "
                     "unreachable; name a tag: {}",
                     src_loc.ToString(),
                     dst_loc.kind == LocationKind::kDockerArchive
                         ? fmt::format("{}:NAME:TAG", dst_loc.ToString())
                     : dst_loc.kind == LocationKind::kRegistry
                         ? fmt::format("{}:TAG", dst_loc.ToString())
                         : fmt::format("{}:TAG or --tag TAG", dst_loc.ToString()));
  }

  std::optional<oci::Reference> named = AsNameAndTag(tag);
  switch (dst_loc.kind) {
    case LocationKind::kRegistry:
      return named ? named->tag : tag;
    case LocationKind::kOciLayout:
    case LocationKind::kOciArchive:
      return tag;
    case LocationKind::kDockerArchive:
      break;
  }
  if (named) return tag;
  // Not a tag either ("UPPER/Case:TAG", "x@sha256:…"): left as it is for ChooseCopyTag to
  // refuse, rather than made into NAME:<it>.
  if (!oci::ValidateTag(tag)) return tag;
  // docker load needs NAME:TAG; the source's own name is what `docker pull` would have given.
  if (src_loc.kind == LocationKind::kRegistry) {
    return fmt::format("{}:{}", src_loc.reference.Name(), tag);
  }
  PLUGCTL_RETURN_IF_ERROR(read_metadata());
  std::string name = metadata->name.substr(0, metadata->name.find('/'));
  if (name.empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "{}: docker archives need NAME:TAG and the image names no plugin to take "
                     "NAME from; name one: {}:NAME:{}",
                     src_loc.ToString(), dst_loc.ToString(), tag);
  }
  return fmt::format("{}:{}", name, tag);
}

}  // namespace

}  // namespace plugctl::transfer
