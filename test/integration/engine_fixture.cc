#include "engine_fixture.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/mount.h>

namespace plugctl::testing {
namespace fs = std::filesystem;
namespace {

// Debian's binaries by absolute path: this machine also has a newer docker client in
// /usr/local/bin that would come first on PATH, and the tests are about the Debian pair.
constexpr char kDockerd[] = "/usr/sbin/dockerd";
constexpr char kDocker[] = "/usr/bin/docker";
constexpr char kPodman[] = "/usr/bin/podman";

constexpr std::chrono::seconds kStartTimeout{60};

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// vfs copies layer trees with their own modes, so read-only directories are normal in a data
// root; a non-root remove_all would stop at them.
void MakeWritable(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(p, ec))) return;
  fs::permissions(p, fs::perms::owner_all, fs::perm_options::add, ec);
  for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
    MakeWritable(it->path());
  }
}

// Nothing the tests do should mount anything, but a daemon killed mid-way could leave a mount
// under its root, and remove_all must not descend into a live mount.
void UnmountUnder(const fs::path& dir) {
  std::ifstream mounts("/proc/mounts");
  std::vector<std::string> targets;
  std::string device, target, rest;
  while (mounts >> device >> target && std::getline(mounts, rest)) {
    if (target.rfind(dir.string() + "/", 0) == 0) targets.push_back(target);
  }
  // Deepest first, so nested mounts come off before their parents.
  for (auto it = targets.rbegin(); it != targets.rend(); ++it) umount2(it->c_str(), MNT_DETACH);
}

bool Alive(pid_t pid) { return pid > 0 && kill(pid, 0) == 0; }

// dockerd starts its containerd in a session of its own (so it is outside the process group
// Background signals) with a parent-death signal; this is the backstop when that did not work.
void KillStrayContainerd(const fs::path& pid_file) {
  pid_t pid = static_cast<pid_t>(std::atoi(Trim(ReadFile(pid_file)).c_str()));
  if (!Alive(pid)) return;
  std::string cmdline = ReadFile(fmt::format("/proc/{}/cmdline", pid));
  if (cmdline.find("containerd") == std::string::npos) return;  // a recycled pid: not ours
  kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (Alive(pid) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (Alive(pid)) kill(pid, SIGKILL);
}

}  // namespace

std::string EngineKindName(EngineKind kind) {
  return kind == EngineKind::kDocker ? "docker" : "podman";
}

std::unique_ptr<ContainerEngine> ContainerEngine::Start(EngineKind kind, std::string* why) {
  if (kind == EngineKind::kDocker) return DockerDaemon::Start(why);
  return Podman::Start(why);
}

ContainerEngine::~ContainerEngine() {
  if (dir_.empty()) return;
  UnmountUnder(dir_);
  MakeWritable(dir_);
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

bool ContainerEngine::MakeDir(std::string* why) {
  char templ[] = "/tmp/pd-XXXXXX";
  if (mkdtemp(templ) == nullptr) {
    *why = std::string("mkdtemp: ") + strerror(errno);
    return false;
  }
  dir_ = templ;
  return true;
}

RunResult ContainerEngine::Login(const std::string& host, const std::string& user,
                                 const std::string& password, const std::string& ca_file) const {
  std::vector<std::string> args = {"login"};
  for (std::string& flag : RegistryFlags(host, ca_file)) args.push_back(std::move(flag));
  args.insert(args.end(), {"-u", user, "--password-stdin", host});
  return Run(args, {.timeout = kCommandTimeout, .stdin_data = password + "\n"});
}

RunResult ContainerEngine::Logout(const std::string& host) const {
  return Run({"logout", host}, {.timeout = kCommandTimeout});
}

RunResult ContainerEngine::Push(const std::string& ref, const std::string& ca_file,
                                std::string* digest) const {
  std::vector<std::string> args = {"push"};
  const std::string host = ref.substr(0, ref.find('/'));
  for (std::string& flag : RegistryFlags(host, ca_file)) args.push_back(std::move(flag));
  const fs::path digest_file = dir_ / "push-digest";
  if (kind() == EngineKind::kPodman) {
    fs::remove(digest_file);
    args.insert(args.end(), {"--digestfile", digest_file.string()});
  }
  args.push_back(ref);
  RunResult r = Run(args, {.timeout = kCommandTimeout});
  digest->clear();
  if (!r.ok()) return r;
  if (kind() == EngineKind::kPodman) {
    *digest = Trim(ReadFile(digest_file));
  } else {
    // docker has no digest file; its progress output ends with "TAG: digest: sha256:… size: N".
    std::smatch m;
    static const std::regex kDigest("digest: (sha256:[0-9a-f]{64})");
    if (std::regex_search(r.out, m, kDigest)) *digest = m[1];
  }
  return r;
}

RunResult ContainerEngine::Pull(const std::string& ref, const std::string& ca_file) const {
  std::vector<std::string> args = {"pull"};
  for (std::string& flag : RegistryFlags(ref.substr(0, ref.find('/')), ca_file)) {
    args.push_back(std::move(flag));
  }
  args.push_back(ref);
  return Run(args, {.timeout = kCommandTimeout});
}

RunResult ContainerEngine::Load(const fs::path& tar, std::string* name) const {
  RunResult r = Run({"load", "-i", tar.string()}, {.timeout = kCommandTimeout});
  name->clear();
  // docker: "Loaded image: NAME"; podman: the same, or "Loaded image(s): A,B" for several.
  std::smatch m;
  static const std::regex kLoaded(R"(Loaded image(?:\(s\))?: ([^,\s]+))");
  if (r.ok() && std::regex_search(r.out, m, kLoaded)) *name = m[1];
  return r;
}

RunResult ContainerEngine::Tag(const std::string& from, const std::string& to) const {
  return Run({"tag", from, to}, {.timeout = kCommandTimeout});
}

RunResult ContainerEngine::Remove(const std::string& ref) const {
  return Run({"rmi", ref}, {.timeout = kCommandTimeout});
}

RunResult ContainerEngine::Save(const std::string& ref, const fs::path& tar) const {
  std::vector<std::string> args = {"save", "-o", tar.string()};
  // podman's default is docker-archive too, but say so: its other formats are not docker's.
  if (kind() == EngineKind::kPodman) args.insert(args.end(), {"--format", "docker-archive"});
  args.push_back(ref);
  return Run(args, {.timeout = kCommandTimeout});
}

std::string ContainerEngine::ImageId(const std::string& ref) const {
  RunResult r = Run({"image", "inspect", "--format", "{{.Id}}", ref}, {.timeout = kCommandTimeout});
  if (!r.ok()) return "";
  std::string id = Trim(r.out);
  // docker prints "sha256:HEX", podman only HEX.
  return id.rfind("sha256:", 0) == 0 ? id : "sha256:" + id;
}

std::vector<std::string> ContainerEngine::RepoDigests(const std::string& ref) const {
  RunResult r = Run({"image", "inspect", "--format", "{{json .RepoDigests}}", ref},
                    {.timeout = kCommandTimeout});
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (!r.ok() || !j.is_array()) return {};
  return j.get<std::vector<std::string>>();
}

std::unique_ptr<DockerDaemon> DockerDaemon::Start(std::string* why) {
  if (!fs::exists(kDockerd) || !fs::exists(kDocker)) {
    *why = "docker.io not installed (run scripts/setup.sh)";
    return nullptr;
  }
  if (geteuid() != 0) {
    *why = "dockerd needs root (rootless docker needs rootlesskit, not in Debian's docker.io)";
    return nullptr;
  }
  std::unique_ptr<DockerDaemon> docker(new DockerDaemon());
  if (!docker->MakeDir(why)) return nullptr;
  const fs::path& d = docker->dir_;
  fs::create_directories(d / "config");
  // An explicit config file so a machine's /etc/docker/daemon.json is never read. The trust key
  // is a daemon.json setting only (no such flag): without it dockerd 20.10 writes
  // /etc/docker/key.json.
  std::ofstream(d / "daemon.json")
      << nlohmann::json{{"deprecated-key-path", (d / "key.json").string()}}.dump() << "\n";
  docker->daemon_ = std::make_unique<Background>(
      std::vector<std::string>{
          kDockerd, "--config-file", (d / "daemon.json").string(), "--data-root",
          (d / "root").string(), "--exec-root", (d / "exec").string(), "-H",
          "unix://" + (d / "docker.sock").string(), "--pidfile", (d / "docker.pid").string(),
          "--iptables=false", "--ip-forward=false", "--bridge=none", "--storage-driver", "vfs"},
      (d / "dockerd.log").string());
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  RunResult version;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!docker->daemon_->running()) {
      *why = "dockerd exited: " + docker->Log();
      return nullptr;
    }
    version = docker->Run({"version", "--format", "{{.Server.Version}}"},
                          {.timeout = std::chrono::seconds(10)});
    if (version.ok()) return docker;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  *why = "dockerd did not answer `docker version` within 60 s: " + version.Summary() + "\n" +
         docker->Log();
  return nullptr;
}

DockerDaemon::~DockerDaemon() { Stop(); }

void DockerDaemon::Stop() {
  if (!daemon_) return;
  // Background's destructor: SIGTERM to the process group, up to 5 s, then SIGKILL. dockerd
  // needs 1-4 s to stop its containerd.
  daemon_.reset();
  KillStrayContainerd(dir_ / "exec" / "containerd" / "containerd.pid");
}

std::string DockerDaemon::Log() const {
  std::string log = ReadFile(dir_ / "dockerd.log");
  return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
}

RunResult DockerDaemon::Run(std::vector<std::string> args, RunOptions options) const {
  args.insert(args.begin(), {kDocker, "-H", "unix://" + (dir_ / "docker.sock").string()});
  // The client keeps its credentials in DOCKER_CONFIG: never ~/.docker.
  options.env["DOCKER_CONFIG"] = (dir_ / "config").string();
  options.env["HOME"] = dir_.string();
  return RunProcess(args, options);
}

std::vector<std::string> DockerDaemon::RegistryFlags(const std::string& /*host*/,
                                                     const std::string& /*ca_file*/) const {
  // The daemon, not the client, talks to registries, and it always treats 127.0.0.0/8 as
  // insecure: HTTPS without certificate verification, falling back to plain HTTP. The CA would
  // go to /etc/docker/certs.d/HOST/ca.crt, which a root dockerd cannot be pointed elsewhere
  // from; on loopback it would not be checked anyway.
  return {};
}

std::unique_ptr<Podman> Podman::Start(std::string* why) {
  if (!fs::exists(kPodman)) {
    *why = "podman not installed (run scripts/setup.sh)";
    return nullptr;
  }
  std::unique_ptr<Podman> podman(new Podman());
  if (!podman->MakeDir(why)) return nullptr;
  const fs::path& d = podman->dir_;
  for (const char* sub : {"tmp", "run", "xdg", "home", "certs"}) fs::create_directories(d / sub);
  fs::permissions(d / "xdg", fs::perms::owner_all, fs::perm_options::replace);
  // podman 4.3 refuses to push or pull ("stat …/auth.json: no such file or directory") when
  // REGISTRY_AUTH_FILE names a file that does not exist yet.
  std::ofstream(podman->auth_file()) << "{}\n";
  RunResult info =
      podman->Run({"info", "--format", "{{.Store.GraphDriverName}}"}, {.timeout = kStartTimeout});
  if (!info.ok() || Trim(info.out) != "vfs") {
    *why = "podman info: " + info.Summary();
    return nullptr;
  }
  return podman;
}

RunResult Podman::Run(std::vector<std::string> args, RunOptions options) const {
  const fs::path& d = dir_;
  args.insert(args.begin(),
              {kPodman, "--root", (d / "root").string(), "--runroot", (d / "run").string(),
               "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend",
               "file", "--tmpdir", (d / "tmp").string()});
  options.env["REGISTRY_AUTH_FILE"] = auth_file().string();
  options.env["XDG_RUNTIME_DIR"] = (d / "xdg").string();
  options.env["XDG_CONFIG_HOME"] = (d / "home" / ".config").string();
  options.env["XDG_DATA_HOME"] = (d / "home" / ".local" / "share").string();
  options.env["HOME"] = (d / "home").string();
  // Image copies stage blobs in TMPDIR (default /var/tmp).
  options.env["TMPDIR"] = (d / "tmp").string();
  return RunProcess(args, options);
}

std::vector<std::string> Podman::RegistryFlags(const std::string& host,
                                               const std::string& ca_file) const {
  // Unlike dockerd, podman verifies TLS on loopback too: plain HTTP needs --tls-verify=false,
  // TLS needs the CA in a certs.d-style directory of its own (*.crt files).
  if (ca_file.empty()) return {"--tls-verify=false"};
  const fs::path certs = dir_ / "certs" / host;
  std::error_code ec;
  fs::create_directories(certs, ec);
  fs::copy_file(ca_file, certs / "ca.crt", fs::copy_options::overwrite_existing, ec);
  return {"--cert-dir", certs.string()};
}

std::unique_ptr<ContainerEngine> StartEngineOrSkip(EngineKind kind) {
  std::string why;
  std::unique_ptr<ContainerEngine> engine = ContainerEngine::Start(kind, &why);
  if (!engine) [&] { GTEST_SKIP() << EngineKindName(kind) << ": " << why; }();
  return engine;
}

std::string RegistryKindName(RegistryKind kind) {
  switch (kind) {
    case RegistryKind::kDockerRegistry:
      return "DockerRegistry";
    case RegistryKind::kPlugctlServe:
      return "PlugctlServe";
  }
  return "Unknown";
}

std::unique_ptr<EngineRegistry> EngineRegistry::Start(RegistryKind kind, const fs::path& dir,
                                                      const RegistryConfig& config,
                                                      std::string* why) {
  std::unique_ptr<EngineRegistry> registry(new EngineRegistry());
  registry->config_ = config;
  registry->config_.kind = kind;
  registry->server_ = RegistryServer::Start(dir, registry->config_, why);
  if (!registry->server_) return nullptr;
  registry->host_ = registry->server_->host();
  registry->ca_file_ = registry->server_->ca_file();
  return registry;
}

std::unique_ptr<EngineRegistry> StartEngineRegistryOrSkip(RegistryKind kind, const fs::path& dir,
                                                          const RegistryConfig& config) {
  std::string why;
  std::unique_ptr<EngineRegistry> registry = EngineRegistry::Start(kind, dir, config, &why);
  if (!registry) [&] { GTEST_SKIP() << RegistryKindName(kind) << ": " << why; }();
  return registry;
}

}  // namespace plugctl::testing
