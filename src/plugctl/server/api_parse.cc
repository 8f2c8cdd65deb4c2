#include "plugctl/server/api_parse.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace plugctl::server {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Query values as Go's url.ParseQuery reads them ('+' is a space, %XX decoded).
std::string Unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

Query ParseQuery(std::string_view query) {
  Query out;
  size_t count = 0;
  while (!query.empty() && count++ < 64) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    out.emplace(Unescape(pair.substr(0, eq)),
                eq == std::string_view::npos ? std::string() : Unescape(pair.substr(eq + 1)));
  }
  return out;
}

std::string QueryValue(const Query& query, std::string_view key) {
  auto it = query.find(key);
  return it == query.end() ? std::string() : it->second;
}

std::string EscapeQueryValue(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' ||
        c == ':') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t value = 0;
  if (text.empty() || text.size() > 19) return std::nullopt;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<ContentRange> ParseContentRange(std::string_view text) {
  if (text.starts_with("bytes ")) text.remove_prefix(6);
  if (size_t slash = text.find('/'); slash != std::string_view::npos) text = text.substr(0, slash);
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto start = ParseUint(text.substr(0, dash));
  auto end = ParseUint(text.substr(dash + 1));
  if (!start || !end || *end < *start) return std::nullopt;
  return ContentRange{*start, *end};
}

std::optional<ByteRange> ParseRange(std::string_view text, uint64_t size) {
  if (!text.starts_with("bytes=")) return std::nullopt;
  text.remove_prefix(6);
  if (text.find(',') != std::string_view::npos) return std::nullopt;
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::string_view first = text.substr(0, dash);
  std::string_view last = text.substr(dash + 1);
  if (first.empty()) {
    auto suffix = ParseUint(last);
    if (!suffix) return std::nullopt;
    // Nothing of an empty blob can be sent: a 206 would have to say "bytes 0--1/0".
    if (*suffix == 0 || size == 0) return ByteRange{.unsatisfiable = true};
    uint64_t n = std::min(*suffix, size);
    return ByteRange{size - n, n};
  }
  auto start = ParseUint(first);
  if (!start) return std::nullopt;
  if (*start >= size) return ByteRange{.unsatisfiable = true};
  uint64_t end = size - 1;
  if (!last.empty()) {
    auto e = ParseUint(last);
    if (!e || *e < *start) return std::nullopt;
    end = std::min(*e, size - 1);
  }
  return ByteRange{*start, end - *start + 1};
}

ApiPath ParseApiPath(std::string_view path) {
  if (!path.starts_with("/v2/")) return {};
  std::string_view rest = path.substr(4);
  if (rest.empty()) return {Route::kBase};
  if (rest == "_catalog") return {Route::kCatalog};
  auto name_before = [&rest](std::string_view suffix_start) {
    return std::string(rest.substr(0, rest.size() - suffix_start.size()));
  };
  if (rest.ends_with("/tags/list")) {
    return {Route::kTags, name_before("/tags/list")};
  }
  if (rest.ends_with("/blobs/uploads/") || rest.ends_with("/blobs/uploads")) {
    std::string_view suffix = rest.ends_with('/') ? "/blobs/uploads/" : "/blobs/uploads";
    return {Route::kUploadStart, name_before(suffix)};
  }
  size_t last_slash = rest.rfind('/');
  if (last_slash == std::string_view::npos || last_slash == 0) return {};
  std::string_view last = rest.substr(last_slash + 1);
  std::string_view before = rest.substr(0, last_slash);
  auto ends = [&before](std::string_view word) -> std::optional<std::string> {
    if (before.size() > word.size() + 1 && before.ends_with(word) &&
        before[before.size() - word.size() - 1] == '/') {
      return std::string(before.substr(0, before.size() - word.size() - 1));
    }
    return std::nullopt;
  };
  if (auto name = ends("blobs/uploads")) return {Route::kUpload, *name, std::string(last)};
  if (auto name = ends("manifests")) return {Route::kManifest, *name, std::string(last)};
  if (auto name = ends("blobs")) return {Route::kBlob, *name, std::string(last)};
  if (auto name = ends("referrers")) return {Route::kReferrers, *name, std::string(last)};
  return {};
}

bool AcceptsMediaType(std::string_view accept, std::string_view media_type) {
  auto lower = [](std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  auto trim = [](std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
  };
  std::string wanted = lower(media_type);
  std::string_view type_slash = std::string_view(wanted).substr(0, wanted.find('/') + 1);
  bool any = false;
  while (!accept.empty()) {
    size_t comma = accept.find(',');
    std::string_view item = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
    std::string range = lower(trim(item.substr(0, item.find(';'))));
    if (range.empty()) continue;
    any = true;
    if (range == "*/*" || range == wanted) return true;
    if (range.ends_with("/*") && !type_slash.empty() &&
        std::string_view(range).substr(0, range.size() - 1) == type_slash) {
      return true;
    }
  }
  return !any;
}

}  // namespace plugctl::server
