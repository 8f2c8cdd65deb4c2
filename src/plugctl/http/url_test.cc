#include "plugctl/http/url.h"

#include <gtest/gtest.h>

#include "plugctl/http/headers.h"

namespace plugctl::http {
namespace {

TEST(UrlTest, ParsesOriginParts) {
  auto url = ParseUrl("HTTPS://Reg.Example.com/v2/x/blobs/sha256:ab?n=10");
  ASSERT_TRUE(url.has_value()) << url.error().message();
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "reg.example.com");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->path, "/v2/x/blobs/sha256:ab");
  EXPECT_EQ(url->query, "n=10");
  EXPECT_EQ(url->Origin(), "https://reg.example.com:443");
}

TEST(UrlTest, RejectsNonHttpAndGarbage) {
  EXPECT_FALSE(ParseUrl("ftp://x/y").has_value());
  EXPECT_FALSE(ParseUrl("not a url").has_value());
  EXPECT_FALSE(ParseUrl("").has_value());
  EXPECT_FALSE(ParseUrl("file:///etc/passwd").has_value());
}

TEST(UrlTest, ResolvesRelativeLocations) {
  const std::string base = "http://127.0.0.1:5000/v2/a/b/blobs/uploads/";
  EXPECT_EQ(*ResolveUrl(base, "/v2/a/b/blobs/uploads/uuid?_state=x"),
            "http://127.0.0.1:5000/v2/a/b/blobs/uploads/uuid?_state=x");
  EXPECT_EQ(*ResolveUrl(base, "uuid"), "http://127.0.0.1:5000/v2/a/b/blobs/uploads/uuid");
  EXPECT_EQ(*ResolveUrl(base, "https://s3.example.com/bucket/obj?X-Amz-Signature=abc"),
            "https://s3.example.com/bucket/obj?X-Amz-Signature=abc");
  EXPECT_EQ(*ResolveUrl(base, "//other.example/x"), "http://other.example/x");
  EXPECT_FALSE(ResolveUrl(base, "ftp://x/y").has_value());
}

TEST(UrlTest, SameOriginComparesSchemeHostAndPort) {
  EXPECT_TRUE(SameOrigin("https://a.example/x", "https://A.example:443/y"));
  EXPECT_FALSE(SameOrigin("https://a.example/x", "http://a.example/x"));
  EXPECT_FALSE(SameOrigin("https://a.example/x", "https://a.example:8443/x"));
  EXPECT_FALSE(SameOrigin("https://a.example/x", "https://b.example/x"));
  EXPECT_FALSE(SameOrigin("garbage", "garbage"));
}

TEST(UrlTest, RedactsSecretsInQuery) {
  EXPECT_EQ(RedactUrl("https://s3/x?X-Amz-Signature=abc&X-Amz-Date=1&token=t"),
            "https://s3/x?X-Amz-Signature=REDACTED&X-Amz-Date=1&token=REDACTED");
  EXPECT_EQ(RedactUrl("https://reg/v2/"), "https://reg/v2/");
}

TEST(UrlTest, QueryEscape) {
  EXPECT_EQ(QueryEscape("repository:a/b:pull,push"), "repository%3Aa%2Fb%3Apull%2Cpush");
}

TEST(HeadersTest, CaseInsensitiveLookupKeepsOrder) {
  Headers h;
  h.Add("Www-Authenticate", "Bearer realm=\"x\"");
  h.Add("Link", "<a>; rel=\"next\"");
  h.Add("link", "<b>; rel=\"next\"");
  EXPECT_EQ(h.Get("WWW-Authenticate"), "Bearer realm=\"x\"");
  EXPECT_EQ(h.GetAll("LINK").size(), 2u);
  h.Set("LINK", "c");
  EXPECT_EQ(h.GetAll("link"), std::vector<std::string>{"c"});
  h.Remove("www-authenticate");
  EXPECT_FALSE(h.Has("WWW-Authenticate"));
}

}  // namespace
}  // namespace plugctl::http
