// support/raw_tar.h — builds ustar bytes by hand, for tests and fuzz seeds
// only.
//
// TarWriter refuses hostile paths and link entries, which is exactly what tests of readers need
// to feed them. This writes whatever it is told:
//
//   std::string tar = archive::testing::RawTar({
//       {.name = "../evil", .data = "x"},
//       {.name = "link", .type = '2', .link = "/etc/passwd"},
//   });
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace plugctl::archive::testing {

struct RawTarEntry {
  std::string name;
  // ustar typeflag: '0' file, '1' hardlink, '2' symlink, '3' char device, '5' directory,
  // 'x' pax extended header (data holds the records).
  char type = '0';
  std::string data = {};
  std::string link = {};
  // When set, the size field claims this instead of data.size() (for truncation tests).
  int64_t claimed_size = -1;
};

// A pax record "<len> key=value\n" (len counts the whole record).
inline std::string PaxRecord(const std::string& key, const std::string& value) {
  std::string body = " " + key + "=" + value + "\n";
  size_t len = body.size() + 1;
  while (std::to_string(len).size() + body.size() != len) ++len;
  return std::to_string(len) + body;
}

inline std::string RawTarHeader(const RawTarEntry& entry) {
  std::string h(512, '\0');
  auto put = [&h](size_t offset, size_t width, const std::string& value) {
    std::memcpy(&h[offset], value.data(), std::min(width, value.size()));
  };
  auto octal = [&h](size_t offset, size_t width, uint64_t value) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%0*llo", static_cast<int>(width - 1),
                  static_cast<unsigned long long>(value));
    std::memcpy(&h[offset], buf, width - 1);
  };
  put(0, 100, entry.name);
  octal(100, 8, entry.type == '5' ? 0755 : 0644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12,
        entry.claimed_size >= 0 ? static_cast<uint64_t>(entry.claimed_size) : entry.data.size());
  octal(136, 12, 0);
  h[156] = entry.type;
  put(157, 100, entry.link);
  put(257, 6, std::string("ustar\0", 6));
  put(263, 2, "00");
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%06o", sum);
  std::memcpy(&h[148], buf, 6);
  h[154] = '\0';
  h[155] = ' ';
  return h;
}

// Entries followed by the two zero blocks that end an archive (unless `terminate` is false).
inline std::string RawTar(const std::vector<RawTarEntry>& entries, bool terminate = true) {
  std::string out;
  for (const RawTarEntry& entry : entries) {
    out += RawTarHeader(entry);
    out += entry.data;
    out.append((512 - entry.data.size() % 512) % 512, '\0');
  }
  if (terminate) out.append(1024, '\0');
  return out;
}

}  // namespace plugctl::archive::testing
