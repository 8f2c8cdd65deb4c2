#include "plugctl/registry/session.h"

#include <random>

#include <nlohmann/json.hpp>

#include "plugctl/http/url.h"
#include "plugctl/oci/json.h"
#include "plugctl/registry/wire.h"

namespace plugctl::registry {
namespace {

bool IsLoopbackHost(std::string_view host_port) {
  std::string_view host = host_port;
  if (host.starts_with("[")) {
    host = host.substr(1, host.find(']') - 1);
  } else if (size_t colon = host.rfind(':');
             colon != std::string_view::npos && host.find(':') == colon) {
    host = host.substr(0, colon);
  }
  return host == "localhost" || host.starts_with("127.") || host == "::1";
}

bool IsRetryableStatus(int status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::vector<std::string> SplitScopes(std::string_view scope) {
  std::vector<std::string> out;
  while (!scope.empty()) {
    size_t sp = scope.find(' ');
    if (sp != 0) out.emplace_back(scope.substr(0, sp));
    if (sp == std::string_view::npos) break;
    scope.remove_prefix(sp + 1);
  }
  return out;
}

}  // namespace

std::string PullScope(std::string_view repository) {
  return fmt::format("repository:{}:pull", repository);
}
std::string PushScope(std::string_view repository) {
  return fmt::format("repository:{}:pull,push", repository);
}

Error ResponseError(const http::Response& response, std::string_view what) {
  std::string detail;
  auto json = oci::ParseJson(response.body, what).value_or(nlohmann::json());
  if (json.is_object() && json.contains("errors") && json["errors"].is_array() &&
      !json["errors"].empty() && json["errors"][0].is_object()) {
    const auto& e = json["errors"][0];
    if (e.contains("code") && e["code"].is_string()) detail = e["code"].get<std::string>();
    if (e.contains("message") && e["message"].is_string()) {
      detail += (detail.empty() ? "" : ": ") + e["message"].get<std::string>();
    }
  }
  ErrorCode code = ErrorCode::kFailedPrecondition;
  switch (response.status) {
    case 400:
    case 405:
    case 413:
    case 415:
      code = ErrorCode::kInvalidArgument;
      break;
    case 401:
      code = ErrorCode::kUnauthenticated;
      break;
    case 403:
      code = ErrorCode::kPermissionDenied;
      break;
    case 404:
      code = ErrorCode::kNotFound;
      break;
    default:
      if (IsRetryableStatus(response.status)) code = ErrorCode::kUnavailable;
      break;
  }
  return Error(code, fmt::format("{}: HTTP {}{}{}", what, response.status,
                                 detail.empty() ? "" : " ", detail.substr(0, 300)));
}

Result<std::shared_ptr<Session>> Session::Create(std::string host, SessionOptions options) {
  if (host.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty registry host");
  const Environment& env = options.environment;
  if (!options.credentials && env.Get("DOCKER_CONFIG").empty() && env.Get("HOME").empty()) {
    // A library caller that passed no environment snapshot gets anonymous access rather than
    // credentials from a ./.docker/config.json that happens to be in the working directory.
    options.credentials = [](std::string_view) -> Result<Credential> { return Credential{}; };
  }
  if (!options.credentials) {
    options.credentials =
        [path = DockerConfig::DefaultPath(env)](std::string_view h) -> Result<Credential> {
      PLUGCTL_ASSIGN_OR_RETURN(DockerConfig config, DockerConfig::Load(path));
      return config.Get(h);
    };
  }
  if (!options.transport) {
    PLUGCTL_ASSIGN_OR_RETURN(options.transport, http::Client::Create(options.client));
  }
  if (!options.clock) options.clock = Clock::Real();
  return std::shared_ptr<Session>(new Session(std::move(host), std::move(options)));
}

std::string Session::base_url() {
  std::lock_guard lock(mu_);
  return base_url_;
}

Status Session::EnsureScheme() {
  {
    std::lock_guard lock(mu_);
    if (!base_url_.empty()) return OkStatus();
  }
  std::string chosen;
  if (options_.plain_http) {
    chosen = "http://" + host_;
  } else if (IsLoopbackHost(host_)) {
    // Loopback registries are insecure registries to docker and almost always speak plain
    // HTTP: asking that way first saves a TLS handshake and loading the CA store (tens of
    // milliseconds per run). A TLS server answers 400 (or hangs up), and TLS is tried next.
    auto plain = client_->Do({.method = "GET", .url = "http://" + host_ + "/v2/"}, 64 << 10);
    if (plain && (plain->status == 200 || plain->status == 401)) chosen = "http://" + host_;
  }
  if (chosen.empty()) {
    auto https = client_->Do({.method = "GET", .url = "https://" + host_ + "/v2/"}, 64 << 10);
    if (https) {
      chosen = "https://" + host_;
    } else if (IsLoopbackHost(host_) && https.error().code() == ErrorCode::kUnavailable) {
      // docker treats loopback registries as insecure: plain HTTP when TLS is not spoken.
      auto plain = client_->Do({.method = "GET", .url = "http://" + host_ + "/v2/"}, 64 << 10);
      if (!plain) return tl::unexpected(https.error().WithContext(host_));
      chosen = "http://" + host_;
    } else {
      return tl::unexpected(https.error());
    }
  }
  std::lock_guard lock(mu_);
  base_url_ = chosen;
  return OkStatus();
}

Result<Credential> Session::GetCredential() {
  {
    std::lock_guard lock(mu_);
    if (credential_) return *credential_;
  }
  PLUGCTL_ASSIGN_OR_RETURN(Credential cred, options_.credentials(host_));
  std::lock_guard lock(mu_);
  credential_ = cred;
  return cred;
}

Result<std::optional<std::string>> Session::AuthorizationFor(const std::string& scope) {
  std::optional<Challenge> bearer;
  bool basic;
  {
    std::lock_guard lock(mu_);
    bearer = bearer_;
    basic = basic_;
    if (bearer) {
      auto it = tokens_.find(scope);
      if (it != tokens_.end() && it->second.expires > clock_->Now()) {
        return std::optional<std::string>("Bearer " + it->second.value);
      }
    }
  }
  if (bearer) {
    PLUGCTL_ASSIGN_OR_RETURN(Token token, FetchToken(*bearer, scope));
    std::lock_guard lock(mu_);
    tokens_[scope] = token;
    return std::optional<std::string>("Bearer " + token.value);
  }
  if (basic) {
    PLUGCTL_ASSIGN_OR_RETURN(Credential cred, GetCredential());
    if (!cred.username.empty() || !cred.password.empty()) {
      return std::optional<std::string>("Basic " +
                                        Base64Encode(cred.username + ":" + cred.password));
    }
  }
  return std::optional<std::string>();
}

Status Session::HandleChallenge(const http::Response& response, const std::string& scope) {
  std::optional<Challenge> bearer, basic;
  for (const std::string& header : response.headers.GetAll("WWW-Authenticate")) {
    for (Challenge& c : ParseChallenges(header)) {
      if (c.scheme == "bearer" && !bearer) bearer = c;
      if (c.scheme == "basic" && !basic) basic = c;
    }
  }
  std::lock_guard lock(mu_);
  if (bearer) {
    bearer_ = bearer;
    tokens_.erase(scope);
    return OkStatus();
  }
  if (basic) {
    basic_ = true;
    return OkStatus();
  }
  return MakeError(ErrorCode::kUnauthenticated,
                   "{} answered 401 without a usable WWW-Authenticate challenge", host_);
}

Result<Session::Token> Session::FetchToken(const Challenge& challenge, const std::string& scope) {
  auto realm_it = challenge.params.find("realm");
  if (realm_it == challenge.params.end()) {
    return MakeError(ErrorCode::kUnauthenticated, "{}: Bearer challenge without realm", host_);
  }
  const std::string& realm = realm_it->second;
  auto realm_url = http::ParseUrl(realm);
  if (!realm_url) {
    return MakeError(ErrorCode::kUnauthenticated, "{}: invalid token realm \"{}\"", host_,
                     realm.substr(0, 200));
  }
  std::vector<std::string> scopes = SplitScopes(scope);
  if (scopes.empty() && challenge.params.contains("scope")) {
    scopes = SplitScopes(challenge.params.at("scope"));
  }
  std::string service = challenge.params.contains("service") ? challenge.params.at("service") : "";
  PLUGCTL_ASSIGN_OR_RETURN(Credential cred, GetCredential());
  // Never send a password in clear text to a remote realm.
  bool may_send_secret = realm_url->scheme == "https" || IsLoopbackHost(realm_url->host) ||
                         base_url().starts_with("http://");

  std::optional<http::Response> response;
  if (!cred.identity_token.empty() && may_send_secret) {
    std::string form = "grant_type=refresh_token&client_id=plugctl&refresh_token=" +
                       http::QueryEscape(cred.identity_token) +
                       "&service=" + http::QueryEscape(service);
    for (const auto& s : scopes) form += "&scope=" + http::QueryEscape(s);
    http::Request req{.method = "POST", .url = realm, .body = form};
    req.headers.Add("Content-Type", "application/x-www-form-urlencoded");
    auto r = client_->Do(req, 1 << 20);
    if (!r) return tl::unexpected(r.error().WithContext("token request"));
    // Some registries (ACR) refuse the OAuth POST; fall back to GET below.
    if (r->status == 200) response = std::move(*r);
  }
  if (!response) {
    std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
    url += "service=" + http::QueryEscape(service);
    for (const auto& s : scopes) url += "&scope=" + http::QueryEscape(s);
    http::Request req{.method = "GET", .url = url};
    if ((!cred.username.empty() || !cred.password.empty()) && may_send_secret) {
      req.headers.Add("Authorization",
                      "Basic " + Base64Encode(cred.username + ":" + cred.password));
    }
    auto r = client_->Do(req, 1 << 20);
    if (!r) return tl::unexpected(r.error().WithContext("token request"));
    response = std::move(*r);
  }
  if (response->status == 401 || response->status == 403) {
    return MakeError(
        ErrorCode::kUnauthenticated, "{}: token request to {} refused (HTTP {}){}", host_,
        http::RedactUrl(realm), response->status,
        cred.empty() ? ": log in with `plugctl login " + host_ + "`" : ": credentials rejected");
  }
  if (response->status != 200) {
    return tl::unexpected(ResponseError(*response, "token request to " + realm));
  }
  auto reply = ParseTokenReply(response->body);
  if (!reply && reply.error().code() == ErrorCode::kNotFound) {
    return MakeError(ErrorCode::kUnauthenticated, "{}: token endpoint {} returned no token", host_,
                     http::RedactUrl(realm));
  }
  if (!reply) {
    return MakeError(ErrorCode::kUnauthenticated, "{}: token endpoint {} returned invalid JSON",
                     host_, http::RedactUrl(realm));
  }
  // Renew a little early so a token never expires mid-request.
  return Token{std::move(reply->token), clock_->Now() + reply->lifetime - std::chrono::seconds(10)};
}

std::chrono::milliseconds Session::Backoff(int attempt, const http::Response* response) const {
  if (response != nullptr) {
    if (auto after = response->headers.Get("Retry-After")) {
      char* end = nullptr;
      long seconds = std::strtol(after->c_str(), &end, 10);
      if (end != after->c_str() && seconds >= 0) {
        return std::chrono::milliseconds(std::min<long>(seconds, options_.max_retry_after.count()) *
                                         1000);
      }
    }
  }
  auto base = options_.initial_backoff * (1LL << std::min(attempt, 16));
  auto capped = std::min<std::chrono::milliseconds>(base, options_.max_backoff);
  // Jitter spreads retries of parallel transfers apart.
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> dist(capped.count() / 2,
                                              std::max<int64_t>(capped.count(), 1));
  return std::chrono::milliseconds(dist(rng));
}

namespace {
const http::Response& ResponseOf(const http::Response& r) { return r; }
const http::Response& ResponseOf(const std::unique_ptr<http::ResponseStream>& s) {
  return s->response();
}
}  // namespace

template <typename R, typename Send>
R Session::Perform(const Call& call, Send&& send) {
  PLUGCTL_RETURN_IF_ERROR(EnsureScheme());
  const std::string base = base_url();
  std::string url = call.path.starts_with("http://") || call.path.starts_with("https://")
                        ? call.path
                        : base + call.path;
  bool same_origin = http::SameOrigin(url, base);
  const bool replayable = call.body_reader == nullptr;
  bool challenged = false;
  int redirects = 0;
  for (int attempt = 0;;) {
    http::Request req{.method = call.method,
                      .url = url,
                      .headers = call.headers,
                      .body = call.body,
                      .body_reader = call.body_reader,
                      .body_size = call.body_size};
    if (same_origin) {
      PLUGCTL_ASSIGN_OR_RETURN(auto auth, AuthorizationFor(call.scope));
      if (auth) req.headers.Set("Authorization", *auth);
    } else {
      // Whatever the caller set, nothing of ours crosses to another origin.
      req.headers.Remove("Authorization");
    }
    auto result = send(req);
    if (!result) {
      if (result.error().code() == ErrorCode::kUnavailable && replayable &&
          attempt + 1 < options_.max_attempts) {
        clock_->SleepFor(Backoff(attempt++, nullptr));
        continue;
      }
      return tl::unexpected(result.error());
    }
    const http::Response& response = ResponseOf(*result);
    if (response.status == 401 && same_origin && !challenged && replayable) {
      challenged = true;
      PLUGCTL_RETURN_IF_ERROR(HandleChallenge(response, call.scope));
      continue;
    }
    if (response.status == 401 && same_origin) {
      PLUGCTL_ASSIGN_OR_RETURN(Credential cred, GetCredential());
      return MakeError(ErrorCode::kUnauthenticated, "{}: authentication {} (HTTP 401 for {} {})",
                       host_,
                       cred.empty() ? "required: log in with `plugctl login " + host_ + "`"
                                    : "failed: credentials rejected",
                       call.method, http::RedactUrl(url));
    }
    if (IsRedirect(response.status) && call.follow_redirects &&
        (call.method == "GET" || call.method == "HEAD")) {
      auto location = response.headers.Get("Location");
      if (!location || ++redirects > 10) {
        return MakeError(ErrorCode::kFailedPrecondition, "{}: bad redirect for {}", host_,
                         http::RedactUrl(url));
      }
      PLUGCTL_ASSIGN_OR_RETURN(url, http::ResolveUrl(url, *location));
      // Once off the registry's origin, never back on with credentials.
      same_origin = same_origin && http::SameOrigin(url, base);
      continue;
    }
    if (IsRetryableStatus(response.status) && replayable && attempt + 1 < options_.max_attempts) {
      clock_->SleepFor(Backoff(attempt++, &response));
      continue;
    }
    return result;
  }
}

Result<http::Response> Session::Do(const Call& call) {
  return Perform<Result<http::Response>>(
      call, [&](const http::Request& req) { return client_->Do(req, call.max_body); });
}

Result<std::unique_ptr<http::ResponseStream>> Session::Open(const Call& call) {
  return Perform<Result<std::unique_ptr<http::ResponseStream>>>(
      call, [&](const http::Request& req) { return client_->Open(req); });
}

Status Session::Ping() {
  PLUGCTL_ASSIGN_OR_RETURN(http::Response r, Do({.method = "GET", .path = "/v2/"}));
  if (r.status != 200) return tl::unexpected(ResponseError(r, host_ + " /v2/"));
  return OkStatus();
}

}  // namespace plugctl::registry
