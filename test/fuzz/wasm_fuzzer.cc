// Fuzzes ParseWasmModule with arbitrary bytes (plugin.wasm comes from any registry).
// Accepted modules must describe themselves consistently: sections tile the module exactly,
// every index the reader accepted is inside its index space, and the proxy-wasm checks run on
// whatever was accepted. Rejections carry one of the two documented error codes.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "plugctl/base/finding.h"
#include "plugctl/wasm/wasm_module.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void CheckAccepted(std::string_view bytes, const plugctl::wasm::WasmModuleInfo& info) {
  using namespace plugctl::wasm;
  using plugctl::Finding;
  Check(info.version == 1);
  Check(info.size == bytes.size());
  Check(HasWasmMagic(bytes));

  uint64_t next = 8;
  size_t custom = 0;
  for (const WasmSection& s : info.sections) {
    Check(s.offset == next);
    Check(s.payload_offset > s.offset && s.payload_offset <= s.offset + 6);
    Check(s.payload_offset + s.size <= bytes.size());
    next = s.payload_offset + s.size;
    if (s.id == 0) ++custom;
  }
  Check(next == bytes.size());
  Check(custom == info.custom_section_names.size());

  Check(info.total_function_count() <= kMaxWasmEntries);
  std::set<std::string> names;
  for (const WasmExport& e : info.exports) {
    Check(names.insert(e.name).second);
    if (e.kind == ExternalKind::kFunction) Check(e.index < info.total_function_count());
    if (e.kind == ExternalKind::kMemory) Check(e.index < info.memories.size());
  }
  if (info.start_function) Check(*info.start_function < info.total_function_count());

  size_t imported_memories = 0;
  for (const WasmImport& i : info.imports) {
    if (i.kind == ExternalKind::kMemory) {
      Check(i.memory.has_value());
      ++imported_memories;
    }
  }
  Check(imported_memories <= info.memories.size());

  for (const Finding& f : CheckProxyWasm(info, "plugin.wasm")) Check(!f.ToString().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto info = plugctl::wasm::ParseWasmModule(bytes);
  if (info) {
    CheckAccepted(bytes, *info);
  } else {
    const auto code = info.error().code();
    Check(code == plugctl::ErrorCode::kInvalidArgument ||
          code == plugctl::ErrorCode::kResourceExhausted);
    Check(!info.error().message().empty());
  }
  return 0;
}
