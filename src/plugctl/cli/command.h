// plugctl/cli/command.h — the command table.
//
// Each command contributes one entry: its name, a one-line summary, and a
// function that declares its options on a CLI11 subcommand and returns the
// action to run once parsing succeeded. Adding a command means adding one
// entry to Commands() in commands.cc.
#pragma once

#include <functional>
#include <span>
#include <string>

#include <CLI/CLI.hpp>

#include "plugctl/base/env.h"
#include "plugctl/base/status.h"
#include "plugctl/cli/output.h"

namespace plugctl::cli {

// Options every command sees.
struct GlobalOptions {
  OutputFormat format = OutputFormat::kText;
  int concurrency = 3;
  bool no_progress = false;
  // Registry transport and credentials.
  bool plain_http = false;
  bool insecure = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string registry_config;  // docker config.json; default $DOCKER_CONFIG or ~/.docker
  bool debug = false;
  int64_t chunk_size = 0;
  // http::ClientOptions: the low-speed rule and the small-request deadline.
  int64_t low_speed_limit = 1024;
  int low_speed_time = 60;
  int request_timeout = 300;
  // The process environment, captured once at start-up (RunCli); the library
  // never reads the environment itself.
  Environment env;
};

using Action = std::function<Status()>;

struct CommandSpec {
  const char* name;
  const char* summary;
  // Declares options on `app` (bound to state captured by the returned
  // action) and returns the action.
  Action (*define)(CLI::App& app, const GlobalOptions& globals);
};

std::span<const CommandSpec> Commands();

}  // namespace plugctl::cli
