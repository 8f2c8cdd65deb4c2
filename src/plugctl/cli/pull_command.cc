// `plugctl pull IMAGE -o DIR`: extracts a plugin's files from an image of any shape (see
// plugin/extract.h), from any location.
#include <algorithm>
#include <iostream>

#include "plugctl/base/file.h"
#include "plugctl/cli/command_defs.h"
#include "plugctl/cli/registry_env.h"
#include "plugctl/plugin/extract.h"
#include "plugctl/store/content.h"
#include "plugctl/transfer/artifact.h"
#include "plugctl/transfer/location.h"
#include "plugctl/transfer/mirror.h"
#include "plugctl/transfer/mirror_list.h"

namespace plugctl::cli {
namespace {

struct PullArgs {
  std::string location;
  std::string out;
  std::string platform;
  bool force = false;
  bool all = false;
  bool no_unpack = false;
  // Bulk pulls: mirror's --map FROM=TO rules (transfer::ParseMappingRule).
  std::vector<std::string> maps;
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

// The fields every pull's JSON report starts with: what was asked for, read from where, into
// which directory, and the digest it resolved to.
nlohmann::ordered_json PulledJson(const PullArgs& args, const store::Target& target,
                                  const oci::Descriptor& root) {
  nlohmann::ordered_json out;
  out["image"] = args.location;
  out["source"] = target.Describe();
  out["directory"] = args.out;
  out["digest"] = root.digest.ToString();
  return out;
}

void PrintResult(const PullArgs& args, const store::Target& target, const plugin::ExtractResult& r,
                 const GlobalOptions& globals) {
  if (globals.format == OutputFormat::kJson) {
    nlohmann::ordered_json out = PulledJson(args, target, r.root);
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

// `pull --all`: every titled layer as a file, as `oras pull` does.
Status RunPullAll(const PullArgs& args, store::Target& target, const oci::Descriptor& root,
                  const GlobalOptions& globals) {
  transfer::PullAllOptions options{.force = args.force, .unpack = !args.no_unpack};
  if (!args.platform.empty()) {
    PLUGCTL_ASSIGN_OR_RETURN(options.platform, oci::Platform::Parse(args.platform));
  }
  PLUGCTL_ASSIGN_OR_RETURN(transfer::PullAllResult r,
                           transfer::PullArtifactFiles(target, root, args.out, options));
  if (globals.format == OutputFormat::kJson) {
    nlohmann::ordered_json out = PulledJson(args, target, r.root);
    out["manifestDigest"] = r.manifest.digest.ToString();
    if (!r.artifact_type.empty()) out["artifactType"] = r.artifact_type;
    nlohmann::ordered_json files = nlohmann::ordered_json::array();
    for (const transfer::PulledFile& f : r.files) {
      files.push_back({{"name", f.title},
                       {"size", f.layer.size},
                       {"digest", f.layer.digest.ToString()},
                       {"mediaType", f.layer.media_type},
                       {"unpacked", f.unpacked},
                       {"replaced", f.replaced}});
    }
    out["files"] = std::move(files);
    out["untitledLayers"] = r.untitled;
    PrintJson(out);
    return OkStatus();
  }
  Print(std::cout, "Pulled {} -> {}\n", args.location, args.out);
  for (const transfer::PulledFile& f : r.files) {
    Print(std::cout, "  {:<24} {:>10}  {}{}{}\n", f.unpacked ? f.title + "/" : f.title,
          HumanBytes(static_cast<uint64_t>(f.layer.size)), f.layer.media_type,
          f.unpacked ? "  (unpacked)" : "", f.replaced ? "  (replaced)" : "");
  }
  if (r.untitled > 0) {
    Print(std::cout, "Skipped {} (no file name)\n", Count(r.untitled, "untitled layer"));
  }
  Print(std::cout, "Manifest digest: {}\n", r.manifest.digest.ToString());
  return OkStatus();
}

// For an image without plugin.wasm: whether it is an artifact of named files (pull --all).
size_t TitledLayers(store::Target& target, const oci::Descriptor& root) {
  auto manifest = store::FetchManifest(target, root);
  if (!manifest || manifest->is_index()) return 0;
  size_t n = 0;
  for (const oci::Descriptor& layer : manifest->layers) n += layer.Title().empty() ? 0 : 1;
  return n;
}

// One image of a bulk pull: written to DIR/<name>/<version>/, or failed.
struct BulkItem {
  std::string image;   // the image's name; for images that could not be named, their origin
  std::string origin;  // where it was listed: "plugins.properties:3", "oci:DIR"
  std::filesystem::path directory;  // empty when the image could not be placed
  std::optional<plugin::ExtractResult> result;
  std::optional<Error> error;
};

nlohmann::ordered_json BulkItemJson(const BulkItem& b) {
  nlohmann::ordered_json j;
  j["image"] = b.image;
  j["origin"] = b.origin;
  j["directory"] =
      b.directory.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(b.directory.string());
  j["state"] = b.result ? "pulled" : "failed";
  if (b.result) {
    nlohmann::ordered_json files = nlohmann::ordered_json::array();
    for (const plugin::ExtractedFile& f : b.result->files) files.push_back(f.name);
    j["manifestDigest"] = b.result->manifest.digest.ToString();
    j["wasmSha256"] = b.result->wasm_sha256.ToString();
    j["files"] = std::move(files);
    j["loadable"] = b.result->gateway ? b.result->gateway->loadable : false;
  }
  if (b.error) {
    j["error"] = {{"code", ErrorCodeName(b.error->code())}, {"message", b.error->message()}};
  }
  return j;
}

void PrintBulkLine(const BulkItem& b) {
  if (b.result) {
    Print(std::cout, "pulled  {} -> {}  plugin.wasm sha256 {}\n", b.image, b.directory.string(),
          b.result->wasm_sha256.hex());
  } else if (!b.directory.empty()) {
    Print(std::cout, "failed  {} -> {}: {}\n", b.image, b.directory.string(), b.error->message());
  } else {
    // Not placed: the error names the source (a list line, a bundle entry) itself.
    Print(std::cout, "failed  {}\n", b.error->message());
  }
}

// Pulls one planned image into its directory (ExtractPlugin stages and renames, and removes a
// directory it created when it fails, so a failed image leaves nothing behind).
Result<plugin::ExtractResult> PullOne(const transfer::MirrorPlan& plan,
                                      const transfer::MirrorItem& item, TargetEnv& env,
                                      const std::filesystem::path& out,
                                      const plugin::ExtractOptions& options) {
  std::unique_ptr<store::Target> owned;
  store::Target* src = nullptr;
  if (!item.bundle.empty()) {
    src = plan.bundles.at(item.bundle).get();
  } else {
    PLUGCTL_ASSIGN_OR_RETURN(owned, env.Open(item.source, transfer::AccessMode::kRead));
    src = owned.get();
  }
  PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor root, src->Resolve(item.source.ResolveRef()));
  return plugin::ExtractPlugin(*src, root, out, options);
}

// `pull LIST -o DIR` and `pull BUNDLE -o DIR`: every image to its own <name>/<version>/ under DIR,
// named by the rule of plugin-server trees (mirror_naming.h: the plugins.properties key, else the
// repository's last component, renamed by --map; the tag is the version). The plan is mirror's:
// two images landing in one directory are refused before anything is written. Every image is
// tried; one that fails (unreadable, not a plugin, files in the way) is reported and the others
// still go; the command fails at the end when any did.
Status RunBulkPull(const PullArgs& args, const std::vector<transfer::MirrorSource>& sources,
                   const std::vector<transfer::Location>& bundles, const GlobalOptions& globals) {
  if (args.all) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--all writes one artifact's files; pull lists and bundles without it");
  }
  PLUGCTL_ASSIGN_OR_RETURN(
      transfer::MirrorDestination dest,
      transfer::ParseMirrorDestination(std::string(transfer::kPluginServerTransport) + args.out));
  TargetEnv env(globals);
  transfer::MirrorOptions plan_options;
  // Sources that cannot be expanded (a repository whose tags cannot be listed, an unreadable
  // bundle entry) fail alone, like images that fail to pull.
  plan_options.keep_going = true;
  for (const std::string& m : args.maps) {
    PLUGCTL_ASSIGN_OR_RETURN(auto rule, transfer::ParseMappingRule(m));
    plan_options.mapping.rules.push_back(std::move(rule));
  }
  auto planned = transfer::PlanMirror(sources, bundles, dest, plan_options, env.open_options());
  if (!planned) return tl::unexpected(planned.error().WithContext("planning the pull"));
  transfer::MirrorPlan plan = std::move(*planned);
  if (plan.items.empty() && plan.failures.empty()) {
    return MakeError(ErrorCode::kNotFound, "{} names no images", args.location);
  }
  plugin::ExtractOptions options;
  options.force = args.force;
  if (!args.platform.empty()) {
    PLUGCTL_ASSIGN_OR_RETURN(options.platform, oci::Platform::Parse(args.platform));
  }
  const bool text = globals.format == OutputFormat::kText;
  std::vector<BulkItem> items;
  for (const auto& [origin, error] : plan.failures) {
    items.push_back({.image = origin, .origin = origin, .error = error});
    if (text) PrintBulkLine(items.back());
  }
  for (const transfer::MirrorItem& item : plan.items) {
    const transfer::PluginServerPath& where = *item.plugin_server;
    BulkItem b{.image = item.name.ToString(),
               .origin = item.origin,
               .directory = where.tree / where.name / where.version};
    auto result = PullOne(plan, item, env, b.directory, options);
    if (result) {
      b.result = std::move(*result);
    } else {
      b.error = result.error();
    }
    if (text) PrintBulkLine(b);
    items.push_back(std::move(b));
  }
  size_t pulled = 0;
  std::vector<std::string> failed;
  std::optional<ErrorCode> code;  // the failures' code when they share one
  for (const BulkItem& b : items) {
    if (b.result) {
      ++pulled;
      continue;
    }
    failed.push_back(b.image);
    code = !code || *code == b.error->code() ? b.error->code() : ErrorCode::kUnavailable;
  }
  if (!text) {
    nlohmann::ordered_json images = nlohmann::ordered_json::array();
    for (const BulkItem& b : items) images.push_back(BulkItemJson(b));
    PrintJson({{"source", args.location},
               {"directory", args.out},
               {"images", std::move(images)},
               {"pulled", pulled},
               {"failed", failed.size()}});
  } else if (failed.empty()) {
    Print(std::cout, "{} pulled into {}\n", Count(pulled, "image"), args.out);
  } else {
    Print(std::cout, "{} pulled into {}, {} failed\n", Count(pulled, "image"), args.out,
          failed.size());
  }
  if (!failed.empty()) {
    return MakeError(*code, "{} of {} failed: {}", failed.size(), Count(items.size(), "image"),
                     fmt::join(failed, ", "));
  }
  return OkStatus();
}

Status RunPull(const PullArgs& args, const GlobalOptions& globals) {
  // A list file (plugins.properties, a mirror list): one directory per image.
  std::error_code ec;
  if (!transfer::IsLocalTransport(args.location) &&
      std::filesystem::is_regular_file(args.location, ec)) {
    PLUGCTL_ASSIGN_OR_RETURN(std::string text,
                             ReadFileBounded(args.location, transfer::kMaxMirrorListBytes));
    // A tar's header has "ustar" at offset 257: an archive, not a list.
    if (text.size() > 262 && text.compare(257, 5, "ustar") == 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{} is a tar archive, not a list file: name it oci-archive:{} or "
                       "docker-archive:{}",
                       args.location, args.location, args.location);
    }
    PLUGCTL_ASSIGN_OR_RETURN(auto sources, transfer::ParseMirrorList(text, args.location));
    return RunBulkPull(args, sources, {}, globals);
  }
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::ParseLocation(args.location));
  // A bundle (a local location, no image named, holding several images, or several full
  // references as mirror names them — two may name one image): one directory per name.
  if (loc.kind != transfer::LocationKind::kRegistry && loc.ref.empty() && !args.all) {
    TargetEnv probe_env(globals);
    PLUGCTL_ASSIGN_OR_RETURN(auto probe, probe_env.Open(loc, transfer::AccessMode::kRead));
    auto only = probe->Resolve("");
    PLUGCTL_ASSIGN_OR_RETURN(std::vector<std::string> tags, probe->Tags());
    bool references = tags.size() > 1 && std::all_of(tags.begin(), tags.end(), [](const auto& t) {
                        return t.find('/') != std::string::npos;
                      });
    if ((!only && only.error().code() == ErrorCode::kFailedPrecondition) || references) {
      return RunBulkPull(args, {}, {loc}, globals);
    }
  }

  if (!args.maps.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--map names the images of a list or bundle; {} is one image (its files go "
                     "to -o DIR itself)",
                     args.location);
  }
  plugin::ExtractOptions options;
  options.force = args.force;
  if (!args.platform.empty()) {
    PLUGCTL_ASSIGN_OR_RETURN(options.platform, oci::Platform::Parse(args.platform));
  }
  TargetEnv env(globals);
  PLUGCTL_ASSIGN_OR_RETURN(auto target, env.Open(loc, transfer::AccessMode::kRead));
  PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor root, target->Resolve(loc.ResolveRef()));
  if (args.all) return RunPullAll(args, *target, root, globals);

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
  if (!result) {
    if (result.error().code() == ErrorCode::kNotFound) {
      if (size_t titled = TitledLayers(*target, root); titled > 0) {
        return MakeError(ErrorCode::kNotFound,
                         "{} is not a plugin (no plugin.wasm) but an artifact of {}: "
                         "use `plugctl pull --all {} -o DIR` to write them",
                         args.location, Count(titled, "named file"), args.location);
      }
    }
    return tl::unexpected(result.error());
  }
  PrintResult(args, *target, *result, globals);
  return OkStatus();
}

}  // namespace

Action DefinePull(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<PullArgs>();
  app.add_option("IMAGE", args->location,
                 "Image location (registry, oci:, oci-archive:, ...), a bundle of several "
                 "images, or a list file (plugins.properties, mirror list)")
      ->required()
      ->check(LocationOrFileCheck());
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
  CLI::Option* all = app.add_flag(
      "--all", args->all,
      "Write every titled layer as a file named by its title (any artifact, as `oras pull` does; "
      "a relative path title is written below DIR, an absolute or `..` one refused); a directory "
      "ORAS or plugctl push packed is unpacked");
  app.add_flag("--no-unpack", args->no_unpack,
               "With --all: write a packed directory's layer (its tar.gz) as a file named by its "
               "title instead of unpacking it")
      ->needs(all);
  app.add_option("--map", args->maps,
                 "Lists and bundles: FROM=TO names the directory of the images FROM matches "
                 "(a plugin name, a whole repository host/path, or its path) TO instead "
                 "(repeatable; the first matching rule wins; as `mirror --to plugin-server:`). "
                 "For bundles with plain tags (as copy and build write them), TAG=NAME names "
                 "that image")
      ->type_name("FROM=TO");
  app.footer(
      "Writes plugin.wasm and, when the image has them, spec.yaml, README.md, README_xx.md\n"
      "and icon.png, whatever the image's shape: Higress/ORAS artifacts, docker FROM scratch\n"
      "images (plugin.wasm in a tar.gz layer), the oci variant, raw wasm layers, wasm-to-oci,\n"
      "indexes. Every byte is verified; nothing is written unless everything verified.\n"
      "Prints the manifest digest, the sha256 of plugin.wasm and whether the gateway would\n"
      "load the image.\n"
      "A list file (plugins.properties, a plain or YAML mirror list) or a bundle holding several\n"
      "images (oci:DIR, oci-archive:FILE, docker-archive:FILE without a tag) writes each image to\n"
      "DIR/<name>/<version>/: <name> is the plugins.properties key, else the repository's last\n"
      "component (as `mirror --to plugin-server:` and `serve` name plugins), or --map FROM=TO;\n"
      "two images with one name and version are refused before anything is written. Every\n"
      "image is tried and gets a line (pulled, or failed with the reason); a failed image\n"
      "leaves nothing behind, and the command exits 1 when any failed.");
  return [args, &globals] { return RunPull(*args, globals); };
}

}  // namespace plugctl::cli
