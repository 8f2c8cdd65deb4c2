#include "plugctl/transfer/artifact_dir.h"

#include <fstream>
#include <map>

#include "support/raw_tar.h"
#include "support/tar_builder.h"
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "plugctl/base/file.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/store/memory_target.h"
#include "plugctl/transfer/artifact.h"
#include "plugctl/transfer/copy.h"

namespace plugctl::transfer {
namespace {

namespace fs = std::filesystem;
using archive::testing::RawTar;
using archive::testing::RawTarEntry;

using test_support::DirectoryTree;

class ArtifactDirTest : public ::testing::Test {
 protected:
  void SetUp() override { tmp_ = std::move(*TempDir::Create("plugctl-artifact-dir-test")); }
  fs::path Write(const std::string& name, const std::string& content) {
    fs::path p = tmp_->path() / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  // A sample tree at tmp/src/docs.
  fs::path SampleTree() {
    Write("src/docs/a.txt", "alpha");
    Write("src/docs/with space.md", "spaced");
    Write("src/docs/sub/deeper/b.bin", std::string(300000, 'b'));
    fs::create_directories(tmp_->path() / "src/docs/empty");
    return tmp_->path() / "src/docs";
  }
  Status Unpack(const std::string& bytes, const std::string& title,
                const std::optional<oci::Digest>& digest, const fs::path& dest) {
    StringReader in(bytes);
    return UnpackDirectory(in, title, digest, dest, {}, "layer");
  }
  std::unique_ptr<TempDir> tmp_;
};

TEST_F(ArtifactDirTest, PackIsReproducibleAndUnpacksToTheSameTree) {
  fs::path docs = SampleTree();
  auto first = PackDirectory(docs, "docs", tmp_->path() / "1.tgz");
  ASSERT_TRUE(first) << first.error().message();
  auto second = PackDirectory(docs, "docs", tmp_->path() / "2.tgz");
  ASSERT_TRUE(second);
  EXPECT_EQ(first->digest, second->digest);
  EXPECT_EQ(first->tar_digest, second->tar_digest);
  std::string gz = *ReadFileBounded(tmp_->path() / "1.tgz", 1 << 20);
  EXPECT_EQ(oci::Digest::Of(gz), first->digest);
  EXPECT_EQ(static_cast<int64_t>(gz.size()), first->size);

  // Entries are DIRNAME and DIRNAME/..., sorted, files 0644.
  auto tar = archive::TarReader::Open(tmp_->path() / "1.tgz");
  ASSERT_TRUE(tar);
  std::vector<std::string> names;
  for (;;) {
    auto e = (*tar)->Next();
    ASSERT_TRUE(e);
    if (!*e) break;
    names.push_back((*e)->path);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"docs/", "docs/a.txt", "docs/empty/", "docs/sub/",
                                             "docs/sub/deeper/", "docs/sub/deeper/b.bin",
                                             "docs/with space.md"}));

  ASSERT_TRUE(Unpack(gz, "docs", first->tar_digest, tmp_->path() / "out"));
  EXPECT_EQ(DirectoryTree(tmp_->path() / "out/docs"), DirectoryTree(docs));
}

TEST_F(ArtifactDirTest, PackRefusesSymlinksAndSpecialFiles) {
  fs::path docs = SampleTree();
  fs::create_symlink("/etc/passwd", docs / "link");
  auto linked = PackDirectory(docs, "docs", tmp_->path() / "x.tgz");
  ASSERT_FALSE(linked);
  EXPECT_NE(linked.error().message().find("is a symlink"), std::string::npos);
  fs::remove(docs / "link");
  ASSERT_EQ(mkfifo((docs / "fifo").c_str(), 0600), 0);
  auto fifo = PackDirectory(docs, "docs", tmp_->path() / "x.tgz");
  ASSERT_FALSE(fifo);
  EXPECT_NE(fifo.error().message().find("special file"), std::string::npos);
  EXPECT_FALSE(fs::exists(tmp_->path() / "x.tgz"));
}

TEST_F(ArtifactDirTest, UnpackRefusesHostileLayersAndLeavesNothing) {
  std::string ok_tar = RawTar({{.name = "d/", .type = '5'}, {.name = "d/f", .data = "x"}});
  struct Case {
    const char* name;
    std::string tar;
    std::optional<oci::Digest> digest;
    const char* message;
  };
  std::vector<Case> cases = {
      {"dotdot", RawTar({{.name = "d/../../escape", .data = "x"}}), {}, ".."},
      {"absolute", RawTar({{.name = "/abs", .data = "x"}}), {}, "/abs"},
      {"outside title",
       RawTar({{.name = "d/f", .data = "x"}, {.name = "other/f", .data = "y"}}),
       {},
       "\"other\" is not inside \"d/\""},
      {"outside dir",
       RawTar({{.name = "d/f", .data = "x"}, {.name = "e/", .type = '5'}}),
       {},
       "not inside"},
      {"symlink out",
       RawTar({{.name = "d/etc", .type = '2', .link = "/etc"},
               {.name = "d/etc/passwd", .data = "owned"}}),
       {},
       "d/etc"},
      {"device", RawTar({{.name = "d/dev", .type = '3'}}), {}, "d/dev"},
      {"nothing named title", RawTar({}), {}, "nothing named"},
      {"wrong content digest", ok_tar, oci::Digest::Of("other"), "io.deis.oras.content.digest"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    fs::path dest = tmp_->path() / "dest";
    Status st = Unpack(test_support::GzipStored(c.tar), "d", c.digest, dest);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message().find(c.message), std::string::npos) << st.error().message();
    EXPECT_EQ(st.error().message().find('\n'), std::string::npos);
    EXPECT_FALSE(fs::exists(dest));
    EXPECT_EQ(DirectoryTree(tmp_->path()), (std::map<std::string, std::string>{}));
  }
  // The right digest of the same tar passes; so does no digest.
  ASSERT_TRUE(
      Unpack(test_support::GzipStored(ok_tar), "d", oci::Digest::Of(ok_tar), tmp_->path() / "ok"));
  EXPECT_EQ(*ReadFileBounded(tmp_->path() / "ok/d/f", 10), "x");
}

TEST_F(ArtifactDirTest, UnpackBoundsSizes) {
  std::string tar = RawTar({{.name = "d/big", .data = std::string(5000, 'z')}});
  StringReader in(test_support::GzipStored(tar));
  Status st =
      UnpackDirectory(in, "d", std::nullopt, tmp_->path() / "dest", {.max_bytes = 4096}, "layer");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_FALSE(fs::exists(tmp_->path() / "dest"));
}

TEST_F(ArtifactDirTest, PushAndPullAllRoundTripADirectory) {
  fs::path docs = SampleTree();
  fs::path readme = Write("README.md", "# hi\n");
  auto built = BuildArtifact({.files = {{docs / "", std::string(kDefaultFileMediaType)},
                                        {readme, std::string(kDefaultFileMediaType)}}});
  ASSERT_TRUE(built) << built.error().message();
  const oci::Descriptor& layer = built->layers[0];
  EXPECT_EQ(layer.media_type, kDefaultDirectoryMediaType);
  EXPECT_EQ(layer.Title(), "docs");
  EXPECT_EQ(layer.annotations.at(std::string(kOrasUnpackAnnotation)), "true");
  EXPECT_EQ(layer.annotations.at(std::string(kOrasContentDigestAnnotation)).substr(0, 7),
            "sha256:");

  store::MemoryTarget mem;
  ASSERT_TRUE(CopyGraph(*built->source, built->manifest, mem, {.tags = {"v1"}}));
  auto root = mem.Resolve("v1");
  ASSERT_TRUE(root);
  fs::path out = tmp_->path() / "out";
  auto pulled = PullArtifactFiles(mem, *root, out, {});
  ASSERT_TRUE(pulled) << pulled.error().message();
  EXPECT_TRUE(pulled->files[0].unpacked);
  EXPECT_EQ(DirectoryTree(out / "docs"), DirectoryTree(docs));
  EXPECT_EQ(*ReadFileBounded(out / "README.md", 100), "# hi\n");
  // Nothing else in out: the staging directory is gone.
  EXPECT_EQ(std::distance(fs::directory_iterator(out), fs::directory_iterator()), 2);

  // Again: refused without force; with force the directory is replaced, not merged.
  Write("out/docs/stale.txt", "old");
  auto again = PullArtifactFiles(mem, *root, out, {});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  auto forced = PullArtifactFiles(mem, *root, out, {.force = true});
  ASSERT_TRUE(forced) << forced.error().message();
  EXPECT_TRUE(forced->files[0].replaced);
  EXPECT_EQ(DirectoryTree(out / "docs"), DirectoryTree(docs));

  // --no-unpack: the blob itself under the title.
  auto raw = PullArtifactFiles(mem, *root, tmp_->path() / "raw", {.unpack = false});
  ASSERT_TRUE(raw) << raw.error().message();
  EXPECT_FALSE(raw->files[0].unpacked);
  EXPECT_EQ(oci::Digest::Of(*ReadFileBounded(tmp_->path() / "raw/docs", 1 << 20)), layer.digest);
}

TEST_F(ArtifactDirTest, PullAllRefusesABadContentDigestAndWritesNothing) {
  std::string tar = RawTar({{.name = "d/f", .data = "x"}});
  store::MemoryTarget mem;
  oci::ImageManifestSpec spec;
  spec.config = mem.Put(oci::kOciEmpty, "{}");
  oci::Descriptor layer = mem.Put(kDefaultDirectoryMediaType, test_support::GzipStored(tar));
  layer.annotations[std::string(oci::kAnnotationTitle)] = "d";
  layer.annotations[std::string(kOrasUnpackAnnotation)] = "true";
  layer.annotations[std::string(kOrasContentDigestAnnotation)] = oci::Digest::Of("x").ToString();
  spec.layers.push_back(layer);
  oci::Descriptor root = mem.Put(oci::kOciManifest, oci::BuildImageManifest(spec));
  auto pulled = PullArtifactFiles(mem, root, tmp_->path() / "out", {});
  ASSERT_FALSE(pulled);
  EXPECT_EQ(pulled.error().code(), ErrorCode::kDataLoss);
  EXPECT_FALSE(fs::exists(tmp_->path() / "out"));

  spec.layers[0].annotations[std::string(kOrasContentDigestAnnotation)] = "sha256:nothex";
  root = mem.Put(oci::kOciManifest, oci::BuildImageManifest(spec));
  auto malformed = PullArtifactFiles(mem, root, tmp_->path() / "out", {});
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace plugctl::transfer
