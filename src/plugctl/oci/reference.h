// plugctl/oci/reference.h — image references, docker/OCI grammar.
//
//   [oci://][host[:port]/]path[:tag][@digest]
//
// host is a DNS name or IP (with port, or "localhost"); a first path
// component counts as a host only if it contains '.' or ':' or is
// "localhost" (docker's rule). With no host, "docker.io" is implied, and a
// single-component Docker Hub path gets "library/". Path components are
// lowercase [a-z0-9] separated by '.', '_', '__' or '-'s; tags match
// [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; the whole name is at most 255 chars.
//
//   PLUGCTL_ASSIGN_OR_RETURN(Reference r,
//   Reference::Parse("oci://reg:5000/plugins/basic-auth:1.0.0")); r.registry == "reg:5000";
//   r.repository == "plugins/basic-auth"; r.tag == "1.0.0"
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "plugctl/base/status.h"
#include "plugctl/oci/digest.h"

namespace plugctl::oci {

inline constexpr std::string_view kDockerHubRegistry = "docker.io";

struct Reference {
  std::string registry;    // "docker.io", "reg.local:5000", "[::1]:5000"
  std::string repository;  // "library/nginx", "plugins/basic-auth"
  std::string tag;         // empty when not given
  std::optional<Digest> digest;

  // Parses a reference. kInvalidArgument with a message naming the bad part
  // ("invalid reference \"X\": tag \"...\" has invalid characters").
  [[nodiscard]] static Result<Reference> Parse(std::string_view text);

  // "registry/repository[:tag][@digest]".
  std::string ToString() const;
  // "registry/repository".
  std::string Name() const;
  // The digest string if set, else the tag, else "latest".
  std::string TagOrDigest() const;

  bool operator==(const Reference&) const = default;
};

// Whether `name` is a repository name of the distribution spec: path components
// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* joined by '/', at most 255 bytes, no host. The one copy of
// the grammar: references, the server's routes and its token scopes all use it.
bool IsValidRepositoryName(std::string_view name);

// Validates a tag alone (for "oci:DIR:TAG" and tag commands).
[[nodiscard]] Status ValidateTag(std::string_view tag);

}  // namespace plugctl::oci
