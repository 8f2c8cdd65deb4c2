// support/memory_images.h — small images put together in a store::MemoryTarget, for tests of
// what reads images (extraction, loadability): blobs, manifests of any media type, indexes.
//
//   class ExtractTest : public ::testing::Test, protected test_support::MemoryImages {};
//   oci::Descriptor root = OciImage({Put(oci::kWasmContentLayer, wasm, "plugin.wasm")});
//
// Not thread-safe (a test fixture's state).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plugctl/oci/descriptor.h"
#include "plugctl/store/memory_target.h"

namespace plugctl::test_support {

class MemoryImages {
 protected:
  // Stores `bytes`; a non-empty `title` becomes the org.opencontainers.image.title annotation of
  // the returned descriptor (not of the stored bytes).
  oci::Descriptor Put(std::string_view media_type, std::string bytes, std::string title = "");

  // An image manifest of `manifest_type` whose config is "{}" of `config_type`.
  oci::Descriptor Image(std::string_view manifest_type, std::string_view config_type,
                        std::vector<oci::Descriptor> layers);
  // OCI manifest, ORAS's unknown config.
  oci::Descriptor OciImage(std::vector<oci::Descriptor> layers);
  // Docker schema2 manifest and config type.
  oci::Descriptor DockerImage(std::vector<oci::Descriptor> layers);
  // An OCI index of `children`.
  oci::Descriptor Index(std::vector<oci::Descriptor> children);

  // `d` with platform os/arch.
  static oci::Descriptor WithPlatform(oci::Descriptor d, std::string os, std::string arch);

  store::MemoryTarget target_;
};

}  // namespace plugctl::test_support
