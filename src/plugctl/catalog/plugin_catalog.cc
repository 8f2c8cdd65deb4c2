#include "plugctl/catalog/plugin_catalog.h"

namespace plugctl::catalog {

struct PluginCatalog::Impl {
  server::RegistryStore& store;
  CatalogOptions options;
};

PluginCatalog::PluginCatalog(server::RegistryStore& store, CatalogOptions options)
    : impl_(std::make_unique<Impl>(Impl{store, std::move(options)})) {}
PluginCatalog::~PluginCatalog() = default;

std::shared_ptr<const CatalogSnapshot> PluginCatalog::Snapshot() {
  return std::make_shared<CatalogSnapshot>();
}

size_t PluginCatalog::PruneCache() { return 0; }

std::string PluginVersion::MetadataTxt() const { return {}; }

const PluginVersion* CatalogSnapshot::Find(std::string_view, std::string_view) const {
  return nullptr;
}
std::vector<const PluginVersion*> CatalogSnapshot::VersionsOf(std::string_view) const { return {}; }
std::vector<std::string> CatalogSnapshot::Names() const { return {}; }

Result<std::string> WasmPluginYaml(const PluginVersion& v, std::string_view base_url, bool http) {
  (void)v;
  (void)base_url;
  (void)http;
  return MakeError(ErrorCode::kUnimplemented, "not yet");
}

}  // namespace plugctl::catalog
