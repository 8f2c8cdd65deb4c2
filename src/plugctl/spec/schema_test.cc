#include "plugctl/spec/schema.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace plugctl::spec {
namespace {

nlohmann::json Yaml(std::string_view text) {
  Result<YamlDocument> doc = ParseYamlDocument(text);
  EXPECT_TRUE(doc) << (doc ? "" : doc.error().message());
  return doc ? doc->value : nlohmann::json();
}

SchemaCompilation CompileYaml(std::string_view schema_yaml, bool rule_level = false) {
  static LineMap no_lines;
  Result<YamlDocument> doc = ParseYamlDocument(schema_yaml);
  EXPECT_TRUE(doc) << (doc ? "" : doc.error().message());
  return Schema::Compile(doc ? doc->value : nlohmann::json::object(),
                         {.file = "spec.yaml", .path = "s", .pointer = "", .lines = nullptr},
                         {.rule_level = rule_level});
}

// The error violations of `config_yaml`, as "path: message" strings.
std::vector<std::string> Errors(const Schema& schema, std::string_view config_yaml,
                                bool rule_level = false) {
  std::vector<std::string> out;
  for (const Violation& v : schema.Validate(Yaml(config_yaml), {.rule_level = rule_level})) {
    if (v.severity == Severity::kError) out.push_back(v.ToString());
  }
  return out;
}

std::vector<std::string> Warnings(const Schema& schema, std::string_view config_yaml,
                                  bool rule_level = false) {
  std::vector<std::string> out;
  for (const Violation& v : schema.Validate(Yaml(config_yaml), {.rule_level = rule_level})) {
    if (v.severity == Severity::kWarning) out.push_back(v.ToString());
  }
  return out;
}

struct KeywordCase {
  std::string schema;
  std::string config;
  std::string expected;  // the one error, or empty when the config is valid
};

TEST(SchemaTest, KeywordsValidAndInvalid) {
  const KeywordCase cases[] = {
      // type
      {"type: string", "abc", ""},
      {"type: string", "443", "(root): expected string, got integer 443"},
      {"type: string", "'443'", ""},
      {"type: integer", "5", ""},
      {"type: integer", "5.0", ""},
      {"type: integer", "5.5", "(root): expected integer, got number 5.5"},
      {"type: integer", "'5'", "(root): expected integer, got string \"5\""},
      {"type: number", "1.5", ""},
      {"type: number", "1", ""},
      {"type: number", "true", "(root): expected number, got boolean true"},
      {"type: boolean", "false", ""},
      {"type: boolean", "'true'", "(root): expected boolean, got string \"true\""},
      {"type: object", "{}", ""},
      {"type: object", "[]", "(root): expected object, got array"},
      {"type: array\nitems: {}", "[]", ""},
      {"type: array\nitems: {}", "{}", "(root): expected array, got object"},
      {"{}", "[1, {a: 2}]", ""},
      // nullable
      {"type: string", "null", "(root): expected string, got null"},
      {"type: string\nnullable: true", "null", ""},
      {"type: string\nnullable: true\nminLength: 3", "null", ""},
      // properties, required
      {"type: object\nproperties: {a: {type: string}}\nrequired: [a]", "{a: x}", ""},
      {"type: object\nproperties: {a: {type: string}}\nrequired: [a]", "{}",
       "a: required property is missing"},
      {"type: object\nproperties: {a: {type: string}}", "{a: 1}",
       "a: expected string, got integer 1"},
      {"properties: {x: {type: object, properties: {y: {}}, required: [y]}}", "{x: {}}",
       "x.y: required property is missing"},
      {"required: [a]", "5", ""},  // required applies to objects only
      // additionalProperties
      {"properties: {a: {}}\nadditionalProperties: false", "{a: 1}", ""},
      {"properties: {a: {}}\nadditionalProperties: false", "{a: 1, ab: 2}",
       "ab: property is not allowed (additionalProperties is false) (did you mean `a`?)"},
      {"additionalProperties: {type: string}", "{k: v}", ""},
      {"additionalProperties: {type: string}", "{k: 1}", "k: expected string, got integer 1"},
      // items
      {"type: array\nitems: {type: integer}", "[1, 2]", ""},
      {"type: array\nitems: {type: integer}", "[1, x]", "[1]: expected integer, got string \"x\""},
      // enum
      {"enum: [a, b]", "a", ""},
      {"enum: [a, b]", "c", "(root): \"c\" is not one of the allowed values: \"a\", \"b\""},
      {"enum: [1, 2]", "1.0", ""},
      {"enum: [{x: 1}]", "{x: 1}", ""},
      // minimum, maximum, exclusive*
      {"minimum: 1", "1", ""},
      {"minimum: 1", "0", "(root): 0 is less than the minimum 1"},
      {"minimum: 1\nexclusiveMinimum: true", "1",
       "(root): 1 is not greater than the minimum 1 (exclusive)"},
      {"maximum: 10", "10", ""},
      {"maximum: 10", "10.5", "(root): 10.5 is greater than the maximum 10"},
      {"maximum: 10\nexclusiveMaximum: true", "10",
       "(root): 10 is not less than the maximum 10 (exclusive)"},
      {"exclusiveMaximum: 5", "5", "(root): 5 is not less than the exclusive maximum 5"},
      {"exclusiveMinimum: 5", "6", ""},
      {"minimum: 1", "abc", ""},  // numeric keywords ignore other types
      // multipleOf
      {"multipleOf: 5", "15", ""},
      {"multipleOf: 5", "7", "(root): 7 is not a multiple of 5"},
      {"multipleOf: 0.1", "0.3", ""},
      {"multipleOf: 0.5", "0.7", "(root): 0.7 is not a multiple of 0.5"},
      // minLength, maxLength (code points)
      {"maxLength: 2", "中文", ""},
      {"maxLength: 2", "abc", "(root): string has 3 characters, more than maxLength 2"},
      {"minLength: 6", "abc", "(root): string has 3 character(s), fewer than minLength 6"},
      {"minLength: 1", "''", "(root): string has 0 character(s), fewer than minLength 1"},
      // pattern
      {"pattern: '^[a-z]+$'", "abc", ""},
      {"pattern: '^[a-z]+$'", "ABC", "(root): \"ABC\" does not match the pattern `^[a-z]+$`"},
      {"pattern: 'b'", "abc", ""},
      {"pattern: '^\\d+$'", "5", ""},  // not a string: not checked
      // minItems, maxItems, uniqueItems
      {"minItems: 1", "[]", "(root): list has 0 item(s), fewer than minItems 1"},
      {"maxItems: 1", "[1, 2]", "(root): list has 2 items, more than maxItems 1"},
      {"uniqueItems: true", "[1, 2, 3]", ""},
      {"uniqueItems: true", "[1, 2, 1.0]", "[2]: duplicate of item [0] (uniqueItems)"},
      {"uniqueItems: true", "[{a: 1}, {a: 1}]", "[1]: duplicate of item [0] (uniqueItems)"},
      // minProperties, maxProperties
      {"minProperties: 1", "{}", "(root): object has 0 properties, fewer than minProperties 1"},
      {"maxProperties: 1", "{a: 1, b: 2}",
       "(root): object has 2 properties, more than maxProperties 1"},
      // format
      {"format: date", "2024-02-29", ""},
      {"format: date", "2023-02-29", "(root): \"2023-02-29\" is not a valid date (format)"},
      {"format: date-time", "2024-01-02T03:04:05.678+08:00", ""},
      {"format: date-time", "2024-01-02 03:04:05",
       "(root): \"2024-01-02 03:04:05\" is not a valid date-time (format)"},
      {"format: email", "admin@higress.io", ""},
      {"format: email", "admin", "(root): \"admin\" is not a valid email (format)"},
      {"format: ipv4", "10.0.0.1", ""},
      {"format: ipv4", "256.0.0.1", "(root): \"256.0.0.1\" is not a valid ipv4 (format)"},
      {"format: ipv6", "'::1'", ""},
      {"format: ipv6", "1::2::3", "(root): \"1::2::3\" is not a valid ipv6 (format)"},
      {"format: hostname", "www.example.com", ""},
      {"format: hostname", "-bad-.com", "(root): \"-bad-.com\" is not a valid hostname (format)"},
      {"format: uri", "https://higress.io/x?y=1", ""},
      {"format: uri", "not a uri", "(root): \"not a uri\" is not a valid uri (format)"},
      {"format: uuid", "2bda943c-ba2b-11ec-ba07-00163e1250b5", ""},
      {"format: uuid", "2bda943c", "(root): \"2bda943c\" is not a valid uuid (format)"},
      {"format: byte", "aGVsbG8=", ""},
      {"format: byte", "aGVsbG8", "(root): \"aGVsbG8\" is not a valid byte (format)"},
      {"format: int32", "2147483647", ""},
      {"format: int32", "3000000000", "(root): 3000000000 is not a valid int32 (format)"},
      {"format: password", "anything", ""},
      {"format: date", "5", ""},  // string formats ignore numbers
      // allOf, anyOf, oneOf, not
      {"allOf: [{minimum: 1}, {maximum: 3}]", "2", ""},
      {"allOf: [{minimum: 1}, {maximum: 3}]", "5", "(root): 5 is greater than the maximum 3"},
      {"anyOf: [{type: string}, {type: integer}]", "1", ""},
      {"anyOf: [{type: string}, {type: integer}]", "1.5",
       "(root): matches none of the 2 anyOf alternatives (closest is #0: expected string, got "
       "number 1.5)"},
      {"oneOf: [{type: string}, {type: integer}]", "x", ""},
      {"oneOf: [{type: number}, {type: integer}]", "1",
       "(root): matches 2 of the oneOf alternatives (#0, #1); exactly one must match"},
      {"oneOf: [{type: string}, {type: object, required: [a]}]", "{b: 1}",
       "(root): matches none of the 2 oneOf alternatives (closest is #1: a: required property is "
       "missing)"},
      {"not: {type: string}", "1", ""},
      {"not: {type: string}", "x", "(root): must not match the schema under `not`"},
      // $ref (siblings ignored)
      {"properties: {a: {$ref: '#/components/schemas/s'}}\ncomponents: {schemas: {s: {type: "
       "string}}}",
       "{a: x}", ""},
      {"properties: {a: {$ref: '#/components/schemas/s'}}\ncomponents: {schemas: {s: {type: "
       "string}}}",
       "{a: 1}", "a: expected string, got integer 1"},
      {"properties: {a: {$ref: '#/properties/b'}, b: {type: integer}}", "{a: x}",
       "a: expected integer, got string \"x\""},
      {"$ref: '#/components/schemas/s'\ntype: string\ncomponents: {schemas: {s: {type: integer}}}",
       "5", ""},
      // default and example are documentation only
      {"type: object\nproperties: {a: {type: string, default: x}}\nrequired: [a]", "{}",
       "a: required property is missing"},
  };
  for (const KeywordCase& c : cases) {
    SchemaCompilation compiled = CompileYaml(c.schema);
    EXPECT_FALSE(HasErrors(compiled.findings))
        << c.schema << ": " << compiled.findings.front().ToString();
    std::vector<std::string> errors = Errors(compiled.schema, c.config);
    if (c.expected.empty()) {
      EXPECT_TRUE(errors.empty()) << c.schema << " / " << c.config << ": " << errors.front();
    } else {
      ASSERT_EQ(errors.size(), 1u)
          << c.schema << " / " << c.config << (errors.empty() ? "" : ": " + errors.front());
      EXPECT_EQ(errors[0], c.expected) << c.schema << " / " << c.config;
    }
  }
}

TEST(SchemaTest, EveryViolationIsReportedWithItsPath) {
  SchemaCompilation compiled = CompileYaml(R"(
type: object
required: [consumers, allow]
properties:
  consumers:
    type: array
    items:
      type: object
      required: [name, credential]
      properties:
        name: {type: string, minLength: 3}
        credential: {type: string}
  allow:
    type: array
    items: {type: string}
)");
  ASSERT_FALSE(HasErrors(compiled.findings));
  std::vector<std::string> errors = Errors(compiled.schema, R"(
consumers:
  - name: consumer1
    credential: admin:123456
  - name: c2
    credential: 123456
  - credential: x
)");
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "consumers[1].credential: expected string, got integer 123456",
                        "consumers[1].name: string has 2 character(s), fewer than minLength 3",
                        "consumers[2].name: required property is missing",
                        "allow: required property is missing",
                    }));
}

TEST(SchemaTest, ViolationPointers) {
  SchemaCompilation compiled = CompileYaml("properties: {a: {items: {type: string}}}");
  std::vector<Violation> v = compiled.schema.Validate(Yaml("{a: [x, 1]}"));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].pointer, "/a/1");
  EXPECT_EQ(v[0].path, "a[1]");
  SchemaCompilation odd = CompileYaml("properties: {'x.y': {type: string}}");
  std::vector<Violation> w = odd.schema.Validate(Yaml("{'x.y': 1}"));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].path, "[\"x.y\"]");
}

TEST(SchemaTest, GlobalScopedPropertiesAreNotRequiredAtRuleLevel) {
  SchemaCompilation compiled = CompileYaml(R"(
type: object
required: [consumers, allow]
properties:
  consumers: {type: array, x-scope: GLOBAL, items: {type: string}}
  allow: {type: array, items: {type: string}}
  rule_only: {type: string, x-scope: RULE}
  instance: {type: string, x-scope: INSTANCE}
)");
  EXPECT_EQ(Errors(compiled.schema, "{allow: [a]}", /*rule_level=*/true),
            std::vector<std::string>{});
  EXPECT_EQ(Errors(compiled.schema, "{allow: [a]}", /*rule_level=*/false),
            std::vector<std::string>{"consumers: required property is missing"});
  EXPECT_EQ(Warnings(compiled.schema, "{allow: [a], consumers: [b]}", true),
            std::vector<std::string>{
                "consumers: GLOBAL-scoped property in a rule-level configuration (it belongs in "
                "the global configuration)"});
  EXPECT_EQ(Warnings(compiled.schema, "{allow: [a], consumers: [b], rule_only: x}", false),
            std::vector<std::string>{
                "rule_only: RULE-scoped property in the global configuration (it belongs in "
                "rule-level configurations)"});
  EXPECT_TRUE(Warnings(compiled.schema, "{allow: [a], instance: x}", true).empty());
  auto top = compiled.schema.TopLevelProperties();
  ASSERT_EQ(top.size(), 4u);
  EXPECT_EQ(top[1], std::make_pair(std::string("consumers"), ConfigScope::kGlobal));
  EXPECT_EQ(ConfigScopeName(top[2].second), "INSTANCE");
}

TEST(SchemaTest, RuleScopedPropertiesAreNotRequiredGlobally) {
  SchemaCompilation compiled =
      CompileYaml("required: [r]\nproperties: {r: {type: string, x-scope: RULE}}");
  EXPECT_TRUE(Errors(compiled.schema, "{}", false).empty());
  EXPECT_EQ(Errors(compiled.schema, "{}", true),
            std::vector<std::string>{"r: required property is missing"});
}

TEST(SchemaTest, UndeclaredPropertiesAreWarnings) {
  SchemaCompilation compiled = CompileYaml("properties: {allow: {}, consumers: {}}");
  EXPECT_TRUE(Errors(compiled.schema, "{allows: [a]}").empty());
  EXPECT_EQ(Warnings(compiled.schema, "{allows: [a], zzz: 1}"),
            (std::vector<std::string>{
                "allows: property is not declared in the schema (did you mean `allow`?)",
                "zzz: property is not declared in the schema"}));
  // An open schema (no properties) and allOf compositions do not warn.
  EXPECT_TRUE(Warnings(CompileYaml("type: object").schema, "{a: 1}").empty());
  SchemaCompilation composed = CompileYaml("allOf: [{properties: {a: {}}}, {properties: {b: {}}}]");
  EXPECT_TRUE(Warnings(composed.schema, "{a: 1, b: 2}").empty());
  std::vector<Violation> quiet =
      compiled.schema.Validate(Yaml("{allows: 1}"), {.warn_undeclared = false});
  EXPECT_TRUE(quiet.empty());
}

TEST(SchemaTest, RecursiveSchemasThroughPropertiesWork) {
  SchemaCompilation compiled = CompileYaml(R"(
$ref: '#/components/schemas/node'
components:
  schemas:
    node:
      type: object
      properties:
        name: {type: string}
        children: {type: array, items: {$ref: '#/components/schemas/node'}}
)");
  ASSERT_FALSE(HasErrors(compiled.findings)) << compiled.findings.front().ToString();
  EXPECT_TRUE(Errors(compiled.schema, "{name: a, children: [{name: b, children: []}]}").empty());
  EXPECT_EQ(
      Errors(compiled.schema, "{name: a, children: [{name: b, children: [{name: 1}]}]}"),
      std::vector<std::string>{"children[0].children[0].name: expected string, got integer 1"});
}

TEST(SchemaTest, RefCyclesWithoutDescentAreBroken) {
  SchemaCompilation compiled = CompileYaml(R"(
$ref: '#/components/schemas/a'
components:
  schemas:
    a: {$ref: '#/components/schemas/b'}
    b: {allOf: [{$ref: '#/components/schemas/a'}]}
)");
  ASSERT_TRUE(HasErrors(compiled.findings));
  bool found = false;
  for (const Finding& f : compiled.findings) {
    if (f.message.find("infinite recursion") != std::string::npos) found = true;
  }
  EXPECT_TRUE(found);
  // Validation terminates.
  EXPECT_TRUE(Errors(compiled.schema, "{x: 1}").empty());
}

struct CompileCase {
  std::string schema;
  Severity severity;
  std::string path;
  std::string message_part;
};

TEST(SchemaTest, CompileFindings) {
  const CompileCase cases[] = {
      {"type: strin", Severity::kError, "s.type", "unknown type `strin`"},
      {"type: [string, 'null']", Severity::kError, "s.type", "single type name"},
      {"type: 'null'", Severity::kError, "s.type", "nullable"},
      {"minLength: -1", Severity::kError, "s.minLength", "non-negative integer"},
      {"maxItems: '5'", Severity::kError, "s.maxItems", "non-negative integer"},
      {"minimum: abc", Severity::kError, "s.minimum", "must be a number"},
      {"nullable: 'yes'", Severity::kError, "s.nullable", "true or false"},
      {"multipleOf: 0", Severity::kError, "s.multipleOf", "greater than 0"},
      {"pattern: '('", Severity::kError, "s.pattern", "does not compile"},
      {"pattern: 5", Severity::kError, "s.pattern", "must be a string"},
      {"pattern: '\\Aabc'", Severity::kWarning, "s.pattern", "`\\A`"},
      {"type: object\nproperties: {b: {}}\nrequired: [a]", Severity::kWarning, "s.required",
       "`a` is not declared"},
      {"type: object\nproperties: {type: {}}\nrequired: [typ]", Severity::kWarning, "s.required",
       "did you mean `type`?"},
      {"required: [a, a]\nproperties: {a: {}}", Severity::kWarning, "s.required[1]",
       "listed twice"},
      {"required: [1]", Severity::kError, "s.required[0]", "property name"},
      {"required: []", Severity::kWarning, "s.required", "empty list"},
      {"required: a", Severity::kError, "s.required", "list of property names"},
      {"type: array", Severity::kError, "s.type", "must have `items`"},
      {"type: array\nitems: {}\nrequired: [a]", Severity::kWarning, "s.required",
       "move it into `items`"},
      {"type: string\nminItems: 1", Severity::kWarning, "s.minItems",
       "no effect on a schema of type string"},
      {"type: integer\npattern: x", Severity::kWarning, "s.pattern", "no effect"},
      {"minLength: 5\nmaxLength: 2", Severity::kWarning, "s.minLength", "no value can match"},
      {"minimum: 5\nmaximum: 2", Severity::kWarning, "s.minimum", "no value can match"},
      {"en-US: Consumers", Severity::kWarning, "s.en-US", "x-…-i18n"},
      {"foo: 1", Severity::kWarning, "s.foo", "unknown keyword `foo`"},
      {"const: 1", Severity::kWarning, "s.const", "JSON Schema"},
      {"properties: {a: {components: {}}}", Severity::kWarning, "s.properties.a.components",
       "root"},
      {"properties: {a: {x-scope: FOO}}", Severity::kError, "s.properties.a.x-scope",
       "unknown x-scope `FOO`"},
      {"properties: {a: {x-scope: 1}}", Severity::kError, "s.properties.a.x-scope",
       "GLOBAL, RULE or ANY"},
      {"x-scope: GLOBAL", Severity::kWarning, "s.x-scope", "only has an effect on a property"},
      {"properties: {a: {x-scope: INSTANCE}}", Severity::kInfo, "s.properties.a.x-scope",
       "INSTANCE"},
      {"title: a\nx-title-i18n: text", Severity::kError, "s.x-title-i18n", "mapping of locale"},
      {"title: a\nx-title-i18n: ~", Severity::kInfo, "s.x-title-i18n", "null"},
      {"title: a\nx-title-i18n: {en-US: 1}", Severity::kWarning, "s.x-title-i18n.en-US",
       "should be text"},
      {"title: a\nx-title-i18n: {en-US: [a]}", Severity::kError, "s.x-title-i18n.en-US",
       "must be text"},
      {"title: a\nx-title-i18n: {english: a}", Severity::kWarning, "s.x-title-i18n.english",
       "locale"},
      {"x-title-i18n: {en-US: a}", Severity::kWarning, "s.x-title-i18n", "does not have"},
      {"title: 5", Severity::kWarning, "s.title", "should be text"},
      {"properties: {a: 5}", Severity::kError, "s.properties.a", "must be a mapping"},
      {"properties: [a]", Severity::kError, "s.properties", "mapping of names"},
      {"items: [{}]", Severity::kError, "s.items", "tuple"},
      {"additionalProperties: 5", Severity::kError, "s.additionalProperties", "true, false"},
      {"allOf: {}", Severity::kError, "s.allOf", "list of schemas"},
      {"anyOf: []", Severity::kWarning, "s.anyOf", "empty list"},
      {"not: 5", Severity::kError, "s.not", "must be a schema"},
      {"$ref: '#/nope'", Severity::kError, "s.$ref", "does not resolve"},
      {"$ref: '#/components/schemas/x'\ncomponents: {schemas: {y: {}}}", Severity::kError, "s.$ref",
       "does not resolve"},
      {"$ref: 'http://example.com/s.json'", Severity::kError, "s.$ref", "outside"},
      {"$ref: '#/title'\ntitle: x", Severity::kError, "s.$ref", "not a schema"},
      {"$ref: 5", Severity::kError, "s.$ref", "must be a string"},
      {"$ref: '#'\ntype: string", Severity::kWarning, "s.$ref", "ignored by OpenAPI 3.0: type"},
      {"exclusiveMinimum: 5", Severity::kWarning, "s.exclusiveMinimum", "OpenAPI 3.1"},
      {"exclusiveMinimum: true", Severity::kWarning, "s.exclusiveMinimum", "no effect"},
      {"enum: []", Severity::kWarning, "s.enum", "no value can match"},
      {"enum: 5", Severity::kError, "s.enum", "list of values"},
      {"format: foo", Severity::kInfo, "s.format", "not one plugctl checks"},
      {"components: {responses: {}}", Severity::kWarning, "s.components.responses",
       "components.schemas"},
      {"discriminator: 5", Severity::kError, "s.discriminator", "propertyName"},
      {"type: string\ndefault: 5", Severity::kWarning, "s.default",
       "default contradicts the schema: expected string, got integer 5"},
      {"type: string\nenum: [a, 1]", Severity::kWarning, "s.enum[1]",
       "enum value contradicts the schema: expected string, got integer 1"},
      {"type: string\nexample: [a, b]", Severity::kInfo, "s.example", "list of 2 value(s)"},
      {"type: object\nproperties: {p: {type: integer}}\nexample: {p: x}", Severity::kWarning,
       "s.example.p", "example contradicts the schema: expected integer, got string \"x\""},
      {"type: object\nproperties: {p: {}}\nexample: {q: 1}", Severity::kWarning, "s.example.q",
       "example: property is not declared"},
  };
  for (const CompileCase& c : cases) {
    SchemaCompilation compiled = CompileYaml(c.schema);
    bool found = false;
    for (const Finding& f : compiled.findings) {
      if (f.severity == c.severity && f.path == c.path &&
          f.message.find(c.message_part) != std::string::npos) {
        found = true;
      }
    }
    std::string all;
    for (const Finding& f : compiled.findings) all += "\n  " + f.ToString();
    EXPECT_TRUE(found) << c.schema << " wanted " << SeverityName(c.severity) << " at " << c.path
                       << " with \"" << c.message_part << "\", got:" << all;
  }
}

TEST(SchemaTest, ListValuedExampleWithBadElements) {
  SchemaCompilation compiled = CompileYaml("type: string\nexample: [a, 1]");
  ASSERT_EQ(compiled.findings.size(), 2u);
  EXPECT_EQ(compiled.findings[0].severity, Severity::kInfo);
  EXPECT_EQ(compiled.findings[1].severity, Severity::kWarning);
  EXPECT_EQ(compiled.findings[1].path, "s.example[1]");
}

TEST(SchemaTest, CleanSchemaHasNoFindings) {
  SchemaCompilation compiled = CompileYaml(R"(
type: object
title: t
x-title-i18n: {en-US: T, zh-CN: 标题}
properties:
  name: {type: string, minLength: 1, maxLength: 10, pattern: '^[a-z]+$', example: abc}
  port: {type: integer, minimum: 1, maximum: 65535, default: 80, format: int32}
  tags: {type: array, items: {type: string}, minItems: 0, uniqueItems: true}
  mode: {type: string, enum: [a, b], default: a}
required: [name]
example: {name: abc, port: 8080}
)");
  std::string all;
  for (const Finding& f : compiled.findings) all += "\n  " + f.ToString();
  EXPECT_TRUE(compiled.findings.empty()) << all;
}

TEST(SchemaTest, FindingsCarryFileAndLine) {
  Result<YamlDocument> doc = ParseYamlDocument(
      "spec:\n"
      "  configSchema:\n"
      "    openAPIV3Schema:\n"
      "      type: object\n"
      "      properties:\n"
      "        a:\n"
      "          type: strin\n");
  ASSERT_TRUE(doc);
  SchemaCompilation compiled =
      Schema::Compile(doc->value["spec"]["configSchema"]["openAPIV3Schema"],
                      {.file = "spec.yaml",
                       .path = "spec.configSchema.openAPIV3Schema",
                       .pointer = "/spec/configSchema/openAPIV3Schema",
                       .lines = &doc->lines});
  ASSERT_EQ(compiled.findings.size(), 1u);
  EXPECT_EQ(compiled.findings[0].ToString(),
            "spec.yaml:7: spec.configSchema.openAPIV3Schema.properties.a.type: unknown type "
            "`strin` (expected object, array, string, integer, number or boolean) (error)");
}

TEST(SchemaTest, ViolationsToFindingsJoinsPathsAndLines) {
  Result<YamlDocument> config = ParseYamlDocument("a:\n  - 1\n  - x\n");
  ASSERT_TRUE(config);
  SchemaCompilation compiled = CompileYaml("properties: {a: {items: {type: integer}}}");
  std::vector<Finding> findings = ViolationsToFindings(
      compiled.schema.Validate(config->value), "c.yaml", "spec.defaultConfig", "", &config->lines);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].ToString(),
            "c.yaml:3: spec.defaultConfig.a[1]: expected integer, got string \"x\" (error)");
}

TEST(SchemaTest, EmptySchemaAcceptsEverything) {
  Schema schema;
  EXPECT_TRUE(schema.Validate(Yaml("{a: [1, {b: 2}]}")).empty());
  EXPECT_TRUE(schema.TopLevelProperties().empty());
}

TEST(SchemaTest, HostileSchemasAreBounded) {
  // Nesting beyond the YAML limit, built directly.
  nlohmann::json deep = nlohmann::json::object();
  nlohmann::json* at = &deep;
  for (int i = 0; i < 1000; ++i) {
    (*at)["items"] = nlohmann::json::object();
    at = &(*at)["items"];
  }
  SchemaCompilation compiled = Schema::Compile(deep, {.path = "s"});
  EXPECT_TRUE(HasErrors(compiled.findings));

  // Combinators inside combinators over deep data: exponential without a step budget.
  SchemaCompilation combinators = CompileYaml(R"(
$ref: '#/components/schemas/n'
components:
  schemas:
    n:
      anyOf:
        - {type: array, items: {$ref: '#/components/schemas/n'}, maxItems: 0}
        - {type: array, items: {$ref: '#/components/schemas/n'}}
        - {type: string}
)");
  std::string nested;
  for (int i = 0; i < 90; ++i) nested += "[";
  nested += "1";
  for (int i = 0; i < 90; ++i) nested += "]";
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> errors = Errors(combinators.schema, nested);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_FALSE(errors.empty());
}

TEST(SchemaTest, PatternChecksAreBudgeted) {
  SchemaCompilation compiled = CompileYaml("items: {pattern: '^(a+)+$'}");
  nlohmann::json list = nlohmann::json::array();
  for (int i = 0; i < 200; ++i) list.push_back(std::string(30, 'a') + "!");
  auto start = std::chrono::steady_clock::now();
  std::vector<Violation> v = compiled.schema.Validate(list);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  // Undecided is not valid: every value the pattern could not be decided for is an error.
  ASSERT_EQ(v.size(), 200u);
  EXPECT_EQ(v[0].severity, Severity::kError);
  EXPECT_EQ(v[0].path, "[0]");
  EXPECT_NE(v[0].message.find("undecided: could not check"), std::string::npos) << v[0].message;

  SchemaCompilation simple = CompileYaml("items: {pattern: '^a$'}");
  nlohmann::json many = nlohmann::json::array();
  for (int i = 0; i < 12000; ++i) many.push_back("b");
  std::vector<Violation> w = simple.schema.Validate(many);
  EXPECT_EQ(w.size(), 10001u);
  EXPECT_EQ(w.back().severity, Severity::kError);
  EXPECT_NE(w.back().message.find("undecided"), std::string::npos) << w.back().message;
}

TEST(SchemaTest, UndecidedPatternIsAnErrorEvenUnderNotAndAnyOf) {
  // ^(a+)+$ against "aaaa…ab" backtracks catastrophically: PCRE2 gives up, and so must the
  // check — neither "valid" nor "matches", wherever the pattern sits.
  std::string hostile = std::string(40, 'a') + "b";
  for (const char* yaml : {"pattern: '^(a+)+$'", "not: {pattern: '^(a+)+$'}",
                           "anyOf: [{pattern: '^(a+)+$'}, {type: integer}]",
                           "type: object\nproperties: {name: {pattern: '^(a+)+$'}}"}) {
    SchemaCompilation compiled = CompileYaml(yaml);
    nlohmann::json value = std::string(yaml).starts_with("type: object")
                               ? nlohmann::json{{"name", hostile}}
                               : nlohmann::json(hostile);
    std::vector<Violation> v = compiled.schema.Validate(value);
    ASSERT_FALSE(v.empty()) << yaml;
    bool undecided = false;
    for (const Violation& x : v) {
      if (x.severity == Severity::kError && x.message.starts_with("undecided")) undecided = true;
    }
    EXPECT_TRUE(undecided) << yaml << ": " << v[0].ToString();
  }
  SchemaCompilation named = CompileYaml("type: object\nproperties: {name: {pattern: '^(a+)+$'}}");
  std::vector<Violation> v = named.schema.Validate(nlohmann::json{{"name", hostile}});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].path, "name");
  EXPECT_EQ(v[0].pointer, "/name");
}

TEST(SchemaTest, InvalidUtf8ValuesDoNotCrash) {
  SchemaCompilation compiled = CompileYaml("pattern: a\nformat: email\nmaxLength: 1");
  std::vector<Violation> v = compiled.schema.Validate(nlohmann::json("\xff\xfe"));
  EXPECT_FALSE(v.empty());
  for (const Violation& x : v) EXPECT_FALSE(x.ToString().empty());
}

}  // namespace
}  // namespace plugctl::spec
