// plugctl/registry/credentials.h — registry credentials from docker's
// config.json, the file docker, podman (with DOCKER_CONFIG), ORAS, crane and
// skopeo share.
//
// Lookup order for a registry host (docker's): credHelpers[host] →
// credsStore → auths[host]. Helpers are run as `docker-credential-NAME get`
// with the server URL on stdin (the credential-helper protocol).
//
//   PLUGCTL_ASSIGN_OR_RETURN(DockerConfig config,
//   DockerConfig::Load(DockerConfig::DefaultPath(env))); PLUGCTL_ASSIGN_OR_RETURN(Credential cred,
//   config.Get("reg.local:5000"));
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "plugctl/base/env.h"
#include "plugctl/base/status.h"

namespace plugctl::registry {

struct Credential {
  std::string username;
  std::string password;
  // An OAuth2 refresh token ("identitytoken"), exchanged at the token realm.
  std::string identity_token;
  // A bearer token to send as is ("registrytoken").
  std::string registry_token;

  bool empty() const {
    return username.empty() && password.empty() && identity_token.empty() && registry_token.empty();
  }
};

class DockerConfig {
 public:
  // $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json (./.docker when
  // HOME is unset), from the snapshot the CLI took.
  static std::filesystem::path DefaultPath(const Environment& env);

  // Loads the file; a missing file is an empty config. kInvalidArgument for
  // invalid JSON or wrongly typed fields (naming the file and field).
  [[nodiscard]] static Result<DockerConfig> Load(const std::filesystem::path& path);

  // Credentials for a registry host; an empty Credential if none is stored.
  // Helper failures: kUnavailable with the helper's message.
  [[nodiscard]] Result<Credential> Get(std::string_view registry_host) const;

  // Stores credentials (through credHelpers/credsStore when configured, else
  // base64 in auths) and writes the file atomically, keeping every other
  // field as it was. The file is created with mode 0600.
  [[nodiscard]] Status Store(std::string_view registry_host, const Credential& credential);

  // Removes the credentials; kNotFound if none were stored.
  [[nodiscard]] Status Erase(std::string_view registry_host);

  const std::filesystem::path& path() const { return path_; }

 private:
  // The helper configured for a host ("" when none).
  std::string HelperFor(std::string_view key) const;
  Status Save() const;

  std::filesystem::path path_;
  nlohmann::json json_ = nlohmann::json::object();
};

// Runs `docker-credential-<helper> <action>` with `input` on stdin; returns
// stdout. Bounded: 30 s, 1 MiB of output.
[[nodiscard]] Result<std::string> RunCredentialHelper(std::string_view helper,
                                                      std::string_view action,
                                                      std::string_view input);

std::string Base64Encode(std::string_view data);
[[nodiscard]] Result<std::string> Base64Decode(std::string_view data);

}  // namespace plugctl::registry
