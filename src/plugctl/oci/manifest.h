// Directory plugctl/oci/: the OCI content model — digests, media types, descriptors, manifests.
// plugctl/oci/manifest.h — image manifests and indexes, OCI and Docker.
//
// A Manifest keeps the exact bytes it was parsed from; its digest is always
// computed over those bytes and never over a re-serialization, so copying a
// manifest can never change a pinned sha256.
//
//   PLUGCTL_ASSIGN_OR_RETURN(Manifest m, Manifest::Parse(bytes, content_type));
//   for (const Descriptor& layer : m.layers) ...
//   std::string raw = BuildImageManifest({.config = cfg, .layers = layers});
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"

namespace plugctl::oci {

// distribution limits manifest bodies to 4 MiB; so do we, for every source.
inline constexpr size_t kMaxManifestBytes = 4 * 1024 * 1024;

enum class ManifestKind {
  kOciManifest,
  kOciIndex,
  kDockerManifest,
  kDockerManifestList,
};

struct Manifest {
  ManifestKind kind = ManifestKind::kOciManifest;
  // The effective media type: the body's "mediaType" or, for OCI bodies that
  // omit it, the one implied by their shape / the transport's content type.
  std::string media_type;
  std::string artifact_type;
  // Image manifests: config and layers. Indexes: manifests.
  std::optional<Descriptor> config;
  std::vector<Descriptor> layers;
  std::vector<Descriptor> manifests;
  std::optional<Descriptor> subject;
  Annotations annotations;

  // The exact bytes and their sha256 digest.
  std::string raw;
  Digest digest = Digest::Of("");

  bool is_index() const {
    return kind == ManifestKind::kOciIndex || kind == ManifestKind::kDockerManifestList;
  }

  // Parses manifest bytes. `content_type` is the media type the transport or
  // the parent descriptor claimed ("" if unknown); when the body has its own
  // "mediaType" they must agree (case-insensitively) or this fails.
  // Errors: kResourceExhausted over kMaxManifestBytes; kInvalidArgument for
  // invalid JSON, unknown media types, a schemaVersion other than 2, missing
  // or malformed config/layers/manifests and their descriptors (the message
  // names the field, e.g. "layers[1].digest").
  [[nodiscard]] static Result<Manifest> Parse(std::string raw, std::string_view content_type = "");

  // A descriptor of this manifest (media type, digest, size).
  Descriptor ToDescriptor() const;
  // As the referrers API lists this manifest (distribution spec): its media type and size,
  // `digest` (the one it is stored under, whatever the algorithm), its annotations and
  // artifactType — the manifest's own, else its config's media type.
  Descriptor ReferrerDescriptor(const Digest& stored_digest) const;
};

// Inputs for serializing a new image manifest.
struct ImageManifestSpec {
  // kOciManifest or kDockerManifest.
  std::string media_type = "application/vnd.oci.image.manifest.v1+json";
  std::string artifact_type;  // OCI only; omitted when empty
  Descriptor config;
  std::vector<Descriptor> layers;
  std::optional<Descriptor> subject;  // OCI only
  Annotations annotations;            // OCI only
};

// Serializes deterministically (fixed key order, no insignificant space), so
// the same spec always yields the same bytes and digest.
std::string BuildImageManifest(const ImageManifestSpec& spec);

struct IndexSpec {
  std::string media_type = "application/vnd.oci.image.index.v1+json";
  std::vector<Descriptor> manifests;
  Annotations annotations;
};
std::string BuildIndex(const IndexSpec& spec);

}  // namespace plugctl::oci
