#include "plugctl/transfer/convert.h"

#include <map>

#include "plugctl/base/file.h"
#include "plugctl/oci/json.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/plugin/extract.h"
#include "plugctl/store/content.h"

namespace plugctl::transfer {
namespace {

// Image configs larger than this are not read for labels (plugctl's are a few hundred bytes).
constexpr size_t kMaxConfigBytes = 1 << 20;
// Metadata values longer than this are not carried (a note says so).
constexpr size_t kMaxMetadataValue = 64 * 1024;

// The manifest shape each variant builds, as the gateway classifies it.
plugin::LoadPath PathOf(plugin::BuildVariant variant) {
  switch (variant) {
    case plugin::BuildVariant::kCompat:
      return plugin::LoadPath::kOciCompat;
    case plugin::BuildVariant::kOci:
      return plugin::LoadPath::kOciVariant;
    case plugin::BuildVariant::kDocker:
      return plugin::LoadPath::kDocker;
  }
  return plugin::LoadPath::kNone;
}

// Whether `manifest` already is `variant` in the sense that matters: the gateway takes the
// variant's path, and for docker, `docker load` accepts the config.
bool HasShape(const oci::Manifest& manifest, plugin::BuildVariant variant) {
  if (manifest.is_index()) return false;
  if (plugin::ClassifyManifest(manifest).path != PathOf(variant)) return false;
  if (variant == plugin::BuildVariant::kDocker) {
    return manifest.config && manifest.config->media_type == oci::kDockerConfig;
  }
  return true;
}

}  // namespace

plugin::ImageMetadata ImageMetadataOf(store::Target& src, const oci::Manifest& manifest,
                                      std::vector<std::string>& notes) {
  std::map<std::string, std::string> found;  // annotation key → value
  std::string config_created;
  if (manifest.config && (oci::MediaTypeEquals(manifest.config->media_type, oci::kDockerConfig) ||
                          oci::MediaTypeEquals(manifest.config->media_type, oci::kOciConfig))) {
    auto bytes = store::FetchBlob(src, *manifest.config, kMaxConfigBytes);
    auto config = bytes ? oci::ParseJson(*bytes, "image config") : Result<nlohmann::json>();
    if (!bytes || !config) {
      notes.push_back(fmt::format("the image config's labels were not read: {}",
                                  (bytes ? config.error() : bytes.error()).message()));
    } else if (config->is_object()) {
      auto labels = config->find("config");
      if (labels != config->end() && labels->is_object()) {
        auto inner = labels->find("Labels");
        if (inner != labels->end() && inner->is_object()) {
          for (const auto& [key, value] : inner->items()) {
            if (value.is_string()) found[key] = value.get<std::string>();
          }
        }
      }
      auto created = config->find("created");
      if (created != config->end() && created->is_string()) {
        config_created = created->get<std::string>();
      }
    }
  }
  for (const auto& [key, value] : manifest.annotations) found[key] = value;
  if (!found.contains(std::string(oci::kAnnotationCreated)) && !config_created.empty()) {
    found[std::string(oci::kAnnotationCreated)] = config_created;
  }

  plugin::ImageMetadata out;
  auto take = [&](std::string_view key, std::string& field) {
    auto it = found.find(std::string(key));
    if (it == found.end() || it->second.empty()) return;
    if (it->second.size() > kMaxMetadataValue) {
      notes.push_back(fmt::format("{} ({} bytes) is too long to carry", key, it->second.size()));
      return;
    }
    field = it->second;
  };
  take(plugin::kAnnotationPluginName, out.name);
  take(oci::kAnnotationTitle, out.title);
  take(oci::kAnnotationVersion, out.version);
  take(oci::kAnnotationDescription, out.description);
  take(oci::kAnnotationCreated, out.created);
  if (!out.created.empty() && !plugin::IsRfc3339Time(out.created)) {
    notes.push_back(
        fmt::format("created time \"{}\" is not RFC 3339; the rebuilt image records "
                    "SOURCE_DATE_EPOCH instead",
                    out.created.substr(0, 64)));
    out.created.clear();
  }
  return out;
}

std::string RebuildHint(const plugin::LoadabilityReport& report, LocationKind destination) {
  // A refused plugin.wasm stays refused in any shape; an index without the gateway's platform
  // has nothing to rebuild from, nor has an image without plugin.wasm.
  if (report.loadable || report.wasm_rejected || report.not_a_plugin || !report.manifest) {
    return "";
  }
  if (destination == LocationKind::kDockerArchive) {
    return "rebuild it with --variant docker (a gzip-layer Docker image the gateway loads and "
           "`docker load` reads)";
  }
  return "rebuild it with --variant compat (the Higress image spec) or --variant oci, which "
         "put plugin.wasm where the gateway reads it";
}

Error NotLoadableError(std::string_view what, const plugin::LoadabilityReport& report,
                       LocationKind destination) {
  std::string message =
      fmt::format("{} would not load in the gateway: {}", what, fmt::join(report.reasons, "; "));
  std::string hint = RebuildHint(report, destination);
  if (!hint.empty()) message += "; " + hint;
  return Error(ErrorCode::kFailedPrecondition, std::move(message));
}

Result<RebuiltImage> RebuildImage(store::Target& src, const oci::Descriptor& root,
                                  const ConvertOptions& options) {
  const std::string context =
      fmt::format("rebuild {} from {} as the {} variant", root.digest.ToString(), src.Describe(),
                  plugin::BuildVariantName(options.variant));
  auto fail = [&](const Error& e) { return tl::unexpected(e.WithContext(context)); };

  // Already in that shape: copied as it is, so a second conversion changes nothing.
  auto source = store::FetchManifest(src, root);
  if (!source) return fail(source.error());
  if (HasShape(*source, options.variant)) {
    auto report = plugin::CheckGatewayLoadability(src, root);
    if (!report) return fail(report.error().WithContext("gateway check"));
    if (report->loadable && report->wasm_sha256) {
      RebuiltImage same;
      same.source_manifest = root;
      same.manifest = root;
      same.content = &src;
      same.unchanged = true;
      same.wasm_sha256 = *report->wasm_sha256;
      same.gateway = std::move(*report);
      return same;
    }
  }

  PLUGCTL_ASSIGN_OR_RETURN(auto scratch, TempDir::Create("plugctl-convert-"));
  const auto dir = scratch->path() / "plugin";
  plugin::ExtractOptions extract_options;
  extract_options.platform = options.platform;
  // The rebuilt image is checked below.
  extract_options.check_gateway = false;
  auto extracted = plugin::ExtractPlugin(src, root, dir, extract_options);
  if (!extracted) return fail(extracted.error());

  RebuiltImage result;
  result.source_manifest = extracted->manifest;
  result.notes = extracted->notes;
  if (extracted->manifest.digest != root.digest) {
    auto child = store::FetchManifest(src, extracted->manifest);
    if (!child) return fail(child.error());
    source = std::move(*child);
  }
  result.metadata = ImageMetadataOf(src, *source, result.notes);

  // Only the compat variant has layers for documents.
  if (options.variant != plugin::BuildVariant::kCompat) {
    std::vector<std::string> dropped;
    for (const plugin::ExtractedFile& file : extracted->files) {
      if (file.name != "plugin.wasm") dropped.push_back(file.name);
    }
    if (!dropped.empty()) {
      result.notes.push_back(fmt::format(
          "{} cannot travel in the {} variant (it holds plugin.wasm only; name, title, version, "
          "description and created travel as {}); use --variant compat to keep them",
          fmt::join(dropped, ", "), plugin::BuildVariantName(options.variant),
          options.variant == plugin::BuildVariant::kDocker ? "config labels" : "annotations"));
    }
  }

  // Images in the wild often lack spec.yaml and README.md (the official ones carry no
  // spec.yaml); the rebuild keeps whatever they had.
  result.owned = std::make_unique<store::MemoryTarget>("rebuilt image");
  result.content = result.owned.get();
  plugin::BuildOptions build_options{.variant = options.variant,
                                     .allow_missing = true,
                                     .created = options.created,
                                     .metadata = result.metadata};
  auto image = plugin::BuildPluginImage(dir, build_options, *result.owned);
  if (!image) return fail(image.error());
  for (const Finding& f : image->findings) {
    if (f.severity != Severity::kInfo) result.notes.push_back(f.ToString());
  }
  result.manifest = image->manifest;
  result.wasm_sha256 = image->wasm_sha256;
  if (options.check_gateway || options.require_loadable) {
    auto report = plugin::CheckGatewayLoadability(*result.content, result.manifest);
    if (!report) return fail(report.error().WithContext("gateway check"));
    if (options.require_loadable && !report->loadable) {
      return fail(NotLoadableError("the rebuilt image", *report, LocationKind::kOciLayout));
    }
    result.gateway = std::move(*report);
  }
  return result;
}

Result<ConvertResult> ConvertImage(store::Target& src, const oci::Descriptor& root,
                                   store::Target& dst, const ConvertOptions& options) {
  PLUGCTL_ASSIGN_OR_RETURN(RebuiltImage rebuilt, RebuildImage(src, root, options));
  auto copied = CopyGraph(*rebuilt.content, rebuilt.manifest, dst, options.copy);
  if (!copied) {
    return tl::unexpected(copied.error().WithContext(fmt::format(
        "copy the rebuilt {} to {}", rebuilt.manifest.digest.ToString(), dst.Describe())));
  }
  ConvertResult result;
  result.source_manifest = rebuilt.source_manifest;
  result.unchanged = rebuilt.unchanged;
  result.manifest = rebuilt.manifest;
  result.wasm_sha256 = rebuilt.wasm_sha256;
  result.gateway = std::move(rebuilt.gateway);
  result.copy = *copied;
  result.notes = std::move(rebuilt.notes);
  return result;
}

}  // namespace plugctl::transfer
