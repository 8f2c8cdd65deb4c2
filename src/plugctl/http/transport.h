// Directory plugctl/http/: the HTTP transport interface, its libcurl client, URLs.
// plugctl/http/transport.h — the seam between the registry client and HTTP.
//
// Session talks to a Transport; the libcurl Client (client.h) is the real
// one, tests script a fake (as go-containerregistry's remote.WithTransport
// takes an http.RoundTripper). A Transport never follows redirects and never
// treats an HTTP status as an error.
//
//   std::shared_ptr<Transport> t = std::move(*Client::Create({}));
//   PLUGCTL_ASSIGN_OR_RETURN(Response r, t->Do({.method = "GET", .url = "https://reg/v2/"}));
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "plugctl/base/io.h"
#include "plugctl/base/status.h"
#include "plugctl/http/headers.h"

namespace plugctl::http {

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  // Body: `body_reader` streams exactly `body_size` bytes when set; otherwise
  // `body` is sent (for methods that carry one: POST, PUT, PATCH).
  std::string body;
  Reader* body_reader = nullptr;
  int64_t body_size = -1;
};

struct Response {
  int status = 0;
  Headers headers;
  // The URL that answered.
  std::string url;
  // Do() only: the body (bounded).
  std::string body;
};

// A response whose body is read incrementally. Destroying it aborts the
// transfer. Not thread-safe.
class ResponseStream : public Reader {
 public:
  virtual const Response& response() const = 0;
};

// Implementations are thread-safe: one serves every thread of a process.
class Transport {
 public:
  virtual ~Transport() = default;

  // Sends the request and reads the body, up to max_body bytes (more:
  // kResourceExhausted). Transport failures: kUnavailable (connection refused,
  // reset, timeout — worth retrying) or kFailedPrecondition (TLS verification).
  // HTTP error statuses are not errors here: callers inspect response.status.
  [[nodiscard]] virtual Result<Response> Do(const Request& request, size_t max_body = 1 << 20) = 0;

  // Sends the request and returns once the response headers have arrived;
  // the body streams through the returned reader. A transport failure while
  // reading surfaces as a Read error (kUnavailable). The stream must be
  // destroyed before the transport (the curl client shares its connection
  // cache with every stream it opened).
  [[nodiscard]] virtual Result<std::unique_ptr<ResponseStream>> Open(const Request& request) = 0;
};

}  // namespace plugctl::http
