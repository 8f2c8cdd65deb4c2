// test/integration/engine_fixture.h — real container engines as test peers: a private Docker
// daemon (Debian's docker.io) and podman, each confined to its own short directory under /tmp so
// nothing of the machine's own engine state (or ~/.docker, /var/lib/docker) is read or written,
// plus the registry they talk to, chosen by kind (Debian's docker-registry today; `plugctl serve`
// is meant to join as another kind).
//
// Images reach an engine without network through archives: plugctl writes a docker-archive and
// the engine `load`s it.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "registry_fixture.h"
#include "subprocess.h"

namespace plugctl::testing {

enum class EngineKind { kDocker, kPodman };
std::string EngineKindName(EngineKind kind);
// For GoogleTest's parameter printing (ctest names would otherwise show raw bytes).
inline void PrintTo(EngineKind kind, std::ostream* os) { *os << EngineKindName(kind); }

// A container engine client bound to a private state directory. The destructor stops whatever
// the engine runs and removes the directory, so a failing test leaves nothing behind.
class ContainerEngine {
 public:
  static constexpr std::chrono::seconds kCommandTimeout{60};

  // Starts the engine (for docker: the daemon, waiting until it answers) or returns null with the
  // reason in *why.
  static std::unique_ptr<ContainerEngine> Start(EngineKind kind, std::string* why);
  virtual ~ContainerEngine();
  ContainerEngine(const ContainerEngine&) = delete;
  ContainerEngine& operator=(const ContainerEngine&) = delete;

  virtual EngineKind kind() const = 0;
  std::string name() const { return EngineKindName(kind()); }
  const std::filesystem::path& dir() const { return dir_; }
  // The credentials file `login` writes (docker's config.json, podman's auth.json).
  virtual std::filesystem::path auth_file() const = 0;

  // Runs the engine's client with ARGS after the flags that confine it to dir().
  virtual RunResult Run(std::vector<std::string> args, RunOptions options = {}) const = 0;

  // Registry commands against `host` ("127.0.0.1:PORT"): `ca_file` is the registry's CA ("" for
  // plain HTTP). Each engine turns that into what it needs (see the .cc for the differences).
  RunResult Login(const std::string& host, const std::string& user, const std::string& password,
                  const std::string& ca_file) const;
  RunResult Logout(const std::string& host) const;
  // On success *digest is the manifest digest the registry now holds ("sha256:…").
  RunResult Push(const std::string& ref, const std::string& ca_file, std::string* digest) const;
  RunResult Pull(const std::string& ref, const std::string& ca_file) const;

  // `load -i TAR`; on success *name is the (first) image name the engine reports loading.
  RunResult Load(const std::filesystem::path& tar, std::string* name) const;
  RunResult Tag(const std::string& from, const std::string& to) const;
  RunResult Remove(const std::string& ref) const;
  // `save -o TAR REF` as a docker-archive.
  RunResult Save(const std::string& ref, const std::filesystem::path& tar) const;
  // "sha256:…" of the image config (what docker calls the image ID), "" if unknown.
  std::string ImageId(const std::string& ref) const;
  // "REPO@sha256:…" entries the engine records for the image.
  std::vector<std::string> RepoDigests(const std::string& ref) const;

 protected:
  ContainerEngine() = default;
  // A fresh /tmp/pd-XXXXXX: short, because unix socket paths under it are limited to 108 bytes.
  bool MakeDir(std::string* why);
  virtual std::vector<std::string> RegistryFlags(const std::string& host,
                                                 const std::string& ca_file) const = 0;

  std::filesystem::path dir_;
};

// dockerd with its own data root, exec root, socket and pid file; no networking of its own
// (no bridge, no iptables), storage driver vfs (works on any filesystem, needs no mounts).
class DockerDaemon : public ContainerEngine {
 public:
  static std::unique_ptr<DockerDaemon> Start(std::string* why);
  ~DockerDaemon() override;

  EngineKind kind() const override { return EngineKind::kDocker; }
  std::filesystem::path auth_file() const override { return dir_ / "config" / "config.json"; }
  RunResult Run(std::vector<std::string> args, RunOptions options = {}) const override;
  // SIGTERM, then SIGKILL after a bounded wait; idempotent.
  void Stop();
  // The daemon's own log (for assertion messages).
  std::string Log() const;

 private:
  DockerDaemon() = default;
  std::vector<std::string> RegistryFlags(const std::string& host,
                                         const std::string& ca_file) const override;
  std::unique_ptr<Background> daemon_;
};

// podman is daemonless: every command is a fresh process with the same confining flags.
class Podman : public ContainerEngine {
 public:
  static std::unique_ptr<Podman> Start(std::string* why);
  ~Podman() override = default;

  EngineKind kind() const override { return EngineKind::kPodman; }
  std::filesystem::path auth_file() const override { return dir_ / "auth.json"; }
  RunResult Run(std::vector<std::string> args, RunOptions options = {}) const override;

 private:
  Podman() = default;
  std::vector<std::string> RegistryFlags(const std::string& host,
                                         const std::string& ca_file) const override;
};

// For a test body: starts the engine or marks the test skipped (saying why) and returns null.
std::unique_ptr<ContainerEngine> StartEngineOrSkip(EngineKind kind);

// The name of a registry kind (registry_fixture.h) in test names.
std::string RegistryKindName(RegistryKind kind);
inline void PrintTo(RegistryKind kind, std::ostream* os) { *os << RegistryKindName(kind); }

// The registry under test, whatever its kind: the one place engine tests learn where to push.
class EngineRegistry {
 public:
  // Starts a registry of `kind` under `dir` (plain HTTP, or htpasswd over TLS as `config` says),
  // or returns null with the reason in *why.
  static std::unique_ptr<EngineRegistry> Start(RegistryKind kind, const std::filesystem::path& dir,
                                               const RegistryConfig& config, std::string* why);

  // "127.0.0.1:PORT"
  const std::string& host() const { return host_; }
  std::string Ref(const std::string& repo_tag) const { return host_ + "/" + repo_tag; }
  // The CA to trust ("" for plain HTTP).
  const std::string& ca_file() const { return ca_file_; }
  const RegistryConfig& config() const { return config_; }

 private:
  EngineRegistry() = default;
  std::string host_;
  std::string ca_file_;
  RegistryConfig config_;
  std::unique_ptr<RegistryServer> server_;
};

std::unique_ptr<EngineRegistry> StartEngineRegistryOrSkip(RegistryKind kind,
                                                          const std::filesystem::path& dir,
                                                          const RegistryConfig& config = {});

}  // namespace plugctl::testing
