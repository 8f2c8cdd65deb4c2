// `plugctl push REF FILE[:TYPE]…` and `plugctl attach SUBJECT FILE[:TYPE]…`: any files as one OCI
// artifact, in ORAS 1.x's shape (transfer/artifact.h), written through the copy engine.
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <optional>

#include "plugctl/base/file.h"
#include "plugctl/cli/command_defs.h"
#include "plugctl/cli/registry_env.h"
#include "plugctl/transfer/artifact.h"
#include "plugctl/transfer/copy.h"
#include "plugctl/transfer/location.h"

namespace plugctl::cli {
namespace {

struct ArtifactArgs {
  std::string location;
  std::vector<std::string> files;
  std::string artifact_type;
  std::vector<std::string> annotations;
  std::string annotation_file;
  std::string config;
};

// The created time: SOURCE_DATE_EPOCH when set (reproducible pushes), else now (as ORAS).
Result<int64_t> CreatedTime() {
  const char* env = std::getenv("SOURCE_DATE_EPOCH");
  if (env != nullptr && *env != '\0') return SourceDateEpoch();
  return static_cast<int64_t>(std::time(nullptr));
}

Result<transfer::ArtifactSpec> SpecFrom(const ArtifactArgs& args) {
  transfer::ArtifactSpec spec;
  for (const std::string& arg : args.files) {
    PLUGCTL_ASSIGN_OR_RETURN(transfer::ArtifactFile file,
                             transfer::ParseArtifactFileArg(arg, transfer::kDefaultFileMediaType));
    // The ':' rule names the problem better than "no such file" when the whole argument exists.
    std::error_code ec;
    if (arg.find(':') != std::string::npos && !std::filesystem::exists(file.path, ec) &&
        std::filesystem::exists(arg, ec)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "\"{}\": the part after ':' is read as a media type, so a file whose name "
                       "holds ':' cannot be pushed; link or rename it",
                       arg);
    }
    spec.files.push_back(std::move(file));
  }
  if (!args.config.empty()) {
    PLUGCTL_ASSIGN_OR_RETURN(spec.config, transfer::ParseArtifactFileArg(
                                              args.config, transfer::kDefaultConfigMediaType));
  }
  spec.artifact_type = args.artifact_type;
  if (!args.annotation_file.empty()) {
    PLUGCTL_ASSIGN_OR_RETURN(
        std::string text, ReadFileBounded(args.annotation_file, transfer::kMaxAnnotationFileBytes));
    PLUGCTL_ASSIGN_OR_RETURN(spec.annotations,
                             transfer::ParseAnnotationFile(text, args.annotation_file));
  }
  for (const std::string& arg : args.annotations) {
    PLUGCTL_ASSIGN_OR_RETURN(auto kv, transfer::ParseAnnotationArg(arg));
    if (!spec.annotations.manifest.emplace(kv.first, kv.second).second) {
      return MakeError(ErrorCode::kInvalidArgument, "annotation {} given twice", kv.first);
    }
  }
  PLUGCTL_ASSIGN_OR_RETURN(int64_t created, CreatedTime());
  spec.created = created;
  return spec;
}

void PrintPushed(std::string_view verb, const std::string& where, const std::string& tag,
                 const transfer::BuiltArtifact& artifact, const transfer::CopyResult& copied,
                 const std::optional<oci::Descriptor>& subject, const GlobalOptions& globals) {
  if (globals.format == OutputFormat::kJson) {
    nlohmann::ordered_json out;
    out["location"] = where;
    if (!tag.empty()) out["tag"] = tag;
    out["digest"] = artifact.manifest.digest.ToString();
    out["mediaType"] = artifact.manifest.media_type;
    out["size"] = artifact.manifest.size;
    out["artifactType"] = artifact.artifact_type;
    out["config"] = artifact.config.ToJson();
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (const oci::Descriptor& l : artifact.layers) layers.push_back(l.ToJson());
    out["layers"] = std::move(layers);
    if (subject) out["subject"] = subject->ToJson();
    out["blobsCopied"] = copied.blobs_copied;
    out["blobsSkipped"] = copied.blobs_skipped;
    PrintJson(out);
    return;
  }
  Print(std::cout, "{} {} -> {}{}\n", verb, Count(artifact.layers.size(), "file"), where,
        tag.empty() ? "" : "  tag " + tag);
  for (const oci::Descriptor& l : artifact.layers) {
    // A packed directory shows as "NAME/", as pull --all lists it once unpacked.
    bool packed = l.annotations.contains(std::string(transfer::kOrasUnpackAnnotation));
    Print(std::cout, "  {:<24} {:>10}  {}\n", packed ? l.Title() + "/" : l.Title(),
          HumanBytes(static_cast<uint64_t>(l.size)), l.media_type);
  }
  if (subject) Print(std::cout, "Subject:        {}\n", subject->digest.ToString());
  Print(std::cout, "Artifact type:  {}\nDigest:         {}\n",
        artifact.artifact_type.empty() ? "-" : artifact.artifact_type,
        artifact.manifest.digest.ToString());
}

Status RunPush(const ArtifactArgs& args, const GlobalOptions& globals) {
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::ParseLocation(args.location));
  if (loc.kind == transfer::LocationKind::kDockerArchive) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: a docker archive holds only docker images (docker load would refuse an "
                     "artifact); push to a registry, oci:DIR or oci-archive:FILE",
                     args.location);
  }
  if (loc.ref_is_digest() ||
      (loc.kind == transfer::LocationKind::kRegistry && loc.reference.digest)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{} names a digest; name a tag or nothing (\"latest\")", args.location);
  }
  PLUGCTL_ASSIGN_OR_RETURN(transfer::ArtifactSpec spec, SpecFrom(args));
  PLUGCTL_ASSIGN_OR_RETURN(transfer::BuiltArtifact artifact, transfer::BuildArtifact(spec));

  // Like ORAS: no tag means "latest", so what was pushed is reachable by name.
  std::string tag = loc.ResolveRef();
  if (tag.empty()) tag = "latest";
  TargetEnv env(globals);
  PLUGCTL_ASSIGN_OR_RETURN(auto dst, env.Open(loc, transfer::AccessMode::kWrite));
  transfer::CopyOptions copy{.concurrency = globals.concurrency, .tags = {tag}};
  ProgressBar bar(
      fmt::format("push {}", args.location),
      !globals.no_progress && globals.format == OutputFormat::kText && StderrIsTerminal());
  copy.progress = bar.Callback();
  PLUGCTL_ASSIGN_OR_RETURN(transfer::CopyResult copied,
                           transfer::CopyGraph(*artifact.source, artifact.manifest, *dst, copy));
  PLUGCTL_RETURN_IF_ERROR(dst->Commit());
  bar.Finish();
  PrintPushed("Pushed", dst->Describe(), tag, artifact, copied, std::nullopt, globals);
  return OkStatus();
}

Status RunAttach(const ArtifactArgs& args, const GlobalOptions& globals) {
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::ParseLocation(args.location));
  if (loc.kind != transfer::LocationKind::kRegistry) {
    return MakeError(ErrorCode::kUnimplemented,
                     "{}: attach works on registry images (the referrers API or its tag schema "
                     "finds them there)",
                     args.location);
  }
  PLUGCTL_ASSIGN_OR_RETURN(transfer::ArtifactSpec spec, SpecFrom(args));
  TargetEnv env(globals);
  PLUGCTL_ASSIGN_OR_RETURN(auto target, env.Open(loc, transfer::AccessMode::kWrite));
  PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor found, target->Resolve(loc.ResolveRef()));
  // The subject is the bare descriptor (ORAS's shape): no annotations, no platform.
  oci::Descriptor subject{
      .media_type = found.media_type, .digest = found.digest, .size = found.size};
  spec.subject = subject;
  PLUGCTL_ASSIGN_OR_RETURN(transfer::BuiltArtifact artifact, transfer::BuildArtifact(spec));
  transfer::CopyOptions copy{.concurrency = globals.concurrency};
  PLUGCTL_ASSIGN_OR_RETURN(transfer::CopyResult copied,
                           transfer::CopyGraph(*artifact.source, artifact.manifest, *target, copy));
  PLUGCTL_RETURN_IF_ERROR(target->Commit());
  PrintPushed("Attached", target->Describe(), "", artifact, copied, subject, globals);
  return OkStatus();
}

void AddArtifactOptions(CLI::App& app, ArtifactArgs& args) {
  app.add_option("FILE", args.files,
                 "Files or directories to push, each FILE[:MEDIATYPE] (default application/vnd."
                 "oci.image.layer.v1.tar, for a directory ...tar+gzip); the layer is titled with "
                 "the base name; a directory becomes one reproducible tar.gz layer, as ORAS packs "
                 "it");
  app.add_option("--annotation,-a", args.annotations, "Manifest annotation KEY=VALUE (repeatable)");
  app.add_option("--annotation-file", args.annotation_file,
                 "ORAS annotation file: {\"$manifest\": {…}, \"$config\": {…}, \"FILE\": {…}}")
      ->check(CLI::ExistingFile);
}

}  // namespace

Action DefinePush(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<ArtifactArgs>();
  app.add_option("REF", args->location,
                 "Where to push: HOST/REPO[:TAG], oci:DIR[:TAG], oci-archive:FILE[:TAG]")
      ->required()
      ->check(LocationCheck());
  AddArtifactOptions(app, *args);
  app.add_option("--artifact-type", args->artifact_type,
                 "The manifest's artifactType (default with no --config: "
                 "application/vnd.unknown.artifact.v1)");
  app.add_option("--config", args->config,
                 "Config blob FILE[:MEDIATYPE] (default: the empty config "
                 "application/vnd.oci.empty.v1+json \"{}\")");
  app.footer(
      "Pushes the files as one OCI artifact, as `oras push` does: so\n"
      "  plugctl push --insecure localhost:5000/ai_proxy:v1 ./README.md:application/vnd.module."
      "wasm.doc.v1+markdown ./plugin.tar.gz:application/vnd.oci.image.layer.v1.tar+gzip\n"
      "gives an image the gateway and `plugctl pull` read. Without a tag, \"latest\".\n"
      "FILE is split at its first ':', so names holding ':' cannot be pushed. A directory is\n"
      "packed as ORAS packs it (a tar.gz of DIRNAME/..., annotated io.deis.oras.content.unpack\n"
      "and .digest), reproducibly (sorted, mtime 0, modes 0644/0755); symlinks and special\n"
      "files in it are refused. `plugctl pull --all` and `oras pull` unpack it.\n"
      "docker-archive: cannot hold artifacts.");
  return [args, &globals] { return RunPush(*args, globals); };
}

Action DefineAttach(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<ArtifactArgs>();
  app.add_option("SUBJECT", args->location, "The registry image to attach to (tag or digest)")
      ->required()
      ->check(LocationCheck());
  AddArtifactOptions(app, *args);
  app.add_option("--artifact-type", args->artifact_type,
                 "The artifact's type, e.g. application/spdx+json")
      ->required();
  app.footer(
      "Pushes an artifact whose subject is SUBJECT's manifest, untagged; `plugctl referrers\n"
      "SUBJECT` lists it (through the referrers API, or the sha256-<hex> tag schema, which\n"
      "attach keeps up to date on registries without that API).");
  return [args, &globals] { return RunAttach(*args, globals); };
}

}  // namespace plugctl::cli
