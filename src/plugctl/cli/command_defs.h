// plugctl/cli/command_defs.h — the Define functions of commands that live
// outside commands.cc; the table itself stays in commands.cc.
#pragma once

#include "plugctl/cli/command.h"

namespace plugctl::cli {

Action DefineLogin(CLI::App& app, const GlobalOptions& globals);
Action DefineLogout(CLI::App& app, const GlobalOptions& globals);
Action DefineResolve(CLI::App& app, const GlobalOptions& globals);
Action DefineTag(CLI::App& app, const GlobalOptions& globals);
Action DefineDelete(CLI::App& app, const GlobalOptions& globals);
Action DefineCatalog(CLI::App& app, const GlobalOptions& globals);
Action DefineReferrers(CLI::App& app, const GlobalOptions& globals);
Action DefineValidate(CLI::App& app, const GlobalOptions& globals);
Action DefineConfig(CLI::App& app, const GlobalOptions& globals);
Action DefinePull(CLI::App& app, const GlobalOptions& globals);
Action DefineBuild(CLI::App& app, const GlobalOptions& globals);
Action DefineWasmPlugin(CLI::App& app, const GlobalOptions& globals);
Action DefinePush(CLI::App& app, const GlobalOptions& globals);
Action DefineAttach(CLI::App& app, const GlobalOptions& globals);
Action DefineInit(CLI::App& app, const GlobalOptions& globals);

Action DefineMirror(CLI::App& app, const GlobalOptions& globals);
Action DefineServe(CLI::App& app, const GlobalOptions& globals);
Action DefineGc(CLI::App& app, const GlobalOptions& globals);

// The created time of built and rebuilt images: SOURCE_DATE_EPOCH (unset or empty: 0, the
// epoch), so builds are reproducible by default.
[[nodiscard]] Result<int64_t> SourceDateEpoch();

// Rejects malformed locations at parse time (a usage error, exit 2).
CLI::Validator LocationCheck();
// LocationCheck for an argument that is only read: a missing path is just "no such file or
// directory" (no hint about creating a layout there).
CLI::Validator SourceLocationCheck();
// SourceLocationCheck, or an existing regular file (a list file, a .wasm), with the location's
// error.
CLI::Validator LocationOrFileCheck();

}  // namespace plugctl::cli
