// artifact_dir_fuzzer — feeds arbitrary bytes to UnpackDirectory as a directory layer (what
// `plugctl pull --all` unpacks from an ORAS-style layer): decompression (gzip, zstd or none),
// the tar reader, safe extraction and the title rule. Beyond not crashing: success leaves
// exactly dest/<title> (nothing else) and no symlink anywhere; failure leaves no dest; errors say
// something.
//
// Seeds: test/fuzz/corpus/artifact_dir/ (a plugctl-packed directory, hostile layers).
//   artifact_dir_fuzzer -max_total_time=30 /tmp/scratch-corpus test/fuzz/corpus/artifact_dir
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "plugctl/base/file.h"
#include "plugctl/transfer/artifact_dir.h"

namespace {

namespace fs = std::filesystem;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<plugctl::TempDir> scratch = [] {
    auto dir = plugctl::TempDir::Create("artifact-dir-fuzzer");
    if (!dir) __builtin_trap();
    return std::move(*dir);
  }();
  fs::path dest = scratch->path() / "dest";
  std::error_code ec;
  fs::remove_all(dest, ec);
  plugctl::StringReader in(std::string(reinterpret_cast<const char*>(data), size));
  // Small limits keep each run cheap; the checks are the same at any size.
  plugctl::Status st = plugctl::transfer::UnpackDirectory(
      in, "d", std::nullopt, dest, {.max_entries = 256, .max_bytes = 1 << 20}, "layer");
  if (!st) {
    Check(!st.error().message().empty());
    Check(!fs::exists(fs::symlink_status(dest, ec)));
    return 0;
  }
  size_t top = 0;
  for (fs::directory_iterator it(dest, ec), end; !ec && it != end; it.increment(ec)) {
    Check(it->path().filename() == "d");
    ++top;
  }
  Check(top == 1);
  for (fs::recursive_directory_iterator it(dest, ec), end; !ec && it != end; it.increment(ec)) {
    Check(!it->is_symlink());
  }
  return 0;
}
