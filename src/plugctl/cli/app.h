// Directory plugctl/cli/: the command-line front end: command table, output, main.
// plugctl/cli/app.h — the command-line front end as a library call, so that
// main() stays one line and tests can drive the CLI in-process.
//
// Exit codes: 0 success, 1 the operation failed (one line on stderr naming
// what failed), 2 usage error.
#pragma once

namespace plugctl::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int RunCli(int argc, char** argv);

}  // namespace plugctl::cli
