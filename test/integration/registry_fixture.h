// test/integration/registry_fixture.h — a real Debian docker-registry
// (distribution 2.8) on 127.0.0.1 with a free port and temporary storage,
// optionally with htpasswd (bcrypt) auth over TLS with a self-signed CA.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "subprocess.h"

namespace plugctl::testing {

struct RegistryConfig {
  bool tls = false;
  bool htpasswd = false;
  std::string user = "plugctl";
  std::string password = "s3cret-pass";
};

class RegistryServer {
 public:
  // Starts the registry; returns null (with the reason in *why) if it could
  // not, e.g. docker-registry is not installed.
  static std::unique_ptr<RegistryServer> Start(const std::filesystem::path& dir,
                                               const RegistryConfig& config, std::string* why);
  ~RegistryServer() = default;

  // "127.0.0.1:PORT"
  const std::string& host() const { return host_; }
  // The CA (the server's self-signed certificate) for --ca-file; TLS only.
  const std::string& ca_file() const { return ca_file_; }
  const RegistryConfig& config() const { return config_; }
  const std::filesystem::path& storage() const { return storage_; }

 private:
  RegistryServer() = default;
  std::string host_;
  std::string ca_file_;
  std::filesystem::path storage_;
  RegistryConfig config_;
  std::unique_ptr<Background> process_;
};

}  // namespace plugctl::testing
