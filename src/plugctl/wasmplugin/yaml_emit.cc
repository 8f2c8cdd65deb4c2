#include "plugctl/wasmplugin/yaml_emit.h"

#include <array>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

namespace plugctl::wasmplugin {
namespace {

constexpr int kIndent = 2;

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// Words some reader types as null or boolean: the YAML 1.2 core schema's, plus YAML 1.1's
// yes/no/on/off/y/n that kubectl (go-yaml v2 underneath sigs.k8s.io/yaml) still honours.
bool IsReservedWord(std::string_view text) {
  static constexpr std::array<std::string_view, 9> kWords = {"null", "true", "false", "yes", "no",
                                                             "on",   "off",  "y",     "n"};
  for (std::string_view word : kWords) {
    if (EqualsIgnoreCase(text, word)) return true;
  }
  return false;
}

// For a scalar starting with a digit: could any reader see a number or a timestamp? Integers,
// floats, exponents, 1_000 and sexagesimal 1:30 (YAML 1.1) use only digits and ._:eE+-; 0x/0o/0b
// prefixes and dates (2001-12-14, 2001-12-14t21:59:43Z) are the others.
bool LooksNumericOrDate(std::string_view text) {
  bool only_number_chars = true;
  for (char c : text) {
    if (!(IsDigit(c) || c == '.' || c == '_' || c == ':' || c == 'e' || c == 'E' || c == '+' ||
          c == '-')) {
      only_number_chars = false;
      break;
    }
  }
  if (only_number_chars) return true;
  if (text.size() >= 2 && text[0] == '0') {
    char p = Lower(text[1]);
    if (p == 'x' || p == 'o' || p == 'b') return true;
  }
  // YYYY-M[M]-D[D]...
  size_t i = 0;
  while (i < text.size() && IsDigit(text[i])) ++i;
  if (i != 4 || i >= text.size() || text[i] != '-') return false;
  ++i;
  size_t month = i;
  while (i < text.size() && IsDigit(text[i])) ++i;
  if (i == month || i - month > 2 || i >= text.size() || text[i] != '-') return false;
  ++i;
  size_t day = i;
  while (i < text.size() && IsDigit(text[i])) ++i;
  return i > day && i - day <= 2;
}

// Appends the UTF-8 encoding of one code point as a YAML escape.
void AppendUnicodeEscape(uint32_t cp, std::string& out) { out += fmt::format("\\u{:04X}", cp); }

std::string FloatText(double value) {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  // nlohmann's shortest round-trip form, which always has a '.' or an exponent ("1.0",
  // "1e+100"), so both YAML 1.1 and 1.2 readers see a float.
  return nlohmann::ordered_json(value).dump();
}

std::string ScalarText(const nlohmann::ordered_json& value) {
  switch (value.type()) {
    case nlohmann::ordered_json::value_t::null:
      return "null";
    case nlohmann::ordered_json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case nlohmann::ordered_json::value_t::number_float:
      return FloatText(value.get<double>());
    case nlohmann::ordered_json::value_t::number_integer:
    case nlohmann::ordered_json::value_t::number_unsigned:
      return value.dump();
    case nlohmann::ordered_json::value_t::string: {
      const auto& text = value.get_ref<const std::string&>();
      return IsSafePlainScalar(text) ? text : QuoteYamlString(text);
    }
    case nlohmann::ordered_json::value_t::object:
      return "{}";
    case nlohmann::ordered_json::value_t::array:
      return "[]";
    case nlohmann::ordered_json::value_t::binary:
    case nlohmann::ordered_json::value_t::discarded:
      break;
  }
  return "null";
}

bool IsBlock(const nlohmann::ordered_json& value) {
  return (value.is_object() || value.is_array()) && !value.empty();
}

std::string KeyText(const std::string& key) {
  return IsSafePlainScalar(key) ? key : QuoteYamlString(key);
}

void EmitBlock(const nlohmann::ordered_json& value, int indent, std::string& out);

// A sequence item: rendered at indent + 2, then its first indentation becomes "- ", which puts
// a mapping's first key (or a nested sequence's first "- ") on the dash's line.
void EmitItem(const nlohmann::ordered_json& item, int indent, std::string& out) {
  if (!IsBlock(item)) {
    out.append(static_cast<size_t>(indent), ' ');
    out += "- ";
    out += ScalarText(item);
    out += '\n';
    return;
  }
  std::string nested;
  EmitBlock(item, indent + kIndent, nested);
  out.append(static_cast<size_t>(indent), ' ');
  out += "- ";
  out.append(nested, static_cast<size_t>(indent + kIndent), std::string::npos);
}

void EmitBlock(const nlohmann::ordered_json& value, int indent, std::string& out) {
  if (value.is_array()) {
    for (const auto& item : value) EmitItem(item, indent, out);
    return;
  }
  for (const auto& [key, child] : value.items()) {
    out.append(static_cast<size_t>(indent), ' ');
    out += KeyText(key);
    out += ':';
    if (IsBlock(child)) {
      out += '\n';
      EmitBlock(child, indent + kIndent, out);
    } else {
      out += ' ';
      out += ScalarText(child);
      out += '\n';
    }
  }
}

}  // namespace

bool IsSafePlainScalar(std::string_view text) {
  if (text.empty()) return false;
  // The first character may not be an indicator ('-', '.', '@', ':' …) or a space.
  char first = text.front();
  if (!(IsAsciiAlnum(first) || first == '_' || first == '/')) return false;
  for (char c : text) {
    // No spaces (": " and " #" are what break plain scalars), no flow or other indicators.
    if (!(IsAsciiAlnum(c) || c == '.' || c == '_' || c == '/' || c == '-' || c == ':' || c == '@' ||
          c == '+')) {
      return false;
    }
  }
  if (text.back() == ':') return false;
  if (IsReservedWord(text)) return false;
  if (IsDigit(first) && LooksNumericOrDate(text)) return false;
  return true;
}

std::string QuoteYamlString(std::string_view text) {
  std::string out = "\"";
  size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      switch (byte) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          if (byte < 0x20 || byte == 0x7F) {
            AppendUnicodeEscape(byte, out);
          } else {
            out += static_cast<char>(byte);
          }
      }
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence; invalid ones become U+FFFD.
    size_t length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 0;
    uint32_t cp = length == 4 ? byte & 0x07u : length == 3 ? byte & 0x0Fu : byte & 0x1Fu;
    bool valid = length != 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      auto cont = static_cast<unsigned char>(text[i + k]);
      if ((cont & 0xC0) != 0x80) {
        valid = false;
      } else {
        cp = (cp << 6) | (cont & 0x3Fu);
      }
    }
    static constexpr std::array<uint32_t, 5> kMinimum = {0, 0, 0x80, 0x800, 0x10000};
    if (valid && (cp < kMinimum[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) {
      valid = false;
    }
    if (!valid) {
      out += "\\uFFFD";
      ++i;
      continue;
    }
    // C1 controls, line/paragraph separators, bidi controls and non-characters are escaped so
    // the YAML reads the same in a terminal, an editor and a review diff.
    if ((cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
        (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF ||
        cp == 0xFFFE || cp == 0xFFFF) {
      AppendUnicodeEscape(cp, out);
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  out += '"';
  return out;
}

std::string EmitYaml(const nlohmann::ordered_json& value) {
  if (!IsBlock(value)) return ScalarText(value) + "\n";
  std::string out;
  EmitBlock(value, 0, out);
  return out;
}

}  // namespace plugctl::wasmplugin
