#include "support/wasm_builder.h"

namespace plugctl::test_support {

std::string Leb(uint64_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v != 0) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (v != 0);
  return out;
}

std::string Str(std::string_view s) { return Leb(s.size()) + std::string(s); }

std::string Section(uint8_t id, std::string_view payload) {
  return std::string(1, static_cast<char>(id)) + Leb(payload.size()) + std::string(payload);
}

std::string CustomSection(std::string_view name, std::string_view data) {
  return Section(0, Str(name) + std::string(data));
}

std::string ProxyWasmModule(const std::vector<std::string>& exports, std::string_view trailer) {
  std::string out("\0asm\x01\x00\x00\x00", 8);
  out += Section(1, std::string("\x01\x60\x00\x00", 4));
  out += Section(3, Leb(exports.size()) + std::string(exports.size(), '\0'));
  out += Section(5, std::string("\x01\x00\x01", 3));
  std::string exp = Leb(exports.size() + 1) + Str("memory") + std::string("\x02\x00", 2);
  for (size_t i = 0; i < exports.size(); ++i) exp += Str(exports[i]) + '\0' + Leb(i);
  out += Section(7, exp);
  std::string code = Leb(exports.size());
  for (size_t i = 0; i < exports.size(); ++i) code += std::string("\x02\x00\x0b", 3);
  out += Section(10, code);
  out += trailer;
  return out;
}

}  // namespace plugctl::test_support
