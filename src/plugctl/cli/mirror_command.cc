// `plugctl mirror LIST|REF|BUNDLE… --to DEST`: many plugin images in one run, into a registry,
// an OCI layout or a bundle, and back out of a bundle, or into a Higress plugin-server tree
// (transfer/mirror.h).
//
// An argument is a bundle when it names a local transport (oci:, oci-archive:,
// docker-archive:), a list file when such a file exists, and an image reference otherwise.
#include <filesystem>
#include <iostream>

#include "plugctl/base/file.h"
#include "plugctl/cli/command_defs.h"
#include "plugctl/cli/plugin_report.h"
#include "plugctl/cli/registry_env.h"
#include "plugctl/transfer/convert.h"
#include "plugctl/transfer/mirror.h"
#include "plugctl/transfer/mirror_list.h"

namespace plugctl::cli {
namespace {

struct MirrorArgs {
  std::vector<std::string> inputs;
  std::string to;
  bool scoped = false;
  std::vector<std::string> maps;
  std::string prefix;
  bool dry_run = false;
  bool keep_going = false;
  int jobs = 4;
  bool no_gateway_check = false;
  bool require_loadable = false;
  std::string variant;
  SideOptions src_side;
  SideOptions dest_side;
  bool with_referrers = false;
  bool no_referrers = false;
};

Status ReadInputs(const MirrorArgs& args, std::vector<transfer::MirrorSource>& sources,
                  std::vector<transfer::Location>& bundles) {
  for (size_t i = 0; i < args.inputs.size(); ++i) {
    const std::string& input = args.inputs[i];
    if (input.starts_with(transfer::kPluginServerTransport)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "\"{}\": a plugin-server tree holds no images to mirror from; it can only "
                       "be the --to destination",
                       input);
    }
    if (transfer::IsLocalTransport(input)) {
      PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc,
                               transfer::ParseLocation(input, transfer::LocationUse::kSource));
      bundles.push_back(std::move(loc));
      continue;
    }
    std::error_code ec;
    if (std::filesystem::exists(input, ec)) {
      // A bundle named without its transport ("bundle.tar", "./layout") is read by content; any
      // other file is a list.
      PLUGCTL_ASSIGN_OR_RETURN(transfer::LocalContent content, transfer::SniffLocalPath(input));
      if (content != transfer::LocalContent::kOtherFile) {
        PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc,
                                 transfer::LocationFromContent(input, content));
        bundles.push_back(std::move(loc));
        continue;
      }
      PLUGCTL_ASSIGN_OR_RETURN(std::string text,
                               ReadFileBounded(input, transfer::kMaxMirrorListBytes));
      PLUGCTL_ASSIGN_OR_RETURN(auto parsed, transfer::ParseMirrorList(text, input));
      for (auto& s : parsed) sources.push_back(std::move(s));
      continue;
    }
    PLUGCTL_RETURN_IF_ERROR(transfer::RejectForeignTransport(input));
    if (transfer::LooksLikeLocalPath(input)) {
      return MakeError(ErrorCode::kNotFound, "{}: no such file or directory", input);
    }
    auto source = transfer::ParseMirrorReference(input, fmt::format("argument {}", i + 1));
    if (!source) {
      return tl::unexpected(source.error().WithContext(
          fmt::format("\"{}\" is neither a list file, a bundle nor an image reference", input)));
    }
    sources.push_back(std::move(*source));
  }
  return OkStatus();
}

// What ReadInputs would refuse whatever the files and registries hold (another tool's
// transport, a missing file, a malformed reference): a usage error at parse time (exit 2), as
// pull and copy give for the same arguments.
CLI::Validator MirrorInputCheck() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        if (input.starts_with(transfer::kPluginServerTransport)) return std::string();  // runtime
        if (transfer::IsLocalTransport(input)) {
          auto loc = transfer::ParseLocation(input, transfer::LocationUse::kSource);
          return loc ? std::string() : loc.error().message();
        }
        std::error_code ec;
        if (std::filesystem::exists(input, ec)) return std::string();
        if (Status foreign = transfer::RejectForeignTransport(input); !foreign) {
          return foreign.error().message();
        }
        if (transfer::LooksLikeLocalPath(input)) {
          return fmt::format("{}: no such file or directory", input);
        }
        auto source = transfer::ParseMirrorReference(input, "argument");
        return source ? std::string()
                      : fmt::format(
                            "\"{}\" is neither a list file, a bundle nor an image "
                            "reference: {}",
                            input, source.error().message());
      },
      "LIST|REF|BUNDLE");
}

std::string ItemLine(const transfer::MirrorItemResult& r) {
  using State = transfer::MirrorItemResult::State;
  // Names come from lists and registries: escaped here, since the line is printed whole.
  std::string line =
      fmt::format("{:<10} {} -> {}", transfer::MirrorStateName(r.state),
                  EscapeForText(r.item.name.ToString()), EscapeForText(r.item.DestinationString()));
  if (r.source_root) line += "  " + ShortDigest(r.source_root->digest);
  if (r.converted) {
    line += r.source_root && r.converted->digest == r.source_root->digest
                ? std::string(" (already that variant: unchanged)")
                : fmt::format(" => {} (rebuilt)", ShortDigest(r.converted->digest));
  }
  if (r.plugin_file) {
    if (r.state != State::kUpToDate) {
      line += fmt::format("  plugin.wasm {} {}", HumanBytes(r.plugin_file->size),
                          ShortDigest(r.plugin_file->sha256));
    }
  } else if (r.state == State::kCopied) {
    line += fmt::format("  {}, {}", Count(r.copy.blobs_copied + r.copy.blobs_mounted, "blob"),
                        HumanBytes(r.copy.bytes_copied));
  }
  if (r.referrers_copied + r.referrers_present > 0) {
    line += fmt::format("  {} copied", Count(r.referrers_copied, "referrer"));
    if (r.referrers_present > 0) line += fmt::format(" ({} already there)", r.referrers_present);
  }
  if (r.gateway) {
    line += fmt::format(
        "\n           {}{}", r.gateway->loadable ? "" : "! ",
        GatewayVerdict(*r.gateway, transfer::RebuildHint(*r.gateway, r.item.destination.kind),
                       "             "));
  }
  return line;
}

nlohmann::ordered_json ItemJson(const transfer::MirrorItemResult& r) {
  nlohmann::ordered_json j;
  j["source"] = r.item.name.ToString();
  j["origin"] = r.item.origin;
  j["destination"] = r.item.DestinationString();
  if (!r.item.plugin_name.empty()) j["pluginName"] = r.item.plugin_name;
  j["state"] = transfer::MirrorStateName(r.state);
  if (r.source_root) {
    j["digest"] = r.source_root->digest.ToString();
    j["mediaType"] = r.source_root->media_type;
  }
  if (r.converted) j["convertedDigest"] = r.converted->digest.ToString();
  j["blobsCopied"] = r.copy.blobs_copied;
  j["blobsSkipped"] = r.copy.blobs_skipped;
  j["blobsMounted"] = r.copy.blobs_mounted;
  j["bytesCopied"] = r.copy.bytes_copied;
  j["referrersCopied"] = r.referrers_copied;
  j["referrersPresent"] = r.referrers_present;
  if (r.gateway) {
    j["gateway"] =
        GatewayVerdictJson(*r.gateway, transfer::RebuildHint(*r.gateway, r.item.destination.kind));
  }
  if (r.plugin_file) {
    j["pluginWasm"] = {{"size", r.plugin_file->size},
                       {"sha256", r.plugin_file->sha256.ToString()},
                       {"md5", r.plugin_file->md5}};
  }
  if (r.error) j["error"] = r.error->message();
  return j;
}

Status RunMirrorCommand(const MirrorArgs& args, const GlobalOptions& globals) {
  std::vector<transfer::MirrorSource> sources;
  std::vector<transfer::Location> bundles;
  PLUGCTL_RETURN_IF_ERROR(ReadInputs(args, sources, bundles));
  PLUGCTL_ASSIGN_OR_RETURN(transfer::MirrorDestination dest,
                           transfer::ParseMirrorDestination(args.to));

  transfer::MirrorOptions options;
  options.mapping.scoped = args.scoped;
  for (const std::string& m : args.maps) {
    PLUGCTL_ASSIGN_OR_RETURN(auto rule, transfer::ParseMappingRule(m));
    options.mapping.rules.push_back(std::move(rule));
  }
  if (!args.prefix.empty()) {
    auto prefix = transfer::ParseMirrorDestination(args.prefix);
    if (!prefix || !prefix->is_registry()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "invalid --prefix \"{}\": expected a registry prefix such as "
                       "registry.local:5000/plugins",
                       args.prefix);
    }
    options.mapping.bundle_registry = prefix->location.reference.registry;
    options.mapping.bundle_path = prefix->prefix;
  }
  options.jobs = args.jobs;
  options.copy.concurrency = globals.concurrency;
  options.dry_run = args.dry_run;
  options.keep_going = args.keep_going;
  options.check_gateway = !args.no_gateway_check;
  options.require_loadable = args.require_loadable;
  if (args.require_loadable && args.no_gateway_check) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--require-loadable needs the gateway check; drop --no-gateway-check");
  }
  if (args.with_referrers && args.no_referrers) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--with-referrers and --no-referrers contradict each other");
  }
  // On by default where a bundle is involved (its point is to carry everything across an air
  // gap); registry to registry it costs a listing per image, so it is asked for.
  options.with_referrers =
      args.with_referrers ||
      (!args.no_referrers &&
       (!bundles.empty() || (!dest.is_registry() && !dest.is_plugin_server())));
  if (!args.variant.empty()) {
    PLUGCTL_ASSIGN_OR_RETURN(options.variant, plugin::ParseBuildVariant(args.variant));
    PLUGCTL_ASSIGN_OR_RETURN(options.created, SourceDateEpoch());
  }

  const bool text = globals.format == OutputFormat::kText;
  ProgressBar bar(fmt::format("mirror -> {}", dest.ToString()),
                  text && !globals.no_progress && StderrIsTerminal());
  bar.AccumulatePlans();
  options.copy.progress = bar.Callback();
  if (text) {
    options.on_item = [&bar](const transfer::MirrorItemResult& r) {
      bar.Finish();
      std::cout << ItemLine(r) << '\n' << std::flush;
    };
  }

  // Per-side options (--src-creds…) give each side sessions of its own (registry_env.h).
  PLUGCTL_ASSIGN_OR_RETURN(SideEnvs envs, SideEnvs::Make(globals, args.src_side, args.dest_side));
  TargetEnv& src_env = envs.source();
  TargetEnv& dest_env = envs.destination();
  PLUGCTL_ASSIGN_OR_RETURN(
      transfer::MirrorPlan plan,
      transfer::PlanMirror(sources, bundles, dest, options, src_env.open_options()));
  auto report = transfer::RunMirror(plan, options, src_env.open_options(), dest_env.open_options());
  bar.Finish();
  if (!report) return tl::unexpected(report.error());

  if (!text) {
    nlohmann::ordered_json out;
    out["destination"] = dest.ToString();
    out["dryRun"] = args.dry_run;
    out["images"] = nlohmann::ordered_json::array();
    for (const auto& r : report->items) {
      if (r.state == transfer::MirrorItemResult::State::kFailed && !r.error) continue;
      out["images"].push_back(ItemJson(r));
    }
    out["sourceFailures"] = nlohmann::ordered_json::array();
    for (const auto& [origin, error] : report->source_failures) {
      out["sourceFailures"].push_back({{"origin", origin}, {"error", error.message()}});
    }
    out["copied"] = report->copied;
    out["upToDate"] = report->up_to_date;
    out["failed"] = report->failed;
    out["notLoadable"] = report->not_loadable;
    out["bytesCopied"] = report->bytes_copied;
    out["referrersCopied"] = report->referrers_copied;
    if (!report->referrers_note.empty()) out["referrersNote"] = report->referrers_note;
    PrintJson(out);
  } else {
    uint64_t would = 0;
    for (const auto& r : report->items) {
      if (r.state == transfer::MirrorItemResult::State::kWouldCopy) ++would;
    }
    // Sources and bundle entries that never became items (an unreadable bundle entry, tags
    // that could not be listed): a line each beside the images', the reason on stderr below.
    for (const auto& [origin, error] : report->source_failures) {
      Print(std::cout, "{:<10} {}\n", "failed", origin);
    }
    if (args.dry_run) {
      Print(std::cout, "Dry run: {} would be copied, {} up to date at {}\n", Count(would, "image"),
            report->up_to_date, dest.ToString());
    } else {
      Print(std::cout, "Mirrored to {}: {} copied ({}), {} up to date, {} failed\n",
            dest.ToString(), report->copied, HumanBytes(report->bytes_copied), report->up_to_date,
            report->failed);
    }
    if (report->referrers_copied > 0) {
      Print(std::cout, "{} copied with their images\n",
            Count(report->referrers_copied, "referrer"));
    }
    if (!report->referrers_note.empty()) Print(std::cout, "note: {}\n", report->referrers_note);
    if (report->not_loadable > 0) {
      Print(std::cout,
            "{} will not load in the gateway (see above); --variant rebuilds such images in a "
            "loadable shape, --require-loadable refuses such lists before writing\n",
            Count(report->not_loadable, "image"));
    }
    for (const auto& [origin, error] : report->source_failures) {
      Print(std::cerr, "error: {}\n", error.message());
    }
    for (const auto& r : report->items) {
      if (r.error) Print(std::cerr, "error: {}\n", r.error->message());
    }
  }
  if (report->failed > 0) {
    return MakeError(ErrorCode::kUnavailable, "{} of {} failed", report->failed,
                     Count(report->items.size() + report->source_failures.size(), "image"));
  }
  return OkStatus();
}

}  // namespace

Action DefineMirror(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<MirrorArgs>();
  app.add_option("LIST", args->inputs,
                 "plugins.properties or YAML list files, image references, or bundles "
                 "(oci:DIR, oci-archive:FILE, docker-archive:FILE) to load")
      ->required()
      ->check(MirrorInputCheck());
  app.add_option("--to", args->to,
                 "Destination: a registry prefix (registry.local:5000/plugins), oci:DIR, "
                 "oci-archive:FILE, docker-archive:FILE, or plugin-server:DIR (Higress "
                 "plugin-server files: DIR/<name>/<version>/plugin.wasm + metadata.txt)")
      ->required()
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            // "dir:/x" would otherwise read as a registry "dir:" with an empty port.
            Status foreign = transfer::RejectForeignTransport(value);
            return foreign ? std::string() : foreign.error().message();
          },
          "DEST"));
  app.add_flag("--scoped", args->scoped,
               "Keep the source registry and whole path under the registry prefix");
  app.add_option("--map", args->maps,
                 "FROM=TO: put repositories whose name starts with FROM under TO instead "
                 "(repeatable; the longest FROM wins). For bundle destinations without --prefix, "
                 "FROM and TO are full names (host/path). For plugin-server:DIR, FROM is a plugin "
                 "name or a whole repository and TO the plugin name. For bundle sources whose "
                 "tags are plain (as copy and build write them), TAG=NAME names that image");
  app.add_option("--prefix", args->prefix,
                 "Bundle destinations: name every image as `--to PREFIX` would place it "
                 "(registry.local:5000/plugins/basic-auth:1.0.0), so `docker load` gives the "
                 "private registry's names");
  app.add_flag("--dry-run,-n", args->dry_run, "Show what would be copied; write nothing");
  app.add_flag("--keep-going", args->keep_going,
               "Go on after a failed image; report every failure at the end");
  app.add_option("--jobs,-j", args->jobs, "Images copied at once")
      ->default_val(4)
      ->check(CLI::Range(1, 64));
  app.add_flag("--no-gateway-check", args->no_gateway_check,
               "Do not check that the gateway can load each copied image");
  app.add_flag("--require-loadable", args->require_loadable,
               "Check every image first and write nothing when the gateway would not load one "
               "(the error names the --variant that fixes it)");
  app.add_option("--variant", args->variant,
                 "Rebuild every image as compat, oci or docker (changes digests)")
      ->check(CLI::IsMember({"compat", "oci", "docker"}));
  AddSideOptions(app, args->src_side, "src");
  AddSideOptions(app, args->dest_side, "dest");
  app.add_flag("--with-referrers", args->with_referrers,
               "Also copy each image's referrers (signatures, SBOMs, attached artifacts) and "
               "theirs, one level down; default on when a bundle is the source or destination");
  app.add_flag("--no-referrers", args->no_referrers, "Do not copy referrers");
  app.footer(
      "Registry destinations get each image under the prefix by its last path component\n"
      "(oci://reg.io/plugins/basic-auth:1.0.0 -> registry.local:5000/plugins/basic-auth:1.0.0);\n"
      "bundles (oci:, oci-archive:, docker-archive:) name each image by its full reference\n"
      "(--prefix and --map rename them), so `plugctl mirror oci-archive:bundle.tar --to\n"
      "registry.local:5000/plugins` loads one; bundles from copy/build (plain tags) are named\n"
      "by the plugin name they record (or --map TAG=NAME).\n"
      "Digests are preserved (unless --variant); images already at the destination are skipped.\n"
      "plugin-server:DIR writes DIR/<name>/<version>/plugin.wasm and metadata.txt for nginx:\n"
      "<name> is the plugins.properties key the image was listed under (kept in bundles written\n"
      "by mirror), else the repository's last component; <version> is the tag. Unchanged\n"
      "versions are not touched.");
  return [args, &globals] { return RunMirrorCommand(*args, globals); };
}

}  // namespace plugctl::cli
