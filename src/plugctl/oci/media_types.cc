#include "plugctl/oci/media_types.h"

namespace plugctl::oci {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool MediaTypeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool IsImageManifestType(std::string_view media_type) {
  return MediaTypeEquals(media_type, kOciManifest) || MediaTypeEquals(media_type, kDockerManifest);
}

bool IsIndexType(std::string_view media_type) {
  return MediaTypeEquals(media_type, kOciIndex) || MediaTypeEquals(media_type, kDockerManifestList);
}

std::string_view ManifestAcceptHeader() {
  return "application/vnd.oci.image.manifest.v1+json, "
         "application/vnd.oci.image.index.v1+json, "
         "application/vnd.docker.distribution.manifest.v2+json, "
         "application/vnd.docker.distribution.manifest.list.v2+json";
}

}  // namespace plugctl::oci
