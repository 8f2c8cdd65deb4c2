// Directory plugctl/catalog/: what `plugctl serve` offers people and plain-HTTP gateways beside
// the registry API — plugin.wasm downloads in the Higress plugin-server layout, and the catalog
// web page with its JSON API.
// plugctl/catalog/plugin_catalog.h — the plugins a serve directory holds, as the catalog and
// the downloads see them.
//
// Every tagged image of the store (RegistryStore::TaggedEntries) is one plugin version:
//   name     oci::PluginPathName(repository, listed name) — the listed name is the entry's
//            kAnnotationPluginName (a bundle mirrored from plugins.properties keeps its keys), else
//            options.names[repository] (`serve --names plugins.properties`); an entry that
//            keeps several keys (oci::SplitPluginNames) is one version under each of them;
//   version  the tag.
// Clashes (two repositories giving one name and version): a listed name beats a repository
// name, then the repository that sorts first wins; the others are left out with a warning
// (CatalogSnapshot::warnings) and stay reachable over the registry API.
//
// Each version's plugin is extracted once (plugin::ExtractPlugin: any image shape, verified
// while streaming) into DIR/.plugctl/catalog/<hex of the tag's target digest>/, written to a
// temporary directory and renamed into place, so a crash never leaves a partial file; later
// snapshots and restarts reuse it. Images without a usable plugin.wasm are listed with the
// reason and have no download.
//
// Snapshot() is cheap: it returns the current immutable view and refreshes it first when the
// store's index changed (checked at most once a second by the store). Extraction happens in
// that refresh, on the calling thread, serialized: the first request after a push pays for it.
//
// Thread safety: every method may be called concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/status.h"
#include "plugctl/oci/descriptor.h"
#include "plugctl/oci/digest.h"
#include "plugctl/server/registry_store.h"
#include "plugctl/spec/spec.h"

namespace plugctl::catalog {

namespace fs = std::filesystem;

// One tagged image: one version of one plugin.
struct PluginVersion {
  std::string name;          // the plugin-server name (see the banner)
  std::string version;       // the tag
  std::string repository;    // in the registry API: "plugins/basic-auth"
  bool listed_name = false;  // `name` came from a plugins.properties key, not the repository
  oci::Descriptor root;      // what the tag points at (manifest or index)

  // Set when plugin.wasm could be extracted; `error` says why not otherwise.
  bool usable = false;
  std::string error;
  // The directory holding plugin.wasm and whatever else the image carried (spec.yaml,
  // README*.md, icon.png). Read-only once published.
  fs::path dir;
  oci::Digest wasm_sha256 = oci::Digest::Of("");
  std::string wasm_etag;  // "\"<sha256 hex>\"", the downloads' ETag
  uint64_t wasm_size = 0;
  std::string wasm_md5;  // hex
  // The image's created time (unix seconds; the extraction time when the image has none) and
  // when the cache directory was written.
  int64_t created = 0;
  int64_t modified = 0;

  // Would the gateway load this image from the registry (oci://)? The reasons when not.
  bool gateway_loadable = false;
  std::vector<std::string> gateway_reasons;
  // The image manifest the gateway loads (an index's linux/amd64 child): the oci:// sha256.
  std::optional<oci::Digest> gateway_manifest;
  std::string shape;  // "oci", "compat", "docker", "wasm-to-oci", … (ManifestShape's name)

  // The image's spec.yaml, when it has one that parses; has_spec also when it does not.
  std::shared_ptr<const spec::ParsedSpec> spec;
  bool has_spec = false;
  // README file names present in `dir` ("README.md", "README_EN.md"), sorted.
  std::vector<std::string> readmes;
  bool has_icon = false;

  // metadata.txt of the Higress plugin-server (plugin/plugin_server.h), with its SHA256 line.
  std::string MetadataTxt() const;
};

struct CatalogSnapshot {
  // Sorted by name, then by version (semver order where both parse, highest last).
  std::vector<std::shared_ptr<const PluginVersion>> versions;
  // Shadowed clashes, extraction failures: one line each.
  std::vector<std::string> warnings;

  // nullptr when absent.
  const PluginVersion* Find(std::string_view name, std::string_view version) const;
  // The versions of `name`, in the order above (empty when unknown).
  std::vector<const PluginVersion*> VersionsOf(std::string_view name) const;
  // Plugin names, sorted, once each.
  std::vector<std::string> Names() const;
};

struct CatalogOptions {
  // DIR of the store: the cache lives in DIR/.plugctl/catalog.
  fs::path dir;
  // Listed names by repository ("plugins/jsonrpc-converter" → "json-converter"), from
  // `serve --names`. Entry annotations win over it.
  std::map<std::string, std::string> names;
};

class PluginCatalog {
 public:
  // `store` must outlive the catalog.
  PluginCatalog(server::RegistryStore& store, CatalogOptions options);
  ~PluginCatalog();

  // The current view, refreshed first when the store changed. Never fails: images that cannot
  // be read are listed with their error.
  std::shared_ptr<const CatalogSnapshot> Snapshot();

  // Whether the next Snapshot() would refresh (and perhaps extract images) first: the store
  // changed since the current view. Cheap; for servers deciding where to run a request.
  bool NeedsRefresh();

  // Removes cache directories no current version uses. Returns how many.
  size_t PruneCache();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The WasmPlugin resource for `v`, as `plugctl wasmplugin` prints it (YAML): with `http` the
// url is <base_url>/plugins/<name>/<version>/plugin.wasm pinned by the wasm's sha256, else
// oci://<host of base_url>/<repository>:<version> pinned by the gateway manifest. `base_url` is
// "http://host:port" (no trailing slash). An error when the version cannot be pinned (no
// usable plugin.wasm; for oci:// an index without a linux/amd64 image). Like `wasmplugin`, an
// oci:// text is given even when the gateway would not load the image; callers show
// gateway_loadable and its reasons beside it.
[[nodiscard]] Result<std::string> WasmPluginYaml(const PluginVersion& v, std::string_view base_url,
                                                 bool http);

}  // namespace plugctl::catalog
