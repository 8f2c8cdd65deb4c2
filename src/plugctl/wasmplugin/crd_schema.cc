#include "plugctl/wasmplugin/crd_schema.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "plugctl/spec/config_check.h"
#include "plugctl/spec/config_yaml.h"
#include "plugctl/wasmplugin/wasmplugin.h"

namespace plugctl::wasmplugin {
namespace {

// ../shared/data/higress-crd/wasmplugin-v1alpha1.openapiv3.json, unchanged (a unit test compares
// the two when the shared data is present).
constexpr std::string_view kSchemaJson = R"json(
{
  "properties": {
    "spec": {
      "properties": {
        "defaultConfig": {
          "type": "object",
          "x-kubernetes-preserve-unknown-fields": true
        },
        "defaultConfigDisable": {
          "type": "boolean"
        },
        "failStrategy": {
          "description": "Specifies the failure behavior for the plugin due to fatal errors.",
          "enum": [
            "FAIL_CLOSE",
            "FAIL_OPEN"
          ],
          "type": "string"
        },
        "imagePullPolicy": {
          "description": "The pull behaviour to be applied when fetching an OCI image.",
          "enum": [
            "UNSPECIFIED_POLICY",
            "IfNotPresent",
            "Always"
          ],
          "type": "string"
        },
        "imagePullSecret": {
          "description": "Credentials to use for OCI image pulling.",
          "type": "string"
        },
        "matchRules": {
          "items": {
            "properties": {
              "config": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true
              },
              "configDisable": {
                "type": "boolean"
              },
              "domain": {
                "items": {
                  "type": "string"
                },
                "type": "array"
              },
              "ingress": {
                "items": {
                  "type": "string"
                },
                "type": "array"
              },
              "routeType": {
                "enum": [
                  "HTTP",
                  "GRPC"
                ],
                "type": "string"
              },
              "service": {
                "items": {
                  "type": "string"
                },
                "type": "array"
              }
            },
            "type": "object"
          },
          "type": "array"
        },
        "phase": {
          "description": "Determines where in the filter chain this `WasmPlugin` is to be injected.",
          "enum": [
            "UNSPECIFIED_PHASE",
            "AUTHN",
            "AUTHZ",
            "STATS"
          ],
          "type": "string"
        },
        "pluginConfig": {
          "description": "The configuration that will be passed on to the plugin.",
          "type": "object",
          "x-kubernetes-preserve-unknown-fields": true
        },
        "pluginName": {
          "type": "string"
        },
        "priority": {
          "description": "Determines ordering of `WasmPlugins` in the same `phase`.",
          "nullable": true,
          "type": "integer"
        },
        "sha256": {
          "description": "SHA256 checksum that will be used to verify Wasm module or OCI container.",
          "type": "string"
        },
        "url": {
          "description": "URL of a Wasm module or OCI container.",
          "type": "string"
        },
        "verificationKey": {
          "type": "string"
        },
        "vmConfig": {
          "description": "Configuration for a Wasm VM.",
          "properties": {
            "env": {
              "description": "Specifies environment variables to be injected to this VM.",
              "items": {
                "properties": {
                  "name": {
                    "type": "string"
                  },
                  "value": {
                    "description": "Value for the environment variable.",
                    "type": "string"
                  },
                  "valueFrom": {
                    "enum": [
                      "INLINE",
                      "HOST"
                    ],
                    "type": "string"
                  }
                },
                "type": "object"
              },
              "type": "array"
            }
          },
          "type": "object"
        }
      },
      "type": "object"
    },
    "status": {
      "type": "object",
      "x-kubernetes-preserve-unknown-fields": true
    }
  },
  "type": "object"
})json";

using Json = nlohmann::ordered_json;

const nlohmann::json& Schema() {
  // The text is a compile-time constant checked by a unit test, so parsing cannot fail.
  static const nlohmann::json schema = nlohmann::json::parse(kSchemaJson);
  return schema;
}

std::string Describe(const Json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  switch (value.type()) {
    case Json::value_t::string:
      return "string " + text;
    case Json::value_t::boolean:
      return "boolean " + text;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer " + text;
    case Json::value_t::number_float:
      return "number " + text;
    case Json::value_t::object:
      return "a mapping";
    case Json::value_t::array:
      return "a list";
    case Json::value_t::null:
      return "null";
    default:
      return text;
  }
}

class Checker {
 public:
  explicit Checker(std::vector<Finding>* out) : out_(out) {}

  void Report(const std::string& path, std::string message) {
    out_->push_back({.severity = Severity::kError, .path = path, .message = std::move(message)});
  }

  // Values no JSON reader keeps as written, wherever they are.
  bool CheckPortable(const Json& value, const std::string& path) {
    if (value.is_number_float() && !std::isfinite(value.get<double>())) {
      Report(path, fmt::format("{} is not a JSON number; kubectl and the API server cannot carry "
                               "it (quote it to keep a string)",
                               std::isnan(value.get<double>()) ? ".nan" : "infinity"));
      return false;
    }
    if (value.is_number_unsigned() &&
        value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      Report(path, fmt::format("integer {} does not fit in int64, which Kubernetes stores",
                               value.dump()));
      return false;
    }
    return true;
  }

  // Anything goes below x-kubernetes-preserve-unknown-fields but portability.
  void CheckFree(const Json& value, const std::string& path) {
    if (value.is_object()) {
      for (const auto& [key, child] : value.items()) CheckFree(child, spec::AppendPath(path, key));
    } else if (value.is_array()) {
      for (size_t i = 0; i < value.size(); ++i) CheckFree(value[i], spec::AppendPath(path, i));
    } else {
      CheckPortable(value, path);
    }
  }

  void Check(const nlohmann::json& schema, const Json& value, const std::string& path) {
    if (value.is_null()) {
      if (!schema.value("nullable", false)) {
        Report(path, "null is not allowed here (the field's schema is not nullable)");
      }
      return;
    }
    if (!CheckPortable(value, path)) return;
    std::string type = schema.value("type", "");
    if (!HasType(value, type)) {
      Report(path, fmt::format("expected {}, got {}", TypeWord(type), Describe(value)));
      return;
    }
    if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
      bool found = false;
      for (const auto& allowed : *e) {
        // The CRD's enums are all of strings.
        found =
            found || (allowed.is_string() && value.is_string() &&
                      allowed.get_ref<const std::string&>() == value.get_ref<const std::string&>());
      }
      if (!found) {
        std::vector<std::string> names;
        for (const auto& allowed : *e) names.push_back(allowed.get<std::string>());
        Report(path,
               fmt::format("must be one of {}, got {}", fmt::join(names, ", "), Describe(value)));
      }
    }
    if (value.is_object()) {
      if (schema.value("x-kubernetes-preserve-unknown-fields", false)) {
        CheckFree(value, path);
        return;
      }
      CheckProperties(schema, value, path);
    } else if (value.is_array()) {
      auto items = schema.find("items");
      for (size_t i = 0; i < value.size(); ++i) {
        if (items != schema.end()) Check(*items, value[i], spec::AppendPath(path, i));
      }
    }
  }

  void CheckProperties(const nlohmann::json& schema, const Json& value, const std::string& path,
                       const std::vector<std::string>& implicit = {}) {
    static const nlohmann::json kNone = nlohmann::json::object();
    auto found = schema.find("properties");
    const nlohmann::json& properties = found != schema.end() ? *found : kNone;
    std::vector<std::string> known = implicit;
    for (auto it = properties.begin(); it != properties.end(); ++it) known.push_back(it.key());
    for (const auto& [key, child] : value.items()) {
      std::string key_path = spec::AppendPath(path, key);
      if (auto p = properties.find(key); p != properties.end()) {
        Check(*p, child, key_path);
      } else if (std::find(implicit.begin(), implicit.end(), key) == implicit.end()) {
        Report(key_path, fmt::format("unknown field{}: the WasmPlugin CRD does not declare it and "
                                     "the API server would drop it",
                                     spec::SuggestKey(key, known)));
      }
    }
  }

 private:
  static bool HasType(const Json& value, std::string_view type) {
    if (type.empty()) return true;
    if (type == "object") return value.is_object();
    if (type == "array") return value.is_array();
    if (type == "string") return value.is_string();
    if (type == "boolean") return value.is_boolean();
    if (type == "integer") return value.is_number_integer();
    if (type == "number") return value.is_number();
    return false;
  }

  static std::string TypeWord(std::string_view type) {
    if (type == "object") return "a mapping";
    if (type == "array") return "a list";
    return std::string(type);
  }

  std::vector<Finding>* out_;
};

}  // namespace

std::string_view WasmPluginCrdSchemaJson() { return kSchemaJson; }

std::vector<Finding> CheckWasmPluginCrd(const Json& resource) {
  std::vector<Finding> out;
  Checker checker(&out);
  if (!resource.is_object()) {
    checker.Report("", fmt::format("a WasmPlugin must be a mapping, got {}", Describe(resource)));
    return out;
  }
  // apiVersion, kind and metadata belong to every object; the CRD's schema covers the rest.
  auto string_at = [&resource](const char* key) {
    auto it = resource.find(key);
    return it != resource.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (string_at("apiVersion") != kWasmPluginApiVersion) {
    checker.Report("apiVersion", fmt::format("must be {}", kWasmPluginApiVersion));
  }
  if (string_at("kind") != "WasmPlugin") checker.Report("kind", "must be WasmPlugin");
  if (auto metadata = resource.find("metadata");
      metadata == resource.end() || !metadata->is_object()) {
    checker.Report("metadata", "must be a mapping with a name");
  }
  checker.CheckProperties(Schema(), resource, "", {"apiVersion", "kind", "metadata"});
  return out;
}

}  // namespace plugctl::wasmplugin
