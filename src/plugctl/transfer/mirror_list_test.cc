#include "plugctl/transfer/mirror_list.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace plugctl::transfer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kHigress[] = "higress-registry.cn-hangzhou.cr.aliyuncs.com";
constexpr char kDigest[] =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::vector<MirrorSource> MustParse(std::string_view text, std::string_view file = "list") {
  Result<std::vector<MirrorSource>> sources = ParseMirrorList(text, file);
  EXPECT_TRUE(sources.has_value()) << (sources ? "" : sources.error().message());
  return sources ? *sources : std::vector<MirrorSource>{};
}

Error MustFail(std::string_view text, std::string_view file = "list") {
  Result<std::vector<MirrorSource>> sources = ParseMirrorList(text, file);
  EXPECT_FALSE(sources.has_value()) << text;
  if (sources) return Error(ErrorCode::kInternal, "parsed");
  EXPECT_EQ(sources.error().message().find('\n'), std::string::npos) << sources.error().message();
  return sources.error();
}

// ---- plugins.properties and plain lists ----

TEST(MirrorListPropertiesTest, ParsesNamesCommentsAndWhitespace) {
  std::vector<MirrorSource> s = MustParse(
      "\xEF\xBB\xBF# Higress plugins\r\n"
      "! also a comment\n"
      "\n"
      "basic-auth=oci://higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/basic-auth:2.0.0\r\n"
      "  key-auth = oci://higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/key-auth:1.0.0  \n"
      "\tlocal\t=\treg.local:5000/plugins/x\n",
      "plugins.properties");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].name, "basic-auth");
  EXPECT_EQ(s[0].repository.registry, kHigress);
  EXPECT_EQ(s[0].repository.repository, "plugins/basic-auth");
  EXPECT_TRUE(s[0].repository.tag.empty());
  EXPECT_FALSE(s[0].repository.digest.has_value());
  EXPECT_THAT(s[0].refs, ElementsAre("2.0.0"));
  EXPECT_EQ(s[0].origin, "plugins.properties:4");
  EXPECT_FALSE(s[0].NeedsTagList());
  EXPECT_EQ(s[1].name, "key-auth");
  EXPECT_THAT(s[1].refs, ElementsAre("1.0.0"));
  EXPECT_EQ(s[1].origin, "plugins.properties:5");
  EXPECT_EQ(s[2].name, "local");
  EXPECT_EQ(s[2].repository.registry, "reg.local:5000");
  EXPECT_THAT(s[2].refs, ElementsAre("latest"));  // no tag means latest
}

TEST(MirrorListPropertiesTest, PlainListOfReferences) {
  std::vector<MirrorSource> s =
      MustParse(std::string("reg.io/plugins/a:1.0\n"
                            "OCI://reg.io/plugins/b\n"
                            "reg.io/plugins/c@") +
                kDigest + "\nreg.io/plugins/d:1.0@" + kDigest + "\nnginx:1.25\n");
  ASSERT_EQ(s.size(), 5u);
  EXPECT_THAT(s[0].refs, ElementsAre("1.0"));
  EXPECT_TRUE(s[0].name.empty());
  EXPECT_THAT(s[1].refs, ElementsAre("latest"));
  EXPECT_THAT(s[2].refs, ElementsAre(kDigest));
  EXPECT_THAT(s[3].refs, ElementsAre(kDigest));  // the digest decides
  EXPECT_EQ(s[4].repository.Name(), "docker.io/library/nginx");
  EXPECT_EQ(s[4].origin, "list:5");
}

TEST(MirrorListPropertiesTest, MergesDuplicates) {
  std::vector<MirrorSource> s = MustParse(
      "a=reg.io/plugins/a:1.0\n"
      "reg.io/plugins/b:1.0\n"
      "a=oci://reg.io/plugins/a:1.0\n"  // same name, same image
      "a2=reg.io/plugins/a:2.0\n"
      "reg.io/plugins/a:1.0\n");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].repository.Name(), "reg.io/plugins/a");
  EXPECT_THAT(s[0].refs, ElementsAre("1.0"));
  EXPECT_EQ(s[0].name, "a");
  EXPECT_EQ(s[0].origin, "list:1");
  EXPECT_EQ(s[1].repository.Name(), "reg.io/plugins/b");
  // Another key for the same repository stays apart: its tag belongs under that key.
  EXPECT_EQ(s[2].repository.Name(), "reg.io/plugins/a");
  EXPECT_THAT(s[2].refs, ElementsAre("2.0"));
  EXPECT_EQ(s[2].name, "a2");
}

TEST(MirrorListPropertiesTest, TwoKeysOfOneImageKeepBoth) {
  std::vector<MirrorSource> s = MustParse(
      "a=reg.io/plugins/myp:1.2.3\n"
      "b=oci://reg.io/plugins/myp:1.2.3\n"
      "reg.io/plugins/myp:1.2.3\n"  // no key: nothing new
      "b=reg.io/plugins/myp:1.2.3\n");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].name, "a");
  EXPECT_THAT(s[0].refs, ElementsAre("1.2.3"));
  EXPECT_EQ(s[1].name, "b");
  EXPECT_THAT(s[1].refs, ElementsAre("1.2.3"));
  EXPECT_EQ(s[1].origin, "list:2");
}

TEST(MirrorListPropertiesTest, ErrorsNameFileAndLine) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"# x\na=\n", "plugins.properties:2: no image after \"a=\""},
      {"=reg.io/x:1\n", "plugins.properties:1: no name before '=': \"=reg.io/x:1\""},
      {"a=reg.io/x:1\n\nb=oci://Reg.io/X:1\n",
       "plugins.properties:3: invalid reference \"oci://Reg.io/X:1\": repository name \"X\" must "
       "be lowercase"},
      {"a=reg.io/x:1\na=reg.io/x:2\n",
       "plugins.properties:2: name \"a\" is also on line 1 with another image: \"reg.io/x:2\""},
      {"a=docker://reg.io/x:1\n",
       "plugins.properties:1: invalid reference \"docker://reg.io/x:1\""},
      {"a=reg.io/x:1 # trailing comment\n", "plugins.properties:1: invalid reference"},
  };
  for (const Case& c : cases) {
    Error e = MustFail(c.text, "plugins.properties");
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << c.text;
    EXPECT_THAT(e.message(), StartsWith(c.message)) << c.text;
  }
}

TEST(MirrorListPropertiesTest, RealHigressFile) {
  std::ifstream in(PLUGCTL_SOURCE_DIR "/../shared/data/plugins.properties", std::ios::binary);
  if (!in) GTEST_SKIP() << "shared/data/plugins.properties not present";
  std::stringstream text;
  text << in.rdbuf();
  std::vector<MirrorSource> s = MustParse(text.str(), "plugins.properties");
  ASSERT_EQ(s.size(), 52u);  // 74 lines: the licence header, section comments, blanks
  for (const MirrorSource& source : s) {
    EXPECT_EQ(source.repository.registry, kHigress) << source.origin;
    EXPECT_THAT(source.repository.repository, StartsWith("plugins/")) << source.origin;
    EXPECT_EQ(source.refs.size(), 1u) << source.origin;
    EXPECT_FALSE(source.NeedsTagList());
  }
  EXPECT_EQ(s.front().name, "ai-prompt-decorator");
  EXPECT_THAT(s.front().refs, ElementsAre("2.0.1"));
  EXPECT_EQ(s.front().origin, "plugins.properties:15");
  EXPECT_EQ(s.back().name, "simple-jwt-auth");
  EXPECT_THAT(s.back().refs, ElementsAre("1.0.1"));
  EXPECT_EQ(s.back().origin, "plugins.properties:74");
  auto basic =
      std::find_if(s.begin(), s.end(), [](const auto& x) { return x.name == "basic-auth"; });
  ASSERT_NE(basic, s.end());
  EXPECT_THAT(basic->refs, ElementsAre("2.0.0"));
  EXPECT_EQ(basic->origin, "plugins.properties:37");
  // Names and repositories need not agree.
  auto json =
      std::find_if(s.begin(), s.end(), [](const auto& x) { return x.name == "json-converter"; });
  ASSERT_NE(json, s.end());
  EXPECT_EQ(json->repository.repository, "plugins/jsonrpc-converter");
}

// ---- plugctl YAML ----

TEST(MirrorListYamlTest, PlugctlFormat) {
  std::vector<MirrorSource> s = MustParse(std::string(R"(# plugctl mirror list
images:
  - oci://higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/basic-auth:1.0.0
  - repository: higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/key-auth
    tags: [1.10, latest, ")") + kDigest + R"("]
    tag-regex: '^1\.0\.'
    semver: '>=1.0.0 <2.0.0'
    newest: 2
  - repository: reg.io/x
    semver: ^2
)",
                                          "list.yaml");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].repository.Name(), std::string(kHigress) + "/plugins/basic-auth");
  EXPECT_THAT(s[0].refs, ElementsAre("1.0.0"));
  EXPECT_EQ(s[0].origin, "list.yaml:3");
  EXPECT_EQ(s[1].repository.Name(), std::string(kHigress) + "/plugins/key-auth");
  // Scalars are read as written: 1.10 is a tag, not the number 1.1.
  EXPECT_THAT(s[1].refs, ElementsAre("1.10", "latest", kDigest));
  EXPECT_EQ(s[1].tag_regex, "^1\\.0\\.");
  EXPECT_EQ(s[1].semver, ">=1.0.0 <2.0.0");
  EXPECT_EQ(s[1].newest, 2u);
  EXPECT_FALSE(s[1].all_tags);
  EXPECT_TRUE(s[1].NeedsTagList());
  EXPECT_EQ(s[1].origin, "list.yaml:4");
  EXPECT_EQ(s[2].semver, "^2");
  EXPECT_TRUE(s[2].refs.empty());
  EXPECT_EQ(s[2].origin, "list.yaml:9");
}

TEST(MirrorListYamlTest, PlugctlMergesSameRepositoryAndPatterns) {
  std::vector<MirrorSource> s = MustParse(R"(images:
  - reg.io/x:1.0
  - repository: reg.io/x
    tags: ["1.0", "2.0"]
  - repository: reg.io/x
    semver: ^1
  - repository: reg.io/x
    semver: ^1
    tags: ["3.0"]
  - repository: reg.io/x
    semver: ^2
)");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_THAT(s[0].refs, ElementsAre("1.0", "2.0"));
  EXPECT_FALSE(s[0].NeedsTagList());
  EXPECT_EQ(s[1].semver, "^1");
  EXPECT_THAT(s[1].refs, ElementsAre("3.0"));
  EXPECT_EQ(s[1].origin, "list:5");
  EXPECT_EQ(s[2].semver, "^2");
}

TEST(MirrorListYamlTest, PlugctlErrors) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"images:\n  - reg.io/x:1\nmirrors: []\n",
       "list.yaml:3: unknown key \"mirrors\" (a plugctl list has only `images`)"},
      {"images:\n  - repository: reg.io/x\n    tag: [1.0]\n",
       "list.yaml:3: unknown key \"tag\" (an image has repository, tags, tag-regex, semver, "
       "newest)"},
      {"images:\n  - repository: reg.io/x:1.0\n    tags: [latest]\n",
       "list.yaml:2: repository \"reg.io/x:1.0\" names a tag or digest"},
      {"images:\n  - repository: reg.io/x\n    newest: 3\n    tags: [a]\n",
       "list.yaml:3: newest needs tag-regex or semver"},
      {"images:\n  - repository: reg.io/x\n    newest: -1\n    semver: '1'\n",
       "list.yaml:3: newest must be a number from 0 to 1000000: \"-1\""},
      {"images:\n  - repository: reg.io/x\n    tags: []\n",
       "list.yaml:2: image \"reg.io/x\" selects nothing: add tags, tag-regex or semver"},
      {"images:\n  - tags: [a]\n", "list.yaml:2: image has no `repository`"},
      {"images:\n  - repository: reg.io/x\n    tag-regex: '(a'\n",
       "list.yaml:3: tag regex \"(a\": invalid regular expression"},
      {"images:\n  - repository: reg.io/x\n    semver: '>=1.x.2'\n",
       "list.yaml:3: invalid semver range \">=1.x.2\": version \"1.x.2\" has a number after a "
       "wildcard"},
      {"images:\n  - repository: reg.io/x\n    tags: [Bad/Tag]\n",
       "list.yaml:3: tag \"Bad/Tag\" has invalid characters"},
      {"images:\n  - repository: reg.io/x\n    tags: ['sha256:abc']\n",
       "list.yaml:3: invalid digest"},
      {"images:\n  - repository: reg.io/x\n    tags: latest\n", "list.yaml:3: tags must be a list"},
      {"images:\n  - repository: reg.io/x\n    tags: [[a]]\n",
       "list.yaml:3: a tag must be a string"},
      {"images:\n  - repository: reg.io/x\n    tags: [a]\n    tags: [b]\n",
       "list.yaml:4: duplicate key \"tags\" (also on line 3)"},
      {"images:\n  - reg.io/x:1\n  - \"reg.io/X:1\"\n",
       "list.yaml:3: invalid reference \"reg.io/X:1\""},
      {"images:\n  - [reg.io/x]\n", "list.yaml:2: an image must be a reference or a map"},
      {"images: reg.io/x:1\n", "list.yaml:1: images must be a list"},
      {"images:\n  - reg.io/x:1\n\t- y\n", "list.yaml:3: invalid YAML"},
      {"images:\n  - reg.io/x:1\n  - *undefined\n", "list.yaml:3: invalid YAML"},
      {"- reg.io/x:1\n", "list.yaml:1: a YAML list is a map"},
      {"imagez:\n  - reg.io/x:1\n", "list.yaml:1: unknown key \"imagez\""},
      {"images:\n  - \"reg.io/x:1\\nsecond line\"\n", "list.yaml:2: invalid reference"},
  };
  for (const Case& c : cases) {
    Error e = MustFail(c.text, "list.yaml");
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << c.text;
    EXPECT_THAT(e.message(), StartsWith(c.message)) << c.text;
  }
}

// ---- skopeo sync YAML ----

TEST(MirrorListSkopeoTest, SyncFormat) {
  std::vector<MirrorSource> s = MustParse(std::string(R"(registry.example.com:
  images:
    busybox: []
    redis:
      - "1.0"
      - "2.0"
      - ")") + kDigest + R"("
    nginx:1.25: []
  images-by-tag-regex:
    nginx: ^1\.13\.[12]-alpine-perl$
  images-by-semver:
    alpine: ">= 3.12.0"
  tls-verify: true
docker.io:
  images:
    library/busybox: [latest]
    ubuntu: ["22.04"]
localhost:5000:
  images:
    plugins/x:
)",
                                          "sync.yml");
  ASSERT_EQ(s.size(), 8u);
  EXPECT_EQ(s[0].repository.Name(), "registry.example.com/busybox");
  EXPECT_TRUE(s[0].all_tags);
  EXPECT_TRUE(s[0].refs.empty());
  EXPECT_TRUE(s[0].NeedsTagList());
  EXPECT_EQ(s[0].origin, "sync.yml:3");
  EXPECT_EQ(s[1].repository.Name(), "registry.example.com/redis");
  EXPECT_THAT(s[1].refs, ElementsAre("1.0", "2.0", kDigest));
  EXPECT_EQ(s[2].repository.Name(), "registry.example.com/nginx");
  EXPECT_THAT(s[2].refs, ElementsAre("1.25"));
  EXPECT_EQ(s[3].repository.Name(), "registry.example.com/nginx");
  EXPECT_EQ(s[3].tag_regex, "^1\\.13\\.[12]-alpine-perl$");
  EXPECT_EQ(s[3].origin, "sync.yml:10");
  EXPECT_EQ(s[4].semver, ">= 3.12.0");
  EXPECT_EQ(s[5].repository.Name(), "docker.io/library/busybox");
  EXPECT_THAT(s[5].refs, ElementsAre("latest"));
  EXPECT_EQ(s[6].repository.Name(), "docker.io/library/ubuntu");  // Docker Hub's library/
  EXPECT_EQ(s[7].repository.Name(), "localhost:5000/plugins/x");
  EXPECT_TRUE(s[7].all_tags);  // a null list is empty too
}

TEST(MirrorListSkopeoTest, RefusesSettingsWithTheFlagToUse) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"quay.io:\n  tls-verify: false\n  images:\n    x/y: []\n",
       "sync.yml:2: tls-verify is not read from lists: pass --insecure"},
      {"quay.io:\n  images:\n    x/y: []\n  cert-dir: /etc/certs\n",
       "sync.yml:4: cert-dir is not read from lists: pass --ca-file"},
      {"quay.io:\n  credentials:\n    username: john\n    password: secret\n",
       "sync.yml:2: credentials are not read from lists: run `plugctl login quay.io`"},
      {"quay.io:\n  images-by-regex:\n    x/y: a\n", "sync.yml:2: unknown key \"images-by-regex\""},
      {"quay.io:\n  images:\n    x/y: []\nnot-a-host:\n  images:\n    a: []\n",
       "sync.yml:4: \"not-a-host\" is not a registry host"},
      {"quay.io:\n  images:\n    x/y:1.0: [\"2.0\"]\n",
       "sync.yml:3: \"x/y:1.0\" names a tag or digest, so its list must be empty"},
      {"quay.io:\n  images-by-tag-regex:\n    x/y: '[a'\n", "sync.yml:3: tag regex \"[a\""},
      {"quay.io:\n  images-by-semver:\n    x/y: '>= 3.x.1'\n",
       "sync.yml:3: invalid semver range \">= 3.x.1\""},
      {"quay.io:\n  images-by-semver:\n    x/y: [1]\n",
       "sync.yml:3: the range of \"x/y\" must be a string"},
      {"quay.io:\n  images-by-semver:\n    x/y:1.0: '>=1'\n",
       "sync.yml:3: repository \"quay.io/x/y:1.0\" names a tag or digest"},
      {"quay.io: [x/y]\n", "sync.yml:1: registry \"quay.io\" must map to images"},
      {"quay.io:\n  images:\n    X/y: []\n", "sync.yml:3: invalid reference \"quay.io/X/y\""},
      {"bad..host:\n  images:\n    x: []\n", "sync.yml:3: invalid reference \"bad..host/x\""},
  };
  for (const Case& c : cases) {
    Error e = MustFail(c.text, "sync.yml");
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << c.text;
    EXPECT_THAT(e.message(), StartsWith(c.message)) << c.text;
  }
}

// ---- both ----

TEST(MirrorListTest, EmptyListsAreErrors) {
  for (const char* text : {"", "\n\n", "# only a comment\n! and another\n", "images: []\n",
                           "images:\n", "{}\n", "quay.io:\n  images: {}\n"}) {
    Error e = MustFail(text, "empty.txt");
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << text;
    EXPECT_EQ(e.message(), "empty.txt: no images in the list") << text;
  }
}

TEST(MirrorListTest, Limits) {
  std::string huge(kMaxMirrorListBytes + 1, '#');
  Error e = MustFail(huge);
  EXPECT_EQ(e.code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(e.message(), StartsWith("list: list is 4194305 bytes"));

  std::string many;
  for (size_t i = 0; i <= kMaxMirrorListEntries; ++i) many += fmt::format("reg.io/x:t{}\n", i);
  e = MustFail(many);
  EXPECT_EQ(e.code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(e.message(), "list:10001: more than 10000 images in one list");

  // Entries are counted before deduplication: the limit bounds the work, not the result.
  std::string repeated;
  for (size_t i = 0; i <= kMaxMirrorListEntries; ++i) repeated += "reg.io/x:1\n";
  EXPECT_EQ(MustFail(repeated).code(), ErrorCode::kResourceExhausted);

  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'h'; ++c) {
    std::string alias = std::string("*") + static_cast<char>(c - 1);
    bomb += std::string(1, c) + ": &" + c + " [" + alias;
    for (int i = 0; i < 9; ++i) bomb += ", " + alias;
    bomb += "]\n";
  }
  bomb += "images: *h\n";
  EXPECT_EQ(MustFail(bomb).code(), ErrorCode::kResourceExhausted);

  std::string deep = "images:\n  - " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  EXPECT_EQ(MustFail(deep).code(), ErrorCode::kResourceExhausted);
}

TEST(MirrorListTest, ParseMirrorReference) {
  Result<MirrorSource> s = ParseMirrorReference("oci://reg.io/plugins/x", "argument 2");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->repository.Name(), "reg.io/plugins/x");
  EXPECT_TRUE(s->repository.tag.empty());
  EXPECT_THAT(s->refs, ElementsAre("latest"));
  EXPECT_EQ(s->origin, "argument 2");
  EXPECT_FALSE(s->NeedsTagList());

  s = ParseMirrorReference(std::string("reg.io/plugins/x@") + kDigest, "argument 1");
  ASSERT_TRUE(s.has_value());
  EXPECT_THAT(s->refs, ElementsAre(kDigest));
  EXPECT_FALSE(s->repository.digest.has_value());

  s = ParseMirrorReference("reg.io/Plugins/x:1", "argument 3");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(s.error().message(),
              StartsWith("argument 3: invalid reference \"reg.io/Plugins/x:1\""));
}

// ---- SelectTags ----

MirrorSource Repo() {
  MirrorSource s;
  s.repository.registry = "reg.io";
  s.repository.repository = "plugins/x";
  s.origin = "list.yaml:7";
  return s;
}

const std::vector<std::string> kTags = {
    "latest", "1.0.0", "1.0.1",     "1.10.0", "1.2.0", "v1.9.0",  "2.0.0-rc.1", "2.0.0",
    "2.1.0",  "main",  "1.0.0-rc1", "1.0.1",  "0.9",   "bad tag", "-bad",       "1.2.0_fix",
};

TEST(SelectTagsTest, NothingWithoutPatterns) {
  MirrorSource s = Repo();
  s.refs = {"1.0.0"};
  Result<std::vector<std::string>> tags = SelectTags(s, kTags);
  ASSERT_TRUE(tags.has_value());
  EXPECT_TRUE(tags->empty());  // explicit refs are not included
}

TEST(SelectTagsTest, AllTagsSortedNamesFirstThenVersions) {
  MirrorSource s = Repo();
  s.all_tags = true;
  Result<std::vector<std::string>> tags = SelectTags(s, kTags);
  ASSERT_TRUE(tags.has_value());
  // Invalid tags are dropped, duplicates once; prereleases sort below their release.
  EXPECT_THAT(*tags,
              ElementsAre("1.2.0_fix", "latest", "main", "0.9", "1.0.0-rc1", "1.0.0", "1.0.1",
                          "1.2.0", "v1.9.0", "1.10.0", "2.0.0-rc.1", "2.0.0", "2.1.0"));
}

TEST(SelectTagsTest, ReferrerTagsAreNeverSelected) {
  const std::string hex(64, 'a');
  MirrorSource s = Repo();
  s.tag_regex = ".*";
  Result<std::vector<std::string>> tags =
      SelectTags(s, {"1.2.3", "sha256-" + hex, "sha256-" + hex + ".sig", "sha256-" + hex + ".att",
                     "sha512-" + std::string(128, '0'), "sha256-abc", "sha256-" + hex + "x"});
  ASSERT_TRUE(tags.has_value());
  // Short or trailing-garbage lookalikes are ordinary tags.
  EXPECT_THAT(*tags, ElementsAre("sha256-" + hex + "x", "sha256-abc", "1.2.3"));
  EXPECT_TRUE(IsReferrerTag("sha256-" + hex + ".sbom"));
  EXPECT_FALSE(IsReferrerTag("sha256-" + std::string(64, 'A')));
}

TEST(SelectTagsTest, Regex) {
  MirrorSource s = Repo();
  s.tag_regex = "^1\\.";  // unanchored at the end, like skopeo's MatchString
  Result<std::vector<std::string>> tags = SelectTags(s, kTags);
  ASSERT_TRUE(tags.has_value());
  EXPECT_THAT(*tags, ElementsAre("1.2.0_fix", "1.0.0-rc1", "1.0.0", "1.0.1", "1.2.0", "1.10.0"));

  s.tag_regex = "^(main|latest)$";
  tags = SelectTags(s, kTags);
  ASSERT_TRUE(tags.has_value());
  EXPECT_THAT(*tags, ElementsAre("latest", "main"));
}

TEST(SelectTagsTest, Semver) {
  MirrorSource s = Repo();
  s.semver = ">=1.0.0 <2.0.0";
  Result<std::vector<std::string>> tags = SelectTags(s, kTags);
  ASSERT_TRUE(tags.has_value());
  EXPECT_THAT(*tags, ElementsAre("1.0.0", "1.0.1", "1.2.0", "v1.9.0", "1.10.0"));

  s.semver = ">=2.0.0-rc.0";
  tags = SelectTags(s, kTags);
  ASSERT_TRUE(tags.has_value());
  EXPECT_THAT(*tags, ElementsAre("2.0.0-rc.1", "2.0.0", "2.1.0"));

  s.semver = "0.9";
  tags = SelectTags(s, kTags);
  ASSERT_TRUE(tags.has_value());
  EXPECT_THAT(*tags, ElementsAre("0.9"));  // partial tags are versions, as in skopeo
}

TEST(SelectTagsTest, RegexAndSemverAndNewest) {
  MirrorSource s = Repo();
  s.tag_regex = "^1\\.";
  s.semver = "^1";
  s.newest = 2;
  Result<std::vector<std::string>> tags = SelectTags(s, kTags);
  ASSERT_TRUE(tags.has_value());
  EXPECT_THAT(*tags, ElementsAre("1.2.0", "1.10.0"));

  // newest keeps versions only, even when a regex also took names.
  s.semver.reset();
  s.tag_regex = "^(main|1\\.0\\..*)$";
  s.newest = 5;
  tags = SelectTags(s, kTags);
  ASSERT_TRUE(tags.has_value());
  EXPECT_THAT(*tags, ElementsAre("1.0.0-rc1", "1.0.0", "1.0.1"));

  s.newest = 1;
  tags = SelectTags(s, {});
  ASSERT_TRUE(tags.has_value());
  EXPECT_TRUE(tags->empty());
}

TEST(SelectTagsTest, BadPatternsNameTheOrigin) {
  MirrorSource s = Repo();
  s.tag_regex = "(a";
  Result<std::vector<std::string>> tags = SelectTags(s, kTags);
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(tags.error().message(), StartsWith("list.yaml:7: tag regex \"(a\": invalid regular"));

  s = Repo();
  s.semver = ">=1.0 ||";
  tags = SelectTags(s, kTags);
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(tags.error().message(), StartsWith("list.yaml:7: invalid semver range"));

  // A pattern too costly on some tag stops with the tag named instead of hanging.
  s = Repo();
  s.tag_regex = "^(a+)+$";
  tags = SelectTags(s, {std::string(40, 'a') + "b"});
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(tags.error().message(), HasSubstr("on tag \"aaaa"));
}

}  // namespace
}  // namespace plugctl::transfer
