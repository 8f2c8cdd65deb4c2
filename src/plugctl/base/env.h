// plugctl/base/env.h — the environment variables plugctl consults, read once.
//
// The library never calls getenv: the CLI captures a snapshot at start-up and
// passes it (or what it derives from it) down through option structs, as
// leveldb's Env does. Tests build one from literals.
//
//   Environment env = Environment::Capture(&std::getenv);   // at the CLI edge only
//   Environment fake{{"HOME", "/home/u"}, {"HTTP_PROXY", "http://proxy:3128"}};
//   fake.Get("HOME");  // "/home/u"; "" when unset
#pragma once

#include <array>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

namespace plugctl {

// A value type; thread-compatible (const access from many threads is safe).
class Environment {
 public:
  // The variables Capture reads: proxies (http/client), credentials
  // (registry/credentials), the temporary directory root (base/file).
  static constexpr std::array<std::string_view, 11> kVariables = {
      "HOME",        "DOCKER_CONFIG", "TMPDIR",    "http_proxy", "HTTP_PROXY", "https_proxy",
      "HTTPS_PROXY", "all_proxy",     "ALL_PROXY", "no_proxy",   "NO_PROXY"};

  Environment() = default;
  Environment(std::initializer_list<std::pair<const std::string, std::string>> variables)
      : variables_(variables) {}

  // Reads kVariables through `lookup` (std::getenv at the CLI edge; it may
  // return nullptr for unset variables).
  static Environment Capture(const std::function<const char*(const char*)>& lookup);

  // The value of `name`, or "" when unset. Empty and unset are the same here,
  // as they are to every consumer.
  std::string Get(std::string_view name) const;
  // The first of `names` that is set and non-empty, or "".
  std::string GetFirst(std::initializer_list<std::string_view> names) const;
  void Set(std::string name, std::string value) { variables_[std::move(name)] = std::move(value); }

  bool operator==(const Environment&) const = default;

 private:
  std::map<std::string, std::string, std::less<>> variables_;
};

}  // namespace plugctl
