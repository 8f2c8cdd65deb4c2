// test/integration/image_factory.h — writes test images straight into an OCI
// layout (independently of plugctl's own store code), so tests can make images
// of any size and shape.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace plugctl::testing {

struct FactoryLayer {
  std::string media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
  std::string bytes;
  std::string title;  // org.opencontainers.image.title, when non-empty
};

// Random bytes, deterministic for a seed.
std::string RandomBytes(size_t size, uint32_t seed);

// Writes (or adds to) an OCI layout at `dir`: an OCI image manifest with an
// "application/vnd.unknown.config.v1+json" config "{}" and these layers,
// tagged `tag`. Returns the manifest digest ("sha256:…").
std::string WriteLayoutImage(const std::filesystem::path& dir, const std::string& tag,
                             const std::vector<FactoryLayer>& layers);

}  // namespace plugctl::testing
