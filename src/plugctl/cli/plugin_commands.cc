// Plugin authoring commands: validate a plugin directory or image, check a
// configuration against the plugin's schemas.
#include <algorithm>
#include <iostream>

#include "plugctl/base/file.h"
#include "plugctl/cli/command_defs.h"
#include "plugctl/cli/plugin_report.h"
#include "plugctl/cli/registry_env.h"
#include "plugctl/plugin/extract.h"
#include "plugctl/plugin/validate.h"
#include "plugctl/spec/config_check.h"

namespace plugctl::cli {
namespace {

// A plugin directory, or an image extracted into a private temporary one.
struct PluginSource {
  std::filesystem::path dir;
  std::unique_ptr<TempDir> temp;
  std::optional<plugin::ExtractResult> image;
};

Result<PluginSource> OpenPluginSource(const std::string& arg, const GlobalOptions& globals) {
  PluginSource source;
  std::error_code ec;
  if (std::filesystem::is_directory(arg, ec)) {
    source.dir = arg;
    return source;
  }
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::ParseLocation(arg));
  TargetEnv env(globals);
  PLUGCTL_ASSIGN_OR_RETURN(auto target, env.Open(loc, transfer::AccessMode::kRead));
  PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor root, target->Resolve(loc.ResolveRef()));
  PLUGCTL_ASSIGN_OR_RETURN(source.temp, TempDir::Create("plugctl-validate"));
  source.dir = source.temp->path() / "plugin";
  auto extracted = plugin::ExtractPlugin(*target, root, source.dir, {});
  if (!extracted) return tl::unexpected(extracted.error().WithContext(arg));
  source.image = std::move(*extracted);
  return source;
}

// ---- validate ----
struct ValidateArgs {
  std::string source;
  bool strict = false;
  bool verbose = false;
};

Status RunValidate(const ValidateArgs& args, const GlobalOptions& globals) {
  PLUGCTL_ASSIGN_OR_RETURN(PluginSource source, OpenPluginSource(args.source, globals));
  plugin::DirectoryCheckOptions options{.strict = args.strict};
  // A pulled image without spec.yaml still loads; official images carry none.
  if (source.image) options.missing_docs = Severity::kWarning;
  PLUGCTL_ASSIGN_OR_RETURN(plugin::DirectoryReport report,
                           plugin::ValidatePluginDirectory(source.dir, options));
  std::vector<Finding> findings = report.findings;
  const plugin::LoadabilityReport* gateway =
      source.image && source.image->gateway ? &*source.image->gateway : nullptr;
  if (gateway != nullptr) {
    for (const auto& f : gateway->findings) {
      if (std::find(findings.begin(), findings.end(), f) == findings.end()) findings.push_back(f);
    }
  }
  if (gateway != nullptr && !gateway->loadable) {
    for (const auto& reason : gateway->reasons) {
      findings.push_back({.severity = Severity::kError,
                          .file = "image",
                          .message = "the gateway will not load it: " + reason});
    }
  }
  bool valid = !HasErrors(findings);

  if (globals.format == OutputFormat::kJson) {
    nlohmann::ordered_json out;
    out["source"] = args.source;
    out["valid"] = valid;
    out["summary"] = CountFindings(findings);
    out["findings"] = FindingsJson(findings);
    out["files"] = report.files;
    if (report.spec) {
      out["plugin"] = {{"name", report.spec->spec.info.name},
                       {"version", report.spec->spec.info.version},
                       {"title", report.spec->spec.info.title},
                       {"category", report.spec->spec.info.category},
                       {"phase", spec::PluginPhaseName(report.spec->spec.phase)},
                       {"priority", report.spec->spec.priority}};
    }
    if (report.module) {
      out["wasm"] = WasmJson(*report.module);
      out["wasm"]["sha256"] = report.wasm_sha256.ToString();
      out["wasm"]["size"] = report.wasm_size;
    }
    if (gateway != nullptr) out["gateway"] = GatewayJson(*gateway);
    PrintJson(out);
  } else {
    Print(std::cout, "Validating {}\n", args.source);
    if (report.spec) {
      const auto& info = report.spec->spec.info;
      Print(std::cout, "Plugin:      {} {} ({}), phase {}, priority {}\n", info.name, info.version,
            info.title, spec::PluginPhaseName(report.spec->spec.phase), report.spec->spec.priority);
    }
    Print(std::cout, "Files:       {}\n", EscapeJoin(report.files));
    if (report.module) {
      Print(std::cout, "plugin.wasm: {} bytes, sha256 {}\n", report.wasm_size,
            report.wasm_sha256.hex());
      PrintWasm(*report.module, args.verbose);
    }
    if (gateway != nullptr) PrintGateway(*gateway, /*with_findings=*/false);
    if (!findings.empty()) {
      std::cout << "Findings:\n";
      PrintFindings(findings);
    }
    Print(std::cout, "Result:      {} ({})\n", valid ? "valid" : "INVALID",
          CountFindings(findings));
  }
  if (!valid) {
    return MakeError(ErrorCode::kFailedPrecondition, "{} is not valid: {}", args.source,
                     CountFindings(findings));
  }
  return OkStatus();
}

// ---- config check ----
struct ConfigCheckArgs {
  std::string source;
  std::string config;
  bool rule = false;
};

Status RunConfigCheck(const ConfigCheckArgs& args, const GlobalOptions& globals) {
  PLUGCTL_ASSIGN_OR_RETURN(PluginSource source, OpenPluginSource(args.source, globals));
  auto spec = plugin::LoadSpec(source.dir);
  if (!spec) {
    if (spec.error().code() == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "{} has no spec.yaml, so there is no schema to check against", args.source);
    }
    return tl::unexpected(spec.error().WithContext("spec.yaml"));
  }
  PLUGCTL_ASSIGN_OR_RETURN(std::string text, ReadFileBounded(args.config, 4 << 20));
  std::string name = std::filesystem::path(args.config).filename().string();
  std::vector<Finding> findings =
      spec::CheckConfigDocument(spec->spec, text, name, {.rule_level = args.rule});
  bool valid = !HasErrors(findings);
  if (globals.format == OutputFormat::kJson) {
    PrintJson({{"source", args.source},
               {"config", args.config},
               {"level", args.rule ? "rule" : "global"},
               {"valid", valid},
               {"summary", CountFindings(findings)},
               {"findings", FindingsJson(findings)}});
  } else {
    if (!findings.empty()) PrintFindings(findings);
    Print(std::cout, "{}: {} against {} ({} level): {}\n", args.config, valid ? "valid" : "INVALID",
          spec->spec.info.name, args.rule ? "rule" : "global", CountFindings(findings));
  }
  if (!valid) {
    return MakeError(ErrorCode::kFailedPrecondition, "{} does not match the plugin's schema: {}",
                     args.config, CountFindings(findings));
  }
  return OkStatus();
}

}  // namespace

Action DefineValidate(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<ValidateArgs>();
  app.add_option("SOURCE", args->source, "Plugin directory, or an image location")->required();
  app.add_flag("--strict", args->strict, "Treat warnings (deviations from the spec) as errors");
  app.add_flag("--verbose,-v", args->verbose, "List every wasm import and export");
  app.footer(
      "Checks spec.yaml (the documented format and the dialect of real Higress plugins), its\n"
      "schemas and examples, README/icon files and plugin.wasm (a proxy-wasm module). For an\n"
      "image it also says whether the gateway will load it. Exit 1 when there are errors.");
  return [args, &globals] { return RunValidate(*args, globals); };
}

Action DefineConfig(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<ConfigCheckArgs>();
  app.require_subcommand(1);
  CLI::App* check = app.add_subcommand("check", "Check a plugin configuration against spec.yaml");
  check->add_option("SOURCE", args->source, "Plugin directory, or an image location")->required();
  check->add_option("CONFIG", args->config, "Configuration (YAML or JSON) or a WasmPlugin resource")
      ->required()
      ->check(CLI::ExistingFile);
  check->add_flag("--rule", args->rule,
                  "A rule-level configuration (routeConfigSchema; GLOBAL-scoped fields not "
                  "required)");
  check->footer(
      "A WasmPlugin resource (extensions.higress.io/v1alpha1) is checked whole: defaultConfig\n"
      "against the global schema and every matchRules[].config at rule level.");
  return [args, &globals] { return RunConfigCheck(*args, globals); };
}

}  // namespace plugctl::cli
