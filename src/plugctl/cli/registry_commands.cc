// Commands that only make sense with a registry (login, logout, catalog,
// delete) or that name one image to act on in place (resolve, tag).
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include <fmt/ranges.h>

#include "plugctl/cli/command_defs.h"
#include "plugctl/cli/registry_env.h"
#include "plugctl/oci/reference.h"
#include "plugctl/registry/credentials.h"
#include "plugctl/registry/repository.h"
#include "plugctl/transfer/copy.h"
#include "plugctl/transfer/copy_tag.h"

namespace plugctl::cli {
namespace {

// A registry host as users write it: "reg.local:5000", "https://reg.local",
// "docker.io".
Result<std::string> ParseHost(std::string_view text) {
  std::string_view host = text;
  for (std::string_view prefix : {"https://", "http://", "oci://", "docker://"}) {
    if (host.starts_with(prefix)) host.remove_prefix(prefix.size());
  }
  while (host.ends_with("/")) host.remove_suffix(1);
  if (host.empty() || host.find('/') != std::string_view::npos ||
      host.find_first_of(" \t\r\n") != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid registry host \"{}\"", text);
  }
  if (host == "index.docker.io" || host == "registry-1.docker.io") return std::string("docker.io");
  return std::string(host);
}

// The host to talk to for a host name: Docker Hub's API lives elsewhere.
std::string ApiHost(const std::string& host) {
  return host == "docker.io" ? "registry-1.docker.io" : host;
}

std::filesystem::path ConfigPath(const GlobalOptions& globals) {
  return globals.registry_config.empty() ? registry::DockerConfig::DefaultPath(globals.env)
                                         : std::filesystem::path(globals.registry_config);
}

// ---- login ----
struct LoginArgs {
  std::string host;
  std::string username;
  std::string password;
  bool password_stdin = false;
};

Status RunLogin(const LoginArgs& args, const GlobalOptions& globals) {
  PLUGCTL_ASSIGN_OR_RETURN(std::string host, ParseHost(args.host));
  registry::Credential cred;
  cred.username = args.username;
  cred.password = args.password;
  if (args.password_stdin) {
    if (!args.password.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "--password and --password-stdin exclude each other");
    }
    PLUGCTL_ASSIGN_OR_RETURN(cred.password, ReadPasswordFromStdin());
  } else if (!args.password.empty()) {
    std::cerr << "warning: --password on the command line is visible to other users; prefer "
                 "--password-stdin\n";
  }
  if (cred.username.empty()) {
    if (::isatty(STDIN_FILENO) != 1 || args.password_stdin) {
      return MakeError(ErrorCode::kInvalidArgument, "--username is required");
    }
    cred.username = PromptLine("Username: ", true);
  }
  if (cred.password.empty()) {
    if (::isatty(STDIN_FILENO) != 1) {
      return MakeError(ErrorCode::kInvalidArgument, "no password: use --password-stdin");
    }
    cred.password = PromptLine("Password: ", false);
  }
  // Check the credentials against the registry before storing them.
  registry::SessionOptions options = TargetEnv::SessionOptionsFor(globals);
  options.credentials = [cred](std::string_view) -> Result<registry::Credential> { return cred; };
  PLUGCTL_ASSIGN_OR_RETURN(auto session, registry::Session::Create(ApiHost(host), options));
  PLUGCTL_RETURN_IF_ERROR(session->Ping());
  PLUGCTL_ASSIGN_OR_RETURN(registry::DockerConfig config,
                           registry::DockerConfig::Load(ConfigPath(globals)));
  PLUGCTL_RETURN_IF_ERROR(config.Store(host, cred));
  if (globals.format == OutputFormat::kJson) {
    PrintJson({{"registry", host}, {"config", config.path().string()}, {"loggedIn", true}});
  } else {
    Print(std::cout, "Login Succeeded (credentials stored in {})\n", config.path().string());
  }
  return OkStatus();
}

// ---- logout ----
struct LogoutArgs {
  std::string host;
};

Status RunLogout(const LogoutArgs& args, const GlobalOptions& globals) {
  PLUGCTL_ASSIGN_OR_RETURN(std::string host, ParseHost(args.host));
  PLUGCTL_ASSIGN_OR_RETURN(registry::DockerConfig config,
                           registry::DockerConfig::Load(ConfigPath(globals)));
  PLUGCTL_RETURN_IF_ERROR(config.Erase(host));
  if (globals.format == OutputFormat::kJson) {
    PrintJson({{"registry", host}, {"loggedIn", false}});
  } else {
    Print(std::cout, "Removed credentials for {}\n", host);
  }
  return OkStatus();
}

// ---- resolve / tag / delete: one image in place ----
struct ImageArgs {
  std::string location;
  std::vector<std::string> tags;
  bool yes = false;
};

Status RunResolve(const ImageArgs& args, const GlobalOptions& globals) {
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::ParseLocation(args.location));
  TargetEnv env(globals);
  PLUGCTL_ASSIGN_OR_RETURN(auto target, env.Open(loc, transfer::AccessMode::kRead));
  PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor desc, target->Resolve(loc.ResolveRef()));
  if (globals.format == OutputFormat::kJson) {
    nlohmann::ordered_json out = desc.ToJson();
    out["location"] = loc.ToString();
    PrintJson(out);
  } else {
    Print(std::cout, "{}\n", desc.digest.ToString());
  }
  return OkStatus();
}

Status RunTag(const ImageArgs& args, const GlobalOptions& globals) {
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::ParseLocation(args.location));
  // Opened for writing, a missing layout or archive would be created empty; tagging needs an
  // image that is there.
  std::error_code ec;
  if (loc.kind != transfer::LocationKind::kRegistry && !std::filesystem::exists(loc.path, ec)) {
    return MakeError(ErrorCode::kNotFound, "{}: no such file or directory", loc.path.string());
  }
  TargetEnv env(globals);
  PLUGCTL_ASSIGN_OR_RETURN(auto target, env.Open(loc, transfer::AccessMode::kWrite));
  PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor desc, target->Resolve(loc.ResolveRef()));
  // docker-style `tag SRC DST`: for a registry image, an argument with '/' is a full reference.
  // The same repository gets the tag; another repository (or registry) gets the image copied
  // (blobs mounted where the registry can) and tagged there. Local targets take ref names with
  // '/' and ':' as they are (oci:DIR:reg/x:1 is a valid ref name).
  // Every argument is checked before anything is written, so a bad one leaves no half-done
  // tagging behind.
  std::vector<std::string> tags;
  std::vector<transfer::Location> elsewhere;
  for (const std::string& arg : args.tags) {
    if (loc.kind != transfer::LocationKind::kRegistry || arg.find('/') == std::string::npos) {
      if (Status valid = transfer::ValidateTagFor(loc.kind, arg); !valid) {
        return tl::unexpected(valid.error().WithContext(
            fmt::format("tag {} (nothing was tagged)", target->Describe())));
      }
      tags.push_back(arg);
      continue;
    }
    PLUGCTL_ASSIGN_OR_RETURN(transfer::Location dst, transfer::ParseLocation("docker://" + arg));
    if (dst.reference.digest) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "{} names a digest; a tag needs a name (nothing was tagged)", arg);
    }
    if (dst.reference.tag.empty()) dst.reference.tag = "latest";
    if (dst.reference.registry == loc.reference.registry &&
        dst.reference.repository == loc.reference.repository) {
      tags.push_back(dst.reference.tag);
    } else {
      elsewhere.push_back(std::move(dst));
    }
  }
  // What was written before a failure (a registry refusing a push) is named in the error.
  std::vector<std::string> done;
  auto failed = [&](const Error& error) -> Status {
    if (done.empty()) return tl::unexpected(error);
    return tl::unexpected(
        error.WithContext(fmt::format("after tagging {}", fmt::join(done, ", "))));
  };
  std::vector<std::string> copied_to;
  for (const transfer::Location& dst : elsewhere) {
    auto other = env.Open(dst, transfer::AccessMode::kWrite);
    if (!other) return failed(other.error());
    transfer::CopyOptions copy;
    copy.concurrency = globals.concurrency;
    copy.tags = {dst.reference.tag};
    auto copied = transfer::CopyGraph(*target, desc, **other, copy);
    if (!copied) return failed(copied.error());
    if (Status committed = (*other)->Commit(); !committed) return failed(committed.error());
    copied_to.push_back(dst.reference.Name() + ":" + dst.reference.tag);
    done.push_back(copied_to.back());
  }
  for (const std::string& tag : tags) {
    if (Status tagged = target->Tag(desc, tag); !tagged) return failed(tagged.error());
    // Local targets write at Commit; a registry tag exists once Tag returns.
    if (loc.kind == transfer::LocationKind::kRegistry) done.push_back(tag);
  }
  PLUGCTL_RETURN_IF_ERROR(target->Commit());
  if (globals.format == OutputFormat::kJson) {
    PrintJson({{"location", target->Describe()},
               {"digest", desc.digest.ToString()},
               {"tags", tags},
               {"copiedTo", copied_to}});
  } else {
    for (const std::string& tag : tags) {
      Print(std::cout, "Tagged {}:{} -> {}\n", target->Describe(), tag, desc.digest.ToString());
    }
    for (const std::string& ref : copied_to) {
      Print(std::cout, "Tagged {} -> {} (copied there)\n", ref, desc.digest.ToString());
    }
  }
  return OkStatus();
}

Status RunDelete(const ImageArgs& args, const GlobalOptions& globals) {
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::ParseLocation(args.location));
  if (loc.kind != transfer::LocationKind::kRegistry) {
    return MakeError(ErrorCode::kUnimplemented, "delete works on registry images only");
  }
  TargetEnv env(globals);
  PLUGCTL_ASSIGN_OR_RETURN(auto target, env.Open(loc, transfer::AccessMode::kWrite));
  store::Deleter* deleter = target->deleter();
  if (deleter == nullptr) {
    return MakeError(ErrorCode::kUnimplemented, "delete works on registry images only");
  }
  PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor desc, target->Resolve(loc.ResolveRef()));
  // Registries delete manifests by digest, which removes every tag on it: say so.
  std::vector<std::string> also;
  if (!loc.reference.digest) {
    auto tags = target->Tags();
    if (tags) {
      for (const auto& tag : *tags) {
        if (tag == loc.reference.tag) continue;
        auto other = target->Resolve(tag);
        if (other && other->digest == desc.digest) also.push_back(tag);
      }
    }
    if (!also.empty() && !args.yes) {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "{} also carries tag(s) {} which would be deleted with it; pass --yes to "
                       "delete them all",
                       desc.digest.ToString(), fmt::join(also, ", "));
    }
  }
  PLUGCTL_RETURN_IF_ERROR(deleter->Delete(desc));
  if (globals.format == OutputFormat::kJson) {
    PrintJson({{"deleted", desc.digest.ToString()},
               {"location", target->Describe()},
               {"alsoUntagged", also}});
  } else {
    Print(std::cout, "Deleted {}@{}\n", target->Describe(), desc.digest.ToString());
  }
  return OkStatus();
}

// ---- referrers ----
struct ReferrersArgs {
  std::string location;
  std::string artifact_type;
};

Status RunReferrers(const ReferrersArgs& args, const GlobalOptions& globals) {
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location loc, transfer::ParseLocation(args.location));
  TargetEnv env(globals);
  PLUGCTL_ASSIGN_OR_RETURN(auto target, env.Open(loc, transfer::AccessMode::kRead));
  // Registries, OCI layouts and OCI archives (whose index.json entries are scanned).
  store::ReferrerLister* lister = target->referrer_lister();
  if (lister == nullptr) {
    return MakeError(ErrorCode::kUnimplemented,
                     "referrers works on registry images, oci: and oci-archive: only");
  }
  PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor desc, target->Resolve(loc.ResolveRef()));
  PLUGCTL_ASSIGN_OR_RETURN(std::vector<oci::Descriptor> referrers,
                           lister->Referrers(desc.digest, args.artifact_type));
  if (globals.format == OutputFormat::kJson) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& r : referrers) list.push_back(r.ToJson());
    PrintJson({{"location", loc.ToString()},
               {"digest", desc.digest.ToString()},
               {"referrers", std::move(list)}});
  } else {
    Print(std::cout, "{}@{}\n", loc.ToString(), desc.digest.ToString());
    if (referrers.empty()) {
      Print(std::cout, "  no referrers{}\n",
            args.artifact_type.empty() ? "" : " of type " + EscapeForText(args.artifact_type));
    }
    for (const auto& r : referrers) {
      Print(std::cout, "  {}  {}  {}\n", r.digest.ToString(),
            r.artifact_type.empty() ? r.media_type : r.artifact_type,
            HumanBytes(static_cast<uint64_t>(r.size)));
    }
  }
  return OkStatus();
}

// ---- catalog ----
struct CatalogArgs {
  std::string host;
  int page_size = 1000;
};

Status RunCatalog(const CatalogArgs& args, const GlobalOptions& globals) {
  // HOST/PREFIX lists one namespace: the registry API has no filter, so the full catalog is
  // read and cut here.
  std::string_view text = args.host;
  for (std::string_view scheme : {"https://", "http://", "oci://", "docker://"}) {
    if (text.starts_with(scheme)) text.remove_prefix(scheme.size());
  }
  std::string prefix;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    prefix = std::string(text.substr(slash + 1));
    while (prefix.ends_with("/")) prefix.pop_back();
    text = text.substr(0, slash);
  }
  PLUGCTL_ASSIGN_OR_RETURN(std::string host, ParseHost(text));
  TargetEnv env(globals);
  PLUGCTL_ASSIGN_OR_RETURN(auto session, env.sessions().Get(ApiHost(host)));
  PLUGCTL_ASSIGN_OR_RETURN(std::vector<std::string> all,
                           registry::Catalog(*session, args.page_size));
  std::vector<std::string> repos;
  for (std::string& r : all) {
    if (prefix.empty() || r == prefix || r.starts_with(prefix + "/")) repos.push_back(std::move(r));
  }
  if (globals.format == OutputFormat::kJson) {
    nlohmann::ordered_json out = {{"registry", host}};
    if (!prefix.empty()) out["prefix"] = prefix;
    out["repositories"] = repos;
    PrintJson(out);
  } else {
    for (const auto& r : repos) Print(std::cout, "{}\n", r);
  }
  return OkStatus();
}

}  // namespace

Action DefineLogin(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<LoginArgs>();
  app.add_option("HOST", args->host, "Registry host[:port]")->required();
  app.add_option("--username,-u", args->username, "User name");
  app.add_option("--password,-p", args->password, "Password (prefer --password-stdin)");
  app.add_flag("--password-stdin", args->password_stdin, "Read the password from standard input");
  app.footer(
      "Checks the credentials against the registry, then stores them where docker, ORAS\n"
      "and skopeo look: credHelpers/credsStore when configured, else config.json auths.");
  return [args, &globals] { return RunLogin(*args, globals); };
}

Action DefineLogout(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<LogoutArgs>();
  app.add_option("HOST", args->host, "Registry host[:port]")->required();
  return [args, &globals] { return RunLogout(*args, globals); };
}

Action DefineResolve(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<ImageArgs>();
  app.add_option("IMAGE", args->location, "Image location")->required()->check(LocationCheck());
  return [args, &globals] { return RunResolve(*args, globals); };
}

Action DefineTag(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<ImageArgs>();
  app.add_option("IMAGE", args->location, "Image location")->required()->check(LocationCheck());
  app.add_option("TAG", args->tags, "New tags")->required();
  return [args, &globals] { return RunTag(*args, globals); };
}

Action DefineDelete(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<ImageArgs>();
  app.add_option("IMAGE", args->location, "Registry image (tag or digest)")
      ->required()
      ->check(LocationCheck());
  app.add_flag("--yes,-y", args->yes, "Also delete when other tags share the manifest");
  return [args, &globals] { return RunDelete(*args, globals); };
}

Action DefineReferrers(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<ReferrersArgs>();
  app.add_option("IMAGE", args->location, "Registry image (tag or digest)")
      ->required()
      ->check(LocationCheck());
  app.add_option("--artifact-type", args->artifact_type, "Only referrers of this artifact type");
  return [args, &globals] { return RunReferrers(*args, globals); };
}

Action DefineCatalog(CLI::App& app, const GlobalOptions& globals) {
  auto args = std::make_shared<CatalogArgs>();
  app.add_option("HOST", args->host,
                 "Registry host[:port], optionally /PREFIX to list one namespace")
      ->required();
  app.add_option("--page-size", args->page_size, "Repositories asked for per request")
      ->check(CLI::Range(1, 10000));
  return [args, &globals] { return RunCatalog(*args, globals); };
}

}  // namespace plugctl::cli
