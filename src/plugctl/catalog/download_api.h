// plugctl/catalog/download_api.h — plugin.wasm over plain HTTP in the Higress plugin-server
// layout, for `http://` WasmPlugin URLs and the console's
// HIGRESS_ADMIN_WASM_PLUGIN_CUSTOM_IMAGE_URL_PATTERN=http://<host>/plugins/${name}/${version}/plugin.wasm.
//
// Routes (GET and HEAD; anything else 405):
//   /plugins/                                  the plugin names
//   /plugins/<name>/                           its versions
//   /plugins/<name>/<version>/                 its files
//   /plugins/<name>/<version>/plugin.wasm      application/wasm
//   /plugins/<name>/<version>/metadata.txt     the plugin-server's metadata, plus SHA256
//   /plugins/<name>/<version>/<file>           spec.yaml, README*.md, icon.png when present
// Listings are HTML, or JSON when the request's Accept prefers application/json. Names and
// versions are matched exactly (never percent-decoded, never a path: see oci/plugin_name.h).
//
// Files carry Content-Length, Last-Modified, ETag "<sha256 hex>" (strong), Cache-Control
// no-cache (a tag may move), Accept-Ranges; If-None-Match (with lists and W/ and *) and
// If-Modified-Since give 304; a single Range gives 206 (multiple ranges: the whole file; an
// unsatisfiable one: 416 with Content-Range bytes */size); If-Range with the ETag. Bytes go out
// with sendfile from the catalog's cache.
//
// Access: as catalog_web.h.
#pragma once

#include <string>

#include "plugctl/catalog/access.h"
#include "plugctl/catalog/plugin_catalog.h"
#include "plugctl/server/http_server.h"

namespace plugctl::catalog {

class DownloadApi : public server::Handler {
 public:
  DownloadApi(PluginCatalog& catalog, CatalogAccess& access);
  // Answers /plugins and below; 404 for other paths.
  server::Response Handle(server::Exchange& exchange) override;
  // True while the catalog must refresh first (a refresh extracts newly pushed images).
  bool IsSlow(const server::Exchange& exchange) override;

 private:
  PluginCatalog& catalog_;
  CatalogAccess& access_;
};

}  // namespace plugctl::catalog
