#include "support/memory_images.h"

#include <utility>

#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"

namespace plugctl::test_support {

oci::Descriptor MemoryImages::Put(std::string_view media_type, std::string bytes,
                                  std::string title) {
  oci::Descriptor d = target_.Put(media_type, std::move(bytes));
  if (!title.empty()) d.annotations[std::string(oci::kAnnotationTitle)] = title;
  return d;
}

oci::Descriptor MemoryImages::Image(std::string_view manifest_type, std::string_view config_type,
                                    std::vector<oci::Descriptor> layers) {
  oci::ImageManifestSpec spec;
  spec.media_type = std::string(manifest_type);
  spec.config = Put(config_type, "{}");
  spec.layers = std::move(layers);
  return target_.Put(manifest_type, oci::BuildImageManifest(spec));
}

oci::Descriptor MemoryImages::OciImage(std::vector<oci::Descriptor> layers) {
  return Image(oci::kOciManifest, oci::kUnknownConfig, std::move(layers));
}

oci::Descriptor MemoryImages::DockerImage(std::vector<oci::Descriptor> layers) {
  return Image(oci::kDockerManifest, oci::kDockerConfig, std::move(layers));
}

oci::Descriptor MemoryImages::Index(std::vector<oci::Descriptor> children) {
  oci::IndexSpec spec;
  spec.manifests = std::move(children);
  return target_.Put(oci::kOciIndex, oci::BuildIndex(spec));
}

oci::Descriptor MemoryImages::WithPlatform(oci::Descriptor d, std::string os, std::string arch) {
  oci::Platform p;
  p.os = std::move(os);
  p.architecture = std::move(arch);
  d.platform = p;
  return d;
}

}  // namespace plugctl::test_support
