#include "plugctl/transfer/convert.h"

#include "plugctl/base/file.h"
#include "plugctl/plugin/extract.h"
#include "plugctl/store/memory_target.h"

namespace plugctl::transfer {

Result<ConvertResult> ConvertImage(store::Target& src, const oci::Descriptor& root,
                                   store::Target& dst, const ConvertOptions& options) {
  const std::string context =
      fmt::format("rebuild {} from {} as the {} variant", root.digest.ToString(), src.Describe(),
                  plugin::BuildVariantName(options.variant));
  auto fail = [&](const Error& e) { return tl::unexpected(e.WithContext(context)); };

  PLUGCTL_ASSIGN_OR_RETURN(auto scratch, TempDir::Create("plugctl-convert-"));
  const auto dir = scratch->path() / "plugin";
  plugin::ExtractOptions extract_options;
  extract_options.platform = options.platform;
  // The rebuilt image is checked by the builder and, if asked, by the caller.
  extract_options.check_gateway = false;
  auto extracted = plugin::ExtractPlugin(src, root, dir, extract_options);
  if (!extracted) return fail(extracted.error());

  ConvertResult result;
  result.source_manifest = extracted->manifest;
  result.notes = extracted->notes;

  // Images in the wild often lack spec.yaml and README.md (the official ones carry no
  // spec.yaml); the rebuild keeps whatever they had.
  store::MemoryTarget built;
  plugin::BuildOptions build_options{
      .variant = options.variant, .allow_missing = true, .created = options.created};
  auto image = plugin::BuildPluginImage(dir, build_options, built);
  if (!image) return fail(image.error());
  for (const Finding& f : image->findings) {
    if (f.severity != Severity::kInfo) result.notes.push_back(f.ToString());
  }
  auto copied = CopyGraph(built, image->manifest, dst, options.copy);
  if (!copied) return fail(copied.error());
  result.copy = *copied;
  result.image = std::move(*image);
  return result;
}

}  // namespace plugctl::transfer
