#include "image_factory.h"

#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"

namespace plugctl::testing {
namespace {

void WriteBlob(const std::filesystem::path& dir, const oci::Descriptor& desc,
               const std::string& bytes) {
  std::filesystem::path path = dir / "blobs" / "sha256" / desc.digest.hex();
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace

std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>(rng() & 0xff);
  return out;
}

std::string WriteLayoutImage(const std::filesystem::path& dir, const std::string& tag,
                             const std::vector<FactoryLayer>& layers) {
  oci::ImageManifestSpec spec;
  spec.config = oci::Descriptor::For(oci::kUnknownConfig, "{}");
  WriteBlob(dir, spec.config, "{}");
  for (const auto& layer : layers) {
    oci::Descriptor desc = oci::Descriptor::For(layer.media_type, layer.bytes);
    if (!layer.title.empty()) desc.annotations[std::string(oci::kAnnotationTitle)] = layer.title;
    WriteBlob(dir, desc, layer.bytes);
    spec.layers.push_back(desc);
  }
  std::string manifest = oci::BuildImageManifest(spec);
  oci::Descriptor mdesc = oci::Descriptor::For(oci::kOciManifest, manifest);
  WriteBlob(dir, mdesc, manifest);

  std::ofstream(dir / "oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";
  nlohmann::json index = {{"schemaVersion", 2},
                          {"mediaType", std::string(oci::kOciIndex)},
                          {"manifests", nlohmann::json::array()}};
  if (std::filesystem::exists(dir / "index.json")) {
    std::ifstream in(dir / "index.json");
    index = nlohmann::json::parse(in);
  }
  nlohmann::json entry = nlohmann::json::parse(mdesc.ToJson().dump());
  entry["annotations"] = {{std::string(oci::kAnnotationRefName), tag}};
  index["manifests"].push_back(entry);
  std::ofstream(dir / "index.json") << index.dump();
  return mdesc.digest.ToString();
}

}  // namespace plugctl::testing
