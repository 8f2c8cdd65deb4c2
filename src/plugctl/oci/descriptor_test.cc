#include "plugctl/oci/descriptor.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plugctl/oci/media_types.h"
#include "plugctl/oci/oci_test_util.h"

namespace plugctl::oci {
namespace {

using ::testing::HasSubstr;
using testing::MakePlatform;

using json = nlohmann::json;

constexpr std::string_view kAbc =
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

json Parse(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << text;
  return j;
}

TEST(DescriptorTest, ForHashesBytes) {
  Descriptor d = Descriptor::For(kOciLayerTarGzip, "abc");
  EXPECT_EQ(d.media_type, kOciLayerTarGzip);
  EXPECT_EQ(d.digest.ToString(), kAbc);
  EXPECT_EQ(d.size, 3);
  EXPECT_TRUE(d.annotations.empty());
  EXPECT_FALSE(d.platform);
}

TEST(DescriptorTest, ToJsonMinimalHasConventionalOrder) {
  Descriptor d = Descriptor::For(kWasmSpec, "abc");
  EXPECT_EQ(d.ToJson().dump(),
            fmt::format(R"({{"mediaType":"{}","digest":"{}","size":3}})", kWasmSpec, kAbc));
}

TEST(DescriptorTest, ToJsonFullHasConventionalOrder) {
  Descriptor d = Descriptor::For(kOciManifest, "abc");
  d.artifact_type = "application/vnd.example+type";
  d.urls = {"https://example.com/blob"};
  d.annotations = {{"z", "1"}, {"a", "2"}};
  d.platform = Platform{.architecture = "arm64",
                        .os = "linux",
                        .os_version = "10.0",
                        .os_features = {"f1"},
                        .variant = "v8"};
  EXPECT_EQ(
      d.ToJson().dump(),
      fmt::format(R"({{"mediaType":"{}","artifactType":"application/vnd.example+type",)"
                  R"("digest":"{}","size":3,"urls":["https://example.com/blob"],)"
                  R"("annotations":{{"a":"2","z":"1"}},"platform":{{"architecture":"arm64",)"
                  R"("os":"linux","os.version":"10.0","os.features":["f1"],"variant":"v8"}}}})",
                  kOciManifest, kAbc));
}

TEST(DescriptorTest, JsonRoundTrip) {
  Descriptor d = Descriptor::For(kOciManifest, "abc");
  d.artifact_type = "application/vnd.example+type";
  d.urls = {"https://a", "https://b"};
  d.annotations[std::string(kAnnotationTitle)] = "plugin.tar.gz";
  d.platform = MakePlatform("linux", "amd64");
  Result<Descriptor> back = Descriptor::FromJson(json(d.ToJson()), "x");
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, d);
  EXPECT_EQ(back->Title(), "plugin.tar.gz");
}

TEST(DescriptorTest, TitleEmptyWhenAbsent) {
  EXPECT_EQ(Descriptor::For(kWasmSpec, "x").Title(), "");
}

TEST(DescriptorTest, FromJsonAcceptsNullOptionals) {
  Result<Descriptor> d = Descriptor::FromJson(
      Parse(fmt::format(R"({{"mediaType":"a/b","digest":"{}","size":0,"annotations":null,)"
                        R"("urls":null,"platform":null}})",
                        kAbc)),
      "config");
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_TRUE(d->annotations.empty());
}

TEST(DescriptorTest, FromJsonAcceptsMaxSize) {
  Result<Descriptor> d = Descriptor::FromJson(
      Parse(fmt::format(R"({{"mediaType":"a/b","digest":"{}","size":9223372036854775807}})", kAbc)),
      "x");
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->size, INT64_MAX);
}

TEST(DescriptorTest, FromJsonAcceptsSignedNonNegativeSize) {
  json j = Parse(fmt::format(R"({{"mediaType":"a/b","digest":"{}","size":1}})", kAbc));
  j["size"] = int64_t{7};  // stored signed, as code-built JSON may be
  Result<Descriptor> d = Descriptor::FromJson(j, "x");
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->size, 7);
}

struct BadCase {
  std::string body;
  std::string want;
};

TEST(DescriptorTest, FromJsonRejects) {
  const std::string ok_digest = fmt::format(R"("digest":"{}")", kAbc);
  for (const BadCase& c : std::vector<BadCase>{
           {R"([])", "layers[3]: expected a descriptor object, got array"},
           {R"("x")", "layers[3]: expected a descriptor object, got string"},
           {R"({"digest":"sha256:x","size":1})", "layers[3].mediaType: missing"},
           {"{\"mediaType\":7," + ok_digest + ",\"size\":1}",
            "layers[3].mediaType: expected a string, got number"},
           {"{\"mediaType\":\"\"," + ok_digest + ",\"size\":1}",
            "layers[3].mediaType: must not be empty"},
           {R"({"mediaType":"a/b","size":1})", "layers[3].digest: missing"},
           {R"({"mediaType":"a/b","digest":"x","size":1})",
            "layers[3].digest: invalid digest \"x\": expected algorithm:hex"},
           {R"({"mediaType":"a/b","digest":5,"size":1})",
            "layers[3].digest: expected a string, got number"},
           {"{\"mediaType\":\"a/b\"," + ok_digest + "}", "layers[3].size: missing"},
           {"{\"mediaType\":\"a/b\"," + ok_digest + ",\"size\":-1}",
            "layers[3].size: must be non-negative, got -1"},
           {"{\"mediaType\":\"a/b\"," + ok_digest + ",\"size\":1.5}",
            "layers[3].size: expected a non-negative integer, got 1.5"},
           {"{\"mediaType\":\"a/b\"," + ok_digest + ",\"size\":1.0}",
            "layers[3].size: expected a non-negative integer"},
           {"{\"mediaType\":\"a/b\"," + ok_digest + ",\"size\":\"3\"}",
            "layers[3].size: expected a non-negative integer, got \"3\""},
           {"{\"mediaType\":\"a/b\"," + ok_digest + ",\"size\":9223372036854775808}",
            "layers[3].size: 9223372036854775808 is too large"},
           {"{\"mediaType\":\"a/b\"," + ok_digest + ",\"size\":[[1]]}",
            "layers[3].size: expected a non-negative integer, got array"},
           {"{\"mediaType\":\"a/b\"," + ok_digest + ",\"size\":1,\"annotations\":[]}",
            "layers[3].annotations: expected an object of strings, got array"},
           {"{\"mediaType\":\"a/b\"," + ok_digest + ",\"size\":1,\"annotations\":{\"k\":1}}",
            "layers[3].annotations[\"k\"]: expected a string, got number"},
           {"{\"mediaType\":\"a/b\"," + ok_digest + ",\"size\":1,\"urls\":\"u\"}",
            "layers[3].urls: expected an array of strings"},
           {"{\"mediaType\":\"a/b\"," + ok_digest + ",\"size\":1,\"urls\":[\"u\",2]}",
            "layers[3].urls[1]: expected a string"},
           {"{\"mediaType\":\"a/b\"," + ok_digest + ",\"size\":1,\"platform\":{\"os\":\"l\"}}",
            "layers[3].platform.architecture: missing"},
           {"{\"mediaType\":\"a/b\"," + ok_digest +
                ",\"size\":1,\"platform\":{\"os\":\"l\",\"architecture\":1}}",
            "layers[3].platform.architecture: expected a string"},
           {"{\"mediaType\":\"a/b\"," + ok_digest +
                ",\"size\":1,\"platform\":{\"os\":\"l\",\"architecture\":\"a\","
                "\"os.features\":[1]}}",
            "layers[3].platform.os.features[0]: expected a string"},
           {"{\"mediaType\":\"a/b\"," + ok_digest + ",\"size\":1,\"artifactType\":{}}",
            "layers[3].artifactType: expected a string"},
       }) {
    Result<Descriptor> d = Descriptor::FromJson(Parse(c.body), "layers[3]");
    ASSERT_FALSE(d) << c.body;
    EXPECT_EQ(d.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(d.error().message(), HasSubstr(c.want)) << c.body;
  }
}

TEST(DescriptorTest, FromJsonWithoutPathNamesDescriptor) {
  Result<Descriptor> d = Descriptor::FromJson(Parse("1"), "");
  ASSERT_FALSE(d);
  EXPECT_THAT(d.error().message(), HasSubstr("descriptor: expected a descriptor object"));
  Result<Descriptor> e = Descriptor::FromJson(Parse(R"({"mediaType":"a/b","size":1})"), "");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message(), "digest: missing");
}

TEST(PlatformTest, ToStringAndParse) {
  Platform p = MakePlatform("linux", "amd64");
  EXPECT_EQ(p.ToString(), "linux/amd64");
  p.variant = "v8";
  EXPECT_EQ(p.ToString(), "linux/amd64/v8");

  Result<Platform> parsed = Platform::Parse("linux/arm64/v8");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->os, "linux");
  EXPECT_EQ(parsed->architecture, "arm64");
  EXPECT_EQ(parsed->variant, "v8");
  Result<Platform> two = Platform::Parse("wasip1/wasm");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->ToString(), "wasip1/wasm");
}

TEST(PlatformTest, ParseRejects) {
  for (std::string_view text :
       {"", "linux", "linux/", "/amd64", "linux//v8", "a/b/c/d", "linux/amd 64", "linux/amd64/"}) {
    Result<Platform> p = Platform::Parse(text);
    ASSERT_FALSE(p) << text;
    EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(p.error().message(), HasSubstr("invalid platform")) << text;
  }
}

TEST(PlatformTest, MatchesLikeGoContainerRegistry) {
  Platform given{
      .architecture = "arm64", .os = "linux", .os_features = {"a", "b"}, .variant = "v8"};
  EXPECT_TRUE(given.Matches({.architecture = "arm64", .os = "linux"}));
  EXPECT_TRUE(given.Matches({.architecture = "arm64", .os = "linux", .variant = "v8"}));
  EXPECT_TRUE(given.Matches({.architecture = "arm64", .os = "linux", .os_features = {"b"}}));
  EXPECT_FALSE(given.Matches({.architecture = "arm64", .os = "linux", .variant = "v7"}));
  EXPECT_FALSE(given.Matches({.architecture = "amd64", .os = "linux"}));
  EXPECT_FALSE(given.Matches({.architecture = "arm64", .os = "linux", .os_features = {"c"}}));
  EXPECT_FALSE(given.Matches({.architecture = "arm64", .os = "linux", .os_version = "1"}));
}

}  // namespace
}  // namespace plugctl::oci
