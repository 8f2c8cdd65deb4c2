#include "plugctl/catalog/catalog_web.h"

#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "support/memory_images.h"
#include "support/wasm_builder.h"
#include <gtest/gtest.h>

#include "plugctl/base/clock.h"
#include "plugctl/base/io.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/server/auth.h"
#include "plugctl/store/oci_layout.h"
#include "plugctl/transfer/copy.h"

namespace plugctl::catalog {
namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;

// A request without a connection: what CatalogWeb reads of one.
class FakeExchange : public server::Exchange {
 public:
  FakeExchange(http::verb method, std::string target,
               std::map<http::field, std::string> fields = {}) {
    head_.method(method);
    head_.target(target);
    head_.version(11);
    head_.set(http::field::host, "catalog.test:5000");
    for (const auto& [field, value] : fields) head_.set(field, value);
  }
  const server::RequestHead& head() const override { return head_; }
  const std::string& peer() const override { return peer_; }
  Reader& Body(uint64_t) override { return body_; }
  std::optional<uint64_t> content_length() const override { return std::nullopt; }
  const std::string& client_subject() const override { return subject_; }
  bool secure() const override { return false; }

 private:
  server::RequestHead head_;
  std::string peer_ = "127.0.0.1:40000";
  std::string subject_;
  StringReader body_{""};
};

std::string Header(const server::Response& r, std::string_view name) {
  for (const auto& [key, value] : r.headers) {
    if (key == name) return value;
  }
  return "";
}

constexpr std::string_view kSpec = R"(apiVersion: 1.0.0
info:
  category: auth
  name: key-auth
  title: Key Auth
  x-title-i18n:
    zh-CN: "Key 认证"
  description: "keys <b>"
  version: 1.0.0
spec:
  phase: AUTHN
  priority: 321
  configSchema:
    openAPIV3Schema:
      type: object
      properties:
        keys:
          type: array
          items:
            type: string
)";

class CatalogWebTest : public ::testing::Test, protected test_support::MemoryImages {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/plugctl-catalog-web-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
    auto layout = store::OciLayoutTarget::Open(dir_, {.create = true});
    ASSERT_TRUE(layout) << layout.error().message();
    std::string wasm = test_support::ProxyWasmModule();
    oci::Descriptor root = OciImage({
        Put(oci::kWasmContentLayer, wasm, "plugin.wasm"),
        Put(oci::kWasmSpec, std::string(kSpec), "spec.yaml"),
        Put(oci::kWasmDoc, "# 中文说明\n\n<script>x</script>\n", "README.md"),
        Put(std::string(oci::kWasmDocLangPrefix) + "en" + std::string(oci::kWasmDocLangSuffix),
            "# English readme\n", "README_EN.md"),
    });
    auto copied = transfer::CopyGraph(target_, root, **layout, {});
    ASSERT_TRUE(copied) << copied.error().message();
    ASSERT_TRUE((*layout)->TagWithAnnotations(root, "plugins/key-auth:1.0.0", {}));
    ASSERT_TRUE((*layout)->Commit());
    auto store = server::RegistryStore::Open(dir_, {.clock = &clock_});
    ASSERT_TRUE(store) << store.error().message();
    store_ = std::move(*store);
    catalog_ = std::make_unique<PluginCatalog>(*store_, CatalogOptions{.dir = dir_});
  }
  void TearDown() override {
    web_.reset();
    access_.reset();
    auth_.reset();
    catalog_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // The handler with `auth_options` (default: no credentials, everyone reads).
  CatalogWeb& Web(server::AuthOptions auth_options = {}) {
    auto auth = server::Authorizer::Create(auth_options);
    EXPECT_TRUE(auth) << auth.error().message();
    auth_ = std::move(*auth);
    access_ = std::make_unique<CatalogAccess>(*auth_);
    web_ = std::make_unique<CatalogWeb>(*catalog_, *access_, CatalogWebOptions{});
    return *web_;
  }

  server::Response Get(std::string target, std::map<http::field, std::string> fields = {}) {
    FakeExchange exchange(http::verb::get, std::move(target), std::move(fields));
    return web_->Handle(exchange);
  }

  fs::path dir_;
  FakeClock clock_;
  std::unique_ptr<server::RegistryStore> store_;
  std::unique_ptr<PluginCatalog> catalog_;
  std::unique_ptr<server::Authorizer> auth_;
  std::unique_ptr<CatalogAccess> access_;
  std::unique_ptr<CatalogWeb> web_;
};

TEST_F(CatalogWebTest, IndexAndVersionPages) {
  Web();
  server::Response index = Get("/");
  EXPECT_EQ(index.status, 200u);
  EXPECT_EQ(Header(index, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(Header(index, "Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(Header(index, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Header(index, "Content-Language"), "en");
  EXPECT_NE(index.body.find("data-name=\"key-auth\""), std::string::npos) << index.body;
  EXPECT_NE(index.body.find("keys &lt;b&gt;"), std::string::npos);

  server::Response page = Get("/plugin/key-auth");
  ASSERT_EQ(page.status, 200u) << page.body;
  EXPECT_NE(page.body.find("<h1>English readme</h1>"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("<code>keys</code>"), std::string::npos);
  EXPECT_NE(page.body.find("url: oci://catalog.test:5000/plugins/key-auth:1.0.0"),
            std::string::npos)
      << page.body;
  EXPECT_NE(page.body.find("http://catalog.test:5000/plugins/key-auth/1.0.0/plugin.wasm"),
            std::string::npos);
  server::Response exact = Get("/plugin/key-auth/1.0.0");
  EXPECT_EQ(exact.status, 200u);
  EXPECT_NE(exact.body.find("aria-current=\"page\">1.0.0<"), std::string::npos);

  // Chinese by the query or by Accept-Language: README.md, the zh-CN title.
  server::Response zh = Get("/plugin/key-auth?lang=zh");
  EXPECT_EQ(Header(zh, "Content-Language"), "zh-CN");
  EXPECT_NE(zh.body.find("<h1>中文说明</h1>"), std::string::npos) << zh.body;
  EXPECT_NE(zh.body.find("&lt;script&gt;x&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(zh.body.find("Key 认证"), std::string::npos);
  server::Response accept =
      Get("/plugin/key-auth", {{http::field::accept_language, "zh-CN,zh;q=0.9,en;q=0.5"}});
  EXPECT_NE(accept.body.find("<h1>中文说明</h1>"), std::string::npos);

  // Server-side search.
  EXPECT_NE(Get("/?q=KEY").body.find("data-name=\"key-auth\""), std::string::npos);
  EXPECT_EQ(Get("/?q=nothing").body.find("data-name=\"key-auth\""), std::string::npos);
}

TEST_F(CatalogWebTest, UnknownPathsMethodsAndExactNames) {
  Web();
  for (const char* target : {"/plugin/", "/plugin/key-auth/", "/plugin/key-auth/9.9.9",
                             "/plugin/key-auth/1.0.0/x", "/plugin/key%2Dauth", "/plugin/KEY-AUTH",
                             "/plugin/../plugin/key-auth", "/plugin/key-auth//1.0.0"}) {
    EXPECT_EQ(Get(target).status, 404u) << target;
  }
  server::Response api404 = Get("/api/plugins/nope");
  EXPECT_EQ(api404.status, 404u);
  EXPECT_EQ(Header(api404, "Content-Type"), "application/json");
  EXPECT_EQ(Get("/elsewhere").status, 404u);
  FakeExchange post(http::verb::post, "/");
  server::Response r = web_->Handle(post);
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(Header(r, "Allow"), "GET, HEAD");
}

TEST_F(CatalogWebTest, JsonApi) {
  Web();
  server::Response all = Get("/api/plugins");
  ASSERT_EQ(all.status, 200u);
  nlohmann::json plugins = nlohmann::json::parse(all.body);
  ASSERT_EQ(plugins["plugins"].size(), 1u);
  EXPECT_EQ(plugins["plugins"][0]["name"], "key-auth");
  EXPECT_EQ(plugins["plugins"][0]["title_i18n"]["zh-CN"], "Key 认证");
  nlohmann::json one = nlohmann::json::parse(Get("/api/plugins/key-auth").body);
  EXPECT_EQ(one["versions"][0]["readmes"], nlohmann::json({"README.md", "README_EN.md"}));
  nlohmann::json detail = nlohmann::json::parse(Get("/api/plugins/key-auth/1.0.0").body);
  EXPECT_TRUE(detail["wasmplugin"]["http"].contains("yaml")) << detail["wasmplugin"].dump();
  EXPECT_EQ(detail["schema"]["configSchema"][0]["type"], "array of string");
}

TEST_F(CatalogWebTest, AssetsAreCachedByETag) {
  Web();
  server::Response css = Get("/assets/catalog.css");
  ASSERT_EQ(css.status, 200u);
  EXPECT_EQ(Header(css, "Content-Type"), "text/css; charset=utf-8");
  std::string etag = Header(css, "ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(Get("/assets/catalog.css", {{http::field::if_none_match, "W/" + etag}}).status, 304u);
  EXPECT_EQ(Get("/assets/catalog.css", {{http::field::if_none_match, "\"other\", " + etag}}).status,
            304u);
  EXPECT_EQ(Get("/assets/catalog.css", {{http::field::if_none_match, "\"other\""}}).status, 200u);
  server::Response js = Get("/assets/catalog.js");
  EXPECT_EQ(js.status, 200u);
  EXPECT_NE(js.body.find("copy-button"), std::string::npos);
  EXPECT_EQ(Get("/assets/../catalog.css").status, 404u);
}

TEST_F(CatalogWebTest, AccessFollowsTheRegistryRules) {
  std::string htpasswd = (dir_ / "htpasswd").string();
  // "user:secret" (htpasswd -Bbn -C 4 user secret).
  std::ofstream(htpasswd) << "user:$2y$04$Aat0odnq/bMAdunLk8gn6.JgPsOVozXY4.KVhyhoaZXzu4HpqqZti\n";
  Web({.htpasswd_file = fs::path(htpasswd)});
  for (const char* target : {"/", "/api/plugins", "/plugin/key-auth", "/plugin/nope"}) {
    server::Response r = Get(target);
    EXPECT_EQ(r.status, 401u) << target;
    EXPECT_NE(Header(r, "WWW-Authenticate").find("Basic"), std::string::npos);
  }
  // Bad credentials: 401 too. Assets need none.
  EXPECT_EQ(Get("/", {{http::field::authorization, "Basic dXNlcjp3cm9uZw=="}}).status, 401u);
  EXPECT_EQ(Get("/assets/catalog.css").status, 200u);
  // The user may pull everything (no access file): sees the plugin; an unknown one is 404.
  std::map<http::field, std::string> basic = {
      {http::field::authorization, "Basic dXNlcjpzZWNyZXQ="}};
  server::Response index = Get("/", basic);
  EXPECT_EQ(index.status, 200u);
  EXPECT_EQ(index.user, "user");
  EXPECT_NE(index.body.find("data-name=\"key-auth\""), std::string::npos);
  EXPECT_EQ(Get("/plugin/nope", basic).status, 404u);
}

}  // namespace
}  // namespace plugctl::catalog
