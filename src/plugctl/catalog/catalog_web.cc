#include "plugctl/catalog/catalog_web.h"

namespace plugctl::catalog {

CatalogWeb::CatalogWeb(PluginCatalog& catalog, CatalogAccess& access, CatalogWebOptions options)
    : catalog_(catalog), access_(access), options_(std::move(options)) {}

server::Response CatalogWeb::Handle(server::Exchange& exchange) {
  (void)exchange;
  server::Response r;
  r.status = 404;
  r.Set("Content-Type", "text/plain; charset=utf-8");
  r.body = "not found\n";
  return r;
}

}  // namespace plugctl::catalog
