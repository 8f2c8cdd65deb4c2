// test/integration/registry_fixture.h — a real Debian docker-registry
// (distribution 2.8) on 127.0.0.1 with a free port and temporary storage,
// optionally with htpasswd (bcrypt) auth over TLS with a self-signed CA.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fixture.h"
#include "subprocess.h"
#include <gtest/gtest.h>

namespace plugctl::testing {

// Which registry implementation a test talks to.
enum class RegistryKind {
  kDockerRegistry,  // Debian's docker-registry (distribution 2.8)
  kPlugctlServe,    // `plugctl serve` (the embedded registry)
};

// The kind tests get when they do not ask: PLUGCTL_TEST_REGISTRY=serve runs the registry
// suites against `plugctl serve` (ctest registers them so, prefixed "serve."), else
// docker-registry.
RegistryKind DefaultRegistryKind();

struct RegistryConfig {
  std::optional<RegistryKind> kind;  // unset: DefaultRegistryKind()
  bool tls = false;
  bool htpasswd = false;
  // With tls: require client certificates signed by the server's CA (client_cert/client_key).
  bool client_certs = false;
  std::string user = "plugctl";
  std::string password = "s3cret-pass";
  // plugctl serve only: --read-only, --anonymous-read, an access file's YAML, more flags.
  bool read_only = false;
  bool anonymous_read = false;
  std::string access_yaml;
  std::vector<std::string> extra_args;
};

class RegistryServer {
 public:
  // Starts the registry; returns null (with the reason in *why) if it could
  // not, e.g. docker-registry is not installed.
  static std::unique_ptr<RegistryServer> Start(const std::filesystem::path& dir,
                                               const RegistryConfig& config, std::string* why);
  // Prints the tail of the server's log when the running test has failed: a server that
  // died (a sanitizer report, a crash) otherwise shows only as "connection refused".
  ~RegistryServer();

  // "127.0.0.1:PORT"
  const std::string& host() const { return host_; }
  // A reference into this registry: "127.0.0.1:PORT/<repo_tag>".
  std::string Ref(const std::string& repo_tag) const { return host_ + "/" + repo_tag; }
  // The CA (the server's self-signed certificate) for --ca-file; TLS only.
  const std::string& ca_file() const { return ca_file_; }
  // A client certificate and key the server accepts (client_certs only).
  const std::string& client_cert() const { return client_cert_; }
  const std::string& client_key() const { return client_key_; }
  const RegistryConfig& config() const { return config_; }
  const std::filesystem::path& storage() const { return storage_; }
  RegistryKind kind() const { return kind_; }
  // The server's log (stderr): plugctl serve's access log.
  const std::filesystem::path& log_path() const { return log_path_; }
  int pid() const { return process_ ? process_->pid() : -1; }
  // Kills the server (SIGKILL, the whole process group) and waits for it.
  void Kill();
  // Starts it again on the same port and storage; false (with *why) if it does not come up.
  bool Restart(std::string* why);

 private:
  RegistryServer() = default;
  std::string host_;
  std::string ca_file_;
  std::string client_cert_;
  std::string client_key_;
  std::filesystem::path storage_;
  std::filesystem::path log_path_;
  std::vector<std::string> argv_;
  int port_ = 0;
  RegistryKind kind_ = RegistryKind::kDockerRegistry;
  RegistryConfig config_;
  std::unique_ptr<Background> process_;
};

// For a fixture's SetUp or a test body: starts a registry under `dir`, or marks the running test
// skipped (saying why) and returns null, after which the caller returns.
std::unique_ptr<RegistryServer> StartRegistryOrSkip(const std::filesystem::path& dir,
                                                    const RegistryConfig& config = {});

// Fixture `Base` (a CliTest) with a plain registry (no TLS, no auth) under dir_/registry, started
// once Base::SetUp has passed; the test is skipped when it cannot start.
template <typename Base>
class WithRegistry : public Base {
 protected:
  void SetUp() override {
    Base::SetUp();
    if (this->HasFatalFailure() || this->IsSkipped()) return;
    registry_ = StartRegistryOrSkip(this->dir_ / "registry");
  }
  std::string Ref(const std::string& repo_tag) const { return registry_->Ref(repo_tag); }
  // sha256 of the manifest bytes skopeo reads for `ref` (in this registry).
  std::string SkopeoDigest(const std::string& ref) {
    return this->SkopeoInspectDigest({"--raw", "--tls-verify=false", "docker://" + ref});
  }

  // skopeo pushes the docker-shaped demo image (demo/hello-world.docker.tar, written by
  // `plugctl demo`) here as Docker schema2 (skopeo/docker:1) and as OCI (skopeo/oci:1).
  void SkopeoPushDemoInBothFormats() {
    const std::string source = "docker-archive:" + this->Path("demo/hello-world.docker.tar");
    RunResult r = this->Skopeo(
        {"copy", "--dest-tls-verify=false", source, "docker://" + Ref("skopeo/docker:1")});
    ASSERT_TRUE(r.ok()) << r.Summary();
    r = this->Skopeo({"copy", "--dest-tls-verify=false", "--format", "oci", source,
                      "docker://" + Ref("skopeo/oci:1")});
    ASSERT_TRUE(r.ok()) << r.Summary();
  }

  std::unique_ptr<RegistryServer> registry_;
};

// A CliTest with Debian's docker-registry (always that kind: the tests compare plugctl against
// it) and the demo images: Seed(REPO:TAG) puts the demo's compat image there.
class DemoRegistryTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    registry_ = StartRegistryOrSkip(dir_ / "registry", {.kind = RegistryKind::kDockerRegistry});
    if (!registry_) return;
    demo_ = PlugctlJson({"demo", "--dir", Path("demo")});
    compat_ = DemoLayout() + ":hello-world:1.0.0";
  }

  std::string Ref(const std::string& repo_tag) const { return registry_->Ref(repo_tag); }
  void Seed(const std::string& repo_tag) {
    RunResult r = Plugctl({"copy", compat_, Ref(repo_tag)});
    ASSERT_TRUE(r.ok()) << r.Summary();
  }

  std::unique_ptr<RegistryServer> registry_;
  nlohmann::json demo_;
  std::string compat_;
};

}  // namespace plugctl::testing
