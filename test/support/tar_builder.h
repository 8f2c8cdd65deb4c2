// support/tar_builder.h — tar and gzip bytes for tests: deterministic archives written by
// plugctl's own TarWriter, and gzip streams of any bytes (for hand-made tars, see raw_tar.h).
//
//   std::string layer = test_support::TarGz({{"plugin.wasm", wasm}});
//   std::string hostile = test_support::GzipStored(archive::testing::RawTar({{.name = "../x"}}));
//
// Plain functions; thread-safe. Failures of the writer are reported as gtest failures.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugctl/archive/tar.h"

namespace plugctl::test_support {

using TarFiles = std::vector<std::pair<std::string, std::string>>;

// gzip (RFC 1952) of `data` in stored deflate blocks: lets tests gzip hand-made tar streams
// (TarWriter refuses "./", "../" and absolute paths and links, which real or hostile layers
// contain).
std::string GzipStored(std::string_view data);

// A deterministic tar of `files` (name, content), compressed as asked.
std::string Tar(const TarFiles& files, archive::Compression compression);

// The same, gzip-compressed.
std::string TarGz(const TarFiles& files);

// Every path below `dir`, relative (directories end in '/', mapped to ""), with each file's
// bytes: what an unpacked tree holds, for comparing two trees.
std::map<std::string, std::string> DirectoryTree(const std::filesystem::path& dir);

}  // namespace plugctl::test_support
