// test/integration/subprocess.h — run a real program with a deadline.
//
// Integration tests drive the plugctl binary and real peers (skopeo,
// docker-registry). Every wait is bounded: a child that outlives its timeout
// is killed (its whole process group) and the run reports timed_out.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace plugctl::testing {

struct RunResult {
  int exit_code = -1;  // -1 if killed by a signal or timed out
  bool timed_out = false;
  std::string out;
  std::string err;

  bool ok() const { return exit_code == 0 && !timed_out; }
  // "exit 1: <stderr>" for assertion messages.
  std::string Summary() const;
};

struct RunOptions {
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
  std::string stdin_data;
  std::map<std::string, std::string> env;  // added to the inherited environment
  std::string cwd;
};

RunResult RunProcess(const std::vector<std::string>& argv, const RunOptions& options = {});

// A long-running child (a registry). Killed with its process group on
// destruction.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv, const std::string& log_path);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  bool running() const;
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
};

// An unused TCP port on 127.0.0.1 (bound then released).
int FreePort();

// Sends raw bytes to 127.0.0.1:PORT of `host` ("127.0.0.1:PORT") and returns what comes back
// before the peer closes or `timeout` passes.
std::string RawExchange(const std::string& host, std::string_view request,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// Waits until something accepts TCP connections on 127.0.0.1:port.
bool WaitForPort(int port, std::chrono::milliseconds timeout);

// Path helpers.
std::string PlugctlBinary();
bool HaveProgram(const std::string& name);

}  // namespace plugctl::testing
