#include "plugctl/transfer/artifact.h"

#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "plugctl/base/file.h"
#include "plugctl/oci/json.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/store/content.h"
#include "plugctl/store/memory_target.h"
#include "plugctl/transfer/copy.h"

namespace plugctl::transfer {
namespace {

namespace fs = std::filesystem;

class ArtifactTest : public ::testing::Test {
 protected:
  void SetUp() override { tmp_ = std::move(*TempDir::Create("plugctl-artifact-test")); }
  fs::path Write(const std::string& name, const std::string& content) {
    fs::path p = tmp_->path() / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  std::set<std::string> Names(const fs::path& dir) {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) out.insert(e.path().filename().string());
    return out;
  }
  // An image manifest in `mem` whose layers have these titles ("" for none).
  oci::Descriptor PutTitled(store::MemoryTarget& mem, const std::vector<std::string>& titles) {
    oci::ImageManifestSpec spec;
    spec.config = mem.Put(oci::kOciEmpty, "{}");
    for (size_t i = 0; i < titles.size(); ++i) {
      oci::Descriptor layer = mem.Put(kDefaultFileMediaType, "content " + std::to_string(i));
      if (!titles[i].empty()) layer.annotations[std::string(oci::kAnnotationTitle)] = titles[i];
      spec.layers.push_back(layer);
    }
    return mem.Put(oci::kOciManifest, oci::BuildImageManifest(spec));
  }
  std::unique_ptr<TempDir> tmp_;
};

TEST(ArtifactArgTest, FileAndMediaType) {
  auto plain = ParseArtifactFileArg("./README.md", kDefaultFileMediaType);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->path, fs::path("./README.md"));
  EXPECT_EQ(plain->media_type, kDefaultFileMediaType);

  auto typed = ParseArtifactFileArg("./README.md:application/vnd.module.wasm.doc.v1+markdown", "");
  ASSERT_TRUE(typed);
  EXPECT_EQ(typed->path, fs::path("./README.md"));
  EXPECT_EQ(typed->media_type, "application/vnd.module.wasm.doc.v1+markdown");

  auto params = ParseArtifactFileArg("a.txt:text/plain; charset=utf-8", "");
  ASSERT_TRUE(params);
  EXPECT_EQ(params->media_type, "text/plain; charset=utf-8");

  for (const char* bad : {":text/plain", "a.txt:", "a.txt:plain", "a:b:c/d", "a.txt:text/",
                          "a.txt:/plain", "a.txt:te xt/plain"}) {
    auto r = ParseArtifactFileArg(bad, kDefaultFileMediaType);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(ArtifactArgTest, Annotations) {
  auto kv = ParseAnnotationArg("k=v=w");
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->first, "k");
  EXPECT_EQ(kv->second, "v=w");
  EXPECT_TRUE(ParseAnnotationArg("k="));
  EXPECT_FALSE(ParseAnnotationArg("=v"));
  EXPECT_FALSE(ParseAnnotationArg("k"));

  auto file = ParseAnnotationFile(
      R"({"$manifest": {"a": "1"}, "$config": {"c": "2"}, "README.md": {"d": "3"}})", "ann.json");
  ASSERT_TRUE(file) << file.error().message();
  EXPECT_EQ(file->manifest.at("a"), "1");
  EXPECT_EQ(file->config.at("c"), "2");
  EXPECT_EQ(file->files.at("README.md").at("d"), "3");

  for (const char* bad : {"[]", "{\"$manifest\": []}", "{\"x\": {\"k\": 1}}", "not json",
                          "{\"$manifest\": {\"k\": \"v\"}"}) {
    auto r = ParseAnnotationFile(bad, "ann.json");
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message().find("ann.json"), std::string::npos) << r.error().message();
  }
}

TEST_F(ArtifactTest, BuildsOrasShapeAndPullsBack) {
  fs::path readme = Write("README.md", "# hi\n");
  fs::path data = Write("data.bin", std::string(1000, 'x'));
  ArtifactSpec spec;
  spec.files = {{readme, "application/vnd.module.wasm.doc.v1+markdown"},
                {data, std::string(kDefaultFileMediaType)}};
  spec.annotations.manifest["k"] = "v";
  spec.annotations.files["data.bin"]["note"] = "n";
  spec.created = 0;
  auto built = BuildArtifact(spec);
  ASSERT_TRUE(built) << built.error().message();

  auto json = oci::ParseOrderedJson(built->manifest_raw, "manifest");
  ASSERT_TRUE(json);
  EXPECT_EQ((*json)["mediaType"], std::string(oci::kOciManifest));
  EXPECT_EQ((*json)["artifactType"], std::string(kUnknownArtifactType));
  EXPECT_EQ((*json)["config"]["mediaType"], std::string(oci::kOciEmpty));
  EXPECT_EQ((*json)["config"]["digest"],
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  EXPECT_EQ((*json)["config"]["size"], 2);
  ASSERT_EQ((*json)["layers"].size(), 2u);
  EXPECT_EQ((*json)["layers"][0]["annotations"][std::string(oci::kAnnotationTitle)], "README.md");
  EXPECT_EQ((*json)["layers"][1]["annotations"]["note"], "n");
  EXPECT_EQ((*json)["annotations"]["k"], "v");
  EXPECT_EQ((*json)["annotations"][std::string(oci::kAnnotationCreated)], "1970-01-01T00:00:00Z");
  EXPECT_FALSE(json->contains("subject"));

  store::MemoryTarget mem;
  auto copied = CopyGraph(*built->source, built->manifest, mem, {.tags = {"v1"}});
  ASSERT_TRUE(copied) << copied.error().message();
  auto root = mem.Resolve("v1");
  ASSERT_TRUE(root);
  auto pulled = PullArtifactFiles(mem, *root, tmp_->path() / "out", {});
  ASSERT_TRUE(pulled) << pulled.error().message();
  EXPECT_EQ(pulled->artifact_type, kUnknownArtifactType);
  EXPECT_EQ(Names(tmp_->path() / "out"), (std::set<std::string>{"README.md", "data.bin"}));
  EXPECT_EQ(*ReadFileBounded(tmp_->path() / "out/data.bin", 4096), std::string(1000, 'x'));

  // Again: existing files are refused without force, replaced with it.
  auto again = PullArtifactFiles(mem, *root, tmp_->path() / "out", {});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  auto forced = PullArtifactFiles(mem, *root, tmp_->path() / "out", {.force = true});
  ASSERT_TRUE(forced) << forced.error().message();
  EXPECT_TRUE(forced->files[0].replaced);
}

TEST_F(ArtifactTest, ConfigAndSubject) {
  fs::path config = Write("config.json", "{\"a\":1}");
  fs::path file = Write("sbom.json", "{}");
  ArtifactSpec spec;
  spec.files = {{file, "application/spdx+json"}};
  spec.config = ArtifactFile{config, std::string(kDefaultConfigMediaType)};
  spec.subject = oci::Descriptor::For(oci::kOciManifest, "x");
  auto built = BuildArtifact(spec);
  ASSERT_TRUE(built) << built.error().message();
  auto m = oci::Manifest::Parse(built->manifest_raw);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->artifact_type, "");  // a real config says what it is
  EXPECT_EQ(m->config->media_type, kDefaultConfigMediaType);
  ASSERT_TRUE(m->subject);
  EXPECT_EQ(m->subject->digest, spec.subject->digest);
  EXPECT_FALSE(m->annotations.contains(std::string(oci::kAnnotationCreated)));
}

TEST_F(ArtifactTest, RefusesDirectoriesDuplicatesAndUnknownAnnotatedFiles) {
  ASSERT_TRUE(CreateDirectories(tmp_->path() / "dir"));
  ASSERT_TRUE(CreateDirectories(tmp_->path() / "sub"));
  fs::path a = Write("a.txt", "a");
  fs::path a2 = Write("sub/a.txt", "b");

  ArtifactSpec dir_config{.files = {{a, "text/plain"}}};
  dir_config.config = ArtifactFile{tmp_->path() / "dir", "text/plain"};
  auto dir = BuildArtifact(dir_config);
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().message().find("is a directory"), std::string::npos);

  auto dup = BuildArtifact({.files = {{a, "text/plain"}, {a2, "text/plain"}}});
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message().find("two files or directories are named a.txt"),
            std::string::npos);

  auto missing = BuildArtifact({.files = {{tmp_->path() / "nope", "text/plain"}}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);

  ArtifactSpec spec{.files = {{a, "text/plain"}}};
  spec.annotations.files["b.txt"]["k"] = "v";
  auto unknown = BuildArtifact(spec);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("b.txt"), std::string::npos);

  EXPECT_FALSE(BuildArtifact({}));
}

TEST_F(ArtifactTest, ChangedFileFailsThePush) {
  fs::path a = Write("a.txt", "before");
  auto built = BuildArtifact({.files = {{a, "text/plain"}}});
  ASSERT_TRUE(built);
  Write("a.txt", "after!");
  store::MemoryTarget mem;
  auto copied = CopyGraph(*built->source, built->manifest, mem, {.tags = {"v1"}});
  ASSERT_FALSE(copied);
  EXPECT_EQ(copied.error().code(), ErrorCode::kDataLoss);
  EXPECT_FALSE(mem.Resolve("v1"));
}

TEST_F(ArtifactTest, PullRefusesUnsafeTitlesAndWritesNothing) {
  for (const std::vector<std::string>& titles :
       std::vector<std::vector<std::string>>{{"ok.txt", "../evil"},
                                             {"ok.txt", "/etc/passwd"},
                                             {"ok.txt", "sub//file"},
                                             {"ok.txt", "sub/../../x"},
                                             {"ok.txt", "sub/"},
                                             {"ok.txt", "a\\b"},
                                             {"sub", "sub/file"},
                                             {"ok.txt", ".."},
                                             {"ok.txt", "a\nb"},
                                             {"ok.txt", "ok.txt"}}) {
    store::MemoryTarget mem;
    oci::Descriptor root = PutTitled(mem, titles);
    fs::path out = tmp_->path() / "out";
    auto r = PullArtifactFiles(mem, root, out, {});
    ASSERT_FALSE(r) << titles[1];
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << r.error().message();
    EXPECT_FALSE(fs::exists(out)) << titles[1];
  }
}

// ORAS writes path titles below the output directory (official custom-response's wasm is
// titled bazel-bin/extensions/custom_response/custom_response.wasm); so does pull --all.
TEST_F(ArtifactTest, PullWritesPathTitlesBelowTheDirectory) {
  store::MemoryTarget mem;
  oci::Descriptor root = PutTitled(mem, {"a.txt", "bazel-bin/ext/x.wasm", "bazel-bin/y"});
  fs::path out = tmp_->path() / "out";
  auto r = PullArtifactFiles(mem, root, out, {});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(fs::is_regular_file(out / "bazel-bin/ext/x.wasm"));
  EXPECT_TRUE(fs::is_regular_file(out / "bazel-bin/y"));
  // A symlinked directory on the way is refused, even with --force, and nothing is written.
  fs::path out2 = tmp_->path() / "out2";
  ASSERT_TRUE(CreateDirectories(out2));
  ASSERT_TRUE(CreateDirectories(tmp_->path() / "victim"));
  fs::create_directory_symlink(tmp_->path() / "victim", out2 / "bazel-bin");
  auto refused = PullArtifactFiles(mem, root, out2, {.force = true});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition) << refused.error().message();
  EXPECT_TRUE(fs::is_empty(tmp_->path() / "victim"));
  EXPECT_FALSE(fs::exists(out2 / "a.txt"));
}

// A failure after a path title's directories were made takes them away again.
TEST_F(ArtifactTest, FailedPullRemovesTheDirectoriesItMade) {
  store::MemoryTarget mem;
  oci::Descriptor root = PutTitled(mem, {"deep/er/a.txt", "b.txt"});
  auto manifest = store::FetchManifest(mem, root);
  ASSERT_TRUE(manifest);
  mem.Corrupt(manifest->layers[1].digest, "content X");
  fs::path out = tmp_->path() / "out";
  ASSERT_TRUE(CreateDirectories(out));
  ASSERT_FALSE(PullArtifactFiles(mem, root, out, {}));
  EXPECT_TRUE(fs::is_empty(out));
}

TEST_F(ArtifactTest, PullRefusesSymlinksEvenWithForce) {
  store::MemoryTarget mem;
  oci::Descriptor root = PutTitled(mem, {"a.txt", "b.txt"});
  fs::path out = tmp_->path() / "out";
  ASSERT_TRUE(CreateDirectories(out));
  fs::create_symlink(tmp_->path() / "victim", out / "b.txt");
  auto r = PullArtifactFiles(mem, root, out, {.force = true});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(fs::exists(tmp_->path() / "victim"));
  EXPECT_FALSE(fs::exists(out / "a.txt"));
}

TEST_F(ArtifactTest, PullVerifiesAndLeavesNothingOnCorruption) {
  store::MemoryTarget mem;
  oci::Descriptor root = PutTitled(mem, {"a.txt", "", "b.txt"});
  auto manifest = store::FetchManifest(mem, root);
  ASSERT_TRUE(manifest);
  mem.Corrupt(manifest->layers[2].digest, "content X");
  fs::path out = tmp_->path() / "out";
  auto r = PullArtifactFiles(mem, root, out, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss) << r.error().message();
  EXPECT_FALSE(fs::exists(out));

  store::MemoryTarget clean;
  oci::Descriptor ok = PutTitled(clean, {"a.txt", "", "b.txt"});
  auto pulled = PullArtifactFiles(clean, ok, out, {});
  ASSERT_TRUE(pulled) << pulled.error().message();
  EXPECT_EQ(pulled->untitled, 1u);
  EXPECT_EQ(Names(out), (std::set<std::string>{"a.txt", "b.txt"}));

  store::MemoryTarget none;
  auto nothing = PullArtifactFiles(none, PutTitled(none, {"", ""}), tmp_->path() / "o2", {});
  ASSERT_FALSE(nothing);
  EXPECT_EQ(nothing.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace plugctl::transfer
