// `plugctl build DIR -t TARGET [-t TARGET…] [--variant compat|oci|docker]`: builds a plugin
// image reproducibly (plugin/builder.h) and writes it to every target.
//
// The created time is SOURCE_DATE_EPOCH when set (https://reproducible-builds.org/specs/
// source-date-epoch/), else 0 (1970-01-01T00:00:00Z): builds are reproducible by default.
#include <cstdlib>
#include <iostream>

#include "plugctl/cli/command_defs.h"
#include "plugctl/cli/registry_env.h"
#include "plugctl/plugin/builder.h"
#include "plugctl/store/memory_target.h"
#include "plugctl/transfer/copy.h"
#include "plugctl/transfer/location.h"

namespace plugctl::cli {
namespace {

struct BuildArgs {
  std::string dir;
  std::vector<std::string> targets;
  std::string variant = "compat";
  bool allow_missing = false;
  bool strict = false;
};

// The tag to write at `loc`: the one it names, else the plugin version ("latest" without one).
// docker archives need NAME:TAG: the plugin name's first segment ("basic-auth/v1" →
// "basic-auth:1.0.0").
std::string TagFor(const transfer::Location& loc, const plugin::BuiltImage& image) {
  std::string tag = loc.ResolveRef();
  if (!tag.empty()) return tag;
  std::string version = image.version.empty() ? "latest" : image.version;
  if (loc.kind != transfer::LocationKind::kDockerArchive) return version;
  std::string name = image.name.substr(0, image.name.find('/'));
  return fmt::format("{}:{}", name.empty() ? "plugin" : name, version);
}

struct Written {
  std::string location;
  std::string tag;
  oci::Descriptor root;
};

Status RunBuild(const BuildArgs& args, const GlobalOptions& globals) {
  PLUGCTL_ASSIGN_OR_RETURN(plugin::BuildVariant variant, plugin::ParseBuildVariant(args.variant));
  std::vector<transfer::Location> locations;
  for (const std::string& text : args.targets) {
    PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::ParseLocation(text));
    if (loc.ref_is_digest() ||
        (loc.kind == transfer::LocationKind::kRegistry && loc.reference.digest)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "target {} names a digest; name a tag or nothing", text);
    }
    locations.push_back(std::move(loc));
  }
  PLUGCTL_ASSIGN_OR_RETURN(int64_t created, SourceDateEpoch());

  store::MemoryTarget mem("build " + args.dir);
  plugin::BuildOptions options{.variant = variant,
                               .allow_missing = args.allow_missing,
                               .created = created,
                               .strict = args.strict};
  PLUGCTL_ASSIGN_OR_RETURN(plugin::BuiltImage image,
                           plugin::BuildPluginImage(args.dir, options, mem));
  for (const Finding& f : image.findings) {
    if (f.severity == Severity::kWarning) Print(std::cerr, "{}\n", f.ToString());
  }

  TargetEnv env(globals);
  std::vector<Written> written;
  for (size_t i = 0; i < locations.size(); ++i) {
    const transfer::Location& loc = locations[i];
    const std::string tag = TagFor(loc, image);
    auto dst = env.Open(loc, transfer::AccessMode::kWrite);
    if (!dst) return tl::unexpected(dst.error());
    transfer::CopyOptions copy{.concurrency = globals.concurrency, .tags = {tag}};
    ProgressBar bar(
        fmt::format("build -> {}", args.targets[i]),
        !globals.no_progress && globals.format == OutputFormat::kText && StderrIsTerminal());
    copy.progress = bar.Callback();
    Result<transfer::CopyResult> result = transfer::CopyGraph(mem, image.manifest, **dst, copy);
    if (!result) return tl::unexpected(result.error().WithContext(args.targets[i]));
    Status committed = (*dst)->Commit();
    if (!committed) return tl::unexpected(committed.error().WithContext(args.targets[i]));
    bar.Finish();
    written.push_back({(*dst)->Describe(), tag, result->root});
  }

  PLUGCTL_ASSIGN_OR_RETURN(std::string created_text, plugin::FormatCreatedTime(created));
  if (globals.format == OutputFormat::kJson) {
    nlohmann::ordered_json out;
    out["directory"] = args.dir;
    out["variant"] = plugin::BuildVariantName(image.variant);
    out["name"] = image.name;
    out["version"] = image.version;
    out["title"] = image.title;
    out["created"] = created_text;
    out["mediaType"] = image.manifest.media_type;
    out["digest"] = image.manifest.digest.ToString();
    out["size"] = image.manifest.size;
    out["wasmSha256"] = image.wasm_sha256.ToString();
    out["wasmSize"] = image.wasm_size;
    out["abiVersions"] = image.module.proxy_abi_versions;
    out["config"] = image.config.ToJson();
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (const plugin::BuiltFile& f : image.files) {
      nlohmann::ordered_json j = f.layer.ToJson();
      j["file"] = f.name;
      layers.push_back(std::move(j));
    }
    out["layers"] = std::move(layers);
    nlohmann::ordered_json targets = nlohmann::ordered_json::array();
    for (const Written& w : written) {
      targets.push_back(
          {{"location", w.location}, {"tag", w.tag}, {"digest", w.root.digest.ToString()}});
    }
    out["targets"] = std::move(targets);
    nlohmann::ordered_json findings = nlohmann::ordered_json::array();
    for (const Finding& f : image.findings) {
      findings.push_back({{"severity", SeverityName(f.severity)}, {"message", f.ToString()}});
    }
    out["findings"] = std::move(findings);
    PrintJson(out);
    return OkStatus();
  }

  Print(std::cout, "Built {} {} ({}, {}, created {})\n", image.name.empty() ? args.dir : image.name,
        image.version.empty() ? "(no version)" : image.version,
        plugin::BuildVariantName(image.variant), Count(image.files.size(), "layer"), created_text);
  Print(std::cout, "  manifest     {}\n  plugin.wasm  sha256:{}  ({})\n",
        image.manifest.digest.ToString(), image.wasm_sha256.hex(), HumanBytes(image.wasm_size));
  for (const Written& w : written) {
    Print(std::cout, "  -> {}  tag {}\n     {}\n", w.location, w.tag, w.root.digest.ToString());
  }
  return OkStatus();
}

}  // namespace

Result<int64_t> SourceDateEpoch() {
  const char* env = std::getenv("SOURCE_DATE_EPOCH");
  if (env == nullptr || *env == '\0') return 0;
  std::string_view text(env);
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || value > (INT64_MAX - 9) / 10) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "SOURCE_DATE_EPOCH=\"{}\" is not a number of seconds since 1970",
                       text.substr(0, 64));
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

Action DefineBuild(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<BuildArgs>();
  app.add_option("DIR", args->dir,
                 "Plugin directory: plugin.wasm, spec.yaml, README.md, README_{lang}.md, icon.png")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--target,-t", args->targets,
                 "Where to write the image (repeatable): oci:DIR[:TAG], oci-archive:FILE[:TAG], "
                 "docker-archive:FILE[:NAME:TAG], HOST/REPO[:TAG]")
      ->required()
      ->check(LocationCheck());
  app.add_option("--variant", args->variant,
                 "compat: the Higress image spec (default); oci: 2-layer oci variant; docker: "
                 "Docker schema2 (docker load)")
      ->check(CLI::IsMember({"compat", "oci", "docker"}))
      ->default_str("compat");
  app.add_flag("--allow-missing", args->allow_missing,
               "Build without spec.yaml / README.md (the image spec requires them)");
  app.add_flag("--strict", args->strict, "Treat spec.yaml warnings as errors");
  app.footer(
      "Builds are reproducible: the same files give the same manifest digest anywhere. The\n"
      "created time is $SOURCE_DATE_EPOCH when set, else 1970-01-01T00:00:00Z. A target without\n"
      "a tag is tagged with the spec.yaml version (docker archives: NAME:VERSION).");
  return [args, &globals] { return RunBuild(*args, globals); };
}

}  // namespace plugctl::cli
