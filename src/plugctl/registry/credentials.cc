#include "plugctl/registry/credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>

#include <sys/stat.h>
#include <sys/wait.h>

#include "plugctl/base/file.h"
#include "plugctl/oci/json.h"

namespace plugctl::registry {
namespace {

constexpr size_t kMaxConfigBytes = 4 << 20;
constexpr std::string_view kDockerHubKey = "https://index.docker.io/v1/";

// Strips scheme and path so "https://reg:5000/v1/" and "reg:5000" match.
std::string NormalizeKey(std::string_view key) {
  if (key == kDockerHubKey) return std::string(key);
  size_t scheme = key.find("://");
  if (scheme != std::string_view::npos) key.remove_prefix(scheme + 3);
  size_t slash = key.find('/');
  if (slash != std::string_view::npos) key = key.substr(0, slash);
  std::string out(key);
  if (out == "index.docker.io" || out == "docker.io" || out == "registry-1.docker.io") {
    return std::string(kDockerHubKey);
  }
  return out;
}

Result<std::string> StringField(const nlohmann::json& object, const char* name,
                                const std::string& where) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    return MakeError(ErrorCode::kInvalidArgument, "{}.{} must be a string", where, name);
  }
  return it->get<std::string>();
}

}  // namespace

std::string Base64Encode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8) |
                 static_cast<uint8_t>(data[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == data.size()) {
    uint32_t v = static_cast<uint8_t>(data[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    uint32_t v = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view data) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : data) {
    if (c == '=' || c == '\n' || c == '\r') continue;
    int v = value(c);
    if (v < 0) return MakeError(ErrorCode::kInvalidArgument, "invalid base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::filesystem::path DockerConfig::DefaultPath(const Environment& env) {
  if (std::string dir = env.Get("DOCKER_CONFIG"); !dir.empty()) {
    return std::filesystem::path(dir) / "config.json";
  }
  std::string home = env.Get("HOME");
  return std::filesystem::path(home.empty() ? "." : home) / ".docker" / "config.json";
}

Result<DockerConfig> DockerConfig::Load(const std::filesystem::path& path) {
  DockerConfig config;
  config.path_ = path;
  auto text = ReadFileBounded(path, kMaxConfigBytes);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) return config;
    return tl::unexpected(text.error());
  }
  PLUGCTL_ASSIGN_OR_RETURN(nlohmann::json json, oci::ParseJson(*text, path.string()));
  if (!json.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: not a JSON object", path.string());
  }
  for (const char* field : {"auths", "credHelpers"}) {
    if (json.contains(field) && !json[field].is_object()) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: {} must be an object", path.string(),
                       field);
    }
  }
  if (json.contains("credsStore") && !json["credsStore"].is_string()) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: credsStore must be a string", path.string());
  }
  config.json_ = std::move(json);
  return config;
}

std::string DockerConfig::HelperFor(std::string_view key) const {
  if (auto helpers = json_.find("credHelpers"); helpers != json_.end()) {
    for (const auto& [host, helper] : helpers->items()) {
      if (NormalizeKey(host) == key && helper.is_string()) return helper.get<std::string>();
    }
  }
  if (auto store = json_.find("credsStore"); store != json_.end() && store->is_string()) {
    return store->get<std::string>();
  }
  return "";
}

Result<Credential> DockerConfig::Get(std::string_view registry_host) const {
  const std::string key = NormalizeKey(registry_host);
  if (std::string helper = HelperFor(key); !helper.empty()) {
    auto out = RunCredentialHelper(helper, "get", key);
    if (!out) {
      // docker-credential helpers answer "credentials not found in native keychain".
      if (out.error().message().find("not found") != std::string::npos) return Credential{};
      return tl::unexpected(out.error());
    }
    auto json = oci::ParseJson(*out, helper).value_or(nlohmann::json());
    if (!json.is_object()) {
      return MakeError(ErrorCode::kUnavailable, "credential helper {} returned invalid JSON",
                       helper);
    }
    PLUGCTL_ASSIGN_OR_RETURN(std::string user, StringField(json, "Username", "helper output"));
    PLUGCTL_ASSIGN_OR_RETURN(std::string secret, StringField(json, "Secret", "helper output"));
    Credential cred;
    if (user == "<token>") {
      cred.identity_token = secret;
    } else {
      cred.username = user;
      cred.password = secret;
    }
    return cred;
  }
  auto auths = json_.find("auths");
  if (auths == json_.end()) return Credential{};
  for (const auto& [host, entry] : auths->items()) {
    if (NormalizeKey(host) != key) continue;
    std::string where = fmt::format("{}: auths[\"{}\"]", path_.string(), host);
    if (!entry.is_object()) {
      return MakeError(ErrorCode::kInvalidArgument, "{} must be an object", where);
    }
    Credential cred;
    PLUGCTL_ASSIGN_OR_RETURN(std::string auth, StringField(entry, "auth", where));
    if (!auth.empty()) {
      auto decoded = Base64Decode(auth);
      size_t colon = decoded ? decoded->find(':') : std::string::npos;
      if (colon == std::string::npos) {
        return MakeError(ErrorCode::kInvalidArgument, "{}.auth is not base64 of user:password",
                         where);
      }
      cred.username = decoded->substr(0, colon);
      cred.password = decoded->substr(colon + 1);
    }
    PLUGCTL_ASSIGN_OR_RETURN(std::string user, StringField(entry, "username", where));
    PLUGCTL_ASSIGN_OR_RETURN(std::string pass, StringField(entry, "password", where));
    if (!user.empty()) cred.username = user;
    if (!pass.empty()) cred.password = pass;
    PLUGCTL_ASSIGN_OR_RETURN(cred.identity_token, StringField(entry, "identitytoken", where));
    PLUGCTL_ASSIGN_OR_RETURN(cred.registry_token, StringField(entry, "registrytoken", where));
    return cred;
  }
  return Credential{};
}

Status DockerConfig::Store(std::string_view registry_host, const Credential& credential) {
  const std::string key = NormalizeKey(registry_host);
  if (std::string helper = HelperFor(key); !helper.empty()) {
    nlohmann::json input = {
        {"ServerURL", key},
        {"Username", credential.identity_token.empty() ? credential.username : "<token>"},
        {"Secret",
         credential.identity_token.empty() ? credential.password : credential.identity_token}};
    PLUGCTL_RETURN_IF_ERROR(RunCredentialHelper(helper, "store", input.dump()));
    // docker records the host with an empty entry so `docker login` lists it.
    json_["auths"][key] = nlohmann::json::object();
    return Save();
  }
  nlohmann::json entry = nlohmann::json::object();
  if (!credential.username.empty() || !credential.password.empty()) {
    entry["auth"] = Base64Encode(credential.username + ":" + credential.password);
  }
  if (!credential.identity_token.empty()) entry["identitytoken"] = credential.identity_token;
  if (!json_.contains("auths")) json_["auths"] = nlohmann::json::object();
  // Replace any entry spelled differently for the same host.
  for (auto it = json_["auths"].begin(); it != json_["auths"].end();) {
    it = NormalizeKey(it.key()) == key ? json_["auths"].erase(it) : std::next(it);
  }
  json_["auths"][key] = entry;
  return Save();
}

Status DockerConfig::Erase(std::string_view registry_host) {
  const std::string key = NormalizeKey(registry_host);
  bool found = false;
  if (std::string helper = HelperFor(key); !helper.empty()) {
    found = RunCredentialHelper(helper, "erase", key).has_value();
  }
  if (json_.contains("auths")) {
    for (auto it = json_["auths"].begin(); it != json_["auths"].end();) {
      if (NormalizeKey(it.key()) == key) {
        it = json_["auths"].erase(it);
        found = true;
      } else {
        ++it;
      }
    }
  }
  if (!found) return MakeError(ErrorCode::kNotFound, "not logged in to {}", registry_host);
  return Save();
}

Status DockerConfig::Save() const {
  PLUGCTL_RETURN_IF_ERROR(CreateDirectories(path_.parent_path()));
  PLUGCTL_ASSIGN_OR_RETURN(auto out, AtomicFileWriter::Create(path_));
  ::chmod(out->temp_path().c_str(), 0600);
  PLUGCTL_RETURN_IF_ERROR(out->Write(json_.dump(1, '\t') + "\n"));
  return out->Commit();
}

Result<std::string> RunCredentialHelper(std::string_view helper, std::string_view action,
                                        std::string_view input) {
  for (char c : helper) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return MakeError(ErrorCode::kInvalidArgument, "invalid credential helper name \"{}\"",
                       helper);
    }
  }
  std::string program = "docker-credential-" + std::string(helper);
  std::string act(action);
  int in_pipe[2], out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return MakeError(ErrorCode::kInternal, "pipe failed");
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    close(in_pipe[0]);
    close(in_pipe[1]);
    return MakeError(ErrorCode::kInternal, "pipe failed");
  }
  pid_t pid = fork();
  if (pid < 0) return MakeError(ErrorCode::kInternal, "fork failed");
  if (pid == 0) {
    sigset_t none;  // the CLI blocks SIGINT/SIGTERM for its cleanup thread; helpers get them
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(out_pipe[1], 2);
    char* argv[] = {program.data(), act.data(), nullptr};
    execvp(argv[0], argv);
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  signal(SIGPIPE, SIG_IGN);
  std::string in(input);
  ssize_t ignored = write(in_pipe[1], in.data(), in.size());
  (void)ignored;
  close(in_pipe[1]);
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  char buf[4096];
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{out_pipe[0], POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t n = read(out_pipe[0], buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1 << 20)) {
      timed_out = true;
      break;
    }
  }
  close(out_pipe[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  if (timed_out) return MakeError(ErrorCode::kUnavailable, "{} {} did not finish", program, act);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
      return MakeError(ErrorCode::kUnavailable, "credential helper {} is missing from PATH",
                       program);
    }
    return MakeError(ErrorCode::kUnavailable, "{} {}: {}", program, act, out.substr(0, 500));
  }
  return out;
}

}  // namespace plugctl::registry
