#include "plugctl/plugin/builder.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "support/sample_spec.h"
#include "support/wasm_builder.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "plugctl/archive/tar.h"
#include "plugctl/base/file.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/plugin/loadability.h"
#include "plugctl/store/content.h"

namespace plugctl::plugin {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A minimal module with the exports a proxy-wasm host needs (or only `exports`).
std::string WasmModule(std::vector<std::string> exports = {"proxy_abi_version_0_2_1",
                                                           "proxy_on_memory_allocate",
                                                           "proxy_on_context_create"}) {
  return test_support::ProxyWasmModule(exports);
}

constexpr std::string_view kSpec = test_support::kSampleSpecYaml;

const std::string kPng = std::string("\x89PNG\r\n\x1a\n", 8) + "not really an image";

class BuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tmp = TempDir::Create("plugctl-builder-test");
    ASSERT_TRUE(tmp) << tmp.error().message();
    tmp_ = std::move(*tmp);
    dir_ = tmp_->path() / "plugin";
    Write("plugin.wasm", WasmModule());
    Write("spec.yaml", kSpec);
    Write("README.md", "# add-header\n");
    Write("README_ZH.md", "# 添加响应头\n");
    Write("README_EN.md", "# add-header (English)\n");
  }

  void Write(const std::string& name, std::string_view bytes, const fs::path& dir = {}) {
    const fs::path d = dir.empty() ? dir_ : dir;
    ASSERT_TRUE(CreateDirectories(d));
    ASSERT_TRUE(WriteFileAtomic(d / name, bytes));
  }
  void Remove(const std::string& name) { fs::remove(dir_ / name); }

  BuiltImage Build(const BuildOptions& options, store::MemoryTarget& mem) {
    auto built = BuildPluginImage(dir_, options, mem);
    EXPECT_TRUE(built) << built.error().message();
    return built ? std::move(*built) : BuiltImage{};
  }
  BuiltImage Build(const BuildOptions& options = {}) { return Build(options, mem_); }

  oci::Manifest ManifestOf(const BuiltImage& image, store::MemoryTarget& mem) {
    auto m = store::FetchManifest(mem, image.manifest);
    EXPECT_TRUE(m) << m.error().message();
    return m ? std::move(*m) : oci::Manifest{};
  }

  LoadabilityReport Load(const BuiltImage& image, store::MemoryTarget& mem) {
    auto report = CheckGatewayLoadability(mem, image.manifest);
    EXPECT_TRUE(report) << report.error().message();
    return report ? std::move(*report) : LoadabilityReport{};
  }

  std::string Blob(const oci::Descriptor& d) {
    auto b = store::FetchBlob(mem_, d, 1 << 26);
    EXPECT_TRUE(b) << b.error().message();
    return b ? *b : std::string();
  }

  std::unique_ptr<TempDir> tmp_;
  fs::path dir_;
  store::MemoryTarget mem_;
};

std::vector<std::string> MediaTypes(const oci::Manifest& m) {
  std::vector<std::string> out;
  for (const auto& l : m.layers) out.push_back(l.media_type);
  return out;
}
std::vector<std::string> Titles(const oci::Manifest& m) {
  std::vector<std::string> out;
  for (const auto& l : m.layers) out.push_back(l.Title());
  return out;
}

TEST_F(BuilderTest, CompatIsTheHigressImageSpec) {
  Write("icon.png", kPng);
  Write("notes.txt", "ignored");
  BuiltImage image = Build();
  EXPECT_EQ(image.manifest.media_type, oci::kOciManifest);
  oci::Manifest m = ManifestOf(image, mem_);
  ASSERT_TRUE(m.config);
  EXPECT_EQ(m.config->media_type, oci::kUnknownConfig);
  EXPECT_EQ(Blob(*m.config), "{}");
  EXPECT_THAT(Titles(m), ElementsAre("README_EN.md", "README_ZH.md", "README.md", "spec.yaml",
                                     "icon.png", "plugin.tar.gz"));
  EXPECT_THAT(MediaTypes(m),
              ElementsAre("application/vnd.module.wasm.doc.v1.en+markdown",
                          "application/vnd.module.wasm.doc.v1.zh+markdown", oci::kWasmDoc,
                          oci::kWasmSpec, oci::kWasmIcon, oci::kOciLayerTarGzip));
  EXPECT_EQ(Blob(m.layers[3]), kSpec);
  EXPECT_EQ(Blob(m.layers[4]), kPng);
  EXPECT_THAT(
      m.annotations,
      ::testing::UnorderedElementsAre(
          std::pair<const std::string, std::string>(oci::kAnnotationCreated,
                                                    "1970-01-01T00:00:00Z"),
          std::pair<const std::string, std::string>(oci::kAnnotationTitle, "Add Header"),
          std::pair<const std::string, std::string>(oci::kAnnotationVersion, "1.2.3"),
          std::pair<const std::string, std::string>(oci::kAnnotationDescription,
                                                    "Adds a response header."),
          std::pair<const std::string, std::string>(kAnnotationPluginName, "add-header/v1")));
  EXPECT_EQ(image.name, "add-header/v1");
  EXPECT_EQ(image.version, "1.2.3");
  EXPECT_EQ(image.title, "Add Header");
  EXPECT_EQ(image.wasm_sha256, oci::Digest::Of(WasmModule()));
  EXPECT_EQ(image.wasm_size, WasmModule().size());
  EXPECT_EQ(image.manifest_raw, m.raw);
  ASSERT_EQ(image.files.size(), 6u);
  EXPECT_EQ(image.files.back().name, "plugin.wasm");
  EXPECT_FALSE(HasErrors(image.findings));

  // The last layer is a gzip tar whose only entry is plugin.wasm, with fixed metadata.
  StringReader tgz(Blob(m.layers.back()));
  auto tar = archive::TarReader::Open(tgz, "plugin.tar.gz");
  ASSERT_TRUE(tar);
  auto entry = (*tar)->Next();
  ASSERT_TRUE(entry && *entry);
  EXPECT_EQ((*entry)->path, "plugin.wasm");
  EXPECT_EQ((*entry)->mode, 0644u);
  StringWriter content;
  ASSERT_TRUE(CopyStream((*tar)->data(), content));
  EXPECT_EQ(content.data(), WasmModule());
  auto end = (*tar)->Next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);

  LoadabilityReport r = Load(image, mem_);
  EXPECT_TRUE(r.loadable) << ::testing::PrintToString(r.reasons);
  EXPECT_EQ(r.path, LoadPath::kOciCompat);
  EXPECT_EQ(r.wasm_sha256, image.wasm_sha256);
  EXPECT_THAT(r.findings, ::testing::Not(::testing::Contains(
                              ::testing::Field(&Finding::message, HasSubstr("oras pull")))));
}

TEST_F(BuilderTest, OciVariantHasExactlyTwoLayers) {
  BuiltImage image = Build({.variant = BuildVariant::kOci});
  oci::Manifest m = ManifestOf(image, mem_);
  EXPECT_EQ(m.media_type, oci::kOciManifest);
  ASSERT_TRUE(m.config);
  EXPECT_EQ(m.config->media_type, oci::kWasmConfig);
  EXPECT_THAT(MediaTypes(m), ElementsAre(oci::kWasmConfig, oci::kWasmContentLayer));
  EXPECT_EQ(Blob(m.layers[1]), WasmModule());
  EXPECT_EQ(m.layers[1].Title(), "plugin.wasm");
  auto config = nlohmann::json::parse(Blob(*m.config));
  EXPECT_EQ(config["abiVersions"], nlohmann::json::array({"0_2_1"}));
  EXPECT_EQ(m.annotations[std::string(oci::kAnnotationVersion)], "1.2.3");

  LoadabilityReport r = Load(image, mem_);
  EXPECT_TRUE(r.loadable) << ::testing::PrintToString(r.reasons);
  EXPECT_EQ(r.path, LoadPath::kOciVariant);
  EXPECT_EQ(r.wasm_sha256, image.wasm_sha256);
}

// sha256 of the gunzipped bytes, by an independent implementation (gzip(1)).
std::string GunzipSha256(const std::string& gz, const fs::path& tmp) {
  const fs::path file = tmp / "layer.tar.gz";
  std::ofstream(file, std::ios::binary) << gz;
  std::string cmd = "gzip -dc '" + file.string() + "' | sha256sum";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  char buf[128] = {};
  size_t n = fread(buf, 1, sizeof(buf) - 1, p);
  pclose(p);
  return "sha256:" + std::string(buf, std::min<size_t>(n, 64));
}

TEST_F(BuilderTest, DockerVariantIsSchema2WithDiffIds) {
  BuiltImage image = Build({.variant = BuildVariant::kDocker});
  oci::Manifest m = ManifestOf(image, mem_);
  EXPECT_EQ(m.media_type, oci::kDockerManifest);
  ASSERT_TRUE(m.config);
  EXPECT_EQ(m.config->media_type, oci::kDockerConfig);
  EXPECT_THAT(MediaTypes(m), ElementsAre(oci::kDockerLayerTarGzip));
  auto config = nlohmann::json::parse(Blob(*m.config));
  EXPECT_EQ(config["os"], "linux");
  EXPECT_EQ(config["architecture"], "amd64");
  EXPECT_EQ(config["created"], "1970-01-01T00:00:00Z");
  EXPECT_EQ(config["config"]["Labels"][std::string(oci::kAnnotationVersion)], "1.2.3");
  EXPECT_EQ(config["config"]["Labels"][std::string(kAnnotationPluginName)], "add-header/v1");
  ASSERT_EQ(config["rootfs"]["diff_ids"].size(), 1u);
  EXPECT_EQ(config["rootfs"]["diff_ids"][0], GunzipSha256(Blob(m.layers[0]), tmp_->path()));
  EXPECT_TRUE(m.annotations.empty());

  LoadabilityReport r = Load(image, mem_);
  EXPECT_TRUE(r.loadable) << ::testing::PrintToString(r.reasons);
  EXPECT_EQ(r.path, LoadPath::kDocker);
  EXPECT_EQ(r.wasm_sha256, image.wasm_sha256);
}

TEST_F(BuilderTest, SameInputsGiveSameDigestEverywhere) {
  for (BuildVariant v : {BuildVariant::kCompat, BuildVariant::kOci, BuildVariant::kDocker}) {
    SCOPED_TRACE(BuildVariantName(v));
    BuiltImage first = Build({.variant = v});
    // The same files written elsewhere, in another order, later, with other times.
    const fs::path other = tmp_->path() / ("other-" + std::string(BuildVariantName(v)));
    ASSERT_TRUE(CreateDirectories(other));
    for (const char* name :
         {"spec.yaml", "README_ZH.md", "plugin.wasm", "README.md", "README_EN.md"}) {
      fs::copy_file(dir_ / name, other / name);
    }
    fs::last_write_time(other / "plugin.wasm",
                        fs::file_time_type::clock::now() - std::chrono::hours(1000));
    store::MemoryTarget mem2;
    auto second = BuildPluginImage(other, {.variant = v}, mem2);
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_EQ(second->manifest.digest, first.manifest.digest);
    EXPECT_EQ(second->manifest_raw, first.manifest_raw);
  }
}

TEST_F(BuilderTest, CreatedTimeChangesOnlyTheCreatedField) {
  for (BuildVariant v : {BuildVariant::kCompat, BuildVariant::kOci, BuildVariant::kDocker}) {
    SCOPED_TRACE(BuildVariantName(v));
    store::MemoryTarget a_mem, b_mem;
    BuiltImage a = Build({.variant = v, .created = 0}, a_mem);
    BuiltImage b = Build({.variant = v, .created = 1700000000}, b_mem);
    EXPECT_NE(a.manifest.digest, b.manifest.digest);
    oci::Manifest ma = ManifestOf(a, a_mem);
    oci::Manifest mb = ManifestOf(b, b_mem);
    // Every layer blob is shared.
    ASSERT_EQ(ma.layers.size(), mb.layers.size());
    for (size_t i = 0; i < ma.layers.size(); ++i) EXPECT_EQ(ma.layers[i], mb.layers[i]);
    if (v == BuildVariant::kDocker) {
      auto ca = nlohmann::json::parse(*store::FetchBlob(a_mem, *ma.config, 1 << 20));
      auto cb = nlohmann::json::parse(*store::FetchBlob(b_mem, *mb.config, 1 << 20));
      EXPECT_EQ(cb["created"], "2023-11-14T22:13:20Z");
      ca["created"] = cb["created"];
      ca["history"][0]["created"] = cb["history"][0]["created"];
      EXPECT_EQ(ca, cb);
    } else {
      EXPECT_EQ(ma.config, mb.config);
      EXPECT_EQ(mb.annotations[std::string(oci::kAnnotationCreated)], "2023-11-14T22:13:20Z");
      ma.annotations.erase(std::string(oci::kAnnotationCreated));
      mb.annotations.erase(std::string(oci::kAnnotationCreated));
      EXPECT_EQ(ma.annotations, mb.annotations);
    }
  }
}

TEST_F(BuilderTest, MissingSpecOrReadmeFailsUnlessAllowed) {
  Remove("spec.yaml");
  auto built = BuildPluginImage(dir_, {}, mem_);
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(built.error().message(), HasSubstr("spec.yaml is missing"));
  EXPECT_THAT(built.error().message(), HasSubstr("--allow-missing"));
  EXPECT_EQ(mem_.blob_count(), 0u);

  BuiltImage image = Build({.allow_missing = true});
  oci::Manifest m = ManifestOf(image, mem_);
  EXPECT_THAT(Titles(m), ElementsAre("README_EN.md", "README_ZH.md", "README.md", "plugin.tar.gz"));
  EXPECT_THAT(m.annotations, ElementsAre(std::pair<const std::string, std::string>(
                                 oci::kAnnotationCreated, "1970-01-01T00:00:00Z")));
  EXPECT_TRUE(Load(image, mem_).loadable);

  Write("spec.yaml", kSpec);
  Remove("README.md");
  built = BuildPluginImage(dir_, {}, mem_);
  ASSERT_FALSE(built);
  EXPECT_THAT(built.error().message(), HasSubstr("README.md is missing"));
  // Only compat carries documents.
  EXPECT_TRUE(BuildPluginImage(dir_, {.variant = BuildVariant::kOci}, mem_));
  image = Build({.allow_missing = true});
  EXPECT_THAT(Titles(ManifestOf(image, mem_)),
              ElementsAre("README_EN.md", "README_ZH.md", "spec.yaml", "plugin.tar.gz"));
}

TEST_F(BuilderTest, MissingWasmFails) {
  Remove("plugin.wasm");
  auto built = BuildPluginImage(dir_, {.allow_missing = true}, mem_);
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(built.error().message(), HasSubstr("plugin.wasm is missing"));
  auto no_dir = BuildPluginImage(dir_ / "nope", {}, mem_);
  ASSERT_FALSE(no_dir);
  EXPECT_EQ(no_dir.error().code(), ErrorCode::kNotFound);
}

TEST_F(BuilderTest, InvalidWasmIsRefused) {
  Write("plugin.wasm", "not wasm at all");
  auto built = BuildPluginImage(dir_, {}, mem_);
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(built.error().message(), HasSubstr("plugin.wasm"));
  EXPECT_THAT(built.error().message(), HasSubstr("magic"));

  // Well-formed, but no proxy-wasm host would run it.
  Write("plugin.wasm", WasmModule({"_start"}));
  built = BuildPluginImage(dir_, {}, mem_);
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(built.error().message(), HasSubstr("not a proxy-wasm plugin"));
  EXPECT_THAT(built.error().message(), HasSubstr("proxy_abi_version"));
  EXPECT_EQ(mem_.blob_count(), 0u);
}

TEST_F(BuilderTest, InvalidSpecIsRefused) {
  std::string spec(kSpec);
  spec.replace(spec.find("  version: 1.2.3\n"), 17, "");
  Write("spec.yaml", spec);
  auto built = BuildPluginImage(dir_, {}, mem_);
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(built.error().message(), HasSubstr("spec.yaml is not valid"));
  EXPECT_THAT(built.error().message(), HasSubstr("info.version"));
  EXPECT_EQ(mem_.blob_count(), 0u);

  Write("spec.yaml", "a: [unclosed");
  built = BuildPluginImage(dir_, {}, mem_);
  ASSERT_FALSE(built);
  EXPECT_THAT(built.error().message(), HasSubstr("spec.yaml"));
}

TEST_F(BuilderTest, StrictTurnsSpecWarningsIntoErrors) {
  std::string spec(kSpec);
  spec.replace(spec.find("spec:\n"), 6, "x-unknown-top: 1\nspec:\n");
  Write("spec.yaml", spec);
  BuiltImage image = Build();
  EXPECT_FALSE(image.findings.empty());
  auto strict = BuildPluginImage(dir_, {.strict = true}, mem_);
  EXPECT_FALSE(strict);
}

TEST_F(BuilderTest, RefusesBadIconAndBadReadmeNames) {
  Write("icon.png", "GIF89a");
  auto built = BuildPluginImage(dir_, {}, mem_);
  ASSERT_FALSE(built);
  EXPECT_THAT(built.error().message(), HasSubstr("icon.png is not a PNG"));
  Remove("icon.png");
  Write("README_.md", "x");
  built = BuildPluginImage(dir_, {}, mem_);
  ASSERT_FALSE(built);
  EXPECT_THAT(built.error().message(), HasSubstr("is not a language"));
  Remove("README_.md");
  fs::remove(dir_ / "README.md");
  fs::create_directory(dir_ / "README.md");
  built = BuildPluginImage(dir_, {}, mem_);
  ASSERT_FALSE(built);
  EXPECT_THAT(built.error().message(), HasSubstr("not a regular file"));
}

TEST(BuilderFormatTest, CreatedTime) {
  EXPECT_EQ(*FormatCreatedTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(*FormatCreatedTime(1700000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(*FormatCreatedTime(253402300799), "9999-12-31T23:59:59Z");
  EXPECT_FALSE(FormatCreatedTime(-1));
  EXPECT_FALSE(FormatCreatedTime(253402300800));
}

TEST(BuilderFormatTest, Rfc3339Times) {
  for (const char* good : {"2023-11-14T22:13:20Z", "2024-05-01T10:00:00.123456789Z",
                           "2024-05-01T10:00:00+08:00", "2024-05-01t10:00:00-00:30"}) {
    EXPECT_TRUE(IsRfc3339Time(good)) << good;
  }
  for (const char* bad :
       {"", "2023-11-14", "2023-11-14T22:13:20", "2023-11-14 22:13:20Z", "2023-11-14T22:13:20.Z",
        "2023-11-14T22:13:20+0800", "2023-11-14T22:13:20Zjunk", "yesterday"}) {
    EXPECT_FALSE(IsRfc3339Time(bad)) << bad;
  }
}

TEST_F(BuilderTest, GivenMetadataWinsOverSpecYaml) {
  const ImageMetadata given{.name = "other",
                            .title = "Other",
                            .version = "9.9.9",
                            .description = "carried",
                            .created = "2024-05-01T10:00:00.5+08:00"};
  for (BuildVariant v : {BuildVariant::kCompat, BuildVariant::kOci, BuildVariant::kDocker}) {
    SCOPED_TRACE(BuildVariantName(v));
    store::MemoryTarget mem;
    BuiltImage image = Build({.variant = v, .metadata = given}, mem);
    oci::Manifest m = ManifestOf(image, mem);
    std::map<std::string, std::string> recorded = m.annotations;
    if (v == BuildVariant::kDocker) {
      auto config = nlohmann::json::parse(*store::FetchBlob(mem, *m.config, 1 << 20));
      EXPECT_EQ(config["created"], given.created);
      recorded = config["config"]["Labels"].get<std::map<std::string, std::string>>();
    } else {
      EXPECT_EQ(recorded[std::string(oci::kAnnotationCreated)], given.created);
    }
    EXPECT_EQ(recorded[std::string(kAnnotationPluginName)], "other");
    EXPECT_EQ(recorded[std::string(oci::kAnnotationTitle)], "Other");
    EXPECT_EQ(recorded[std::string(oci::kAnnotationVersion)], "9.9.9");
    EXPECT_EQ(recorded[std::string(oci::kAnnotationDescription)], "carried");
  }
  store::MemoryTarget mem;
  auto bad = BuildPluginImage(dir_, {.metadata = {.created = "yesterday"}}, mem);
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), HasSubstr("not an RFC 3339"));
}

TEST(BuilderFormatTest, Variants) {
  for (BuildVariant v : {BuildVariant::kCompat, BuildVariant::kOci, BuildVariant::kDocker}) {
    EXPECT_EQ(*ParseBuildVariant(BuildVariantName(v)), v);
  }
  auto bad = ParseBuildVariant("wasm");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), HasSubstr("compat, oci or docker"));
}

}  // namespace
}  // namespace plugctl::plugin
