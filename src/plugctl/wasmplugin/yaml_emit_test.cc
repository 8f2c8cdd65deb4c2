#include "plugctl/wasmplugin/yaml_emit.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "plugctl/spec/config_yaml.h"

namespace plugctl::wasmplugin {
namespace {

// Emits {"v": value}, reads it back with the project's YAML 1.2 reader and returns "v".
nlohmann::json RoundTrip(const nlohmann::ordered_json& value) {
  std::string yaml = EmitYaml(nlohmann::ordered_json{{"v", value}});
  auto doc = spec::ParseYamlDocument(yaml);
  EXPECT_TRUE(doc.has_value()) << yaml;
  if (!doc) return nullptr;
  EXPECT_TRUE(doc->notes.empty()) << yaml << doc->notes.front().message;
  return doc->value["v"];
}

TEST(YamlEmitTest, StringsThatLookLikeOtherTypesAreQuoted) {
  for (const char* text : {"true",
                           "False",
                           "null",
                           "NULL",
                           "~",
                           "yes",
                           "No",
                           "on",
                           "OFF",
                           "y",
                           "n",
                           "443",
                           "1.0",
                           "1e3",
                           "0x1F",
                           "0o17",
                           "1_000",
                           "1:30",
                           ".5",
                           ".inf",
                           "-.inf",
                           ".nan",
                           "-1",
                           "+1",
                           "2001-12-14",
                           "2001-12-14t21:59:43.10-05:00",
                           "",
                           " leading",
                           "trailing ",
                           ":",
                           "a: b",
                           "key:",
                           "# not a comment",
                           "a #b",
                           "- item",
                           "[x]",
                           "{x}",
                           "*alias",
                           "&anchor",
                           "!tag",
                           "|",
                           ">",
                           "'single'",
                           "\"double\"",
                           "%directive",
                           "@at",
                           "`tick",
                           "two\nlines",
                           "tab\t",
                           "back\\slash",
                           "<<",
                           "=",
                           "?",
                           "中文",
                           "nul\x01",
                           "del\x7f"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(IsSafePlainScalar(text));
    nlohmann::json back = RoundTrip(text);
    ASSERT_TRUE(back.is_string()) << back.dump();
    EXPECT_EQ(back.get<std::string>(), text);
    // yaml-cpp (a YAML 1.1-minded reader) agrees.
    YAML::Node node = YAML::Load(EmitYaml(nlohmann::ordered_json{{"v", text}}));
    EXPECT_EQ(node["v"].as<std::string>(), text);
    EXPECT_EQ(node["v"].Tag(), "!");  // quoted: never resolved as another type
  }
}

TEST(YamlEmitTest, OrdinaryStringsStayPlain) {
  for (const char* text :
       {"WasmPlugin", "extensions.higress.io/v1alpha1", "higress-system", "add-header",
        "oci://reg.local:5000/plugins/x:1.0.0", "https://h/plugins/x/1.0.0/plugin.wasm",
        "4a5b6c0123456789abcdef0123456789abcdef0123456789abcdef0123456789", "UNSPECIFIED_PHASE",
        "x-hello", "a@sha256:00", "1.0.0-rc1", "v1"}) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(IsSafePlainScalar(text));
    EXPECT_EQ(RoundTrip(text), text);
  }
}

TEST(YamlEmitTest, ScalarsKeepTheirTypes) {
  EXPECT_EQ(RoundTrip(443), 443);
  EXPECT_TRUE(RoundTrip(443).is_number_integer());
  EXPECT_TRUE(RoundTrip(-7).is_number_integer());
  EXPECT_TRUE(RoundTrip(1.0).is_number_float());
  EXPECT_EQ(RoundTrip(1.0), 1.0);
  EXPECT_EQ(RoundTrip(0.1), 0.1);
  EXPECT_EQ(RoundTrip(1e100), 1e100);
  EXPECT_EQ(RoundTrip(true), true);
  EXPECT_EQ(RoundTrip(false), false);
  EXPECT_TRUE(RoundTrip(nullptr).is_null());
  EXPECT_EQ(RoundTrip(nlohmann::ordered_json::object()), nlohmann::json::object());
  EXPECT_EQ(RoundTrip(nlohmann::ordered_json::array()), nlohmann::json::array());
  EXPECT_EQ(EmitYaml(nlohmann::ordered_json{{"f", std::numeric_limits<double>::infinity()}}),
            "f: .inf\n");
}

TEST(YamlEmitTest, NestedBlocksAndOrder) {
  nlohmann::ordered_json value = nlohmann::ordered_json::parse(R"({
    "z": 1,
    "a": {"list": [1, "two", {"k": "v", "k2": [true, null]}, [3, [4]], {}, []]},
    "key with space": {"x y": "443"}
  })");
  std::string yaml = EmitYaml(value);
  EXPECT_EQ(yaml,
            "z: 1\n"
            "a:\n"
            "  list:\n"
            "    - 1\n"
            "    - two\n"
            "    - k: v\n"
            "      k2:\n"
            "        - true\n"
            "        - null\n"
            "    - - 3\n"
            "      - - 4\n"
            "    - {}\n"
            "    - []\n"
            "\"key with space\":\n"
            "  \"x y\": \"443\"\n");
  auto doc = spec::ParseYamlDocument(yaml);
  ASSERT_TRUE(doc.has_value()) << doc.error().message();
  EXPECT_EQ(doc->value, nlohmann::json(value));
}

TEST(YamlEmitTest, UnicodeAndControlCharacters) {
  EXPECT_EQ(QuoteYamlString("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
  EXPECT_EQ(QuoteYamlString("\x01"), "\"\\u0001\"");
  EXPECT_EQ(QuoteYamlString("\xc2\x85"), "\"\\u0085\"");        // NEL, a C1 control
  EXPECT_EQ(QuoteYamlString("\xef\xbb\xbfx"), "\"\\uFEFFx\"");  // BOM
  EXPECT_EQ(QuoteYamlString("\xff"), "\"\\uFFFD\"");            // not UTF-8
  EXPECT_EQ(QuoteYamlString("a\xe2\x80\xa8"
                            "b"),
            "\"a\\u2028b\"");  // line separator
  EXPECT_EQ(QuoteYamlString("\xe2\x80\xae"
                            "x"),
            "\"\\u202Ex\"");  // right-to-left override
  EXPECT_EQ(QuoteYamlString("\xe4\xb8\xad"), "\"\xe4\xb8\xad\"");
  EXPECT_EQ(EmitYaml("top"), "top\n");
}

}  // namespace
}  // namespace plugctl::wasmplugin
