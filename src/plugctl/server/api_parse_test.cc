#include "plugctl/server/api_parse.h"

#include <gtest/gtest.h>

namespace plugctl::server {
namespace {

TEST(ApiParseTest, RoutesByTheEndOfThePath) {
  EXPECT_EQ(ParseApiPath("/v2/").route, Route::kBase);
  EXPECT_EQ(ParseApiPath("/v2/_catalog").route, Route::kCatalog);
  ApiPath tags = ParseApiPath("/v2/plugins/basic-auth/tags/list");
  EXPECT_EQ(tags.route, Route::kTags);
  EXPECT_EQ(tags.name, "plugins/basic-auth");
  ApiPath manifest = ParseApiPath("/v2/a/manifests/b/manifests/1.0");
  EXPECT_EQ(manifest.route, Route::kManifest);
  EXPECT_EQ(manifest.name, "a/manifests/b");  // a component may be called "manifests"
  EXPECT_EQ(manifest.ref, "1.0");
  EXPECT_EQ(ParseApiPath("/v2/x/blobs/uploads/").route, Route::kUploadStart);
  EXPECT_EQ(ParseApiPath("/v2/x/blobs/uploads").route, Route::kUploadStart);
  ApiPath upload = ParseApiPath("/v2/x/y/blobs/uploads/abc");
  EXPECT_EQ(upload.route, Route::kUpload);
  EXPECT_EQ(upload.name, "x/y");
  EXPECT_EQ(upload.ref, "abc");
  ApiPath blob = ParseApiPath("/v2/x/blobs/sha256:00");
  EXPECT_EQ(blob.route, Route::kBlob);
  EXPECT_EQ(blob.ref, "sha256:00");
  EXPECT_EQ(ParseApiPath("/v2/x/referrers/sha256:00").route, Route::kReferrers);
  EXPECT_EQ(ParseApiPath("/v3/x/tags/list").route, Route::kUnknown);
  EXPECT_EQ(ParseApiPath("/v2/x").route, Route::kUnknown);
  EXPECT_EQ(ParseApiPath("").route, Route::kUnknown);
}

TEST(ApiParseTest, NamesAreNeverDecoded) {
  EXPECT_EQ(ParseApiPath("/v2/a%2Fb/tags/list").name, "a%2Fb");
  EXPECT_EQ(ParseApiPath("/v2/%2e%2e/tags/list").name, "%2e%2e");
}

TEST(ApiParseTest, QueriesDecodeLikeGo) {
  Query q =
      ParseQuery("n=10&last=a%2Fb&scope=repository:x:pull&scope=repository:y:push&x=a+b&bad=%zz");
  EXPECT_EQ(QueryValue(q, "n"), "10");
  EXPECT_EQ(QueryValue(q, "last"), "a/b");
  EXPECT_EQ(q.count("scope"), 2u);
  EXPECT_EQ(QueryValue(q, "x"), "a b");
  EXPECT_EQ(QueryValue(q, "bad"), "%zz");
  EXPECT_EQ(QueryValue(q, "absent"), "");
  std::string many;
  for (int i = 0; i < 100; ++i) many += "k" + std::to_string(i) + "=v&";
  EXPECT_EQ(ParseQuery(many).size(), 64u);
  EXPECT_EQ(EscapeQueryValue("a b&c"), "a%20b%26c");
}

TEST(ApiParseTest, ContentRanges) {
  auto r = ParseContentRange("0-1023");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->start, 0u);
  EXPECT_EQ(r->end, 1023u);
  r = ParseContentRange("bytes 10-19/100");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->start, 10u);
  EXPECT_FALSE(ParseContentRange("5-4"));
  EXPECT_FALSE(ParseContentRange("-4"));
  EXPECT_FALSE(ParseContentRange("a-b"));
  EXPECT_FALSE(ParseContentRange("99999999999999999999-1"));
}

TEST(ApiParseTest, ByteRanges) {
  auto r = ParseRange("bytes=0-9", 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset, 0u);
  EXPECT_EQ(r->length, 10u);
  r = ParseRange("bytes=90-", 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->length, 10u);
  r = ParseRange("bytes=-5", 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->offset, 95u);
  r = ParseRange("bytes=50-1000", 100);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->length, 50u);
  r = ParseRange("bytes=100-", 100);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->unsatisfiable);
  // The fuzzer's find: a suffix range of an empty blob is unsatisfiable, not "bytes 0--1/0".
  r = ParseRange("bytes=-199", 0);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->unsatisfiable);
  EXPECT_FALSE(ParseRange("bytes=0-1,5-6", 100));
  EXPECT_FALSE(ParseRange("items=0-1", 100));
  EXPECT_FALSE(ParseRange("bytes=9-1", 100));
}

TEST(ApiParseTest, AcceptNegotiation) {
  const std::string oci = "application/vnd.oci.image.manifest.v1+json";
  EXPECT_TRUE(AcceptsMediaType("", oci));
  EXPECT_TRUE(AcceptsMediaType(" , ", oci));
  EXPECT_TRUE(
      AcceptsMediaType("application/vnd.docker.distribution.manifest.v2+json, " + oci, oci));
  EXPECT_TRUE(AcceptsMediaType("APPLICATION/VND.OCI.IMAGE.MANIFEST.V1+JSON;q=0.5", oci));
  EXPECT_TRUE(AcceptsMediaType("*/*", oci));
  EXPECT_TRUE(AcceptsMediaType("application/*", oci));
  EXPECT_FALSE(AcceptsMediaType("application/vnd.docker.distribution.manifest.v2+json", oci));
  EXPECT_FALSE(AcceptsMediaType("text/*", oci));
}

}  // namespace
}  // namespace plugctl::server

namespace plugctl::server {
namespace {

TEST(PluginPathTest, SplitsUpToThreeSegments) {
  auto p = ParsePluginPath("/plugins/a/1.0.0/plugin.wasm");
  ASSERT_TRUE(p);
  ASSERT_EQ(p->count, 3u);
  EXPECT_EQ(p->part[0], "a");
  EXPECT_EQ(p->part[2], "plugin.wasm");
  p = ParsePluginPath("/plugins/a/");
  ASSERT_TRUE(p);
  ASSERT_EQ(p->count, 2u);
  EXPECT_EQ(p->part[1], "");
  EXPECT_EQ(ParsePluginPath("/plugins")->count, 1u);
  EXPECT_EQ(ParsePluginPath("/plugins/")->count, 1u);
  EXPECT_FALSE(ParsePluginPath("/pluginsx/a"));
  EXPECT_FALSE(ParsePluginPath("/plugins/a/b/c/d"));
  EXPECT_FALSE(ParsePluginPath("/plugins/a/b/c/"));
  EXPECT_FALSE(ParsePluginPath("/plugins//b"));
  EXPECT_FALSE(ParsePluginPath("/v2/"));
}

TEST(ConditionalTest, IfNoneMatchLists) {
  EXPECT_TRUE(IfNoneMatchHits("\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchHits("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchHits("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchHits("*", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchHits("\"abcd\"", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchHits("abc", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchHits("\"abc", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchHits("", "\"abc\""));
}

TEST(ConditionalTest, HttpDatesRoundTrip) {
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(FormatHttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(ParseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(ParseHttpDate(FormatHttpDate(1798000000)), 1798000000);
  EXPECT_FALSE(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"));
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 UTC"));
  EXPECT_FALSE(ParseHttpDate("Sun, 06 Foo 1994 08:49:37 GMT"));
  EXPECT_FALSE(ParseHttpDate("Sun, 36 Nov 1994 08:49:37 GMT"));
  EXPECT_FALSE(ParseHttpDate(""));
  EXPECT_FALSE(ParseHttpDate("Sun, 22 Nov 0997 08:49:37 GMT"));  // fuzzer: before 1970
}

}  // namespace
}  // namespace plugctl::server
