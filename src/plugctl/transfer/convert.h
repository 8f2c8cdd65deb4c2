// plugctl/transfer/convert.h — rebuild an image in another gateway-loadable shape.
//
// `copy --variant` and `mirror --variant`: the plugin's files are extracted from the source
// image, whatever its shape (plugin::ExtractPlugin), and a new image is built from them
// (plugin::BuildPluginImage, spec.yaml and README optional) and copied to the destination. The
// rebuild is reproducible (same files and created time, same digest), but it is a new image: its
// manifest digest differs from the source's, so WasmPlugin sha256 pins must be regenerated.
//
//   ConvertOptions opts{.variant = plugin::BuildVariant::kDocker};
//   opts.copy.tags = {"reg.io/plugins/basic-auth:1.0.0"};
//   PLUGCTL_ASSIGN_OR_RETURN(ConvertResult r, ConvertImage(src, root, dst, opts));
//   // r.image.manifest.digest != root.digest
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/plugin/builder.h"
#include "plugctl/plugin/loadability.h"
#include "plugctl/store/target.h"
#include "plugctl/transfer/copy.h"

namespace plugctl::transfer {

struct ConvertOptions {
  plugin::BuildVariant variant = plugin::BuildVariant::kCompat;
  // The rebuilt image's created time (BuildOptions::created; callers pass SOURCE_DATE_EPOCH).
  int64_t created = 0;
  // The child an index source resolves to.
  oci::Platform platform = plugin::LinuxAmd64();
  // How the rebuilt image is copied (tags, concurrency, progress).
  CopyOptions copy;
};

struct ConvertResult {
  // The source image manifest the files came from (an index's child for `platform`).
  oci::Descriptor source_manifest;
  // The rebuilt image (its manifest is what was copied and tagged).
  plugin::BuiltImage image;
  CopyResult copy;
  // Extraction notes and build findings worth showing (warnings, skipped files).
  std::vector<std::string> notes;
};

// Errors: those of plugin::ExtractPlugin (no plugin.wasm, data loss…) and of
// plugin::BuildPluginImage (a spec.yaml or plugin.wasm with errors refuses the rebuild), each
// with the source as context; then CopyGraph's.
[[nodiscard]] Result<ConvertResult> ConvertImage(store::Target& src, const oci::Descriptor& root,
                                                 store::Target& dst, const ConvertOptions& options);

}  // namespace plugctl::transfer
