#include "support/higress_specs.h"

#include <fstream>
#include <sstream>

namespace plugctl::test_support {

std::filesystem::path HigressSpecDir() {
  return std::filesystem::path(PLUGCTL_SOURCE_DIR) / ".." / "shared" / "data" / "higress-specs";
}

std::map<std::string, std::string> ReadHigressSpecs() {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(HigressSpecDir(), ec)) {
    if (entry.path().extension() != ".yaml") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    out[entry.path().filename().string()] = text.str();
  }
  return out;
}

const std::vector<HigressSpecQuirk>& HigressSpecQuirks() {
  static const auto* kQuirks = new std::vector<HigressSpecQuirk>{
      {"basic-auth.spec.yaml", Severity::kWarning, "spec.configSchema.openAPIV3Schema.required",
       "duplicate key \"required\" (also on line 87); the last value wins", 136},
      {"basic-auth.spec.yaml", Severity::kWarning,
       "spec.routeConfigSchema.openAPIV3Schema.example.allows", "did you mean `allow`?", 81},
      {"key-auth.spec.yaml", Severity::kWarning,
       "spec.configSchema.openAPIV3Schema.properties.in_query.en-US", "x-…-i18n", 0},
      {"key-auth.spec.yaml", Severity::kInfo,
       "spec.configSchema.openAPIV3Schema.properties.in_query.x-scope", "INSTANCE", 0},
      {"ai-proxy.spec.yaml", Severity::kWarning,
       "spec.configSchema.openAPIV3Schema.properties.provider.required",
       "`typ` is not declared in `properties` (did you mean `type`?)", 0},
      {"traffic-tag.spec.yaml", Severity::kWarning, "apiVersion", "2.0.0", 1},
      {"ai-quota.spec.yaml", Severity::kWarning, "info.contact.name", "2456868764", 20},
      {"json-converter.spec.yaml", Severity::kWarning, "info.category", "transformation", 5},
      {"sni-misdirect.spec.yaml", Severity::kInfo, "spec", "no configSchema", 0},
      {"ai-security-guard.spec.yaml", Severity::kWarning,
       "spec.configSchema.openAPIV3Schema.example.servicePort",
       "example contradicts the schema: expected string, got integer 443", 0},
      {"cluster-key-rate-limit.spec.yaml", Severity::kWarning,
       "spec.configSchema.openAPIV3Schema.properties.rule_items.required",
       "no effect on a schema of type array", 0},
      {"request-block.spec.yaml", Severity::kInfo,
       "spec.configSchema.openAPIV3Schema.properties.blocked_code.example",
       "list of 1 value(s) on a field of type number", 0},
      {"ai-agent.spec.yaml", Severity::kInfo, "spec.phase", "UNSPECIFIED_PHASE", 0},
  };
  return *kQuirks;
}

const std::map<std::string, std::set<std::string>>& HigressContradictingExamples() {
  static const auto* kExpected = new std::map<std::string, std::set<std::string>>{
      {"ai-agent.spec.yaml configSchema", {"llm.maxExecutionTime", "llm.maxTokens", "apis[0].api"}},
      {"ai-agent.spec.yaml routeConfigSchema",
       {"llm.maxExecutionTime", "llm.maxTokens", "apis[0].api"}},
      {"ai-intent.spec.yaml configSchema", {"llm.proxyTimeout"}},
      {"ai-intent.spec.yaml routeConfigSchema", {"llm.proxyTimeout"}},
      {"ai-json-resp.spec.yaml configSchema", {"jsonSchema"}},
      {"ai-json-resp.spec.yaml routeConfigSchema", {"jsonSchema"}},
      {"ai-proxy.spec.yaml configSchema", {"provider.typ"}},
      {"ai-proxy.spec.yaml routeConfigSchema", {"provider.typ"}},
      {"ai-rag.spec.yaml configSchema", {"dashscope.serviceFQDN"}},
      {"ai-search.spec.yaml configSchema", {"searchFrom[3].apiKey"}},
      {"ai-search.spec.yaml routeConfigSchema", {"searchFrom[3].apiKey"}},
      {"ai-security-guard.spec.yaml configSchema", {"servicePort"}},
      {"ai-security-guard.spec.yaml routeConfigSchema", {"servicePort"}},
      {"ai-transformer.spec.yaml configSchema", {"provider.apiKey"}},
      {"ai-transformer.spec.yaml routeConfigSchema", {"provider.apiKey"}},
      {"basic-auth.spec.yaml routeConfigSchema", {"allow"}},
      {"cache-control.spec.yaml configSchema", {"expires"}},
      {"cache-control.spec.yaml routeConfigSchema", {"expires"}},
      {"mcp-server.spec.yaml configSchema",
       {"tools[0].args[2].enum[0]", "tools[0].args[2].enum[1]", "tools[0].args[2].default"}},
      {"mcp-server.spec.yaml routeConfigSchema",
       {"tools[0].args[2].enum[0]", "tools[0].args[2].enum[1]", "tools[0].args[2].default"}},
      {"oauth.spec.yaml routeConfigSchema", {"consumers"}},
      {"opa.spec.yaml configSchema", {"servicePort"}},
      {"opa.spec.yaml routeConfigSchema", {"servicePort"}},
  };
  return *kExpected;
}

}  // namespace plugctl::test_support
