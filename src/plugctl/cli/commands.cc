// The command table: one entry per subcommand.
#include <filesystem>
#include <iostream>

#include <fmt/ranges.h>

#include "plugctl/base/file.h"
#include "plugctl/cli/command.h"
#include "plugctl/cli/command_defs.h"
#include "plugctl/cli/demo.h"
#include "plugctl/cli/plugin_report.h"
#include "plugctl/cli/registry_env.h"
#include "plugctl/oci/json.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/plugin/builder.h"
#include "plugctl/plugin/loadability.h"
#include "plugctl/store/content.h"
#include "plugctl/transfer/convert.h"
#include "plugctl/transfer/copy.h"
#include "plugctl/transfer/copy_tag.h"
#include "plugctl/transfer/location.h"
#include "plugctl/wasm/wasm_module.h"

#ifndef PLUGCTL_VERSION
#define PLUGCTL_VERSION "dev"
#endif

namespace plugctl::cli {
namespace {

// Configs larger than this are described, not shown.
constexpr size_t kMaxShownConfig = 1 << 20;

// ---- version ----
Action DefineVersion(CLI::App&, const GlobalOptions& globals) {
  return [&globals]() -> Status {
    if (globals.format == OutputFormat::kJson) {
      PrintJson({{"version", PLUGCTL_VERSION}});
    } else {
      std::cout << "plugctl " << PLUGCTL_VERSION << '\n';
    }
    return OkStatus();
  };
}

// ---- copy ----
struct CopyArgs {
  std::string src;
  std::string dst;
  std::vector<std::string> extra_tags;
  std::string variant;
  bool require_loadable = false;
  bool no_gateway_check = false;
  SideOptions src_side;
  SideOptions dest_side;
};

// `copy --variant`: a rebuilt image, which has a digest of its own. The rebuild happens in
// memory and is checked before the destination is opened, so a refused image writes nothing.
Status RunConvert(const CopyArgs& args, store::Target& src, const transfer::Location& src_loc,
                  TargetEnv& env, const transfer::Location& dst_loc,
                  const transfer::CopyOptions& copy, ProgressBar& bar,
                  const GlobalOptions& globals) {
  transfer::ConvertOptions options;
  PLUGCTL_ASSIGN_OR_RETURN(options.variant, plugin::ParseBuildVariant(args.variant));
  PLUGCTL_ASSIGN_OR_RETURN(options.created, SourceDateEpoch());
  options.copy = copy;
  options.check_gateway = !args.no_gateway_check;
  options.require_loadable = args.require_loadable;
  auto root = src.Resolve(src_loc.ResolveRef());
  if (!root) {
    return tl::unexpected(root.error().WithContext(
        fmt::format("resolve \"{}\" in {}", src_loc.ResolveRef(), src.Describe())));
  }
  PLUGCTL_ASSIGN_OR_RETURN(transfer::RebuiltImage rebuilt,
                           transfer::RebuildImage(src, *root, options));
  PLUGCTL_ASSIGN_OR_RETURN(auto dst, env.Open(dst_loc, transfer::AccessMode::kWrite));
  auto copied = transfer::CopyGraph(*rebuilt.content, rebuilt.manifest, *dst, copy);
  if (!copied) {
    return tl::unexpected(copied.error().WithContext(fmt::format(
        "copy the rebuilt {} to {}", rebuilt.manifest.digest.ToString(), dst->Describe())));
  }
  PLUGCTL_RETURN_IF_ERROR(dst->Commit());
  bar.Finish();
  const oci::Descriptor& built = rebuilt.manifest;
  const std::string hint =
      rebuilt.gateway ? transfer::RebuildHint(*rebuilt.gateway, dst_loc.kind) : "";
  if (globals.format == OutputFormat::kJson) {
    nlohmann::ordered_json out{{"source", src.Describe()},
                               {"destination", dst->Describe()},
                               {"variant", plugin::BuildVariantName(options.variant)},
                               {"sourceDigest", root->digest.ToString()},
                               {"digest", built.digest.ToString()},
                               {"mediaType", built.media_type},
                               {"size", built.size},
                               {"tags", copy.tags},
                               {"wasmSha256", rebuilt.wasm_sha256.ToString()},
                               {"blobsCopied", copied->blobs_copied},
                               {"blobsSkipped", copied->blobs_skipped},
                               {"bytesCopied", copied->bytes_copied},
                               {"unchanged", rebuilt.unchanged},
                               {"notes", rebuilt.notes}};
    if (!rebuilt.metadata.empty()) {
      const plugin::ImageMetadata& m = rebuilt.metadata;
      out["metadata"] = {{"name", m.name},
                         {"title", m.title},
                         {"version", m.version},
                         {"description", m.description},
                         {"created", m.created}};
    }
    if (rebuilt.gateway) out["gateway"] = GatewayVerdictJson(*rebuilt.gateway, hint);
    PrintJson(out);
    return OkStatus();
  }
  if (rebuilt.unchanged) {
    Print(std::cout,
          "Copied {} -> {} unchanged (already the {} variant)\n  digest {}\n  plugin.wasm "
          "sha256 {}\n",
          args.src, args.dst, plugin::BuildVariantName(options.variant), built.digest.ToString(),
          rebuilt.wasm_sha256.hex());
  } else {
    Print(std::cout,
          "Rebuilt {} as the {} variant -> {}\n  digest {} (was {}: pinned sha256 values must be "
          "regenerated)\n  plugin.wasm sha256 {} (unchanged)\n",
          args.src, plugin::BuildVariantName(options.variant), args.dst, built.digest.ToString(),
          root->digest.ToString(), rebuilt.wasm_sha256.hex());
  }
  if (!copy.tags.empty()) Print(std::cout, "  tagged {}\n", fmt::join(copy.tags, ", "));
  if (rebuilt.gateway) std::cout << "  " << GatewayVerdict(*rebuilt.gateway, hint, "  ") << '\n';
  for (const std::string& note : rebuilt.notes) Print(std::cout, "  note: {}\n", note);
  return OkStatus();
}

Status RunCopy(const CopyArgs& args, const GlobalOptions& globals) {
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location src_loc, transfer::ParseLocation(args.src));
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location dst_loc, transfer::ParseLocation(args.dst));
  if (dst_loc.ref_is_digest() ||
      (dst_loc.kind == transfer::LocationKind::kRegistry && dst_loc.reference.digest)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "destination {} names a digest; name a tag or nothing", args.dst);
  }
  if (args.require_loadable && args.no_gateway_check) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--require-loadable needs the gateway check; drop --no-gateway-check");
  }
  // Per-side options (--src-creds…) give each side sessions of its own (registry_env.h).
  PLUGCTL_ASSIGN_OR_RETURN(SideEnvs envs, SideEnvs::Make(globals, args.src_side, args.dest_side));
  TargetEnv& src_env = envs.source();
  TargetEnv& env = envs.destination();
  PLUGCTL_ASSIGN_OR_RETURN(auto src, src_env.Open(src_loc, transfer::AccessMode::kRead));

  transfer::CopyOptions options;
  options.concurrency = globals.concurrency;
  // Without a destination tag, the source's (or one derived from it: transfer/copy_tag.h); a
  // copy nobody could find is refused unless --tag names it.
  Result<std::string> dst_tag = transfer::ChooseCopyTag(*src, src_loc, dst_loc);
  if (!dst_tag &&
      (args.extra_tags.empty() || dst_tag.error().code() != ErrorCode::kFailedPrecondition)) {
    return tl::unexpected(dst_tag.error());
  }
  if (dst_tag && !dst_tag->empty()) options.tags.push_back(*dst_tag);
  for (const auto& tag : args.extra_tags) {
    // Refused before anything moves, not after the blobs were uploaded.
    if (Status valid = transfer::ValidateTagFor(dst_loc.kind, tag); !valid) {
      return tl::unexpected(
          valid.error().WithContext(fmt::format("--tag for {}", dst_loc.ToString())));
    }
    options.tags.push_back(tag);
  }
  if (!args.variant.empty() && options.tags.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a rebuilt image has a digest of its own and needs a tag; name one: {}:TAG",
                     dst_loc.ToString());
  }
  // The destination is opened (and created) only once the tag is settled and the gateway
  // check passed: a refused copy leaves no new, empty layout behind.
  ProgressBar bar(fmt::format("copy {}", args.src), !globals.no_progress &&
                                                        globals.format == OutputFormat::kText &&
                                                        StderrIsTerminal());
  options.progress = bar.Callback();
  if (!args.variant.empty()) {
    return RunConvert(args, *src, src_loc, env, dst_loc, options, bar, globals);
  }
  auto root = src->Resolve(src_loc.ResolveRef());
  if (!root) {
    return tl::unexpected(root.error().WithContext(
        fmt::format("source: resolve \"{}\" in {}", src_loc.ResolveRef(), src->Describe())));
  }
  // The copy keeps the digest, so the source's verdict is the destination's. It is decided
  // before the copy when --require-loadable must refuse before the destination is opened (and
  // created), or when the source is local (no transfer); otherwise after the copy from the
  // destination, so a registry source is read once. Without --require-loadable a source check
  // that cannot run is redone on the destination after the copy; one that cannot run there
  // either leaves the copy (and its own errors) as they were.
  std::optional<plugin::LoadabilityReport> gateway;
  std::optional<Error> gateway_error;
  auto check = [&](store::Target& target, const oci::Descriptor& image) -> Status {
    auto report = plugin::CheckGatewayLoadability(target, image);
    if (!report) {
      if (args.require_loadable) {
        return tl::unexpected(report.error().WithContext("gateway check"));
      }
      gateway_error = report.error();
      return OkStatus();
    }
    if (args.require_loadable && !report->loadable) {
      return tl::unexpected(transfer::NotLoadableError(
          fmt::format("{} (nothing was copied)", args.src), *report, dst_loc.kind));
    }
    gateway = std::move(*report);
    return OkStatus();
  };
  const bool check_first =
      args.require_loadable || src_loc.kind != transfer::LocationKind::kRegistry;
  if (!args.no_gateway_check && check_first) PLUGCTL_RETURN_IF_ERROR(check(*src, *root));
  PLUGCTL_ASSIGN_OR_RETURN(auto dst, env.Open(dst_loc, transfer::AccessMode::kWrite));
  auto copied = transfer::CopyGraph(*src, *root, *dst, options);
  if (!copied) {
    // The source was read (and its credentials accepted) by Resolve above, so a refusal of
    // credentials now comes from the destination.
    const ErrorCode code = copied.error().code();
    if (code == ErrorCode::kUnauthenticated || code == ErrorCode::kPermissionDenied) {
      return tl::unexpected(copied.error().WithContext("destination " + dst->Describe()));
    }
    return tl::unexpected(copied.error());
  }
  transfer::CopyResult result = std::move(*copied);
  // A source check that could not read the image (a blob missing there that the destination
  // already had, so the copy skipped it) is redone on the destination, which now holds it all.
  if (!args.no_gateway_check && (!check_first || gateway_error)) {
    gateway_error.reset();
    PLUGCTL_RETURN_IF_ERROR(check(*dst, result.root));
  }
  PLUGCTL_RETURN_IF_ERROR(dst->Commit());
  bar.Finish();

  const std::string hint = gateway ? transfer::RebuildHint(*gateway, dst_loc.kind) : "";
  if (globals.format == OutputFormat::kJson) {
    nlohmann::ordered_json out{{"source", src->Describe()},
                               {"destination", dst->Describe()},
                               {"digest", result.root.digest.ToString()},
                               {"mediaType", result.root.media_type},
                               {"size", result.root.size},
                               {"tags", options.tags},
                               {"manifests", result.manifests},
                               {"blobsCopied", result.blobs_copied},
                               {"blobsSkipped", result.blobs_skipped},
                               {"blobsMounted", result.blobs_mounted},
                               {"bytesCopied", result.bytes_copied}};
    if (gateway) out["gateway"] = GatewayVerdictJson(*gateway, hint);
    if (gateway_error) out["gatewayError"] = gateway_error->message();
    PrintJson(out);
  } else {
    Print(std::cout, "Copied {} -> {}\n  digest {}\n  {} copied ({}), {} already present{}\n",
          args.src, args.dst, result.root.digest.ToString(), Count(result.blobs_copied, "blob"),
          HumanBytes(result.bytes_copied), result.blobs_skipped,
          result.blobs_mounted > 0 ? fmt::format(", {} mounted", result.blobs_mounted) : "");
    // The tag may have been derived (transfer/copy_tag.h): say which, or the copy looks untagged.
    if (!options.tags.empty()) Print(std::cout, "  tagged {}\n", fmt::join(options.tags, ", "));
    if (gateway) std::cout << "  " << GatewayVerdict(*gateway, hint, "  ") << '\n';
    if (gateway_error) Print(std::cout, "  gateway: not checked: {}\n", gateway_error->message());
  }
  return OkStatus();
}

Action DefineCopy(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<CopyArgs>();
  app.add_option("SRC", args->src, "Source image location")
      ->required()
      ->check(SourceLocationCheck());
  app.add_option("DST", args->dst, "Destination location")->required()->check(LocationCheck());
  app.add_option("--tag,-t", args->extra_tags, "Also tag the copy with TAG (repeatable)");
  app.add_option("--variant", args->variant,
                 "Rebuild the plugin in this shape instead of copying it: compat, oci or docker "
                 "(the digest changes)")
      ->check(CLI::IsMember({"compat", "oci", "docker"}));
  app.add_flag("--require-loadable", args->require_loadable,
               "Refuse, before writing anything, an image the gateway would not load (the error "
               "names the --variant that fixes it)");
  app.add_flag("--no-gateway-check", args->no_gateway_check,
               "Do not check whether the gateway would load the image (skips reading its wasm "
               "layer)");
  AddSideOptions(app, args->src_side, "src");
  AddSideOptions(app, args->dest_side, "dest");
  app.footer(
      "Locations: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:NAME:TAG],\n"
      "           [docker://|oci://]HOST[:PORT]/REPO[:TAG|@DIGEST].\n"
      "Digests are preserved: without --variant a copy never rewrites a manifest.");
  return [args, &globals] { return RunCopy(*args, globals); };
}

// ---- inspect ----
struct InspectArgs {
  std::string location;
  bool no_gateway = false;
  bool verbose = false;
};

// `inspect plugin.wasm`: the module alone.
Status InspectWasmFile(const InspectArgs& args, const GlobalOptions& globals) {
  PLUGCTL_ASSIGN_OR_RETURN(std::string bytes,
                           ReadFileBounded(args.location, wasm::kMaxWasmModuleBytes));
  PLUGCTL_ASSIGN_OR_RETURN(wasm::WasmModuleInfo module, wasm::ParseWasmModule(bytes));
  std::vector<Finding> findings = wasm::CheckProxyWasm(module, args.location);
  if (globals.format == OutputFormat::kJson) {
    nlohmann::ordered_json out = WasmJson(module);
    out["file"] = args.location;
    out["sha256"] = oci::Digest::Of(bytes).ToString();
    out["size"] = bytes.size();
    out["findings"] = FindingsJson(findings);
    PrintJson(out);
  } else {
    Print(std::cout, "{}: wasm module, {} bytes, sha256 {}\n", args.location, bytes.size(),
          oci::Digest::Of(bytes).hex());
    PrintWasm(module, args.verbose);
    PrintFindings(findings);
  }
  return OkStatus();
}

nlohmann::ordered_json DescriptorJson(const oci::Descriptor& d) {
  nlohmann::ordered_json j = d.ToJson();
  return j;
}

// The tags `inspect` resolved: the one the location names (a registry location without one
// means "latest"), or, for a local image named by digest or as the only image, every tag of
// the target that points at it. Empty when the image has none or was named by digest in a
// registry (listing a registry's tags could be thousands of requests).
Result<std::vector<std::string>> ResolvedTags(const transfer::Location& loc, store::Target& target,
                                              const oci::Descriptor& root) {
  if (!loc.ref.empty() && !loc.ref_is_digest() &&
      !(loc.kind == transfer::LocationKind::kRegistry && loc.reference.digest)) {
    return std::vector<std::string>{loc.ResolveRef()};
  }
  if (loc.kind == transfer::LocationKind::kRegistry) {
    if (loc.reference.digest) return std::vector<std::string>{};
    return std::vector<std::string>{"latest"};
  }
  std::vector<std::string> out;
  PLUGCTL_ASSIGN_OR_RETURN(std::vector<std::string> all, target.Tags());
  for (const std::string& tag : all) {
    auto desc = target.Resolve(tag);
    if (desc && desc->digest == root.digest) out.push_back(tag);
  }
  return out;
}

Status RunInspect(const InspectArgs& args, const GlobalOptions& globals) {
  std::error_code ec;
  // A file on disk is a wasm module unless it is an archive (read as its image; the sniff is
  // not repeated, a docker archive's tar is read to its end to find manifest.json).
  transfer::Location loc;
  std::optional<transfer::LocalContent> content;
  if (std::filesystem::is_regular_file(args.location, ec)) {
    if (auto sniffed = transfer::SniffLocalPath(args.location)) content = *sniffed;
  }
  if (content && *content == transfer::LocalContent::kOtherFile) {
    return InspectWasmFile(args, globals);
  }
  if (content) {
    PLUGCTL_ASSIGN_OR_RETURN(loc, transfer::LocationFromContent(args.location, *content));
  } else {
    PLUGCTL_ASSIGN_OR_RETURN(loc, transfer::ParseLocation(args.location));
  }
  TargetEnv env(globals);
  PLUGCTL_ASSIGN_OR_RETURN(auto target, env.Open(loc, transfer::AccessMode::kRead));
  PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor root, target->Resolve(loc.ResolveRef()));
  PLUGCTL_ASSIGN_OR_RETURN(oci::Manifest manifest, store::FetchManifest(*target, root));
  PLUGCTL_ASSIGN_OR_RETURN(std::vector<std::string> tags, ResolvedTags(loc, *target, root));

  std::optional<nlohmann::ordered_json> config_content;
  if (manifest.config && manifest.config->size <= static_cast<int64_t>(kMaxShownConfig)) {
    auto bytes = store::FetchBlob(*target, *manifest.config, kMaxShownConfig);
    if (!bytes) return tl::unexpected(bytes.error().WithContext("config"));
    auto parsed = oci::ParseOrderedJson(*bytes, "config");
    if (parsed) config_content = std::move(*parsed);
  }

  // What the gateway would make of it (reads the wasm layer; --no-gateway skips).
  std::optional<plugin::LoadabilityReport> gateway;
  if (!args.no_gateway) {
    auto report = plugin::CheckGatewayLoadability(*target, root);
    if (!report) return tl::unexpected(report.error().WithContext("gateway check"));
    gateway = std::move(*report);
  }

  if (globals.format == OutputFormat::kJson) {
    nlohmann::ordered_json out;
    out["location"] = target->Describe();
    out["tags"] = tags;
    out["mediaType"] = manifest.media_type;
    out["digest"] = root.digest.ToString();
    out["size"] = root.size;
    if (!manifest.artifact_type.empty()) out["artifactType"] = manifest.artifact_type;
    if (manifest.config) {
      out["config"] = DescriptorJson(*manifest.config);
      if (config_content) out["config"]["content"] = *config_content;
    }
    if (!manifest.is_index()) {
      out["layers"] = nlohmann::ordered_json::array();
      for (const auto& layer : manifest.layers) out["layers"].push_back(DescriptorJson(layer));
    } else {
      out["manifests"] = nlohmann::ordered_json::array();
      for (const auto& m : manifest.manifests) out["manifests"].push_back(DescriptorJson(m));
    }
    if (!manifest.annotations.empty()) out["annotations"] = manifest.annotations;
    if (gateway) {
      out["gateway"] = GatewayJson(*gateway);
      if (gateway->module) out["wasm"] = WasmJson(*gateway->module);
    }
    out["manifest"] = oci::ParseOrderedJson(manifest.raw, "manifest").value_or(nullptr);
    PrintJson(out);
    return OkStatus();
  }

  Print(std::cout, "Location:    {}\n", target->Describe());
  if (!tags.empty()) {
    std::string shown;
    for (const std::string& tag : tags) shown += (shown.empty() ? "" : ", ") + EscapeForText(tag);
    Print(std::cout, "Tag:         {}\n", shown);
  }
  Print(std::cout, "Media type:  {}\nDigest:      {}\nSize:        {}\n", manifest.media_type,
        root.digest.ToString(), root.size);
  if (!manifest.artifact_type.empty()) {
    Print(std::cout, "Artifact:    {}\n", manifest.artifact_type);
  }
  for (const auto& [key, value] : manifest.annotations) {
    Print(std::cout, "Annotation:  {}={}\n", key, value);
  }
  if (manifest.config) {
    Print(std::cout, "Config:      {}  {}  {}\n", manifest.config->media_type,
          ShortDigest(manifest.config->digest),
          HumanBytes(static_cast<uint64_t>(manifest.config->size)));
  }
  if (manifest.is_index()) {
    Print(std::cout, "Manifests:   {}\n", manifest.manifests.size());
    for (size_t i = 0; i < manifest.manifests.size(); ++i) {
      const auto& m = manifest.manifests[i];
      Print(std::cout, "  {:>2}  {:<20} {:<55} {:>10}  {}\n", i,
            m.platform ? m.platform->ToString() : "-", m.media_type,
            HumanBytes(static_cast<uint64_t>(m.size)), ShortDigest(m.digest));
    }
  } else {
    Print(std::cout, "Layers:      {}\n", manifest.layers.size());
    for (size_t i = 0; i < manifest.layers.size(); ++i) {
      const auto& l = manifest.layers[i];
      std::string title = l.Title();
      Print(std::cout, "  {:>2}  {:<55} {:>10}  {}  {}\n", i, l.media_type,
            HumanBytes(static_cast<uint64_t>(l.size)), ShortDigest(l.digest),
            title.empty() ? "-" : title);
    }
  }
  if (gateway) {
    PrintGateway(*gateway);
    if (gateway->module) {
      std::cout << "Wasm:\n";
      PrintWasm(*gateway->module, args.verbose);
    }
  }
  return OkStatus();
}

Action DefineInspect(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<InspectArgs>();
  app.add_option("IMAGE", args->location,
                 "Image location (see `plugctl copy --help`), or a plugin.wasm file")
      ->required()
      ->check(LocationOrFileCheck());
  app.add_flag("--no-gateway", args->no_gateway,
               "Skip the gateway check (which reads the wasm layer)");
  app.add_flag("--verbose,-v", args->verbose, "List every wasm import and export");
  return [args, &globals] { return RunInspect(*args, globals); };
}

// ---- tags ----
struct TagsArgs {
  std::string location;
};

Status RunTags(const TagsArgs& args, const GlobalOptions& globals) {
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::ParseLocation(args.location));
  TargetEnv env(globals);
  PLUGCTL_ASSIGN_OR_RETURN(auto target, env.Open(loc, transfer::AccessMode::kRead));
  PLUGCTL_ASSIGN_OR_RETURN(std::vector<std::string> tags, target->Tags());
  if (globals.format == OutputFormat::kJson) {
    PrintJson({{"location", target->Describe()}, {"tags", tags}});
  } else {
    for (const auto& tag : tags) Print(std::cout, "{}\n", tag);
  }
  return OkStatus();
}

Action DefineTags(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<TagsArgs>();
  app.add_option("TARGET", args->location, "Repository, layout or archive")
      ->required()
      ->check(LocationCheck());
  return [args, &globals] { return RunTags(*args, globals); };
}

// ---- demo ----
struct DemoArgs {
  std::string dir;
};

Action DefineDemo(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<DemoArgs>();
  app.add_option("--dir", args->dir, "Where to write the demo layout and archives")
      ->default_str("./plugctl-demo");
  return [args, &globals] {
    return RunDemo(args->dir.empty() ? "plugctl-demo" : args->dir,
                   globals.format == OutputFormat::kJson);
  };
}

// ORAS's spelling (`oras repo ls`, `oras repo tags`, as the Higress docs use them) of catalog
// and tags, so commands copied from those docs work with only the program name changed.
Action DefineRepo(CLI::App& app, const GlobalOptions& globals) {
  app.require_subcommand(1, 1);
  CLI::App* ls = app.add_subcommand("ls", "List the repositories of a registry (plugctl catalog)");
  Action list = DefineCatalog(*ls, globals);
  CLI::App* tags = app.add_subcommand("tags", "List the tags of a repository (plugctl tags)");
  Action list_tags = DefineTags(*tags, globals);
  return [ls, list, list_tags]() -> Status { return ls->parsed() ? list() : list_tags(); };
}

constexpr CommandSpec kCommands[] = {
    {"copy", "Copy an image between registries, layouts and archives (digests preserved)",
     DefineCopy},
    {"inspect", "Show an image's manifest, config and layers", DefineInspect},
    {"validate", "Check a plugin directory or image against the Higress Wasm image spec",
     DefineValidate},
    {"config", "Check plugin configurations (config check)", DefineConfig},
    {"build", "Build a plugin image from a directory, reproducibly (Higress image spec)",
     DefineBuild},
    {"pull", "Extract a plugin (plugin.wasm, spec.yaml, README*.md, icon.png) from any image shape",
     DefinePull},
    {"push", "Push any files as one OCI artifact (ORAS style: titled layers, artifactType)",
     DefinePush},
    {"attach", "Push files as an artifact referring to an image (subject; see referrers)",
     DefineAttach},
    {"init", "Scaffold a plugin directory (spec.yaml, READMEs, C source, build script)",
     DefineInit},
    {"wasmplugin", "Print a Higress WasmPlugin resource pinning a plugin image (url, sha256)",
     DefineWasmPlugin},
    {"mirror",
     "Mirror lists of plugin images into a registry, layout or bundle, and load bundles back",
     DefineMirror},
    {"tags", "List the tags of a repository, layout or archive", DefineTags},
    {"resolve", "Print the digest an image reference resolves to", DefineResolve},
    {"tag", "Add tags to an image in place", DefineTag},
    {"delete", "Delete an image from a registry (by digest; refuses to drop other tags silently)",
     DefineDelete},
    {"catalog", "List the repositories of a registry", DefineCatalog},
    {"repo", "ORAS spellings: repo ls HOST (catalog), repo tags REPO (tags)", DefineRepo},
    {"referrers",
     "List the artifacts (signatures, SBOMs…) that refer to an image (referrers API or tag schema)",
     DefineReferrers},
    {"serve", "Run an OCI registry over a layout directory (distribution spec v1.1, auth, TLS)",
     DefineServe},
    {"gc", "Remove blobs no image of a registry directory reaches", DefineGc},
    {"login", "Store credentials for a registry (docker config.json)", DefineLogin},
    {"logout", "Remove stored credentials for a registry", DefineLogout},
    {"demo", "Write a sample plugin image to a local OCI layout and read it back", DefineDemo},
    {"version", "Print the plugctl version", DefineVersion},
};

}  // namespace

CLI::Validator LocationCheck() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        auto loc = transfer::ParseLocation(value);
        return loc ? std::string() : loc.error().message();
      },
      "LOCATION");
}

CLI::Validator SourceLocationCheck() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        auto loc = transfer::ParseLocation(value, transfer::LocationUse::kSource);
        return loc ? std::string() : loc.error().message();
      },
      "LOCATION");
}

CLI::Validator LocationOrFileCheck() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        std::error_code ec;
        if (std::filesystem::is_regular_file(value, ec)) return std::string();
        auto loc = transfer::ParseLocation(value, transfer::LocationUse::kSource);
        return loc ? std::string() : loc.error().message();
      },
      "LOCATION|FILE");
}

std::span<const CommandSpec> Commands() { return kCommands; }

}  // namespace plugctl::cli
