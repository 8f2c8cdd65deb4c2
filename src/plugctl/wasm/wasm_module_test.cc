#include "plugctl/wasm/wasm_module.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "support/wasm_builder.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plugctl/base/finding.h"

namespace plugctl::wasm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A tiny encoder for the binary format, enough to build test modules by hand.
using test_support::CustomSection;
using test_support::Leb;
using test_support::Section;
using test_support::Str;

std::string Vec(const std::vector<std::string>& items) {
  std::string out = Leb(items.size());
  for (const std::string& item : items) out += item;
  return out;
}

const std::string kHeader("\0asm\x01\x00\x00\x00", 8);

std::string Module(std::initializer_list<std::string> sections) {
  std::string out = kHeader;
  for (const std::string& s : sections) out += s;
  return out;
}

std::string FuncImport(std::string_view module, std::string_view name) {
  return Str(module) + Str(name) + std::string("\x00\x00", 2);
}

std::string Export(std::string_view name, uint8_t kind, uint32_t index) {
  return Str(name) + std::string(1, static_cast<char>(kind)) + Leb(index);
}

const std::string kFuncType("\x60\x00\x00", 3);  // () -> ()
const std::string kBody("\x02\x00\x0b", 3);      // size 2: no locals, end

std::string TypeSection() { return Section(1, Vec({kFuncType})); }
std::string FunctionSection(size_t n) {
  return Section(3, Vec(std::vector<std::string>(n, std::string(1, '\0'))));
}
std::string CodeSection(size_t n) { return Section(10, Vec(std::vector<std::string>(n, kBody))); }

// What a small proxy-wasm plugin built with a WASI toolchain looks like: 3 imported functions
// (indices 0-2), 4 defined ones (3-6), a memory, a global, the usual exports, custom sections.
std::string ProxyWasmModule() {
  return Module({
      CustomSection("target_features", "\x01"),
      TypeSection(),
      Section(2, Vec({FuncImport("wasi_snapshot_preview1", "fd_write"),
                      FuncImport("wasi_snapshot_preview1", "proc_exit"),
                      FuncImport("env", "proxy_log")})),
      FunctionSection(4),
      Section(5, Vec({std::string("\x01\x02\x10", 3)})),          // min 2, max 16
      Section(6, Vec({std::string("\x7f\x01\x41\x00\x0b", 5)})),  // mut i32 = 0
      Section(7, Vec({Export("memory", 2, 0), Export("proxy_abi_version_0_2_1", 0, 3),
                      Export("malloc", 0, 4), Export("proxy_on_context_create", 0, 5),
                      Export("_initialize", 0, 6)})),
      CodeSection(4),
      CustomSection("name"),
      CustomSection("producers", "\x00"),
  });
}

Result<WasmModuleInfo> Parse(const std::string& bytes) { return ParseWasmModule(bytes); }

std::string ErrorOf(const std::string& bytes) {
  auto r = Parse(bytes);
  if (r) return "<parsed>";
  return r.error().message();
}

TEST(WasmModuleTest, ParsesHeaderOnlyModule) {
  auto info = Parse(kHeader);
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->version, 1u);
  EXPECT_EQ(info->size, 8u);
  EXPECT_TRUE(info->sections.empty());
  EXPECT_TRUE(info->proxy_abi_versions.empty());
  EXPECT_FALSE(info->uses_wasi);
}

TEST(WasmModuleTest, ParsesProxyWasmModule) {
  const std::string bytes = ProxyWasmModule();
  auto info = Parse(bytes);
  ASSERT_TRUE(info) << info.error().message();

  EXPECT_EQ(info->size, bytes.size());
  EXPECT_EQ(info->type_count, 1u);
  EXPECT_EQ(info->imported_function_count, 3u);
  EXPECT_EQ(info->defined_function_count, 4u);
  EXPECT_EQ(info->total_function_count(), 7u);
  EXPECT_EQ(info->global_count, 1u);
  EXPECT_FALSE(info->start_function.has_value());

  ASSERT_EQ(info->imports.size(), 3u);
  EXPECT_EQ(info->imports[0].module, "wasi_snapshot_preview1");
  EXPECT_EQ(info->imports[0].name, "fd_write");
  EXPECT_EQ(info->imports[2].kind, ExternalKind::kFunction);

  ASSERT_EQ(info->memories.size(), 1u);
  EXPECT_FALSE(info->memories[0].import.has_value());
  EXPECT_EQ(info->memories[0].limits, (MemoryLimits{.min_pages = 2, .max_pages = 16}));

  ASSERT_EQ(info->exports.size(), 5u);
  EXPECT_EQ(
      info->exports[1],
      (WasmExport{.name = "proxy_abi_version_0_2_1", .kind = ExternalKind::kFunction, .index = 3}));
  ASSERT_NE(info->FindExport("memory"), nullptr);
  EXPECT_EQ(info->FindExport("memory")->kind, ExternalKind::kMemory);
  EXPECT_EQ(info->FindExport("nope"), nullptr);
  EXPECT_TRUE(info->ExportsFunction("malloc"));
  EXPECT_FALSE(info->ExportsFunction("memory"));

  EXPECT_THAT(info->proxy_abi_versions, ElementsAre("0_2_1"));
  EXPECT_TRUE(info->uses_wasi);
  EXPECT_THAT(info->wasi_imports, ElementsAre("fd_write", "proc_exit"));
  EXPECT_TRUE(info->exports_initialize);
  EXPECT_FALSE(info->exports_start);
  EXPECT_TRUE(info->exports_malloc);
  EXPECT_FALSE(info->exports_memory_allocate);
  EXPECT_TRUE(info->exports_context_create);
  EXPECT_TRUE(info->exports_memory);

  EXPECT_THAT(info->custom_section_names, ElementsAre("target_features", "name", "producers"));
  std::vector<std::string> names;
  for (const WasmSection& s : info->sections) names.push_back(s.name);
  EXPECT_THAT(names, ElementsAre("target_features", "type", "import", "function", "memory",
                                 "global", "export", "code", "name", "producers"));
  // Sections tile the module exactly: each starts where the previous payload ended.
  uint64_t next = 8;
  for (const WasmSection& s : info->sections) {
    EXPECT_EQ(s.offset, next) << s.name;
    EXPECT_GT(s.payload_offset, s.offset);
    next = s.payload_offset + s.size;
  }
  EXPECT_EQ(next, bytes.size());

  // Only the WASI note: everything a host needs is there.
  std::vector<Finding> findings = CheckProxyWasm(*info, "plugin.wasm");
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Severity::kInfo);
  EXPECT_EQ(findings[0].ToString(),
            "plugin.wasm: imports: imports WASI functions (fd_write, proc_exit): proxy-wasm hosts "
            "implement only part of WASI (info)");
}

TEST(WasmModuleTest, CustomSectionsMayAppearAnywhere) {
  auto info =
      Parse(Module({CustomSection("a"), TypeSection(), CustomSection("b"), FunctionSection(1),
                    CustomSection("c"), CodeSection(1), CustomSection("d", "payload")}));
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_THAT(info->custom_section_names, ElementsAre("a", "b", "c", "d"));
  EXPECT_EQ(info->sections.back().size, 1 + 1 + 7u);
}

TEST(WasmModuleTest, EveryTruncationFailsCleanlyOrEndsOnASectionBoundary) {
  const std::string bytes = ProxyWasmModule();
  auto full = Parse(bytes);
  ASSERT_TRUE(full);
  std::set<uint64_t> boundaries = {8};
  for (const WasmSection& s : full->sections) boundaries.insert(s.payload_offset + s.size);
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = ParseWasmModule(std::string_view(bytes).substr(0, n));
    // A prefix ending between sections is a shorter module; it is still invalid while the
    // function section has no code section.
    if (r) {
      EXPECT_TRUE(boundaries.contains(n)) << "prefix of " << n << " bytes parsed";
      continue;
    }
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << n;
    EXPECT_FALSE(r.error().message().empty());
  }
}

TEST(WasmModuleTest, TruncatedSectionNamesOffset) {
  std::string bytes = ProxyWasmModule();
  bytes.resize(bytes.size() - 3);
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("malformed wasm module: custom section (id 0) at offset"));
}

TEST(WasmModuleTest, RejectsSectionSizeLargerThanTheRest) {
  std::string bytes = kHeader + std::string("\x01\x10\x01\x60\x00\x00", 6);  // claims 16 bytes
  EXPECT_EQ(ErrorOf(bytes),
            "malformed wasm module: type section (id 1) at offset 8: section payload of 16 bytes "
            "runs past the end of the module (4 bytes left) at offset 10");
  // Sizes near 2^32 are compared, not added to a pointer.
  bytes = kHeader + std::string("\x01\xff\xff\xff\xff\x0f", 6);
  EXPECT_THAT(ErrorOf(bytes), HasSubstr("runs past the end of the module"));
}

TEST(WasmModuleTest, RejectsOverlongAndOverflowingLeb128) {
  // Six bytes for a u32.
  EXPECT_THAT(ErrorOf(kHeader + std::string("\x01\x80\x80\x80\x80\x80\x00", 7)),
              HasSubstr("section size: LEB128 longer than 5 bytes at offset 9"));
  // Five bytes whose last one sets bit 32.
  EXPECT_THAT(ErrorOf(kHeader + std::string("\x01\x80\x80\x80\x80\x10", 6)),
              HasSubstr("section size: LEB128 value exceeds 32 bits at offset 9"));
  // An overlong export index inside a section.
  std::string exports = Section(7, Vec({Str("f") + std::string("\x00\xff\xff\xff\xff\x7f", 6)}));
  EXPECT_THAT(ErrorOf(Module({TypeSection(), FunctionSection(1), exports, CodeSection(1)})),
              HasSubstr("export index: LEB128 value exceeds 32 bits"));
  // Padded encodings within the limit are valid (spec: "at most ceil(N/7) bytes").
  auto padded = Parse(kHeader + std::string("\x01\x84\x80\x80\x80\x00", 6) + Vec({kFuncType}));
  ASSERT_TRUE(padded) << padded.error().message();
  EXPECT_EQ(padded->type_count, 1u);
}

TEST(WasmModuleTest, RejectsBadMagicShortInputAndOtherVersions) {
  EXPECT_EQ(ErrorOf("MZ\x90\x00\x03\x00\x00\x00"), "not a wasm module (bad magic)");
  EXPECT_EQ(ErrorOf("{\"a\": 1}"), "not a wasm module (bad magic)");
  EXPECT_EQ(ErrorOf("x"), "not a wasm module (bad magic)");
  EXPECT_EQ(ErrorOf(""), "truncated wasm module: 0 bytes, shorter than the 8-byte header");
  EXPECT_EQ(ErrorOf(std::string("\0as", 3)),
            "truncated wasm module: 3 bytes, shorter than the 8-byte header");
  EXPECT_EQ(ErrorOf(std::string("\0asm\x01\x00\x00", 7)),
            "truncated wasm module: 7 bytes, shorter than the 8-byte header");
  EXPECT_EQ(ErrorOf(std::string("\0asm\x02\x00\x00\x00", 8)),
            "unsupported wasm binary version 2 (only version 1 exists)");
  EXPECT_EQ(ErrorOf(std::string("\0asm\x00\x00\x00\x01", 8)),
            "unsupported wasm binary version 16777216 (only version 1 exists)");
  EXPECT_THAT(ErrorOf(std::string("\0asm\x0d\x00\x01\x00", 8)),
              HasSubstr("a WebAssembly component, not a core module"));
  EXPECT_EQ(Parse("x").error().code(), ErrorCode::kInvalidArgument);
}

TEST(WasmModuleTest, EnforcesSectionOrder) {
  EXPECT_THAT(ErrorOf(Module({Section(7, Vec({})), Section(2, Vec({}))})),
              HasSubstr("import section (id 2) at offset 11: out of order after the export "
                        "section"));
  EXPECT_THAT(ErrorOf(Module({TypeSection(), TypeSection()})),
              HasSubstr("type section (id 1) at offset 14: repeated after the type section"));
  // datacount (12) goes before code (10), tag (13) between memory (5) and global (6).
  auto ok = Parse(Module({TypeSection(), FunctionSection(1), Section(5, Vec({})),
                          Section(13, Vec({std::string("\x00\x00", 2)})), Section(6, Vec({})),
                          Section(12, Leb(0)), CodeSection(1), Section(11, Vec({}))}));
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->tag_count, 1u);
  EXPECT_THAT(
      ErrorOf(Module({TypeSection(), FunctionSection(1), CodeSection(1), Section(12, Leb(0))})),
      HasSubstr("datacount section (id 12) at offset 24: out of order after the code"));
  EXPECT_THAT(ErrorOf(Module({Section(6, Vec({})), Section(13, Vec({}))})),
              HasSubstr("tag section (id 13) at offset 11: out of order after the global"));
  EXPECT_EQ(ErrorOf(Module({Section(14, "")})),
            "malformed wasm module: unknown section id 14 at offset 8");
}

TEST(WasmModuleTest, RequiresValidUtf8Names) {
  auto export_named = [](std::string_view name) {
    return Module(
        {TypeSection(), FunctionSection(1), Section(7, Vec({Export(name, 0, 0)})), CodeSection(1)});
  };
  for (std::string bad : {std::string("\xff"), std::string("\xc0\x80"),  // overlong NUL
                          std::string("\xed\xa0\x80"),                   // surrogate U+D800
                          std::string("\xf4\x90\x80\x80"),               // U+110000
                          std::string("ab\xe2\x82"),                     // truncated sequence
                          std::string("\x80")}) {
    EXPECT_THAT(ErrorOf(export_named(bad)), HasSubstr("export name is not valid UTF-8"))
        << testing::PrintToString(bad);
  }
  auto ok = Parse(export_named("caf\xc3\xa9-\xf0\x9f\x98\x80"));
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->exports[0].name, "caf\xc3\xa9-\xf0\x9f\x98\x80");

  EXPECT_THAT(ErrorOf(Module({Section(2, Vec({FuncImport("\xfe", "f")}))})),
              HasSubstr("import module name is not valid UTF-8"));
  EXPECT_THAT(ErrorOf(Module({Section(2, Vec({FuncImport("env", "\xc1\xbf")}))})),
              HasSubstr("import field name is not valid UTF-8"));
  EXPECT_THAT(ErrorOf(Module({CustomSection("\xff")})),
              HasSubstr("custom section name is not valid UTF-8 at offset 11"));
}

TEST(WasmModuleTest, BoundsCounts) {
  // A count over the entry limit is refused before anything is allocated.
  auto huge = Parse(Module({Section(7, Leb(0xffffffff))}));
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(huge.error().message(), HasSubstr("export count 4294967295 exceeds the limit of "
                                                "1000000"));
  // A count the section's bytes cannot hold is malformed.
  auto lying = Parse(Module({Section(2, Leb(1000) + FuncImport("a", "b"))}));
  ASSERT_FALSE(lying);
  EXPECT_EQ(lying.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(lying.error().message(),
              HasSubstr("import count 1000 cannot fit in the 6 bytes left in the section"));
  EXPECT_THAT(ErrorOf(Module({Section(3, Leb(kMaxWasmEntries + 1))})),
              HasSubstr("function count 1000001 exceeds the limit"));
  EXPECT_THAT(ErrorOf(Module({Section(10, Leb(500) + kBody)})),
              HasSubstr("function body count 500 cannot fit"));
}

TEST(WasmModuleTest, RejectsModulesOverTheGatewayLimit) {
  std::string big(kMaxWasmModuleBytes + 1, '\0');
  big.replace(0, 8, kHeader);
  auto r = ParseWasmModule(big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(r.error().message(), HasSubstr("exceeds the gateway's limit"));
}

TEST(WasmModuleTest, DecodesMemoryLimitsAndImportedMemory) {
  std::string imports = Vec({
      Str("env") + Str("memory") + std::string("\x02\x03\x01\x80\x02", 5),  // shared 1..256
      Str("env") + Str("table") + std::string("\x01\x70\x00\x05", 4),       // funcref table
      Str("env") + Str("g") + std::string("\x03\x7e\x00", 3),               // const i64
      Str("env") + Str("tag") + std::string("\x04\x00\x00", 3),
  });
  std::string memories = Vec({std::string("\x00\x01", 2),                        // min 1
                              std::string("\x05\x00\x80\x80\x80\x80\x20", 7)});  // 64-bit
  auto info = Parse(Module({TypeSection(), Section(2, imports), Section(5, memories),
                            Section(7, Vec({Export("mem64", 2, 2), Export("t", 1, 0),
                                            Export("g", 3, 0), Export("e", 4, 0)}))}));
  ASSERT_TRUE(info) << info.error().message();
  ASSERT_EQ(info->memories.size(), 3u);
  EXPECT_EQ(info->memories[0].import, "env.memory");
  EXPECT_EQ(info->memories[0].limits,
            (MemoryLimits{.min_pages = 1, .max_pages = 256, .shared = true}));
  EXPECT_EQ(info->imports[0].memory, info->memories[0].limits);
  EXPECT_EQ(info->memories[1].limits, (MemoryLimits{.min_pages = 1}));
  EXPECT_EQ(info->memories[2].limits,
            (MemoryLimits{.min_pages = 0, .max_pages = uint64_t{1} << 33, .is_64 = true}));
  EXPECT_EQ(info->table_count, 1u);
  EXPECT_EQ(info->global_count, 1u);
  EXPECT_EQ(info->tag_count, 1u);
  EXPECT_TRUE(info->exports_memory);

  EXPECT_THAT(ErrorOf(Module({Section(5, Vec({std::string("\x08\x01", 2)}))})),
              HasSubstr("unsupported memory limits flags 0x08"));
  EXPECT_THAT(ErrorOf(Module(
                  {Section(2, Vec({Str("e") + Str("t") + std::string("\x01\x70\x02\x00", 4)}))})),
              HasSubstr("unsupported table limits flags 0x02"));
  EXPECT_THAT(
      ErrorOf(Module({Section(2, Vec({Str("e") + Str("x") + std::string("\x05\x00", 2)}))})),
      HasSubstr("import 0 (\"e.x\"): unknown kind 0x05"));
}

TEST(WasmModuleTest, DecodesReferenceTypesInImports) {
  auto global = [](std::string type) {
    return Module({Section(2, Vec({Str("env") + Str("g") + "\x03" + type + '\0'}))});
  };
  // (ref null func) in shorthand and long form, (ref 5), and a 5-byte negative heap type.
  for (std::string type :
       {std::string("\x70"), std::string("\x63\x70", 2), std::string("\x64\x05", 2),
        std::string("\x63\xf0\xff\xff\xff\x7f", 6)}) {
    auto info = Parse(global(type));
    ASSERT_TRUE(info) << info.error().message();
    EXPECT_EQ(info->global_count, 1u);
  }
  EXPECT_THAT(ErrorOf(global(std::string("\x63\xf0\xff\xff\xff\x4f", 6))),
              HasSubstr("imported global type: LEB128 value exceeds 33 bits"));
  EXPECT_THAT(ErrorOf(global(std::string("\x40", 1))),
              HasSubstr("imported global type: unknown value type 0x40"));
  EXPECT_THAT(
      ErrorOf(Module({Section(2, Vec({Str("env") + Str("g") + std::string("\x03\x7f\x02", 3)}))})),
      HasSubstr("invalid global mutability 0x02"));
}

TEST(WasmModuleTest, ChecksIndicesCountsAndSectionEnds) {
  EXPECT_THAT(
      ErrorOf(Module({TypeSection(), FunctionSection(1),
                      Section(7, Vec({Export("f", 0, 0), Export("f", 0, 0)})), CodeSection(1)})),
      HasSubstr("duplicate export name \"f\""));
  EXPECT_THAT(ErrorOf(Module({TypeSection(), FunctionSection(1),
                              Section(7, Vec({Export("f", 0, 1)})), CodeSection(1)})),
              HasSubstr("func index 1 out of range (the module has 1)"));
  EXPECT_THAT(ErrorOf(Module({Section(7, Vec({Export("m", 2, 0)}))})),
              HasSubstr("memory index 0 out of range (the module has 0)"));
  EXPECT_THAT(ErrorOf(Module({Section(7, Vec({Export("x", 5, 0)}))})),
              HasSubstr("export \"x\": unknown kind 0x05"));
  EXPECT_THAT(ErrorOf(Module({TypeSection(), FunctionSection(2), CodeSection(1)})),
              HasSubstr("1 function bodies but the function section declares 2"));
  EXPECT_THAT(ErrorOf(Module({TypeSection(), FunctionSection(1)})),
              HasSubstr("declares 1 functions but there is no code section"));
  EXPECT_THAT(ErrorOf(Module({Section(12, Leb(2)), Section(11, Vec({}))})),
              HasSubstr("the data count section says 2 segments, the data section has 0"));
  EXPECT_THAT(ErrorOf(Module({Section(8, Leb(0))})), HasSubstr("func index 0 out of range"));
  EXPECT_THAT(ErrorOf(Module({Section(12, Leb(0) + "x")})),
              HasSubstr("datacount section (id 12) at offset 8: 1 unread bytes at the end"));
  EXPECT_THAT(ErrorOf(Module({TypeSection(), FunctionSection(1),
                              Section(10, Vec({std::string("\x05\x00\x0b", 3)}))})),
              HasSubstr("function body of 5 bytes runs past the end of the section"));

  auto start =
      Parse(Module({TypeSection(), FunctionSection(1), Section(8, Leb(0)), CodeSection(1)}));
  ASSERT_TRUE(start) << start.error().message();
  EXPECT_EQ(start->start_function, 0u);
}

TEST(WasmModuleTest, CheckProxyWasmReportsWhatTheHostNeeds) {
  auto info = Parse(Module({TypeSection(), FunctionSection(1), CodeSection(1)}));
  ASSERT_TRUE(info);
  std::vector<Finding> findings = CheckProxyWasm(*info, "plugin.wasm");
  std::vector<std::string> lines;
  for (const Finding& f : findings) lines.push_back(f.ToString());
  EXPECT_THAT(
      lines,
      ElementsAre(
          "plugin.wasm: exports: no proxy_abi_version_* export: the gateway will not recognize "
          "it as a proxy-wasm plugin (host error \"Missing or unknown Proxy-Wasm ABI version\") "
          "(error)",
          "plugin.wasm: exports: exports neither malloc nor proxy_on_memory_allocate: the host "
          "cannot pass data to the plugin (host error \"Wasm module is missing malloc "
          "function\") (error)",
          "plugin.wasm: exports: no memory export: the host cannot read or write the plugin's "
          "memory (warning)",
          "plugin.wasm: exports: no proxy_on_context_create export: the host cannot create the "
          "plugin's contexts, so it never handles a request (warning)"));
  EXPECT_TRUE(HasErrors(findings));

  auto with_exports = [](std::vector<std::string> names) {
    std::vector<std::string> exports = {Export("memory", 2, 0)};
    for (size_t i = 0; i < names.size(); ++i) exports.push_back(Export(names[i], 0, i));
    return Module({TypeSection(), FunctionSection(names.size()),
                   Section(5, Vec({std::string("\x00\x01", 2)})), Section(7, Vec(exports)),
                   CodeSection(names.size())});
  };
  auto allocate = Parse(with_exports(
      {"proxy_abi_version_0_1_0", "proxy_on_memory_allocate", "proxy_on_context_create"}));
  ASSERT_TRUE(allocate) << allocate.error().message();
  EXPECT_TRUE(allocate->exports_memory_allocate);
  EXPECT_TRUE(CheckProxyWasm(*allocate).empty());

  auto unknown =
      Parse(with_exports({"proxy_abi_version_0_3_0", "malloc", "proxy_on_context_create"}));
  ASSERT_TRUE(unknown);
  findings = CheckProxyWasm(*unknown);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Severity::kWarning);
  EXPECT_THAT(findings[0].message, HasSubstr("unknown proxy-wasm ABI version 0_3_0"));

  auto higress =
      Parse(with_exports({"proxy_abi_version_0_2_100", "malloc", "proxy_on_context_create"}));
  ASSERT_TRUE(higress);
  findings = CheckProxyWasm(*higress);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].severity, Severity::kInfo);
  EXPECT_THAT(findings[0].message, HasSubstr("Higress extension"));

  // Only function exports count: a global named like the ABI marker does not.
  auto global = Parse(Module({Section(6, Vec({std::string("\x7f\x00\x41\x00\x0b", 5)})),
                              Section(7, Vec({Export("proxy_abi_version_0_2_1", 3, 0)}))}));
  ASSERT_TRUE(global) << global.error().message();
  EXPECT_TRUE(global->proxy_abi_versions.empty());
}

TEST(WasmFindingTest, ToStringLeavesOutEmptyParts) {
  EXPECT_EQ((Finding{.severity = Severity::kWarning,
                     .file = "spec.yaml",
                     .path = "spec.phase",
                     .line = 12,
                     .message = "unknown phase \"X\""})
                .ToString(),
            "spec.yaml:12: spec.phase: unknown phase \"X\" (warning)");
  EXPECT_EQ(
      (Finding{.severity = Severity::kError, .file = "plugin.wasm", .message = "m"}).ToString(),
      "plugin.wasm: m (error)");
  EXPECT_EQ((Finding{.severity = Severity::kInfo, .path = "a.b", .message = "m"}).ToString(),
            "a.b: m (info)");
  EXPECT_EQ(SeverityName(Severity::kWarning), "warning");
  EXPECT_FALSE(HasErrors({Finding{.severity = Severity::kWarning}}));
}

// Cross-checks the hand-written reader against a real encoder when wabt is installed.
TEST(WasmModuleTest, ReadsModulesCompiledByWat2wasm) {
  if (std::system("wat2wasm --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "no wat2wasm";
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(testing::TempDir()) / "wasm_module_test_wat";
  fs::create_directories(dir);
  const fs::path wat = dir / "plugin.wat";
  const fs::path wasm = dir / "plugin.wasm";
  std::ofstream(wat) << R"((module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2 16)
  (global $g (mut i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "malloc") (param i32) (result i32) local.get 0)
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "_start"))
  (data (i32.const 16) "hello"))
)";
  const std::string command =
      "wat2wasm --debug-names -o '" + wasm.string() + "' '" + wat.string() + "'";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(wasm, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  auto info = Parse(bytes);
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->imported_function_count, 2u);
  EXPECT_EQ(info->defined_function_count, 4u);
  EXPECT_THAT(info->proxy_abi_versions, ElementsAre("0_2_1"));
  EXPECT_THAT(info->wasi_imports, ElementsAre("fd_write"));
  EXPECT_TRUE(info->exports_start);
  EXPECT_EQ(info->memories.at(0).limits, (MemoryLimits{.min_pages = 2, .max_pages = 16}));
  EXPECT_THAT(info->custom_section_names, ElementsAre("name"));
  EXPECT_TRUE(CheckProxyWasm(*info).size() == 1);  // the WASI note
  fs::remove_all(dir);
}

}  // namespace
}  // namespace plugctl::wasm
