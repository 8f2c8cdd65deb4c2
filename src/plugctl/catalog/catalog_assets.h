// plugctl/catalog/catalog_assets.h — the catalog page's stylesheet and script, compiled into the
// binary: the page works in an air gap and loads nothing from elsewhere (catalog_web.h's CSP
// allows only 'self').
//
//   if (const Asset* a = FindAsset("catalog.css")) { ... a->body, a->etag ... }
//
// Thread-safe: immutable after the first call.
#pragma once

#include <string>
#include <string_view>

namespace plugctl::catalog {

struct Asset {
  std::string_view content_type;
  std::string_view body;
  std::string etag;  // strong, quoted: "\"<sha256 hex>\""
};

// "catalog.css" or "catalog.js"; nullptr for anything else.
const Asset* FindAsset(std::string_view file);

}  // namespace plugctl::catalog
