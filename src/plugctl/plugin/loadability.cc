#include "plugctl/plugin/loadability.h"

#include <algorithm>
#include <cctype>

#include "plugctl/archive/tar.h"
#include "plugctl/base/io.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/oci/verifying_reader.h"
#include "plugctl/store/content.h"

namespace plugctl::plugin {
namespace {

constexpr std::string_view kPluginFileName = "plugin.wasm";
// go-containerregistry follows nested indexes; real images never nest more than one level.
constexpr int kMaxIndexDepth = 4;

// Go's path/filepath.Base on a slash path: trailing slashes dropped, then the last element.
std::string_view Basename(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// " (it differs from X only in case: the gateway compares media types exactly)" when it does.
std::string CaseNote(std::string_view actual, std::string_view expected) {
  if (actual != expected && oci::MediaTypeEquals(actual, expected)) {
    return fmt::format(
        " (\"{}\" differs from {} only in case: the gateway compares media types "
        "exactly)",
        actual, expected);
  }
  return "";
}

bool AnyLayerIs(const std::vector<oci::Descriptor>& layers, std::string_view media_type) {
  return std::any_of(layers.begin(), layers.end(), [&](const oci::Descriptor& d) {
    return oci::MediaTypeEquals(d.media_type, media_type);
  });
}

std::string DockerReason(const oci::Manifest& m) {
  if (m.layers.empty()) return "Docker schema2 manifest without layers";
  const std::string& last = m.layers.back().media_type;
  if (oci::MediaTypeEquals(last, oci::kOciLayerTarGzip)) {
    return fmt::format(
        "Docker schema2 manifest whose last layer has the OCI type {}: in Docker manifests the "
        "gateway requires {}",
        last, oci::kDockerLayerTarGzip);
  }
  return fmt::format("Docker schema2 manifest whose last layer is {}: the gateway requires {}{}",
                     last, oci::kDockerLayerTarGzip, CaseNote(last, oci::kDockerLayerTarGzip));
}

// Why an OCI manifest fits neither oci-compat nor oci-variant, naming the accident it most
// likely is (../shared/docs/field-notes.md §1-2).
std::string OciReason(const oci::Manifest& m) {
  const auto& layers = m.layers;
  if (layers.empty()) return "the manifest has no layers";
  const std::string& last = layers.back().media_type;
  if (oci::MediaTypeEquals(last, oci::kOciLayerTarGzip)) {
    return fmt::format("the last layer is not {}{}", oci::kOciLayerTarGzip,
                       CaseNote(last, oci::kOciLayerTarGzip));
  }
  if (AnyLayerIs(layers, oci::kWasmContentLayer)) {
    if (layers.size() == 1) {
      return fmt::format(
          "a single {} layer (raw wasm): the oci variant needs exactly 2 layers (usually {} and "
          "the module)",
          oci::kWasmContentLayer, oci::kWasmConfig);
    }
    if (layers.size() != 2) {
      return fmt::format("{} layers with a {} layer: the oci variant needs exactly 2 layers",
                         layers.size(), oci::kWasmContentLayer);
    }
    for (const oci::Descriptor& layer : layers) {
      std::string note = CaseNote(layer.media_type, oci::kWasmContentLayer);
      if (!note.empty()) return fmt::format("no {} layer{}", oci::kWasmContentLayer, note);
    }
  }
  if (AnyLayerIs(layers, oci::kWasmToOciLayer)) {
    return fmt::format(
        "wasm-to-oci layer type {}: the gateway loads neither it nor its config; it needs a {} "
        "last layer or the oci variant's {}",
        oci::kWasmToOciLayer, oci::kOciLayerTarGzip, oci::kWasmContentLayer);
  }
  if (oci::MediaTypeEquals(last, oci::kDockerLayerTarGzip)) {
    return fmt::format(
        "OCI manifest whose last layer has the Docker type {}: the gateway accepts that type only "
        "in Docker schema2 manifests and needs {} here",
        last, oci::kOciLayerTarGzip);
  }
  if (oci::MediaTypeEquals(last, oci::kOciEmpty)) {
    return fmt::format(
        "the last layer is {} (empty): the gateway reads plugin.wasm from the last layer, which "
        "must be {}",
        last, oci::kOciLayerTarGzip);
  }
  if (oci::MediaTypeEquals(last, oci::kOciLayerTar) ||
      oci::MediaTypeEquals(last, oci::kOciLayerTarZstd)) {
    return fmt::format("the last layer is {}: the gateway reads only gzip-compressed tar ({})",
                       last, oci::kOciLayerTarGzip);
  }
  return fmt::format(
      "the last layer is {}: the gateway needs a {} last layer, or exactly 2 layers one of which "
      "is {}",
      last, oci::kOciLayerTarGzip, oci::kWasmContentLayer);
}

// A layer plugin.wasm could come from, as plugin::ExtractPlugin looks for it: a wasm layer,
// a layer titled plugin.wasm, or an OCI/Docker tar layer.
bool MayHoldPluginWasm(const oci::Descriptor& layer) {
  const std::string& mt = layer.media_type;
  if (oci::MediaTypeEquals(mt, oci::kWasmContentLayer) ||
      oci::MediaTypeEquals(mt, oci::kWasmToOciLayer) || layer.Title() == kPluginFileName) {
    return true;
  }
  std::string lower(mt.size(), '\0');
  std::transform(mt.begin(), mt.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return (lower.starts_with("application/vnd.oci.image.layer.") ||
          lower.starts_with("application/vnd.docker.image.rootfs.")) &&
         lower.find(".tar") != std::string::npos;
}

// Marks `report` as "not a plugin", with `why` as its only reason.
void NotAPlugin(LoadabilityReport& report, const std::string& why) {
  report.not_a_plugin = true;
  report.reasons = {fmt::format("not a plugin (no plugin.wasm): {}", why)};
}

// Errors that describe the content (the gateway would fail on it too) become reasons; the rest
// (unreachable or unauthorized target, cancellation, bugs) are returned as errors.
bool IsContentError(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kDataLoss:
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kUnimplemented:
      return true;
    default:
      return false;
  }
}

// The outcome of looking for plugin.wasm in a layer: the bytes, or why not.
struct WasmSource {
  std::optional<std::string> bytes;
  std::string entry;
  std::string reason;
  // The gateway got (empty or oversized) data from the tar, so it does not try the oci variant.
  bool final = false;
  // The whole tar was read and no entry is named plugin.wasm.
  bool none_found = false;
};

// Streams a tar layer and stops at the first entry whose basename is plugin.wasm, as the
// gateway does (whatever the entry's type: a symlink or directory there yields no data).
Result<WasmSource> SearchTarLayer(store::Target& target, const oci::Descriptor& layer,
                                  const LoadOptions& options) {
  WasmSource out;
  const std::string what = fmt::format("layer {}", layer.digest.ToString());
  PLUGCTL_ASSIGN_OR_RETURN(std::unique_ptr<Reader> raw, target.Fetch(layer));
  oci::VerifyingReader verifying(*raw, layer, what);
  auto content_failure = [&](const Error& error) -> Result<WasmSource> {
    if (!IsContentError(error)) return tl::unexpected(error);
    // TarReader errors already start with `what`.
    out.reason = error.message().starts_with(what)
                     ? "cannot read " + error.message()
                     : fmt::format("cannot read {}: {}", what, error.message());
    return out;
  };

  // The gateway opens these layers with a gzip reader: an uncompressed or zstd tar under a
  // gzip media type fails there even though libarchive would read it.
  auto prefix = ReadUpTo(verifying, 2);
  if (!prefix) return content_failure(prefix.error());
  if (*prefix != "\x1f\x8b") {
    out.reason = fmt::format("{} ({}) is not gzip-compressed: the gateway reads it with gzip", what,
                             layer.media_type);
    return out;
  }
  ReplayReader stream(std::move(*prefix), verifying);
  auto tar = archive::TarReader::Open(stream, what);
  if (!tar) return content_failure(tar.error());
  uint64_t entries = 0;
  for (;;) {
    auto entry = (*tar)->Next();
    if (!entry) return content_failure(entry.error());
    if (!entry->has_value()) break;
    ++entries;
    const archive::TarEntry& e = **entry;
    if (Basename(e.path) != kPluginFileName) continue;
    out.entry = e.path;
    if (e.type != archive::EntryType::kFile) {
      out.reason = fmt::format(
          "the first entry named plugin.wasm in {} (\"{}\") is a {}, not a regular file: the "
          "gateway reads that entry's own (empty) data",
          what, e.path, archive::EntryTypeName(e.type));
      out.final = true;
      return out;
    }
    if (e.size > options.max_wasm_bytes) {
      out.reason = fmt::format("{} in {} is {} bytes, over the limit of {} bytes", e.path, what,
                               e.size, options.max_wasm_bytes);
      out.final = true;
      return out;
    }
    auto bytes = ReadAllBounded((*tar)->data(), options.max_wasm_bytes, e.path);
    if (!bytes) return content_failure(bytes.error());
    out.bytes = std::move(*bytes);
    return out;
  }
  out.reason = fmt::format("{} holds no plugin.wasm ({} tar entries, none with that basename)",
                           what, entries);
  out.none_found = true;
  return out;
}

Result<WasmSource> ReadRawLayer(store::Target& target, const oci::Descriptor& layer,
                                const LoadOptions& options) {
  WasmSource out;
  auto bytes = store::FetchBlob(target, layer, options.max_wasm_bytes);
  if (!bytes) {
    if (!IsContentError(bytes.error())) return tl::unexpected(bytes.error());
    out.reason = fmt::format("cannot read the wasm layer {}: {}", layer.digest.ToString(),
                             bytes.error().message());
    return out;
  }
  out.bytes = std::move(*bytes);
  return out;
}

std::string HexPrefix(std::string_view bytes, size_t n) {
  std::string out;
  for (size_t i = 0; i < std::min(n, bytes.size()); ++i) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{:02x}", static_cast<uint8_t>(bytes[i]));
  }
  return out.empty() ? "none" : out;
}

void CheckWasmBytes(const std::string& bytes, const LoadOptions& options,
                    LoadabilityReport& report) {
  report.wasm_size = bytes.size();
  report.wasm_sha256 = oci::Digest::Of(bytes);
  // The gateway's own check after download: at least the 8-byte header and the magic.
  if (bytes.size() < 8 || !wasm::HasWasmMagic(bytes)) {
    report.wasm_rejected = true;
    report.reasons.push_back(
        fmt::format("plugin.wasm does not start with \\0asm (first bytes: {}): the gateway "
                    "rejects it as not a wasm binary",
                    HexPrefix(bytes, 8)));
    return;
  }
  if (!options.check_module) return;
  auto module = wasm::ParseWasmModule(bytes);
  if (!module) {
    report.wasm_rejected = true;
    report.reasons.push_back(
        fmt::format("plugin.wasm is not a valid wasm module: {}", module.error().message()));
    return;
  }
  for (Finding& finding : wasm::CheckProxyWasm(*module, kPluginFileName)) {
    if (finding.severity == Severity::kError) {
      report.wasm_rejected = true;
      report.reasons.push_back(finding.message);
    }
    report.findings.push_back(std::move(finding));
  }
  report.module = std::move(*module);
}

}  // namespace

oci::Platform EffectivePlatform(const oci::Descriptor& child) {
  return child.platform ? *child.platform : LinuxAmd64();
}

oci::Platform LinuxAmd64() {
  oci::Platform platform;
  platform.os = "linux";
  platform.architecture = "amd64";
  return platform;
}

std::string_view LoadPathName(LoadPath path) {
  switch (path) {
    case LoadPath::kNone:
      return "none";
    case LoadPath::kDocker:
      return "docker";
    case LoadPath::kOciCompat:
      return "oci-compat";
    case LoadPath::kOciVariant:
      return "oci-variant";
  }
  return "unknown";
}

ManifestShape ClassifyManifest(const oci::Manifest& manifest) {
  ManifestShape shape;
  if (manifest.is_index()) {
    shape.reason =
        fmt::format("{} is an index: the gateway first resolves it to its linux/amd64 manifest",
                    manifest.digest.ToString());
    return shape;
  }
  const auto& layers = manifest.layers;
  // go-containerregistry exposes the body's mediaType verbatim and the gateway compares it with
  // ==, so only the exact Docker type selects the Docker path; nothing else is tried then.
  if (manifest.kind == oci::ManifestKind::kDockerManifest &&
      manifest.media_type == oci::kDockerManifest) {
    if (!layers.empty() && layers.back().media_type == oci::kDockerLayerTarGzip) {
      shape.path = LoadPath::kDocker;
      shape.layer_index = layers.size() - 1;
    } else {
      shape.reason = DockerReason(manifest);
    }
    return shape;
  }
  std::optional<size_t> variant;
  if (layers.size() == 2) {
    for (size_t i = 0; i < layers.size() && !variant; ++i) {
      if (layers[i].media_type == oci::kWasmContentLayer) variant = i;
    }
  }
  if (!layers.empty() && layers.back().media_type == oci::kOciLayerTarGzip) {
    shape.path = LoadPath::kOciCompat;
    shape.layer_index = layers.size() - 1;
    shape.fallback_layer_index = variant;
  } else if (variant) {
    shape.path = LoadPath::kOciVariant;
    shape.layer_index = variant;
  } else {
    shape.reason = OciReason(manifest);
  }
  return shape;
}

Result<LoadabilityReport> CheckGatewayLoadability(store::Target& target,
                                                  const oci::Descriptor& root,
                                                  const LoadOptions& options) {
  LoadabilityReport report;
  report.root = root;
  PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest manifest, store::FetchManifest(target, root));
  oci::Descriptor manifest_desc = root;

  for (int depth = 0; manifest.is_index(); ++depth) {
    if (depth == kMaxIndexDepth) {
      report.reasons.push_back(
          fmt::format("indexes nested more than {} levels deep", kMaxIndexDepth));
      return report;
    }
    // First matching child wins, as in go-containerregistry's childByPlatform.
    const oci::Descriptor* child = nullptr;
    std::string listed;
    for (const oci::Descriptor& d : manifest.manifests) {
      if (!listed.empty()) listed += ", ";
      listed += d.platform ? d.platform->ToString() : "no platform";
      if (!child && EffectivePlatform(d).Matches(options.platform)) child = &d;
    }
    if (!child) {
      report.reasons.push_back(fmt::format("index {} has no {} manifest (it lists: {})",
                                           manifest.digest.ToString(), options.platform.ToString(),
                                           listed.empty() ? "nothing" : listed));
      return report;
    }
    report.platform = EffectivePlatform(*child);
    report.findings.push_back(Finding{
        .severity = Severity::kInfo,
        .path = "manifests",
        .message = fmt::format(
            "index {} resolves to the {} manifest {}: the gateway checks sha256 against that "
            "manifest's digest, not the index's",
            manifest.digest.ToString(), report.platform->ToString(), child->digest.ToString())});
    manifest_desc = *child;
    PLUGCTL_ASSIGN_OR_RETURN(manifest, store::FetchManifest(target, manifest_desc));
  }
  report.manifest = manifest_desc;

  const ManifestShape shape = ClassifyManifest(manifest);
  if (shape.path == LoadPath::kNone) {
    if (std::none_of(manifest.layers.begin(), manifest.layers.end(), MayHoldPluginWasm)) {
      NotAPlugin(report, shape.reason);
      return report;
    }
    report.reasons.push_back(shape.reason);
    return report;
  }

  WasmSource source;
  size_t used_layer = *shape.layer_index;
  report.path = shape.path;
  std::string compat_reason;
  if (shape.path == LoadPath::kDocker || shape.path == LoadPath::kOciCompat) {
    PLUGCTL_ASSIGN_OR_RETURN(source, SearchTarLayer(target, manifest.layers[used_layer], options));
    if (!source.bytes && !source.final && shape.fallback_layer_index) {
      // The gateway tries the oci variant after any error of the compat extraction.
      compat_reason = std::move(source.reason);
      report.findings.push_back(Finding{
          .severity = Severity::kWarning,
          .path = fmt::format("layers[{}]", used_layer),
          .message = fmt::format("oci-compat failed ({}); the gateway falls back to the oci "
                                 "variant",
                                 compat_reason)});
      report.path = LoadPath::kOciVariant;
      used_layer = *shape.fallback_layer_index;
    }
  }
  if (report.path == LoadPath::kOciVariant) {
    PLUGCTL_ASSIGN_OR_RETURN(source, ReadRawLayer(target, manifest.layers[used_layer], options));
  }
  const oci::Descriptor& layer = manifest.layers[used_layer];
  report.layer = layer;
  report.wasm_entry = source.entry;
  if (!source.bytes) {
    if (!compat_reason.empty()) report.reasons.push_back("oci-compat: " + compat_reason);
    report.reasons.push_back(compat_reason.empty() ? source.reason
                                                   : "oci variant: " + source.reason);
    // The searched tar was the only place plugin.wasm could be: nothing to rebuild from.
    size_t candidates = 0;
    for (const oci::Descriptor& l : manifest.layers) candidates += MayHoldPluginWasm(l) ? 1 : 0;
    if (compat_reason.empty() && source.none_found && candidates == 1) {
      NotAPlugin(report, source.reason);
    }
    return report;
  }
  if (layer.Title().empty()) {
    report.findings.push_back(Finding{
        .severity = Severity::kInfo,
        .path = fmt::format("layers[{}]", used_layer),
        .message = fmt::format("layer has no {} annotation: `oras pull` skips it (\"Skipped "
                               "pulling layers without file name\")",
                               oci::kAnnotationTitle)});
  }
  CheckWasmBytes(*source.bytes, options, report);
  report.loadable = report.reasons.empty();
  return report;
}

}  // namespace plugctl::plugin
