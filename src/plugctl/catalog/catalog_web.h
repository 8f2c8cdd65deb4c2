// plugctl/catalog/catalog_web.h — the catalog web page and its JSON API, for `plugctl serve`.
//
// Routes (GET and HEAD; anything else 405):
//   /                               every plugin: icon, title, description, category, versions,
//                                   phase, priority, gateway loadability; a search box
//   /plugin/<name>                  the plugin's newest version
//   /plugin/<name>/<version>        one version: README (RenderMarkdown), the configuration
//                                   schema as a table (field path, type, required, x-scope,
//                                   description, default, example, enum), digests, and the
//                                   WasmPlugin YAML for oci:// and http:// (WasmPluginYaml)
//   /assets/<file>                  the page's CSS and JS, compiled into the binary
//   /api/plugins                    JSON: every plugin with its versions
//   /api/plugins/<name>             JSON: one plugin, every version in detail
//   /api/plugins/<name>/<version>   JSON: one version, with the WasmPlugin YAML texts
// Icons are the downloads' /plugins/<name>/<version>/icon.png (download_api.h).
//
// Language: Chinese and English texts from spec.yaml's x-*-i18n maps and README.md /
// README_EN.md; `?lang=en|zh` (else Accept-Language, else English); the page links to the other.
//
// The pages are self-contained (no external fonts, scripts, images or CDNs), readable without
// JavaScript (the script only filters the list as one types and copies YAML), and fit a
// phone-width screen. Every string from an image is escaped; responses carry
// Content-Security-Policy "default-src 'none'; style-src 'self'; script-src 'self';
// img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
// X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer. Rendering is
// catalog_render.h (pure), the assets catalog_assets.h; this class routes, checks access and reads
// the README from the version's directory. `?q=` filters the index on the server as well, so the
// search works without the script. Described for users in docs/catalog.md.
//
// Access: a plugin appears only to clients that may pull its repository (access.h). With
// credentials configured, a client that sent none gets 401 with a Basic challenge where it would
// otherwise see nothing (an empty index, an unknown or hidden plugin); bad credentials get 401
// too; an authenticated client asking for a plugin it may not see gets 404, as for one that does
// not exist. Assets need no credentials.
//
// Thread safety: Handle may be called concurrently.
#pragma once

#include <string>

#include "plugctl/catalog/access.h"
#include "plugctl/catalog/plugin_catalog.h"
#include "plugctl/server/http_server.h"

namespace plugctl::catalog {

struct CatalogWebOptions {
  // The base URL clients reach this server by; "" derives it from each request's Host.
  std::string public_url;
};

class CatalogWeb : public server::Handler {
 public:
  CatalogWeb(PluginCatalog& catalog, CatalogAccess& access, CatalogWebOptions options);
  // Answers the routes above; 404 for other paths.
  server::Response Handle(server::Exchange& exchange) override;
  // True while the catalog must refresh first (a refresh extracts newly pushed images).
  bool IsSlow(const server::Exchange& exchange) override;

 private:
  PluginCatalog& catalog_;
  CatalogAccess& access_;
  CatalogWebOptions options_;
};

}  // namespace plugctl::catalog
