// archive_fuzzer — feeds arbitrary bytes to the docker-archive and oci-archive readers as a
// file, then resolves and fetches everything they offer (bounded), as a copy would.
//
// Seeds: test/fuzz/corpus/archive/ (regenerate with
//   PLUGCTL_REGENERATE_FUZZ_CORPUS=1 plugctl_store_test --gtest_filter='ArchiveFuzzCorpus.*').
//   archive_fuzzer -max_total_time=30 /tmp/scratch-corpus test/fuzz/corpus/archive
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/file.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/store/docker_archive.h"
#include "plugctl/store/oci_archive.h"

namespace {

using plugctl::Reader;
using plugctl::Result;
using plugctl::oci::Descriptor;
using plugctl::store::Target;

constexpr size_t kMaxRefs = 16;
constexpr size_t kMaxChildren = 32;
constexpr int kMaxDepth = 3;
constexpr size_t kMaxBlobBytes = 1 << 20;

// Reads at most kMaxBlobBytes; the readers must neither crash nor hang on any content.
void Drain(Target& target, const Descriptor& desc) {
  Result<std::unique_ptr<Reader>> reader = target.Fetch(desc);
  if (!reader) return;
  char buf[16 * 1024];
  size_t total = 0;
  while (total < kMaxBlobBytes) {
    Result<size_t> n = (*reader)->Read(std::span<char>(buf, sizeof(buf)));
    if (!n || *n == 0) return;
    total += *n;
  }
}

void Walk(Target& target, const Descriptor& desc, int depth, std::set<std::string>& seen) {
  if (depth > kMaxDepth || !seen.insert(desc.digest.ToString()).second) return;
  (void)target.Exists(desc);
  if (!plugctl::oci::IsManifestOrIndexType(desc.media_type)) {
    Drain(target, desc);
    return;
  }
  Result<std::unique_ptr<Reader>> reader = target.Fetch(desc);
  if (!reader) return;
  Result<std::string> raw =
      plugctl::ReadAllBounded(**reader, plugctl::oci::kMaxManifestBytes, "manifest");
  if (!raw) return;
  Result<plugctl::oci::Manifest> m =
      plugctl::oci::Manifest::Parse(std::move(*raw), desc.media_type);
  if (!m) return;
  std::vector<Descriptor> children = m->is_index() ? m->manifests : m->layers;
  if (m->config) children.insert(children.begin(), *m->config);
  if (children.size() > kMaxChildren) children.resize(kMaxChildren);
  for (const Descriptor& child : children) Walk(target, child, depth + 1, seen);
}

void Exercise(Target& target) {
  std::vector<std::string> refs = {""};
  if (Result<std::vector<std::string>> tags = target.Tags()) {
    for (const std::string& tag : *tags) {
      if (refs.size() >= kMaxRefs) break;
      refs.push_back(tag);
    }
  }
  std::set<std::string> seen;
  for (const std::string& ref : refs) {
    Result<Descriptor> desc = target.Resolve(ref);
    if (!desc) continue;
    (void)target.Resolve(desc->digest.ToString());
    Walk(target, *desc, 0, seen);
  }
  (void)target.Resolve("sha256:0000000000000000000000000000000000000000000000000000000000000000");
  (void)target.Commit();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<plugctl::TempDir> scratch = [] {
    auto dir = plugctl::TempDir::Create("archive-fuzzer");
    if (!dir) __builtin_trap();
    return std::move(*dir);
  }();
  plugctl::fs::path file = scratch->path() / "input.tar";
  // A plain write: WriteFileAtomic's fsync would dominate every run.
  FILE* out = std::fopen(file.c_str(), "wb");
  if (out == nullptr) return 0;
  bool ok = std::fwrite(data, 1, size, out) == size;
  ok = std::fclose(out) == 0 && ok;
  if (!ok) return 0;
  if (auto target = plugctl::store::OpenDockerArchive(file, plugctl::store::OpenMode::kRead)) {
    Exercise(**target);
  }
  if (auto target = plugctl::store::OpenOciArchive(file, plugctl::store::OpenMode::kRead)) {
    Exercise(**target);
  }
  return 0;
}
