#include "plugctl/plugin/extract.h"

#include <array>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plugctl/archive/raw_tar_for_test.h"
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

std::string Leb(uint64_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v != 0) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (v != 0);
  return out;
}
std::string Str(std::string_view s) { return Leb(s.size()) + std::string(s); }
std::string Section(uint8_t id, const std::string& payload) {
  return std::string(1, static_cast<char>(id)) + Leb(payload.size()) + payload;
}

// A minimal proxy-wasm module; `tag` becomes a custom section so modules differ.
std::string WasmModule(std::string_view tag = "a") {
  const std::vector<std::string> exports = {"proxy_abi_version_0_2_1", "malloc",
                                            "proxy_on_context_create"};
  std::string out("\0asm\x01\x00\x00\x00", 8);
  out += Section(1, std::string("\x01\x60\x00\x00", 4));
  out += Section(3, Leb(exports.size()) + std::string(exports.size(), '\0'));
  out += Section(5, std::string("\x01\x00\x01", 3));
  std::string exp = Leb(exports.size() + 1) + Str("memory") + std::string("\x02\x00", 2);
  for (size_t i = 0; i < exports.size(); ++i) exp += Str(exports[i]) + '\0' + Leb(i);
  out += Section(7, exp);
  std::string code = Leb(exports.size());
  for (size_t i = 0; i < exports.size(); ++i) code += std::string("\x02\x00\x0b", 3);
  out += Section(10, code);
  out += Section(0, Str("tag") + std::string(tag));
  return out;
}

// gzip (RFC 1952) in stored deflate blocks, for hand-made tar streams (TarWriter refuses "./",
// "../" and absolute paths, which hostile or docker-built layers contain).
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

using Files = std::vector<std::pair<std::string, std::string>>;

std::string Tar(const Files& files, archive::Compression compression) {
  StringWriter out;
  auto tar = archive::TarWriter::Create(out, {.compression = compression});
  EXPECT_TRUE(tar);
  for (const auto& [name, content] : files) EXPECT_TRUE((*tar)->AddFile(name, content));
  EXPECT_TRUE((*tar)->Finish());
  return out.Take();
}
std::string TarGz(const Files& files) { return Tar(files, archive::Compression::kGzip); }

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

class ExtractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tmp = TempDir::Create("plugctl-extract-test");
    ASSERT_TRUE(tmp);
    tmp_ = std::move(*tmp);
    out_ = tmp_->path() / "out";
  }

  oci::Descriptor Put(std::string_view media_type, std::string bytes, std::string title = "") {
    oci::Descriptor d = target_.Put(media_type, std::move(bytes));
    if (!title.empty()) d.annotations[std::string(oci::kAnnotationTitle)] = title;
    return d;
  }

  oci::Descriptor Image(std::string_view manifest_type, std::string_view config_type,
                        std::vector<oci::Descriptor> layers) {
    oci::ImageManifestSpec spec;
    spec.media_type = std::string(manifest_type);
    spec.config = Put(config_type, "{}");
    spec.layers = std::move(layers);
    return target_.Put(manifest_type, oci::BuildImageManifest(spec));
  }
  oci::Descriptor OciImage(std::vector<oci::Descriptor> layers) {
    return Image(oci::kOciManifest, oci::kUnknownConfig, std::move(layers));
  }
  oci::Descriptor DockerImage(std::vector<oci::Descriptor> layers) {
    return Image(oci::kDockerManifest, oci::kDockerConfig, std::move(layers));
  }

  oci::Descriptor Index(std::vector<oci::Descriptor> children) {
    oci::IndexSpec spec;
    spec.manifests = std::move(children);
    return target_.Put(oci::kOciIndex, oci::BuildIndex(spec));
  }
  static oci::Descriptor WithPlatform(oci::Descriptor d, std::string os, std::string arch) {
    oci::Platform p;
    p.os = std::move(os);
    p.architecture = std::move(arch);
    d.platform = p;
    return d;
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

  store::MemoryTarget target_;
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
