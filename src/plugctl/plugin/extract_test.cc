#include "plugctl/plugin/extract.h"

#include <array>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "support/memory_images.h"
#include "support/raw_tar.h"
#include "support/tar_builder.h"
#include "support/wasm_builder.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plugctl/archive/tar.h"
#include "plugctl/base/file.h"
#include "plugctl/base/io.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/store/memory_target.h"

namespace plugctl::plugin {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
namespace fs = std::filesystem;

// --- Fixtures --------------------------------------------------------------------------------

// A minimal proxy-wasm module; `tag` becomes a custom section so modules differ.
std::string WasmModule(std::string_view tag = "a") {
  return test_support::ProxyWasmModule(test_support::kProxyWasmExports,
                                       test_support::CustomSection("tag", tag));
}

using test_support::GzipStored;
using test_support::Tar;
using test_support::TarGz;
using Files = test_support::TarFiles;

// A gzipped tar with entry names written as given ("./plugin.wasm", "../plugin.wasm").
std::string RawTarGz(const std::vector<archive::testing::RawTarEntry>& entries) {
  return GzipStored(archive::testing::RawTar(entries));
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::set<std::string> DirNames(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.insert(e.path().filename().string());
  return out;
}

std::vector<std::string> Names(const ExtractResult& r) {
  std::vector<std::string> out;
  for (const auto& f : r.files) out.push_back(f.name);
  return out;
}

const std::string kReadme = "# plugin\n";
const std::string kReadmeEn = "# plugin (English)\n";
const std::string kSpec = "apiVersion: 1.0.0\ninfo:\n  name: x\n";

class ExtractTest : public ::testing::Test, protected test_support::MemoryImages {
 protected:
  void SetUp() override {
    auto tmp = TempDir::Create("plugctl-extract-test");
    ASSERT_TRUE(tmp);
    tmp_ = std::move(*tmp);
    out_ = tmp_->path() / "out";
  }

  ExtractResult Extract(const oci::Descriptor& root, const ExtractOptions& options = {}) {
    auto r = ExtractPlugin(target_, root, out_, options);
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : ExtractResult{};
  }
  Error ExtractError(const oci::Descriptor& root, const ExtractOptions& options = {}) {
    auto r = ExtractPlugin(target_, root, out_, options);
    EXPECT_FALSE(r);
    return r ? Error(ErrorCode::kInternal, "succeeded") : r.error();
  }

  // The Higress image spec shape as ORAS 1.0 pushes it.
  oci::Descriptor HigressImage(const std::string& wasm, std::string_view en_type) {
    return OciImage({
        Put(en_type, kReadmeEn, "README_EN.md"),
        Put(oci::kWasmDoc, kReadme, "README.md"),
        Put(oci::kWasmSpec, kSpec, "spec.yaml"),
        Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", wasm}}), "plugin.tar.gz"),
    });
  }

  std::unique_ptr<TempDir> tmp_;
  fs::path out_;
};

// --- Names -----------------------------------------------------------------------------------

TEST(PluginFileNameTest, AllowList) {
  for (const char* ok : {"plugin.wasm", "spec.yaml", "icon.png", "README.md", "README_EN.md",
                         "README_en.md", "README_zh-CN.md", "README_zho.md", "README_pt-BR.md"}) {
    EXPECT_TRUE(IsPluginFileName(ok)) << ok;
  }
  for (const char* bad :
       {"", "readme.md", "README", "README_.md", "README_E.md", "README_ENGL.md", "README_en_US.md",
        "README_en-.md", "README_en-U.md", "README_../x.md", "../README.md", "./spec.yaml",
        "spec.yml", "plugin.tar.gz", "../../etc/passwd", "/plugin.wasm", "icon.PNG"}) {
    EXPECT_FALSE(IsPluginFileName(bad)) << bad;
  }
}

TEST(PluginFileNameTest, ReadmeNameForLanguage) {
  EXPECT_EQ(ReadmeNameForLanguage("EN"), "README_EN.md");
  EXPECT_EQ(ReadmeNameForLanguage("en"), "README_EN.md");
  EXPECT_EQ(ReadmeNameForLanguage("zh-cn"), "README_zh-CN.md");
  EXPECT_EQ(ReadmeNameForLanguage("ZH_CN"), "README_zh-CN.md");
  EXPECT_EQ(ReadmeNameForLanguage(""), std::nullopt);
  EXPECT_EQ(ReadmeNameForLanguage("../x"), std::nullopt);
  EXPECT_EQ(ReadmeNameForLanguage("e"), std::nullopt);
  EXPECT_EQ(ReadmeNameForLanguage("en/us"), std::nullopt);
}

// --- Image shapes ----------------------------------------------------------------------------

class HigressShapeTest : public ExtractTest,
                         public ::testing::WithParamInterface<std::string_view> {};

TEST_P(HigressShapeTest, ExtractsEveryFileOfTheOrasArtifact) {
  const std::string wasm = WasmModule();
  oci::Descriptor root = HigressImage(wasm, GetParam());
  ExtractResult r = Extract(root);
  EXPECT_THAT(Names(r), ElementsAre("plugin.wasm", "README.md", "README_EN.md", "spec.yaml"));
  EXPECT_EQ(ReadFile(out_ / "plugin.wasm"), wasm);
  EXPECT_EQ(ReadFile(out_ / "README_EN.md"), kReadmeEn);
  EXPECT_EQ(ReadFile(out_ / "README.md"), kReadme);
  EXPECT_EQ(ReadFile(out_ / "spec.yaml"), kSpec);
  EXPECT_EQ(DirNames(out_),
            (std::set<std::string>{"plugin.wasm", "README.md", "README_EN.md", "spec.yaml"}));
  EXPECT_EQ(r.manifest.digest, root.digest);
  EXPECT_EQ(r.root.digest, root.digest);
  EXPECT_FALSE(r.platform);
  EXPECT_EQ(r.wasm_sha256, oci::Digest::Of(wasm));
  EXPECT_EQ(r.wasm_size, wasm.size());
  EXPECT_EQ(r.files[0].sha256, oci::Digest::Of(wasm));
  EXPECT_EQ(r.files[0].layer_index, 3u);
  EXPECT_EQ(r.files[0].entry, "plugin.wasm");
  EXPECT_FALSE(r.files[0].replaced);
  EXPECT_EQ(r.shape.path, LoadPath::kOciCompat);
  ASSERT_TRUE(r.gateway);
  EXPECT_TRUE(r.gateway->loadable) << ::testing::PrintToString(r.gateway->reasons);
  EXPECT_EQ(r.gateway->path, LoadPath::kOciCompat);
  EXPECT_EQ(r.gateway->wasm_sha256, oci::Digest::Of(wasm));
  EXPECT_TRUE(r.notes.empty()) << ::testing::PrintToString(r.notes);
}

INSTANTIATE_TEST_SUITE_P(ReadmeEnCase, HigressShapeTest,
                         ::testing::Values("application/vnd.module.wasm.doc.v1.EN+markdown",
                                           "application/vnd.module.wasm.doc.v1.en+markdown"));

TEST_F(ExtractTest, UntitledLanguageDocsAreNamedFromTheirMediaType) {
  oci::Descriptor root = OciImage({
      Put("application/vnd.module.wasm.doc.v1.en+markdown", kReadmeEn),
      Put("application/vnd.module.wasm.doc.v1.zh-cn+markdown", "zh"),
      Put("application/vnd.module.wasm.doc.v1.../../x+markdown", "evil"),
      Put(oci::kWasmIcon, "PNG"),
      Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", WasmModule()}})),
  });
  ExtractResult r = Extract(root);
  EXPECT_THAT(Names(r), ElementsAre("plugin.wasm", "README_EN.md", "README_zh-CN.md", "icon.png"));
  EXPECT_EQ(ReadFile(out_ / "icon.png"), "PNG");
  EXPECT_THAT(r.notes, Contains(HasSubstr("not a language tag")));
}

TEST_F(ExtractTest, DockerFromScratchImage) {
  // What `FROM scratch` + `COPY plugin.wasm README.md ./` builds: the case ORAS cannot pull.
  const std::string wasm = WasmModule();
  oci::Descriptor root =
      DockerImage({Put(oci::kDockerLayerTarGzip, RawTarGz({
                                                     {.name = "./", .type = '5'},
                                                     {.name = "./plugin.wasm", .data = wasm},
                                                     {.name = "./README.md", .data = kReadme},
                                                     {.name = "usr/doc/spec.yaml", .data = "deep"},
                                                 }))});
  ExtractResult r = Extract(root);
  EXPECT_THAT(Names(r), ElementsAre("plugin.wasm", "README.md"));
  EXPECT_EQ(ReadFile(out_ / "plugin.wasm"), wasm);
  EXPECT_EQ(ReadFile(out_ / "README.md"), kReadme);
  EXPECT_EQ(r.files[0].entry, "./plugin.wasm");
  EXPECT_EQ(r.shape.path, LoadPath::kDocker);
  ASSERT_TRUE(r.gateway);
  EXPECT_TRUE(r.gateway->loadable);
}

TEST_F(ExtractTest, DockerLayerWithSeveralCopiedFiles) {
  const std::string wasm = WasmModule();
  oci::Descriptor root =
      DockerImage({Put(oci::kDockerLayerTarGzip, TarGz({{"spec.yaml", kSpec},
                                                        {"README.md", kReadme},
                                                        {"README_EN.md", kReadmeEn},
                                                        {"icon.png", "PNG"},
                                                        {"etc/passwd", "root:x:0:0"},
                                                        {"notes.txt", "x"},
                                                        {"plugin.wasm", wasm}}))});
  ExtractResult r = Extract(root);
  EXPECT_THAT(Names(r),
              ElementsAre("plugin.wasm", "README.md", "README_EN.md", "icon.png", "spec.yaml"));
  EXPECT_EQ(DirNames(out_), (std::set<std::string>{"plugin.wasm", "README.md", "README_EN.md",
                                                   "icon.png", "spec.yaml"}));
}

TEST_F(ExtractTest, OciVariant) {
  const std::string wasm = WasmModule();
  oci::Descriptor root = Image(oci::kOciManifest, oci::kWasmConfig,
                               {Put(oci::kWasmConfig, "{}"), Put(oci::kWasmContentLayer, wasm)});
  ExtractResult r = Extract(root);
  EXPECT_THAT(Names(r), ElementsAre("plugin.wasm"));
  EXPECT_EQ(ReadFile(out_ / "plugin.wasm"), wasm);
  EXPECT_EQ(r.files[0].entry, "");
  EXPECT_EQ(r.files[0].layer_index, 1u);
  EXPECT_EQ(r.shape.path, LoadPath::kOciVariant);
  ASSERT_TRUE(r.gateway);
  EXPECT_TRUE(r.gateway->loadable);
}

TEST_F(ExtractTest, SingleRawWasmLayerIsExtractedThoughTheGatewayRefusesIt) {
  const std::string wasm = WasmModule();
  oci::Descriptor root = OciImage({Put(oci::kWasmContentLayer, wasm)});
  ExtractResult r = Extract(root);
  EXPECT_EQ(ReadFile(out_ / "plugin.wasm"), wasm);
  EXPECT_EQ(r.shape.path, LoadPath::kNone);
  ASSERT_TRUE(r.gateway);
  EXPECT_FALSE(r.gateway->loadable);
  ASSERT_FALSE(r.gateway->reasons.empty());
  EXPECT_THAT(r.gateway->reasons[0], HasSubstr("single"));
}

TEST_F(ExtractTest, WasmToOci) {
  const std::string wasm = WasmModule();
  oci::Descriptor root =
      Image(oci::kOciManifest, oci::kWasmToOciConfig, {Put(oci::kWasmToOciLayer, wasm)});
  ExtractResult r = Extract(root);
  EXPECT_EQ(ReadFile(out_ / "plugin.wasm"), wasm);
  ASSERT_TRUE(r.gateway);
  EXPECT_FALSE(r.gateway->loadable);
  EXPECT_THAT(r.gateway->reasons[0], HasSubstr("wasm-to-oci"));
}

TEST_F(ExtractTest, OrasPushedRawFilesTitledWithTheirNames) {
  // `oras push reg/x:1 plugin.wasm spec.yaml`: the default layer type, raw bytes, titles.
  const std::string wasm = WasmModule();
  oci::Descriptor root = OciImage(
      {Put(oci::kOciLayerTar, kSpec, "spec.yaml"), Put(oci::kOciLayerTar, wasm, "plugin.wasm")});
  ExtractResult r = Extract(root);
  EXPECT_THAT(Names(r), ElementsAre("plugin.wasm", "spec.yaml"));
  EXPECT_EQ(ReadFile(out_ / "plugin.wasm"), wasm);
  EXPECT_EQ(ReadFile(out_ / "spec.yaml"), kSpec);
}

TEST_F(ExtractTest, ZstdAndPlainTarLayers) {
  const std::string wasm = WasmModule();
  oci::Descriptor root = OciImage(
      {Put(oci::kOciLayerTar, Tar({{"spec.yaml", kSpec}}, archive::Compression::kNone)),
       Put(oci::kOciLayerTarZstd, Tar({{"plugin.wasm", wasm}}, archive::Compression::kZstd))});
  ExtractResult r = Extract(root);
  EXPECT_THAT(Names(r), ElementsAre("plugin.wasm", "spec.yaml"));
  EXPECT_EQ(ReadFile(out_ / "plugin.wasm"), wasm);
}

TEST_F(ExtractTest, LastLayerWinsLikeTheGateway) {
  const std::string old_wasm = WasmModule("old");
  const std::string new_wasm = WasmModule("new");
  oci::Descriptor root = OciImage(
      {Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", old_wasm}, {"README.md", "old"}})),
       Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", new_wasm}}))});
  ExtractResult r = Extract(root);
  EXPECT_EQ(ReadFile(out_ / "plugin.wasm"), new_wasm);
  EXPECT_EQ(r.files[0].layer_index, 1u);
  // Files only the earlier layer has still come from it.
  EXPECT_EQ(ReadFile(out_ / "README.md"), "old");
}

TEST_F(ExtractTest, SkipsUnusableCandidatesForUsableOnes) {
  const std::string wasm = WasmModule();
  oci::Descriptor root = OciImage(
      {Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", wasm}})),
       Put(oci::kOciLayerTarGzip, RawTarGz({{.name = "plugin.wasm", .type = '2', .link = "x"}}))});
  ExtractResult r = Extract(root);
  EXPECT_EQ(ReadFile(out_ / "plugin.wasm"), wasm);
  EXPECT_EQ(r.files[0].layer_index, 0u);
  ASSERT_TRUE(r.gateway);
  EXPECT_FALSE(r.gateway->loadable);
}

// --- Indexes ---------------------------------------------------------------------------------

TEST_F(ExtractTest, IndexPicksThePlatform) {
  const std::string amd = WasmModule("amd64");
  const std::string arm = WasmModule("arm64");
  oci::Descriptor amd_image = OciImage({Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", amd}}))});
  oci::Descriptor arm_image = OciImage({Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", arm}}))});
  oci::Descriptor root =
      Index({WithPlatform(amd_image, "linux", "amd64"), WithPlatform(arm_image, "linux", "arm64")});

  ExtractResult r = Extract(root);
  EXPECT_EQ(ReadFile(out_ / "plugin.wasm"), amd);
  EXPECT_EQ(r.root.digest, root.digest);
  EXPECT_EQ(r.manifest.digest, amd_image.digest);
  ASSERT_TRUE(r.platform);
  EXPECT_EQ(r.platform->ToString(), "linux/amd64");

  auto arm64 = oci::Platform::Parse("linux/arm64");
  ASSERT_TRUE(arm64);
  ExtractResult a = Extract(root, {.platform = *arm64, .force = true});
  EXPECT_EQ(ReadFile(out_ / "plugin.wasm"), arm);
  EXPECT_EQ(a.manifest.digest, arm_image.digest);
  EXPECT_TRUE(a.files[0].replaced);
  // The gateway's own view stays linux/amd64.
  ASSERT_TRUE(a.gateway && a.gateway->manifest);
  EXPECT_EQ(a.gateway->manifest->digest, amd_image.digest);

  auto s390x = oci::Platform::Parse("linux/s390x");
  ASSERT_TRUE(s390x);
  Error e = ExtractError(root, {.platform = *s390x, .force = true});
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_THAT(e.message(), AllOf(HasSubstr("linux/s390x"), HasSubstr("linux/amd64, linux/arm64")));
}

// --- Hostile and broken images ---------------------------------------------------------------

TEST_F(ExtractTest, UnsafeEntryPathsAreUsedByBasenameOnly) {
  // Decision: like the gateway, plugin.wasm is found by basename; whatever its path says, it is
  // written as out/plugin.wasm and nowhere else.
  for (const char* path : {"../plugin.wasm", "/plugin.wasm", "../../x/plugin.wasm"}) {
    SCOPED_TRACE(path);
    const std::string wasm = WasmModule(path);
    oci::Descriptor root = OciImage(
        {Put(oci::kOciLayerTarGzip,
             RawTarGz({{.name = path, .data = wasm}, {.name = "../README.md", .data = "evil"}}))});
    ExtractResult r = Extract(root, {.force = true});
    EXPECT_EQ(ReadFile(out_ / "plugin.wasm"), wasm);
    EXPECT_THAT(Names(r), ElementsAre("plugin.wasm"));
    EXPECT_EQ(DirNames(out_), std::set<std::string>{"plugin.wasm"});
    EXPECT_EQ(DirNames(tmp_->path()), std::set<std::string>{"out"});
    EXPECT_THAT(r.notes, Contains(HasSubstr("unsafe path")));
  }
}

TEST_F(ExtractTest, HostileTitlesAreNeverUsedAsPaths) {
  const std::string wasm = WasmModule();
  oci::Descriptor root = OciImage({
      Put(oci::kOciLayerTar, "root:x:0:0", "../../etc/passwd"),
      Put(oci::kWasmDoc, kReadme, "../../README.md"),
      Put(oci::kWasmSpec, kSpec, "/etc/spec.yaml"),
      Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", wasm}}), "../plugin.tar.gz"),
  });
  ExtractResult r = Extract(root);
  EXPECT_THAT(Names(r), ElementsAre("plugin.wasm", "README.md", "spec.yaml"));
  EXPECT_EQ(DirNames(out_), (std::set<std::string>{"plugin.wasm", "README.md", "spec.yaml"}));
  EXPECT_EQ(DirNames(tmp_->path()), std::set<std::string>{"out"});
  EXPECT_THAT(r.notes, Contains(HasSubstr("../../etc/passwd")));
}

TEST_F(ExtractTest, CorruptLayerLeavesNothing) {
  const std::string tgz = TarGz({{"plugin.wasm", WasmModule()}});
  oci::Descriptor layer = Put(oci::kOciLayerTarGzip, tgz);
  oci::Descriptor root = OciImage({Put(oci::kWasmDoc, kReadme, "README.md"), layer});
  std::string bad = tgz;
  bad[bad.size() / 2] ^= 0x55;
  target_.Corrupt(layer.digest, bad);

  Error e = ExtractError(root);
  EXPECT_EQ(e.code(), ErrorCode::kDataLoss) << e.message();
  EXPECT_FALSE(fs::exists(out_));
  EXPECT_EQ(DirNames(tmp_->path()), std::set<std::string>{});

  // An existing directory stays as it was: no temporary files either.
  fs::create_directories(out_);
  e = ExtractError(root);
  EXPECT_EQ(e.code(), ErrorCode::kDataLoss);
  EXPECT_EQ(DirNames(out_), std::set<std::string>{});
}

TEST_F(ExtractTest, CorruptMetadataLayerAfterTheWasmLeavesNothing) {
  const std::string wasm = WasmModule();
  oci::Descriptor readme = Put(oci::kWasmDoc, kReadme, "README.md");
  oci::Descriptor root =
      OciImage({readme, Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", wasm}}))});
  target_.Corrupt(readme.digest, "# plugiN\n");
  fs::create_directories(out_);
  Error e = ExtractError(root);
  EXPECT_EQ(e.code(), ErrorCode::kDataLoss) << e.message();
  EXPECT_EQ(DirNames(out_), std::set<std::string>{});
}

TEST_F(ExtractTest, TruncatedLayerIsDataLoss) {
  const std::string wasm = WasmModule();
  oci::Descriptor layer = Put(oci::kWasmContentLayer, wasm);
  oci::Descriptor root = OciImage({Put(oci::kWasmConfig, "{}"), layer});
  target_.Corrupt(layer.digest, wasm.substr(0, 10));
  Error e = ExtractError(root);
  EXPECT_EQ(e.code(), ErrorCode::kDataLoss) << e.message();
  EXPECT_FALSE(fs::exists(out_));
}

TEST_F(ExtractTest, MissingPluginWasmListsWhatTheImageHolds) {
  oci::Descriptor root =
      OciImage({Put(oci::kWasmDoc, kReadme, "README.md"),
                Put(oci::kOciLayerTarGzip, TarGz({{"main.wasm", WasmModule()}, {"x.txt", "x"}})),
                Put("application/vnd.example.thing", "?")});
  Error e = ExtractError(root);
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_THAT(e.message(), AllOf(HasSubstr("no plugin.wasm"), HasSubstr("main.wasm"),
                                 HasSubstr("x.txt"), HasSubstr(std::string(oci::kOciLayerTarGzip)),
                                 HasSubstr("application/vnd.example.thing"),
                                 HasSubstr("\"README.md\""), HasSubstr(root.digest.ToString())));
  EXPECT_FALSE(fs::exists(out_));
}

TEST_F(ExtractTest, PluginWasmWithoutMagicIsRefused) {
  oci::Descriptor root =
      OciImage({Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", "#!/bin/sh\necho hi\n"}}))});
  Error e = ExtractError(root);
  EXPECT_EQ(e.code(), ErrorCode::kFailedPrecondition);
  EXPECT_THAT(e.message(), HasSubstr("\\0asm"));
  EXPECT_FALSE(fs::exists(out_));
}

TEST_F(ExtractTest, OversizedWasmIsRefused) {
  oci::Descriptor root =
      OciImage({Put(oci::kWasmConfig, "{}"), Put(oci::kWasmContentLayer, WasmModule())});
  Error e = ExtractError(root, {.max_wasm_bytes = 16});
  EXPECT_EQ(e.code(), ErrorCode::kFailedPrecondition);
  EXPECT_THAT(e.message(), HasSubstr("over the limit"));
}

TEST_F(ExtractTest, RefusesToOverwriteWithoutForce) {
  const std::string wasm = WasmModule();
  oci::Descriptor root = HigressImage(wasm, "application/vnd.module.wasm.doc.v1.EN+markdown");
  fs::create_directories(out_);
  ASSERT_TRUE(WriteFileAtomic(out_ / "plugin.wasm", "old"));
  Error e = ExtractError(root);
  EXPECT_EQ(e.code(), ErrorCode::kAlreadyExists);
  EXPECT_THAT(e.message(), HasSubstr("--force"));
  EXPECT_EQ(ReadFile(out_ / "plugin.wasm"), "old");
  EXPECT_EQ(DirNames(out_), std::set<std::string>{"plugin.wasm"});

  // Another file the image provides: refused after reading, before writing anything.
  fs::remove(out_ / "plugin.wasm");
  ASSERT_TRUE(WriteFileAtomic(out_ / "spec.yaml", "mine"));
  ASSERT_TRUE(WriteFileAtomic(out_ / "notes.txt", "keep"));
  e = ExtractError(root);
  EXPECT_EQ(e.code(), ErrorCode::kAlreadyExists);
  EXPECT_THAT(e.message(), HasSubstr("spec.yaml"));
  EXPECT_EQ(DirNames(out_), (std::set<std::string>{"notes.txt", "spec.yaml"}));
  EXPECT_EQ(ReadFile(out_ / "spec.yaml"), "mine");

  ExtractResult r = Extract(root, {.force = true});
  EXPECT_EQ(ReadFile(out_ / "spec.yaml"), kSpec);
  EXPECT_EQ(ReadFile(out_ / "notes.txt"), "keep");
  for (const auto& f : r.files) EXPECT_EQ(f.replaced, f.name == "spec.yaml") << f.name;
}

TEST_F(ExtractTest, OutputPathThatIsAFileIsRefused) {
  ASSERT_TRUE(WriteFileAtomic(out_, "x"));
  oci::Descriptor root = OciImage({Put(oci::kWasmContentLayer, WasmModule())});
  Error e = ExtractError(root);
  EXPECT_EQ(e.code(), ErrorCode::kFailedPrecondition);
}

TEST_F(ExtractTest, CreatesMissingParentsAndReportsProgress) {
  out_ = tmp_->path() / "a" / "b" / "out";
  const std::string wasm = WasmModule();
  oci::Descriptor layer = Put(oci::kWasmContentLayer, wasm);
  oci::Descriptor root = OciImage({Put(oci::kWasmConfig, "{}"), layer});
  uint64_t last_done = 0;
  uint64_t planned = 0;
  ExtractOptions options;
  options.progress = [&](uint64_t done, uint64_t total) {
    if (done == 0) planned = total;
    last_done = done;
  };
  Extract(root, options);
  EXPECT_EQ(ReadFile(out_ / "plugin.wasm"), wasm);
  EXPECT_EQ(planned, wasm.size());
  EXPECT_EQ(last_done, wasm.size());

  // A failure removes the directories it created.
  out_ = tmp_->path() / "c" / "d";
  target_.Corrupt(layer.digest, std::string(wasm.size(), 'x'));
  EXPECT_EQ(ExtractError(root).code(), ErrorCode::kDataLoss);
  EXPECT_FALSE(fs::exists(tmp_->path() / "c"));
}

}  // namespace
}  // namespace plugctl::plugin
