// plugctl/server/http_server.h — the HTTP/1.1 server under `plugctl serve`: sockets, TLS,
// limits, timeouts and draining; what a request means is the Handler's business.
//
// Plain HTTP: one epoll event loop per CPU owns the connections (the accept thread deals them
// out round robin), reads without blocking, parses heads incrementally with Boost.Beast and runs
// the Handler inline for a request without a body; when its whole response goes out at once the
// connection stays in the loop, so one wakeup serves every ready keep-alive connection instead of
// a context switch per request. A request with a body (or Expect), a file over 256 KiB, or a
// response the socket will not take right now moves its connection to a thread of its own for
// good, where blocking code on poll(2) with deadlines streams the body through a plain Reader
// and sends the rest (files with sendfile(2)). TLS connections get such a thread from the start.
// max_connections counts both kinds.
//
// Limits (hostile clients): a request head must arrive complete within header_timeout of its
// first byte (slow-loris), be at most max_header_bytes with at most max_header_fields fields;
// every later read or write waits at most io_timeout for progress; a keep-alive connection idle
// for idle_timeout is closed. Past max_connections, new connections get 503 and are closed.
//
// Shutdown(): stop accepting, close idle connections, let requests in flight finish for up to
// drain_timeout, then cut the rest. Run() returns after that.
//
//   HttpServer server(options, handler, log);
//   PLUGCTL_RETURN_IF_ERROR(server.Bind());
//   server.Run();  // until Shutdown() from another thread (a signal handler thread)
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/verb.hpp>

#include "plugctl/base/io.h"
#include "plugctl/base/status.h"

namespace plugctl::server {

namespace fs = std::filesystem;

struct TlsOptions {
  fs::path cert_file;
  fs::path key_file;
  // When set, clients must present a certificate signed by one of these CAs (mutual TLS).
  std::optional<fs::path> client_ca_file;
};

struct HttpServerOptions {
  // "127.0.0.1:5000", "[::1]:5000", "0.0.0.0:443"; port 0 picks a free one (see port()).
  std::string listen = "127.0.0.1:5000";
  std::optional<TlsOptions> tls;
  size_t max_connections = 512;
  size_t max_header_bytes = 16 * 1024;
  size_t max_header_fields = 100;
  std::chrono::seconds header_timeout{20};
  std::chrono::seconds io_timeout{60};
  std::chrono::seconds idle_timeout{120};
  std::chrono::seconds drain_timeout{10};
};

using RequestHead = boost::beast::http::request_header<>;

// What a handler answers. Either `body` or `file` is sent; for HEAD requests neither is, but
// Content-Length still tells their size.
struct Response {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // A file region to send (sendfile on plain HTTP). The server closes fd when done.
  struct File {
    int fd = -1;
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  std::optional<File> file;
  // Who made the request, for the access log ("" for anonymous).
  std::string user;
  // Close the connection after this response.
  bool close = false;

  void Set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// One request as the handler sees it.
class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual const RequestHead& head() const = 0;
  // The client's address, "127.0.0.1:40000".
  virtual const std::string& peer() const = 0;
  // The request body, streamed on demand (answering "Expect: 100-continue" first). Reads fail
  // with kResourceExhausted past `limit` bytes, kUnavailable on a timed-out or broken
  // connection, kInvalidArgument on malformed chunked encoding.
  virtual Reader& Body(uint64_t limit) = 0;
  // Content-Length of the request, when it has one.
  virtual std::optional<uint64_t> content_length() const = 0;
  // The verified client certificate's subject (mutual TLS), "" otherwise.
  virtual const std::string& client_subject() const = 0;
  // Whether the connection is TLS.
  virtual bool secure() const = 0;
};

// Called concurrently. A plain-HTTP request without a body is handled on an event loop, where
// time spent waiting delays that loop's other connections: local disk and CPU work is fine,
// waiting on the network or sleeping is not.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual Response Handle(Exchange& exchange) = 0;
  // Asked on an event loop before Handle (only there): true moves the connection to a thread of
  // its own first, for a request whose answer needs slow work (the catalog extracting a newly
  // pushed plugin image), so the loop's other connections do not wait for it. Must be cheap and
  // must not read the body.
  virtual bool IsSlow(const Exchange& /*exchange*/) { return false; }
};

// The base URL clients reach this server by: `public_url` when set, else "http(s)://<Host>"
// from the request — "localhost" when the Host header is not a plausible host[:port] (it is the
// client's to choose, and ends up in challenges and pages).
std::string RequestBaseUrl(const Exchange& exchange, std::string_view public_url);

// One line per request: method, target, status, bytes in and out, duration, user, peer.
struct AccessRecord {
  std::string_view method;
  std::string_view target;
  unsigned status = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  std::chrono::microseconds duration{0};
  std::string_view user;
  std::string_view peer;
};

struct HttpServerHooks {
  // Called after every response (from event loops and connection threads, concurrently).
  std::function<void(const AccessRecord&)> on_request;
  // Server-level events: start, TLS reload, refused connections (concurrently).
  std::function<void(std::string_view)> on_event;
  // In-flight request count changes (+1 / -1).
  std::function<void(int)> on_in_flight;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Handler& handler, HttpServerHooks hooks);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Loads TLS material and binds the listening socket. Errors name the address or file.
  [[nodiscard]] Status Bind();
  // The bound port (after Bind).
  int port() const { return port_; }
  // "http://127.0.0.1:5000" or "https://…" (after Bind).
  std::string url() const;

  // Accepts and serves until Shutdown; returns after draining.
  void Run();
  // Thread-safe and async-signal-safe (writes to an eventfd).
  void Shutdown();
  // Re-reads the TLS certificate and key (and client CA); async-signal-safe: the accept loop
  // does the work. A failed reload keeps the old material and reports through on_event.
  void RequestTlsReload();

 private:
  struct Impl;
  // Shared with the connection threads, which may outlive Run() by a little when cut.
  std::shared_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace plugctl::server
