#include "plugctl/wasm/wasm_module.h"

#include <algorithm>
#include <array>
#include <unordered_set>

namespace plugctl::wasm {
namespace {

constexpr std::string_view kMagic("\0asm", 4);
// Core spec 5.5.16: the only module version. 0x0d 0x00 0x01 0x00 is the component model's
// version/layer pair (a component, which proxy-wasm hosts cannot instantiate).
constexpr uint32_t kModuleVersion = 1;
constexpr std::string_view kComponentVersion("\x0d\x00\x01\x00", 4);

constexpr std::string_view kAbiExportPrefix = "proxy_abi_version_";

// A bounds-checked reader over part of the module. `base` is the absolute offset of bytes[0]
// so that every error names a position in the whole module; `scope` names what ends where
// `bytes` ends ("module", "section", "function body").
class Cursor {
 public:
  Cursor(std::string_view bytes, uint64_t base, std::string_view scope)
      : bytes_(bytes), base_(base), scope_(scope) {}

  uint64_t offset() const { return base_ + pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }
  bool AtEnd() const { return pos_ == bytes_.size(); }
  void SkipRest() { pos_ = bytes_.size(); }

  template <typename... Args>
  tl::unexpected<Error> FailAt(uint64_t offset, fmt::format_string<Args...> format,
                               Args&&... args) const {
    return MakeError(ErrorCode::kInvalidArgument, "{} at offset {}",
                     fmt::format(format, std::forward<Args>(args)...), offset);
  }

  Result<uint8_t> Byte(std::string_view what) {
    if (AtEnd()) return Truncated(what);
    return static_cast<uint8_t>(bytes_[pos_++]);
  }

  Result<std::string_view> Bytes(uint64_t n, std::string_view what) {
    if (n > remaining()) {
      return FailAt(offset(), "{} of {} bytes runs past the end of the {} ({} bytes left)", what, n,
                    scope_, remaining());
    }
    std::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  // Unsigned LEB128 of at most `bits` bits (core spec 5.2.2): at most ceil(bits/7) bytes, and
  // the unused high bits of the last byte must be zero.
  Result<uint64_t> Unsigned(unsigned bits, std::string_view what) {
    const unsigned max_bytes = (bits + 6) / 7;
    const uint64_t start = offset();
    uint64_t value = 0;
    for (unsigned i = 0;; ++i) {
      if (AtEnd()) return Truncated(what);
      const uint8_t b = static_cast<uint8_t>(bytes_[pos_++]);
      if (i + 1 == max_bytes) {
        if (b & 0x80) return FailAt(start, "{}: LEB128 longer than {} bytes", what, max_bytes);
        const unsigned used = bits - 7 * i;
        if ((b >> used) != 0) return FailAt(start, "{}: LEB128 value exceeds {} bits", what, bits);
        return value | (static_cast<uint64_t>(b) << (7 * i));
      }
      value |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) return value;
    }
  }

  Result<uint32_t> U32(std::string_view what) {
    PLUGCTL_ASSIGN_OR_RETURN(uint64_t v, Unsigned(32, what));
    return static_cast<uint32_t>(v);
  }

  // Signed LEB128 of at most `bits` (< 64) bits: the unused bits of the last byte must repeat
  // the sign bit.
  Result<int64_t> Signed(unsigned bits, std::string_view what) {
    const unsigned max_bytes = (bits + 6) / 7;
    const uint64_t start = offset();
    uint64_t value = 0;
    for (unsigned i = 0;; ++i) {
      if (AtEnd()) return Truncated(what);
      const uint8_t b = static_cast<uint8_t>(bytes_[pos_++]);
      const unsigned shift = 7 * i;
      if (i + 1 == max_bytes) {
        if (b & 0x80) return FailAt(start, "{}: LEB128 longer than {} bytes", what, max_bytes);
        const unsigned used = bits - shift;
        const uint8_t top = static_cast<uint8_t>(b >> (used - 1));
        const uint8_t all_ones = static_cast<uint8_t>(0x7f >> (used - 1));
        if (top != 0 && top != all_ones) {
          return FailAt(start, "{}: LEB128 value exceeds {} bits", what, bits);
        }
      }
      value |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        if ((b & 0x40) && shift + 7 < 64) value |= ~uint64_t{0} << (shift + 7);
        return static_cast<int64_t>(value);
      }
    }
  }

  // A vector length. Each entry needs at least `min_entry_bytes`, so a count the remaining
  // bytes cannot hold is malformed before anything is allocated for it.
  Result<uint32_t> Count(std::string_view what, size_t min_entry_bytes) {
    const uint64_t start = offset();
    PLUGCTL_ASSIGN_OR_RETURN(uint32_t count, U32(what));
    if (count > kMaxWasmEntries) {
      return MakeError(ErrorCode::kResourceExhausted, "{} {} exceeds the limit of {} at offset {}",
                       what, count, kMaxWasmEntries, start);
    }
    if (static_cast<uint64_t>(count) * min_entry_bytes > remaining()) {
      return FailAt(start, "{} {} cannot fit in the {} bytes left in the {}", what, count,
                    remaining(), scope_);
    }
    return count;
  }

  // A section whose entries are counted but not parsed: reads the vector length (each entry
  // at least one byte) and skips the entries.
  Result<uint32_t> CountAndSkipRest(std::string_view what) {
    PLUGCTL_ASSIGN_OR_RETURN(uint32_t count, Count(what, 1));
    SkipRest();
    return count;
  }

  // A name (core spec 5.2.4): a byte vector that must be valid UTF-8.
  Result<std::string> Name(std::string_view what);

  // Splits off the next `n` bytes as their own cursor.
  Result<Cursor> Sub(uint64_t n, std::string_view what, std::string_view scope) {
    const uint64_t start = offset();
    PLUGCTL_ASSIGN_OR_RETURN(std::string_view bytes, Bytes(n, what));
    return Cursor(bytes, start, scope);
  }

  tl::unexpected<Error> Truncated(std::string_view what) const {
    return FailAt(offset(), "unexpected end of the {} reading {}", scope_, what);
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
  uint64_t base_;
  std::string_view scope_;
};

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. The spec defines
// names as UTF-8 encodings of Unicode scalar values, which excludes exactly these.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    uint32_t min;
    if ((c & 0xe0) == 0xc0) {
      len = 2, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const uint8_t b = static_cast<uint8_t>(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

Result<std::string> Cursor::Name(std::string_view what) {
  PLUGCTL_ASSIGN_OR_RETURN(uint32_t length, U32(what));
  const uint64_t start = offset();
  PLUGCTL_ASSIGN_OR_RETURN(std::string_view bytes, Bytes(length, what));
  if (!IsValidUtf8(bytes)) return FailAt(start, "{} is not valid UTF-8", what);
  return std::string(bytes);
}

// Position of each non-custom section in the required order (core spec 5.5.2, with the tag
// section between memory and global as the exception-handling proposal places it); 0 = unknown.
int SectionRank(uint8_t id) {
  static constexpr std::array<int, 14> kRank = {
      0,   // custom: anywhere
      1,   // type
      2,   // import
      3,   // function
      4,   // table
      5,   // memory
      7,   // global
      8,   // export
      9,   // start
      10,  // element
      12,  // code
      13,  // data
      11,  // datacount: before code
      6,   // tag
  };
  return id < kRank.size() ? kRank[id] : 0;
}

// Abstract heap type shorthands 0x69 (exnref) … 0x74 (nullexnref): funcref, externref, anyref
// and the GC proposal's others.
bool IsShorthandRefType(uint8_t b) { return b >= 0x69 && b <= 0x74; }

Status ReadRefType(Cursor& c, std::string_view what) {
  const uint64_t start = c.offset();
  PLUGCTL_ASSIGN_OR_RETURN(uint8_t b, c.Byte(what));
  if (IsShorthandRefType(b)) return OkStatus();
  if (b == 0x63 || b == 0x64) {  // (ref null ht) / (ref ht): heap type as s33
    PLUGCTL_RETURN_IF_ERROR(c.Signed(33, what));
    return OkStatus();
  }
  return c.FailAt(start, "{}: unknown reference type 0x{:02x}", what, b);
}

Status ReadValType(Cursor& c, std::string_view what) {
  const uint64_t start = c.offset();
  PLUGCTL_ASSIGN_OR_RETURN(uint8_t b, c.Byte(what));
  if (b >= 0x7b && b <= 0x7f) return OkStatus();  // i32 i64 f32 f64 v128
  if (IsShorthandRefType(b)) return OkStatus();
  if (b == 0x63 || b == 0x64) {
    PLUGCTL_RETURN_IF_ERROR(c.Signed(33, what));
    return OkStatus();
  }
  return c.FailAt(start, "{}: unknown value type 0x{:02x}", what, b);
}

// Limits flags: bit 0 = has maximum, bit 1 = shared (threads, memories only), bit 2 = 64-bit
// (memory64/table64). Other bits (e.g. custom page sizes) are not supported.
Result<MemoryLimits> ReadLimits(Cursor& c, bool is_memory) {
  const uint64_t start = c.offset();
  PLUGCTL_ASSIGN_OR_RETURN(uint8_t flags, c.Byte("limits flags"));
  const uint8_t allowed = is_memory ? 0x07 : 0x05;
  if (flags & ~allowed) {
    return c.FailAt(start, "unsupported {} limits flags 0x{:02x}", is_memory ? "memory" : "table",
                    flags);
  }
  MemoryLimits limits;
  limits.shared = (flags & 0x02) != 0;
  limits.is_64 = (flags & 0x04) != 0;
  const unsigned bits = limits.is_64 ? 64 : 32;
  PLUGCTL_ASSIGN_OR_RETURN(limits.min_pages, c.Unsigned(bits, "limits minimum"));
  if (flags & 0x01) {
    PLUGCTL_ASSIGN_OR_RETURN(uint64_t max, c.Unsigned(bits, "limits maximum"));
    limits.max_pages = max;
  }
  return limits;
}

class ModuleParser {
 public:
  Result<WasmModuleInfo> Parse(std::string_view bytes);

 private:
  Status ParseSection(uint8_t id, Cursor& c);
  Status ParseImports(Cursor& c);
  Status ParseFunctions(Cursor& c);
  Status ParseMemories(Cursor& c);
  Status ParseTags(Cursor& c);
  Status ParseExports(Cursor& c);
  Status ParseStart(Cursor& c);
  Status ParseCode(Cursor& c);
  Status ParseData(Cursor& c);
  Status CheckIndex(ExternalKind kind, uint32_t index, uint64_t offset, const Cursor& c) const;
  void Derive();

  WasmModuleInfo info_;
  bool saw_code_ = false;
  std::optional<uint32_t> data_count_;
  uint32_t data_segments_ = 0;
};

Result<WasmModuleInfo> ModuleParser::Parse(std::string_view bytes) {
  if (bytes.size() > kMaxWasmModuleBytes) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "wasm module of {} bytes exceeds the gateway's limit of {} bytes (256 MiB)",
                     bytes.size(), kMaxWasmModuleBytes);
  }
  if (!HasWasmMagic(bytes) && !kMagic.starts_with(bytes)) {
    return MakeError(ErrorCode::kInvalidArgument, "not a wasm module (bad magic)");
  }
  if (bytes.size() < 8) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "truncated wasm module: {} bytes, shorter than the 8-byte header",
                     bytes.size());
  }
  std::string_view version_bytes = bytes.substr(4, 4);
  if (version_bytes == kComponentVersion) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a WebAssembly component, not a core module: proxy-wasm hosts load core "
                     "modules only");
  }
  uint32_t version = 0;
  for (int i = 3; i >= 0; --i) version = (version << 8) | static_cast<uint8_t>(version_bytes[i]);
  if (version != kModuleVersion) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "unsupported wasm binary version {} (only version 1 exists)", version);
  }
  info_.version = version;
  info_.size = bytes.size();

  Cursor module(bytes.substr(8), 8, "module");
  int last_rank = 0;
  uint8_t last_id = 0;
  while (!module.AtEnd()) {
    WasmSection section;
    section.offset = module.offset();
    PLUGCTL_ASSIGN_OR_RETURN(section.id, module.Byte("section id"));
    section.name = std::string(SectionIdName(section.id));
    auto context = [&section] {
      return fmt::format("malformed wasm module: {} section (id {}) at offset {}", section.name,
                         section.id, section.offset);
    };
    const int rank = SectionRank(section.id);
    if (section.id != 0 && rank == 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "malformed wasm module: unknown section id {} at offset {}", section.id,
                       section.offset);
    }
    auto size = module.U32("section size");
    if (!size) return tl::unexpected(size.error().WithContext(context()));
    section.size = *size;
    section.payload_offset = module.offset();
    auto payload = module.Sub(section.size, "section payload", "section");
    if (!payload) return tl::unexpected(payload.error().WithContext(context()));
    if (section.id != 0) {
      if (rank <= last_rank) {
        return MakeError(ErrorCode::kInvalidArgument, "{}: {} after the {} section", context(),
                         rank == last_rank ? "repeated" : "out of order", SectionIdName(last_id));
      }
      last_rank = rank;
      last_id = section.id;
    } else {
      auto name = payload->Name("custom section name");
      if (!name) return tl::unexpected(name.error().WithContext(context()));
      section.name = *name;
      info_.custom_section_names.push_back(*name);
      payload->SkipRest();
    }
    if (Status s = ParseSection(section.id, *payload); !s) {
      return tl::unexpected(s.error().WithContext(context()));
    }
    if (!payload->AtEnd()) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: {} unread bytes at the end (offset {})",
                       context(), payload->remaining(), payload->offset());
    }
    info_.sections.push_back(std::move(section));
  }

  if (info_.defined_function_count > 0 && !saw_code_) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "malformed wasm module: the function section declares {} functions but "
                     "there is no code section",
                     info_.defined_function_count);
  }
  if (data_count_ && *data_count_ != data_segments_) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "malformed wasm module: the data count section says {} segments, the data "
                     "section has {}",
                     *data_count_, data_segments_);
  }
  Derive();
  return std::move(info_);
}

Status ModuleParser::ParseSection(uint8_t id, Cursor& c) {
  switch (static_cast<SectionId>(id)) {
    case SectionId::kCustom:
      return OkStatus();
    case SectionId::kType: {
      // Only counted: function types are not needed to describe a plugin.
      PLUGCTL_ASSIGN_OR_RETURN(info_.type_count, c.CountAndSkipRest("type count"));
      return OkStatus();
    }
    case SectionId::kImport:
      return ParseImports(c);
    case SectionId::kFunction:
      return ParseFunctions(c);
    case SectionId::kTable: {
      PLUGCTL_ASSIGN_OR_RETURN(uint32_t n, c.CountAndSkipRest("table count"));
      info_.table_count += n;
      return OkStatus();
    }
    case SectionId::kMemory:
      return ParseMemories(c);
    case SectionId::kGlobal: {
      PLUGCTL_ASSIGN_OR_RETURN(uint32_t n, c.CountAndSkipRest("global count"));
      info_.global_count += n;
      return OkStatus();
    }
    case SectionId::kExport:
      return ParseExports(c);
    case SectionId::kStart:
      return ParseStart(c);
    case SectionId::kElement: {
      PLUGCTL_RETURN_IF_ERROR(c.CountAndSkipRest("element segment count"));
      return OkStatus();
    }
    case SectionId::kCode:
      return ParseCode(c);
    case SectionId::kData:
      return ParseData(c);
    case SectionId::kDataCount: {
      PLUGCTL_ASSIGN_OR_RETURN(uint32_t n, c.U32("data count"));
      data_count_ = n;
      return OkStatus();
    }
    case SectionId::kTag:
      return ParseTags(c);
  }
  return c.FailAt(c.offset(), "unknown section id {}", id);
}

Status ModuleParser::ParseImports(Cursor& c) {
  // module name, field name, kind, descriptor: at least one byte each.
  PLUGCTL_ASSIGN_OR_RETURN(uint32_t count, c.Count("import count", 4));
  info_.imports.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    WasmImport import;
    PLUGCTL_ASSIGN_OR_RETURN(import.module, c.Name("import module name"));
    PLUGCTL_ASSIGN_OR_RETURN(import.name, c.Name("import field name"));
    const uint64_t kind_offset = c.offset();
    PLUGCTL_ASSIGN_OR_RETURN(uint8_t kind, c.Byte("import kind"));
    switch (kind) {
      case 0x00: {
        import.kind = ExternalKind::kFunction;
        PLUGCTL_ASSIGN_OR_RETURN(import.type_index, c.U32("import type index"));
        ++info_.imported_function_count;
        break;
      }
      case 0x01: {
        import.kind = ExternalKind::kTable;
        PLUGCTL_RETURN_IF_ERROR(ReadRefType(c, "imported table element type"));
        PLUGCTL_RETURN_IF_ERROR(ReadLimits(c, /*is_memory=*/false));
        ++info_.table_count;
        break;
      }
      case 0x02: {
        import.kind = ExternalKind::kMemory;
        PLUGCTL_ASSIGN_OR_RETURN(MemoryLimits limits, ReadLimits(c, /*is_memory=*/true));
        import.memory = limits;
        info_.memories.push_back(
            WasmMemory{.import = import.module + "." + import.name, .limits = limits});
        break;
      }
      case 0x03: {
        import.kind = ExternalKind::kGlobal;
        PLUGCTL_RETURN_IF_ERROR(ReadValType(c, "imported global type"));
        const uint64_t mut_offset = c.offset();
        PLUGCTL_ASSIGN_OR_RETURN(uint8_t mut, c.Byte("global mutability"));
        if (mut > 1) return c.FailAt(mut_offset, "invalid global mutability 0x{:02x}", mut);
        ++info_.global_count;
        break;
      }
      case 0x04: {
        import.kind = ExternalKind::kTag;
        const uint64_t attr_offset = c.offset();
        PLUGCTL_ASSIGN_OR_RETURN(uint8_t attribute, c.Byte("tag attribute"));
        if (attribute != 0) {
          return c.FailAt(attr_offset, "invalid tag attribute 0x{:02x}", attribute);
        }
        PLUGCTL_ASSIGN_OR_RETURN(import.type_index, c.U32("tag type index"));
        ++info_.tag_count;
        break;
      }
      default:
        return c.FailAt(kind_offset, "import {} (\"{}.{}\"): unknown kind 0x{:02x}", i,
                        import.module, import.name, kind);
    }
    info_.imports.push_back(std::move(import));
  }
  return OkStatus();
}

Status ModuleParser::ParseFunctions(Cursor& c) {
  PLUGCTL_ASSIGN_OR_RETURN(uint32_t count, c.Count("function count", 1));
  if (static_cast<uint64_t>(count) + info_.imported_function_count > kMaxWasmEntries) {
    return MakeError(ErrorCode::kResourceExhausted, "{} functions exceed the limit of {}",
                     static_cast<uint64_t>(count) + info_.imported_function_count, kMaxWasmEntries);
  }
  for (uint32_t i = 0; i < count; ++i) PLUGCTL_RETURN_IF_ERROR(c.U32("function type index"));
  info_.defined_function_count = count;
  return OkStatus();
}

Status ModuleParser::ParseMemories(Cursor& c) {
  PLUGCTL_ASSIGN_OR_RETURN(uint32_t count, c.Count("memory count", 2));
  for (uint32_t i = 0; i < count; ++i) {
    PLUGCTL_ASSIGN_OR_RETURN(MemoryLimits limits, ReadLimits(c, /*is_memory=*/true));
    info_.memories.push_back(WasmMemory{.limits = limits});
  }
  return OkStatus();
}

Status ModuleParser::ParseTags(Cursor& c) {
  PLUGCTL_ASSIGN_OR_RETURN(uint32_t count, c.Count("tag count", 2));
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t attr_offset = c.offset();
    PLUGCTL_ASSIGN_OR_RETURN(uint8_t attribute, c.Byte("tag attribute"));
    if (attribute != 0) return c.FailAt(attr_offset, "invalid tag attribute 0x{:02x}", attribute);
    PLUGCTL_RETURN_IF_ERROR(c.U32("tag type index"));
  }
  info_.tag_count += count;
  return OkStatus();
}

// Index spaces are complete when the export section is read: every section that adds to them
// (import, function, table, memory, tag, global) must come before it.
Status ModuleParser::CheckIndex(ExternalKind kind, uint32_t index, uint64_t offset,
                                const Cursor& c) const {
  uint64_t limit = 0;
  switch (kind) {
    case ExternalKind::kFunction:
      limit = info_.total_function_count();
      break;
    case ExternalKind::kTable:
      limit = info_.table_count;
      break;
    case ExternalKind::kMemory:
      limit = info_.memories.size();
      break;
    case ExternalKind::kGlobal:
      limit = info_.global_count;
      break;
    case ExternalKind::kTag:
      limit = info_.tag_count;
      break;
  }
  if (index >= limit) {
    return c.FailAt(offset, "{} index {} out of range (the module has {})", ExternalKindName(kind),
                    index, limit);
  }
  return OkStatus();
}

Status ModuleParser::ParseExports(Cursor& c) {
  PLUGCTL_ASSIGN_OR_RETURN(uint32_t count, c.Count("export count", 3));
  info_.exports.reserve(count);
  std::unordered_set<std::string> names;
  for (uint32_t i = 0; i < count; ++i) {
    WasmExport exp;
    const uint64_t name_offset = c.offset();
    PLUGCTL_ASSIGN_OR_RETURN(exp.name, c.Name("export name"));
    const uint64_t kind_offset = c.offset();
    PLUGCTL_ASSIGN_OR_RETURN(uint8_t kind, c.Byte("export kind"));
    if (kind > static_cast<uint8_t>(ExternalKind::kTag)) {
      return c.FailAt(kind_offset, "export \"{}\": unknown kind 0x{:02x}", exp.name, kind);
    }
    exp.kind = static_cast<ExternalKind>(kind);
    const uint64_t index_offset = c.offset();
    PLUGCTL_ASSIGN_OR_RETURN(exp.index, c.U32("export index"));
    PLUGCTL_RETURN_IF_ERROR(CheckIndex(exp.kind, exp.index, index_offset, c));
    if (!names.insert(exp.name).second) {
      return c.FailAt(name_offset, "duplicate export name \"{}\"", exp.name);
    }
    info_.exports.push_back(std::move(exp));
  }
  return OkStatus();
}

Status ModuleParser::ParseStart(Cursor& c) {
  const uint64_t offset = c.offset();
  PLUGCTL_ASSIGN_OR_RETURN(uint32_t index, c.U32("start function index"));
  PLUGCTL_RETURN_IF_ERROR(CheckIndex(ExternalKind::kFunction, index, offset, c));
  info_.start_function = index;
  return OkStatus();
}

Status ModuleParser::ParseCode(Cursor& c) {
  const uint64_t offset = c.offset();
  // A body is at least its size byte, an empty locals vector and `end`.
  PLUGCTL_ASSIGN_OR_RETURN(uint32_t count, c.Count("function body count", 3));
  if (count != info_.defined_function_count) {
    return c.FailAt(offset, "{} function bodies but the function section declares {}", count,
                    info_.defined_function_count);
  }
  for (uint32_t i = 0; i < count; ++i) {
    PLUGCTL_ASSIGN_OR_RETURN(uint32_t size, c.U32("function body size"));
    PLUGCTL_RETURN_IF_ERROR(c.Bytes(size, "function body"));
  }
  saw_code_ = true;
  return OkStatus();
}

Status ModuleParser::ParseData(Cursor& c) {
  PLUGCTL_ASSIGN_OR_RETURN(data_segments_, c.CountAndSkipRest("data segment count"));
  return OkStatus();
}

void ModuleParser::Derive() {
  for (const WasmImport& import : info_.imports) {
    if (import.module != "wasi_snapshot_preview1" && import.module != "wasi_unstable") continue;
    info_.uses_wasi = true;
    if (std::find(info_.wasi_imports.begin(), info_.wasi_imports.end(), import.name) ==
        info_.wasi_imports.end()) {
      info_.wasi_imports.push_back(import.name);
    }
  }
  for (const WasmExport& exp : info_.exports) {
    if (exp.kind == ExternalKind::kMemory) {
      info_.exports_memory = true;
      continue;
    }
    if (exp.kind != ExternalKind::kFunction) continue;
    std::string_view name = exp.name;
    if (name.starts_with(kAbiExportPrefix) && name.size() > kAbiExportPrefix.size()) {
      info_.proxy_abi_versions.emplace_back(name.substr(kAbiExportPrefix.size()));
    }
    if (name == "_start") info_.exports_start = true;
    if (name == "_initialize") info_.exports_initialize = true;
    if (name == "malloc") info_.exports_malloc = true;
    if (name == "proxy_on_memory_allocate") info_.exports_memory_allocate = true;
    if (name == "proxy_on_context_create") info_.exports_context_create = true;
  }
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

}  // namespace

std::string_view SectionIdName(uint8_t id) {
  static constexpr std::array<std::string_view, 14> kNames = {
      "custom", "type",  "import",  "function", "table", "memory",    "global",
      "export", "start", "element", "code",     "data",  "datacount", "tag"};
  return id < kNames.size() ? kNames[id] : "unknown";
}

std::string_view ExternalKindName(ExternalKind kind) {
  switch (kind) {
    case ExternalKind::kFunction:
      return "func";
    case ExternalKind::kTable:
      return "table";
    case ExternalKind::kMemory:
      return "memory";
    case ExternalKind::kGlobal:
      return "global";
    case ExternalKind::kTag:
      return "tag";
  }
  return "unknown";
}

const WasmExport* WasmModuleInfo::FindExport(std::string_view name) const {
  for (const WasmExport& exp : exports) {
    if (exp.name == name) return &exp;
  }
  return nullptr;
}

bool WasmModuleInfo::ExportsFunction(std::string_view name) const {
  const WasmExport* exp = FindExport(name);
  return exp != nullptr && exp->kind == ExternalKind::kFunction;
}

Result<WasmModuleInfo> ParseWasmModule(std::string_view bytes) {
  return ModuleParser().Parse(bytes);
}

bool HasWasmMagic(std::string_view bytes) { return bytes.starts_with(kMagic); }

bool IsKnownProxyAbiVersion(std::string_view version) {
  return version == "0_1_0" || version == "0_2_0" || version == "0_2_1" || version == "0_2_100";
}

std::vector<Finding> CheckProxyWasm(const WasmModuleInfo& info, std::string_view file) {
  std::vector<Finding> out;
  auto add = [&](Severity severity, std::string_view path, std::string message) {
    out.push_back(Finding{.severity = severity,
                          .file = std::string(file),
                          .path = std::string(path),
                          .message = std::move(message)});
  };

  // proxy-wasm-cpp-host reads the ABI version from the export names before instantiating and
  // refuses modules without a known one.
  if (info.proxy_abi_versions.empty()) {
    add(Severity::kError, "exports",
        "no proxy_abi_version_* export: the gateway will not recognize it as a proxy-wasm plugin "
        "(host error \"Missing or unknown Proxy-Wasm ABI version\")");
  } else {
    std::vector<std::string> known;
    for (const std::string& v : info.proxy_abi_versions) {
      if (IsKnownProxyAbiVersion(v)) known.push_back(v);
    }
    if (known.empty()) {
      add(Severity::kWarning, "exports",
          fmt::format("unknown proxy-wasm ABI version {}: hosts know 0_1_0, 0_2_0, 0_2_1 (and "
                      "Higress 0_2_100) and refuse others",
                      Join(info.proxy_abi_versions)));
    } else if (std::all_of(known.begin(), known.end(),
                           [](const std::string& v) { return v == "0_2_100"; })) {
      add(Severity::kInfo, "exports",
          "proxy-wasm ABI 0_2_100 is a Higress extension: stock Istio/Envoy gateways refuse it");
    }
  }
  // The host allocates guest memory through one of these to pass headers and bodies in; it
  // fails the VM when neither exists.
  if (!info.ExportsFunction("malloc") && !info.ExportsFunction("proxy_on_memory_allocate")) {
    add(Severity::kError, "exports",
        "exports neither malloc nor proxy_on_memory_allocate: the host cannot pass data to the "
        "plugin (host error \"Wasm module is missing malloc function\")");
  }
  if (!info.exports_memory) {
    add(Severity::kWarning, "exports",
        "no memory export: the host cannot read or write the plugin's memory");
  }
  if (!info.exports_context_create) {
    add(Severity::kWarning, "exports",
        "no proxy_on_context_create export: the host cannot create the plugin's contexts, so it "
        "never handles a request");
  }
  if (info.uses_wasi) {
    add(Severity::kInfo, "imports",
        fmt::format("imports WASI functions ({}): proxy-wasm hosts implement only part of WASI",
                    Join(info.wasi_imports)));
  }
  return out;
}

}  // namespace plugctl::wasm
