#include "plugctl/plugin/plugin_server.h"

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "support/memory_images.h"
#include "support/tar_builder.h"
#include "support/wasm_builder.h"
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plugctl/base/file.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"

namespace plugctl::plugin {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::string WasmModule(std::string_view tag = "a") {
  return test_support::ProxyWasmModule(test_support::kProxyWasmExports,
                                       test_support::CustomSection("tag", tag));
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

// --- metadata.txt ----------------------------------------------------------------------------

TEST(ParseRfc3339Test, AcceptsUtcOffsetsAndFractions) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339("2025-03-01T10:00:00Z"), 1740823200);
  EXPECT_EQ(ParseRfc3339("2025-03-01T10:00:00.123456789Z"), 1740823200);
  EXPECT_EQ(ParseRfc3339("2025-03-01T18:00:00+08:00"), 1740823200);
  EXPECT_EQ(ParseRfc3339("2025-03-01T05:30:00-04:30"), 1740823200);
  EXPECT_EQ(ParseRfc3339("2025-03-01t10:00:00z"), 1740823200);
}

TEST(ParseRfc3339Test, RejectsEverythingElse) {
  for (const char* bad :
       {"", "2025-03-01", "2025-03-01T10:00:00", "2025-03-01T10:00Z", "2025-02-31T10:00:00Z",
        "2025-13-01T10:00:00Z", "2025-03-01T24:00:00Z", "2025-03-01T10:00:00.Z",
        "2025-03-01T10:00:00+0800", "2025-03-01T10:00:00Zjunk", "20x5-03-01T10:00:00Z"}) {
    EXPECT_EQ(ParseRfc3339(bad), std::nullopt) << bad;
  }
}

TEST(MetadataTxtTest, FormatsTheSixLines) {
  PluginFileInfo info;
  info.size = 41235;
  info.sha256 = oci::Digest::Of("foo");
  info.md5 = "9e107d9d372bb6826bd81d3542a419d6";
  info.created = 1740823200;
  info.modified = 1740823260;
  EXPECT_EQ(FormatMetadataTxt("basic-auth", info),
            "Plugin Name: basic-auth\n"
            "Size: 41235 bytes\n"
            "Last Modified: 2025-03-01T10:01:00Z\n"
            "Created: 2025-03-01T10:00:00Z\n"
            "MD5: 9e107d9d372bb6826bd81d3542a419d6\n"
            "SHA256: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\n");
  EXPECT_EQ(MetadataSha256(FormatMetadataTxt("basic-auth", info)), info.sha256);
}

TEST(MetadataTxtTest, Sha256LineIsFoundOrNot) {
  const oci::Digest d = oci::Digest::Of("foo");
  EXPECT_EQ(MetadataSha256("Plugin Name: x\r\nSHA256: " + d.hex() + "\r\n"), d);
  EXPECT_EQ(MetadataSha256("SHA256: " + d.hex()), d);
  EXPECT_EQ(MetadataSha256(""), std::nullopt);
  // The plugin-server's own five lines: no SHA256, so a rerun rewrites once.
  EXPECT_EQ(MetadataSha256("Plugin Name: x\nSize: 3 bytes\nMD5: abc\n"), std::nullopt);
  EXPECT_EQ(MetadataSha256("SHA256: xyz\n"), std::nullopt);
  EXPECT_EQ(MetadataSha256("SHA256: " + d.hex().substr(1) + "\n"), std::nullopt);
}

TEST(FileMd5HexTest, MatchesTheKnownDigest) {
  auto tmp = TempDir::Create("plugctl-md5-test");
  ASSERT_TRUE(tmp);
  ASSERT_TRUE(WriteFileAtomic((*tmp)->path() / "f", "abc"));
  EXPECT_EQ(FileMd5Hex((*tmp)->path() / "f"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_FALSE(FileMd5Hex((*tmp)->path() / "missing"));
}

// --- WritePluginServerVersion ----------------------------------------------------------------

class PluginServerWriteTest : public ::testing::Test, protected test_support::MemoryImages {
 protected:
  void SetUp() override {
    auto tmp = TempDir::Create("plugctl-plugin-server-test");
    ASSERT_TRUE(tmp);
    tmp_ = std::move(*tmp);
    tree_ = tmp_->path() / "tree";
  }

  oci::Descriptor HigressImage(const std::string& wasm) {
    return OciImage({
        Put(oci::kWasmSpec, "apiVersion: 1.0.0\n", "spec.yaml"),
        Put(oci::kOciLayerTarGzip, test_support::TarGz({{"plugin.wasm", wasm}}), "plugin.tar.gz"),
    });
  }

  Result<PluginServerWriteResult> Write(const oci::Descriptor& root, std::string_view name = "x",
                                        std::string_view version = "1.0.0", bool dry_run = false) {
    PluginServerWriteOptions options;
    options.dry_run = dry_run;
    return WritePluginServerVersion(target_, root, tree_, name, version, options);
  }

  std::unique_ptr<TempDir> tmp_;
  fs::path tree_;
};

TEST_F(PluginServerWriteTest, WritesWasmAndMetadata) {
  const std::string wasm = WasmModule();
  auto r = Write(HigressImage(wasm), "basic-auth", "1.0.0");
  ASSERT_TRUE(r) << r.error().message();
  const fs::path dir = tree_ / "basic-auth" / "1.0.0";
  EXPECT_EQ(r->dir, dir);
  EXPECT_FALSE(r->unchanged);
  EXPECT_EQ(ReadFile(dir / "plugin.wasm"), wasm);
  EXPECT_EQ(DirNames(dir), (std::set<std::string>{"metadata.txt", "plugin.wasm"}));
  // The staging directory is gone: only the version is left under the name.
  EXPECT_EQ(DirNames(tree_ / "basic-auth"), (std::set<std::string>{"1.0.0"}));

  const std::string metadata = ReadFile(dir / "metadata.txt");
  auto md5 = FileMd5Hex(dir / "plugin.wasm");
  ASSERT_TRUE(md5);
  EXPECT_EQ(r->info.md5, *md5);
  EXPECT_EQ(r->info.sha256, oci::Digest::Of(wasm));
  EXPECT_EQ(r->info.size, wasm.size());
  EXPECT_EQ(metadata, FormatMetadataTxt("basic-auth", r->info));
  EXPECT_THAT(metadata, HasSubstr("Plugin Name: basic-auth\n"));
  EXPECT_THAT(metadata, HasSubstr(fmt::format("Size: {} bytes\n", wasm.size())));
  EXPECT_THAT(metadata, HasSubstr("SHA256: " + oci::Digest::Of(wasm).hex() + "\n"));
  // No created time in the image: the time written.
  EXPECT_EQ(r->info.created, r->info.modified);
  EXPECT_GT(r->info.modified, 1700000000);
}

TEST_F(PluginServerWriteTest, CreatedIsTheImagesTime) {
  auto image = [&](const std::string& config, oci::Annotations annotations) {
    oci::ImageManifestSpec spec;
    spec.config = Put(oci::kOciConfig, config);
    spec.layers.push_back(
        Put(oci::kOciLayerTarGzip, test_support::TarGz({{"plugin.wasm", WasmModule()}})));
    spec.annotations = std::move(annotations);
    return Put(oci::kOciManifest, oci::BuildImageManifest(spec));
  };
  auto by_annotation = Write(
      image("{}", {{std::string(oci::kAnnotationCreated), "2025-03-01T18:00:00+08:00"}}), "a");
  ASSERT_TRUE(by_annotation) << by_annotation.error().message();
  EXPECT_EQ(by_annotation->info.created, 1740823200);
  EXPECT_THAT(ReadFile(tree_ / "a" / "1.0.0" / "metadata.txt"),
              HasSubstr("Created: 2025-03-01T10:00:00Z\n"));
  auto by_config = Write(image(R"({"created":"2025-03-01T10:00:00.5Z"})", {}), "b");
  ASSERT_TRUE(by_config) << by_config.error().message();
  EXPECT_EQ(by_config->info.created, 1740823200);
  // A reproducible build's epoch is no time at all: the time written.
  auto epoch = Write(image(R"({"created":"1970-01-01T00:00:00Z"})", {}), "c");
  ASSERT_TRUE(epoch);
  EXPECT_EQ(epoch->info.created, epoch->info.modified);
}

TEST_F(PluginServerWriteTest, RerunTouchesNothing) {
  const oci::Descriptor root = HigressImage(WasmModule());
  ASSERT_TRUE(Write(root));
  const fs::path dir = tree_ / "x" / "1.0.0";
  const auto wasm_time = fs::last_write_time(dir / "plugin.wasm");
  const auto metadata_time = fs::last_write_time(dir / "metadata.txt");
  const std::string metadata = ReadFile(dir / "metadata.txt");
  auto again = Write(root);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_TRUE(again->unchanged);
  EXPECT_EQ(fs::last_write_time(dir / "plugin.wasm"), wasm_time);
  EXPECT_EQ(fs::last_write_time(dir / "metadata.txt"), metadata_time);
  EXPECT_EQ(ReadFile(dir / "metadata.txt"), metadata);
  EXPECT_EQ(again->info.md5, FileMd5Hex(dir / "plugin.wasm").value());
  EXPECT_EQ(DirNames(tree_ / "x"), (std::set<std::string>{"1.0.0"}));
}

TEST_F(PluginServerWriteTest, NewBytesAreRewrittenKeepingCreated) {
  ASSERT_TRUE(Write(HigressImage(WasmModule("a"))));
  const fs::path dir = tree_ / "x" / "1.0.0";
  // A Created from an earlier run (the image has no time of its own).
  std::string old = ReadFile(dir / "metadata.txt");
  PluginFileInfo info;
  info.sha256 = *MetadataSha256(old);
  info.size = fs::file_size(dir / "plugin.wasm");
  info.created = 1600000000;
  ASSERT_TRUE(WriteFileAtomic(dir / "metadata.txt", FormatMetadataTxt("x", info)));

  const std::string wasm = WasmModule("b");
  auto r = Write(HigressImage(wasm));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->unchanged);
  EXPECT_EQ(ReadFile(dir / "plugin.wasm"), wasm);
  EXPECT_EQ(r->info.created, 1600000000);
  EXPECT_EQ(MetadataSha256(ReadFile(dir / "metadata.txt")), oci::Digest::Of(wasm));
}

TEST_F(PluginServerWriteTest, MissingOrTruncatedFilesAreRewritten) {
  const std::string wasm = WasmModule();
  const oci::Descriptor root = HigressImage(wasm);
  ASSERT_TRUE(Write(root));
  const fs::path dir = tree_ / "x" / "1.0.0";
  ASSERT_TRUE(WriteFileAtomic(dir / "plugin.wasm", wasm.substr(0, 10)));
  auto r = Write(root);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->unchanged);
  EXPECT_EQ(ReadFile(dir / "plugin.wasm"), wasm);
  fs::remove(dir / "metadata.txt");
  r = Write(root);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->unchanged);
  EXPECT_EQ(MetadataSha256(ReadFile(dir / "metadata.txt")), oci::Digest::Of(wasm));
}

TEST_F(PluginServerWriteTest, ShapesTheGatewayRefusesAreStillServed) {
  // A single raw wasm layer: not an OCI shape the gateway loads, but plain HTTP serves the file.
  const std::string wasm = WasmModule();
  auto r = Write(OciImage({Put(oci::kWasmContentLayer, wasm, "plugin.wasm")}));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(ReadFile(tree_ / "x" / "1.0.0" / "plugin.wasm"), wasm);
}

TEST_F(PluginServerWriteTest, RefusesWhatTheGatewayCannotRun) {
  const std::string not_wasm = "\0asm\x01\0\0\0garbage";
  auto bad = Write(HigressImage(std::string(not_wasm.data(), 15)));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_THAT(bad.error().message(), HasSubstr("plugin.wasm"));

  // A valid module without the proxy-wasm ABI.
  auto no_abi = Write(HigressImage(test_support::ProxyWasmModule({"malloc"})));
  ASSERT_FALSE(no_abi);
  EXPECT_EQ(no_abi.error().code(), ErrorCode::kFailedPrecondition);

  auto missing = Write(OciImage({Put(oci::kOciLayerTarGzip, test_support::TarGz({{"x", "y"}}))}));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  // Nothing left behind: no version directory, no staging directory.
  EXPECT_EQ(DirNames(tree_ / "x"), std::set<std::string>{});
}

TEST_F(PluginServerWriteTest, UnsafeNamesAreRefused) {
  const oci::Descriptor root = HigressImage(WasmModule());
  for (auto [name, version] : std::vector<std::pair<std::string, std::string>>{
           {"../x", "1.0.0"}, {"x", ".."}, {"", "1"}, {"x", "a/b"}, {".hidden", "1"}}) {
    auto r = Write(root, name, version);
    ASSERT_FALSE(r) << name << " " << version;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(fs::exists(tree_));
}

TEST_F(PluginServerWriteTest, DryRunWritesNothing) {
  const oci::Descriptor root = HigressImage(WasmModule());
  auto r = Write(root, "x", "1.0.0", /*dry_run=*/true);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->unchanged);
  EXPECT_FALSE(fs::exists(tree_));
  ASSERT_TRUE(Write(root));
  r = Write(root, "x", "1.0.0", /*dry_run=*/true);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->unchanged);
}

}  // namespace
}  // namespace plugctl::plugin
