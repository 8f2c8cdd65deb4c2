// support/wasm_builder.h — WebAssembly modules built by hand, for tests and benchmarks.
//
// A tiny encoder for the binary format (LEB128, names, sections) and the smallest module a
// proxy-wasm host accepts: one memory, one empty function per export, the exports named.
//
//   std::string wasm = test_support::ProxyWasmModule();  // passes wasm::CheckProxyWasm
//   std::string tagged = test_support::ProxyWasmModule(test_support::kProxyWasmExports,
//                                                       test_support::CustomSection("tag", "b"));
//
// Plain functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace plugctl::test_support {

// Unsigned LEB128.
std::string Leb(uint64_t v);

// A name: its length as LEB128, then its bytes.
std::string Str(std::string_view s);

// A section: id, payload length, payload.
std::string Section(uint8_t id, std::string_view payload);

// A custom section (id 0) named `name` holding `data`.
std::string CustomSection(std::string_view name, std::string_view data = "");

// The exports of a minimal proxy-wasm plugin: ABI version, allocator, a callback.
inline const std::vector<std::string> kProxyWasmExports = {"proxy_abi_version_0_2_1", "malloc",
                                                           "proxy_on_context_create"};

// A valid module exporting `memory` and one `() -> ()` function per name of `exports`, followed
// by `trailer` (raw bytes appended after the code section, e.g. a CustomSection).
std::string ProxyWasmModule(const std::vector<std::string>& exports = kProxyWasmExports,
                            std::string_view trailer = "");

}  // namespace plugctl::test_support
