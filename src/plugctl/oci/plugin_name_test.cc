#include "plugctl/oci/plugin_name.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace plugctl::oci {
namespace {

TEST(PluginNameTest, SegmentsAreSafePathComponents) {
  EXPECT_TRUE(IsPluginPathSegment("basic-auth"));
  EXPECT_TRUE(IsPluginPathSegment("1.0.0+build_2"));
  EXPECT_FALSE(IsPluginPathSegment(""));
  EXPECT_FALSE(IsPluginPathSegment("."));
  EXPECT_FALSE(IsPluginPathSegment(".."));
  EXPECT_FALSE(IsPluginPathSegment(".hidden"));
  EXPECT_FALSE(IsPluginPathSegment("a/b"));
  EXPECT_FALSE(IsPluginPathSegment("a%2fb"));
  EXPECT_FALSE(IsPluginPathSegment("a b"));
  EXPECT_FALSE(IsPluginPathSegment(std::string(129, 'a')));
  EXPECT_TRUE(IsPluginPathSegment(std::string(128, 'a')));
}

TEST(PluginNameTest, ListedNameWinsOverRepository) {
  EXPECT_EQ(PluginPathName("plugins/jsonrpc-converter", "json-converter"), "json-converter");
  EXPECT_EQ(PluginPathName("mcp-server/all-in-one", "mcp-server"), "mcp-server");
  EXPECT_EQ(PluginPathName("plugins/basic-auth", ""), "basic-auth");
  EXPECT_EQ(PluginPathName("basic-auth", ""), "basic-auth");
  // An unsafe listed name is ignored, not used.
  EXPECT_EQ(PluginPathName("plugins/basic-auth", "../x"), "basic-auth");
  EXPECT_EQ(PluginPathName("", ""), "");
}

TEST(PluginNameTest, SeveralKeysOfOneImageSplitAndJoin) {
  EXPECT_EQ(SplitPluginNames("a,b"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(SplitPluginNames("a,,a,b,"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(SplitPluginNames(""), (std::vector<std::string>{""}));
  EXPECT_EQ(JoinPluginNames({"a", "", "b", "a"}), "a,b");
  EXPECT_EQ(JoinPluginNames({}), "");
}

}  // namespace
}  // namespace plugctl::oci
