#include "registry_fixture.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

namespace plugctl::testing {

std::unique_ptr<RegistryServer> RegistryServer::Start(const std::filesystem::path& dir,
                                                      const RegistryConfig& config,
                                                      std::string* why) {
  RegistryKind kind = config.kind.value_or(DefaultRegistryKind());
  if (kind == RegistryKind::kDockerRegistry && !HaveProgram("docker-registry")) {
    *why = "docker-registry not installed (run scripts/setup.sh)";
    return nullptr;
  }
  std::unique_ptr<RegistryServer> server(new RegistryServer());
  server->config_ = config;
  server->kind_ = kind;
  std::filesystem::create_directories(dir);
  server->storage_ = dir / "storage";
  int port = FreePort();
  server->port_ = port;
  server->host_ = fmt::format("127.0.0.1:{}", port);
  // plugctl serve's command line, completed below as TLS and auth are set up.
  std::vector<std::string> serve = {PlugctlBinary(), "serve", server->storage_.string(), "--listen",
                                    server->host_};
  if (config.read_only) serve.push_back("--read-only");
  if (config.anonymous_read) serve.push_back("--anonymous-read");
  if (!config.access_yaml.empty()) {
    std::ofstream(dir / "access.yaml") << config.access_yaml;
    serve.insert(serve.end(), {"--access-file", (dir / "access.yaml").string()});
  }
  serve.insert(serve.end(), config.extra_args.begin(), config.extra_args.end());

  std::string yaml = fmt::format(
      "version: 0.1\n"
      "log:\n  level: error\n  accesslog:\n    disabled: true\n"
      "storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n"
      "  maintenance:\n    uploadpurging:\n      enabled: false\n"
      "http:\n  addr: 127.0.0.1:{}\n  secret: plugctl-test-secret\n",
      server->storage_.string(), port);
  if (config.tls) {
    std::string key = (dir / "key.pem").string();
    server->ca_file_ = (dir / "cert.pem").string();
    RunResult cert =
        RunProcess({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", server->ca_file_, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost"},
                   {.timeout = std::chrono::seconds(60)});
    if (!cert.ok()) {
      *why = "openssl: " + cert.Summary();
      return nullptr;
    }
    yaml += fmt::format("  tls:\n    certificate: {}\n    key: {}\n", server->ca_file_, key);
    serve.insert(serve.end(), {"--tls-cert", server->ca_file_, "--tls-key", key});
    if (config.client_certs) {
      // Clients must present a certificate signed by the server's own (self-signed) CA.
      server->client_key_ = (dir / "client-key.pem").string();
      server->client_cert_ = (dir / "client-cert.pem").string();
      const std::string csr = (dir / "client.csr").string();
      RunResult req =
          RunProcess({"openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout",
                      server->client_key_, "-out", csr, "-subj", "/CN=plugctl-client"},
                     {.timeout = std::chrono::seconds(60)});
      RunResult sign = req.ok() ? RunProcess({"openssl", "x509", "-req", "-in", csr, "-CA",
                                              server->ca_file_, "-CAkey", key, "-CAcreateserial",
                                              "-out", server->client_cert_, "-days", "2"},
                                             {.timeout = std::chrono::seconds(60)})
                                : req;
      if (!sign.ok()) {
        *why = "openssl (client certificate): " + sign.Summary();
        return nullptr;
      }
      yaml += fmt::format("    clientcas:\n      - {}\n", server->ca_file_);
      serve.insert(serve.end(), {"--tls-client-ca", server->ca_file_});
    }
  }
  if (config.htpasswd) {
    RunResult hash = RunProcess({"htpasswd", "-Bbn", config.user, config.password},
                                {.timeout = std::chrono::seconds(30)});
    if (!hash.ok()) {
      *why = "htpasswd: " + hash.Summary();
      return nullptr;
    }
    std::ofstream(dir / "htpasswd") << hash.out;
    yaml += fmt::format("auth:\n  htpasswd:\n    realm: plugctl-test\n    path: {}\n",
                        (dir / "htpasswd").string());
    serve.insert(serve.end(), {"--htpasswd", (dir / "htpasswd").string()});
  }
  std::ofstream(dir / "config.yml") << yaml;
  server->argv_ =
      kind == RegistryKind::kPlugctlServe
          ? serve
          : std::vector<std::string>{"docker-registry", "serve", (dir / "config.yml").string()};
  server->log_path_ = dir / "registry.log";
  if (!server->Restart(why)) return nullptr;
  return server;
}

RegistryKind DefaultRegistryKind() {
  const char* kind = std::getenv("PLUGCTL_TEST_REGISTRY");
  return kind != nullptr && std::string_view(kind) == "serve" ? RegistryKind::kPlugctlServe
                                                              : RegistryKind::kDockerRegistry;
}

RegistryServer::~RegistryServer() {
  if (!::testing::Test::HasFailure() || log_path_.empty()) return;
  std::ifstream log(log_path_);
  std::string text(std::istreambuf_iterator<char>(log), {});
  // A sanitizer's report is what explains a dead server: print it from its start.
  size_t report = std::string::npos;
  for (const char* marker :
       {"WARNING: ThreadSanitizer", "ERROR: AddressSanitizer", "runtime error:"}) {
    report = std::min(report, text.find(marker));
  }
  constexpr size_t kTail = 6000;
  if (report != std::string::npos) {
    text = "..." + text.substr(report, 40000);
  } else if (text.size() > kTail) {
    text = "..." + text.substr(text.size() - kTail);
  }
  std::cerr << "--- " << log_path_.string() << " (pid " << pid() << (process_ ? "" : ", stopped")
            << ") ---\n"
            << text << "\n--- end of log ---\n";
}

void RegistryServer::Kill() {
  if (process_ && process_->pid() > 0) ::kill(-process_->pid(), SIGKILL);
  process_.reset();
}

bool RegistryServer::Restart(std::string* why) {
  process_.reset();
  process_ = std::make_unique<Background>(argv_, log_path_.string());
  if (!WaitForPort(port_, std::chrono::seconds(20))) {
    std::ifstream log(log_path_);
    *why = fmt::format("{} did not start: {}",
                       argv_[0] == "docker-registry" ? argv_[0] : "plugctl serve",
                       std::string(std::istreambuf_iterator<char>(log), {}));
    return false;
  }
  return true;
}

std::unique_ptr<RegistryServer> StartRegistryOrSkip(const std::filesystem::path& dir,
                                                    const RegistryConfig& config) {
  std::string why;
  std::unique_ptr<RegistryServer> server = RegistryServer::Start(dir, config, &why);
  if (!server) [&] { GTEST_SKIP() << why; }();
  return server;
}

}  // namespace plugctl::testing
