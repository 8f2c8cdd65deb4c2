#include "plugctl/server/api_parse.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <iterator>

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

bool IfNoneMatchHits(std::string_view header, std::string_view etag) {
  size_t pos = 0;
  while (pos < header.size()) {
    while (pos < header.size() &&
           (header[pos] == ' ' || header[pos] == ',' || header[pos] == '\t')) {
      ++pos;
    }
    if (pos >= header.size()) break;
    if (header[pos] == '*') return true;
    if (header.substr(pos).starts_with("W/")) pos += 2;
    if (pos >= header.size() || header[pos] != '"') return false;
    size_t close = header.find('"', pos + 1);
    if (close == std::string_view::npos) return false;
    if (header.substr(pos, close - pos + 1) == etag) return true;
    pos = close + 1;
  }
  return false;
}

std::optional<int64_t> ParseHttpDate(std::string_view text) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": fixed width, so it is read by position.
  static constexpr std::string_view kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  if (std::find(std::begin(kDays), std::end(kDays), text.substr(0, 3)) == std::end(kDays)) {
    return std::nullopt;
  }
  auto month = std::find(std::begin(kMonths), std::end(kMonths), text.substr(8, 3));
  if (month == std::end(kMonths)) return std::nullopt;
  auto num = [&](size_t pos, size_t n) -> std::optional<int> {
    int value = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  auto day = num(5, 2), year = num(12, 4), hour = num(17, 2), minute = num(20, 2),
       second = num(23, 2);
  // Nothing here predates 1970; earlier years would not format back the same.
  if (!day || !year || !hour || !minute || !second || *year < 1970 || *day < 1 || *day > 31 ||
      *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  // Days since the epoch (Howard Hinnant's days_from_civil), so no time zone is involved.
  int y = *year;
  int m = static_cast<int>(month - std::begin(kMonths)) + 1;
  y -= m <= 2 ? 1 : 0;
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + *day - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = static_cast<int64_t>(era) * 146097 + doe - 719468;
  return days * 86400 + *hour * 3600 + *minute * 60 + *second;
}

std::string FormatHttpDate(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "Thu, 01 Jan 1970 00:00:00 GMT";
  char buffer[64];
  size_t n = std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buffer, n);
}

std::optional<PluginPath> ParsePluginPath(std::string_view path) {
  constexpr std::string_view kRoot = "/plugins";
  if (!path.starts_with(kRoot)) return std::nullopt;
  std::string_view rest = path.substr(kRoot.size());
  PluginPath out;
  if (rest.empty() || rest == "/") {
    out.count = 1;
    return out;
  }
  if (rest.front() != '/') return std::nullopt;
  rest.remove_prefix(1);
  size_t start = 0;
  while (true) {
    size_t slash = rest.find('/', start);
    if (out.count == 3) return std::nullopt;
    out.part[out.count++] = rest.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (size_t i = 0; i + 1 < out.count; ++i) {
    if (out.part[i].empty()) return std::nullopt;
  }
  return out;
}

}  // namespace plugctl::server
