#include "plugctl/catalog/plugin_catalog.h"

#include <unistd.h>

#include <cstdlib>

#include "support/memory_images.h"
#include "support/wasm_builder.h"
#include <gtest/gtest.h>

#include "plugctl/base/clock.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/oci/plugin_name.h"
#include "plugctl/store/oci_layout.h"
#include "plugctl/transfer/copy.h"

namespace plugctl::catalog {
namespace {

namespace fs = std::filesystem;

class PluginCatalogTest : public ::testing::Test, protected test_support::MemoryImages {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/plugctl-catalog-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
    auto layout = store::OciLayoutTarget::Open(dir_, {.create = true});
    ASSERT_TRUE(layout) << layout.error().message();
    layout_ = std::move(*layout);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A plugin image (one raw wasm layer, ORAS style) whose module carries `marker`.
  oci::Descriptor Plugin(const std::string& marker) {
    // The marker in a custom section: a valid module with a digest of its own.
    std::string wasm = test_support::ProxyWasmModule(test_support::kProxyWasmExports,
                                                     test_support::CustomSection("m", marker));
    return OciImage({Put(oci::kWasmContentLayer, wasm, "plugin.wasm")});
  }
  oci::Descriptor NotAPlugin() {
    return OciImage({Put(oci::kOciLayerTarGzip, "not a tar", "data.tar.gz")});
  }
  // plugin.wasm that starts like a module and is not one: no gateway instantiates it.
  oci::Descriptor BrokenPlugin() {
    return OciImage(
        {Put(oci::kWasmContentLayer, std::string("\0asm\x01\0\0\0garbage", 15), "plugin.wasm")});
  }

  // Copies `root` into the layout under `ref_name`, with extra entry annotations.
  void Store(const oci::Descriptor& root, const std::string& ref_name,
             const oci::Annotations& extra = {}) {
    auto copied = transfer::CopyGraph(target_, root, *layout_, {});
    ASSERT_TRUE(copied) << copied.error().message();
    ASSERT_TRUE(layout_->TagWithAnnotations(root, ref_name, extra));
    ASSERT_TRUE(layout_->Commit());
    clock_.Advance(std::chrono::seconds(2));  // past the store's index.json check interval
  }

  void OpenStore() {
    auto store = server::RegistryStore::Open(dir_, {.clock = &clock_});
    ASSERT_TRUE(store) << store.error().message();
    store_ = std::move(*store);
  }

  std::unique_ptr<PluginCatalog> Catalog(std::map<std::string, std::string> names = {}) {
    return std::make_unique<PluginCatalog>(*store_,
                                           CatalogOptions{.dir = dir_, .names = std::move(names)});
  }

  fs::path dir_;
  FakeClock clock_;
  std::unique_ptr<store::OciLayoutTarget> layout_;
  std::unique_ptr<server::RegistryStore> store_;
};

TEST_F(PluginCatalogTest, NamesComeFromTheListedKeyElseTheRepository) {
  Store(Plugin("a"), "reg.io/plugins/jsonrpc-converter:1.0.0",
        {{std::string(oci::kAnnotationPluginName), "json-converter"}});
  Store(Plugin("b"), "plugins/basic-auth:1.0.0");
  OpenStore();
  auto snapshot = Catalog()->Snapshot();
  EXPECT_EQ(snapshot->Names(), (std::vector<std::string>{"basic-auth", "json-converter"}));
  const PluginVersion* json = snapshot->Find("json-converter", "1.0.0");
  ASSERT_NE(json, nullptr);
  EXPECT_TRUE(json->listed_name);
  EXPECT_EQ(json->repository, "plugins/jsonrpc-converter");
  EXPECT_TRUE(json->usable) << json->error;
  EXPECT_TRUE(fs::exists(json->dir / "plugin.wasm"));
  EXPECT_EQ(snapshot->Find("jsonrpc-converter", "1.0.0"), nullptr);
  const PluginVersion* basic = snapshot->Find("basic-auth", "1.0.0");
  ASSERT_NE(basic, nullptr);
  EXPECT_FALSE(basic->listed_name);
}

TEST_F(PluginCatalogTest, ClashesPreferAListedNameThenTheFirstRepository) {
  Store(Plugin("a"), "b/x:1.0.0");
  Store(Plugin("b"), "a/x:1.0.0");
  OpenStore();
  auto snapshot = Catalog()->Snapshot();
  ASSERT_NE(snapshot->Find("x", "1.0.0"), nullptr);
  EXPECT_EQ(snapshot->Find("x", "1.0.0")->repository, "a/x");
  ASSERT_EQ(snapshot->warnings.size(), 1u);
  EXPECT_NE(snapshot->warnings[0].find("b/x:1.0.0 is not"), std::string::npos)
      << snapshot->warnings[0];

  // --names gives c/other the name x: a listed name beats repository names.
  auto named = Catalog({{"c/other", "x"}});
  Store(Plugin("c"), "c/other:1.0.0");
  EXPECT_EQ(named->Snapshot()->Find("x", "1.0.0")->repository, "c/other");
  // An entry's own annotation beats --names.
  Store(Plugin("d"), "d/y:1.0.0", {{std::string(oci::kAnnotationPluginName), "z"}});
  auto both = Catalog({{"d/y", "w"}})->Snapshot();
  EXPECT_NE(both->Find("z", "1.0.0"), nullptr);
  EXPECT_EQ(both->Find("w", "1.0.0"), nullptr);
}

TEST_F(PluginCatalogTest, ImagesWithoutAPluginAreListedWithTheReason) {
  Store(NotAPlugin(), "data/blob:1");
  OpenStore();
  auto snapshot = Catalog()->Snapshot();
  const PluginVersion* v = snapshot->Find("blob", "1");
  ASSERT_NE(v, nullptr);
  EXPECT_FALSE(v->usable);
  EXPECT_FALSE(v->error.empty());
  ASSERT_FALSE(snapshot->warnings.empty());
  EXPECT_NE(snapshot->warnings[0].find("blob/1"), std::string::npos) << snapshot->warnings[0];
  EXPECT_FALSE(WasmPluginYaml(*v, "http://h", true).has_value());
}

TEST_F(PluginCatalogTest, ModulesTheGatewayCannotInstantiateGetNoDownload) {
  Store(BrokenPlugin(), "plugins/broken:1.0.0");
  OpenStore();
  auto snapshot = Catalog()->Snapshot();
  const PluginVersion* v = snapshot->Find("broken", "1.0.0");
  ASSERT_NE(v, nullptr);
  EXPECT_FALSE(v->usable);
  EXPECT_NE(v->error.find("not a valid wasm module"), std::string::npos) << v->error;
}

TEST_F(PluginCatalogTest, VersionsAreInSemverOrderAndSnapshotsFollowTheStore) {
  Store(Plugin("1"), "p/x:1.10.0");
  Store(Plugin("2"), "p/x:1.2.0");
  Store(Plugin("3"), "p/x:latest");
  OpenStore();
  auto catalog = Catalog();
  auto before = catalog->Snapshot();
  std::vector<std::string> versions;
  for (const PluginVersion* v : before->VersionsOf("x")) versions.push_back(v->version);
  EXPECT_EQ(versions, (std::vector<std::string>{"latest", "1.2.0", "1.10.0"}));
  EXPECT_EQ(catalog->Snapshot(), before);  // nothing changed: the same view

  Store(Plugin("4"), "p/x:2.0.0");  // an external writer (plugctl mirror)
  auto after = catalog->Snapshot();
  EXPECT_NE(after, before);
  EXPECT_NE(after->Find("x", "2.0.0"), nullptr);
}

TEST_F(PluginCatalogTest, ExtractionIsCachedOnDiskAndPruned) {
  oci::Descriptor a = Plugin("a");
  Store(a, "p/a:1");
  Store(Plugin("b"), "p/b:1");
  OpenStore();
  int64_t modified = 0;
  {
    auto snapshot = Catalog()->Snapshot();
    modified = snapshot->Find("a", "1")->modified;
  }
  // A crash in the middle of an extraction leaves a temporary directory; the next start
  // removes it.
  fs::create_directories(dir_ / ".plugctl/catalog/.tmp-crashed/x");
  auto catalog = Catalog();
  EXPECT_FALSE(fs::exists(dir_ / ".plugctl/catalog/.tmp-crashed"));
  auto snapshot = catalog->Snapshot();
  const PluginVersion* v = snapshot->Find("a", "1");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->modified, modified);  // read back, not extracted again
  EXPECT_EQ(v->dir, dir_ / ".plugctl/catalog" / a.digest.hex());

  // Untag b: its cache directory goes.
  auto layout = store::OciLayoutTarget::Open(dir_);
  ASSERT_TRUE(layout);
  ASSERT_TRUE((*layout)->EditEntries(
      [](const std::vector<oci::Descriptor>& entries) -> Result<store::OciLayoutTarget::EntryEdit> {
        store::OciLayoutTarget::EntryEdit edit;
        for (size_t i = 0; i < entries.size(); ++i) {
          auto ref = entries[i].annotations.find(std::string(oci::kAnnotationRefName));
          if (ref != entries[i].annotations.end() && ref->second == "p/b:1") {
            edit.remove.push_back(i);
          }
        }
        return edit;
      }));
  clock_.Advance(std::chrono::seconds(2));
  EXPECT_EQ(catalog->PruneCache(), 1u);
  EXPECT_TRUE(fs::exists(v->dir));
}

TEST_F(PluginCatalogTest, MetadataAndWasmPluginTexts) {
  Store(Plugin("a"), "plugins/jsonrpc-converter:1.0.0",
        {{std::string(oci::kAnnotationPluginName), "json-converter"}});
  OpenStore();
  auto snapshot = Catalog()->Snapshot();
  const PluginVersion* v = snapshot->Find("json-converter", "1.0.0");
  ASSERT_NE(v, nullptr);
  std::string metadata = v->MetadataTxt();
  EXPECT_EQ(metadata.rfind("Plugin Name: json-converter\nSize: ", 0), 0u) << metadata;
  EXPECT_NE(metadata.find("\nSHA256: " + v->wasm_sha256.hex() + "\n"), std::string::npos);
  EXPECT_NE(metadata.find("\nMD5: " + v->wasm_md5 + "\n"), std::string::npos);

  auto http = WasmPluginYaml(*v, "http://files.local:8080", true);
  ASSERT_TRUE(http) << http.error().message();
  EXPECT_NE(http->find("url: http://files.local:8080/plugins/json-converter/1.0.0/plugin.wasm"),
            std::string::npos)
      << *http;
  EXPECT_NE(http->find("sha256: " + v->wasm_sha256.hex()), std::string::npos) << *http;
  auto oci = WasmPluginYaml(*v, "http://files.local:8080", false);
  ASSERT_TRUE(oci) << oci.error().message();
  EXPECT_NE(oci->find("url: oci://files.local:8080/plugins/jsonrpc-converter:1.0.0"),
            std::string::npos)
      << *oci;
}

}  // namespace
}  // namespace plugctl::catalog
