#include "plugctl/cli/app.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <string_view>

#include "plugctl/base/cleanup.h"
#include "plugctl/base/file.h"
#include "plugctl/cli/command.h"
#include "plugctl/cli/output.h"

namespace plugctl::cli {
namespace {

// Whether the command line asks for JSON output, read from argv itself so that usage errors
// (found before CLI11 has stored any value) are reported in the format the script expects.
bool WantsJson(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--format=json" ||
        (arg == "--format" && i + 1 < argc && std::string_view(argv[i + 1]) == "json")) {
      return true;
    }
  }
  return false;
}

void PrintJsonError(std::string_view code, const std::string& message) {
  PrintJson({{"error", {{"code", code}, {"message", message}}}});
}

// The first argument that is neither an option nor an option's value: the command the user
// meant. CLI11 alone answers "A subcommand is required" for a misspelt or unknown one.
std::optional<std::string_view> CommandWord(const CLI::App& app, int argc, char** argv) {
  std::set<std::string, std::less<>> takes_value;
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_items_expected_max() == 0) continue;  // a flag
    for (const std::string& name : opt->get_lnames()) takes_value.insert("--" + name);
    for (const std::string& name : opt->get_snames()) takes_value.insert("-" + name);
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") return std::nullopt;
    if (!arg.starts_with("-") || arg == "-") return arg;
    if (arg.find('=') == std::string_view::npos && takes_value.contains(arg)) ++i;
  }
  return std::nullopt;
}

// Subcommands' --help lists only their own options; global ones work after the command too
// (fallthrough), so they are listed in every command's help as well.
std::string GlobalOptionsFooter(const CLI::App& app) {
  std::string out = "\nGlobal options (before or after the command):\n";
  for (const CLI::Option* opt : app.get_options()) {
    std::string names = opt->get_name(false, true);
    if (names.find("help") != std::string::npos) continue;
    if (opt->get_items_expected_max() != 0) names += " " + opt->get_type_name();
    out += fmt::format("  {:<30} {}\n", names, opt->get_description());
  }
  return out;
}

}  // namespace

int RunCli(int argc, char** argv) {
  // Before any thread starts: SIGINT/SIGTERM remove the temp files and staging directories of
  // this run, then exit 130/143 (base/cleanup.h).
  InstallInterruptCleanup();
  CLI::App app{"plugctl: build, check, ship and serve Wasm gateway plugins as OCI images"};
  app.name("plugctl");
  app.require_subcommand(1);
  app.fallthrough();
  GlobalOptions globals;
  // The one place plugctl reads its environment (build's SOURCE_DATE_EPOCH aside); everything
  // below gets what it needs from this snapshot.
  globals.env = Environment::Capture([](const char* name) { return std::getenv(name); });
  SetTempRoot(globals.env.Get("TMPDIR"));
  // Only the two names: CLI11's CheckedTransformer would also take the enum's numbers ("1")
  // and word its refusal in them.
  app.add_option("--format", globals.format, "Output format: text (default) or json")
      ->transform(CLI::Validator(
          [](std::string& value) -> std::string {
            std::string lower = value;
            std::transform(lower.begin(), lower.end(), lower.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (lower != "text" && lower != "json") {
              return fmt::format("expected text or json, got \"{}\"",
                                 PrintableForMessage(value, 40));
            }
            value = std::to_string(
                static_cast<int>(lower == "json" ? OutputFormat::kJson : OutputFormat::kText));
            return std::string();
          },
          ""))
      ->type_name("text|json");
  app.add_option("--concurrency", globals.concurrency, "Parallel blob transfers")
      ->check(CLI::Range(1, 64))
      ->default_str("3");
  app.add_flag("--no-progress", globals.no_progress, "Never draw progress bars");
  app.add_flag("--plain-http", globals.plain_http,
               "Talk plain HTTP to registries (loopback registries fall back to it by themselves)");
  app.add_flag("--insecure,-k", globals.insecure, "Do not verify registry TLS certificates");
  app.add_option("--ca-file", globals.ca_file, "PEM bundle of CAs to trust for registries")
      ->check(CLI::ExistingFile);
  app.add_option("--cert-file", globals.cert_file, "Client certificate (PEM) for mutual TLS")
      ->check(CLI::ExistingFile);
  app.add_option("--key-file", globals.key_file, "Client key (PEM) for mutual TLS")
      ->check(CLI::ExistingFile);
  app.add_option("--registry-config", globals.registry_config,
                 "Credentials file (docker config.json; default $DOCKER_CONFIG/config.json or "
                 "~/.docker/config.json)");
  app.add_flag("--debug", globals.debug,
               "Print every registry request and response on stderr (secrets redacted)");
  app.add_option("--chunk-size", globals.chunk_size,
                 "Upload blobs larger than this many bytes in chunks (0: one request)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--low-speed-limit", globals.low_speed_limit,
                 "Abort a registry transfer slower than this many bytes/s over --low-speed-time "
                 "(0: never)")
      ->check(CLI::NonNegativeNumber)
      ->default_str("1024");
  app.add_option("--low-speed-time", globals.low_speed_time,
                 "Seconds over which --low-speed-limit is measured")
      ->check(CLI::Range(1, 86400))
      ->default_str("60");
  app.add_option("--request-timeout", globals.request_timeout,
                 "Seconds a registry request may take, except a blob's body (0: no limit)")
      ->check(CLI::Range(0, 86400))
      ->default_str("300");

  std::map<CLI::App*, Action> actions;
  const std::string footer = GlobalOptionsFooter(app);
  for (const CommandSpec& spec : Commands()) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.summary);
    actions[sub] = spec.define(*sub, globals);
    sub->footer(sub->get_footer() + footer);
  }

  const bool json_errors = WantsJson(argc, argv);
  auto word = CommandWord(app, argc, argv);
  if (word && std::none_of(Commands().begin(), Commands().end(),
                           [&](const CommandSpec& spec) { return *word == spec.name; })) {
    std::string message = fmt::format("unknown command \"{}\" (run plugctl --help for the list)",
                                      PrintableForMessage(*word, 100));
    if (json_errors) PrintJsonError("USAGE", message);
    Print(std::cerr, "plugctl: {}\n", message);
    return kExitUsage;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --version and the like
    // CLI11 quotes the offending argument, which may come from a script's untrusted data.
    if (json_errors) PrintJsonError("USAGE", e.what());
    Print(std::cerr, "{}\nRun with --help for more information.\n", std::string(e.what()));
    return kExitUsage;
  }

  for (auto& [sub, action] : actions) {
    if (!sub->parsed()) continue;
    Status status = action();
    if (!status) {
      // Messages quote untrusted input (names, tags, registry replies): one escaped line.
      if (json_errors && !JsonPrinted()) {
        PrintJsonError(ErrorCodeName(status.error().code()), status.error().message());
      }
      Print(std::cerr, "plugctl {}: {}\n", sub->get_name(), status.error().message());
      return kExitFailure;
    }
    return kExitOk;
  }
  return kExitUsage;
}

}  // namespace plugctl::cli
