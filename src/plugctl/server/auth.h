// plugctl/server/auth.h — who may do what on `plugctl serve`: htpasswd users, an access file,
// and the registry's own token service (docker's token flow).
//
// Clients authenticate with HTTP Basic on any request, or follow the Bearer challenge to the
// token endpoint (GET /token?service=…&scope=repository:<name>:pull,push), sending Basic there,
// and present the token they get. docker, podman, skopeo, ORAS and plugctl all do one or the
// other, so one user list serves them all.
//
// Tokens are "<base64url(claims JSON)>.<base64url(HMAC-SHA256(key, claims))>", where the claims
// hold the subject, the granted scopes, issued-at and expiry. The key is 32 random bytes kept in
// a file (0600) so tokens survive a restart; a token is valid only until its expiry (default
// 5 minutes) and only for the scopes it grants.
//
// Access file (YAML), first matching rule per user wins; "anonymous" is the unauthenticated
// client, "*" any authenticated user:
//   - user: alice
//     repositories: ["plugins/*", "team/**"]   # * within one path component, ** across them
//     actions: [pull, push, delete]
//   - user: anonymous
//     repositories: ["**"]
//     actions: [pull]
// Without an access file: every htpasswd user may pull, push and delete everywhere; anonymous
// may pull when anonymous_read, nothing otherwise. Without an htpasswd file and without an
// access file, everyone (anonymous) may do everything: the loopback default.
//
// htpasswd: "user:hash" lines as `htpasswd -B` writes them (bcrypt $2y$/$2b$/$2a$); other hash
// kinds are refused at load with the line number. The file is re-read when its mtime or size
// changes (checked at most once a second). Successful bcrypt checks are cached in memory (keyed
// by a SHA-256 of user, password and hash) so a client sending Basic on every request does not
// cost a bcrypt each time.
//
// Untrusted input: Authorization headers, token strings and scope strings are bounded (8 KiB)
// and parsed without throwing; a malformed one is simply not authenticated.
//
// Thread safety: Authorizer is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugctl/base/clock.h"
#include "plugctl/base/status.h"
#include "plugctl/server/api_error.h"

namespace plugctl::server {

namespace fs = std::filesystem;

// A bit set of repository actions.
enum Action : unsigned {
  kActionNone = 0,
  kActionPull = 1,
  kActionPush = 2,
  kActionDelete = 4,
};

// "repository:plugins/x:pull,push" (the docker token scope grammar). Unknown actions are
// dropped; "*" means all three. nullopt if malformed or not of type "repository".
struct Scope {
  std::string repository;
  unsigned actions = kActionNone;
};
std::optional<Scope> ParseScope(std::string_view text);
std::string FormatScope(const Scope& scope);

// Whether `pattern` (with * and ** as in the banner) matches repository `name`.
bool RepositoryGlobMatch(std::string_view pattern, std::string_view name);

struct AuthOptions {
  std::optional<fs::path> htpasswd_file;
  std::optional<fs::path> access_file;
  bool anonymous_read = false;
  // Where the token signing key lives (created 0600 when missing).
  fs::path token_key_file;
  std::chrono::seconds token_ttl = std::chrono::minutes(5);
  // The "service" of challenges and tokens.
  std::string service = "plugctl";
  const Clock* clock = nullptr;  // nullptr: the real clock
};

// The outcome for one request.
struct AuthResult {
  std::string user;          // "" for anonymous
  unsigned granted = kActionNone;  // actions allowed on the repository asked about
};

class Authorizer {
 public:
  // Loads the files. Errors name the file and line.
  [[nodiscard]] static Result<std::unique_ptr<Authorizer>> Create(const AuthOptions& options);
  ~Authorizer();

  // Whether any credentials are configured (htpasswd); false means everyone is anonymous.
  bool enabled() const;

  // Authenticates `authorization` (the header's value, "" when absent) and tells which of
  // `wanted` the client may do on `repository` ("" for registry-wide requests such as /v2/ and
  // _catalog: then only authentication matters). UNAUTHORIZED for bad credentials or a bad or
  // expired token; a valid client lacking an action gets granted without it (the caller
  // answers 401 for anonymous, 403 DENIED for a known user).
  [[nodiscard]] ApiResult<AuthResult> Check(std::string_view authorization,
                                            std::string_view repository, unsigned wanted);

  // The WWW-Authenticate value for a 401: Bearer realm="<realm>",service="…"[,scope="…"].
  std::string Challenge(std::string_view realm, std::optional<Scope> scope) const;

  // The token endpoint: `authorization` as above (Basic, or absent for anonymous), `scopes`
  // the request's scope parameters. Grants each scope's actions intersected with what the
  // user may do (possibly none: docker expects a token anyway). UNAUTHORIZED for bad
  // credentials. Returns the JSON body:
  //   {"token":"…","access_token":"…","expires_in":300,"issued_at":"<RFC 3339>"}
  [[nodiscard]] ApiResult<std::string> IssueToken(std::string_view authorization,
                                                  const std::vector<std::string>& scopes);

  // Repositories among `names` the client may pull (for _catalog).
  std::vector<std::string> FilterPullable(const AuthResult& who,
                                          const std::vector<std::string>& names);

 private:
  struct Impl;
  explicit Authorizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace plugctl::server
