// plugctl/store/content.h — verified, bounded reads from any Target.
//
//   PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest m, FetchManifest(target, desc));
//   PLUGCTL_ASSIGN_OR_RETURN(std::string config, FetchBlob(target, *m.config, 1 << 20));
#pragma once

#include <string>

#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/store/target.h"

namespace plugctl::store {

// Fetches a blob whole, verifying size and digest; kResourceExhausted when the
// descriptor claims more than max_bytes (checked before reading).
[[nodiscard]] Result<std::string> FetchBlob(Target& target, const oci::Descriptor& desc,
                                            size_t max_bytes);

// Fetches, verifies and parses the manifest or index `desc` (≤ 4 MiB).
[[nodiscard]] Result<oci::Manifest> FetchManifest(Target& target, const oci::Descriptor& desc);

}  // namespace plugctl::store
