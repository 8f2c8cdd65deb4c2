// `plugctl wasmplugin IMAGE|LIST|BUNDLE...`: a Higress WasmPlugin resource per image, with the
// url and the sha256 the gateway will check (see wasmplugin/wasmplugin.h for the rules), checked
// against the WasmPlugin CRD (wasmplugin/crd_schema.h), ready for kubectl.
//
// An argument is a local location (oci:, oci-archive:, docker-archive:, or a path whose content
// is a layout or an archive; without a REF every image it holds, by tag), a list file when
// another file exists there (plugins.properties or a mirror list, transfer/mirror_list.h: every
// image it names explicitly), and an image reference otherwise. Every image is tried; one that
// fails does not keep the others from being printed.
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

// The images of a local location: its REF, or without one every image it holds, by tag (how
// copy, build and mirror name them).
Status ExpandLocal(const std::string& arg, transfer::Location loc, TargetEnv& env,
                   std::vector<ImageEntry>& out) {
  PLUGCTL_ASSIGN_OR_RETURN(std::unique_ptr<store::Target> opened,
                           env.Open(loc, transfer::AccessMode::kRead));
  std::shared_ptr<store::Target> target = std::move(opened);
  if (!loc.ref.empty()) {
    PushLocal({.display = arg, .location = loc, .target = target}, out);
    return OkStatus();
  }
  auto all_tags = target->Tags();
  if (!all_tags) return tl::unexpected(all_tags.error().WithContext(arg));
  // `docker save` (Docker 25+) writes an OCI layout too, naming each image twice in index.json
  // ("x:1.0.0" and "docker.io/library/x:1.0.0"): one name, so one image, and one resource.
  // Two spellings naming different images stay two (and meet the duplicate-name check).
  std::vector<std::string> tags;
  std::map<std::string, std::string> seen;  // normalized reference -> the tag kept for it
  for (const std::string& tag : *all_tags) {
    auto as_reference = oci::Reference::Parse(tag);
    if (as_reference && tag.find(':') != std::string::npos) {
      auto [it, inserted] = seen.emplace(as_reference->ToString(), tag);
      if (!inserted) {
        auto kept = target->Resolve(it->second);
        auto again = target->Resolve(tag);
        if (kept && again && kept->digest == again->digest) continue;
      }
    }
    tags.push_back(tag);
  }
  if (tags.size() <= 1) {
    // One image (or an untagged one the location resolves by itself).
    if (tags.size() == 1) loc.ref = tags.front();
    PushLocal({.display = arg, .location = loc, .target = target}, out);
    return OkStatus();
  }
  for (const std::string& tag : tags) {
    transfer::Location entry = loc;
    entry.ref = tag;
    PushLocal({.display = fmt::format("{} ({})", arg, tag), .location = entry, .target = target},
              out);
  }
  return OkStatus();
}

// The images an argument names (see the file comment). Appends nothing when it fails.
Status ExpandArgument(const std::string& arg, size_t index, TargetEnv& env,
                      std::vector<ImageEntry>& out) {
  if (transfer::IsLocalTransport(arg)) {
    PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc,
                             transfer::ParseLocation(arg, transfer::LocationUse::kSource));
    return ExpandLocal(arg, std::move(loc), env, out);
  }
  std::error_code ec;
  if (std::filesystem::exists(arg, ec)) {
    // Judged by content as pull, copy and mirror do: a layout or an archive (whatever its name)
    // is a bundle, a directory that is none is refused with a hint, another file is a list.
    PLUGCTL_ASSIGN_OR_RETURN(transfer::LocalContent content, transfer::SniffLocalPath(arg));
    if (content != transfer::LocalContent::kOtherFile) {
      PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::LocationFromContent(arg, content));
      return ExpandLocal(arg, std::move(loc), env, out);
    }
    PLUGCTL_ASSIGN_OR_RETURN(std::string text, ReadFileBounded(arg, transfer::kMaxMirrorListBytes));
    if (text.find('\0') != std::string::npos) {
      // A tar of something else, or another binary: a YAML parser's "NUL byte" says nothing.
      return MakeError(ErrorCode::kInvalidArgument,
                       "{}: neither an image archive (no oci-layout or manifest.json in it) nor a "
                       "list file (it is binary)",
                       arg);
    }
    PLUGCTL_ASSIGN_OR_RETURN(auto sources, transfer::ParseMirrorList(text, arg));
    std::vector<ImageEntry> listed;
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
        listed.push_back({.display = fmt::format("{} ({})", text_ref, source.origin),
                          .location = std::move(*loc),
                          .listed_name = source.name});
      }
    }
    if (sources.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: the list names no image", arg);
    }
    for (ImageEntry& entry : listed) out.push_back(std::move(entry));
    return OkStatus();
  }
  auto loc = transfer::ParseLocation(arg, transfer::LocationUse::kSource);
  if (!loc) {
    if (loc.error().code() == ErrorCode::kNotFound) return tl::unexpected(loc.error());
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

// For an http(s):// URL and a --platform other than linux/amd64: whether the plugin server
// serves that platform's plugin.wasm, i.e. the index's linux/amd64 one (what `plugctl serve` and
// `mirror --to plugin-server:` extract) is the same file.
Status CheckServedPlatform(const std::string& image, store::Target& target,
                           const oci::Descriptor& root, const oci::Platform& chosen,
                           const oci::Digest& chosen_wasm) {
  PLUGCTL_ASSIGN_OR_RETURN(auto temp, TempDir::Create("plugctl-wasmplugin"));
  plugin::ExtractOptions served_options;
  served_options.check_gateway = false;
  auto served = plugin::ExtractPlugin(target, root, temp->path() / "plugin", served_options);
  if (!served) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: --platform {}: a plugin server (plugctl serve, mirror --to "
                     "plugin-server:) serves an index's linux/amd64 plugin.wasm, and this index "
                     "has none it can serve ({}); serve the file yourself under another prefix",
                     image, chosen.ToString(), served.error().message());
  }
  if (served->wasm_sha256 != chosen_wasm) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: --platform {}: a plugin server (plugctl serve, mirror --to "
                     "plugin-server:) serves the index's linux/amd64 plugin.wasm, which differs "
                     "from the {} one; the gateway would refuse the sha256. Leave --platform out",
                     image, chosen.ToString(), chosen.ToString());
  }
  return OkStatus();
}

Result<nlohmann::ordered_json> MakeOne(const ImageEntry& entry, const WasmPluginArgs& args,
                                       const std::optional<spec::ParsedSpec>& given_spec,
                                       const std::optional<std::string>& config_text,
                                       TargetEnv& env, std::vector<Finding>& findings) {
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
  // An http(s):// URL is served by a plugin server (`plugctl serve`, a `mirror --to
  // plugin-server:` tree), which extracts an index's linux/amd64 plugin.wasm whatever
  // --platform says: pinning another platform's wasm would make the gateway refuse the file.
  if (!oci_url && r.platform && r.platform->ToString() != plugin::LinuxAmd64().ToString()) {
    PLUGCTL_RETURN_IF_ERROR(CheckServedPlatform(image, *target, root, *r.platform, r.wasm_sha256));
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
    // --namespace is checked when parsed, so a refused name is the only way here.
    std::string hint = args.name.empty() ? " (derived from the image; pass --name)" : " (--name)";
    return tl::unexpected(made.error().WithContext(image).WithContext("WasmPlugin" + hint));
  }
  findings = made->findings;
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

// An argument or image that made no resource.
struct Failure {
  std::string image;
  Error error;
  // The configuration's or resource's findings, when it got that far.
  std::vector<Finding> findings = {};
};

// "2 of 3 images failed: A, B", with the failures' code when they share one.
Error FailuresError(const std::vector<Failure>& failures, size_t total) {
  std::optional<ErrorCode> code;
  std::vector<std::string> images;
  for (const Failure& f : failures) {
    code = !code || *code == f.error.code() ? f.error.code() : ErrorCode::kUnavailable;
    images.push_back(f.image);
  }
  return Error(code.value_or(ErrorCode::kUnavailable),
               fmt::format("{} of {} failed: {}", failures.size(), Count(total, "image"),
                           fmt::join(images, ", ")));
}

// The --format json error object of a run that printed no resource, with the findings (path,
// line, severity, message) and, for several images, each failure.
void PrintJsonFailure(const Error& error, const std::vector<Failure>& failures) {
  nlohmann::ordered_json details = nlohmann::ordered_json::array();
  for (const Failure& f : failures) {
    for (const Finding& finding : f.findings) {
      nlohmann::ordered_json d;
      d["image"] = f.image;
      if (!finding.file.empty()) d["file"] = finding.file;
      d["path"] = finding.path;
      if (finding.line > 0) d["line"] = finding.line;
      d["severity"] = SeverityName(finding.severity);
      d["message"] = finding.message;
      details.push_back(std::move(d));
    }
  }
  nlohmann::ordered_json body;
  body["code"] = ErrorCodeName(error.code());
  body["message"] = error.message();
  body["details"] = std::move(details);
  if (failures.size() > 1) {
    body["failures"] = nlohmann::ordered_json::array();
    for (const Failure& f : failures) {
      body["failures"].push_back({{"image", f.image},
                                  {"code", ErrorCodeName(f.error.code())},
                                  {"message", f.error.message()}});
    }
  }
  PrintJson({{"error", std::move(body)}});
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
  // Every argument and every image is tried: one missing image must not hide the resources of
  // the others, nor the failures after it.
  std::vector<Failure> failures;
  std::vector<ImageEntry> entries;
  for (size_t i = 0; i < args.images.size(); ++i) {
    Status expanded = ExpandArgument(args.images[i], i, env, entries);
    if (!expanded) failures.push_back({.image = args.images[i], .error = expanded.error()});
  }
  if (!args.name.empty() && entries.size() + failures.size() > 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--name with {} images would give them all one name; name them one by one",
                     entries.size() + failures.size());
  }
  std::vector<nlohmann::ordered_json> resources;
  std::vector<const ImageEntry*> made_from;  // the entry of each resource
  for (const ImageEntry& entry : entries) {
    std::vector<Finding> findings;
    auto made = MakeOne(entry, args, given_spec, config_text, env, findings);
    if (!made) {
      Error error = made.error();
      // Each failure is one line that names its image.
      if (error.message().find(entry.display) == std::string::npos) {
        error = error.WithContext(entry.display);
      }
      failures.push_back(
          {.image = entry.display, .error = std::move(error), .findings = std::move(findings)});
      continue;
    }
    resources.push_back(std::move(*made));
    made_from.push_back(&entry);
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
      if (wasmplugin::IsDns1123Subdomain(made_from[i]->listed_name)) {
        keys.insert(made_from[i]->listed_name);
      }
    }
    if (keys.size() != indexes.size()) continue;
    for (size_t i : indexes) resources[i]["metadata"]["name"] = made_from[i]->listed_name;
  }
  // metadata.name → the image that took it: the API server keeps one object per name, so a
  // second one would silently replace the first.
  std::map<std::string, std::string> names;
  for (size_t i = 0; i < resources.size(); ++i) {
    const ImageEntry& entry = *made_from[i];
    std::string name = resources[i]["metadata"]["name"].get<std::string>();
    auto [it, inserted] = names.emplace(name, entry.display);
    if (!inserted) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{} and {} both make the WasmPlugin \"{}\" in {}: applied together one "
                       "would replace the other; make them one at a time with --name",
                       it->second, entry.display, name, args.ns);
    }
  }
  const size_t total = resources.size() + failures.size();
  const bool json = globals.format == OutputFormat::kJson;
  if (resources.empty()) {
    // Nothing to print: the error is the result (with --format json, one error object that
    // carries the findings, which a script would otherwise only see on stderr).
    if (total == 1) {
      if (json) PrintJsonFailure(failures.front().error, failures);
      return tl::unexpected(failures.front().error);
    }
    Error error = FailuresError(failures, total);
    if (json) PrintJsonFailure(error, failures);
    for (const Failure& f : failures) Print(std::cerr, "error: {}\n", f.error.message());
    return tl::unexpected(error);
  }

  std::string output;
  nlohmann::ordered_json doc;
  if (json) {
    // kubectl takes one object, or several in a v1 List. The shape follows what was asked
    // for, not how many succeeded, so that a script sees a List for a list file.
    if (total == 1) {
      doc = std::move(resources.front());
    } else {
      doc["apiVersion"] = "v1";
      doc["kind"] = "List";
      doc["items"] = std::move(resources);
    }
    output = doc.dump(2) + "\n";
  } else {
    // A YAML stream of documents, which kubectl apply takes as it is.
    for (size_t i = 0; i < resources.size(); ++i) {
      if (i > 0) output += "---\n";
      output += wasmplugin::EmitYaml(resources[i]);
    }
  }
  for (const Failure& f : failures) Print(std::cerr, "error: {}\n", f.error.message());
  const bool to_stdout = args.out.empty() || args.out == "-";
  if (failures.empty() || to_stdout) {
    size_t count = names.size();
    if (to_stdout && json) {
      // The run's one JSON document (the failures are on stderr): PrintJson marks it printed,
      // so no error object follows it.
      PrintJson(doc);
    } else if (to_stdout) {
      std::cout << output << std::flush;
    } else {
      PLUGCTL_ASSIGN_OR_RETURN(auto writer, AtomicFileWriter::Create(args.out));
      PLUGCTL_RETURN_IF_ERROR(writer->Write(output));
      PLUGCTL_RETURN_IF_ERROR(writer->Commit());
      Print(std::cerr, "Wrote {} to {}\n", Count(count, "WasmPlugin resource"), args.out);
    }
  } else {
    // A file is what gets applied later, whole: a part of the list would silently leave plugins
    // out. stdout shows the good ones; a file is written only when every image made one.
    Error error = FailuresError(failures, total);
    return tl::unexpected(error.WithContext(fmt::format("nothing written to {}", args.out)));
  }
  if (!failures.empty()) return tl::unexpected(FailuresError(failures, total));
  return OkStatus();
}

}  // namespace

Action DefineWasmPlugin(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<WasmPluginArgs>();
  app.add_option("IMAGE", args->images,
                 "Image locations (registry, oci:, oci-archive:, docker-archive:; a bundle "
                 "without a REF gives every image it holds) or list files (plugins.properties, "
                 "mirror lists)")
      ->required()
      ->check(LocationOrFileCheck());
  app.add_option("--config,-c", args->config,
                 "Plugin configuration (YAML/JSON), a {defaultConfig, matchRules} fragment or a "
                 "WasmPlugin resource")
      ->check(CLI::ExistingFile);
  app.add_option("--name", args->name,
                 "metadata.name (default: spec.yaml info.name, else the repository's name)");
  app.add_option("--namespace,-n", args->ns, "metadata.namespace")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            if (wasmplugin::IsDns1123Label(value)) return std::string();
            return fmt::format(
                "\"{}\" is not a valid Kubernetes namespace (lowercase letters, digits and '-', "
                "starting and ending with a letter or digit, at most 63 characters)",
                value);
          },
          "NAMESPACE"));
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
      "or a v1 List for several. Two images with one metadata.name are refused.\n"
      "Every image is tried: the good ones are printed, each failure is an error line on\n"
      "stderr and the exit is 1; -o FILE is written only when none failed.");
  return [args, &globals] { return RunWasmPlugin(*args, globals); };
}

}  // namespace plugctl::cli
