// plugctl/cli/demo.h — the embedded default job: no registry or network.
//
// Builds a small Higress-style plugin image (README.md, spec.yaml and
// plugin.wasm as a tar+gzip last layer), writes it to an OCI layout under
// `dir`, copies it to an OCI archive and a docker archive beside it, reads
// every copy back and checks the digests agree.
#pragma once

#include <filesystem>

#include "plugctl/base/status.h"

namespace plugctl::cli {

[[nodiscard]] Status RunDemo(const std::filesystem::path& dir, bool json);

}  // namespace plugctl::cli
