// The `format` keyword: which formats are known and how string formats are checked.
#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>

#include <arpa/inet.h>

#include "plugctl/spec/schema_internal.h"

namespace plugctl::spec::schema_internal {

namespace {

bool AllOf(std::string_view s, int (*pred)(int)) {
  return std::all_of(s.begin(), s.end(),
                     [pred](char c) { return pred(static_cast<unsigned char>(c)) != 0; });
}

bool ParseFixedDigits(std::string_view s, size_t pos, size_t count, int* out) {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// RFC 3339 full-date: YYYY-MM-DD with a real day of month.
bool IsDate(std::string_view s) {
  int y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!ParseFixedDigits(s, 0, 4, &y) || !ParseFixedDigits(s, 5, 2, &m) ||
      !ParseFixedDigits(s, 8, 2, &d)) {
    return false;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

// RFC 3339 date-time: full-date "T" hh:mm:ss[.frac] (Z | ±hh:mm).
bool IsDateTime(std::string_view s) {
  if (s.size() < 20 || !IsDate(s.substr(0, 10)) || (s[10] != 'T' && s[10] != 't')) return false;
  int h = 0, mi = 0, sec = 0;
  if (!ParseFixedDigits(s, 11, 2, &h) || s[13] != ':' || !ParseFixedDigits(s, 14, 2, &mi) ||
      s[16] != ':' || !ParseFixedDigits(s, 17, 2, &sec)) {
    return false;
  }
  if (h > 23 || mi > 59 || sec > 60) return false;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
  }
  std::string_view zone = s.substr(i);
  if (zone == "Z" || zone == "z") return true;
  int zh = 0, zm = 0;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
         ParseFixedDigits(zone, 1, 2, &zh) && zone[3] == ':' && ParseFixedDigits(zone, 4, 2, &zm) &&
         zh <= 23 && zm <= 59;
}

// RFC 1123 host name.
bool IsHostname(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t end = s.find('.', start);
    std::string_view label = s.substr(start, end == std::string_view::npos ? end : end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

bool IsIpv4(std::string_view s) {
  int parts = 0;
  size_t start = 0;
  while (true) {
    size_t end = s.find('.', start);
    std::string_view part = s.substr(start, end == std::string_view::npos ? end : end - start);
    if (part.empty() || part.size() > 3 || !AllOf(part, ::isdigit) ||
        (part.size() > 1 && part[0] == '0') || std::stoi(std::string(part)) > 255) {
      return false;
    }
    ++parts;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts == 4;
}

bool IsIpv6(std::string_view s) {
  if (s.size() > 45) return false;
  unsigned char buffer[16];
  return inet_pton(AF_INET6, std::string(s).c_str(), buffer) == 1;
}

bool IsEmail(std::string_view s) {
  size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return false;
  std::string_view local = s.substr(0, at);
  for (char c : local) {
    auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || c == '@' || c == '(' || c == ')' || c == ',' || c == ';' || c == '<' ||
        c == '>' || c == '[' || c == ']' || c == '\\' || c == '"') {
      return false;
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  return IsHostname(s.substr(at + 1));
}

// RFC 3986 absolute URI, loosely: scheme ":" then no spaces or control characters.
bool IsUri(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 ||
      !std::isalpha(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  for (size_t i = 1; i < colon; ++i) {
    char c = s[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= ' ' || c == '<' || c == '>' || c == '"' || c == '\\' || c == '^' || c == '`' ||
           c == '{' || c == '|' || c == '}';
  });
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool IsBase64(std::string_view s) {
  if (s.size() % 4 != 0) return false;
  size_t padding = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '=') {
      ++padding;
      if (i < s.size() - 2) return false;
      continue;
    }
    if (padding > 0) return false;
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/') return false;
  }
  return padding <= 2;
}

}  // namespace

// The check for a string format; nullptr for formats that are not checked.
bool (*StringFormatCheck(std::string_view format))(std::string_view) {
  if (format == "date") return IsDate;
  if (format == "date-time") return IsDateTime;
  if (format == "hostname") return IsHostname;
  if (format == "ipv4") return IsIpv4;
  if (format == "ipv6") return IsIpv6;
  if (format == "email") return IsEmail;
  if (format == "uri") return IsUri;
  if (format == "uuid") return IsUuid;
  if (format == "byte") return IsBase64;
  return nullptr;
}

const std::set<std::string_view>& KnownFormats() {
  static const std::set<std::string_view> kFormats = {
      // OpenAPI 3.0 data types
      "int32", "int64", "float", "double", "byte", "binary", "date", "date-time", "password",
      // JSON Schema formats that are checked
      "email", "hostname", "ipv4", "ipv6", "uri", "uuid"};
  return kFormats;
}

}  // namespace plugctl::spec::schema_internal
