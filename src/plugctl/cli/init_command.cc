// `plugctl init DIR [--name N] [--force]`: a new plugin directory that validates at once
// (plugin/scaffold.h).
#include <iostream>

#include "plugctl/cli/command_defs.h"
#include "plugctl/plugin/scaffold.h"

namespace plugctl::cli {
namespace {

struct InitArgs {
  std::string dir;
  std::string name;
  bool force = false;
};

Status RunInit(const InitArgs& args, const GlobalOptions& globals) {
  std::string name = args.name;
  if (name.empty()) {
    // "dir/" normalizes to "dir/" whose filename is empty: take the last component instead.
    std::filesystem::path normal = std::filesystem::path(args.dir).lexically_normal();
    if (normal.filename().empty()) normal = normal.parent_path();
    name = normal.filename().string();
    if (!plugin::IsValidPluginName(name)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "\"{}\" (the directory's name) is not a valid plugin name; pass --name "
                       "(a lowercase letter, then lowercase letters, digits and '-')",
                       name);
    }
  }
  PLUGCTL_ASSIGN_OR_RETURN(plugin::ScaffoldResult result,
                           plugin::ScaffoldPlugin(args.dir, {.name = name, .force = args.force}));
  if (globals.format == OutputFormat::kJson) {
    PrintJson({{"directory", args.dir}, {"name", name}, {"files", result.files}});
    return OkStatus();
  }
  Print(std::cout, "Created plugin {} in {}\n", name, args.dir);
  for (const std::string& f : result.files) Print(std::cout, "  {}\n", f);
  Print(std::cout,
        "plugin.wasm is a pass-through placeholder until you run {}/build.sh (clang "
        "--target=wasm32).\nNext: plugctl validate {} && plugctl build {} -t oci:layout:{}:0.1.0\n",
        args.dir, args.dir, args.dir, name);
  return OkStatus();
}

}  // namespace

Action DefineInit(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<InitArgs>();
  app.add_option("DIR", args->dir, "Directory to create (must be empty unless --force)")
      ->required();
  app.add_option("--name", args->name,
                 "Plugin name (default: the directory's name): lowercase letters, digits, '-'");
  app.add_flag("--force,-f", args->force,
               "Write into a non-empty directory (replacing the scaffold's own files)");
  app.footer(
      "Writes spec.yaml (configSchema with x-scope, i18n titles), README.md, README_EN.md,\n"
      "plugin.c (a minimal proxy-wasm plugin in C), build.sh (clang --target=wasm32) and a\n"
      "placeholder plugin.wasm, so `plugctl validate DIR` and `plugctl build DIR` work at once.");
  return [args, &globals] { return RunInit(*args, globals); };
}

}  // namespace plugctl::cli
