#include "plugctl/catalog/access.h"

namespace plugctl::catalog {
namespace {

std::string Authorization(const server::Exchange& exchange) {
  auto field = exchange.head()[boost::beast::http::field::authorization];
  return std::string(field.data(), field.size());
}

}  // namespace

std::optional<CatalogAccess::Who> CatalogAccess::Identify(const server::Exchange& exchange) {
  auto checked = auth_.Check(Authorization(exchange), "", server::kActionNone);
  if (!checked) return std::nullopt;
  Who who;
  who.user = checked->user;
  who.authenticated = !checked->user.empty();
  who.result = *checked;
  return who;
}

bool CatalogAccess::MayRead(const server::Exchange& exchange, std::string_view repository) {
  // A Bearer token grants per repository, so the header is checked against this one.
  auto checked = auth_.Check(Authorization(exchange), repository, server::kActionPull);
  if (!checked) return false;
  return (checked->granted & server::kActionPull) != 0;
}

std::vector<std::string> CatalogAccess::Readable(const Who& who,
                                                 const std::vector<std::string>& names) {
  return auth_.FilterPullable(who.result, names);
}

server::Response CatalogAccess::Challenge() const {
  server::Response r;
  r.status = 401;
  r.Set("WWW-Authenticate", "Basic realm=\"plugctl\", charset=\"UTF-8\"");
  r.Set("Content-Type", "text/plain; charset=utf-8");
  r.body = "authentication required\n";
  return r;
}

}  // namespace plugctl::catalog
