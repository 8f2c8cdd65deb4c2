#include "plugctl/transfer/copy_tag.h"

#include <gtest/gtest.h>

#include "plugctl/base/file.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/plugin/builder.h"
#include "plugctl/store/memory_target.h"
#include "plugctl/store/oci_layout.h"

namespace plugctl::transfer {
namespace {

// A one-layer image in `layout`: OCI-shaped with `annotations`, or docker-shaped with them as
// config labels. Not tagged.
oci::Descriptor PutImage(store::Target& target, const oci::Annotations& metadata, bool docker) {
  auto put = [&](std::string_view media_type, const std::string& bytes) {
    oci::Descriptor d = oci::Descriptor::For(media_type, bytes);
    StringReader reader(bytes);
    EXPECT_TRUE(target.Push(d, reader));
    return d;
  };
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [k, v] : metadata) labels[k] = v;
  std::string config =
      docker
          ? nlohmann::json{{"config", {{"Labels", labels}}}, {"rootfs", {{"diff_ids", {}}}}}.dump()
          : std::string("{}");
  oci::ImageManifestSpec spec;
  spec.media_type = std::string(docker ? oci::kDockerManifest : oci::kOciManifest);
  spec.config = put(docker ? oci::kDockerConfig : oci::kOciConfig, config);
  spec.layers = {put(docker ? oci::kDockerLayerTarGzip : oci::kOciLayerTarGzip, "layer")};
  if (!docker) spec.annotations = metadata;
  return put(spec.media_type, oci::BuildImageManifest(spec));
}

class CopyTagTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("copy-tag-test");
    ASSERT_TRUE(dir);
    dir_ = std::move(*dir);
    auto layout = store::OciLayoutTarget::Open(dir_->path() / "src", {.create = true});
    ASSERT_TRUE(layout);
    layout_ = std::move(*layout);
  }

  // Lists `image` in index.json without a ref name (what other tools write).
  void AddUntaggedEntry(const oci::Descriptor& image) {
    ASSERT_TRUE(layout_->EditEntries(
        [&](const std::vector<oci::Descriptor>&) -> Result<store::OciLayoutTarget::EntryEdit> {
          return store::OciLayoutTarget::EntryEdit{.remove = {}, .add = {image}};
        }));
  }

  Result<std::string> Choose(store::Target& src, const std::string& from, const std::string& to) {
    Result<Location> src_loc = ParseLocation(from);
    Result<Location> dst_loc = ParseLocation(to);
    EXPECT_TRUE(src_loc && dst_loc) << from << " " << to;
    return ChooseCopyTag(src, *src_loc, *dst_loc);
  }
  std::string Src(const std::string& ref = "") const {
    return "oci:" + (dir_->path() / "src").string() + (ref.empty() ? "" : ":" + ref);
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<store::OciLayoutTarget> layout_;
};

TEST_F(CopyTagTest, TheDestinationsTagWins) {
  store::MemoryTarget src;
  EXPECT_EQ(*Choose(src, "reg.io/a/b:1", "oci:out:2"), "2");
  EXPECT_EQ(*Choose(src, "reg.io/a/b:1", "reg.io/c/d:3"), "3");
}

TEST_F(CopyTagTest, KeepsTheSourcesTagShapedForTheDestination) {
  store::MemoryTarget src;
  EXPECT_EQ(*Choose(src, "reg.io/a/b:1.0", "oci:out"), "1.0");
  EXPECT_EQ(*Choose(src, "reg.io/a/b", "reg.io/c/d"), "latest");
  EXPECT_EQ(*Choose(src, "reg.io/a/b:1.0", "docker-archive:x.tar"), "reg.io/a/b:1.0");
  // A docker archive's NAME:TAG keeps its name locally and gives its TAG to a registry.
  EXPECT_EQ(*Choose(src, "docker-archive:x.tar:basic-auth:1.0", "oci:out"), "basic-auth:1.0");
  EXPECT_EQ(*Choose(src, "docker-archive:x.tar:basic-auth:1.0", "reg.io/c/d"), "1.0");
  EXPECT_EQ(*Choose(src, "oci:in:reg.io/p/x:2.0", "reg.io/c/d"), "2.0");
  // A digest copied into a registry stays reachable there by that digest.
  EXPECT_EQ(*Choose(src, "reg.io/a/b@sha256:" + std::string(64, 'a'), "reg.io/c/d"), "");
}

TEST_F(CopyTagTest, AnUnnamedSourceGivesItsOwnNameForTheImage) {
  oci::Descriptor image = PutImage(*layout_, {}, /*docker=*/false);
  ASSERT_TRUE(layout_->Tag(image, "x:2"));
  ASSERT_TRUE(layout_->Tag(image, "docker.io/library/x:2"));
  EXPECT_EQ(*Choose(*layout_, Src(), "oci:out"), "x:2");
  EXPECT_EQ(*Choose(*layout_, Src("@" + image.digest.ToString()), "oci-archive:o.tar"), "x:2");
  EXPECT_EQ(*Choose(*layout_, Src(), "reg.io/c/d"), "2");
  EXPECT_EQ(*Choose(*layout_, Src(), "docker-archive:o.tar"), "x:2");
}

TEST_F(CopyTagTest, AnUntaggedImageGetsItsSpecVersion) {
  oci::Descriptor image = PutImage(*layout_,
                                   {{std::string(oci::kAnnotationVersion), "1.2.3"},
                                    {std::string(plugin::kAnnotationPluginName), "basic-auth/v1"}},
                                   /*docker=*/false);
  AddUntaggedEntry(image);
  EXPECT_EQ(*Choose(*layout_, Src(), "oci:out"), "1.2.3");
  EXPECT_EQ(*Choose(*layout_, Src(), "reg.io/c/d"), "1.2.3");
  EXPECT_EQ(*Choose(*layout_, Src(), "docker-archive:o.tar"), "basic-auth:1.2.3");
}

TEST_F(CopyTagTest, DockerShapedImagesCarryTheVersionAsALabel) {
  store::MemoryTarget src;
  oci::Descriptor image =
      PutImage(src, {{std::string(oci::kAnnotationVersion), "2.0.0"}}, /*docker=*/true);
  EXPECT_EQ(*Choose(src, "reg.io/a/b@" + image.digest.ToString(), "oci:out"), "2.0.0");
  // A docker archive takes NAME from the source repository, as for a tagged registry source.
  EXPECT_EQ(*Choose(src, "reg.io/a/b@" + image.digest.ToString(), "docker-archive:o.tar"),
            "reg.io/a/b:2.0.0");
}

TEST_F(CopyTagTest, RefusesWhenNothingNamesTheCopy) {
  oci::Descriptor image = PutImage(*layout_, {}, /*docker=*/false);
  AddUntaggedEntry(image);
  for (const char* to : {"oci:out", "docker-archive:o.tar", "reg.io/c/d"}) {
    Result<std::string> tag = Choose(*layout_, Src(), to);
    ASSERT_FALSE(tag) << to << ": " << *tag;
    EXPECT_EQ(tag.error().code(), ErrorCode::kFailedPrecondition);
    EXPECT_NE(tag.error().message().find("name a tag"), std::string::npos) << tag.error().message();
  }
}

TEST(ValidateTagForTest, EachDestinationKindHasItsGrammar) {
  EXPECT_TRUE(ValidateTagFor(LocationKind::kRegistry, "1.0.0"));
  EXPECT_FALSE(ValidateTagFor(LocationKind::kRegistry, "bad!"));
  EXPECT_FALSE(ValidateTagFor(LocationKind::kRegistry, "UPPER/Case:TAG"));
  EXPECT_TRUE(ValidateTagFor(LocationKind::kDockerArchive, "basic-auth:1.0.0"));
  EXPECT_FALSE(ValidateTagFor(LocationKind::kDockerArchive, "1.0.0"));
  EXPECT_FALSE(ValidateTagFor(LocationKind::kDockerArchive, "UPPER/Case:TAG"));
  EXPECT_FALSE(ValidateTagFor(LocationKind::kDockerArchive, "x@sha256:" + std::string(64, '0')));
  EXPECT_TRUE(ValidateTagFor(LocationKind::kOciLayout, "bad!"));
  EXPECT_TRUE(ValidateTagFor(LocationKind::kOciArchive, "UPPER/Case:TAG"));
  EXPECT_FALSE(ValidateTagFor(LocationKind::kOciLayout, "a\nb"));
  EXPECT_FALSE(ValidateTagFor(LocationKind::kOciLayout, ""));
}

// A source name that is no valid tag where it goes is refused, naming DST:TAG, before any
// transfer; a named destination tag or --tag is the way out.
TEST_F(CopyTagTest, SourceNamesInvalidAtTheDestinationAreRefused) {
  oci::Descriptor image = PutImage(*layout_, {}, /*docker=*/false);
  ASSERT_TRUE(layout_->Tag(image, "UPPER/Case:TAG"));
  Result<std::string> tag = Choose(*layout_, Src(), "oci://127.0.0.1:5000/x/y");
  ASSERT_FALSE(tag);
  EXPECT_EQ(tag.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(tag.error().message().find("name a tag: 127.0.0.1:5000/x/y:TAG"), std::string::npos)
      << tag.error().message();
  EXPECT_FALSE(Choose(*layout_, Src(), "docker-archive:" + (dir_->path() / "d.tar").string()));
  EXPECT_EQ(Choose(*layout_, Src(), "oci:" + (dir_->path() / "o").string()).value_or(""),
            "UPPER/Case:TAG");
  EXPECT_EQ(Choose(*layout_, Src(), "oci://127.0.0.1:5000/x/y:1").value_or(""), "1");
}

}  // namespace
}  // namespace plugctl::transfer
