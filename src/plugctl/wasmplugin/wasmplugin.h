// Directory plugctl/wasmplugin/: Higress WasmPlugin generation and its YAML emitter.
// plugctl/wasmplugin/wasmplugin.h — a Higress WasmPlugin resource that pins a plugin image: what
// `plugctl wasmplugin IMAGE` prints for `kubectl apply`.
//
// Two steps, both pure (no I/O; the caller extracts the image and reads files):
//
//  1. PinPlugin decides spec.url and spec.sha256 from how the image was named and what it holds
//     (../shared/docs/field-notes.md §1, §5):
//       - a registry image without --url-prefix: oci://HOST/REPO:TAG as given (normalized; a
//         digest-only reference stays oci://HOST/REPO@sha256:…; no tag and no digest is :latest);
//       - --url-prefix oci://HOST/PATH: PREFIX/NAME:TAG, where `plugctl mirror --to HOST/PATH`
//         puts the image (NAME: the last component of the repository the image was resolved
//         from, or of the full reference a local REF is — never the spec's info.name, which may
//         differ; only an image with no repository at all is named by its spec), or
//         HOST/mirrored_repository:TAG when the caller mapped it with mirror's --map/--scoped;
//       - --url-prefix http(s)://HOST/PATH: PREFIX/NAME/VERSION/plugin.wasm, the Higress
//         plugin-server layout; NAME by oci/plugin_name.h (the plugins.properties key the image
//         was listed under, else the repository's last component; an image with no repository:
//         the spec's info.name), as `plugctl serve` and `mirror --to plugin-server:` name it;
//         VERSION: the tag, else the spec's info.version;
//       - local locations (oci:, oci-archive:, docker-archive:) have no registry URL and need a
//         prefix.
//     sha256 is, for oci:// URLs, the hex of the image manifest the gateway loads: for an index
//     its linux/amd64 child, never the index (the gateway compares the digest of the image it
//     resolved; see loadability.h), and mirroring keeps it. For http(s):// it is the wasm's.
//
//  2. MakeWasmPlugin builds the resource (keys always in this order):
//       apiVersion: extensions.higress.io/v1alpha1
//       kind: WasmPlugin
//       metadata: {name, namespace}
//       spec: {url, sha256, imagePullPolicy?, phase?, priority?, defaultConfigDisable?,
//              defaultConfig?, matchRules?}
//     phase and priority come from spec.yaml (`phase: default` is UNSPECIFIED_PHASE);
//     imagePullPolicy is Always for the tag `latest` and omitted otherwise (IfNotPresent is the
//     gateway's default). The configuration file (ReadWasmPluginConfig) is checked against the
//     spec's schemas; the findings come back with the resource and errors among them mean it
//     must not be used.
//
//   PLUGCTL_ASSIGN_OR_RETURN(PluginPin pin, PinPlugin({.source = {.registry = ref}, ...}));
//   PLUGCTL_ASSIGN_OR_RETURN(WasmPluginResult r,
//                            MakeWasmPlugin({.name = pin.name, .pin = pin, .spec = &spec}));
//   if (HasErrors(r.findings)) ...;       // the configuration does not fit the schemas
//   std::cout << EmitYaml(r.resource);    // yaml_emit.h
//
// Thread-safe: pure functions over immutable inputs.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugctl/base/finding.h"
#include "plugctl/base/status.h"
#include "plugctl/oci/digest.h"
#include "plugctl/oci/reference.h"
#include "plugctl/spec/spec.h"

namespace plugctl::wasmplugin {

inline constexpr std::string_view kWasmPluginApiVersion = "extensions.higress.io/v1alpha1";
inline constexpr std::string_view kDefaultWasmPluginNamespace = "higress-system";

// Kubernetes object names: a DNS-1123 subdomain (lowercase alphanumerics, '-' and '.', starting
// and ending alphanumeric, at most 253 characters).
bool IsDns1123Subdomain(std::string_view name);
// Namespaces: a DNS-1123 label (as a subdomain, without '.', at most 63 characters).
bool IsDns1123Label(std::string_view name);

// The plugin's name without the "/v1" API suffix some specs carry: "basic-auth/v1" ->
// "basic-auth" (spec::PluginBaseName, the rule mirror and pull name plain-tag bundles by).
std::string PluginBaseName(std::string_view info_name);

// How the user named the image.
struct ImageSource {
  // Registry images: the reference as given (tag and/or digest, or neither).
  std::optional<oci::Reference> registry = {};
  // Local locations: the REF given: a tag ("1.0.0"), a full reference
  // ("reg.local:5000/plugins/x:1.0.0", docker-archive "plugins/x:1.0.0"), "@sha256:…" or "".
  std::string local_ref = {};
};

struct PinRequest {
  ImageSource source;
  // What the location resolved to (a manifest or an index); names untagged local images.
  oci::Digest root_digest = oci::Digest::Of("");
  // The image manifest the gateway loads (an index's linux/amd64 child); unset when an index
  // has none, which makes oci:// URLs an error.
  std::optional<oci::Digest> gateway_manifest = {};
  // sha256 of plugin.wasm.
  oci::Digest wasm_sha256 = oci::Digest::Of("");
  // The plugin's spec.yaml, when known (info.name, info.version).
  const spec::PluginSpec* spec = nullptr;
  // "", "oci://HOST[:PORT]/PATH", "http://HOST/PATH" or "https://HOST/PATH".
  std::string url_prefix = {};
  // For an oci:// prefix: the repository (path, without the host) `plugctl mirror --to PREFIX`
  // puts the image in, as transfer::MapRepository names it (the CLI passes --map/--scoped);
  // empty: PREFIX's path plus the source repository's last component (mirror's default).
  std::string mirrored_repository = {};
  // The plugins.properties key the image was listed under, when known (a bundle entry's
  // oci::kAnnotationPluginName): the NAME of an http(s):// URL (oci/plugin_name.h).
  std::string plugin_name = {};
};

struct PluginPin {
  std::string url;
  // Hex, without "sha256:".
  std::string sha256;
  // The tag in the URL (oci://) or the version directory (http(s)://); empty for a URL pinned
  // by digest alone.
  std::string tag;
  // A name for the resource: the spec's base name, else the repository's last component; empty
  // when neither is known.
  std::string name;
};

// Decides url and sha256. Errors: kInvalidArgument for a local location without a prefix, a
// prefix that is not oci:// or http(s)://, a URL that would not be a valid reference, no name
// for the repository or no version for the plugin-server path; kFailedPrecondition for an
// oci:// URL to an index without a linux/amd64 image (the gateway cannot load it).
[[nodiscard]] Result<PluginPin> PinPlugin(const PinRequest& request);

// What a configuration file contributes to the spec.
struct WasmPluginConfig {
  std::optional<nlohmann::json> default_config;
  std::optional<nlohmann::json> match_rules;
  std::optional<bool> default_config_disable;
  // Everything found; errors mean the configuration must not be used.
  std::vector<Finding> findings;
};

// Reads a configuration file (YAML or JSON, one document) that is either
//   - a plain plugin configuration: it becomes defaultConfig;
//   - a mapping with any of defaultConfig, matchRules and defaultConfigDisable: a fragment of
//     the WasmPlugin spec, taken as is (other keys are ignored, with a warning;
//     defaultConfigDisable must be a boolean);
//   - a WasmPlugin resource: its spec's defaultConfig, matchRules and defaultConfigDisable
//     (an Istio WasmPlugin's pluginConfig becomes defaultConfig); url, sha256, phase… are
//     ignored, with a note, since they come from the image.
// defaultConfig is checked against the spec's global schema, every matchRules[].config at rule
// level, and every rule must name an ingress, domain or service (config_check.h). Without a
// spec only the structure is checked, with a warning saying the values were not. Never fails:
// unreadable input is an error finding. `file_name` names the file in findings.
WasmPluginConfig ReadWasmPluginConfig(const spec::PluginSpec* spec, std::string_view text,
                                      std::string_view file_name);

struct WasmPluginRequest {
  // metadata.name; must be a DNS-1123 subdomain.
  std::string name;
  // metadata.namespace; must be a DNS-1123 label.
  std::string ns = std::string(kDefaultWasmPluginNamespace);
  PluginPin pin;
  // phase and priority; the schemas for an empty configuration's check. May be null.
  const spec::PluginSpec* spec = nullptr;
  // From ReadWasmPluginConfig; unset when no configuration was given.
  const WasmPluginConfig* config = nullptr;
};

struct WasmPluginResult {
  nlohmann::ordered_json resource;
  // The configuration's findings, and notes about the resource (e.g. a plugin whose schema
  // rejects the empty configuration it will get without one).
  std::vector<Finding> findings;
};

// Builds the resource. Errors: kInvalidArgument for a name or namespace Kubernetes refuses, an
// empty url or sha256. Configuration problems are findings, never errors; when the configuration
// has none, the resource is checked against the WasmPlugin CRD (crd_schema.h) and what the API
// server would reject or prune is an error finding too (e.g. a defaultConfig that is not a
// mapping, .inf/.nan anywhere).
[[nodiscard]] Result<WasmPluginResult> MakeWasmPlugin(const WasmPluginRequest& request);

}  // namespace plugctl::wasmplugin
