#include "plugctl/plugin/loadability.h"

#include <array>
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
#include "plugctl/base/io.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/store/memory_target.h"

namespace plugctl::plugin {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// --- Fixtures --------------------------------------------------------------------------------

using test_support::GzipStored;
using test_support::TarGz;

// A minimal module with the exports a proxy-wasm host needs (or only `exports` when given).
std::string WasmModule(const std::vector<std::string>& exports = test_support::kProxyWasmExports) {
  return test_support::ProxyWasmModule(exports);
}

class LoadabilityTest : public ::testing::Test, protected test_support::MemoryImages {
 protected:
  LoadabilityReport Check(const oci::Descriptor& root, const LoadOptions& options = {}) {
    auto report = CheckGatewayLoadability(target_, root, options);
    EXPECT_TRUE(report) << report.error().message();
    return report ? *report : LoadabilityReport{};
  }

  // Asserts "not loadable" with exactly one reason containing `text`.
  void ExpectRefused(const oci::Descriptor& root, std::string_view text) {
    LoadabilityReport r = Check(root);
    EXPECT_FALSE(r.loadable);
    ASSERT_EQ(r.reasons.size(), 1u) << ::testing::PrintToString(r.reasons);
    EXPECT_THAT(r.reasons[0], HasSubstr(std::string(text)));
  }

  const std::string wasm_ = WasmModule();
};

// --- Accepted shapes --------------------------------------------------------------------------

TEST_F(LoadabilityTest, OfficialHigressOrasImageLoads) {
  oci::Descriptor layer =
      Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", wasm_}}), "plugin.tar.gz");
  oci::Descriptor root = OciImage({
      Put("application/vnd.module.wasm.doc.v1.EN+markdown", "# en", "README_EN.md"),
      Put("application/vnd.module.wasm.doc.v1.en+markdown", "# en", "README_EN.md"),
      Put(oci::kWasmDoc, "# zh", "README.md"),
      layer,
  });
  LoadabilityReport r = Check(root);
  EXPECT_TRUE(r.loadable) << ::testing::PrintToString(r.reasons);
  EXPECT_EQ(r.path, LoadPath::kOciCompat);
  EXPECT_EQ(LoadPathName(r.path), "oci-compat");
  EXPECT_EQ(r.root, root);
  ASSERT_TRUE(r.manifest);
  EXPECT_EQ(r.manifest->digest, root.digest);  // what spec.sha256 pins for oci://
  EXPECT_FALSE(r.platform);
  EXPECT_EQ(r.layer, layer);
  EXPECT_EQ(r.wasm_entry, "plugin.wasm");
  EXPECT_EQ(r.wasm_sha256, oci::Digest::Of(wasm_));  // what spec.sha256 pins for http://
  EXPECT_EQ(r.wasm_size, wasm_.size());
  ASSERT_TRUE(r.module);
  EXPECT_THAT(r.module->proxy_abi_versions, ElementsAre("0_2_1"));
  EXPECT_TRUE(r.reasons.empty());
  EXPECT_TRUE(r.findings.empty());
}

TEST_F(LoadabilityTest, DockerFromScratchImageLoads) {
  // docker build output: no title annotations, "./"-prefixed entries after a directory.
  std::string tar = archive::testing::RawTar({
      {.name = "./", .type = '5'},
      {.name = "./plugin.wasm", .data = wasm_},
  });
  oci::Descriptor layer = Put(oci::kDockerLayerTarGzip, GzipStored(tar));
  oci::Descriptor root = Image(oci::kDockerManifest, oci::kDockerConfig, {layer});
  LoadabilityReport r = Check(root);
  EXPECT_TRUE(r.loadable) << ::testing::PrintToString(r.reasons);
  EXPECT_EQ(r.path, LoadPath::kDocker);
  EXPECT_EQ(r.wasm_entry, "./plugin.wasm");
  EXPECT_EQ(r.wasm_sha256, oci::Digest::Of(wasm_));
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].severity, Severity::kInfo);
  EXPECT_THAT(r.findings[0].ToString(), HasSubstr("layers[0]: layer has no "
                                                  "org.opencontainers.image.title annotation"));
}

TEST_F(LoadabilityTest, FindsPluginWasmInSubdirectoryAfterOtherEntries) {
  oci::Descriptor root = OciImage({Put(
      oci::kOciLayerTarGzip, TarGz({{"README.md", "x"}, {"dist/plugin.wasm", wasm_}}), "p.tgz")});
  LoadabilityReport r = Check(root);
  EXPECT_TRUE(r.loadable) << ::testing::PrintToString(r.reasons);
  EXPECT_EQ(r.wasm_entry, "dist/plugin.wasm");
}

TEST_F(LoadabilityTest, OciVariantLoads) {
  oci::Descriptor wasm_layer = Put(oci::kWasmContentLayer, wasm_, "plugin.wasm");
  oci::Descriptor root = OciImage({Put(oci::kWasmConfig, "{}", "config.json"), wasm_layer});
  LoadabilityReport r = Check(root);
  EXPECT_TRUE(r.loadable) << ::testing::PrintToString(r.reasons);
  EXPECT_EQ(r.path, LoadPath::kOciVariant);
  EXPECT_EQ(r.layer, wasm_layer);
  EXPECT_EQ(r.wasm_entry, "");
  EXPECT_EQ(r.wasm_sha256, oci::Digest::Of(wasm_));
}

TEST_F(LoadabilityTest, CompatWithoutPluginWasmFallsBackToOciVariant) {
  oci::Descriptor root = OciImage({Put(oci::kWasmContentLayer, wasm_, "plugin.wasm"),
                                   Put(oci::kOciLayerTarGzip, TarGz({{"a.txt", "a"}}), "x.tgz")});
  LoadabilityReport r = Check(root);
  EXPECT_TRUE(r.loadable) << ::testing::PrintToString(r.reasons);
  EXPECT_EQ(r.path, LoadPath::kOciVariant);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].severity, Severity::kWarning);
  EXPECT_THAT(r.findings[0].message, HasSubstr("the gateway falls back to the oci variant"));
}

TEST_F(LoadabilityTest, IndexResolvesToLinuxAmd64AndPinsThatManifest) {
  oci::Descriptor arm = OciImage({Put(oci::kWasmContentLayer, "not wasm", "plugin.wasm")});
  oci::Descriptor amd =
      OciImage({Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", wasm_}}), "plugin.tar.gz")});
  oci::Descriptor root =
      Index({WithPlatform(arm, "linux", "arm64"), WithPlatform(amd, "linux", "amd64")});
  LoadabilityReport r = Check(root);
  EXPECT_TRUE(r.loadable) << ::testing::PrintToString(r.reasons);
  EXPECT_EQ(r.root, root);
  ASSERT_TRUE(r.manifest);
  // The gateway compares spec.sha256 with the resolved image manifest's digest.
  EXPECT_EQ(r.manifest->digest, amd.digest);
  EXPECT_NE(r.manifest->digest, root.digest);
  ASSERT_TRUE(r.platform);
  EXPECT_EQ(r.platform->ToString(), "linux/amd64");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_THAT(r.findings[0].message,
              HasSubstr("resolves to the linux/amd64 manifest " + amd.digest.ToString()));
}

TEST_F(LoadabilityTest, IndexChildWithoutPlatformCountsAsLinuxAmd64) {
  oci::Descriptor image =
      OciImage({Put(oci::kWasmConfig, "{}"), Put(oci::kWasmContentLayer, wasm_)});
  LoadabilityReport r = Check(Index({image}));
  EXPECT_TRUE(r.loadable) << ::testing::PrintToString(r.reasons);
  EXPECT_EQ(r.manifest->digest, image.digest);
}

TEST_F(LoadabilityTest, OtherPlatformsCanBeRequested) {
  oci::Descriptor amd = OciImage({Put(oci::kWasmConfig, "{}"), Put(oci::kWasmContentLayer, wasm_)});
  oci::Descriptor arm = OciImage({Put(oci::kWasmContentLayer, wasm_)});
  oci::Descriptor root =
      Index({WithPlatform(amd, "linux", "amd64"), WithPlatform(arm, "linux", "arm64")});
  LoadOptions options;
  options.platform.architecture = "arm64";
  LoadabilityReport r = Check(root, options);
  EXPECT_FALSE(r.loadable);
  EXPECT_EQ(r.manifest->digest, arm.digest);
}

TEST_F(LoadabilityTest, ModuleChecksCanBeSkipped) {
  oci::Descriptor root =
      OciImage({Put(oci::kWasmConfig, "{}"), Put(oci::kWasmContentLayer, WasmModule({"malloc"}))});
  LoadabilityReport r = Check(root);
  EXPECT_FALSE(r.loadable);
  EXPECT_EQ(r.path, LoadPath::kOciVariant);
  ASSERT_EQ(r.reasons.size(), 1u);
  EXPECT_THAT(r.reasons[0], HasSubstr("no proxy_abi_version_* export"));
  EXPECT_TRUE(r.module.has_value());

  LoadOptions options;
  options.check_module = false;
  r = Check(root, options);
  EXPECT_TRUE(r.loadable);
  EXPECT_FALSE(r.module.has_value());
}

// --- Refused shapes, each with its reason ----------------------------------------------------

TEST_F(LoadabilityTest, RefusesSingleRawWasmLayer) {
  ExpectRefused(OciImage({Put(oci::kWasmContentLayer, wasm_, "plugin.wasm")}),
                "a single application/vnd.module.wasm.content.layer.v1+wasm layer (raw wasm): "
                "the oci variant needs exactly 2 layers");
}

TEST_F(LoadabilityTest, RefusesWasmToOci) {
  ExpectRefused(Image(oci::kOciManifest, oci::kWasmToOciConfig,
                      {Put(oci::kWasmToOciLayer, wasm_, "plugin.wasm")}),
                "wasm-to-oci layer type application/vnd.wasm.content.layer.v1+wasm");
}

TEST_F(LoadabilityTest, RefusesEmptyLastLayer) {
  ExpectRefused(OciImage({Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", wasm_}}), "p.tgz"),
                          Put(oci::kOciEmpty, "{}")}),
                "the last layer is application/vnd.oci.empty.v1+json (empty)");
}

TEST_F(LoadabilityTest, RefusesOciManifestWithDockerLayerLast) {
  ExpectRefused(OciImage({Put(oci::kDockerLayerTarGzip, TarGz({{"plugin.wasm", wasm_}}))}),
                "OCI manifest whose last layer has the Docker type "
                "application/vnd.docker.image.rootfs.diff.tar.gzip");
}

TEST_F(LoadabilityTest, RefusesDockerManifestWithOciLayerLast) {
  ExpectRefused(Image(oci::kDockerManifest, oci::kDockerConfig,
                      {Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", wasm_}}))}),
                "Docker schema2 manifest whose last layer has the OCI type");
}

TEST_F(LoadabilityTest, RefusesThreeLayerOciVariant) {
  ExpectRefused(OciImage({Put(oci::kWasmConfig, "{}"), Put(oci::kWasmContentLayer, wasm_),
                          Put(oci::kWasmDoc, "# doc")}),
                "3 layers with a application/vnd.module.wasm.content.layer.v1+wasm layer: the oci "
                "variant needs exactly 2 layers");
}

TEST_F(LoadabilityTest, RefusesTarWithoutPluginWasm) {
  ExpectRefused(
      OciImage({Put(oci::kOciLayerTarGzip, TarGz({{"main.wasm", wasm_}, {"plugin.wasm.bak", "x"}}),
                    "plugin.tar.gz")}),
      "holds no plugin.wasm (2 tar entries, none with that basename)");
}

TEST_F(LoadabilityTest, RefusesPluginWasmWithoutMagic) {
  oci::Descriptor root = OciImage(
      {Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", "PK\x03\x04 zip"}}), "plugin.tar.gz")});
  ExpectRefused(root,
                "plugin.wasm does not start with \\0asm (first bytes: 50 4b 03 04 20 7a 69 "
                "70): the gateway rejects it");
  LoadabilityReport r = Check(root);
  EXPECT_EQ(r.path, LoadPath::kOciCompat);
  EXPECT_EQ(r.wasm_size, 8u);
}

TEST_F(LoadabilityTest, RefusesMalformedModule) {
  ExpectRefused(OciImage({Put(oci::kWasmConfig, "{}"),
                          Put(oci::kWasmContentLayer, wasm_.substr(0, wasm_.size() - 1))}),
                "plugin.wasm is not a valid wasm module: malformed wasm module: code section");
}

TEST_F(LoadabilityTest, RefusesIndexWithoutLinuxAmd64) {
  oci::Descriptor arm = OciImage({Put(oci::kWasmConfig, "{}"), Put(oci::kWasmContentLayer, wasm_)});
  oci::Descriptor root =
      Index({WithPlatform(arm, "linux", "arm64"), WithPlatform(arm, "windows", "amd64")});
  ExpectRefused(root, "has no linux/amd64 manifest (it lists: linux/arm64, windows/amd64)");
  EXPECT_FALSE(Check(root).manifest.has_value());
}

TEST_F(LoadabilityTest, RefusesMediaTypesThatDifferOnlyInCase) {
  ExpectRefused(OciImage({Put("application/vnd.oci.image.layer.v1.tar+GZIP",
                              TarGz({{"plugin.wasm", wasm_}}), "plugin.tar.gz")}),
                "differs from application/vnd.oci.image.layer.v1.tar+gzip only in case: the "
                "gateway compares media types exactly");
}

TEST_F(LoadabilityTest, RefusesUncompressedTarUnderGzipType) {
  ExpectRefused(OciImage({Put(oci::kOciLayerTarGzip,
                              archive::testing::RawTar({{.name = "plugin.wasm", .data = wasm_}}))}),
                "is not gzip-compressed: the gateway reads it with gzip");
}

TEST_F(LoadabilityTest, RefusesSymlinkNamedPluginWasm) {
  std::string tar = archive::testing::RawTar({
      {.name = "plugin.wasm", .type = '2', .link = "real.wasm"},
      {.name = "real.wasm", .data = wasm_},
  });
  ExpectRefused(OciImage({Put(oci::kOciLayerTarGzip, GzipStored(tar))}),
                "(\"plugin.wasm\") is a symlink, not a regular file");
  // The gateway got (empty) data from the tar, so it does not fall back to the oci variant.
  oci::Descriptor both =
      OciImage({Put(oci::kWasmContentLayer, wasm_), Put(oci::kOciLayerTarGzip, GzipStored(tar))});
  ExpectRefused(both, "is a symlink");
  EXPECT_EQ(Check(both).path, LoadPath::kOciCompat);
}

TEST_F(LoadabilityTest, RefusesCorruptGzipAndEmptyManifests) {
  ExpectRefused(OciImage({Put(oci::kOciLayerTarGzip, "\x1f\x8bgarbage")}), "cannot read layer");
  ExpectRefused(OciImage({}), "the manifest has no layers");
  ExpectRefused(Image(oci::kDockerManifest, oci::kDockerConfig, {}),
                "Docker schema2 manifest without layers");
}

// Images with nowhere plugin.wasm could be are "not a plugin": no rebuild fixes them.
TEST_F(LoadabilityTest, ImagesWithoutAnyPluginWasmAreNotAPlugin) {
  for (const oci::Descriptor& root :
       {OciImage({Put("application/vnd.test.sig", "signature")}), OciImage({}),
        Image(oci::kDockerManifest, oci::kDockerConfig, {}),
        OciImage({Put(oci::kOciLayerTarGzip, TarGz({{"main.wasm", wasm_}}))})}) {
    LoadabilityReport r = Check(root);
    EXPECT_FALSE(r.loadable);
    EXPECT_TRUE(r.not_a_plugin);
    ASSERT_EQ(r.reasons.size(), 1u) << ::testing::PrintToString(r.reasons);
    EXPECT_THAT(r.reasons[0], ::testing::StartsWith("not a plugin (no plugin.wasm): "));
  }
  // A wrong shape around a real plugin.wasm is no such thing: a rebuild fixes it.
  for (const oci::Descriptor& root :
       {OciImage({Put(oci::kWasmContentLayer, wasm_)}),
        Image(oci::kDockerManifest, oci::kDockerConfig,
              {Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", wasm_}}))}),
        OciImage({Put(oci::kOciLayerTarGzip, TarGz({{"plugin.wasm", wasm_}})),
                  Put(oci::kOciEmpty, "{}")})}) {
    LoadabilityReport r = Check(root);
    EXPECT_FALSE(r.loadable);
    EXPECT_FALSE(r.not_a_plugin) << ::testing::PrintToString(r.reasons);
  }
}

TEST_F(LoadabilityTest, CorruptStoredLayerIsAReasonMissingBlobAnError) {
  oci::Descriptor wasm_layer = Put(oci::kWasmContentLayer, wasm_);
  oci::Descriptor root = OciImage({Put(oci::kWasmConfig, "{}"), wasm_layer});
  target_.Corrupt(wasm_layer.digest, std::string(wasm_.size(), 'x'));
  ExpectRefused(root, "cannot read the wasm layer");

  oci::Descriptor missing = oci::Descriptor::For(oci::kOciManifest, "{\"never\": \"stored\"}");
  auto r = CheckGatewayLoadability(target_, missing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

// --- ClassifyManifest --------------------------------------------------------------------------

TEST(LoadClassifyTest, DecidesFromTheManifestAlone) {
  auto layer = [](std::string_view type) { return oci::Descriptor::For(type, std::string(type)); };
  auto manifest = [](std::string_view type, std::vector<oci::Descriptor> layers) {
    oci::ImageManifestSpec spec;
    spec.media_type = std::string(type);
    spec.config = oci::Descriptor::For(oci::kOciConfig, "{}");
    spec.layers = std::move(layers);
    auto m = oci::Manifest::Parse(oci::BuildImageManifest(spec));
    EXPECT_TRUE(m) << m.error().message();
    return *m;
  };

  ManifestShape compat = ClassifyManifest(
      manifest(oci::kOciManifest, {layer(oci::kWasmContentLayer), layer(oci::kOciLayerTarGzip)}));
  EXPECT_EQ(compat, (ManifestShape{.path = LoadPath::kOciCompat,
                                   .layer_index = 1,
                                   .fallback_layer_index = 0,
                                   .reason = ""}));
  ManifestShape variant = ClassifyManifest(
      manifest(oci::kOciManifest, {layer(oci::kWasmConfig), layer(oci::kWasmContentLayer)}));
  EXPECT_EQ(variant.path, LoadPath::kOciVariant);
  EXPECT_EQ(variant.layer_index, 1u);
  ManifestShape docker =
      ClassifyManifest(manifest(oci::kDockerManifest, {layer(oci::kDockerLayerTarGzip)}));
  EXPECT_EQ(docker.path, LoadPath::kDocker);
  // Docker manifests never fall back to the oci variant.
  ManifestShape docker_variant = ClassifyManifest(
      manifest(oci::kDockerManifest, {layer(oci::kWasmConfig), layer(oci::kWasmContentLayer)}));
  EXPECT_EQ(docker_variant.path, LoadPath::kNone);
  EXPECT_THAT(docker_variant.reason,
              HasSubstr("Docker schema2 manifest whose last layer is "
                        "application/vnd.module.wasm.content.layer.v1+wasm"));

  oci::IndexSpec index_spec;
  index_spec.manifests = {oci::Descriptor::For(oci::kOciManifest, "{}")};
  auto index = oci::Manifest::Parse(oci::BuildIndex(index_spec));
  ASSERT_TRUE(index) << index.error().message();
  ManifestShape of_index = ClassifyManifest(*index);
  EXPECT_EQ(of_index.path, LoadPath::kNone);
  EXPECT_THAT(of_index.reason, HasSubstr("is an index"));
}

}  // namespace
}  // namespace plugctl::plugin
