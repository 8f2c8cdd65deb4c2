#include "plugctl/cli/registry_env.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <iterator>
#include <mutex>

namespace plugctl::cli {

registry::SessionOptions TargetEnv::SessionOptionsFor(const GlobalOptions& globals) {
  registry::SessionOptions options;
  options.plain_http = globals.plain_http;
  options.client.insecure_skip_verify = globals.insecure;
  options.client.ca_file = globals.ca_file;
  options.client.client_cert_file = globals.cert_file;
  options.client.client_key_file = globals.key_file;
  options.client.user_agent = std::string("plugctl/") + PLUGCTL_VERSION;
  options.client.proxy = http::ProxyOptions::FromEnvironment(globals.env);
  options.client.low_speed_limit = globals.low_speed_limit;
  options.client.low_speed_time = std::chrono::seconds(globals.low_speed_time);
  options.client.request_timeout = std::chrono::seconds(globals.request_timeout);
  options.environment = globals.env;
  if (globals.debug) {
    options.client.debug = [](std::string_view line) {
      static std::mutex mu;
      std::lock_guard lock(mu);
      Print(std::cerr, "debug: {}\n", line);
    };
  }
  std::filesystem::path path = globals.registry_config.empty()
                                   ? registry::DockerConfig::DefaultPath(globals.env)
                                   : std::filesystem::path(globals.registry_config);
  options.credentials = [path](std::string_view host) -> Result<registry::Credential> {
    PLUGCTL_ASSIGN_OR_RETURN(registry::DockerConfig config, registry::DockerConfig::Load(path));
    return config.Get(host);
  };
  return options;
}

TargetEnv::TargetEnv(const GlobalOptions& globals) : pool_(SessionOptionsFor(globals)) {
  open_.sessions = &pool_;
  open_.repository.chunk_size = globals.chunk_size;
}

namespace {

registry::SessionOptions SideSessionOptions(const SideConfig& config) {
  registry::SessionOptions options = TargetEnv::SessionOptionsFor(config.globals);
  if (config.creds) {
    options.credentials =
        [creds = *config.creds](std::string_view) -> Result<registry::Credential> { return creds; };
  }
  return options;
}

}  // namespace

TargetEnv::TargetEnv(const SideConfig& config) : pool_(SideSessionOptions(config)) {
  open_.sessions = &pool_;
  open_.repository.chunk_size = config.globals.chunk_size;
}

void AddSideOptions(CLI::App& app, SideOptions& side, const std::string& name) {
  const std::string which = name == "src" ? "the source" : "the destination";
  app.add_flag("--" + name + "-plain-http", side.plain_http,
               "Talk plain HTTP to " + which + " registry");
  app.add_flag("--" + name + "-insecure", side.insecure,
               "Do not verify " + which + " registry's TLS certificate");
  app.add_option("--" + name + "-tls-verify", side.tls_verify,
                 "skopeo's spelling: --" + name + "-tls-verify=false is --" + name + "-insecure")
      ->type_name("BOOL");
  app.add_option("--" + name + "-ca-file", side.ca_file,
                 "PEM bundle of CAs to trust for " + which + " registry")
      ->check(CLI::ExistingFile);
  app.add_option("--" + name + "-creds", side.creds,
                 "USER:PASS for " + which +
                     " registry (wins over the credentials file); USER alone asks for the "
                     "password on the terminal, or reads it with --" +
                     name + "-password-stdin")
      ->type_name("USER[:PASS]");
  app.add_flag("--" + name + "-password-stdin", side.password_stdin,
               "Read the password of --" + name + "-creds USER from standard input");
  app.add_option("--" + name + "-registry-config", side.registry_config,
                 "Credentials file (docker config.json) for " + which)
      ->check(CLI::ExistingFile);
}

std::string PromptLine(const std::string& prompt, bool echo) {
  termios old{};
  const bool tty = ::isatty(STDIN_FILENO) == 1 && ::tcgetattr(STDIN_FILENO, &old) == 0;
  // Echo goes off before the prompt shows: whatever is typed once it is visible stays hidden.
  if (tty && !echo) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::cerr << prompt << std::flush;
  std::string line;
  std::getline(std::cin, line);
  if (tty && !echo) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << '\n';
  }
  return line;
}

Result<std::string> ReadPasswordFromStdin() {
  std::string all;
  char buf[4096];
  while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
    all.append(buf, static_cast<size_t>(std::cin.gcount()));
    if (all.size() > kMaxPasswordBytes) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "standard input holds more than {} bytes; expected one password",
                       kMaxPasswordBytes);
    }
  }
  while (!all.empty() && (all.back() == '\n' || all.back() == '\r')) all.pop_back();
  return all;
}

PasswordInput PasswordInput::Process() {
  PasswordInput input;
  input.read_stdin = [] { return ReadPasswordFromStdin(); };
  if (::isatty(STDIN_FILENO) == 1) {
    input.prompt = [](const std::string& text) { return PromptLine(text, false); };
  }
  return input;
}

namespace {

// The credential of `--NAME-creds` (USER:PASS, or USER with the password from `input`).
// Messages name the option, never the value: it may hold a password.
Result<registry::Credential> SideCredential(const SideOptions& side, const std::string& name,
                                            const PasswordInput& input) {
  const size_t colon = side.creds.find(':');
  registry::Credential creds;
  if (colon != std::string::npos) {
    if (side.password_stdin) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "--{0}-password-stdin reads the password of --{0}-creds USER; this "
                       "--{0}-creds already has one (USER:PASS)",
                       name);
    }
    if (colon == 0 || colon + 1 == side.creds.size()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "--{}-creds wants USER:PASS (a user name and a password, both non-empty) "
                       "or USER alone",
                       name);
    }
    creds.username = side.creds.substr(0, colon);
    creds.password = side.creds.substr(colon + 1);
    return creds;
  }
  creds.username = side.creds;
  const std::string which = name == "src" ? "source" : "destination";
  if (side.password_stdin) {
    if (!input.read_stdin) {
      return MakeError(ErrorCode::kInternal, "no standard input to read the password from");
    }
    PLUGCTL_ASSIGN_OR_RETURN(creds.password, input.read_stdin());
    if (creds.password.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "--{}-password-stdin: standard input holds no password", name);
    }
    return creds;
  }
  if (!input.prompt) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--{0}-creds names a user without a password and standard input is not a "
                     "terminal to ask on; pipe the password in with --{0}-password-stdin",
                     name);
  }
  creds.password =
      input.prompt(fmt::format("Password for {} ({} registry): ", creds.username, which));
  if (creds.password.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "--{}-creds: no password given", name);
  }
  return creds;
}

}  // namespace

Result<SideConfig> ApplySideOptions(const GlobalOptions& globals, const SideOptions& side,
                                    const std::string& name, const PasswordInput& input) {
  SideConfig config{globals, std::nullopt};
  GlobalOptions& g = config.globals;
  if (side.plain_http) g.plain_http = true;
  if (side.insecure && side.tls_verify.value_or(false)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--{0}-insecure contradicts --{0}-tls-verify=true; give one of them", name);
  }
  if (side.insecure) g.insecure = true;
  if (side.tls_verify) g.insecure = !*side.tls_verify;
  if (!side.ca_file.empty()) g.ca_file = side.ca_file;
  if (!side.registry_config.empty()) g.registry_config = side.registry_config;
  if (side.password_stdin && side.creds.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--{0}-password-stdin reads the password of --{0}-creds USER; give "
                     "--{0}-creds too",
                     name);
  }
  if (!side.creds.empty()) {
    PLUGCTL_ASSIGN_OR_RETURN(config.creds, SideCredential(side, name, input));
  }
  return config;
}

Result<std::unique_ptr<store::Target>> TargetEnv::Open(const transfer::Location& location,
                                                       transfer::AccessMode mode) {
  auto target = transfer::OpenLocation(location, mode, open_);
  if (!target) return tl::unexpected(target.error().WithContext(location.ToString()));
  return target;
}

Result<SideEnvs> SideEnvs::Make(const GlobalOptions& globals, const SideOptions& src,
                                const SideOptions& dest) {
  if (src.password_stdin && dest.password_stdin) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--src-password-stdin and --dest-password-stdin cannot both read standard "
                     "input (it is one stream); give the other side's password on the terminal "
                     "(--*-creds USER), as USER:PASS or in its --*-registry-config");
  }
  PLUGCTL_ASSIGN_OR_RETURN(SideConfig src_config, ApplySideOptions(globals, src, "src"));
  PLUGCTL_ASSIGN_OR_RETURN(SideConfig dest_config, ApplySideOptions(globals, dest, "dest"));
  SideEnvs envs;
  envs.source_ = std::make_unique<TargetEnv>(src_config);
  if (!src.empty() || !dest.empty()) envs.destination_ = std::make_unique<TargetEnv>(dest_config);
  return envs;
}

}  // namespace plugctl::cli
