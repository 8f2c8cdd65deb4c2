// `plugctl wasmplugin IMAGE|LIST|BUNDLE...`: a Higress WasmPlugin resource per image, with the
// url and the sha256 the gateway will check (see wasmplugin/wasmplugin.h for the rules), checked
// against the WasmPlugin CRD (wasmplugin/crd_schema.h), ready for kubectl.
//
// An argument is a local location (oci:, oci-archive:, docker-archive:; without a REF every
// image it holds, by tag), a list file when such a file exists (plugins.properties or a mirror
// list, transfer/mirror_list.h: every image it names explicitly), and an image reference
// otherwise.
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "plugctl/base/file.h"
#include "plugctl/cli/command_defs.h"
#include "plugctl/cli/plugin_report.h"
#include "plugctl/cli/registry_env.h"
#include "plugctl/oci/plugin_name.h"
#include "plugctl/plugin/extract.h"
#include "plugctl/plugin/validate.h"
#include "plugctl/transfer/location.h"
#include "plugctl/transfer/mirror.h"
#include "plugctl/transfer/mirror_list.h"
#include "plugctl/transfer/mirror_naming.h"
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
  // How `mirror --to` names repositories, for --url-prefix oci://.
  bool scoped = false;
  std::vector<std::string> maps;
  bool no_url_check = false;
};

// One image to make a resource for.
struct ImageEntry {
  // How messages name it: the argument, "ARG (TAG)" for a bundle entry, or the list line.
  std::string display;
  transfer::Location location;
  // The plugins.properties key the image was listed under ("" when not from such a list).
  std::string listed_name;
  // Local entries: the opened layout or archive, shared by the entries of one bundle.
  std::shared_ptr<store::Target> target;
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

// A local entry, once per plugins.properties key its index.json entry keeps (mirror keeps
// several for one image listed under several keys), so each key gets its resource as it does
// from the list itself. A ref that does not resolve is left to MakeOne to report.
void PushLocal(ImageEntry entry, std::vector<ImageEntry>& out) {
  auto root = entry.location.ref.empty()
                  ? Result<oci::Descriptor>(tl::unexpected(Error(ErrorCode::kNotFound, "no ref")))
                  : entry.target->Resolve(entry.location.ref);
  if (root) {
    if (auto it = root->annotations.find(std::string(oci::kAnnotationPluginName));
        it != root->annotations.end()) {
      std::vector<std::string> keys = oci::SplitPluginNames(it->second);
      if (keys.size() > 1) {
        for (std::string& key : keys) {
          ImageEntry keyed = entry;
          keyed.display = fmt::format("{} [{}]", entry.display, key);
          keyed.listed_name = std::move(key);
          out.push_back(std::move(keyed));
        }
        return;
      }
    }
  }
  out.push_back(std::move(entry));
}

// The images an argument names (see the file comment).
Status ExpandArgument(const std::string& arg, size_t index, TargetEnv& env,
                      std::vector<ImageEntry>& out) {
  if (transfer::IsLocalTransport(arg)) {
    PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::ParseLocation(arg));
    PLUGCTL_ASSIGN_OR_RETURN(std::unique_ptr<store::Target> opened,
                             env.Open(loc, transfer::AccessMode::kRead));
    std::shared_ptr<store::Target> target = std::move(opened);
    if (!loc.ref.empty()) {
      PushLocal({.display = arg, .location = loc, .target = target}, out);
      return OkStatus();
    }
    // A bundle: every image it holds, by tag (how copy, build and mirror name them).
    auto tags = target->Tags();
    if (!tags) return tl::unexpected(tags.error().WithContext(arg));
    if (tags->size() <= 1) {
      // One image (or an untagged one the location resolves by itself).
      if (tags->size() == 1) loc.ref = tags->front();
      PushLocal({.display = arg, .location = loc, .target = target}, out);
      return OkStatus();
    }
    for (const std::string& tag : *tags) {
      transfer::Location entry = loc;
      entry.ref = tag;
      PushLocal({.display = fmt::format("{} ({})", arg, tag), .location = entry, .target = target},
                out);
    }
    return OkStatus();
  }
  std::error_code ec;
  if (std::filesystem::is_regular_file(arg, ec)) {
    PLUGCTL_ASSIGN_OR_RETURN(std::string text, ReadFileBounded(arg, transfer::kMaxMirrorListBytes));
    PLUGCTL_ASSIGN_OR_RETURN(auto sources, transfer::ParseMirrorList(text, arg));
    for (const transfer::MirrorSource& source : sources) {
      if (source.NeedsTagList()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "{}: tag patterns (tag-regex, semver, every tag) select images by "
                         "listing a registry; wasmplugin takes lists that name each image (tags "
                         "or digests)",
                         source.origin);
      }
      for (const std::string& ref : source.refs) {
        std::string text_ref =
            source.repository.Name() + (ref.find(':') != std::string::npos ? "@" + ref : ":" + ref);
        auto loc = transfer::ParseLocation(text_ref);
        if (!loc) return tl::unexpected(loc.error().WithContext(source.origin));
        out.push_back({.display = fmt::format("{} ({})", text_ref, source.origin),
                       .location = std::move(*loc),
                       .listed_name = source.name});
      }
    }
    if (sources.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: the list names no image", arg);
    }
    return OkStatus();
  }
  auto loc = transfer::ParseLocation(arg);
  if (!loc) {
    return tl::unexpected(loc.error().WithContext(fmt::format(
        "argument {}: \"{}\" is neither a local location, a list file nor an image reference",
        index + 1, arg)));
  }
  out.push_back({.display = arg, .location = std::move(*loc)});
  return OkStatus();
}

// mirror's naming options as --scoped and --map give them.
Result<transfer::NameMapping> MappingOf(const WasmPluginArgs& args) {
  transfer::NameMapping mapping{.scoped = args.scoped};
  for (const std::string& rule : args.maps) {
    PLUGCTL_ASSIGN_OR_RETURN(auto parsed, transfer::ParseMappingRule(rule));
    mapping.rules.push_back(std::move(parsed));
  }
  return mapping;
}

// The repository `mirror --to PREFIX` puts `source` in, with the same --map/--scoped rules:
// "" when the prefix is not oci:// or there is no source reference to map.
Result<std::string> MirroredRepository(const std::optional<oci::Reference>& source,
                                       const WasmPluginArgs& args) {
  std::string_view prefix = args.url_prefix;
  if (!source || !prefix.starts_with("oci://")) return std::string();
  prefix.remove_prefix(6);
  while (prefix.ends_with('/')) prefix.remove_suffix(1);
  size_t slash = prefix.find('/');
  std::string_view path = slash == std::string_view::npos ? "" : prefix.substr(slash + 1);
  PLUGCTL_ASSIGN_OR_RETURN(transfer::NameMapping mapping, MappingOf(args));
  return transfer::MapRepository(*source, path, mapping);
}

// The reference a local image's REF stands for when it is a full one (how bundles name images).
std::optional<oci::Reference> FullReference(std::string_view ref) {
  if (ref.empty() || ref.front() == '@' || ref.find('/') == std::string_view::npos) {
    return std::nullopt;
  }
  auto parsed = oci::Reference::Parse(ref);
  if (!parsed) return std::nullopt;
  return *parsed;
}

// Is the image where `url` says, in the registry it names? The gateway resolves the tag (if
// any) and compares the digest of the image it gets with sha256; both must hold.
Status CheckUrl(const std::string& url, const oci::Digest& pinned, const oci::Digest& root,
                TargetEnv& env) {
  std::string_view text = url;
  text.remove_prefix(6);  // oci://
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::ParseLocation(text));
  auto target = env.Open(loc, transfer::AccessMode::kRead);
  auto hint = [&url](const Error& e) {
    // The caller warns about a registry that does not answer, naming the url itself.
    if (e.code() == ErrorCode::kUnavailable) return e;
    return e.WithContext(
        fmt::format("cannot check {} (pass --no-url-check to write the "
                    "resource unchecked)",
                    url));
  };
  if (!target) return tl::unexpected(hint(target.error()));
  auto by_digest = (*target)->Resolve(pinned.ToString());
  if (!by_digest) {
    if (by_digest.error().code() == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound,
                       "{}: the registry has no manifest {}: copy or mirror the image there "
                       "first (or pass --no-url-check)",
                       url, pinned.ToString());
    }
    return tl::unexpected(hint(by_digest.error()));
  }
  if (loc.reference.tag.empty()) return OkStatus();
  auto by_tag = (*target)->Resolve(loc.reference.tag);
  if (!by_tag) {
    if (by_tag.error().code() == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound,
                       "{}: the registry has the image but no tag {}: copy or mirror it there "
                       "first (or pass --no-url-check)",
                       url, loc.reference.tag);
    }
    return tl::unexpected(hint(by_tag.error()));
  }
  if (by_tag->digest != pinned && by_tag->digest != root) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "{}: the tag names {}, not the image pinned ({}): the gateway would refuse "
                     "it (or pass --no-url-check)",
                     url, by_tag->digest.ToString(), pinned.ToString());
  }
  return OkStatus();
}

Result<nlohmann::ordered_json> MakeOne(const ImageEntry& entry, const WasmPluginArgs& args,
                                       const std::optional<spec::ParsedSpec>& given_spec,
                                       const std::optional<std::string>& config_text,
                                       TargetEnv& env) {
  const std::string& image = entry.display;
  const transfer::Location& loc = entry.location;
  plugin::ExtractOptions options;
  if (!args.platform.empty()) {
    PLUGCTL_ASSIGN_OR_RETURN(options.platform, oci::Platform::Parse(args.platform));
  }
  options.check_gateway = true;
  std::shared_ptr<store::Target> target = entry.target;
  if (!target) {
    PLUGCTL_ASSIGN_OR_RETURN(std::unique_ptr<store::Target> opened,
                             env.Open(loc, transfer::AccessMode::kRead));
    target = std::move(opened);
  }
  auto resolved = target->Resolve(loc.ResolveRef());
  if (!resolved) return tl::unexpected(resolved.error().WithContext(image));
  const oci::Descriptor& root = *resolved;
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
  std::optional<oci::Reference> source_reference;
  if (loc.kind == transfer::LocationKind::kRegistry) {
    pin_request.source.registry = loc.reference;
    source_reference = loc.reference;
  } else {
    pin_request.source.local_ref = loc.ref;
    source_reference = FullReference(loc.ref);
    if (!source_reference && !loc.ref.empty() && loc.ref.front() != '@' &&
        loc.ref.find('@') == std::string::npos) {
      // A tag as copy and build write them: the name `mirror` gives the same entry (--map
      // TAG=NAME, the image's plugin name, its spec.yaml), so the url is where mirror puts it.
      PLUGCTL_ASSIGN_OR_RETURN(transfer::NameMapping mapping, MappingOf(args));
      auto named = transfer::BundleEntryName(*target, image, loc.ref, root, mapping);
      if (named) source_reference = std::move(*named);
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
  PLUGCTL_ASSIGN_OR_RETURN(pin_request.mirrored_repository,
                           MirroredRepository(source_reference, args));
  // The plugins.properties key: from the list the image came from, else the one a bundle
  // mirrored from such a list keeps on its index.json entry.
  pin_request.plugin_name = entry.listed_name;
  if (auto listed = root.annotations.find(std::string(oci::kAnnotationPluginName));
      pin_request.plugin_name.empty() && listed != root.annotations.end()) {
    // Several keys of one image: the first names it (a list gives each key its own entry).
    pin_request.plugin_name = oci::SplitPluginNames(listed->second).front();
  }
  bool oci_prefix = std::string_view(args.url_prefix).starts_with("oci://");
  bool oci_url = oci_prefix || args.url_prefix.empty();
  if (!oci_url && source_reference && !source_reference->tag.empty()) {
    // The NAME of PREFIX/NAME/VERSION follows --map as a plugin-server tree's does
    // (`mirror --to plugin-server: --map`), so the url can name what `serve` serves.
    PLUGCTL_ASSIGN_OR_RETURN(transfer::NameMapping mapping, MappingOf(args));
    auto path =
        transfer::PluginServerPathFor(*source_reference, pin_request.plugin_name, {}, mapping);
    if (path) pin_request.plugin_name = path->name;
  }
  // One image, one resource: an oci:// URL makes the gateway load the index's linux/amd64
  // image, so name, phase and priority must come from that image too.
  if (oci_url && r.platform && r.gateway && r.gateway->platform &&
      r.platform->ToString() != r.gateway->platform->ToString()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: --platform {} chose an image the gateway does not load from an oci:// "
                     "URL (it loads the index's {} image); leave --platform out, or serve that "
                     "platform's plugin.wasm with --url-prefix http(s)://…",
                     image, r.platform->ToString(), r.gateway->platform->ToString());
  }
  auto pin = wasmplugin::PinPlugin(pin_request);
  if (!pin) return tl::unexpected(pin.error().WithContext(image));

  if (r.gateway && !r.gateway->loadable) {
    std::string why = fmt::format("{}", fmt::join(r.gateway->reasons, "; "));
    if (oci_url) {
      Warn(image, "the gateway would not load this image: " + why);
    } else {
      Warn(image, "the gateway could not load this image from a registry (" + why +
                      "); an http(s):// URL serves plugin.wasm itself, which is what counts");
    }
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
    return MakeError(ErrorCode::kFailedPrecondition,
                     "{}: the WasmPlugin would be wrong ({}); nothing was written", image,
                     CountFindings(made->findings));
  }
  // Where the image is (or must be, for a prefix): a registry reference was just resolved
  // there, a prefix is checked.
  if (oci_prefix && !args.no_url_check) {
    auto pinned = oci::Digest::Parse("sha256:" + pin->sha256);
    if (!pinned) return tl::unexpected(pinned.error());
    // "Checked against a registry when one is reachable": an air-gapped workstation writing
    // resources for a registry it cannot see gets them, with a warning, not a failure; an
    // answer that the image is not there (or is another) fails.
    Status checked = CheckUrl(pin->url, *pinned, r.root.digest, env);
    if (!checked && checked.error().code() == ErrorCode::kUnavailable) {
      Print(std::cerr, "warning: {} not checked, its registry did not answer: {}\n", pin->url,
            checked.error().message());
    } else if (!checked) {
      return tl::unexpected(checked.error());
    }
  }
  return std::move(made->resource);
}

Status RunWasmPlugin(const WasmPluginArgs& args, const GlobalOptions& globals) {
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
  std::vector<ImageEntry> entries;
  for (size_t i = 0; i < args.images.size(); ++i) {
    PLUGCTL_RETURN_IF_ERROR(ExpandArgument(args.images[i], i, env, entries));
  }
  if (!args.name.empty() && entries.size() > 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--name with {} images would give them all one name; name them one by one",
                     entries.size());
  }
  std::vector<nlohmann::ordered_json> resources;
  for (const ImageEntry& entry : entries) {
    PLUGCTL_ASSIGN_OR_RETURN(nlohmann::ordered_json resource,
                             MakeOne(entry, args, given_spec, config_text, env));
    resources.push_back(std::move(resource));
  }
  // One image listed under several plugins.properties keys makes one resource per key: those
  // that would share a name are named by their keys instead.
  std::map<std::string, std::vector<size_t>> by_name;
  for (size_t i = 0; i < resources.size(); ++i) {
    by_name[resources[i]["metadata"]["name"].get<std::string>()].push_back(i);
  }
  for (const auto& [shared, indexes] : by_name) {
    if (indexes.size() < 2 || !args.name.empty()) continue;
    std::set<std::string> keys;
    for (size_t i : indexes) {
      if (wasmplugin::IsDns1123Subdomain(entries[i].listed_name)) {
        keys.insert(entries[i].listed_name);
      }
    }
    if (keys.size() != indexes.size()) continue;
    for (size_t i : indexes) resources[i]["metadata"]["name"] = entries[i].listed_name;
  }
  // metadata.name → the image that took it: the API server keeps one object per name, so a
  // second one would silently replace the first.
  std::map<std::string, std::string> names;
  for (size_t i = 0; i < resources.size(); ++i) {
    const ImageEntry& entry = entries[i];
    std::string name = resources[i]["metadata"]["name"].get<std::string>();
    auto [it, inserted] = names.emplace(name, entry.display);
    if (!inserted) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{} and {} both make the WasmPlugin \"{}\" in {}: applied together one "
                       "would replace the other; make them one at a time with --name",
                       it->second, entry.display, name, args.ns);
    }
  }

  std::string output;
  if (globals.format == OutputFormat::kJson) {
    // kubectl takes one object, or several in a v1 List.
    nlohmann::ordered_json json;
    if (resources.size() == 1) {
      json = std::move(resources.front());
    } else {
      json["apiVersion"] = "v1";
      json["kind"] = "List";
      json["items"] = std::move(resources);
    }
    output = json.dump(2) + "\n";
  } else {
    // A YAML stream of documents, which kubectl apply takes as it is.
    for (size_t i = 0; i < resources.size(); ++i) {
      if (i > 0) output += "---\n";
      output += wasmplugin::EmitYaml(resources[i]);
    }
  }
  size_t count = names.size();
  if (args.out.empty() || args.out == "-") {
    std::cout << output << std::flush;
    return OkStatus();
  }
  PLUGCTL_ASSIGN_OR_RETURN(auto writer, AtomicFileWriter::Create(args.out));
  PLUGCTL_RETURN_IF_ERROR(writer->Write(output));
  PLUGCTL_RETURN_IF_ERROR(writer->Commit());
  Print(std::cerr, "Wrote {} to {}\n", Count(count, "WasmPlugin resource"), args.out);
  return OkStatus();
}

}  // namespace

Action DefineWasmPlugin(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<WasmPluginArgs>();
  app.add_option("IMAGE", args->images,
                 "Image locations (registry, oci:, oci-archive:, docker-archive:; a bundle "
                 "without a REF gives every image it holds) or list files (plugins.properties, "
                 "mirror lists)")
      ->required();
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
  app.add_option("--map", args->maps,
                 "FROM=TO rename as `mirror --map`: the repository under --url-prefix oci://, "
                 "the NAME directory under --url-prefix http(s):// (as `mirror --to "
                 "plugin-server:`), TAG=NAME for a bundle's plain tag (repeatable)");
  app.add_flag("--scoped", args->scoped,
               "Under --url-prefix oci://, keep the source's registry and path, as `mirror "
               "--scoped`");
  app.add_flag("--no-url-check", args->no_url_check,
               "Do not check that an --url-prefix oci:// URL's registry holds the image");
  app.add_option("--spec", args->spec,
                 "spec.yaml to use when the image carries none (official Higress images)")
      ->check(CLI::ExistingFile);
  app.add_option("--platform", args->platform,
                 "Platform whose plugin.wasm an http(s):// URL pins (default linux/amd64; an "
                 "oci:// URL always pins the gateway's linux/amd64 image)")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            auto p = oci::Platform::Parse(value);
            return p ? std::string() : p.error().message();
          },
          "OS/ARCH"));
  app.add_option("--output,-o", args->out, "Write to FILE (atomically) instead of stdout");
  app.footer(
      "url: a registry image's own reference (oci://HOST/REPO:TAG); with --url-prefix\n"
      "oci://R/P: R/P/REPO:TAG where `plugctl mirror --to R/P` puts it (checked there unless\n"
      "--no-url-check); with --url-prefix http(s)://H/P: H/P/NAME/VERSION/plugin.wasm (the\n"
      "Higress plugin-server layout). sha256: for oci:// the digest of the image manifest the\n"
      "gateway loads (an index's linux/amd64 image); for http(s):// the sha256 of plugin.wasm.\n"
      "phase and priority come from spec.yaml. --config is checked against the plugin's\n"
      "schemas and the resource against the WasmPlugin CRD first; errors refuse.\n"
      "Several images give YAML documents separated by ---; --format json gives one object,\n"
      "or a v1 List for several. Two images with one metadata.name are refused.");
  return [args, &globals] { return RunWasmPlugin(*args, globals); };
}

}  // namespace plugctl::cli
