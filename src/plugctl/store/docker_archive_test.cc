#include "plugctl/store/docker_archive.h"

#include <optional>

#include "support/raw_tar.h"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "plugctl/archive/tar.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/store/oci_layout.h"
#include "plugctl/store/store_test_util.h"

namespace plugctl::store {
namespace {

using archive::testing::RawTar;
using archive::testing::RawTarEntry;
using testing::Blob;
using testing::FetchAll;
using testing::ListFiles;
using testing::MakeTestImage;
using testing::PushBlob;
using testing::PushImage;
using testing::TarOf;
using testing::TestBlob;
using testing::TestImage;

class DockerArchiveTest : public testing::ScratchDirTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ScratchDirTest::SetUp());
    file_ = scratch_->path() / "saved.tar";
  }

  // Reads a member of a tar into memory.
  std::string Member(const fs::path& file, const std::string& name) {
    auto tar = archive::TarReader::Open(file);
    EXPECT_TRUE(tar);
    for (;;) {
      auto entry = (*tar)->Next();
      if (!entry || !*entry) break;
      if ((*entry)->path == name) return *ReadAllBounded((*tar)->data(), 64 << 20, name);
    }
    ADD_FAILURE() << name << " not in " << file;
    return "";
  }

  Result<oci::Manifest> ResolveManifest(Target& target, std::string_view ref) {
    PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor desc, target.Resolve(ref));
    PLUGCTL_ASSIGN_OR_RETURN(std::string raw, FetchAll(target, desc));
    return oci::Manifest::Parse(raw, desc.media_type);
  }

  // A `docker save` (docker < 25) archive: "<id>.json" config, "<id>/layer.tar" layers.
  std::string LegacyArchive(const TestImage& image, const std::vector<std::string>& tags,
                            const std::string& layer_bytes) {
    std::string id = image.config.desc.digest.hex();
    nlohmann::json manifest = nlohmann::json::array(
        {{{"Config", id + ".json"}, {"RepoTags", tags}, {"Layers", {"abc123/layer.tar"}}}});
    return RawTar({
        {.name = "abc123/", .type = '5'},
        {.name = "abc123/VERSION", .data = "1.0"},
        {.name = "abc123/layer.tar", .data = layer_bytes},
        {.name = id + ".json", .data = image.config.bytes},
        {.name = "manifest.json", .data = manifest.dump()},
        {.name = "repositories", .data = R"({"basic-auth":{"1.0":"abc123"}})"},
    });
  }

  fs::path file_;
};

TEST_F(DockerArchiveTest, WriteThenReadKeepsDigests) {
  TestImage image = MakeTestImage("docker", /*docker=*/true);
  {
    auto out = OpenDockerArchive(file_, OpenMode::kWrite);
    ASSERT_TRUE(out) << out.error().message();
    ASSERT_TRUE(PushImage(**out, image));
    ASSERT_TRUE((*out)->Tag(image.desc(), "basic-auth:1.0"));
    ASSERT_TRUE((*out)->Tag(image.desc(), "reg.example.com/plugins/basic-auth:1.0"));
    EXPECT_EQ(*(*out)->Tags(), (std::vector<std::string>{
                                   "basic-auth:1.0", "reg.example.com/plugins/basic-auth:1.0"}));
    EXPECT_EQ((*out)->Resolve("basic-auth:1.0")->digest, image.desc().digest);
    ASSERT_TRUE((*out)->Commit());
  }
  auto manifest_json = nlohmann::json::parse(Member(file_, "manifest.json"));
  ASSERT_EQ(manifest_json.size(), 1u);
  EXPECT_EQ(manifest_json[0]["Config"], "blobs/sha256/" + image.config.desc.digest.hex());
  EXPECT_EQ(manifest_json[0]["Layers"],
            nlohmann::json::array({"blobs/sha256/" + image.layers[0].desc.digest.hex()}));
  EXPECT_EQ(manifest_json[0]["RepoTags"],
            nlohmann::json::array({"basic-auth:1.0", "reg.example.com/plugins/basic-auth:1.0"}));
  auto index = nlohmann::json::parse(Member(file_, "index.json"));
  EXPECT_EQ(index["manifests"][0]["annotations"]["io.containerd.image.name"],
            "docker.io/library/basic-auth:1.0");

  auto in = OpenDockerArchive(file_, OpenMode::kRead);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ((*in)->Describe(), "docker-archive:" + file_.string());
  EXPECT_EQ(*(*in)->Tags(),
            (std::vector<std::string>{"basic-auth:1.0", "reg.example.com/plugins/basic-auth:1.0"}));
  for (std::string ref :
       std::vector<std::string>{"basic-auth:1.0", "docker.io/library/basic-auth:1.0", "",
                                image.desc().digest.ToString()}) {
    auto got = (*in)->Resolve(ref);
    ASSERT_TRUE(got) << ref << ": " << got.error().message();
    EXPECT_EQ(got->digest, image.desc().digest) << ref;
  }
  EXPECT_EQ(*FetchAll(**in, image.layers[0].desc), image.layers[0].bytes);
  auto push = (*in)->Tag(image.desc(), "x:1");
  ASSERT_FALSE(push);
  EXPECT_EQ(push.error().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(DockerArchiveTest, WriteRefusesToReplaceAnUnrelatedFile) {
  TestImage image = MakeTestImage("replace", /*docker=*/true);
  for (const std::string& content :
       {std::string("precious notes\n"), TarOf("oci-layout", "{}", false)}) {
    ASSERT_TRUE(WriteFileAtomic(file_, content));
    auto out = OpenDockerArchive(file_, OpenMode::kWrite);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code(), ErrorCode::kFailedPrecondition);
    EXPECT_NE(out.error().message().find("not a docker archive"), std::string::npos)
        << out.error().message();
    EXPECT_EQ(*ReadFileBounded(file_, 1 << 20), content);
  }
  // An existing docker archive is added to, an empty file replaced.
  for (int i = 0; i < 2; ++i) {
    if (i == 0) {
      ASSERT_TRUE(RemoveAll(file_));
    } else {
      ASSERT_TRUE(WriteFileAtomic(file_, ""));
    }
    auto out = OpenDockerArchive(file_, OpenMode::kWrite);
    ASSERT_TRUE(out) << out.error().message();
    ASSERT_TRUE(PushImage(**out, image));
    ASSERT_TRUE((*out)->Tag(image.desc(), "x:1"));
    ASSERT_TRUE((*out)->Commit());
    auto again = OpenDockerArchive(file_, OpenMode::kWrite);
    ASSERT_TRUE(again) << again.error().message();
  }
}

// Writing to an existing archive adds to it, as with oci-archive; an unchanged one is not
// rewritten.
TEST_F(DockerArchiveTest, WritingAddsToAnExistingArchive) {
  TestImage a = MakeTestImage("acc-a", /*docker=*/true);
  TestImage b = MakeTestImage("acc-b", /*docker=*/true);
  for (const auto& [image, tag] : {std::pair{&a, "a:1"}, std::pair{&b, "reg.io/b/b:1"}}) {
    auto out = OpenDockerArchive(file_, OpenMode::kWrite);
    ASSERT_TRUE(out) << out.error().message();
    ASSERT_TRUE(PushImage(**out, *image));
    ASSERT_TRUE((*out)->Tag(image->desc(), tag));
    ASSERT_TRUE((*out)->Commit());
  }
  auto manifest_json = nlohmann::json::parse(Member(file_, "manifest.json"));
  ASSERT_EQ(manifest_json.size(), 2u) << manifest_json.dump();
  EXPECT_EQ(manifest_json[0]["RepoTags"], nlohmann::json::array({"a:1"}));
  EXPECT_EQ(manifest_json[1]["RepoTags"], nlohmann::json::array({"reg.io/b/b:1"}));
  auto in = OpenDockerArchive(file_, OpenMode::kRead);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ((*in)->Resolve("a:1")->digest, a.desc().digest);
  EXPECT_EQ((*in)->Resolve("reg.io/b/b:1")->digest, b.desc().digest);
  EXPECT_EQ(*FetchAll(**in, a.layers[0].desc), a.layers[0].bytes);

  struct stat before {};
  ASSERT_EQ(::stat(file_.c_str(), &before), 0);
  // Pushing what is there and tagging an image with its own tag change nothing.
  auto again = OpenDockerArchive(file_, OpenMode::kWrite);
  ASSERT_TRUE(again) << again.error().message();
  ASSERT_TRUE(PushImage(**again, a));
  ASSERT_TRUE((*again)->Tag(a.desc(), "a:1"));
  ASSERT_TRUE((*again)->Commit());
  auto untouched = OpenDockerArchive(file_, OpenMode::kWrite);
  ASSERT_TRUE(untouched);
  ASSERT_TRUE((*untouched)->Commit());
  EXPECT_EQ(nlohmann::json::parse(Member(file_, "manifest.json")), manifest_json);
  struct stat after {};
  ASSERT_EQ(::stat(file_.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino) << "rewritten without a change";
}

// A tag the archive has (as given or normalized) moves to the new image; the image it left
// has no name any more and drops out of manifest.json.
TEST_F(DockerArchiveTest, ExistingTagMovesToTheNewImage) {
  TestImage a = MakeTestImage("move-a", /*docker=*/true);
  TestImage b = MakeTestImage("move-b", /*docker=*/true);
  {
    auto out = OpenDockerArchive(file_, OpenMode::kWrite);
    ASSERT_TRUE(out);
    ASSERT_TRUE(PushImage(**out, a));
    ASSERT_TRUE((*out)->Tag(a.desc(), "x:1"));
    ASSERT_TRUE((*out)->Tag(a.desc(), "x:keep"));
    ASSERT_TRUE((*out)->Commit());
  }
  {
    auto out = OpenDockerArchive(file_, OpenMode::kWrite);
    ASSERT_TRUE(out);
    ASSERT_TRUE(PushImage(**out, b));
    ASSERT_TRUE((*out)->Tag(b.desc(), "docker.io/library/x:1"));
    ASSERT_TRUE((*out)->Commit());
  }
  auto manifest_json = nlohmann::json::parse(Member(file_, "manifest.json"));
  ASSERT_EQ(manifest_json.size(), 2u) << manifest_json.dump();
  // The moved tag keeps its place in index.json, so its image comes first now.
  EXPECT_EQ(manifest_json[0]["RepoTags"], nlohmann::json::array({"docker.io/library/x:1"}));
  EXPECT_EQ(manifest_json[0]["Config"], "blobs/sha256/" + b.config.desc.digest.hex());
  EXPECT_EQ(manifest_json[1]["RepoTags"], nlohmann::json::array({"x:keep"}));
  auto in = OpenDockerArchive(file_, OpenMode::kRead);
  ASSERT_TRUE(in);
  EXPECT_EQ((*in)->Resolve("x:1")->digest, b.desc().digest);
  EXPECT_EQ((*in)->Resolve("x:keep")->digest, a.desc().digest);
}

// `plugctl tag` on a `docker save` archive: the writer reads the file, tags in place, and keeps
// the layer bytes and an unnamed image it found.
TEST_F(DockerArchiveTest, TagsALegacyArchiveInPlaceAndKeepsUnnamedImages) {
  TestImage image = MakeTestImage("legacy-tag", /*docker=*/true, /*gzip=*/false);
  ASSERT_TRUE(
      WriteFileAtomic(file_, LegacyArchive(image, {"basic-auth:1.0"}, image.layers[0].bytes)));
  std::optional<oci::Digest> digest;
  {
    auto out = OpenDockerArchive(file_, OpenMode::kWrite);
    ASSERT_TRUE(out) << out.error().message();
    auto only = (*out)->Resolve("");
    ASSERT_TRUE(only) << only.error().message();
    digest = only->digest;
    ASSERT_TRUE((*out)->Tag(*only, "reg.io/plugins/basic-auth:1.0"));
    auto again = (*out)->Resolve("");  // still one image, now with two tags
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(again->digest, *digest);
    ASSERT_TRUE((*out)->Commit());
  }
  auto in = OpenDockerArchive(file_, OpenMode::kRead);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ(*(*in)->Tags(),
            (std::vector<std::string>{"basic-auth:1.0", "reg.io/plugins/basic-auth:1.0"}));
  auto m = ResolveManifest(**in, "reg.io/plugins/basic-auth:1.0");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->digest, *digest);
  EXPECT_EQ(*FetchAll(**in, m->layers[0]), image.layers[0].bytes);

  // An unnamed image (RepoTags null) survives a write that adds another.
  TestImage unnamed = MakeTestImage("unnamed", /*docker=*/true, /*gzip=*/false);
  TestImage other = MakeTestImage("other", /*docker=*/true);
  ASSERT_TRUE(WriteFileAtomic(file_, LegacyArchive(unnamed, {}, unnamed.layers[0].bytes)));
  {
    auto out = OpenDockerArchive(file_, OpenMode::kWrite);
    ASSERT_TRUE(out) << out.error().message();
    ASSERT_TRUE(PushImage(**out, other));
    ASSERT_TRUE((*out)->Tag(other.desc(), "other:1"));
    ASSERT_TRUE((*out)->Commit());
  }
  auto manifest_json = nlohmann::json::parse(Member(file_, "manifest.json"));
  ASSERT_EQ(manifest_json.size(), 2u) << manifest_json.dump();
  EXPECT_TRUE(manifest_json[0]["RepoTags"].is_null()) << manifest_json.dump();
  EXPECT_EQ(manifest_json[0]["Config"], "blobs/sha256/" + unnamed.config.desc.digest.hex());
  EXPECT_EQ(manifest_json[1]["RepoTags"], nlohmann::json::array({"other:1"}));
}

TEST_F(DockerArchiveTest, OutputIsDeterministic) {
  TestImage image = MakeTestImage("det", /*docker=*/true);
  std::string first;
  for (int i = 0; i < 2; ++i) {
    auto out = OpenDockerArchive(file_, OpenMode::kWrite);
    ASSERT_TRUE(out);
    ASSERT_TRUE(PushImage(**out, image));
    ASSERT_TRUE((*out)->Tag(image.desc(), "x:1"));
    ASSERT_TRUE((*out)->Commit());
    std::string bytes = *ReadFileBounded(file_, 64 << 20);
    if (i == 0) {
      first = bytes;
    } else {
      EXPECT_EQ(bytes, first);
    }
  }
}

TEST_F(DockerArchiveTest, TagMustBeNameColonTag) {
  TestImage image = MakeTestImage("tags", /*docker=*/true);
  auto out = OpenDockerArchive(file_, OpenMode::kWrite);
  ASSERT_TRUE(out);
  ASSERT_TRUE(PushImage(**out, image));
  for (std::string bad : std::vector<std::string>{"1.0", "latest", "basic-auth",
                                                  "x@" + image.desc().digest.ToString(),
                                                  "oci://reg/x:1", "Upper:1", ""}) {
    auto st = (*out)->Tag(image.desc(), bad);
    ASSERT_FALSE(st) << bad;
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE((*out)->Tag(image.desc(), "localhost:5000/x/y:v1"));
}

TEST_F(DockerArchiveTest, RefusesImagesDockerCannotLoad) {
  // ORAS-style Wasm plugin image (official Higress shape): config application/vnd.unknown...
  TestImage oras = MakeTestImage("oras", /*docker=*/false, /*gzip=*/true,
                                 "application/vnd.unknown.config.v1+json");
  auto out = OpenDockerArchive(file_, OpenMode::kWrite);
  ASSERT_TRUE(out);
  ASSERT_TRUE(PushImage(**out, oras));
  auto st = (*out)->Tag(oras.desc(), "basic-auth:1.0");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(st.error().message().find("application/vnd.unknown.config.v1+json"), std::string::npos);
  EXPECT_NE(st.error().message().find("--variant docker"), std::string::npos);

  // Tagged before its blobs arrived: caught at Commit, and no file appears.
  TestImage partial = MakeTestImage("partial", /*docker=*/true);
  ASSERT_TRUE(PushBlob(**out, partial.manifest));
  ASSERT_TRUE((*out)->Tag(partial.desc(), "partial:1"));
  auto commit = (*out)->Commit();
  ASSERT_FALSE(commit);
  EXPECT_EQ(commit.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(commit.error().message().find("not stored"), std::string::npos);
  EXPECT_EQ(ListFiles(scratch_->path()), std::vector<std::string>{});
}

TEST_F(DockerArchiveTest, RefusesDiffIdMismatch) {
  TestImage image = MakeTestImage("diff", /*docker=*/true);
  image.config = Blob(oci::kDockerConfig, R"({"rootfs":{"type":"layers","diff_ids":[]}})");
  oci::ImageManifestSpec spec{.media_type = std::string(oci::kDockerManifest),
                              .config = image.config.desc,
                              .layers = {image.layers[0].desc}};
  image.manifest = Blob(oci::kDockerManifest, oci::BuildImageManifest(spec));
  auto out = OpenDockerArchive(file_, OpenMode::kWrite);
  ASSERT_TRUE(out);
  ASSERT_TRUE(PushImage(**out, image));
  ASSERT_TRUE((*out)->Tag(image.desc(), "x:1"));
  auto st = (*out)->Commit();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(st.error().message().find("diff_ids"), std::string::npos);
}

TEST_F(DockerArchiveTest, TaggedIndexContributesAmd64Image) {
  TestImage arm = MakeTestImage("arm64", true);
  TestImage amd = MakeTestImage("amd64", true);
  oci::Descriptor arm_desc = arm.desc();
  arm_desc.platform = *oci::Platform::Parse("linux/arm64");
  oci::Descriptor amd_desc = amd.desc();
  amd_desc.platform = *oci::Platform::Parse("linux/amd64");
  TestBlob index =
      Blob(oci::kOciIndex, oci::BuildIndex(oci::IndexSpec{.manifests = {arm_desc, amd_desc}}));
  {
    auto out = OpenDockerArchive(file_, OpenMode::kWrite);
    ASSERT_TRUE(out);
    ASSERT_TRUE(PushImage(**out, arm));
    ASSERT_TRUE(PushImage(**out, amd));
    ASSERT_TRUE(PushBlob(**out, index));
    ASSERT_TRUE((*out)->Tag(index.desc, "multi:1"));
    ASSERT_TRUE((*out)->Commit());
  }
  auto manifest_json = nlohmann::json::parse(Member(file_, "manifest.json"));
  ASSERT_EQ(manifest_json.size(), 1u);
  EXPECT_EQ(manifest_json[0]["Config"], "blobs/sha256/" + amd.config.desc.digest.hex());
  // Reading back resolves the tag to the complete index, digests intact.
  auto in = OpenDockerArchive(file_, OpenMode::kRead);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ((*in)->Resolve("multi:1")->digest, index.desc.digest);
}

TEST_F(DockerArchiveTest, ReadsLegacyDockerSave) {
  TestImage image = MakeTestImage("legacy", /*docker=*/true, /*gzip=*/false);
  ASSERT_TRUE(
      WriteFileAtomic(file_, LegacyArchive(image, {"basic-auth:1.0"}, image.layers[0].bytes)));
  auto in = OpenDockerArchive(file_, OpenMode::kRead);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ(*(*in)->Tags(), std::vector<std::string>{"basic-auth:1.0"});
  auto m = ResolveManifest(**in, "basic-auth:1.0");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->media_type, oci::kDockerManifest);
  EXPECT_EQ(m->config->media_type, oci::kDockerConfig);
  EXPECT_EQ(m->config->digest, image.config.desc.digest);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].media_type, oci::kDockerLayerTar);
  EXPECT_EQ(m->layers[0].digest, image.layers[0].desc.digest);
  EXPECT_EQ(*FetchAll(**in, m->layers[0]), image.layers[0].bytes);
  EXPECT_EQ(*FetchAll(**in, *m->config), image.config.bytes);
  EXPECT_EQ((*in)->Resolve("")->digest, m->digest);
  EXPECT_EQ((*in)->Resolve(m->digest.ToString())->digest, m->digest);
  EXPECT_EQ((*in)->Resolve("docker.io/library/basic-auth:1.0")->digest, m->digest);
  EXPECT_EQ((*in)->Resolve("basic-auth:2.0").error().code(), ErrorCode::kNotFound);
}

// docker save writes a duplicate layer once and links the other path to it.
TEST_F(DockerArchiveTest, FollowsLayerLinksInsideTheArchive) {
  TestImage image = MakeTestImage("linked", /*docker=*/true, /*gzip=*/false);
  nlohmann::json manifest = nlohmann::json::array(
      {{{"Config", "c.json"}, {"RepoTags", {"x:1"}}, {"Layers", {"dup/layer.tar"}}}});
  ASSERT_TRUE(WriteFileAtomic(
      file_, RawTar({{.name = "dup/layer.tar", .type = '2', .link = "../real/layer.tar"},
                     {.name = "real/layer.tar", .data = image.layers[0].bytes},
                     {.name = "c.json", .data = image.config.bytes},
                     {.name = "manifest.json", .data = manifest.dump()}})));
  auto in = OpenDockerArchive(file_, OpenMode::kRead);
  ASSERT_TRUE(in) << in.error().message();
  auto m = ResolveManifest(**in, "x:1");
  ASSERT_TRUE(m);
  EXPECT_EQ(*FetchAll(**in, m->layers[0]), image.layers[0].bytes);

  ASSERT_TRUE(WriteFileAtomic(
      file_, RawTar({{.name = "dup/layer.tar", .type = '2', .link = "../../etc/passwd"},
                     {.name = "c.json", .data = image.config.bytes},
                     {.name = "manifest.json", .data = manifest.dump()}})));
  auto evil = OpenDockerArchive(file_, OpenMode::kRead);
  ASSERT_FALSE(evil);
  EXPECT_EQ(evil.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(DockerArchiveTest, SynthesizedLayerTypeFollowsGzipMagic) {
  TestImage image = MakeTestImage("gzip-layer", /*docker=*/true, /*gzip=*/true);
  ASSERT_TRUE(WriteFileAtomic(file_, LegacyArchive(image, {"x:1"}, image.layers[0].bytes)));
  auto in = OpenDockerArchive(file_, OpenMode::kRead);
  ASSERT_TRUE(in);
  auto m = ResolveManifest(**in, "x:1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->layers[0].media_type, oci::kDockerLayerTarGzip);
  // Deterministic synthesis: same archive, same manifest digest.
  EXPECT_EQ(m->digest, image.desc().digest);
}

// A RepoTag claimed by two images (docker load would keep the last) names neither: resolving
// it is refused with both digests, and the "holds N images" hint names each image once.
TEST_F(DockerArchiveTest, SeveralImagesNeedANameAndASharedTagIsAmbiguous) {
  TestImage a = MakeTestImage("a", true, false);
  TestImage b = MakeTestImage("b", true, false);
  nlohmann::json manifest = nlohmann::json::array(
      {{{"Config", "a.json"}, {"RepoTags", {"a:1", "shared:1"}}, {"Layers", {"a.tar"}}},
       {{"Config", "b.json"}, {"RepoTags", {"b:1", "shared:1"}}, {"Layers", {"b.tar"}}},
       {{"Config", "b.json"}, {"RepoTags", nullptr}, {"Layers", {"b.tar"}}}});
  ASSERT_TRUE(WriteFileAtomic(file_, RawTar({{.name = "a.json", .data = a.config.bytes},
                                             {.name = "a.tar", .data = a.layers[0].bytes},
                                             {.name = "b.json", .data = b.config.bytes},
                                             {.name = "b.tar", .data = b.layers[0].bytes},
                                             {.name = "manifest.json", .data = manifest.dump()}})));
  auto in = OpenDockerArchive(file_, OpenMode::kRead);
  ASSERT_TRUE(in) << in.error().message();
  auto any = (*in)->Resolve("");
  ASSERT_FALSE(any);
  EXPECT_EQ(any.error().code(), ErrorCode::kFailedPrecondition);
  const std::string hint = any.error().message();
  EXPECT_NE(hint.find("holds 2 images; name one: docker-archive:"), std::string::npos) << hint;
  EXPECT_NE(hint.find(":a:1, "), std::string::npos) << hint;
  EXPECT_NE(hint.find(":b:1"), std::string::npos) << hint;
  EXPECT_EQ(hint.find("shared"), std::string::npos) << hint;
  const oci::Digest a_digest = (*in)->Resolve("a:1")->digest;
  const oci::Digest b_digest = (*in)->Resolve("b:1")->digest;
  EXPECT_NE(a_digest, b_digest);
  auto shared = (*in)->Resolve("shared:1");
  ASSERT_FALSE(shared);
  EXPECT_EQ(shared.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(shared.error().message().find(":@" + a_digest.ToString()), std::string::npos)
      << shared.error().message();
  EXPECT_NE(shared.error().message().find(":@" + b_digest.ToString()), std::string::npos);
  // By digest, both are there.
  EXPECT_TRUE((*in)->Resolve(a_digest.ToString()));
  EXPECT_TRUE((*in)->Resolve(b_digest.ToString()));
}

TEST_F(DockerArchiveTest, HostileManifestJson) {
  TestImage image = MakeTestImage("hostile", true, false);
  struct Case {
    std::string manifest;
    std::string expect;
  } cases[] = {
      {"not json", "not valid JSON"},
      {std::string(100000, '[') + std::string(100000, ']'), "nested deeper than 64 levels"},
      {"{}", "expected a JSON array"},
      {R"([{"Config":"../c.json","Layers":[]}])", "[0].Config"},
      {R"([{"Config":"/etc/passwd","Layers":[]}])", "[0].Config"},
      {R"([{"Config":"c.json","Layers":["missing.tar"]}])", "[0].Layers[0]"},
      {R"([{"Config":"c.json","Layers":["dir"]}])", "[0].Layers[0]"},
      {R"([{"Config":"c.json","Layers":[1]}])", "[0].Layers[0]"},
      {R"([{"Config":"c.json"}])", "[0].Layers"},
      {R"([{"Layers":[]}])", "[0].Config"},
      {R"([{"Config":"c.json","RepoTags":"x:1","Layers":[]}])", "[0].RepoTags"},
      {R"([{"Config":"c.json","RepoTags":[""],"Layers":[]}])", "[0].RepoTags[0]"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(WriteFileAtomic(file_, RawTar({{.name = "c.json", .data = image.config.bytes},
                                               {.name = "dir/", .type = '5'},
                                               {.name = "manifest.json", .data = c.manifest}})));
    auto in = OpenDockerArchive(file_, OpenMode::kRead);
    ASSERT_FALSE(in) << c.manifest;
    EXPECT_EQ(in.error().code(), ErrorCode::kInvalidArgument) << in.error().message();
    EXPECT_NE(in.error().message().find("manifest.json"), std::string::npos)
        << in.error().message();
    EXPECT_NE(in.error().message().find(c.expect), std::string::npos) << in.error().message();
  }
  ASSERT_TRUE(WriteFileAtomic(file_, RawTar({{.name = "c.json", .data = image.config.bytes},
                                             {.name = "../escape", .data = "x"}})));
  auto escape = OpenDockerArchive(file_, OpenMode::kRead);
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.error().code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(WriteFileAtomic(file_, RawTar({{.name = "c.json", .data = image.config.bytes}})));
  auto nothing = OpenDockerArchive(file_, OpenMode::kRead);
  ASSERT_FALSE(nothing);
  EXPECT_EQ(nothing.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ListFiles(scratch_->path()), std::vector<std::string>{"saved.tar"});
}

// docker 25+ with the containerd store saves the multi-platform index but only the content of
// its own platform; the tag must then resolve to that platform's manifest.
TEST_F(DockerArchiveTest, Docker25IndexWithMissingPlatforms) {
  TestImage amd = MakeTestImage("amd", false);
  TestImage arm = MakeTestImage("arm", false);
  oci::Descriptor amd_desc = amd.desc();
  amd_desc.platform = *oci::Platform::Parse("linux/amd64");
  oci::Descriptor arm_desc = arm.desc();
  arm_desc.platform = *oci::Platform::Parse("linux/arm64");
  TestBlob index =
      Blob(oci::kOciIndex, oci::BuildIndex(oci::IndexSpec{.manifests = {amd_desc, arm_desc}}));

  fs::path layout_dir = scratch_->path() / "build";
  {
    auto layout = OciLayoutTarget::Open(layout_dir, {.create = true});
    ASSERT_TRUE(layout);
    ASSERT_TRUE(PushImage(**layout, amd));
    ASSERT_TRUE(PushBlob(**layout, index));
    ASSERT_TRUE((*layout)->TagWithAnnotations(
        index.desc, "1.0", {{"io.containerd.image.name", "docker.io/library/plug:1.0"}}));
  }
  nlohmann::json manifest =
      nlohmann::json::array({{{"Config", "blobs/sha256/" + amd.config.desc.digest.hex()},
                              {"RepoTags", {"plug:1.0"}},
                              {"Layers", {"blobs/sha256/" + amd.layers[0].desc.digest.hex()}}}});
  std::vector<RawTarEntry> entries = {
      {.name = "oci-layout", .data = *ReadFileBounded(layout_dir / "oci-layout", 1 << 20)},
      {.name = "index.json", .data = *ReadFileBounded(layout_dir / "index.json", 1 << 20)},
      {.name = "manifest.json", .data = manifest.dump()}};
  for (const TestBlob* blob : {&amd.config, &amd.layers[0], &amd.manifest, &index}) {
    entries.push_back({.name = "blobs/sha256/" + blob->desc.digest.hex(), .data = blob->bytes});
  }
  // The legacy-path links docker 25 adds for older loaders.
  entries.push_back({.name = "0123abcd/layer.tar",
                     .type = '2',
                     .link = "../blobs/sha256/" + amd.layers[0].desc.digest.hex()});
  ASSERT_TRUE(WriteFileAtomic(file_, RawTar(entries)));
  auto in = OpenDockerArchive(file_, OpenMode::kRead);
  ASSERT_TRUE(in) << in.error().message();
  auto got = (*in)->Resolve("plug:1.0");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->digest, amd.desc().digest) << "the saved platform's manifest, exact digest";
  EXPECT_EQ((*in)->Resolve("")->digest, amd.desc().digest);
  EXPECT_EQ((*in)->Resolve(index.desc.digest.ToString())->digest, index.desc.digest);
}

TEST_F(DockerArchiveTest, SkopeoInterop) {
  if (!testing::HaveSkopeo()) GTEST_SKIP() << "skopeo not installed";
  TestImage image = MakeTestImage("skopeo-docker", /*docker=*/true);
  {
    auto out = OpenDockerArchive(file_, OpenMode::kWrite);
    ASSERT_TRUE(out);
    ASSERT_TRUE(PushImage(**out, image));
    ASSERT_TRUE((*out)->Tag(image.desc(), "plug:1.0"));
    ASSERT_TRUE((*out)->Commit());
  }
  // skopeo reads our docker-archive (through manifest.json, as docker load does)...
  fs::path copy = scratch_->path() / "copy";
  ASSERT_EQ(testing::RunSkopeo(scratch_->path(), "copy -q docker-archive:" + file_.string() +
                                                     ":plug:1.0 oci:" + copy.string() + ":1.0"),
            0);
  // ...and we read the legacy-format docker-archive skopeo writes.
  fs::path theirs = scratch_->path() / "theirs.tar";
  ASSERT_EQ(testing::RunSkopeo(scratch_->path(), "copy -q oci:" + copy.string() +
                                                     ":1.0 docker-archive:" + theirs.string() +
                                                     ":reg.example.com/plug:2.0"),
            0);
  auto in = OpenDockerArchive(theirs, OpenMode::kRead);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ(*(*in)->Tags(), std::vector<std::string>{"reg.example.com/plug:2.0"});
  auto m = ResolveManifest(**in, "reg.example.com/plug:2.0");
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->layers.size(), 1u);
  auto layer = FetchAll(**in, m->layers[0]);
  ASSERT_TRUE(layer);
  EXPECT_EQ(oci::Digest::Of(*layer), m->layers[0].digest);
  auto config = FetchAll(**in, *m->config);
  ASSERT_TRUE(config);
  EXPECT_NE(config->find("diff_ids"), std::string::npos);
}

}  // namespace
}  // namespace plugctl::store
