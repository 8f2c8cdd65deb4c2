// `plugctl wasmplugin IMAGE...`: a Higress WasmPlugin resource per image, with the url and the
// sha256 the gateway will check (see plugin/wasmplugin.h for the rules), ready for kubectl.
#include <iostream>

#include "plugctl/base/file.h"
#include "plugctl/cli/command_defs.h"
#include "plugctl/cli/plugin_report.h"
#include "plugctl/cli/registry_env.h"
#include "plugctl/oci/plugin_name.h"
#include "plugctl/plugin/extract.h"
#include "plugctl/plugin/validate.h"
#include "plugctl/transfer/location.h"
#include "plugctl/wasmplugin/wasmplugin.h"
#include "plugctl/wasmplugin/yaml_emit.h"

namespace plugctl::cli {
namespace {

// Configurations are bounded like `config check`'s.
constexpr size_t kMaxConfigBytes = 4 << 20;

struct WasmPluginArgs {
  std::vector<std::string> images;
  std::string config;
  std::string name;
  std::string ns = std::string(wasmplugin::kDefaultWasmPluginNamespace);
  std::string url_prefix;
  std::string spec;
  std::string platform;
  std::string out;
};

void Warn(const std::string& image, const std::string& message) {
  Print(std::cerr, "warning: {}: {}\n", image, message);
}

// The spec the resource is made from: --spec, else the image's own spec.yaml, else none.
Result<std::optional<spec::ParsedSpec>> ImageSpec(const std::string& image,
                                                  const std::filesystem::path& dir,
                                                  const std::optional<spec::ParsedSpec>& given) {
  auto own = plugin::LoadSpec(dir);
  bool has_own = own.has_value();
  if (!own && own.error().code() != ErrorCode::kNotFound) {
    if (!given) return tl::unexpected(own.error().WithContext(image + ": spec.yaml"));
    has_own = true;  // unreadable, but --spec replaces it anyway
  }
  if (given) {
    if (has_own) Warn(image, "using --spec instead of the image's own spec.yaml");
    return given;
  }
  if (!has_own) return std::optional<spec::ParsedSpec>();
  if (HasErrors(own->findings)) {
    Warn(image, fmt::format("its spec.yaml has errors (see `plugctl validate {}`); phase and "
                            "priority are taken as read",
                            image));
  }
  return std::optional<spec::ParsedSpec>(std::move(*own));
}

Result<nlohmann::ordered_json> MakeOne(const std::string& image, const WasmPluginArgs& args,
                                       const std::optional<spec::ParsedSpec>& given_spec,
                                       const std::optional<std::string>& config_text,
                                       TargetEnv& env) {
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::ParseLocation(image));
  plugin::ExtractOptions options;
  if (!args.platform.empty()) {
    PLUGCTL_ASSIGN_OR_RETURN(options.platform, oci::Platform::Parse(args.platform));
  }
  options.check_gateway = true;
  PLUGCTL_ASSIGN_OR_RETURN(auto target, env.Open(loc, transfer::AccessMode::kRead));
  PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor root, target->Resolve(loc.ResolveRef()));
  PLUGCTL_ASSIGN_OR_RETURN(auto temp, TempDir::Create("plugctl-wasmplugin"));
  const std::filesystem::path dir = temp->path() / "plugin";
  auto extracted = plugin::ExtractPlugin(*target, root, dir, options);
  if (!extracted) return tl::unexpected(extracted.error().WithContext(image));
  const plugin::ExtractResult& r = *extracted;

  PLUGCTL_ASSIGN_OR_RETURN(std::optional<spec::ParsedSpec> parsed,
                           ImageSpec(image, dir, given_spec));
  const spec::PluginSpec* spec = parsed ? &parsed->spec : nullptr;
  if (spec == nullptr) {
    Warn(image,
         "no spec.yaml (official Higress images carry none; pass --spec FILE, e.g. from "
         "the Higress console's plugin specs): phase and priority are left out");
  }

  wasmplugin::PinRequest pin_request;
  if (loc.kind == transfer::LocationKind::kRegistry) {
    pin_request.source.registry = loc.reference;
  } else {
    pin_request.source.local_ref = loc.ref;
    // `docker-archive:saved.tar` names its only image; its one tag names it as well.
    if (loc.ref.empty()) {
      auto tags = target->Tags();
      if (tags && tags->size() == 1) pin_request.source.local_ref = tags->front();
    }
  }
  pin_request.root_digest = r.root.digest;
  // The gateway resolves an index to linux/amd64 whatever --platform says.
  if (r.gateway && r.gateway->manifest) {
    pin_request.gateway_manifest = r.gateway->manifest->digest;
  } else if (!r.platform) {
    pin_request.gateway_manifest = r.manifest.digest;
  }
  pin_request.wasm_sha256 = r.wasm_sha256;
  pin_request.spec = spec;
  pin_request.url_prefix = args.url_prefix;
  // A bundle mirrored from plugins.properties names the plugin by its key.
  if (auto listed = r.root.annotations.find(std::string(oci::kAnnotationPluginName));
      listed != r.root.annotations.end()) {
    pin_request.plugin_name = listed->second;
  }
  auto pin = wasmplugin::PinPlugin(pin_request);
  if (!pin) return tl::unexpected(pin.error().WithContext(image));
  bool oci_url = pin->url.starts_with("oci://");

  if (r.gateway && !r.gateway->loadable) {
    std::string why = fmt::format("{}", fmt::join(r.gateway->reasons, "; "));
    if (oci_url) {
      Warn(image, "the gateway would not load this image: " + why);
    } else {
      Warn(image, "the gateway could not load this image from a registry (" + why +
                      "); an http(s):// URL serves plugin.wasm itself, which is what counts");
    }
  }
  if (oci_url && r.platform && r.gateway && r.gateway->platform &&
      r.platform->ToString() != r.gateway->platform->ToString()) {
    Warn(image, fmt::format("the gateway loads the index's {} image, not the {} one --platform "
                            "chose; sha256 is that of the {} image",
                            r.gateway->platform->ToString(), r.platform->ToString(),
                            r.gateway->platform->ToString()));
  }

  std::optional<wasmplugin::WasmPluginConfig> config;
  if (config_text) {
    config = wasmplugin::ReadWasmPluginConfig(
        spec, *config_text, std::filesystem::path(args.config).filename().string());
  }
  wasmplugin::WasmPluginRequest request{
      .name = !args.name.empty() ? args.name : pin->name,
      .ns = args.ns,
      .pin = *pin,
      .spec = spec,
      .config = config ? &*config : nullptr,
  };
  if (request.name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: no name for the WasmPlugin (no spec.yaml and no repository): pass --name",
                     image);
  }
  auto made = wasmplugin::MakeWasmPlugin(request);
  if (!made) {
    std::string hint = args.name.empty() ? " (derived from the image; pass --name)" : "";
    return tl::unexpected(made.error().WithContext(image).WithContext("WasmPlugin" + hint));
  }
  if (!made->findings.empty()) {
    Print(std::cerr, "{}:\n", image);
    PrintFindings(made->findings, std::cerr);
  }
  if (HasErrors(made->findings)) {
    return MakeError(ErrorCode::kFailedPrecondition, "{} does not fit {}'s schemas: {}",
                     args.config, image, CountFindings(made->findings));
  }
  return std::move(made->resource);
}

Status RunWasmPlugin(const WasmPluginArgs& args, const GlobalOptions& globals) {
  if (!args.name.empty() && args.images.size() > 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--name with {} images would give them all one name; name them one by one",
                     args.images.size());
  }
  std::optional<spec::ParsedSpec> given_spec;
  if (!args.spec.empty()) {
    PLUGCTL_ASSIGN_OR_RETURN(std::string text, ReadFileBounded(args.spec, 1 << 20));
    std::string file = std::filesystem::path(args.spec).filename().string();
    auto parsed = spec::ParseSpecYaml(text, file);
    if (!parsed) return tl::unexpected(parsed.error().WithContext(args.spec));
    if (HasErrors(parsed->findings)) {
      PrintFindings(parsed->findings, std::cerr);
      return MakeError(ErrorCode::kFailedPrecondition, "{} is not a valid spec.yaml: {}", args.spec,
                       CountFindings(parsed->findings));
    }
    given_spec = std::move(*parsed);
  }
  std::optional<std::string> config_text;
  if (!args.config.empty()) {
    PLUGCTL_ASSIGN_OR_RETURN(config_text, ReadFileBounded(args.config, kMaxConfigBytes));
  }

  TargetEnv env(globals);
  std::vector<nlohmann::ordered_json> resources;
  for (const std::string& image : args.images) {
    PLUGCTL_ASSIGN_OR_RETURN(nlohmann::ordered_json resource,
                             MakeOne(image, args, given_spec, config_text, env));
    resources.push_back(std::move(resource));
  }

  std::string output;
  if (globals.format == OutputFormat::kJson) {
    output = nlohmann::ordered_json(resources).dump(2) + "\n";
  } else {
    for (size_t i = 0; i < resources.size(); ++i) {
      if (i > 0) output += "---\n";
      output += wasmplugin::EmitYaml(resources[i]);
    }
  }
  if (args.out.empty() || args.out == "-") {
    std::cout << output << std::flush;
    return OkStatus();
  }
  PLUGCTL_ASSIGN_OR_RETURN(auto writer, AtomicFileWriter::Create(args.out));
  PLUGCTL_RETURN_IF_ERROR(writer->Write(output));
  PLUGCTL_RETURN_IF_ERROR(writer->Commit());
  Print(std::cerr, "Wrote {} WasmPlugin resource{} to {}\n", resources.size(),
        resources.size() == 1 ? "" : "s", args.out);
  return OkStatus();
}

}  // namespace

Action DefineWasmPlugin(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<WasmPluginArgs>();
  app.add_option("IMAGE", args->images, "Image locations (registry, oci:, oci-archive:, ...)")
      ->required()
      ->check(LocationCheck());
  app.add_option("--config,-c", args->config,
                 "Plugin configuration (YAML/JSON), a {defaultConfig, matchRules} fragment or a "
                 "WasmPlugin resource")
      ->check(CLI::ExistingFile);
  app.add_option("--name", args->name,
                 "metadata.name (default: spec.yaml info.name, else the repository's name)");
  app.add_option("--namespace,-n", args->ns, "metadata.namespace")->capture_default_str();
  app.add_option("--url-prefix", args->url_prefix,
                 "oci://HOST[:PORT]/PATH (where the image is mirrored) or http(s)://HOST/PATH "
                 "(a plugin server); required for local images");
  app.add_option("--spec", args->spec,
                 "spec.yaml to use when the image carries none (official Higress images)")
      ->check(CLI::ExistingFile);
  app.add_option("--platform", args->platform,
                 "Platform whose plugin.wasm an http(s):// URL pins (default linux/amd64)")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            auto p = oci::Platform::Parse(value);
            return p ? std::string() : p.error().message();
          },
          "OS/ARCH"));
  app.add_option("--output,-o", args->out, "Write to FILE (atomically) instead of stdout");
  app.footer(
      "url: a registry image's own reference (oci://HOST/REPO:TAG); with --url-prefix\n"
      "oci://R/P: R/P/NAME:TAG (where `plugctl mirror --to R/P` puts it); with --url-prefix\n"
      "http(s)://H/P: H/P/NAME/VERSION/plugin.wasm (the Higress plugin-server layout).\n"
      "sha256: for oci:// the digest of the image manifest the gateway loads (an index's\n"
      "linux/amd64 image); for http(s):// the sha256 of plugin.wasm. phase and priority come\n"
      "from spec.yaml. --config is checked against the plugin's schemas first; errors refuse.\n"
      "Several images give several resources separated by ---; --format json gives an array.");
  return [args, &globals] { return RunWasmPlugin(*args, globals); };
}

}  // namespace plugctl::cli
