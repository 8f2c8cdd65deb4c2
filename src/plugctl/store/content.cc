#include "plugctl/store/content.h"

#include "plugctl/oci/verifying_reader.h"

namespace plugctl::store {

Result<std::string> FetchBlob(Target& target, const oci::Descriptor& desc, size_t max_bytes) {
  std::string what = fmt::format("{} in {}", desc.digest.ToString(), target.Describe());
  if (desc.size < 0 || static_cast<uint64_t>(desc.size) > max_bytes) {
    return MakeError(ErrorCode::kResourceExhausted, "{}: size {} exceeds the limit of {} bytes",
                     what, desc.size, max_bytes);
  }
  PLUGCTL_ASSIGN_OR_RETURN(auto raw, target.Fetch(desc));
  oci::VerifyingReader reader(*raw, desc, what);
  return ReadAllBounded(reader, max_bytes, what);
}

Result<oci::Manifest> FetchManifest(Target& target, const oci::Descriptor& desc) {
  PLUGCTL_ASSIGN_OR_RETURN(std::string raw, FetchBlob(target, desc, oci::kMaxManifestBytes));
  auto manifest = oci::Manifest::Parse(std::move(raw), desc.media_type);
  if (!manifest) {
    return tl::unexpected(manifest.error().WithContext(
        fmt::format("manifest {} in {}", desc.digest.ToString(), target.Describe())));
  }
  return manifest;
}

}  // namespace plugctl::store
