// plugctl/registry/challenge.h — WWW-Authenticate parsing (RFC 9110 §11.6.1,
// and the distribution token-auth spec's Bearer parameters).
//
//   auto challenges = ParseChallenges(R"(Bearer
//   realm="https://auth/token",service="reg",scope="repository:a:pull")"); challenges[0].scheme ==
//   "bearer"; challenges[0].params["realm"] == "https://auth/token"
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace plugctl::registry {

struct Challenge {
  std::string scheme;                         // lowercase: "bearer", "basic"
  std::map<std::string, std::string> params;  // names lowercase
  bool operator==(const Challenge&) const = default;
};

// Parses one header value holding one or more challenges. Malformed parts end
// parsing; what was parsed before them is returned (never throws, bounded by
// the input length).
std::vector<Challenge> ParseChallenges(std::string_view header);

}  // namespace plugctl::registry
