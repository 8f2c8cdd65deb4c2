// Directory plugctl/wasm/: the WebAssembly module reader and proxy-wasm checks.
// plugctl/wasm/wasm_module.h — reads the structure of a WebAssembly module (core spec binary
// format, chapter 5) and checks what a proxy-wasm host needs from it.
//
// The input is untrusted (a layer pulled from any registry), so every size and count is checked
// against the bytes that remain before anything is allocated, and the whole module is capped
// at kMaxWasmModuleBytes, the gateway's own limit. Function bodies are not decoded: the reader
// walks sections, imports, exports, memories and counts, which is what a plugin inspector and
// the proxy-wasm host checks need.
//
//   PLUGCTL_ASSIGN_OR_RETURN(WasmModuleInfo info, ParseWasmModule(bytes));
//   if (info.proxy_abi_versions.empty()) ...;            // e.g. {"0_2_1"}
//   for (const Finding& f : CheckProxyWasm(info, "plugin.wasm")) print(f.ToString());
//
// Thread-safe: free functions over immutable inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/finding.h"
#include "plugctl/base/status.h"

namespace plugctl::wasm {

// The gateway refuses larger modules (Istio pkg/wasm, see ../shared/docs/field-notes.md §1).
inline constexpr size_t kMaxWasmModuleBytes = 256 * 1024 * 1024;
// Upper bound for any vector in the module (imports, exports, functions, …): generous for real
// plugins (a large Go plugin has ~10^4 functions) and keeps allocations bounded.
inline constexpr uint32_t kMaxWasmEntries = 1'000'000;

// Section ids (core spec 5.5.2; 13 = tag, exception-handling proposal, Wasm 3.0).
enum class SectionId : uint8_t {
  kCustom = 0,
  kType = 1,
  kImport = 2,
  kFunction = 3,
  kTable = 4,
  kMemory = 5,
  kGlobal = 6,
  kExport = 7,
  kStart = 8,
  kElement = 9,
  kCode = 10,
  kData = 11,
  kDataCount = 12,
  kTag = 13,
};

// "custom", "type", "import", …, "datacount", "tag"; "unknown" otherwise.
std::string_view SectionIdName(uint8_t id);

// Import/export descriptor kinds (core spec 5.5.5, 5.5.10).
enum class ExternalKind : uint8_t {
  kFunction = 0,
  kTable = 1,
  kMemory = 2,
  kGlobal = 3,
  kTag = 4,
};

// "func", "table", "memory", "global", "tag".
std::string_view ExternalKindName(ExternalKind kind);

// Memory limits in 64 KiB pages (core spec 5.3.7 limits/memtype; the threads proposal adds the
// shared flag, memory64 the 64-bit flag).
struct MemoryLimits {
  uint64_t min_pages = 0;
  std::optional<uint64_t> max_pages = {};
  bool shared = false;
  bool is_64 = false;

  bool operator==(const MemoryLimits&) const = default;
};

struct WasmSection {
  uint8_t id = 0;
  // SectionIdName(id), or the custom section's own name.
  std::string name = {};
  // Byte offset of the section id in the module, and of its payload.
  uint64_t offset = 0;
  uint64_t payload_offset = 0;
  // Payload size in bytes (the size field's value).
  uint64_t size = 0;

  bool operator==(const WasmSection&) const = default;
};

struct WasmImport {
  std::string module = {};
  std::string name = {};
  ExternalKind kind = ExternalKind::kFunction;
  // Type index, for functions and tags.
  uint32_t type_index = 0;
  // For memories.
  std::optional<MemoryLimits> memory = {};

  bool operator==(const WasmImport&) const = default;
};

struct WasmExport {
  std::string name = {};
  ExternalKind kind = ExternalKind::kFunction;
  // Index in the kind's index space (imports first, then definitions).
  uint32_t index = 0;

  bool operator==(const WasmExport&) const = default;
};

struct WasmMemory {
  // Set for imported memories: "module.name".
  std::optional<std::string> import = {};
  MemoryLimits limits = {};

  bool operator==(const WasmMemory&) const = default;
};

struct WasmModuleInfo {
  uint32_t version = 1;
  uint64_t size = 0;
  // Every section in file order, custom ones included.
  std::vector<WasmSection> sections;
  std::vector<WasmImport> imports;
  std::vector<WasmExport> exports;
  // The memory index space: imported memories first, then the memory section's.
  std::vector<WasmMemory> memories;

  // Entries of the type section (a GC recursion group counts as one).
  uint32_t type_count = 0;
  uint32_t imported_function_count = 0;
  // Functions defined by the module (function section; equals the code section's count).
  uint32_t defined_function_count = 0;
  uint32_t table_count = 0;   // imported + defined
  uint32_t global_count = 0;  // imported + defined
  uint32_t tag_count = 0;     // imported + defined
  std::optional<uint32_t> start_function;
  // Names of the custom sections in file order ("name", "producers", …), duplicates kept.
  std::vector<std::string> custom_section_names;

  // Derived facts, filled by ParseWasmModule.
  //
  // Suffixes of every function export named "proxy_abi_version_<v>", in export order:
  // "0_1_0", "0_2_0", "0_2_1", "0_2_100" (Higress).
  std::vector<std::string> proxy_abi_versions;
  // Imports from "wasi_snapshot_preview1" or "wasi_unstable".
  bool uses_wasi = false;
  // Field names of the WASI imports ("fd_write", …), in import order, without duplicates.
  std::vector<std::string> wasi_imports;
  bool exports_start = false;            // function "_start" (WASI command)
  bool exports_initialize = false;       // function "_initialize" (WASI reactor)
  bool exports_malloc = false;           // function "malloc"
  bool exports_memory_allocate = false;  // function "proxy_on_memory_allocate"
  bool exports_context_create = false;   // function "proxy_on_context_create"
  bool exports_memory = false;           // any memory export

  uint32_t total_function_count() const { return imported_function_count + defined_function_count; }
  // The export with this exact name, or nullptr.
  const WasmExport* FindExport(std::string_view name) const;
  // True if a function export has this exact name.
  bool ExportsFunction(std::string_view name) const;
};

// Parses a core WebAssembly module (binary format version 1).
//
// Errors:
//  - kInvalidArgument for anything malformed, naming the problem and its byte offset:
//    fewer than 8 bytes, "not a wasm module (bad magic)", a version other than 1 (a
//    WebAssembly component is named as such), a section size or count larger than the bytes
//    left, LEB128 values longer than their type allows or overflowing it, sections out of order
//    or repeated, unknown section ids or external kinds, names that are not valid UTF-8,
//    duplicate export names, export/start indices out of range, function and code counts that
//    differ, trailing bytes in a section.
//  - kResourceExhausted for modules over kMaxWasmModuleBytes or vectors over kMaxWasmEntries.
// Instruction sequences, types, globals, tables, elements and data are skipped, not validated.
[[nodiscard]] Result<WasmModuleInfo> ParseWasmModule(std::string_view bytes);

// True if `bytes` starts with the wasm magic "\0asm" (the gateway's only content check).
bool HasWasmMagic(std::string_view bytes);

// ABI versions proxy-wasm hosts know: 0_1_0, 0_2_0, 0_2_1 (proxy-wasm-cpp-host) and 0_2_100
// (Higress' host only).
bool IsKnownProxyAbiVersion(std::string_view version);

// What a proxy-wasm host (proxy-wasm-cpp-host in Envoy, Istio and Higress) needs from a module,
// as findings about `file` (used as Finding::file, e.g. "plugin.wasm"):
//  - kError: no proxy_abi_version_* function export (host: "Missing or unknown Proxy-Wasm ABI
//    version"; the gateway does not recognize it as a proxy-wasm plugin);
//  - kError: neither "malloc" nor "proxy_on_memory_allocate" exported (host: "Wasm module is
//    missing malloc function");
//  - kWarning: only unknown ABI versions; no memory export; no proxy_on_context_create;
//  - kInfo: ABI 0_2_100 only (Higress, not stock Envoy/Istio); WASI imports.
std::vector<Finding> CheckProxyWasm(const WasmModuleInfo& info, std::string_view file = "");

}  // namespace plugctl::wasm
