// plugctl/plugin/validate.h — checks a plugin directory against the Higress
// Wasm image spec: spec.yaml (documented format and the real dialect),
// README.md / README_{lang}.md, icon.png and plugin.wasm (a proxy-wasm module).
//
//   PLUGCTL_ASSIGN_OR_RETURN(DirectoryReport report, ValidatePluginDirectory(dir, {}));
//   for (const Finding& f : report.findings) std::cout << f.ToString() << '\n';
//   bool ok = !HasErrors(report.findings);
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "plugctl/base/finding.h"
#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/oci/digest.h"
#include "plugctl/spec/spec.h"
#include "plugctl/store/target.h"
#include "plugctl/wasm/wasm_module.h"

namespace plugctl::plugin {

struct DirectoryCheckOptions {
  // Warnings become errors.
  bool strict = false;
  // How a missing spec.yaml or README.md counts: an error for a directory
  // about to be built; a warning for a pulled image (official Higress images
  // carry no spec.yaml).
  Severity missing_docs = Severity::kError;
};

struct DirectoryReport {
  std::vector<Finding> findings;
  // The parsed spec.yaml, when it could be parsed.
  std::optional<spec::ParsedSpec> spec;
  // The parsed plugin.wasm, when it could be parsed.
  std::optional<wasm::WasmModuleInfo> module;
  oci::Digest wasm_sha256 = oci::Digest::Of("");
  uint64_t wasm_size = 0;
  // The plugin files present (spec.yaml, README*.md, icon.png, plugin.wasm).
  std::vector<std::string> files;
};

// Checks every plugin file in `dir`. Problems with the files are findings;
// the call fails only if `dir` is not a readable directory (kNotFound,
// kInvalidArgument) or a file cannot be read.
[[nodiscard]] Result<DirectoryReport> ValidatePluginDirectory(const std::filesystem::path& dir,
                                                              const DirectoryCheckOptions& options);

// Reads spec.yaml from `dir` (bounded) and parses it. kNotFound if absent.
[[nodiscard]] Result<spec::ParsedSpec> LoadSpec(const std::filesystem::path& dir);

// The name the image `root` of `target` gives itself in its spec.yaml: spec::PluginBaseName of
// info.name ("" when the image carries no spec.yaml or the spec names nothing). The image is
// extracted (linux/amd64 of an index, as the gateway and `wasmplugin` read it) into a temporary
// directory that is removed again. Errors: those of ExtractPlugin and a spec.yaml that cannot
// be read.
[[nodiscard]] Result<std::string> SpecNameOfImage(store::Target& target,
                                                  const oci::Descriptor& root);

}  // namespace plugctl::plugin
