// plugctl/oci/descriptor.h — content descriptors (OCI image-spec descriptor.md)
// and platforms.
//
//   Descriptor d{.media_type = std::string(kOciLayerTarGzip), .digest = digest, .size = n};
//   d.annotations[std::string(kAnnotationTitle)] = "plugin.tar.gz";
//   nlohmann::ordered_json j = d.ToJson();
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugctl/base/status.h"
#include "plugctl/oci/digest.h"

namespace plugctl::oci {

struct Platform {
  std::string architecture;
  std::string os;
  std::string os_version;
  std::vector<std::string> os_features;
  std::string variant;

  // "os/arch[/variant]", e.g. "linux/amd64".
  std::string ToString() const;
  // Parses "os/arch[/variant]"; kInvalidArgument otherwise.
  [[nodiscard]] static Result<Platform> Parse(std::string_view text);
  // Whether this (an index entry's) platform satisfies `wanted`, as
  // go-containerregistry decides: os and architecture equal; os.version and
  // variant equal when `wanted` names them; wanted's os.features a subset.
  bool Matches(const Platform& wanted) const;
  bool operator==(const Platform&) const = default;
};

using Annotations = std::map<std::string, std::string>;

// Parses an "annotations" object of string values; `path` names it in errors.
[[nodiscard]] Result<Annotations> AnnotationsFromJson(const nlohmann::json& json,
                                                      std::string_view path);

struct Descriptor {
  std::string media_type;
  // Sentinel until assigned: sha256 of the empty string.
  Digest digest = Digest::Of("");
  int64_t size = 0;
  Annotations annotations;
  std::vector<std::string> urls;
  std::optional<Platform> platform;
  std::string artifact_type;

  // A descriptor for exactly these bytes.
  static Descriptor For(std::string_view media_type, std::string_view bytes);

  // The JSON object as it appears inside manifests and index.json; optional
  // fields are omitted when empty. Keys come in the conventional order
  // (mediaType, artifactType, digest, size, urls, annotations, platform) so
  // serializations are deterministic and look like other tools' output.
  nlohmann::ordered_json ToJson() const;
  // Parses a descriptor object; `path` (e.g. "layers[2]") names it in errors.
  // Requires mediaType (string), digest (valid), size (non-negative integer).
  [[nodiscard]] static Result<Descriptor> FromJson(const nlohmann::json& json,
                                                   std::string_view path);

  // Value of the title annotation or "".
  std::string Title() const;

  bool operator==(const Descriptor&) const = default;
};

}  // namespace plugctl::oci
