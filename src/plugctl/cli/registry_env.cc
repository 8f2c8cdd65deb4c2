#include "plugctl/cli/registry_env.h"

#include <iostream>
#include <mutex>

namespace plugctl::cli {

registry::SessionOptions TargetEnv::SessionOptionsFor(const GlobalOptions& globals) {
  registry::SessionOptions options;
  options.plain_http = globals.plain_http;
  options.transport.insecure_skip_verify = globals.insecure;
  options.transport.ca_file = globals.ca_file;
  options.transport.client_cert_file = globals.cert_file;
  options.transport.client_key_file = globals.key_file;
  options.transport.user_agent = std::string("plugctl/") + PLUGCTL_VERSION;
  if (globals.debug) {
    options.transport.debug = [](std::string_view line) {
      static std::mutex mu;
      std::lock_guard lock(mu);
      std::cerr << "debug: " << line << '\n';
    };
  }
  std::string config_path = globals.registry_config;
  options.credentials = [config_path](std::string_view host) -> Result<registry::Credential> {
    auto path = config_path.empty() ? registry::DockerConfig::DefaultPath()
                                    : std::filesystem::path(config_path);
    PLUGCTL_ASSIGN_OR_RETURN(registry::DockerConfig config, registry::DockerConfig::Load(path));
    return config.Get(host);
  };
  return options;
}

TargetEnv::TargetEnv(const GlobalOptions& globals) : pool_(SessionOptionsFor(globals)) {
  open_.sessions = &pool_;
  open_.repository.chunk_size = globals.chunk_size;
}

Result<std::unique_ptr<store::Target>> TargetEnv::Open(const transfer::Location& location,
                                                       transfer::AccessMode mode) {
  auto target = transfer::OpenLocation(location, mode, open_);
  if (!target) return tl::unexpected(target.error().WithContext(location.ToString()));
  return target;
}

}  // namespace plugctl::cli
