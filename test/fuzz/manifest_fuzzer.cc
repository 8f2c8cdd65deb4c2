// Fuzzes Manifest::Parse with arbitrary bytes and claimed content types.
// Accepted manifests must keep their exact bytes and digest, and rebuilding
// one from its parsed fields must parse back to the same descriptors.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void CheckRebuild(const plugctl::oci::Manifest& m) {
  using namespace plugctl::oci;
  std::string rebuilt;
  if (m.is_index()) {
    IndexSpec spec;
    spec.media_type = m.media_type;
    spec.manifests = m.manifests;
    spec.annotations = m.annotations;
    rebuilt = BuildIndex(spec);
    Check(BuildIndex(spec) == rebuilt);  // deterministic
  } else {
    ImageManifestSpec spec;
    spec.media_type = m.media_type;
    spec.artifact_type = m.artifact_type;
    spec.config = *m.config;
    spec.layers = m.layers;
    spec.subject = m.subject;
    spec.annotations = m.annotations;
    rebuilt = BuildImageManifest(spec);
    Check(BuildImageManifest(spec) == rebuilt);  // deterministic
  }
  // Adding an implied mediaType can push a body near the limit over it.
  if (rebuilt.size() > kMaxManifestBytes) return;
  plugctl::Result<Manifest> again = Manifest::Parse(rebuilt, m.media_type);
  Check(again.has_value());
  Check(again->kind == m.kind);
  Check(again->manifests == m.manifests);
  Check(again->config == m.config);
  Check(again->layers == m.layers);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace plugctl::oci;
  // A leading byte that cannot start a JSON document picks the content type
  // the transport claims, so body/transport agreement is exercised too;
  // plain JSON inputs (like the seed corpus) are parsed with none.
  static constexpr std::string_view kContentTypes[] = {
      "",
      kOciManifest,
      kOciIndex,
      kDockerManifest,
      kDockerManifestList,
      "application/json",
      "application/vnd.oci.image.manifest.v1+json; charset=utf-8"};
  std::string_view content_type;
  if (size > 0 && data[0] < 8) {
    content_type = kContentTypes[data[0] % std::size(kContentTypes)];
    ++data;
    --size;
  }
  std::string raw(reinterpret_cast<const char*>(data), size);

  plugctl::Result<Manifest> m = Manifest::Parse(raw, content_type);
  if (!m) {
    Check(!m.error().message().empty());
    return 0;
  }
  Check(m->raw == raw);
  Check(m->digest == Digest::Of(raw));
  Check(m->ToDescriptor().digest == m->digest);
  Check(m->ToDescriptor().size == static_cast<int64_t>(raw.size()));
  Check(IsManifestOrIndexType(m->media_type));
  if (m->is_index()) {
    Check(!m->config.has_value() && m->layers.empty());
  } else {
    Check(m->config.has_value() && m->manifests.empty());
  }
  CheckRebuild(*m);
  return 0;
}
