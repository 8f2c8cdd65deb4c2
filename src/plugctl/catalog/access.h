// plugctl/catalog/access.h — who may see what of the catalog and the downloads: the registry's
// own rules. A plugin version is readable by whoever may pull its repository over the registry
// API (server/auth.h): everyone without --htpasswd; with it, users by the access file and
// anonymous clients only with --anonymous-read.
//
// Browsers and gateways fetching plugin.wasm speak HTTP Basic, not the token flow, so a client
// that must authenticate gets `401` with `WWW-Authenticate: Basic realm="plugctl"`; a Bearer
// token from /token works too.
//
// Thread safety: as the Authorizer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plugctl/server/auth.h"
#include "plugctl/server/http_server.h"

namespace plugctl::catalog {

class CatalogAccess {
 public:
  // `auth` must outlive this.
  explicit CatalogAccess(server::Authorizer& auth) : auth_(auth) {}

  struct Who {
    bool authenticated = false;  // credentials were sent and are valid
    std::string user;            // "" for anonymous
    server::AuthResult result;   // for FilterPullable
  };

  // Authenticates the request's Authorization header. A bad header or bad credentials: nullopt
  // (answer Challenge()).
  std::optional<Who> Identify(const server::Exchange& exchange);
  // Whether the request's client may pull `repository`.
  bool MayRead(const server::Exchange& exchange, std::string_view repository);
  // The repositories of `names` `who` may pull.
  std::vector<std::string> Readable(const Who& who, const std::vector<std::string>& names);
  // 401 with a Basic challenge and a one-line text body.
  server::Response Challenge() const;
  // Whether credentials are configured at all.
  bool enabled() const { return auth_.enabled(); }

 private:
  server::Authorizer& auth_;
};

}  // namespace plugctl::catalog
