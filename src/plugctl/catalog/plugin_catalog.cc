#include "plugctl/catalog/plugin_catalog.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <set>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "plugctl/base/file.h"
#include "plugctl/oci/plugin_name.h"
#include "plugctl/oci/reference.h"
#include "plugctl/plugin/extract.h"
#include "plugctl/plugin/loadability.h"
#include "plugctl/plugin/plugin_server.h"
#include "plugctl/plugin/validate.h"
#include "plugctl/store/oci_layout.h"
#include "plugctl/transfer/semver.h"
#include "plugctl/wasmplugin/wasmplugin.h"
#include "plugctl/wasmplugin/yaml_emit.h"

namespace plugctl::catalog {
namespace {

constexpr std::string_view kInfoFile = ".plugctl-info.json";
constexpr std::string_view kTempPrefix = ".tmp-";
constexpr size_t kMaxInfoBytes = 1 << 20;

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What an image holds, whatever name and tag it is listed under.
struct Extracted {
  bool usable = false;
  std::string error;
  fs::path dir;
  oci::Digest wasm_sha256 = oci::Digest::Of("");
  uint64_t wasm_size = 0;
  std::string wasm_md5;
  int64_t created = 0;
  int64_t modified = 0;
  bool gateway_loadable = false;
  std::vector<std::string> gateway_reasons;
  std::optional<oci::Digest> gateway_manifest;
  std::string shape;
  std::shared_ptr<const spec::ParsedSpec> spec;
  std::vector<std::string> readmes;
  bool has_icon = false;
  bool has_spec = false;
};

nlohmann::json InfoJson(const Extracted& e) {
  nlohmann::json j = {{"wasm_sha256", e.wasm_sha256.ToString()},
                      {"wasm_size", e.wasm_size},
                      {"wasm_md5", e.wasm_md5},
                      {"created", e.created},
                      {"modified", e.modified},
                      {"gateway_loadable", e.gateway_loadable},
                      {"gateway_reasons", e.gateway_reasons},
                      {"shape", e.shape}};
  if (e.gateway_manifest) j["gateway_manifest"] = e.gateway_manifest->ToString();
  return j;
}

// Reads a cache directory written by Extract; nullopt when it is not one (then it is redone).
std::optional<Extracted> LoadCached(const fs::path& dir) {
  auto text = ReadFileBounded(dir / kInfoFile, kMaxInfoBytes);
  if (!text) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  Extracted e;
  try {
    auto sha = oci::Digest::Parse(j.at("wasm_sha256").get<std::string>());
    if (!sha) return std::nullopt;
    e.wasm_sha256 = *sha;
    e.wasm_size = j.at("wasm_size").get<uint64_t>();
    e.wasm_md5 = j.at("wasm_md5").get<std::string>();
    e.created = j.at("created").get<int64_t>();
    e.modified = j.at("modified").get<int64_t>();
    e.gateway_loadable = j.at("gateway_loadable").get<bool>();
    e.gateway_reasons = j.at("gateway_reasons").get<std::vector<std::string>>();
    e.shape = j.at("shape").get<std::string>();
    if (j.contains("gateway_manifest")) {
      auto m = oci::Digest::Parse(j["gateway_manifest"].get<std::string>());
      if (!m) return std::nullopt;
      e.gateway_manifest = *m;
    }
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  std::error_code ec;
  if (fs::file_size(dir / "plugin.wasm", ec) != e.wasm_size || ec) return std::nullopt;
  e.usable = true;
  e.dir = dir;
  return e;
}

// The parts of a cache directory that are not in info.json: spec, READMEs, icon.
void ScanFiles(Extracted& e) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(e.dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with("README") && plugin::IsPluginFileName(name)) e.readmes.push_back(name);
    if (name == "icon.png") e.has_icon = true;
  }
  std::sort(e.readmes.begin(), e.readmes.end());
  if (fs::exists(e.dir / "spec.yaml", ec)) {
    e.has_spec = true;
    auto parsed = plugin::LoadSpec(e.dir);
    if (parsed) e.spec = std::make_shared<const spec::ParsedSpec>(std::move(*parsed));
  }
}

// "basic-auth:1.0.0" < "basic-auth:1.10.0"; non-versions by text, before versions.
bool VersionLess(const std::string& a, const std::string& b) {
  auto va = transfer::SemVer::Parse(a);
  auto vb = transfer::SemVer::Parse(b);
  if (va && vb) {
    int c = va->Compare(*vb);
    if (c != 0) return c < 0;
    return a < b;
  }
  if (va.has_value() != vb.has_value()) return !va.has_value();
  return a < b;
}

}  // namespace

std::string PluginVersion::MetadataTxt() const {
  plugin::PluginFileInfo info;
  info.size = wasm_size;
  info.sha256 = wasm_sha256;
  info.md5 = wasm_md5;
  info.created = created;
  info.modified = modified;
  return plugin::FormatMetadataTxt(name, info);
}

const PluginVersion* CatalogSnapshot::Find(std::string_view name, std::string_view version) const {
  auto it = std::lower_bound(versions.begin(), versions.end(), name,
                             [](const std::shared_ptr<const PluginVersion>& v, std::string_view n) {
                               return v->name < n;
                             });
  for (; it != versions.end() && (*it)->name == name; ++it) {
    if ((*it)->version == version) return it->get();
  }
  return nullptr;
}

std::vector<const PluginVersion*> CatalogSnapshot::VersionsOf(std::string_view name) const {
  std::vector<const PluginVersion*> out;
  auto it = std::lower_bound(versions.begin(), versions.end(), name,
                             [](const std::shared_ptr<const PluginVersion>& v, std::string_view n) {
                               return v->name < n;
                             });
  for (; it != versions.end() && (*it)->name == name; ++it) out.push_back(it->get());
  return out;
}

std::vector<std::string> CatalogSnapshot::Names() const {
  std::vector<std::string> out;
  for (const auto& v : versions) {
    if (out.empty() || out.back() != v->name) out.push_back(v->name);
  }
  return out;
}

struct PluginCatalog::Impl {
  server::RegistryStore& store;
  CatalogOptions options;
  fs::path cache_dir;

  std::mutex refresh_mu;  // one refresh (and extraction) at a time
  std::unique_ptr<store::OciLayoutTarget> layout;
  // By the digest of a tag's target: what extraction found (failures too, in memory only).
  std::map<oci::Digest, std::shared_ptr<const Extracted>> extracted;
  std::atomic<uint64_t> temp_counter{0};

  mutable std::mutex current_mu;
  std::shared_ptr<const CatalogSnapshot> current = std::make_shared<CatalogSnapshot>();
  uint64_t generation = std::numeric_limits<uint64_t>::max();

  Impl(server::RegistryStore& s, CatalogOptions o) : store(s), options(std::move(o)) {
    cache_dir = options.dir / ".plugctl" / "catalog";
    // Temporary directories of an extraction a crash interrupted.
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(cache_dir, ec)) {
      if (entry.path().filename().string().starts_with(kTempPrefix)) {
        fs::remove_all(entry.path(), ec);
      }
    }
  }

  std::shared_ptr<const CatalogSnapshot> Current() const {
    std::lock_guard lock(current_mu);
    return current;
  }

  // Extracts `root` into cache_dir/<hex>, or finds it there.
  std::shared_ptr<const Extracted> Extract(const oci::Descriptor& root) {
    if (auto it = extracted.find(root.digest); it != extracted.end()) return it->second;
    auto result = std::make_shared<Extracted>();
    const fs::path final_dir = cache_dir / root.digest.hex();
    if (auto cached = LoadCached(final_dir)) {
      *result = std::move(*cached);
      ScanFiles(*result);
    } else if (Status st = ExtractInto(root, final_dir, *result); !st) {
      result = std::make_shared<Extracted>();
      result->error = st.error().message();
    } else {
      ScanFiles(*result);
    }
    extracted[root.digest] = result;
    return result;
  }

  Status ExtractInto(const oci::Descriptor& root, const fs::path& final_dir, Extracted& out) {
    if (!layout) {
      PLUGCTL_ASSIGN_OR_RETURN(layout, store::OciLayoutTarget::Open(options.dir));
    }
    std::error_code ec;
    fs::create_directories(cache_dir, ec);
    if (ec) {
      return MakeError(ErrorCode::kInternal, "{}: {}", cache_dir.string(), ec.message());
    }
    const fs::path temp = cache_dir / fmt::format("{}{}-{}-{}", kTempPrefix, root.digest.hex(),
                                                  ::getpid(), temp_counter.fetch_add(1));
    struct RemoveTemp {
      fs::path path;
      ~RemoveTemp() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
      }
    } remove_temp{temp};
    plugin::ExtractOptions extract;
    extract.check_gateway = true;
    PLUGCTL_ASSIGN_OR_RETURN(plugin::ExtractResult r,
                             plugin::ExtractPlugin(*layout, root, temp, extract));
    // The same rule as plugin-server trees: what a gateway could not instantiate is no download.
    PLUGCTL_RETURN_IF_ERROR(
        plugin::CheckServableWasm(temp / "plugin.wasm", wasm::kMaxWasmModuleBytes));
    PLUGCTL_ASSIGN_OR_RETURN(out.wasm_md5, plugin::FileMd5Hex(temp / "plugin.wasm"));
    out.wasm_sha256 = r.wasm_sha256;
    out.wasm_size = r.wasm_size;
    out.modified = NowSeconds();
    auto created = plugin::ImageCreatedTime(*layout, r.manifest);
    // Reproducible builds record the epoch itself, which says nothing about the plugin.
    out.created = created && created->value_or(0) > 0 ? **created : out.modified;
    if (r.gateway) {
      out.gateway_loadable = r.gateway->loadable;
      out.gateway_reasons = r.gateway->reasons;
      if (r.gateway->manifest) out.gateway_manifest = r.gateway->manifest->digest;
    } else {
      out.gateway_reasons.push_back("the gateway check could not run");
    }
    out.shape = std::string(plugin::LoadPathName(r.shape.path));
    {
      PLUGCTL_ASSIGN_OR_RETURN(auto writer, AtomicFileWriter::Create(temp / kInfoFile));
      PLUGCTL_RETURN_IF_ERROR(writer->Write(InfoJson(out).dump(2) + "\n"));
      PLUGCTL_RETURN_IF_ERROR(writer->Commit());
    }
    // Another process (or a crash before info.json) may have left a directory there.
    fs::remove_all(final_dir, ec);
    fs::rename(temp, final_dir, ec);
    if (ec) {
      return MakeError(ErrorCode::kInternal, "{}: {}", final_dir.string(), ec.message());
    }
    out.usable = true;
    out.dir = final_dir;
    return OkStatus();
  }

  std::shared_ptr<const CatalogSnapshot> Build(const server::TaggedEntries& tagged) {
    auto snapshot = std::make_shared<CatalogSnapshot>();
    struct Candidate {
      const server::TaggedEntry* entry;
      bool listed;
    };
    std::map<std::pair<std::string, std::string>, std::vector<Candidate>> by_key;
    for (const server::TaggedEntry& e : tagged.entries) {
      std::string names = e.listed_name;
      if (names.empty()) {
        if (auto it = options.names.find(e.repository); it != options.names.end()) {
          names = it->second;
        }
      }
      // An image mirrored under several keys is offered under each of them.
      for (const std::string& listed : oci::SplitPluginNames(names)) {
        bool is_listed = oci::IsPluginPathSegment(listed);
        std::string name = oci::PluginPathName(e.repository, listed);
        if (name.empty() || !oci::IsPluginPathSegment(e.tag)) {
          snapshot->warnings.push_back(
              fmt::format("{}:{} has no plugin-server name (names and versions are 1-128 of "
                          "A-Za-z0-9._+-); not offered for download",
                          e.repository, e.tag));
          continue;
        }
        by_key[{name, e.tag}].push_back({&e, is_listed});
      }
    }
    for (auto& [key, list] : by_key) {
      std::stable_sort(list.begin(), list.end(), [](const Candidate& a, const Candidate& b) {
        if (a.listed != b.listed) return a.listed;
        return a.entry->repository < b.entry->repository;
      });
      const Candidate& winner = list.front();
      for (size_t i = 1; i < list.size(); ++i) {
        snapshot->warnings.push_back(fmt::format(
            "{}/{}: {}:{} is served, {}:{} is not (a listed name beats a repository name, then "
            "the repository that sorts first)",
            key.first, key.second, winner.entry->repository, key.second, list[i].entry->repository,
            key.second));
      }
      auto v = std::make_shared<PluginVersion>();
      v->name = key.first;
      v->version = key.second;
      v->repository = winner.entry->repository;
      v->listed_name = winner.listed;
      v->root = winner.entry->desc;
      std::shared_ptr<const Extracted> x = Extract(winner.entry->desc);
      v->usable = x->usable;
      v->error = x->error;
      if (!x->usable) {
        snapshot->warnings.push_back(fmt::format("{}/{} ({}:{}): {}", v->name, v->version,
                                                 v->repository, v->version, x->error));
      }
      v->dir = x->dir;
      v->wasm_sha256 = x->wasm_sha256;
      v->wasm_etag = fmt::format("\"{}\"", x->wasm_sha256.hex());
      v->wasm_size = x->wasm_size;
      v->wasm_md5 = x->wasm_md5;
      v->created = x->created;
      v->modified = x->modified;
      v->gateway_loadable = x->gateway_loadable;
      v->gateway_reasons = x->gateway_reasons;
      v->gateway_manifest = x->gateway_manifest;
      v->shape = x->shape;
      v->spec = x->spec;
      v->readmes = x->readmes;
      v->has_icon = x->has_icon;
      v->has_spec = x->has_spec;
      snapshot->versions.push_back(std::move(v));
    }
    std::stable_sort(snapshot->versions.begin(), snapshot->versions.end(),
                     [](const auto& a, const auto& b) {
                       if (a->name != b->name) return a->name < b->name;
                       return VersionLess(a->version, b->version);
                     });
    // Forget failures so a later refresh retries them; keep what is still listed.
    for (auto it = extracted.begin(); it != extracted.end();) {
      it = it->second->usable ? std::next(it) : extracted.erase(it);
    }
    return snapshot;
  }
};

PluginCatalog::PluginCatalog(server::RegistryStore& store, CatalogOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}
PluginCatalog::~PluginCatalog() = default;

std::shared_ptr<const CatalogSnapshot> PluginCatalog::Snapshot() {
  uint64_t generation = impl_->store.Generation();
  {
    std::lock_guard lock(impl_->current_mu);
    if (impl_->generation == generation) return impl_->current;
  }
  std::lock_guard refresh(impl_->refresh_mu);
  server::TaggedEntries tagged = impl_->store.Tagged();
  {
    std::lock_guard lock(impl_->current_mu);
    if (impl_->generation == tagged.generation) return impl_->current;
  }
  std::shared_ptr<const CatalogSnapshot> fresh = impl_->Build(tagged);
  std::lock_guard lock(impl_->current_mu);
  impl_->current = fresh;
  impl_->generation = tagged.generation;
  return fresh;
}

bool PluginCatalog::NeedsRefresh() {
  uint64_t generation = impl_->store.Generation();
  std::lock_guard lock(impl_->current_mu);
  return impl_->generation != generation;
}

size_t PluginCatalog::PruneCache() {
  std::shared_ptr<const CatalogSnapshot> snapshot = Snapshot();
  std::lock_guard refresh(impl_->refresh_mu);
  std::set<std::string> used;
  for (const auto& v : snapshot->versions) used.insert(v->root.digest.hex());
  size_t removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(impl_->cache_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(kTempPrefix) || used.count(name) != 0) continue;
    std::error_code remove_error;
    if (fs::remove_all(entry.path(), remove_error) > 0 && !remove_error) ++removed;
  }
  for (auto it = impl_->extracted.begin(); it != impl_->extracted.end();) {
    it = used.count(it->first.hex()) != 0 ? std::next(it) : impl_->extracted.erase(it);
  }
  return removed;
}

Result<std::string> WasmPluginYaml(const PluginVersion& v, std::string_view base_url, bool http) {
  if (!v.usable) {
    return MakeError(ErrorCode::kFailedPrecondition, "{}/{} has no usable plugin.wasm: {}", v.name,
                     v.version, v.error);
  }
  wasmplugin::PinRequest request;
  request.root_digest = v.root.digest;
  request.gateway_manifest = v.gateway_manifest;
  request.wasm_sha256 = v.wasm_sha256;
  request.spec = v.spec ? &v.spec->spec : nullptr;
  request.plugin_name = v.listed_name ? v.name : std::string();
  std::string_view host = base_url.substr(
      base_url.find("://") == std::string_view::npos ? 0 : base_url.find("://") + 3);
  if (http) {
    // The http(s) URL names the directory; any registry reference with the right repository
    // gives it.
    request.url_prefix = std::string(base_url) + "/plugins";
  }
  PLUGCTL_ASSIGN_OR_RETURN(
      oci::Reference reference,
      oci::Reference::Parse(fmt::format("{}/{}:{}", host, v.repository, v.version)));
  request.source.registry = reference;
  PLUGCTL_ASSIGN_OR_RETURN(wasmplugin::PluginPin pin, wasmplugin::PinPlugin(request));
  std::string name = pin.name.empty() ? v.name : pin.name;
  if (!wasmplugin::IsDns1123Subdomain(name)) name = v.name;
  PLUGCTL_ASSIGN_OR_RETURN(
      wasmplugin::WasmPluginResult made,
      wasmplugin::MakeWasmPlugin({.name = name, .pin = pin, .spec = request.spec}));
  return wasmplugin::EmitYaml(made.resource);
}

}  // namespace plugctl::catalog
