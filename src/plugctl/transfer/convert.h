// plugctl/transfer/convert.h — rebuild an image in another gateway-loadable shape.
//
// `copy --variant` and `mirror --variant`: the plugin's files are extracted from the source
// image, whatever its shape (plugin::ExtractPlugin), and a new image is built from them
// (plugin::BuildPluginImage, spec.yaml and README optional) and copied to the destination. The
// rebuild is reproducible (same files and created time, same digest), but it is a new image: its
// manifest digest differs from the source's, so WasmPlugin sha256 pins must be regenerated.
//
// Metadata travels from any source shape: the source manifest's annotations
// (org.opencontainers.image.title/version/description/created, io.higress.plugin.name) and, for
// Docker/OCI image configs, the config's Labels with the same keys and its "created" are
// recorded in the rebuilt image (plugin::ImageMetadata; annotations win over labels, both over
// spec.yaml and ConvertOptions::created). spec.yaml, README*.md and icon.png travel only in the
// compat variant; a note says so when the source had them and the target cannot hold them.
//
// An image that already has the requested shape (and that the gateway loads) is not rebuilt:
// it is copied unchanged, digest and all, so converting twice changes nothing.
//
// RebuildImage does the work in memory and checks the result as the gateway would, so callers
// can refuse it (require_loadable) before they open or write any destination; ConvertImage is
// RebuildImage followed by CopyGraph.
//
//   ConvertOptions opts{.variant = plugin::BuildVariant::kDocker};
//   opts.copy.tags = {"reg.io/plugins/basic-auth:1.0.0"};
//   PLUGCTL_ASSIGN_OR_RETURN(ConvertResult r, ConvertImage(src, root, dst, opts));
//   // r.manifest.digest != root.digest
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/plugin/builder.h"
#include "plugctl/plugin/loadability.h"
#include "plugctl/store/memory_target.h"
#include "plugctl/store/target.h"
#include "plugctl/transfer/copy.h"
#include "plugctl/transfer/location.h"

namespace plugctl::transfer {

struct ConvertOptions {
  plugin::BuildVariant variant = plugin::BuildVariant::kCompat;
  // The rebuilt image's created time (BuildOptions::created; callers pass SOURCE_DATE_EPOCH).
  int64_t created = 0;
  // The child an index source resolves to.
  oci::Platform platform = plugin::LinuxAmd64();
  // How the rebuilt image is copied (tags, concurrency, progress).
  CopyOptions copy;
  // Check the rebuilt image as the gateway would (in memory: no extra transfer).
  bool check_gateway = true;
  // Refuse (kFailedPrecondition) a rebuilt image the gateway would not load, before anything
  // is copied. Implies the check.
  bool require_loadable = false;
};

// An image rebuilt in memory, not yet copied anywhere.
struct RebuiltImage {
  // The source image manifest the files came from (an index's child for `platform`).
  oci::Descriptor source_manifest;
  // The image to copy: `manifest`, whose content is in `content` (`owned`, or the source target
  // itself when `unchanged`).
  oci::Descriptor manifest;
  store::Target* content = nullptr;
  std::unique_ptr<store::MemoryTarget> owned;
  // The source already had the requested shape: `manifest` is the source's own.
  bool unchanged = false;
  // What the rebuilt image records (empty when unchanged).
  plugin::ImageMetadata metadata;
  // sha256 of plugin.wasm (unchanged by the rebuild).
  oci::Digest wasm_sha256 = oci::Digest::Of("");
  // Set when checked (ConvertOptions::check_gateway / require_loadable).
  std::optional<plugin::LoadabilityReport> gateway;
  // Extraction notes and build findings worth showing (warnings, skipped files).
  std::vector<std::string> notes;
};

struct ConvertResult {
  oci::Descriptor source_manifest;
  bool unchanged = false;
  // The image that was copied and tagged.
  oci::Descriptor manifest;
  oci::Digest wasm_sha256 = oci::Digest::Of("");
  std::optional<plugin::LoadabilityReport> gateway;
  CopyResult copy;
  std::vector<std::string> notes;
};

// Errors: those of plugin::ExtractPlugin (no plugin.wasm, data loss…) and of
// plugin::BuildPluginImage (a spec.yaml or plugin.wasm with errors refuses the rebuild), each
// with the source as context; kFailedPrecondition when require_loadable and the gateway would
// not load the result.
[[nodiscard]] Result<RebuiltImage> RebuildImage(store::Target& src, const oci::Descriptor& root,
                                                const ConvertOptions& options);

// RebuildImage, then CopyGraph of the result into dst (with options.copy); dst is not committed.
[[nodiscard]] Result<ConvertResult> ConvertImage(store::Target& src, const oci::Descriptor& root,
                                                 store::Target& dst, const ConvertOptions& options);

// The metadata `manifest` (an image manifest in `src`) records: its annotations, else its
// Docker/OCI image config's Labels with the same keys and the config's "created". Values over
// 64 KiB and a created time that is not RFC 3339 are left out with a note in `notes`, as is a
// config that cannot be read.
plugin::ImageMetadata ImageMetadataOf(store::Target& src, const oci::Manifest& manifest,
                                      std::vector<std::string>& notes);

// What makes an image the gateway would not load loadable, for messages: "rebuild it with
// --variant compat or --variant oci" (for a docker-archive destination, --variant docker) when
// the image's shape is at fault (e.g. `docker save` output, whose layers are uncompressed tars);
// "" when plugin.wasm itself is refused, the image holds none (not_a_plugin) or the report is
// loadable.
std::string RebuildHint(const plugin::LoadabilityReport& report, LocationKind destination);

// The error require_loadable gives for `report` (kFailedPrecondition): "<what> would not load in
// the gateway: <reasons>; <RebuildHint>".
Error NotLoadableError(std::string_view what, const plugin::LoadabilityReport& report,
                       LocationKind destination);

}  // namespace plugctl::transfer
