#include "plugctl/catalog/download_api.h"

namespace plugctl::catalog {

DownloadApi::DownloadApi(PluginCatalog& catalog, CatalogAccess& access)
    : catalog_(catalog), access_(access) {}

server::Response DownloadApi::Handle(server::Exchange& exchange) {
  (void)exchange;
  server::Response r;
  r.status = 404;
  r.body = "not found\n";
  return r;
}

}  // namespace plugctl::catalog
