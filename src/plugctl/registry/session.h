// plugctl/registry/session.h — one registry host: transport, authentication,
// retries and redirects for every request the registry client makes.
//
// Authentication follows the distribution token spec: a 401 carries a
// WWW-Authenticate challenge; Bearer challenges are answered with a token from
// the realm (scoped "repository:NAME:pull[,push]", cached until it expires),
// Basic challenges with the stored credentials. Credentials and tokens are
// sent only to the registry's own origin and to its token realm — never
// across a redirect to another origin (object storage), a cross-host upload
// location or a pagination link elsewhere.
//
// Thread-safe: one Session serves every thread and repository of its host.
//
//   PLUGCTL_ASSIGN_OR_RETURN(auto session, Session::Create("reg.local:5000", options));
//   PLUGCTL_ASSIGN_OR_RETURN(http::Response r,
//       session->Do({.method = "GET", .path = "/v2/x/tags/list", .scope = PullScope("x")}));
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "plugctl/base/clock.h"
#include "plugctl/base/env.h"
#include "plugctl/base/status.h"
#include "plugctl/http/client.h"
#include "plugctl/http/transport.h"
#include "plugctl/registry/challenge.h"
#include "plugctl/registry/credentials.h"

namespace plugctl::registry {

using CredentialFunc = std::function<Result<Credential>(std::string_view host)>;

struct SessionOptions {
  // Options of the libcurl client built when `transport` is null.
  http::ClientOptions client;
  // Carries every request (shared, thread-safe); null: a libcurl Client
  // created from `client`. Tests pass a fake.
  std::shared_ptr<http::Transport> transport;
  // Backoff, Retry-After waits and token expiry; null: Clock::Real().
  std::shared_ptr<Clock> clock;
  // Where the default credentials lookup finds docker's config.json
  // (DOCKER_CONFIG, HOME); unused when `credentials` is set. A snapshot with
  // neither (a library caller that took none) means anonymous access.
  Environment environment;
  // Talk plain HTTP. Loopback hosts (localhost, 127.0.0.0/8, ::1) fall back
  // to plain HTTP by themselves when HTTPS fails, as docker does.
  bool plain_http = false;
  // Where credentials come from (default: docker config.json lookup).
  CredentialFunc credentials;
  // Attempts for a retryable failure (connection errors, 429, 5xx).
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(10)};
  // Longest Retry-After we honour; longer asks fail instead of hanging.
  std::chrono::seconds max_retry_after{60};
};

// "repository:NAME:pull" and "repository:NAME:pull,push".
std::string PullScope(std::string_view repository);
std::string PushScope(std::string_view repository);

struct Call {
  std::string method = "GET";
  // A path on the registry ("/v2/…") or an absolute URL (upload locations,
  // pagination links), which may be on another origin.
  std::string path;
  http::Headers headers;
  std::string body;
  // Streams that cannot be replayed disable retries after the first byte.
  Reader* body_reader = nullptr;
  int64_t body_size = -1;
  // Token scopes the call needs, space-separated.
  std::string scope;
  // Follow 3xx for GET/HEAD (dropping credentials when leaving the origin).
  bool follow_redirects = true;
  size_t max_body = 1 << 20;
};

class Session {
 public:
  [[nodiscard]] static Result<std::shared_ptr<Session>> Create(std::string host,
                                                               SessionOptions options);

  const std::string& host() const { return host_; }
  // The session's clock (also for waits of its callers, e.g. download resumes).
  Clock& clock() { return *clock_; }
  // "https://host" or "http://host", once known (after the first request).
  std::string base_url();

  // Performs the call with auth, retries and redirects; reads the whole body
  // (bounded). HTTP statuses other than 401 come back as responses; a 401
  // that credentials cannot answer is kUnauthenticated.
  [[nodiscard]] Result<http::Response> Do(const Call& call);

  // As Do, but the body streams. Retries and auth apply until the response
  // headers arrive.
  [[nodiscard]] Result<std::unique_ptr<http::ResponseStream>> Open(const Call& call);

  // GET /v2/: checks reachability and, with credentials, that they are accepted.
  [[nodiscard]] Status Ping();

 private:
  Session(std::string host, SessionOptions options)
      : host_(std::move(host)),
        options_(std::move(options)),
        client_(options_.transport),
        clock_(options_.clock) {}

  struct Token {
    std::string value;
    Clock::TimePoint expires;
  };

  template <typename R, typename Send>
  R Perform(const Call& call, Send&& send);
  Status EnsureScheme();
  Result<std::optional<std::string>> AuthorizationFor(const std::string& scope);
  Status HandleChallenge(const http::Response& response, const std::string& scope);
  Result<Token> FetchToken(const Challenge& challenge, const std::string& scope);
  Result<Credential> GetCredential();
  std::chrono::milliseconds Backoff(int attempt, const http::Response* response) const;

  const std::string host_;
  const SessionOptions options_;
  const std::shared_ptr<http::Transport> client_;
  const std::shared_ptr<Clock> clock_;

  std::mutex mu_;
  std::string base_url_;  // guarded by mu_
  std::optional<Challenge> bearer_;
  bool basic_ = false;
  std::map<std::string, Token> tokens_;
  std::optional<Credential> credential_;
};

// Maps an unexpected registry response to an error naming what failed, using
// the OCI error body ("errors":[{"code":"MANIFEST_UNKNOWN","message":…}]) when
// present. 404 → kNotFound, 401 → kUnauthenticated, 403 → kPermissionDenied,
// 429/5xx → kUnavailable, other 4xx → kInvalidArgument/kFailedPrecondition.
Error ResponseError(const http::Response& response, std::string_view what);

}  // namespace plugctl::registry
