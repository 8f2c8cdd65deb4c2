#include "plugctl/transfer/copy.h"

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/store/capabilities.h"
#include "plugctl/store/content.h"
#include "plugctl/store/memory_target.h"

namespace plugctl::transfer {
namespace {

using store::MemoryTarget;

struct TestImage {
  oci::Descriptor manifest;
  std::vector<oci::Descriptor> layers;
};

TestImage PutImage(MemoryTarget& target, const std::string& tag, int layers, size_t layer_size) {
  TestImage image;
  oci::ImageManifestSpec spec;
  spec.config = target.Put(oci::kUnknownConfig, "{}");
  for (int i = 0; i < layers; ++i) {
    std::string bytes(layer_size, static_cast<char>('a' + i));
    bytes += tag;
    oci::Descriptor layer = target.Put(oci::kOciLayerTarGzip, bytes);
    layer.annotations[std::string(oci::kAnnotationTitle)] = "layer" + std::to_string(i);
    spec.layers.push_back(layer);
  }
  image.layers = spec.layers;
  image.manifest = target.Put(oci::kOciManifest, oci::BuildImageManifest(spec));
  EXPECT_TRUE(target.Tag(image.manifest, tag).has_value());
  return image;
}

TEST(CopyImageTest, PreservesDigestAndCopiesEveryBlob) {
  MemoryTarget src("src"), dst("dst");
  TestImage image = PutImage(src, "1.0.0", 3, 1000);
  auto result = CopyImage(src, "1.0.0", dst, CopyOptions{.tags = {"1.0.0"}});
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(result->root.digest, image.manifest.digest);
  EXPECT_EQ(result->blobs_copied, 4u);  // config + 3 layers
  EXPECT_EQ(result->blobs_skipped, 0u);
  auto resolved = dst.Resolve("1.0.0");
  ASSERT_TRUE(resolved.has_value());
  EXPECT_EQ(resolved->digest, image.manifest.digest);
  auto manifest = store::FetchManifest(dst, *resolved);
  ASSERT_TRUE(manifest.has_value());
  EXPECT_EQ(manifest->layers, image.layers);
}

TEST(CopyImageTest, SecondCopySkipsEverything) {
  MemoryTarget src("src"), dst("dst");
  PutImage(src, "v1", 2, 100);
  ASSERT_TRUE(CopyImage(src, "v1", dst, {}).has_value());
  auto again = CopyImage(src, "v1", dst, {});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->blobs_copied, 0u);
  EXPECT_EQ(again->blobs_skipped, 3u);
  EXPECT_EQ(again->bytes_copied, 0u);
}

TEST(CopyImageTest, CorruptSourceBlobFailsAndDestinationHasNoManifest) {
  MemoryTarget src("src"), dst("dst");
  TestImage image = PutImage(src, "v1", 3, 5000);
  src.Corrupt(image.layers[1].digest, std::string(5002, 'z'));
  auto result = CopyImage(src, "v1", dst, CopyOptions{.concurrency = 2, .tags = {"v1"}});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kDataLoss) << result.error().message();
  EXPECT_NE(result.error().message().find(image.layers[1].digest.ToString()), std::string::npos)
      << result.error().message();
  EXPECT_FALSE(*dst.Exists(image.manifest));
  EXPECT_FALSE(*dst.Exists(image.layers[1]));
  EXPECT_FALSE(dst.Resolve("v1").has_value());
}

TEST(CopyImageTest, TruncatedSourceBlobIsDataLoss) {
  MemoryTarget src("src"), dst("dst");
  TestImage image = PutImage(src, "v1", 1, 5000);
  src.Corrupt(image.layers[0].digest, std::string(10, 'a'));
  auto result = CopyImage(src, "v1", dst, {});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(result.error().message().find("truncated"), std::string::npos)
      << result.error().message();
}

TEST(CopyImageTest, CopiesIndexRecursivelyChildrenFirst) {
  MemoryTarget src("src"), dst("dst");
  TestImage amd64 = PutImage(src, "amd64", 2, 100);
  TestImage arm64 = PutImage(src, "arm64", 2, 100);
  oci::IndexSpec spec;
  amd64.manifest.platform = oci::Platform{.architecture = "amd64", .os = "linux"};
  arm64.manifest.platform = oci::Platform{.architecture = "arm64", .os = "linux"};
  spec.manifests = {amd64.manifest, arm64.manifest};
  oci::Descriptor index = src.Put(oci::kOciIndex, oci::BuildIndex(spec));
  ASSERT_TRUE(src.Tag(index, "multi").has_value());

  auto result = CopyImage(src, "multi", dst, CopyOptions{.tags = {"multi"}});
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(result->manifests, 3u);
  EXPECT_EQ(result->root.digest, index.digest);
  EXPECT_TRUE(*dst.Exists(amd64.manifest));
  EXPECT_TRUE(*dst.Exists(arm64.manifest));
  EXPECT_EQ(dst.Resolve("multi")->digest, index.digest);
}

TEST(CopyImageTest, ReportsProgressForEveryBlob) {
  MemoryTarget src("src"), dst("dst");
  PutImage(src, "v1", 5, 300000);
  std::atomic<uint64_t> bytes{0}, finished{0}, planned_bytes{0};
  CopyOptions options;
  options.concurrency = 4;
  options.progress = [&](const ProgressEvent& e) {
    if (e.kind == ProgressEvent::Kind::kBytes) bytes += e.bytes;
    if (e.kind == ProgressEvent::Kind::kFinished) ++finished;
    if (e.kind == ProgressEvent::Kind::kPlanned) planned_bytes = e.total_bytes;
  };
  auto result = CopyImage(src, "v1", dst, options);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(finished.load(), 6u);
  EXPECT_EQ(bytes.load(), result->bytes_copied);
  EXPECT_EQ(planned_bytes.load(), result->bytes_copied);
}

TEST(CopyImageTest, UnknownReferenceIsNotFound) {
  MemoryTarget src("src"), dst("dst");
  auto result = CopyImage(src, "nope", dst, {});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(result.error().message().find("nope"), std::string::npos);
}

TEST(CopyImageTest, RefusesToCopyABlobAsRoot) {
  MemoryTarget src("src"), dst("dst");
  oci::Descriptor blob = src.Put(oci::kOciLayerTarGzip, "data");
  auto result = CopyGraph(src, blob, dst, {});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kFailedPrecondition);
}

TEST(CopyImageTest, SelfReferencingIndexIsBounded) {
  MemoryTarget src("src"), dst("dst");
  // An index cannot contain its own digest, but a chain of nested indexes can
  // be arbitrarily deep; the walker must stop.
  oci::Descriptor current = PutImage(src, "leaf", 1, 10).manifest;
  for (int i = 0; i < 10; ++i) {
    oci::IndexSpec spec;
    spec.manifests = {current};
    current = src.Put(oci::kOciIndex, oci::BuildIndex(spec));
  }
  auto result = CopyGraph(src, current, dst, {});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::kResourceExhausted);
}

// A MemoryTarget with a registry repository's capabilities: it mounts blobs from other
// FakeRepositories of the same FakeRegistry and stores a manifest by tag in one call.
struct FakeRegistry {
  std::map<std::string, MemoryTarget*> repositories;
};

class FakeRepository : public MemoryTarget, public store::Mounter, public store::TagPusher {
 public:
  FakeRepository(FakeRegistry& registry, std::string repository)
      : MemoryTarget(repository), registry_(registry), repository_(std::move(repository)) {
    registry_.repositories[repository_] = this;
  }

  store::Mounter* mounter() override { return this; }
  store::TagPusher* tag_pusher() override { return this; }

  store::MountSource mount_source() const override {
    return store::MountSource{.registry = &registry_, .repository = repository_};
  }
  Result<bool> MountFrom(const oci::Descriptor& desc, const store::MountSource& from) override {
    if (from.registry != &registry_ || from.repository == repository_) return false;
    ++mount_requests;
    MemoryTarget* source = registry_.repositories.at(from.repository);
    PLUGCTL_ASSIGN_OR_RETURN(auto reader, source->Fetch(desc));
    PLUGCTL_RETURN_IF_ERROR(Push(desc, *reader));
    return true;
  }

  Status PushTagged(const oci::Descriptor& desc, Reader& content, std::string_view tag) override {
    pushed_by_tag.emplace_back(tag);
    PLUGCTL_RETURN_IF_ERROR(Push(desc, content));
    return Tag(desc, tag);
  }

  std::atomic<int> mount_requests{0};
  std::vector<std::string> pushed_by_tag;

 private:
  FakeRegistry& registry_;
  std::string repository_;
};

TEST(CopyCapabilitiesTest, MountsBetweenRepositoriesOfOneRegistry) {
  FakeRegistry registry;
  FakeRepository src(registry, "plugins/a"), dst(registry, "mirror/a");
  TestImage image = PutImage(src, "1.0", 2, 100);
  auto result = CopyImage(src, "1.0", dst, {});
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(result->blobs_mounted, 3u);  // config + 2 layers
  EXPECT_EQ(result->blobs_copied, 0u);
  EXPECT_EQ(dst.mount_requests.load(), 3);
  EXPECT_TRUE(*dst.Exists(image.manifest));
}

TEST(CopyCapabilitiesTest, UploadsBetweenRegistries) {
  FakeRegistry one, two;
  FakeRepository src(one, "plugins/a"), dst(two, "plugins/a");
  PutImage(src, "1.0", 2, 100);
  auto result = CopyImage(src, "1.0", dst, {});
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(result->blobs_mounted, 0u);
  EXPECT_EQ(result->blobs_copied, 3u);
  EXPECT_EQ(dst.mount_requests.load(), 0);
}

TEST(CopyCapabilitiesTest, UploadsFromATargetThatCannotBeMounted) {
  FakeRegistry registry;
  MemoryTarget src("layout");
  FakeRepository dst(registry, "plugins/a");
  PutImage(src, "1.0", 1, 100);
  auto result = CopyImage(src, "1.0", dst, {});
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(result->blobs_mounted, 0u);
  EXPECT_EQ(result->blobs_copied, 2u);
}

TEST(CopyCapabilitiesTest, RootGoesUpByItsFirstTag) {
  FakeRegistry registry;
  MemoryTarget src("src");
  FakeRepository dst(registry, "plugins/a");
  TestImage image = PutImage(src, "1.0", 1, 100);
  auto result = CopyImage(src, "1.0", dst, CopyOptions{.tags = {"1.0", "latest"}});
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(dst.pushed_by_tag, (std::vector<std::string>{"1.0"}));
  for (const char* tag : {"1.0", "latest"}) {
    auto resolved = dst.Resolve(tag);
    ASSERT_TRUE(resolved.has_value()) << tag;
    EXPECT_EQ(resolved->digest, image.manifest.digest);
  }
}

TEST(CopyCapabilitiesTest, LocalTargetsHaveNoCapabilities) {
  MemoryTarget target;
  EXPECT_EQ(target.mounter(), nullptr);
  EXPECT_EQ(target.tag_pusher(), nullptr);
  EXPECT_EQ(target.deleter(), nullptr);
  EXPECT_EQ(target.referrer_lister(), nullptr);
}

}  // namespace
}  // namespace plugctl::transfer
