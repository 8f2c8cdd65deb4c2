#include "support/tar_builder.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "plugctl/base/io.h"

namespace plugctl::test_support {

std::string GzipStored(std::string_view data) {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  uint32_t crc = 0xffffffffu;
  for (unsigned char ch : data) crc = table[(crc ^ ch) & 0xff] ^ (crc >> 8);
  crc ^= 0xffffffffu;
  auto le32 = [](uint32_t v) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
  };
  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(65535, data.size() - pos);
    const bool last = pos + n == data.size();
    out.push_back(last ? '\x01' : '\x00');
    out.push_back(static_cast<char>(n & 0xff));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(~n & 0xff));
    out.push_back(static_cast<char>((~n >> 8) & 0xff));
    out.append(data.substr(pos, n));
    pos += n;
  } while (pos < data.size());
  out += le32(crc) + le32(static_cast<uint32_t>(data.size()));
  return out;
}

std::string Tar(const TarFiles& files, archive::Compression compression) {
  StringWriter out;
  auto tar = archive::TarWriter::Create(out, {.compression = compression});
  EXPECT_TRUE(tar);
  if (!tar) return {};
  for (const auto& [name, content] : files) EXPECT_TRUE((*tar)->AddFile(name, content));
  EXPECT_TRUE((*tar)->Finish());
  return out.Take();
}

std::string TarGz(const TarFiles& files) { return Tar(files, archive::Compression::kGzip); }

std::map<std::string, std::string> DirectoryTree(const std::filesystem::path& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    std::string rel = std::filesystem::relative(e.path(), dir).string();
    if (e.is_directory()) {
      out[rel + "/"] = "";
    } else {
      std::ifstream in(e.path(), std::ios::binary);
      out[rel] = std::string(std::istreambuf_iterator<char>(in), {});
    }
  }
  return out;
}

}  // namespace plugctl::test_support
