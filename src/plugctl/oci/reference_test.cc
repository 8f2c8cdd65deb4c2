#include "plugctl/oci/reference.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace plugctl::oci {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kDigest =
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

struct ValidCase {
  std::string input;
  std::string registry;
  std::string repository;
  std::string tag;
  std::string digest;     // "" when none
  std::string canonical;  // expected ToString()
};

std::string D(std::string_view prefix) { return fmt::format("{}{}", prefix, kDigest); }

class ValidReferenceTest : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidReferenceTest, Parses) {
  const ValidCase& c = GetParam();
  Result<Reference> ref = Reference::Parse(c.input);
  ASSERT_TRUE(ref) << c.input << ": " << ref.error().message();
  EXPECT_EQ(ref->registry, c.registry);
  EXPECT_EQ(ref->repository, c.repository);
  EXPECT_EQ(ref->tag, c.tag);
  if (c.digest.empty()) {
    EXPECT_FALSE(ref->digest.has_value());
  } else {
    ASSERT_TRUE(ref->digest.has_value());
    EXPECT_EQ(ref->digest->ToString(), c.digest);
  }
  EXPECT_EQ(ref->ToString(), c.canonical);
  EXPECT_EQ(ref->Name(), c.registry + "/" + c.repository);

  // The canonical form parses back to the same reference.
  Result<Reference> again = Reference::Parse(ref->ToString());
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(*again, *ref);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ValidReferenceTest,
    ::testing::Values(
        ValidCase{"nginx", "docker.io", "library/nginx", "", "", "docker.io/library/nginx"},
        ValidCase{"nginx:1.25", "docker.io", "library/nginx", "1.25", "",
                  "docker.io/library/nginx:1.25"},
        ValidCase{"user/repo", "docker.io", "user/repo", "", "", "docker.io/user/repo"},
        ValidCase{"user/repo:v1", "docker.io", "user/repo", "v1", "", "docker.io/user/repo:v1"},
        ValidCase{"docker.io/nginx", "docker.io", "library/nginx", "", "",
                  "docker.io/library/nginx"},
        ValidCase{"index.docker.io/library/nginx:latest", "docker.io", "library/nginx", "latest",
                  "", "docker.io/library/nginx:latest"},
        ValidCase{"index.docker.io/nginx", "docker.io", "library/nginx", "", "",
                  "docker.io/library/nginx"},
        ValidCase{"localhost/foo", "localhost", "foo", "", "", "localhost/foo"},
        ValidCase{"localhost:5000/a/b:1", "localhost:5000", "a/b", "1", "", "localhost:5000/a/b:1"},
        ValidCase{"oci://higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/basic-auth:1.0.0",
                  "higress-registry.cn-hangzhou.cr.aliyuncs.com", "plugins/basic-auth", "1.0.0", "",
                  "higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/basic-auth:1.0.0"},
        ValidCase{"OCI://reg.io/x", "reg.io", "x", "", "", "reg.io/x"},
        ValidCase{"oci://reg:5000/plugins/basic-auth:1.0.0", "reg:5000", "plugins/basic-auth",
                  "1.0.0", "", "reg:5000/plugins/basic-auth:1.0.0"},
        ValidCase{D("a.b/c@"), "a.b", "c", "", std::string(kDigest), D("a.b/c@")},
        ValidCase{D("a.b/c:v2@"), "a.b", "c", "v2", std::string(kDigest), D("a.b/c:v2@")},
        ValidCase{D("nginx@"), "docker.io", "library/nginx", "", std::string(kDigest),
                  D("docker.io/library/nginx@")},
        ValidCase{"[::1]:5000/x:y", "[::1]:5000", "x", "y", "", "[::1]:5000/x:y"},
        ValidCase{"[2001:db8::1]/ns/x", "[2001:db8::1]", "ns/x", "", "", "[2001:db8::1]/ns/x"},
        ValidCase{"127.0.0.1:443/a", "127.0.0.1:443", "a", "", "", "127.0.0.1:443/a"},
        ValidCase{"Registry.Example.COM/a", "Registry.Example.COM", "a", "", "",
                  "Registry.Example.COM/a"},
        ValidCase{"ghcr.io/org/team/sub/plugin:v1.2.3-rc.1_b", "ghcr.io", "org/team/sub/plugin",
                  "v1.2.3-rc.1_b", "", "ghcr.io/org/team/sub/plugin:v1.2.3-rc.1_b"},
        ValidCase{"r.io/a.b_c__d---e/f-g", "r.io", "a.b_c__d---e/f-g", "", "",
                  "r.io/a.b_c__d---e/f-g"},
        ValidCase{"r.io/x:_tag", "r.io", "x", "_tag", "", "r.io/x:_tag"},
        ValidCase{"r.io/x:" + std::string(128, 'T'), "r.io", "x", std::string(128, 'T'), "",
                  "r.io/x:" + std::string(128, 'T')},
        // docker's rule: without a '/', "localhost:5000" is a name and a tag.
        ValidCase{"localhost:5000", "docker.io", "library/localhost", "5000", "",
                  "docker.io/library/localhost:5000"},
        ValidCase{"a1:65535/b", "a1:65535", "b", "", "", "a1:65535/b"}));

struct InvalidCase {
  std::string input;
  std::string want;  // substring of the error message
};

class InvalidReferenceTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidReferenceTest, FailsNamingTheProblem) {
  const InvalidCase& c = GetParam();
  Result<Reference> ref = Reference::Parse(c.input);
  ASSERT_FALSE(ref) << c.input << " parsed as " << ref->ToString();
  EXPECT_EQ(ref.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(ref.error().message(), StartsWith("invalid reference \""));
  EXPECT_THAT(ref.error().message(), HasSubstr(c.want)) << c.input;
}

INSTANTIATE_TEST_SUITE_P(
    Table, InvalidReferenceTest,
    ::testing::Values(
        InvalidCase{"", "empty reference"}, InvalidCase{"oci://", "empty reference"},
        InvalidCase{"http://reg.io/a:1", "unsupported scheme \"http://\""},
        InvalidCase{"https://reg.io/a", "unsupported scheme \"https://\""},
        InvalidCase{"docker://nginx", "unsupported scheme"},
        InvalidCase{"reg.io/a/", "trailing '/'"}, InvalidCase{"reg.io/a//b", "empty path"},
        InvalidCase{"/a", "leading '/'"}, InvalidCase{"reg.io/", "missing repository name"},
        InvalidCase{":tag", "missing repository name"}, InvalidCase{":", "empty tag"},
        InvalidCase{D("@"), "missing repository name"}, InvalidCase{"nginx:", "empty tag"},
        InvalidCase{"a@sha256:bad", "invalid digest \"sha256:bad\""},
        InvalidCase{"a@", "empty digest"},
        InvalidCase{"a@md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported algorithm \"md5\""},
        InvalidCase{"Nginx", "repository name \"Nginx\" must be lowercase"},
        InvalidCase{"reg.io/Plugins/x", "must be lowercase"},
        InvalidCase{"reg.io/a..b", "path component \"a..b\""},
        InvalidCase{"reg.io/a___b", "path component \"a___b\""},
        InvalidCase{"reg.io/-a", "path component \"-a\""},
        InvalidCase{"reg.io/a-", "path component \"a-\""},
        InvalidCase{"reg.io/a b", "path component \"a b\""},
        InvalidCase{"reg.io/a:t@g", "invalid digest"},
        InvalidCase{"reg.io/a:t!g", "tag \"t!g\" has invalid characters"},
        InvalidCase{"reg.io/a:.t", "tag \".t\" has invalid characters"},
        InvalidCase{"reg.io/a:-t", "tag \"-t\""},
        InvalidCase{"reg.io/a:" + std::string(129, 't'), "longer than 128"},
        InvalidCase{"reg:0/a", "invalid port \"0\""},
        InvalidCase{"reg:65536/a", "invalid port \"65536\""},
        InvalidCase{"reg:12x/a", "invalid port \"12x\""}, InvalidCase{"reg:/a", "empty port"},
        InvalidCase{":5000/a", "empty host"}, InvalidCase{"-reg.io/a", "registry host \"-reg.io\""},
        InvalidCase{"reg..io/a", "registry host \"reg..io\""},
        InvalidCase{"reg_x.io/a", "registry host \"reg_x.io\""},
        InvalidCase{"[::1/a", "unterminated '['"}, InvalidCase{"[zz::1]:5000/a", "invalid IPv6"},
        InvalidCase{"[::1]x/a", "after the IPv6"},
        InvalidCase{"reg.io/" + std::string(250, 'a'), "over the 255 limit"},
        // "library/" counts: the normalized name is what registries see.
        InvalidCase{std::string(240, 'a'), "over the 255 limit"}));

TEST(ReferenceTest, LongestNameFits) {
  std::string repo = std::string(255 - std::string_view("reg.io/").size(), 'a');
  Result<Reference> ref = Reference::Parse("reg.io/" + repo);
  ASSERT_TRUE(ref) << ref.error().message();
  EXPECT_EQ(ref->Name().size(), 255u);
}

TEST(ReferenceTest, HugeInputIsTruncatedInMessage) {
  std::string input(100000, 'A');
  Result<Reference> ref = Reference::Parse(input);
  ASSERT_FALSE(ref);
  EXPECT_LT(ref.error().message().size(), 2000u);
}

TEST(ReferenceTest, TagOrDigest) {
  Result<Reference> plain = Reference::Parse("reg.io/a");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->TagOrDigest(), "latest");

  Result<Reference> tagged = Reference::Parse("reg.io/a:1.0");
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->TagOrDigest(), "1.0");

  // A digest pins the content, so it wins over the tag.
  Result<Reference> both = Reference::Parse(D("reg.io/a:1.0@"));
  ASSERT_TRUE(both);
  EXPECT_EQ(both->TagOrDigest(), kDigest);
}

TEST(ReferenceTest, ValidateTag) {
  EXPECT_TRUE(ValidateTag("latest"));
  EXPECT_TRUE(ValidateTag("1.0.0-rc_1"));
  EXPECT_TRUE(ValidateTag("_x"));
  EXPECT_TRUE(ValidateTag(std::string(128, 'a')));

  Status empty = ValidateTag("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(empty.error().message(), HasSubstr("empty"));
  EXPECT_FALSE(ValidateTag(std::string(129, 'a')));
  EXPECT_FALSE(ValidateTag(".x"));
  EXPECT_FALSE(ValidateTag("-x"));
  EXPECT_FALSE(ValidateTag("a/b"));
  EXPECT_FALSE(ValidateTag("a:b"));
  EXPECT_FALSE(ValidateTag("a b"));
  Status bad = ValidateTag("v1+build");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), HasSubstr("\"v1+build\""));
}

TEST(ReferenceTest, EqualityIncludesAllParts) {
  Result<Reference> a = Reference::Parse("reg.io/a:1");
  Result<Reference> b = Reference::Parse("oci://reg.io/a:1");
  Result<Reference> c = Reference::Parse("reg.io/a:2");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
}

}  // namespace
}  // namespace plugctl::oci
