// plugctl/plugin/scaffold.h — a new plugin directory that validates at once: what
// `plugctl init DIR --name NAME` writes.
//
//   spec.yaml      apiVersion/info/spec in the dialect of real Higress plugins: x-title-i18n and
//                  x-description-i18n, phase and priority, a configSchema whose fields carry
//                  x-scope and i18n titles, and an example that passes the schema
//   README.md      Chinese (Higress's convention), README_EN.md English: the configuration table,
//                  how to build, push and deploy
//   plugin.c       a minimal proxy-wasm (ABI 0.2.1) plugin in plain C, no libc
//   build.sh       compiles plugin.c with `clang --target=wasm32` (and wasm-ld) into plugin.wasm
//   plugin.wasm    until build.sh runs, a 213-byte pass-through module (it exports the ABI
//                  version, an allocator, memory and the context/configure handlers, and lets
//                  every request through), so `plugctl validate` and `plugctl build` work at once
//
//   PLUGCTL_ASSIGN_OR_RETURN(ScaffoldResult r, ScaffoldPlugin("my-plugin", {.name = "my-plugin"}));
//
// Thread-safety: reentrant; two calls must not share a directory.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/status.h"

namespace plugctl::plugin {

struct ScaffoldOptions {
  // The plugin name (spec.yaml info.name): a lowercase letter, then lowercase letters, digits and
  // '-', at most 63 characters (a DNS label, so it can name a WasmPlugin and a repository).
  std::string name;
  // Write into a non-empty directory, replacing the scaffold's own files there.
  bool force = false;
};

struct ScaffoldResult {
  // The files written, in order.
  std::vector<std::string> files;
};

// Whether `name` is a valid plugin name (see ScaffoldOptions::name).
bool IsValidPluginName(std::string_view name);

// Writes the scaffold into `dir` (created when missing), each file atomically.
// Errors: kInvalidArgument for an invalid name (naming the rule); kAlreadyExists when `dir` has
// entries and !force; kFailedPrecondition when `dir` is not a directory; I/O errors naming the
// file.
[[nodiscard]] Result<ScaffoldResult> ScaffoldPlugin(const std::filesystem::path& dir,
                                                    const ScaffoldOptions& options);

}  // namespace plugctl::plugin
