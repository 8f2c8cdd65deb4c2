// `plugctl serve` and `plugctl gc`: the embedded registry (plugctl/server) from the command line.
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "plugctl/base/cleanup.h"
#include "plugctl/base/file.h"
#include "plugctl/catalog/access.h"
#include "plugctl/catalog/catalog_web.h"
#include "plugctl/catalog/download_api.h"
#include "plugctl/catalog/plugin_catalog.h"
#include "plugctl/cli/command_defs.h"
#include "plugctl/cli/output.h"
#include "plugctl/oci/plugin_name.h"
#include "plugctl/server/auth.h"
#include "plugctl/server/http_server.h"
#include "plugctl/server/metrics.h"
#include "plugctl/server/registry_api.h"
#include "plugctl/server/registry_store.h"
#include "plugctl/store/oci_layout.h"
#include "plugctl/transfer/copy.h"
#include "plugctl/transfer/location.h"
#include "plugctl/transfer/mirror_list.h"

namespace plugctl::cli {

namespace {

struct ServeOptions {
  std::string dir = "./plugctl-registry";
  std::string listen = "127.0.0.1:5000";
  bool read_only = false;
  std::string config;
  std::string htpasswd;
  std::string access_file;
  bool anonymous_read = false;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string public_url;
  std::string log_format = "text";
  std::string default_repository = "default";
  std::string import;
  std::string names;
  bool allow_plain_http_credentials = false;
  int max_connections = 512;
  int max_uploads = 64;
  int token_ttl = 300;
  int64_t max_blob_size = 0;
};

// The server the signal handlers talk to (one per process).
std::atomic<server::HttpServer*> running_server{nullptr};

void OnInterrupt(int) {
  if (server::HttpServer* s = running_server.load()) s->Shutdown();
}

void OnHangup(int) {
  if (server::HttpServer* s = running_server.load()) s->RequestTlsReload();
}

std::string Now() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms.count());
}

// Lines on stderr, whole: connection threads log concurrently. Access lines are batched and
// written at most kAccessLogDelay after they were made (one write per request was a tenth of a
// small download's cost); events, and whatever access lines precede them, go out at once.
class Log {
 public:
  static constexpr auto kAccessLogDelay = std::chrono::milliseconds(100);
  static constexpr size_t kAccessLogBuffer = 64 * 1024;

  explicit Log(bool json) : json_(json), flusher_([this] { FlushPeriodically(); }) {}
  ~Log() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    flusher_.join();
    std::lock_guard lock(mu_);
    FlushLocked();
  }
  void Event(std::string_view text) {
    std::string line = json_ ? nlohmann::json({{"time", Now()}, {"level", "info"}, {"msg", text}})
                                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                             : fmt::format("{} {}", Now(), EscapeForText(text));
    Write(line, /*now=*/true);
  }
  void Access(const server::AccessRecord& r) {
    double ms = static_cast<double>(r.duration.count()) / 1000.0;
    std::string line;
    if (json_) {
      line = nlohmann::json({{"time", Now()},
                             {"peer", r.peer},
                             {"user", r.user},
                             {"method", r.method},
                             {"path", r.target},
                             {"status", r.status},
                             {"bytesIn", r.bytes_in},
                             {"bytesOut", r.bytes_out},
                             {"durationMs", ms}})
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      line = fmt::format("{} {} {} \"{} {}\" {} {} {} {:.3f}ms", Now(), r.peer,
                         r.user.empty() ? std::string("-") : EscapeForText(r.user),
                         EscapeForText(r.method), EscapeForText(r.target), r.status, r.bytes_in,
                         r.bytes_out, ms);
    }
    Write(line, /*now=*/false);
  }

 private:
  void Write(std::string& line, bool now) {
    line.push_back('\n');
    std::lock_guard lock(mu_);
    pending_ += line;
    if (now || pending_.size() >= kAccessLogBuffer) FlushLocked();
  }
  void FlushLocked() {
    if (pending_.empty()) return;
    std::fwrite(pending_.data(), 1, pending_.size(), stderr);
    std::fflush(stderr);
    pending_.clear();
  }
  void FlushPeriodically() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, kAccessLogDelay, [this] { return stop_; });
      FlushLocked();
    }
  }
  bool json_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;
  bool stop_ = false;
  std::thread flusher_;  // last: it uses the members above
};

bool IsLoopback(std::string_view listen) {
  return listen.starts_with("127.") || listen.starts_with("[::1]:") ||
         listen.starts_with("localhost:");
}

// Fills the options a config file sets and the command line did not.
Status ApplyConfigFile(CLI::App& app, ServeOptions& o) {
  PLUGCTL_ASSIGN_OR_RETURN(std::string text, ReadFileBounded(o.config, 1 << 20));
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: {}", o.config, e.what());
  }
  if (!root.IsMap()) {
    return MakeError(ErrorCode::kInvalidArgument, "{}: expected a mapping of option names",
                     o.config);
  }
  auto given = [&app](const std::string& flag) {
    CLI::Option* opt = app.get_option_no_throw(flag);
    return opt != nullptr && opt->count() > 0;
  };
  // Each option the file may set: a flag given on the command line wins over it.
  using Setter = std::function<void(const YAML::Node&)>;
  auto str = [](std::string& out) {
    return Setter([&out](const YAML::Node& n) { out = n.as<std::string>(); });
  };
  auto flag = [](bool& out) { return Setter([&out](const YAML::Node& n) { out = n.as<bool>(); }); };
  auto num = [](int& out) { return Setter([&out](const YAML::Node& n) { out = n.as<int>(); }); };
  const std::map<std::string, Setter> setters = {
      {"dir", str(o.dir)},
      {"listen", str(o.listen)},
      {"read-only", flag(o.read_only)},
      {"htpasswd", str(o.htpasswd)},
      {"access-file", str(o.access_file)},
      {"anonymous-read", flag(o.anonymous_read)},
      {"tls-cert", str(o.tls_cert)},
      {"tls-key", str(o.tls_key)},
      {"tls-client-ca", str(o.tls_client_ca)},
      {"public-url", str(o.public_url)},
      {"log-format", str(o.log_format)},
      {"default-repository", str(o.default_repository)},
      {"names", str(o.names)},
      {"allow-plain-http-credentials", flag(o.allow_plain_http_credentials)},
      {"max-connections", num(o.max_connections)},
      {"max-uploads", num(o.max_uploads)},
      {"token-ttl", num(o.token_ttl)},
      {"max-blob-size", Setter([&o](const YAML::Node& n) { o.max_blob_size = n.as<int64_t>(); })},
  };
  for (const auto& item : root) {
    std::string key;
    try {
      key = item.first.as<std::string>();
      auto setter = setters.find(key);
      if (setter == setters.end()) {
        return MakeError(ErrorCode::kInvalidArgument, "{}: unknown option \"{}\"", o.config,
                         PrintableForMessage(key));
      }
      if (!given(key == "dir" ? std::string("dir") : "--" + key)) setter->second(item.second);
    } catch (const YAML::Exception& e) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: option \"{}\": {}", o.config,
                       PrintableForMessage(key), e.what());
    }
  }
  if (o.log_format != "text" && o.log_format != "json") {
    return MakeError(ErrorCode::kInvalidArgument, "{}: log-format must be text or json", o.config);
  }
  return OkStatus();
}

// `--names plugins.properties`: the console's plugin names by repository path (the host is
// dropped, as the store drops it from ref names).
Result<std::map<std::string, std::string>> ReadNames(const std::string& file) {
  PLUGCTL_ASSIGN_OR_RETURN(std::string text, ReadFileBounded(file, 4 << 20));
  PLUGCTL_ASSIGN_OR_RETURN(std::vector<transfer::MirrorSource> sources,
                           transfer::ParseMirrorList(text, file));
  std::map<std::string, std::string> names;
  for (const transfer::MirrorSource& source : sources) {
    if (source.name.empty()) continue;
    auto [it, inserted] = names.emplace(source.repository.repository, source.name);
    if (!inserted && it->second != source.name) {
      return MakeError(ErrorCode::kInvalidArgument, "{}: {} is listed as both \"{}\" and \"{}\"",
                       file, source.repository.repository, it->second, source.name);
    }
  }
  if (names.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "{}: no name=image lines (expected a plugins.properties file)", file);
  }
  return names;
}

// Requests outside the registry API: downloads under /plugins, the catalog elsewhere.
class SiteHandler : public server::Handler {
 public:
  SiteHandler(catalog::DownloadApi& downloads, catalog::CatalogWeb& web)
      : downloads_(downloads), web_(web) {}
  server::Response Handle(server::Exchange& exchange) override {
    std::string_view target(exchange.head().target().data(), exchange.head().target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (path == "/plugins" || path.starts_with("/plugins/")) return downloads_.Handle(exchange);
    return web_.Handle(exchange);
  }
  bool IsSlow(const server::Exchange& exchange) override {
    std::string_view target(exchange.head().target().data(), exchange.head().target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (path == "/plugins" || path.starts_with("/plugins/")) return downloads_.IsSlow(exchange);
    return web_.IsSlow(exchange);
  }

 private:
  catalog::DownloadApi& downloads_;
  catalog::CatalogWeb& web_;
};

// Copies every image of a bundle (oci-archive:, docker-archive:, oci:) into the layout at
// `dir`, keeping ref names, so the store serves it under the usual mapping.
Status ImportBundle(const std::string& from, const fs::path& dir, Log& log) {
  std::string text = transfer::IsLocalTransport(from) ? from : "oci-archive:" + from;
  PLUGCTL_ASSIGN_OR_RETURN(transfer::Location location, transfer::ParseLocation(text));
  PLUGCTL_ASSIGN_OR_RETURN(auto src, transfer::OpenLocation(location, transfer::AccessMode::kRead));
  PLUGCTL_ASSIGN_OR_RETURN(auto dst, store::OciLayoutTarget::Open(dir, {.create = true}));
  PLUGCTL_ASSIGN_OR_RETURN(std::vector<std::string> tags, src->Tags());
  if (tags.empty()) {
    return MakeError(ErrorCode::kNotFound, "--import {}: no tagged images to import",
                     PrintableForMessage(from));
  }
  for (const std::string& tag : tags) {
    transfer::CopyOptions copy;
    copy.tags = {tag};
    PLUGCTL_ASSIGN_OR_RETURN(transfer::CopyResult result,
                             transfer::CopyImage(*src, tag, *dst, copy));
    // The plugins.properties key a mirrored bundle keeps on its entries names the download.
    PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor entry, src->Resolve(tag));
    if (auto listed = entry.annotations.find(std::string(oci::kAnnotationPluginName));
        listed != entry.annotations.end()) {
      PLUGCTL_RETURN_IF_ERROR(dst->TagWithAnnotations(
          result.root, tag, {{std::string(oci::kAnnotationPluginName), listed->second}}));
    }
    log.Event(fmt::format("imported {} ({})", tag, result.root.digest.ToString()));
  }
  return dst->Commit();
}

// The storage directory as given: DIR or oci:DIR (the location spelling other commands take)
// becomes DIR; archives and registry references are refused with what to do instead, since
// serving them would create a directory literally named "oci-archive:x.tar". Returns the
// problem ("" when `text` was accepted and rewritten to the directory).
std::string NormalizeServeDir(std::string& text) {
  constexpr std::string_view kHint =
      "serve needs a directory (an OCI layout); unpack the archive with `plugctl copy` or "
      "`plugctl mirror` into oci:DIR first, or give it as --import";
  if (text.starts_with("oci:") && !text.starts_with("oci://")) {
    std::string dir = text.substr(4);
    if (dir.empty()) return "oci: names no directory";
    std::error_code ec;
    // oci:DIR:REF names one image; serve serves the whole directory.
    if (size_t colon = dir.rfind(':'); colon != std::string::npos && !fs::exists(dir, ec) &&
                                       fs::is_directory(dir.substr(0, colon), ec)) {
      return fmt::format("{} names one image; serve serves a whole directory: oci:{}", text,
                         dir.substr(0, colon));
    }
    text = std::move(dir);
    return "";
  }
  for (std::string_view archive : {"oci-archive:", "docker-archive:"}) {
    if (text.starts_with(archive)) return fmt::format("{} is an archive: {}", text, kHint);
  }
  for (std::string_view scheme : {"oci://", "docker://", "http://", "https://"}) {
    if (text.starts_with(scheme)) {
      return fmt::format(
          "{} is a registry reference: serve needs a directory (an OCI layout); "
          "copy or mirror the image into oci:DIR first",
          text);
    }
  }
  // HOST:PORT/REPO is a registry reference; no one names a directory that way.
  std::error_code ec;
  size_t slash = text.find('/');
  if (slash != std::string::npos && text.substr(0, slash).find(':') != std::string::npos &&
      !fs::exists(text, ec)) {
    return fmt::format(
        "{} looks like a registry reference: serve needs a directory (an OCI "
        "layout); copy or mirror the image into oci:DIR first",
        text);
  }
  return "";
}

Status RunServe(CLI::App& app, ServeOptions o, const GlobalOptions& globals) {
  if (!o.config.empty()) PLUGCTL_RETURN_IF_ERROR(ApplyConfigFile(app, o));
  if (std::string problem = NormalizeServeDir(o.dir); !problem.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "{}", problem);
  }
  Log log(o.log_format == "json");
  bool credentials = !o.htpasswd.empty();
  bool tls = !o.tls_cert.empty() || !o.tls_key.empty();
  if (tls && (o.tls_cert.empty() || o.tls_key.empty())) {
    return MakeError(ErrorCode::kInvalidArgument, "--tls-cert and --tls-key go together");
  }
  if (!o.tls_client_ca.empty() && !tls) {
    return MakeError(ErrorCode::kInvalidArgument, "--tls-client-ca needs --tls-cert/--tls-key");
  }
  if (credentials && !tls && !IsLoopback(o.listen) && !o.allow_plain_http_credentials) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "refusing to take passwords over plain HTTP on {}: give --tls-cert/--tls-key "
                     "or --allow-plain-http-credentials",
                     PrintableForMessage(o.listen));
  }
  if (!o.access_file.empty() && !credentials) {
    return MakeError(ErrorCode::kInvalidArgument, "--access-file needs --htpasswd");
  }
  fs::path dir(o.dir);
  if (!o.import.empty()) PLUGCTL_RETURN_IF_ERROR(ImportBundle(o.import, dir, log));

  server::StoreOptions store_options;
  store_options.default_repository = o.default_repository;
  PLUGCTL_ASSIGN_OR_RETURN(auto store, server::RegistryStore::Open(dir, store_options));
  for (const std::string& warning : store->Warnings()) log.Event(warning);

  server::AuthOptions auth_options;
  if (credentials) auth_options.htpasswd_file = fs::path(o.htpasswd);
  if (!o.access_file.empty()) auth_options.access_file = fs::path(o.access_file);
  auth_options.anonymous_read = o.anonymous_read;
  auth_options.token_key_file = dir / ".plugctl" / "token.key";
  auth_options.token_ttl = std::chrono::seconds(o.token_ttl);
  PLUGCTL_ASSIGN_OR_RETURN(auto auth, server::Authorizer::Create(auth_options));

  catalog::CatalogOptions catalog_options;
  catalog_options.dir = dir;
  if (!o.names.empty()) {
    PLUGCTL_ASSIGN_OR_RETURN(catalog_options.names, ReadNames(o.names));
  }
  catalog::PluginCatalog plugins(*store, catalog_options);
  // Extract what the store holds now rather than on the first download.
  auto snapshot = plugins.Snapshot();  // a local: the loop must not outlive a temporary
  for (const std::string& warning : snapshot->warnings) log.Event(warning);
  catalog::CatalogAccess access(*auth);
  catalog::DownloadApi downloads(plugins, access);
  catalog::CatalogWeb web(plugins, access, {.public_url = o.public_url});
  SiteHandler site(downloads, web);

  server::Metrics metrics;
  server::RegistryApi api(*store, *auth, metrics,
                          {.read_only = o.read_only,
                           .public_url = o.public_url,
                           .max_concurrent_uploads = o.max_uploads,
                           .max_blob_bytes = static_cast<uint64_t>(o.max_blob_size),
                           .fallback = &site});
  server::HttpServerOptions http_options;
  http_options.listen = o.listen;
  http_options.max_connections = static_cast<size_t>(o.max_connections);
  if (tls) {
    http_options.tls = server::TlsOptions{o.tls_cert, o.tls_key, std::nullopt};
    if (!o.tls_client_ca.empty()) http_options.tls->client_ca_file = fs::path(o.tls_client_ca);
  }
  server::HttpServerHooks hooks;
  hooks.on_request = [&](const server::AccessRecord& r) {
    metrics.Record(r);
    log.Access(r);
  };
  hooks.on_event = [&](std::string_view text) { log.Event(text); };
  hooks.on_in_flight = [&](int delta) { metrics.InFlight(delta); };
  server::HttpServer http(http_options, api, hooks);
  PLUGCTL_RETURN_IF_ERROR(http.Bind());

  running_server.store(&http);
  SetInterruptHandler(&OnInterrupt);
  struct sigaction hup {};
  hup.sa_handler = &OnHangup;
  sigemptyset(&hup.sa_mask);
  hup.sa_flags = SA_RESTART;
  ::sigaction(SIGHUP, &hup, nullptr);

  // Uploads abandoned by their clients go after an hour, checked every ten minutes.
  std::mutex reclaim_mu;
  std::condition_variable reclaim_cv;
  bool stop_reclaim = false;
  std::thread reclaimer([&] {
    std::unique_lock lock(reclaim_mu);
    while (!reclaim_cv.wait_for(lock, std::chrono::minutes(10), [&] { return stop_reclaim; })) {
      lock.unlock();
      size_t n = store->ReclaimStaleUploads();
      if (n > 0) log.Event(fmt::format("removed {} stale upload(s)", n));
      lock.lock();
    }
  });

  log.Event(fmt::format("plugctl serve: listening on {} (storage {}{}{})", http.url(),
                        fs::absolute(dir).lexically_normal().string(),
                        o.read_only ? ", read-only" : "",
                        credentials ? ", authentication on" : ""));
  http.Run();
  {
    std::lock_guard lock(reclaim_mu);
    stop_reclaim = true;
  }
  reclaim_cv.notify_all();
  reclaimer.join();
  SetInterruptHandler(nullptr);
  running_server.store(nullptr);
  ::signal(SIGHUP, SIG_DFL);
  log.Event("plugctl serve: stopped");
  (void)globals;
  return OkStatus();
}

}  // namespace

Action DefineServe(CLI::App& app, const GlobalOptions& globals) {
  auto o = std::make_shared<ServeOptions>();
  app.add_option("dir", o->dir,
                 "Storage: an OCI image layout directory, created when missing (default "
                 "./plugctl-registry); a bundle written by `plugctl mirror --to oci:DIR` is "
                 "served as it is; oci:DIR is DIR")
      ->transform(CLI::Validator([](std::string& text) { return NormalizeServeDir(text); }, "DIR"));
  app.add_option("--listen", o->listen, "ADDR:PORT to listen on (port 0: any free port)")
      ->default_str("127.0.0.1:5000");
  app.add_flag("--read-only", o->read_only, "Refuse every write (405 UNSUPPORTED)");
  app.add_option("--config", o->config,
                 "YAML file with any of these options by their long names (flags win)")
      ->check(CLI::ExistingFile);
  app.add_option("--htpasswd", o->htpasswd,
                 "Users (bcrypt entries, as `htpasswd -B` writes them); re-read when it changes")
      ->check(CLI::ExistingFile);
  app.add_option("--access-file", o->access_file,
                 "YAML rules: which user may pull/push/delete which repositories")
      ->check(CLI::ExistingFile);
  app.add_option("--names", o->names,
                 "plugins.properties whose keys name plugin downloads (/plugins/NAME/...) for "
                 "the repositories it lists")
      ->check(CLI::ExistingFile);
  app.add_flag("--anonymous-read", o->anonymous_read,
               "With --htpasswd: let clients without credentials pull");
  app.add_option("--tls-cert", o->tls_cert,
                 "Serve HTTPS with this certificate chain (PEM); "
                 "SIGHUP reloads it")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", o->tls_key, "The certificate's private key (PEM)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-client-ca", o->tls_client_ca,
                 "Require client certificates signed by these CAs (mutual TLS)")
      ->check(CLI::ExistingFile);
  app.add_option("--public-url", o->public_url,
                 "The URL clients reach this registry by, for the token realm (default: from "
                 "each request's Host)");
  app.add_option("--log-format", o->log_format, "Access and event log on stderr: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->default_str("text");
  app.add_option("--default-repository", o->default_repository,
                 "Repository that serves plain-tag ref names (\"1.0.0\") of the layout")
      ->default_str("default");
  app.add_option("--import", o->import,
                 "Copy the images of a bundle (oci-archive FILE, or oci:/oci-archive:/"
                 "docker-archive: locations) into DIR before serving");
  app.add_flag("--allow-plain-http-credentials", o->allow_plain_http_credentials,
               "Accept passwords over plain HTTP on a non-loopback address");
  app.add_option("--max-connections", o->max_connections, "Connections served at once")
      ->check(CLI::Range(1, 100000))
      ->default_str("512");
  app.add_option("--max-uploads", o->max_uploads, "Uploads streaming at once (more get 429)")
      ->check(CLI::Range(1, 10000))
      ->default_str("64");
  app.add_option("--max-blob-size", o->max_blob_size,
                 "Largest blob accepted, in bytes (0: no limit); larger uploads get 413")
      ->check(CLI::NonNegativeNumber)
      ->default_str("0");
  app.add_option("--token-ttl", o->token_ttl, "Seconds a token from /token stays valid")
      ->check(CLI::Range(30, 86400))
      ->default_str("300");
  return [&app, o, &globals] { return RunServe(app, *o, globals); };
}

Action DefineGc(CLI::App& app, const GlobalOptions& globals) {
  auto dir = std::make_shared<std::string>();
  auto dry_run = std::make_shared<bool>(false);
  auto grace = std::make_shared<int>(600);
  app.add_option("dir", *dir, "The registry's storage directory (an OCI image layout)")->required();
  app.add_flag("--dry-run", *dry_run, "Only tell what would be removed");
  app.add_option("--grace", *grace,
                 "Keep blobs written in the last SECONDS (pushes in flight write blobs first)")
      ->check(CLI::Range(0, 86400 * 30))
      ->default_str("600");
  return [dir, dry_run, grace, &globals]() -> Status {
    PLUGCTL_ASSIGN_OR_RETURN(
        server::GcReport report,
        server::RegistryStore::CollectGarbage(*dir, *dry_run, std::chrono::seconds(*grace)));
    if (globals.format == OutputFormat::kJson) {
      nlohmann::ordered_json removed = nlohmann::ordered_json::array();
      for (const oci::Digest& d : report.removed) removed.push_back(d.ToString());
      PrintJson({{"dir", *dir},
                 {"dryRun", *dry_run},
                 {"removed", removed},
                 {"removedBytes", report.removed_bytes},
                 {"kept", report.kept}});
      return OkStatus();
    }
    for (const oci::Digest& d : report.removed) {
      Print(std::cout, "{} {}\n", *dry_run ? "would remove" : "removed", d.ToString());
    }
    Print(std::cout, "{} {} blob(s), {}; kept {}\n", *dry_run ? "Would remove" : "Removed",
          report.removed.size(), HumanBytes(report.removed_bytes), report.kept);
    return OkStatus();
  };
}

}  // namespace plugctl::cli
