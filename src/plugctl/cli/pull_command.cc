// `plugctl pull IMAGE -o DIR`: extracts a plugin's files from an image of any shape (see
// plugin/extract.h), from any location.
#include <iostream>

#include "plugctl/cli/command_defs.h"
#include "plugctl/cli/registry_env.h"
#include "plugctl/plugin/extract.h"
#include "plugctl/transfer/location.h"

namespace plugctl::cli {
namespace {

struct PullArgs {
  std::string location;
  std::string out;
  std::string platform;
  bool force = false;
};

// "yes (oci-compat, ./plugin.wasm)" / "no (why; why)".
std::string Verdict(const plugin::LoadabilityReport& report) {
  if (!report.loadable) return fmt::format("no ({})", fmt::join(report.reasons, "; "));
  std::string how(plugin::LoadPathName(report.path));
  if (!report.wasm_entry.empty()) how += ", tar entry " + report.wasm_entry;
  if (report.platform && report.manifest) {
    how += fmt::format(", via its {} manifest", report.platform->ToString());
  }
  return fmt::format("yes ({})", how);
}

nlohmann::ordered_json GatewayJson(const plugin::LoadabilityReport& report) {
  nlohmann::ordered_json j;
  j["loadable"] = report.loadable;
  j["path"] = plugin::LoadPathName(report.path);
  if (report.manifest) j["manifestDigest"] = report.manifest->digest.ToString();
  if (report.platform) j["platform"] = report.platform->ToString();
  if (report.wasm_sha256) j["wasmSha256"] = report.wasm_sha256->ToString();
  j["reasons"] = report.reasons;
  nlohmann::ordered_json findings = nlohmann::ordered_json::array();
  for (const Finding& f : report.findings) {
    findings.push_back({{"severity", SeverityName(f.severity)}, {"message", f.ToString()}});
  }
  j["findings"] = std::move(findings);
  return j;
}

void PrintResult(const PullArgs& args, const store::Target& target, const plugin::ExtractResult& r,
                 const GlobalOptions& globals) {
  if (globals.format == OutputFormat::kJson) {
    nlohmann::ordered_json out;
    out["image"] = args.location;
    out["source"] = target.Describe();
    out["directory"] = args.out;
    out["digest"] = r.root.digest.ToString();
    out["mediaType"] = r.root.media_type;
    out["manifestDigest"] = r.manifest.digest.ToString();
    if (r.platform) out["platform"] = r.platform->ToString();
    out["wasmSha256"] = r.wasm_sha256.ToString();
    out["wasmSize"] = r.wasm_size;
    nlohmann::ordered_json files = nlohmann::ordered_json::array();
    for (const plugin::ExtractedFile& f : r.files) {
      nlohmann::ordered_json j;
      j["name"] = f.name;
      j["size"] = f.size;
      j["sha256"] = f.sha256.ToString();
      j["layer"] = f.layer_index;
      j["layerDigest"] = f.layer.digest.ToString();
      j["layerMediaType"] = f.layer.media_type;
      if (!f.entry.empty()) j["entry"] = f.entry;
      j["replaced"] = f.replaced;
      files.push_back(std::move(j));
    }
    out["files"] = std::move(files);
    out["shape"] = plugin::LoadPathName(r.shape.path);
    out["gateway"] = r.gateway ? GatewayJson(*r.gateway) : nlohmann::ordered_json();
    out["notes"] = r.notes;
    PrintJson(out);
    return;
  }
  Print(std::cout, "Pulled {} -> {}\n", args.location, args.out);
  for (const plugin::ExtractedFile& f : r.files) {
    std::string from = fmt::format("layers[{}]", f.layer_index);
    if (!f.entry.empty()) from += " " + f.entry;
    Print(std::cout, "  {:<16} {:>10}  {}{}\n", f.name, HumanBytes(f.size), from,
          f.replaced ? "  (replaced)" : "");
  }
  std::string manifest = r.manifest.digest.ToString();
  if (r.platform) {
    manifest += fmt::format("  ({} of index {})", r.platform->ToString(), r.root.digest.ToString());
  }
  Print(std::cout, "Manifest digest:     {}\n", manifest);
  Print(std::cout, "plugin.wasm sha256:  {}\n", r.wasm_sha256.hex());
  if (r.gateway) {
    Print(std::cout, "The gateway would load this image: {}\n", Verdict(*r.gateway));
    if (r.gateway->loadable && r.gateway->manifest) {
      Print(std::cout, "WasmPlugin sha256 for oci://: {}\n", r.gateway->manifest->digest.hex());
    }
    for (const Finding& f : r.gateway->findings) {
      if (f.severity != Severity::kWarning) continue;
      Print(std::cout, "warning: {}\n", f.ToString());
    }
  }
  for (const std::string& note : r.notes) Print(std::cout, "note: {}\n", note);
}

Status RunPull(const PullArgs& args, const GlobalOptions& globals) {
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::ParseLocation(args.location));
  plugin::ExtractOptions options;
  options.force = args.force;
  if (!args.platform.empty()) {
    PLUGCTL_ASSIGN_OR_RETURN(options.platform, oci::Platform::Parse(args.platform));
  }
  TargetEnv env(globals);
  PLUGCTL_ASSIGN_OR_RETURN(auto target, env.Open(loc, transfer::AccessMode::kRead));
  PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor root, target->Resolve(loc.ResolveRef()));

  ProgressBar bar(
      fmt::format("pull {}", args.location),
      !globals.no_progress && globals.format == OutputFormat::kText && StderrIsTerminal());
  transfer::ProgressCallback callback = bar.Callback();
  uint64_t reported = 0;
  // A null callback: no bar (not a terminal, --no-progress or JSON output).
  if (callback) {
    options.progress = [&](uint64_t done, uint64_t total) {
      using Kind = transfer::ProgressEvent::Kind;
      if (done == 0) {
        callback({.kind = Kind::kPlanned, .total_blobs = 1, .total_bytes = total});
      } else if (done > reported) {
        callback({.kind = Kind::kBytes, .bytes = done - reported});
      }
      reported = done;
    };
  }
  auto result = plugin::ExtractPlugin(*target, root, args.out, options);
  bar.Finish();
  if (!result) return tl::unexpected(result.error());
  PrintResult(args, *target, *result, globals);
  return OkStatus();
}

}  // namespace

Action DefinePull(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<PullArgs>();
  app.add_option("IMAGE", args->location, "Image location (registry, oci:, oci-archive:, ...)")
      ->required()
      ->check(LocationCheck());
  app.add_option("--output,-o", args->out, "Directory to write the plugin's files to")->required();
  app.add_option("--platform", args->platform,
                 "Platform an index resolves to, os/arch[/variant] (default linux/amd64)")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            auto p = oci::Platform::Parse(value);
            return p ? std::string() : p.error().message();
          },
          "OS/ARCH"));
  app.add_flag("--force,-f", args->force, "Replace files that already exist in the directory");
  app.footer(
      "Writes plugin.wasm and, when the image has them, spec.yaml, README.md, README_xx.md\n"
      "and icon.png, whatever the image's shape: Higress/ORAS artifacts, docker FROM scratch\n"
      "images (plugin.wasm in a tar.gz layer), the oci variant, raw wasm layers, wasm-to-oci,\n"
      "indexes. Every byte is verified; nothing is written unless everything verified.\n"
      "Prints the manifest digest, the sha256 of plugin.wasm and whether the gateway would\n"
      "load the image.");
  return [args, &globals] { return RunPull(*args, globals); };
}

}  // namespace plugctl::cli
