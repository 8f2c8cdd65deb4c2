// plugctl/base/finding.h — one diagnostic about a plugin: a wasm module check, a spec.yaml
// problem, a reason an image will not load.
//
// Checks that can report many problems at once return std::vector<Finding> instead of failing
// on the first one; Result<T> errors stay for input that cannot be examined at all.
//
//   Finding f{.severity = Severity::kWarning, .file = "spec.yaml", .path = "spec.phase",
//             .line = 12, .message = "unknown phase \"X\""};
//   f.ToString() == "spec.yaml:12: spec.phase: unknown phase \"X\" (warning)"
//
// Plain value type; thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace plugctl {

enum class Severity {
  kError,    // the plugin will not work (the gateway refuses it, a required field is missing)
  kWarning,  // likely a mistake, but the gateway accepts it
  kInfo,     // a fact worth showing
};

// "error", "warning", "info".
std::string_view SeverityName(Severity severity);

struct Finding {
  Severity severity = Severity::kError;
  // The file the finding is about ("spec.yaml", "plugin.wasm"); empty if none.
  std::string file = {};
  // Where inside it: a dotted field path ("spec.phase", "exports"); empty if none.
  std::string path = {};
  // 1-based line in `file`; 0 when unknown or meaningless (binary files).
  int line = 0;
  std::string message = {};

  // "file:line: path: message (severity)"; empty parts and their separators are left out,
  // e.g. "plugin.wasm: exports: no memory export (warning)".
  std::string ToString() const;

  bool operator==(const Finding&) const = default;
};

// True if any finding has Severity::kError.
bool HasErrors(const std::vector<Finding>& findings);

}  // namespace plugctl
