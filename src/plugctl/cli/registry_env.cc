#include "plugctl/cli/registry_env.h"

#include <iostream>
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

Result<std::unique_ptr<store::Target>> TargetEnv::Open(const transfer::Location& location,
                                                       transfer::AccessMode mode) {
  auto target = transfer::OpenLocation(location, mode, open_);
  if (!target) return tl::unexpected(target.error().WithContext(location.ToString()));
  return target;
}

}  // namespace plugctl::cli
