#include "plugctl/spec/config_yaml.h"

#include <chrono>
#include <cmath>
#include <string>

#include <gtest/gtest.h>

namespace plugctl::spec {
namespace {

nlohmann::json Load(std::string_view text) {
  Result<YamlDocument> doc = ParseYamlDocument(text);
  EXPECT_TRUE(doc.has_value()) << (doc ? "" : doc.error().message());
  return doc ? doc->value : nlohmann::json();
}

struct TypingCase {
  std::string yaml_value;
  nlohmann::json expected;
};

TEST(ConfigYamlTest, ScalarsFollowTheYaml12CoreSchema) {
  const TypingCase cases[] = {
      {"443", 443},
      {"-7", -7},
      {"+7", 7},
      {"0o17", 15},
      {"0x1F", 31},
      {"1.5", 1.5},
      {"-2e3", -2000.0},
      {".5", 0.5},
      {"1.", 1.0},
      {"true", true},
      {"True", true},
      {"FALSE", false},
      {"~", nullptr},
      {"null", nullptr},
      {"", nullptr},
      {"\"443\"", "443"},
      {"'true'", "true"},
      {"\"null\"", "null"},
      {"!!str 443", "443"},
      {"!!int \"443\"", 443},
      {"!!float 1", 1.0},
      {"!!bool true", true},
      {"yes", "yes"},  // YAML 1.1 boolean, YAML 1.2 string
      {"on", "on"},
      {"0755", 755},  // YAML 1.2: decimal
      {"1_000", "1_000"},
      {"1:30", "1:30"},
      {"12e", "12e"},
      {"0x", "0x"},
      {"admin:123456", "admin:123456"},
      {"1.0.0", "1.0.0"},
      {"9223372036854775807", INT64_MAX},
      {"18446744073709551615", UINT64_MAX},
      {"-9223372036854775808", INT64_MIN},
  };
  for (const TypingCase& c : cases) {
    nlohmann::json v = Load("v: " + c.yaml_value + "\n");
    EXPECT_EQ(v["v"], c.expected) << c.yaml_value;
    EXPECT_EQ(v["v"].type(), c.expected.type()) << c.yaml_value;
  }
}

TEST(ConfigYamlTest, BlockScalarsAreStrings) {
  nlohmann::json v = Load("a: |\n  443\nb: >\n  true\n");
  EXPECT_EQ(v["a"], "443\n");
  EXPECT_EQ(v["b"], "true\n");
}

TEST(ConfigYamlTest, HugeIntegersStayNumbers) {
  nlohmann::json v = Load("v: 123456789012345678901234567890\n");
  ASSERT_TRUE(v["v"].is_number_float());
  EXPECT_NEAR(v["v"].get<double>(), 1.2345678901234568e29, 1e15);
}

TEST(ConfigYamlTest, SpecialFloats) {
  nlohmann::json v = Load("a: .inf\nb: -.Inf\nc: .nan\n");
  EXPECT_TRUE(std::isinf(v["a"].get<double>()));
  EXPECT_LT(v["b"].get<double>(), 0);
  EXPECT_TRUE(std::isnan(v["c"].get<double>()));
  EXPECT_EQ(DescribeValue(v["a"]), ".inf");
}

TEST(ConfigYamlTest, KeysAreStrings) {
  nlohmann::json v = Load("443: a\ntrue: b\n~: c\n");
  EXPECT_EQ(v["443"], "a");
  EXPECT_EQ(v["true"], "b");
  EXPECT_EQ(v["null"], "c");
}

TEST(ConfigYamlTest, BadExplicitTagIsAnError) {
  Result<YamlDocument> doc = ParseYamlDocument("a: !!int abc\n");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(doc.error().message().find("line 1"), std::string::npos);
}

TEST(ConfigYamlTest, UnknownTagIsANote) {
  Result<YamlDocument> doc = ParseYamlDocument("a: !Ref thing\n");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->value["a"], "thing");
  ASSERT_EQ(doc->notes.size(), 1u);
  EXPECT_NE(doc->notes[0].message.find("!Ref"), std::string::npos);
}

TEST(ConfigYamlTest, Yaml11AmbiguitiesAreNoted) {
  Result<YamlDocument> doc =
      ParseYamlDocument("a: yes\nb: \"yes\"\nc: 0755\nd: 1:30\ne: x\nOFF: 1\n");
  ASSERT_TRUE(doc);
  ASSERT_EQ(doc->notes.size(), 4u);
  EXPECT_EQ(doc->notes[0].path, "a");
  EXPECT_EQ(doc->notes[0].line, 1);
  EXPECT_NE(doc->notes[0].message.find("boolean true"), std::string::npos);
  EXPECT_EQ(doc->notes[1].path, "c");
  EXPECT_NE(doc->notes[1].message.find("octal"), std::string::npos);
  EXPECT_EQ(doc->notes[2].path, "d");
  EXPECT_EQ(doc->notes[3].path, "OFF");
  EXPECT_NE(doc->notes[3].message.find("key"), std::string::npos);
}

TEST(ConfigYamlTest, DuplicateKeysLastWinsWithANote) {
  Result<YamlDocument> doc =
      ParseYamlDocument("required:\n  - a\n  - b\nother: 1\nrequired:\n  - c\n");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->value["required"], nlohmann::json::array({"c"}));
  ASSERT_EQ(doc->notes.size(), 1u);
  EXPECT_EQ(doc->notes[0].line, 5);
  EXPECT_EQ(doc->notes[0].path, "required");
  EXPECT_NE(doc->notes[0].message.find("also on line 1"), std::string::npos);
  EXPECT_NE(doc->notes[0].message.find("last value wins"), std::string::npos);
  EXPECT_EQ(doc->lines.Find("/required"), 5);
}

TEST(ConfigYamlTest, DuplicateKeysInFlowMappings) {
  Result<YamlDocument> doc = ParseYamlDocument("{a: 1, a: 2, a: 3}");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->value["a"], 3);
  EXPECT_EQ(doc->notes.size(), 2u);
}

TEST(ConfigYamlTest, LinesOfValues) {
  Result<YamlDocument> doc = ParseYamlDocument(
      "spec:\n"             // 1
      "  phase: AUTHN\n"    // 2
      "  list:\n"           // 3
      "    - name: a\n"     // 4
      "      value: 1\n"    // 5
      "    - x\n"           // 6
      "  \"a/b~c\": 2\n");  // 7
  ASSERT_TRUE(doc);
  const LineMap& lines = doc->lines;
  EXPECT_EQ(lines.Find(""), 1);
  EXPECT_EQ(lines.Find("/spec"), 1);
  EXPECT_EQ(lines.Find("/spec/phase"), 2);
  EXPECT_EQ(lines.Find("/spec/list/0"), 4);
  EXPECT_EQ(lines.Find("/spec/list/0/value"), 5);
  EXPECT_EQ(lines.Find("/spec/list/1"), 6);
  EXPECT_EQ(lines.Find("/spec/a~1b~0c"), 7);
  // Missing pointers fall back to the nearest ancestor.
  EXPECT_EQ(lines.Find("/spec/list/0/missing"), 4);
  EXPECT_EQ(lines.Find("/nothing/here"), 1);
}

TEST(ConfigYamlTest, EmptyValueTakesTheLineOfItsKey) {
  Result<YamlDocument> doc = ParseYamlDocument("a:\nb: 1\n");
  ASSERT_TRUE(doc);
  EXPECT_TRUE(doc->value["a"].is_null());
  EXPECT_EQ(doc->lines.Find("/a"), 1);
}

TEST(ConfigYamlTest, JsonIsAccepted) {
  Result<YamlDocument> doc = ParseYamlDocument(
      "{\n  \"servicePort\": 443,\n  \"name\": \"x\",\n  \"list\": [1.5, null]\n}");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->value["servicePort"], 443);
  EXPECT_EQ(doc->value["name"], "x");
  EXPECT_EQ(doc->value["list"], nlohmann::json::parse("[1.5, null]"));
  EXPECT_EQ(doc->lines.Find("/servicePort"), 2);
  EXPECT_EQ(doc->lines.Find("/list"), 4);
}

TEST(ConfigYamlTest, AliasesAreExpanded) {
  nlohmann::json v = Load("base: &b {x: 1}\nuse: *b\nlist: [&s str, *s]\n");
  EXPECT_EQ(v["use"], nlohmann::json({{"x", 1}}));
  EXPECT_EQ(v["list"], nlohmann::json::array({"str", "str"}));
}

TEST(ConfigYamlTest, AliasAsKey) {
  nlohmann::json v = Load("k: &k name\n*k : 2\n");
  EXPECT_EQ(v["name"], 2);
}

TEST(ConfigYamlTest, BillionLaughsIsRefusedQuickly) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += fmt::format("{}: &{} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n", c,
                        c, fmt::arg("p", static_cast<char>(c - 1)));
  }
  auto start = std::chrono::steady_clock::now();
  Result<YamlDocument> doc = ParseYamlDocument(bomb);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(doc.error().message().find("alias expansion"), std::string::npos);
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(ConfigYamlTest, NestedAnchorsCountAgainstTheBudget) {
  // Each level anchors a copy of everything below it: quadratic memory if not counted.
  std::string text;
  for (int i = 0; i < 90; ++i) text += fmt::format("&a{} [", i);
  for (int i = 0; i < 2000; ++i) text += "1, ";
  text += "1";
  for (int i = 0; i < 90; ++i) text += "]";
  text += "\n";
  EXPECT_TRUE(ParseYamlDocument(text));
  Result<YamlDocument> doc = ParseYamlDocument(text, {.max_values = 50'000});
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code(), ErrorCode::kResourceExhausted);
}

TEST(ConfigYamlTest, RecursiveAliasIsAnError) {
  Result<YamlDocument> doc = ParseYamlDocument("a: &a [1, *a]\n");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(doc.error().message().find("recursive"), std::string::npos);
}

TEST(ConfigYamlTest, DeepNestingIsRefused) {
  for (std::string open : {"[", "{a: "}) {
    std::string text;
    for (int i = 0; i < 5000; ++i) text += open;
    Result<YamlDocument> doc = ParseYamlDocument(text);
    ASSERT_FALSE(doc) << open;
    EXPECT_TRUE(doc.error().code() == ErrorCode::kResourceExhausted ||
                doc.error().code() == ErrorCode::kInvalidArgument)
        << doc.error().message();
  }
  std::string block;
  for (int i = 0; i < 150; ++i) block += std::string(static_cast<size_t>(i) * 2, ' ') + "a:\n";
  Result<YamlDocument> doc = ParseYamlDocument(block);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(doc.error().message().find("nesting deeper than 100"), std::string::npos);
}

TEST(ConfigYamlTest, NestingWithinTheLimitIsFine) {
  std::string text;
  for (int i = 0; i < 99; ++i) text += "[";
  for (int i = 0; i < 99; ++i) text += "]";
  EXPECT_TRUE(ParseYamlDocument(text));
}

TEST(ConfigYamlTest, HugeInputIsRefusedBeforeParsing) {
  std::string text(5 * 1024 * 1024, ' ');
  Result<YamlDocument> doc = ParseYamlDocument(text);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code(), ErrorCode::kResourceExhausted);
  Result<YamlDocument> spec = ParseYamlDocument(std::string(2 * 1024 * 1024, ' '), kSpecYamlLimits);
  ASSERT_FALSE(spec);
}

TEST(ConfigYamlTest, TooManyValuesIsRefused) {
  std::string text = "[";
  for (int i = 0; i < 1000; ++i) text += "1,";
  text += "1]";
  Result<YamlDocument> doc = ParseYamlDocument(text, {.max_values = 500});
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code(), ErrorCode::kResourceExhausted);
}

TEST(ConfigYamlTest, InvalidUtf8IsRefusedWithItsPosition) {
  const std::string cases[] = {
      "a: 1\nb: \xff\n",              // invalid lead byte
      "a: 1\nb: \xc3\n",              // truncated
      "a: 1\nb: \xc0\xaf\n",          // overlong
      "a: 1\nb: \xed\xa0\x80\n",      // surrogate
      "a: 1\nb: \xf4\x90\x80\x80\n",  // above U+10FFFF
      std::string("a: 1\nb: \0\n", 10),
  };
  for (const std::string& text : cases) {
    YamlLoadResult r = LoadYaml(text);
    ASSERT_TRUE(r.error.has_value());
    EXPECT_EQ(r.error->code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error_line, 2);
    EXPECT_NE(r.error->message().find("column 4"), std::string::npos) << r.error->message();
  }
  EXPECT_TRUE(ParseYamlDocument("a: \"h\xc3\xa9llo \xe4\xb8\xad \xf0\x9f\x98\x80\"\n"));
}

TEST(ConfigYamlTest, Utf8ByteOrderMarkIsSkipped) {
  nlohmann::json v = Load(
      "\xEF\xBB\xBF"
      "a: 1\n");
  EXPECT_EQ(v["a"], 1);
}

TEST(ConfigYamlTest, SyntaxErrorsHaveALine) {
  YamlLoadResult r = LoadYaml("a: 1\nb: [1, 2\nc: 3\n");
  ASSERT_TRUE(r.error.has_value());
  EXPECT_GT(r.error_line, 0);
  EXPECT_NE(r.error->message().find("invalid YAML"), std::string::npos);
  Result<YamlDocument> doc = ParseYamlDocument("a: 1\nb: c: d\n");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().message().rfind("line 2: ", 0), 0u) << doc.error().message();
}

TEST(ConfigYamlTest, Streams) {
  Result<std::vector<YamlDocument>> docs = ParseYamlStream("a: 1\n---\nb: 2\n---\n");
  ASSERT_TRUE(docs);
  ASSERT_GE(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].value["a"], 1);
  EXPECT_EQ((*docs)[1].value["b"], 2);
  EXPECT_EQ((*docs)[1].lines.Find("/b"), 3);
  EXPECT_FALSE(ParseYamlDocument("a: 1\n---\nb: 2\n"));
  Result<YamlDocument> empty = ParseYamlDocument("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->value.is_null());
  std::string many;
  for (int i = 0; i < 200; ++i) many += "---\na: 1\n";
  EXPECT_FALSE(ParseYamlStream(many));
}

TEST(ConfigYamlTest, Paths) {
  EXPECT_EQ(AppendPath("", "a"), "a");
  EXPECT_EQ(AppendPath("a", "b"), "a.b");
  EXPECT_EQ(AppendPath("a", size_t{1}), "a[1]");
  EXPECT_EQ(AppendPath("a", "x.y"), "a[\"x.y\"]");
  EXPECT_EQ(AppendPath("a", ""), "a[\"\"]");
  EXPECT_EQ(AppendPath("a", "en-US"), "a.en-US");
  EXPECT_EQ(JoinPath("spec.x", "c[0].d"), "spec.x.c[0].d");
  EXPECT_EQ(JoinPath("spec.x", "[0]"), "spec.x[0]");
  EXPECT_EQ(JoinPath("", "a"), "a");
  EXPECT_EQ(JoinPath("a", ""), "a");
  EXPECT_EQ(AppendPointer("/a", "b/c~d"), "/a/b~1c~0d");
  EXPECT_EQ(AppendPointer("", size_t{3}), "/3");
}

TEST(ConfigYamlTest, DescribeValue) {
  EXPECT_EQ(DescribeValue(nlohmann::json("x")), "\"x\"");
  EXPECT_EQ(DescribeValue(nlohmann::json(443)), "443");
  EXPECT_EQ(DescribeValue(nlohmann::json("line\nbreak")), "\"line\\nbreak\"");
  std::string long_text(200, 'a');
  EXPECT_LE(DescribeValue(nlohmann::json(long_text), 20).size(), 24u);
  EXPECT_EQ(JsonTypeName(nlohmann::json(1.0)), "number");
  EXPECT_EQ(JsonTypeName(nlohmann::json(1)), "integer");
  EXPECT_EQ(JsonTypeName(nlohmann::json::object()), "object");
}

}  // namespace
}  // namespace plugctl::spec
