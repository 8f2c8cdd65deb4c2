// Seeds for test/fuzz/archive_fuzzer.cc, written with the real writers so they stay valid.
//
// By default this checks that every seed in test/fuzz/corpus/archive/ still matches what the
// writers produce. To (re)generate them:
//   PLUGCTL_REGENERATE_FUZZ_CORPUS=1 plugctl_store_test --gtest_filter='ArchiveFuzzCorpus.*'
#include <cstdlib>
#include <map>

#include "support/raw_tar.h"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "plugctl/store/docker_archive.h"
#include "plugctl/store/oci_archive.h"
#include "plugctl/store/store_test_util.h"

namespace plugctl::store {
namespace {

using archive::testing::RawTar;
using testing::MakeTestImage;
using testing::PushImage;
using testing::TestImage;

const fs::path kCorpusDir = fs::path(PLUGCTL_SOURCE_DIR) / "test/fuzz/corpus/archive";

// Seed name -> bytes.
std::map<std::string, std::string> BuildSeeds(const fs::path& scratch) {
  std::map<std::string, std::string> seeds;
  TestImage image = MakeTestImage("s", /*docker=*/true, /*gzip=*/true);

  fs::path oci = scratch / "oci.tar";
  {
    auto out = OpenOciArchive(oci, OpenMode::kWrite);
    EXPECT_TRUE(out);
    EXPECT_TRUE(PushImage(**out, image));
    EXPECT_TRUE((*out)->Tag(image.desc(), "x:1"));
    EXPECT_TRUE((*out)->Commit());
  }
  seeds["oci_archive.tar"] = *ReadFileBounded(oci, 1 << 20);

  fs::path docker = scratch / "docker.tar";
  {
    auto out = OpenDockerArchive(docker, OpenMode::kWrite);
    EXPECT_TRUE(out);
    EXPECT_TRUE(PushImage(**out, image));
    EXPECT_TRUE((*out)->Tag(image.desc(), "x:1"));
    EXPECT_TRUE((*out)->Commit());
  }
  seeds["docker_archive.tar"] = *ReadFileBounded(docker, 1 << 20);

  TestImage legacy = MakeTestImage("l", /*docker=*/true, /*gzip=*/false);
  nlohmann::json manifest = nlohmann::json::array(
      {{{"Config", "c.json"}, {"RepoTags", {"x:1"}}, {"Layers", {"a/layer.tar", "b/layer.tar"}}}});
  seeds["docker_save_legacy.tar"] =
      RawTar({{.name = "a/layer.tar", .data = legacy.layers[0].bytes},
              {.name = "b/layer.tar", .type = '2', .link = "../a/layer.tar"},
              {.name = "c.json", .data = legacy.config.bytes},
              {.name = "manifest.json", .data = manifest.dump()},
              {.name = "repositories", .data = R"({"x":{"1":"a"}})"}});
  seeds["escape.tar"] = RawTar({{.name = "../evil", .data = "x"}});
  return seeds;
}

TEST(ArchiveFuzzCorpus, SeedsAreCurrent) {
  auto scratch = TempDir::Create("fuzz-corpus");
  ASSERT_TRUE(scratch);
  std::map<std::string, std::string> seeds = BuildSeeds((*scratch)->path());
  const char* regenerate = std::getenv("PLUGCTL_REGENERATE_FUZZ_CORPUS");
  if (regenerate != nullptr && *regenerate != '\0') {
    ASSERT_TRUE(CreateDirectories(kCorpusDir));
    for (const auto& [name, bytes] : seeds) ASSERT_TRUE(WriteFileAtomic(kCorpusDir / name, bytes));
    return;
  }
  for (const auto& [name, bytes] : seeds) {
    auto stored = ReadFileBounded(kCorpusDir / name, 1 << 20);
    ASSERT_TRUE(stored) << "missing seed " << name << "; regenerate (see file comment)";
    EXPECT_EQ(*stored, bytes) << "seed " << name << " is stale; regenerate (see file comment)";
  }
}

}  // namespace
}  // namespace plugctl::store
