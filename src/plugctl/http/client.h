// plugctl/http/client.h — an HTTP/1.1 and HTTP/2 client over libcurl.
//
// Redirects are never followed here: the registry client follows them itself
// so that it can drop credentials when a redirect leaves the origin. Response
// bodies either come back whole and bounded (Do) or stream through a Reader
// with a bounded buffer (Open), so memory stays flat whatever the blob size.
//
// Thread-safe: one Client serves all threads; connections, DNS and TLS
// sessions are shared and reused between requests.
//
//   PLUGCTL_ASSIGN_OR_RETURN(auto client, Client::Create({.ca_file = "ca.pem"}));
//   Request req{.method = "GET", .url = "https://reg.local/v2/"};
//   PLUGCTL_ASSIGN_OR_RETURN(Response resp, client->Do(req));
//   PLUGCTL_ASSIGN_OR_RETURN(auto stream, client->Open(blob_request));
//   PLUGCTL_RETURN_IF_ERROR(CopyStream(*stream, file));
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "plugctl/base/io.h"
#include "plugctl/base/status.h"
#include "plugctl/http/headers.h"

namespace plugctl::http {

struct ClientOptions {
  // Skip TLS certificate and host name verification (--insecure).
  bool insecure_skip_verify = false;
  // PEM bundle of extra trusted CAs (--ca-file); system CAs otherwise.
  std::string ca_file;
  // Client certificate and key (PEM) for mutual TLS.
  std::string client_cert_file;
  std::string client_key_file;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  // A transfer slower than 1 byte/s for this long is aborted (kUnavailable).
  std::chrono::seconds stall_timeout{60};
  std::string user_agent = "plugctl";
  // Receives one line per request and response, with secrets redacted
  // (Authorization, tokens, pre-signed URL signatures). Called from the
  // requesting thread; must be thread-safe.
  std::function<void(std::string_view line)> debug;
};

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

class Client {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Client>> Create(const ClientOptions& options);
  virtual ~Client() = default;

  // Sends the request and reads the body, up to max_body bytes (more:
  // kResourceExhausted). Transport failures: kUnavailable (connection refused,
  // reset, timeout — worth retrying) or kFailedPrecondition (TLS verification).
  // HTTP error statuses are not errors here: callers inspect response.status.
  [[nodiscard]] virtual Result<Response> Do(const Request& request, size_t max_body = 1 << 20) = 0;

  // Sends the request and returns once the response headers have arrived;
  // the body streams through the returned reader. A transport failure while
  // reading surfaces as a Read error (kUnavailable).
  [[nodiscard]] virtual Result<std::unique_ptr<ResponseStream>> Open(const Request& request) = 0;
};

}  // namespace plugctl::http
