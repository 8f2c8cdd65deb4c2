// plugctl/http/url.h — URL parsing, relative resolution and origins (over
// libcurl's URL API, so we agree with the transport on what a URL means).
//
//   PLUGCTL_ASSIGN_OR_RETURN(std::string next, ResolveUrl(request_url, location_header));
//   if (!SameOrigin(request_url, next)) headers.Remove("Authorization");
#pragma once

#include <string>
#include <string_view>

#include "plugctl/base/status.h"

namespace plugctl::http {

struct Url {
  std::string scheme;  // "http" / "https", lowercase
  std::string host;    // lowercase; IPv6 without brackets
  int port = 0;        // explicit or the scheme's default
  std::string path;    // "/v2/…", never empty
  std::string query;   // without '?'

  // scheme://host:port — the origin (RFC 6454) as a string.
  std::string Origin() const;
};

// Parses an absolute http(s) URL. kInvalidArgument otherwise.
[[nodiscard]] Result<Url> ParseUrl(std::string_view url);

// Resolves `reference` (absolute, scheme-relative, absolute-path or relative,
// as registries send in Location and Link headers) against `base`.
[[nodiscard]] Result<std::string> ResolveUrl(std::string_view base, std::string_view reference);

// Same scheme, host and port. False if either does not parse.
bool SameOrigin(std::string_view a, std::string_view b);

// Percent-encodes a query parameter value.
std::string QueryEscape(std::string_view value);

// Replaces query string values that look secret (signatures, tokens,
// credentials in pre-signed object-storage URLs) with "REDACTED", for logs.
std::string RedactUrl(std::string_view url);

}  // namespace plugctl::http
