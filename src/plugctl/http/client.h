// plugctl/http/client.h — an HTTP/1.1 and HTTP/2 client over libcurl.
//
// Redirects are never followed here: the registry client follows them itself
// so that it can drop credentials when a redirect leaves the origin. Response
// bodies either come back whole and bounded (Do) or stream through a Reader
// with a bounded buffer (Open), so memory stays flat whatever the blob size.
//
// Proxies come from ClientOptions::proxy (the CLI fills it from the
// environment snapshot once); libcurl never reads the environment itself.
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

#include "plugctl/base/env.h"
#include "plugctl/base/status.h"
#include "plugctl/http/transport.h"

namespace plugctl::http {

// Which proxy each request goes through. Proxy URLs and the no_proxy list use
// curl's syntax (no_proxy: comma-separated host names, domain suffixes, IP
// addresses or CIDRs; "*" matches every host).
struct ProxyOptions {
  std::string http;   // for http:// URLs ("" : direct)
  std::string https;  // for https:// URLs ("" : direct)
  std::string no_proxy;

  // What curl, docker and Go tools read: http_proxy (then HTTP_PROXY, which
  // libcurl alone ignores but operators set for docker), https_proxy /
  // HTTPS_PROXY, all_proxy / ALL_PROXY as the fallback for both, no_proxy /
  // NO_PROXY.
  static ProxyOptions FromEnvironment(const Environment& env);

  // The proxy for `url` by its scheme ("" for none), before no_proxy applies.
  std::string ForUrl(std::string_view url) const;

  bool operator==(const ProxyOptions&) const = default;
};

struct ClientOptions {
  // Skip TLS certificate and host name verification (--insecure).
  bool insecure_skip_verify = false;
  // PEM bundle of extra trusted CAs (--ca-file); system CAs otherwise.
  std::string ca_file;
  // Client certificate and key (PEM) for mutual TLS.
  std::string client_cert_file;
  std::string client_key_file;
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  // A transfer moving fewer than low_speed_limit bytes/s over low_speed_time is aborted
  // (kUnavailable), whatever its size: a registry trickling bytes cannot hold a request open.
  // 0 turns the rule off.
  int64_t low_speed_limit = 1024;
  std::chrono::seconds low_speed_time{60};
  // A total deadline (kUnavailable) for requests whose bodies are small: Do() without a
  // body_reader (manifests, tokens, lists, small uploads) from start to the last body byte, and
  // the header phase of every other request. A streamed body (Open(), a blob) and an upload
  // from a body_reader are bounded by the low-speed rule only. 0: no deadline.
  std::chrono::seconds request_timeout{300};
  std::string user_agent = "plugctl";
  // No proxy unless set (the environment is not consulted).
  ProxyOptions proxy;
  // Receives one line per request and response, with secrets redacted
  // (Authorization, tokens, pre-signed URL signatures). Called from the
  // requesting thread; must be thread-safe.
  std::function<void(std::string_view line)> debug;
};

// The libcurl Transport.
class Client : public Transport {
 public:
  // kNotFound if options.ca_file does not exist.
  [[nodiscard]] static Result<std::unique_ptr<Client>> Create(const ClientOptions& options);
};

}  // namespace plugctl::http
