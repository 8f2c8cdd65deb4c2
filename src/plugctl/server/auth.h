// plugctl/server/auth.h — who may do what on `plugctl serve`: htpasswd users, an access file,
// and the registry's own token service (docker's token flow).
//
// Clients authenticate with HTTP Basic on any request, or follow the Bearer challenge to the
// token endpoint (GET /token?service=…&scope=repository:<name>:pull,push), sending Basic there,
// and present the token they get. docker, podman, skopeo, ORAS and plugctl all do one or the
// other, so one user list serves them all.
//
// Tokens are "<P>.<base64url(HMAC-SHA256(key, P))>" with P = base64url(claims JSON), unpadded;
// the claims hold the subject, the service, the granted scopes, issued-at and expiry (Unix
// seconds). The key is 32 random bytes kept in a file (0600) so tokens survive a restart; a
// token is valid only until its expiry (default 5 minutes) and only for the scopes it grants,
// whatever the access file says meanwhile.
//
// Access file (YAML), a list of rules; the first rule whose user and one of whose repository
// patterns match decides, and no match means no access. "anonymous" is the unauthenticated
// client, "*" any authenticated user (quote it: a bare * is a YAML alias). Actions are pull,
// push, delete or "*" (all); an unknown action or key is an error naming the file, line and rule:
//   - user: alice
//     repositories: ["plugins/*", "team/**"]   # * within one path component, ** across them
//     actions: [pull, push, delete]
//   - user: anonymous
//     repositories: ["**"]
//     actions: [pull]
// Without an access file: every htpasswd user may pull, push and delete everywhere; anonymous
// may pull when anonymous_read, nothing otherwise. anonymous_read also adds pull everywhere to
// what an access file gives anonymous. Without an htpasswd file everyone is anonymous (an
// Authorization header is ignored) and, without an access file too, may do everything: the
// loopback default.
//
// htpasswd: "user:hash" lines as `htpasswd -B` writes them (bcrypt $2y$/$2b$/$2a$); other hash
// kinds are refused at load with the line number, as are duplicate users and the reserved names
// "anonymous" and "*". Blank lines and "#" comments are skipped. The file is re-read when its
// mtime, size or inode changes (checked at most once a second, by the options' clock); a
// re-read that fails keeps the users loaded before and is reported by LastReloadError().
// Successful bcrypt checks are cached in memory (keyed by a SHA-256 of user, password and hash;
// at most 4096, forgotten all at once when full) so a client sending Basic on every request
// does not cost a bcrypt each time. An unknown user costs a bcrypt too (no user enumeration by
// timing).
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

// "repository:plugins/x:pull,push" (the docker token scope grammar; the name runs to the last
// ':'). Unknown actions are dropped; "*" means all three. nullopt if malformed, longer than
// 8 KiB, holding a space or a non-ASCII or control character, not of type "repository" (e.g.
// docker's "registry:catalog:*"), or if the name is not an OCI repository name (lowercase
// components separated by '/', at most 255 bytes: oci::IsValidRepositoryName).
struct Scope {
  std::string repository;
  unsigned actions = kActionNone;
};
std::optional<Scope> ParseScope(std::string_view text);
std::string FormatScope(const Scope& scope);

// Whether `pattern` (with * and ** as in the banner, every other character literal) matches all
// of repository `name`. Linear in the pattern times the name; false beyond 8 KiB either.
bool RepositoryGlobMatch(std::string_view pattern, std::string_view name);

struct AuthOptions {
  std::optional<fs::path> htpasswd_file;
  std::optional<fs::path> access_file;
  bool anonymous_read = false;
  // Where the token signing key lives (32 raw bytes; created 0600 when missing). Empty: a
  // random key in memory only, so tokens die with the process.
  fs::path token_key_file;
  std::chrono::seconds token_ttl = std::chrono::minutes(5);
  // The "service" of challenges and tokens.
  std::string service = "plugctl";
  // Time for the htpasswd re-check and for token times (Unix time is the wall clock at Create
  // plus this clock's progress, so a FakeClock drives expiry). nullptr: Clock::Real().
  std::shared_ptr<Clock> clock;
};

// The outcome for one request.
struct AuthResult {
  std::string user;                // "" for anonymous
  unsigned granted = kActionNone;  // actions allowed on the repository asked about
};

class Authorizer {
 public:
  // Loads the files and the token key. Errors name the file and line.
  [[nodiscard]] static Result<std::unique_ptr<Authorizer>> Create(const AuthOptions& options);
  ~Authorizer();

  // Whether any credentials are configured (htpasswd); false means everyone is anonymous.
  bool enabled() const;

  // Authenticates `authorization` (the header's value, "" when absent) and tells which of
  // `wanted` the client may do on `repository` ("" for registry-wide requests such as /v2/ and
  // _catalog: then only authentication matters). UNAUTHORIZED for bad credentials or a bad or
  // expired token, and for a header that is neither Basic nor Bearer (schemes are
  // case-insensitive); a valid client lacking an action gets granted without it (the caller
  // answers 401 for anonymous, 403 DENIED for a known user). With "" every wanted action is
  // granted to whoever authenticated, anonymous included: the caller decides whether an
  // anonymous client gets the challenge. A Bearer token grants what it lists for exactly
  // `repository`.
  [[nodiscard]] ApiResult<AuthResult> Check(std::string_view authorization,
                                            std::string_view repository, unsigned wanted);

  // The WWW-Authenticate value for a 401: Bearer realm="<realm>",service="…"[,scope="…"].
  // Quotes and backslashes are escaped and control characters dropped (realm may come from a
  // Host header).
  std::string Challenge(std::string_view realm, std::optional<Scope> scope) const;

  // The token endpoint: `authorization` as above (Basic, or absent for anonymous), `scopes`
  // the request's scope parameters, each possibly several space-joined scopes. Grants each
  // scope's actions intersected with what the user may do (possibly none: docker expects a token
  // anyway); scopes that do not parse are ignored. UNAUTHORIZED for bad credentials or another
  // scheme; TOO_LARGE (SIZE_INVALID) beyond 64 scopes or when the token would exceed 8 KiB.
  // Returns the JSON body:
  //   {"token":"…","access_token":"…","expires_in":300,"issued_at":"<RFC 3339>"}
  [[nodiscard]] ApiResult<std::string> IssueToken(std::string_view authorization,
                                                  const std::vector<std::string>& scopes);

  // Repositories among `names` the client may pull (for _catalog), by the policy of who.user
  // (a token's subject is judged by the current access file).
  std::vector<std::string> FilterPullable(const AuthResult& who,
                                          const std::vector<std::string>& names);

  // Why the last htpasswd re-read failed (the previous users still apply); nullopt once a
  // re-read succeeds.
  std::optional<Error> LastReloadError() const;

 private:
  struct Impl;
  explicit Authorizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace plugctl::server
