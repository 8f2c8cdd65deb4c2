#include "plugctl/wasmplugin/crd_schema.h"

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace plugctl::wasmplugin {
namespace {

using Json = nlohmann::ordered_json;

Json Valid() {
  return Json::parse(R"({
    "apiVersion": "extensions.higress.io/v1alpha1",
    "kind": "WasmPlugin",
    "metadata": {"name": "key-auth", "namespace": "higress-system"},
    "spec": {
      "url": "oci://r.local/p/key-auth:1.0.0",
      "sha256": "0123",
      "imagePullPolicy": "Always",
      "phase": "AUTHN",
      "priority": 310,
      "defaultConfigDisable": false,
      "defaultConfig": {"anything": {"goes": [1, "two", null]}},
      "matchRules": [{"domain": ["a.com"], "config": {"x": 1}, "configDisable": true,
                      "routeType": "GRPC"}]
    }
  })");
}

std::vector<std::string> Strings(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const Finding& f : findings) out.push_back(f.ToString());
  return out;
}

TEST(CrdSchemaTest, EmbeddedSchemaIsTheSharedCrd) {
  std::filesystem::path shared = std::filesystem::path(PLUGCTL_SOURCE_DIR) / ".." / "shared" /
                                 "data" / "higress-crd" / "wasmplugin-v1alpha1.openapiv3.json";
  auto embedded = nlohmann::json::parse(WasmPluginCrdSchemaJson(), nullptr, false);
  ASSERT_FALSE(embedded.is_discarded());
  std::ifstream in(shared);
  if (!in) GTEST_SKIP() << "no shared CRD at " << shared;
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(embedded, nlohmann::json::parse(text.str()));
}

TEST(CrdSchemaTest, ValidResourcePasses) {
  EXPECT_EQ(Strings(CheckWasmPluginCrd(Valid())), std::vector<std::string>{});
}

TEST(CrdSchemaTest, ReportsWhatTheApiServerRejectsOrPrunes) {
  Json wp = Valid();
  wp["spec"]["matchRules"][0]["configDisable"] = "yes";
  wp["spec"]["matchRules"][0]["domains"] = Json::array({"b.com"});
  wp["spec"]["matchRules"][0]["routeType"] = "TCP";
  wp["spec"]["phase"] = "LATE";
  wp["spec"]["priority"] = 1.5;
  wp["spec"]["defaultConfig"] = Json::array();
  wp["spec"]["urls"] = "x";
  wp["status"] = {{"free", true}};
  wp["extra"] = 1;
  EXPECT_EQ(
      Strings(CheckWasmPluginCrd(wp)),
      (std::vector<std::string>{
          "spec.phase: must be one of UNSPECIFIED_PHASE, AUTHN, AUTHZ, STATS, got string "
          "\"LATE\" (error)",
          "spec.priority: expected integer, got number 1.5 (error)",
          "spec.defaultConfig: expected a mapping, got a list (error)",
          "spec.matchRules[0].configDisable: expected boolean, got string \"yes\" (error)",
          "spec.matchRules[0].routeType: must be one of HTTP, GRPC, got string \"TCP\" (error)",
          "spec.matchRules[0].domains: unknown field (did you mean `domain`?): the WasmPlugin CRD "
          "does not declare it and the API server would drop it (error)",
          "spec.urls: unknown field (did you mean `url`?): the WasmPlugin CRD does not declare it "
          "and the API server would drop it (error)",
          "extra: unknown field: the WasmPlugin CRD does not declare it and the API server would "
          "drop it (error)",
      }));
}

TEST(CrdSchemaTest, NonPortableNumbersAnywhere) {
  Json wp = Valid();
  wp["spec"]["defaultConfig"]["deep"] = {{"x", std::numeric_limits<double>::infinity()}};
  wp["spec"]["matchRules"][0]["config"]["n"] = std::numeric_limits<double>::quiet_NaN();
  wp["spec"]["defaultConfig"]["big"] = std::numeric_limits<uint64_t>::max();
  wp["spec"]["priority"] = nullptr;  // nullable
  EXPECT_EQ(Strings(CheckWasmPluginCrd(wp)),
            (std::vector<std::string>{
                "spec.defaultConfig.deep.x: infinity is not a JSON number; kubectl and the API "
                "server cannot carry it (quote it to keep a string) (error)",
                "spec.defaultConfig.big: integer 18446744073709551615 does not fit in int64, "
                "which Kubernetes stores (error)",
                "spec.matchRules[0].config.n: .nan is not a JSON number; kubectl and the API "
                "server cannot carry it (quote it to keep a string) (error)",
            }));
}

TEST(CrdSchemaTest, ObjectEnvelope) {
  Json wp = Valid();
  wp["kind"] = "Plugin";
  wp["metadata"] = "x";
  wp["spec"]["url"] = nullptr;
  EXPECT_EQ(Strings(CheckWasmPluginCrd(wp)),
            (std::vector<std::string>{
                "kind: must be WasmPlugin (error)",
                "metadata: must be a mapping with a name (error)",
                "spec.url: null is not allowed here (the field's schema is not nullable) (error)",
            }));
  EXPECT_EQ(CheckWasmPluginCrd(Json::array()).size(), 1u);
}

}  // namespace
}  // namespace plugctl::wasmplugin
