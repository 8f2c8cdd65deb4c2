// Fuzzes what `plugctl serve` authenticates from untrusted bytes: the Authorization header
// (server::Authorizer::Check), token-endpoint scope parameters (ParseScope, IssueToken) and
// repository globs (RepositoryGlobMatch). Never crashes; grants never exceed what was asked
// or what the policy gives, a parsed scope survives FormatScope, a glob without '*' is plain
// equality, and a token issued for the input's scopes grants on its repository no more than
// the scope asked.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "plugctl/base/file.h"
#include "plugctl/server/auth.h"

namespace {

using plugctl::server::Authorizer;
using plugctl::server::kActionDelete;
using plugctl::server::kActionPull;
using plugctl::server::kActionPush;

constexpr unsigned kAll = kActionPull | kActionPush | kActionDelete;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Fixture {
  std::unique_ptr<plugctl::TempDir> dir;
  std::unique_ptr<Authorizer> auth;
};

// One authorizer for the whole run: alice/secret (bcrypt cost 4, the cheapest), rules for
// alice and anonymous, and an in-memory token key.
Fixture& TheFixture() {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    auto dir = plugctl::TempDir::Create("auth-fuzzer");
    Check(dir.has_value());
    f->dir = std::move(*dir);
    auto htpasswd = f->dir->path() / "htpasswd";
    auto access = f->dir->path() / "access.yaml";
    Check(plugctl::WriteFileAtomic(
              htpasswd, "alice:$2y$04$BVmCuT09iOwTNVsgoTAQxOC5e7l1eNlxo0RjFtupHiObGy4zNkclO\n")
              .has_value());
    Check(plugctl::WriteFileAtomic(access,
                                   "- user: alice\n  repositories: [\"plugins/*\", \"team/**\"]\n"
                                   "  actions: [\"*\"]\n"
                                   "- user: anonymous\n  repositories: [\"public/**\"]\n"
                                   "  actions: [pull]\n")
              .has_value());
    plugctl::server::AuthOptions options;
    options.htpasswd_file = htpasswd;
    options.access_file = access;
    auto auth = Authorizer::Create(options);
    Check(auth.has_value());
    f->auth = std::move(*auth);
    return f;
  }();
  return *fixture;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Authorizer& auth = *TheFixture().auth;
  std::string input(reinterpret_cast<const char*>(data), size);

  for (unsigned wanted : {unsigned{kActionPull}, kAll}) {
    auto result = auth.Check(input, "plugins/x", wanted);
    if (result) Check((result->granted & ~wanted) == 0);
  }

  auto scope = plugctl::server::ParseScope(input);
  if (scope) {
    Check((scope->actions & ~kAll) == 0);
    auto again = plugctl::server::ParseScope(plugctl::server::FormatScope(*scope));
    Check(again && again->repository == scope->repository && again->actions == scope->actions);
  }

  // An anonymous token for the input as a scope parameter; anonymous may at most pull public/**.
  auto body = auth.IssueToken("", {input});
  if (body && scope) {
    const std::string marker = "\"token\":\"";
    size_t start = body->find(marker);
    Check(start != std::string::npos);
    start += marker.size();
    std::string token = body->substr(start, body->find('"', start) - start);
    auto granted = auth.Check("Bearer " + token, scope->repository, kAll);
    Check(granted.has_value());
    Check((granted->granted & ~scope->actions) == 0);
    Check((granted->granted & ~kActionPull) == 0);
  }

  std::string_view rest = input;
  size_t newline = rest.find('\n');
  std::string_view pattern = rest.substr(0, newline);
  std::string_view name = newline == std::string_view::npos ? "" : rest.substr(newline + 1);
  bool matched = plugctl::server::RepositoryGlobMatch(pattern, name);
  if (pattern.find('*') == std::string_view::npos && pattern.size() <= 8192 &&
      name.size() <= 8192) {
    Check(matched == (pattern == name));
  }
  return 0;
}
