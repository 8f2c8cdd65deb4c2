// plugctl/store/store_test_util.h — shared helpers for the store tests: small but real images
// (config with diff_ids, tar layers) pushed into any Target, file listings, skopeo runs.
//
//   TestImage image = MakeTestImage("v1");
//   ASSERT_TRUE(PushImage(target, image));
//   ASSERT_TRUE(target.Tag(image.manifest, "1.0"));
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "plugctl/archive/tar.h"
#include "plugctl/base/file.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/oci/digest.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/store/target.h"

namespace plugctl::store::testing {

struct TestBlob {
  oci::Descriptor desc;
  std::string bytes;
};

struct TestImage {
  TestBlob config;
  std::vector<TestBlob> layers;
  TestBlob manifest;
  oci::Descriptor desc() const { return manifest.desc; }
};

inline std::string TarOf(const std::string& name, const std::string& content, bool gzip) {
  StringWriter out;
  auto tar = archive::TarWriter::Create(
      out, {.compression = gzip ? archive::Compression::kGzip : archive::Compression::kNone});
  EXPECT_TRUE(tar);
  EXPECT_TRUE((*tar)->AddFile(name, content));
  EXPECT_TRUE((*tar)->Finish());
  return out.Take();
}

inline TestBlob Blob(std::string_view media_type, std::string bytes) {
  return TestBlob{oci::Descriptor::For(media_type, bytes), std::move(bytes)};
}

// A loadable single-layer image whose content depends on `seed`. `docker` selects Docker
// schema2 media types; `gzip` compresses the layer. The config's diff_ids are right, so skopeo
// and docker accept it.
inline TestImage MakeTestImage(const std::string& seed, bool docker = false, bool gzip = true,
                               std::string config_media_type = "") {
  std::string layer_tar = TarOf("plugin.wasm", std::string("\0asm\x01\0\0\0", 8) + seed, false);
  std::string diff_id = oci::Digest::Of(layer_tar).ToString();
  std::string layer_bytes =
      gzip ? TarOf("plugin.wasm", std::string("\0asm\x01\0\0\0", 8) + seed, true) : layer_tar;
  std::string layer_type(docker ? (gzip ? oci::kDockerLayerTarGzip : oci::kDockerLayerTar)
                                : (gzip ? oci::kOciLayerTarGzip : oci::kOciLayerTar));
  if (config_media_type.empty()) {
    config_media_type = std::string(docker ? oci::kDockerConfig : oci::kOciConfig);
  }
  std::string config =
      R"({"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[")" +
      diff_id + R"("]},"history":[{"created_by":")" + seed + R"("}]})";
  TestImage image;
  image.config = Blob(config_media_type, config);
  image.layers.push_back(Blob(layer_type, layer_bytes));
  oci::ImageManifestSpec spec;
  spec.media_type = std::string(docker ? oci::kDockerManifest : oci::kOciManifest);
  spec.config = image.config.desc;
  spec.layers = {image.layers[0].desc};
  image.manifest = Blob(spec.media_type, oci::BuildImageManifest(spec));
  return image;
}

inline Status PushBlob(Target& target, const TestBlob& blob) {
  StringReader reader(blob.bytes);
  return target.Push(blob.desc, reader);
}

inline Status PushImage(Target& target, const TestImage& image) {
  PLUGCTL_RETURN_IF_ERROR(PushBlob(target, image.config));
  for (const TestBlob& layer : image.layers) PLUGCTL_RETURN_IF_ERROR(PushBlob(target, layer));
  return PushBlob(target, image.manifest);
}

inline Result<std::string> FetchAll(Target& target, const oci::Descriptor& desc) {
  PLUGCTL_ASSIGN_OR_RETURN(auto reader, target.Fetch(desc));
  return ReadAllBounded(*reader, 64 << 20, desc.digest.ToString());
}

// Every path below `dir`, relative, sorted.
inline std::vector<std::string> ListFiles(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(fs::relative(it->path(), dir).string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A fixture with a fresh scratch directory, removed after the test. Fixtures built on it start
// their SetUp with ASSERT_NO_FATAL_FAILURE(ScratchDirTest::SetUp()).
class ScratchDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("store-test");
    ASSERT_TRUE(dir);
    scratch_ = std::move(*dir);
  }

  std::unique_ptr<TempDir> scratch_;
};

class FailingReader : public Reader {
 public:
  Result<size_t> Read(std::span<char>) override {
    return MakeError(ErrorCode::kInternal, "must not be read");
  }
};

// Runs skopeo with an accept-anything policy; returns its exit status (or -1 if skopeo is not
// installed, after which the caller should skip).
inline bool HaveSkopeo() { return std::system("skopeo --version >/dev/null 2>&1") == 0; }

inline int RunSkopeo(const fs::path& scratch, const std::string& args,
                     std::string* output = nullptr) {
  fs::path policy = scratch / "policy.json";
  if (!fs::exists(policy)) {
    EXPECT_TRUE(WriteFileAtomic(policy, R"({"default":[{"type":"insecureAcceptAnything"}]})"));
  }
  fs::path out_file = scratch / "skopeo.out";
  std::string cmd =
      "skopeo --policy " + policy.string() + " " + args + " >" + out_file.string() + " 2>&1";
  int rc = std::system(cmd.c_str());
  auto out = ReadFileBounded(out_file, 1 << 20);
  if (output != nullptr) *output = out ? *out : "";
  if (rc != 0) ADD_FAILURE() << cmd << "\n" << (out ? *out : "");
  return rc;
}

}  // namespace plugctl::store::testing
