// The catalog page of `plugctl serve` in a real browser: Debian's headless chromium loads the
// pages of a plugin whose spec.yaml and README were written to attack it, and the test reads
// the DOM chromium built (after the page's own script ran) and keeps screenshots at phone and
// desktop widths. Also the JSON API and the Basic challenge over plain HTTP.
//
// Screenshots go to $PLUGCTL_TEST_ARTIFACTS/catalog_browser/, else
// <build dir>/test-artifacts/catalog_browser/.
#include <poll.h>
#include <unistd.h>

#include <cctype>
#include <fstream>

#include "fixture.h"
#include "registry_fixture.h"
#include "support/html_attributes.h"
#include "support/wasm_builder.h"
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kChromium = "/usr/bin/chromium";

// Markup in every text a publisher controls.
constexpr std::string_view kHostileSpec = R"yaml(apiVersion: 1.0.0
info:
  category: auth
  name: evil-plugin
  title: "Evil <script>window.pwned=1</script> Plugin"
  x-title-i18n:
    zh-CN: "邪恶插件 <img src=x onerror=alert(1)>"
  description: "Says \" onmouseover=\"alert(1) and <b>bold</b>"
  x-description-i18n:
    zh-CN: "中文说明 <script>alert(2)</script>"
  version: 1.0.0
spec:
  phase: AUTHN
  priority: 310
  configSchema:
    openAPIV3Schema:
      type: object
      required:
        - consumers
      properties:
        consumers:
          type: array
          x-scope: GLOBAL
          title: "<img src=x onerror=alert(3)>Consumers"
          description: "List of consumers <script>alert(4)</script>"
          x-description-i18n:
            zh-CN: 调用方列表
          items:
            type: object
            required:
              - credential
            properties:
              credential:
                type: string
                description: The credential
                example: "admin:<svg onload=alert(5)>"
              name:
                type: string
        mode:
          type: string
          enum: [allow, deny]
          default: allow
)yaml";

constexpr std::string_view kHostileReadme = R"md(# Evil plugin

<script>alert('readme')</script>

<img src=x onerror=alert('img')>

[click](javascript:alert('link')) [tab](java	script:alert(1)) [entity](&#106;avascript:alert(1))
[data](data:text/html,<script>alert(1)</script>)

![tracker](http://evil.example/pixel.png) ![js](javascript:alert('image'))

<a href="javascript:alert('raw')">raw link</a> <javascript:alert('auto')>

| field | meaning |
|-------|---------|
| consumers | who may call |

[home](https://higress.io)
)md";

size_t Count(const std::string& text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Nothing the plugin wrote became markup in the DOM chromium built.
void ExpectNothingInjected(const std::string& dom) {
  std::string lower = Lower(dom);
  ASSERT_NE(lower.find("</html>"), std::string::npos) << "no DOM: " << dom;
  // The only script element is the page's own asset.
  EXPECT_EQ(Count(lower, "<script"), 1u) << dom;
  EXPECT_EQ(Count(lower, "<script src=\"/assets/catalog.js\""), 1u) << dom;
  EXPECT_EQ(Count(lower, "<svg"), 0u);
  EXPECT_EQ(Count(lower, "<b>"), 0u);
  for (const auto& [name, value] : test_support::HtmlAttributes(dom)) {
    EXPECT_FALSE(name.starts_with("on")) << name << "=" << value;
    if (name != "href" && name != "src" && name != "action") continue;
    // Only this server's paths and http(s) links (the README's, as links).
    std::string url = Lower(value);
    EXPECT_TRUE(url.starts_with("/") || url.starts_with("http://") || url.starts_with("https://") ||
                url.starts_with("?") || url.starts_with("#"))
        << name << "=" << value;
  }
  // No image but the icon slot (this plugin has no icon, so none at all).
  EXPECT_EQ(Count(lower, "<img"), 0u) << dom;
}

// One request over a fresh connection; returns the raw response (head and body).
std::string HttpRequest(const std::string& method, const std::string& host, const std::string& path,
                        const std::string& extra_headers = "") {
  return RawExchange(
      host,
      fmt::format("{} {} HTTP/1.1\r\nHost: {}\r\n{}Content-Length: 0\r\nConnection: close\r\n\r\n",
                  method, path, host, extra_headers),
      seconds(20));
}

std::string HttpGet(const std::string& host, const std::string& path,
                    const std::string& extra_headers = "") {
  return HttpRequest("GET", host, path, extra_headers);
}

std::string Body(const std::string& response) {
  size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

fs::path ArtifactDir() {
  const char* env = std::getenv("PLUGCTL_TEST_ARTIFACTS");
  fs::path base = env != nullptr && *env != '\0' ? fs::path(env)
                                                 : fs::path(PLUGCTL_BINARY_DIR) / "test-artifacts";
  fs::path dir = base / "catalog_browser";
  fs::create_directories(dir);
  return dir;
}

// A PNG's width from its IHDR chunk; 0 when it is not one.
uint32_t PngWidth(const std::string& png) {
  if (png.size() < 24 || png.compare(1, 3, "PNG") != 0) return 0;
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(png[i])); };
  return b(16) << 24 | b(17) << 16 | b(18) << 8 | b(19);
}

class CatalogBrowserTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    if (access(kChromium, X_OK) != 0) GTEST_SKIP() << kChromium << " not installed";
  }

  // Builds the hostile plugin and pushes it to `host` as <repository>:<version>.
  void PushHostilePlugin(const std::string& host, const std::string& version,
                         const std::string& repository = "plugins/evil-plugin") {
    fs::path src = dir_ / ("plugin-" + version);
    fs::create_directories(src);
    std::ofstream(src / "plugin.wasm", std::ios::binary) << test_support::ProxyWasmModule();
    std::ofstream(src / "spec.yaml") << kHostileSpec;
    std::ofstream(src / "README.md") << kHostileReadme;
    std::ofstream(src / "README_EN.md") << kHostileReadme;
    RunResult built =
        Plugctl({"build", src.string(), "-t", host + "/" + repository + ":" + version});
    ASSERT_TRUE(built.ok()) << built.Summary();
  }

  // chromium's DOM of `url` after load (scripts ran).
  std::string Dom(const std::string& url) {
    RunResult r = RunProcess(
        {kChromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--user-data-dir=" + Path("chromium"), "--virtual-time-budget=3000", "--dump-dom", url},
        {.timeout = seconds(90), .env = {{"HOME", dir_.string()}}});
    EXPECT_TRUE(r.ok()) << r.Summary();
    return r.out;
  }

  // Layout facts of `url` at width x height (test/integration/browser_layout.py): the page's
  // scroll width against the window's, and the copy buttons the page's script added.
  nlohmann::json Layout(const std::string& url, int width, int height) {
    RunResult r = RunProcess(
        {"python3", std::string(PLUGCTL_SOURCE_DIR) + "/test/integration/browser_layout.py", url,
         std::to_string(width), std::to_string(height), Path("chromium-cdp")},
        {.timeout = seconds(90), .env = {{"HOME", dir_.string()}}});
    EXPECT_TRUE(r.ok()) << r.Summary();
    nlohmann::json facts = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(facts.is_object()) << r.out;
    return facts.is_object() ? facts : nlohmann::json::object();
  }

  // Saves a screenshot of `url` at width x height; returns its bytes.
  std::string Screenshot(const std::string& url, int width, int height, const std::string& name) {
    fs::path file = ArtifactDir() / name;
    fs::remove(file);
    RunResult r = RunProcess(
        {kChromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--hide-scrollbars", "--user-data-dir=" + Path("chromium"), "--virtual-time-budget=3000",
         fmt::format("--window-size={},{}", width, height), "--screenshot=" + file.string(), url},
        {.timeout = seconds(90), .env = {{"HOME", dir_.string()}}});
    EXPECT_TRUE(r.ok()) << r.Summary();
    return ReadAll(file);
  }
};

TEST_F(CatalogBrowserTest, HostilePluginRendersInertInChromium) {
  auto server = StartRegistryOrSkip(dir_ / "serve", {.kind = RegistryKind::kPlugctlServe});
  if (!server) return;
  const std::string host = server->host();
  PushHostilePlugin(host, "1.0.0");
  PushHostilePlugin(host, "1.1.0");
  if (HasFatalFailure()) return;
  const std::string base = "http://" + host;

  std::string index = Dom(base + "/");
  ExpectNothingInjected(index);
  EXPECT_NE(index.find("data-name=\"evil-plugin\""), std::string::npos) << index;
  EXPECT_NE(index.find("Evil &lt;script&gt;window.pwned=1&lt;/script&gt; Plugin"),
            std::string::npos)
      << index;
  EXPECT_NE(index.find("/plugin/evil-plugin/1.1.0"), std::string::npos);
  EXPECT_NE(index.find("AUTHN"), std::string::npos);

  std::string page = Dom(base + "/plugin/evil-plugin/1.0.0");
  ExpectNothingInjected(page);
  EXPECT_NE(page.find("<code>consumers[].credential</code>"), std::string::npos) << page;
  EXPECT_NE(page.find("<code>mode</code>"), std::string::npos);
  EXPECT_NE(page.find("GLOBAL"), std::string::npos);
  EXPECT_NE(page.find("admin:&lt;svg onload=alert(5)&gt;"), std::string::npos);
  // The WasmPlugin texts for both URL kinds, and the script's copy buttons next to them.
  EXPECT_NE(page.find("kind: WasmPlugin"), std::string::npos) << page;
  EXPECT_NE(page.find("oci://" + host + "/plugins/evil-plugin"), std::string::npos) << page;
  EXPECT_NE(page.find(base + "/plugins/evil-plugin/1.0.0/plugin.wasm"), std::string::npos);
  EXPECT_GE(Count(page, "class=\"copy-button\""), 1u) << "catalog.js did not run";
  // The README: raw HTML as text, the image as a link, the bad links as plain text.
  EXPECT_NE(page.find("&lt;script&gt;alert('readme')&lt;/script&gt;"), std::string::npos) << page;
  EXPECT_NE(page.find("<a href=\"http://evil.example/pixel.png\">tracker</a>"), std::string::npos);
  EXPECT_NE(page.find("<a href=\"https://higress.io\">home</a>"), std::string::npos);
  EXPECT_NE(page.find("<td>who may call</td>"), std::string::npos);
  EXPECT_NE(page.find("href=\"/plugins/evil-plugin/1.0.0/plugin.wasm\""), std::string::npos);

  std::string zh = Dom(base + "/plugin/evil-plugin?lang=zh");
  ExpectNothingInjected(zh);
  EXPECT_NE(zh.find("邪恶插件 &lt;img src=x onerror=alert(1)&gt;"), std::string::npos) << zh;
  EXPECT_NE(zh.find("调用方列表"), std::string::npos);
  EXPECT_NE(zh.find("aria-current=\"page\">1.1.0<"), std::string::npos);

  std::string searched = Dom(base + "/?q=nothing-like-this");
  EXPECT_EQ(searched.find("data-name=\"evil-plugin\""), std::string::npos);

  // At phone width nothing makes the page scroll sideways (long digests wrap, the YAML and the
  // schema scroll or stack inside their boxes), and the script ran: two copy buttons.
  for (std::string path : {"/", "/plugin/evil-plugin/1.0.0", "/?lang=zh"}) {
    nlohmann::json facts = Layout(base + path, 390, 844);
    EXPECT_EQ(facts.value("scrollWidth", -1), facts.value("clientWidth", -2)) << path << facts;
    if (path.starts_with("/plugin/")) {
      EXPECT_EQ(facts.value("copyButtons", 0), 2) << facts;
    }
  }
  // Screenshots at phone and desktop widths, kept for people to look at.
  std::string phone = Screenshot(base + "/plugin/evil-plugin/1.0.0", 390, 844, "plugin-390.png");
  EXPECT_EQ(PngWidth(phone), 390u);
  std::string desk = Screenshot(base + "/plugin/evil-plugin/1.0.0", 1280, 900, "plugin-1280.png");
  EXPECT_EQ(PngWidth(desk), 1280u);
  EXPECT_EQ(PngWidth(Screenshot(base + "/", 390, 844, "index-390.png")), 390u);
  EXPECT_EQ(PngWidth(Screenshot(base + "/?lang=zh", 1280, 900, "index-zh-1280.png")), 1280u);

  // The JSON API and the headers.
  std::string api = HttpGet(host, "/api/plugins");
  EXPECT_NE(api.find("HTTP/1.1 200"), std::string::npos) << api;
  EXPECT_NE(api.find("Content-Security-Policy: default-src 'none'"), std::string::npos) << api;
  nlohmann::json plugins = nlohmann::json::parse(Body(api), nullptr, false);
  ASSERT_TRUE(plugins.is_object()) << api;
  ASSERT_EQ(plugins["plugins"].size(), 1u) << plugins.dump();
  EXPECT_EQ(plugins["plugins"][0]["latest"], "1.1.0");
  EXPECT_EQ(plugins["plugins"][0]["versions"].size(), 2u);
  nlohmann::json detail =
      nlohmann::json::parse(Body(HttpGet(host, "/api/plugins/evil-plugin/1.0.0")), nullptr, false);
  ASSERT_TRUE(detail.is_object());
  EXPECT_TRUE(detail["wasmplugin"]["oci"].contains("yaml")) << detail["wasmplugin"].dump();
  EXPECT_TRUE(detail["wasmplugin"]["http"].contains("yaml")) << detail["wasmplugin"].dump();
  EXPECT_NE(HttpGet(host, "/api/plugins/evil-plugin/9.9.9").find("HTTP/1.1 404"),
            std::string::npos);
  EXPECT_NE(HttpGet(host, "/plugin/evil%2Dplugin").find("HTTP/1.1 404"), std::string::npos);
  std::string css = HttpGet(host, "/assets/catalog.css");
  size_t etag_at = css.find("ETag: \"");
  ASSERT_NE(etag_at, std::string::npos) << css;
  std::string etag = css.substr(etag_at + 6, css.find("\r\n", etag_at) - etag_at - 6);
  EXPECT_NE(
      HttpGet(host, "/assets/catalog.css", "If-None-Match: " + etag + "\r\n").find("HTTP/1.1 304"),
      std::string::npos);
  EXPECT_NE(HttpGet(host, "/assets/nope.js").find("HTTP/1.1 404"), std::string::npos);
  EXPECT_NE(HttpRequest("POST", host, "/").find("HTTP/1.1 405"), std::string::npos);
  std::string head = HttpRequest("HEAD", host, "/plugin/evil-plugin");
  EXPECT_NE(head.find("HTTP/1.1 200"), std::string::npos) << head;
  EXPECT_EQ(Body(head), "");
}

TEST_F(CatalogBrowserTest, AnonymousClientsAreChallengedWhenAuthIsOn) {
  auto server =
      StartRegistryOrSkip(dir_ / "serve", {.kind = RegistryKind::kPlugctlServe,
                                           .htpasswd = true,
                                           .extra_args = {"--allow-plain-http-credentials"}});
  if (!server) return;
  for (const char* path : {"/", "/api/plugins", "/plugin/evil-plugin"}) {
    std::string r = HttpGet(server->host(), path);
    EXPECT_NE(r.find("HTTP/1.1 401"), std::string::npos) << path << r;
    EXPECT_NE(r.find("WWW-Authenticate: Basic"), std::string::npos) << path << r;
  }
  std::string basic = "Authorization: Basic " +
                      RunProcess({"sh", "-c", "printf %s \"$0\" | base64 -w0",
                                  server->config().user + ":" + server->config().password})
                          .out +
                      "\r\n";
  std::string r = HttpGet(server->host(), "/", basic);
  EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
  r = HttpGet(server->host(), "/plugin/evil-plugin", basic);
  EXPECT_NE(r.find("HTTP/1.1 404"), std::string::npos) << r;
  r = HttpGet(server->host(), "/", "Authorization: Basic Ym9ndXM6Ym9ndXM=\r\n");
  EXPECT_NE(r.find("HTTP/1.1 401"), std::string::npos) << r;
}

TEST_F(CatalogBrowserTest, UsersSeeOnlyRepositoriesTheyMayPull) {
  // Two plugins pushed while the server is open, then the same storage served with an access
  // file that lets the user pull plugins/* only.
  fs::path dir = dir_ / "serve";
  {
    auto open = StartRegistryOrSkip(dir, {.kind = RegistryKind::kPlugctlServe});
    if (!open) return;
    PushHostilePlugin(open->host(), "1.0.0", "plugins/visible");
    PushHostilePlugin(open->host(), "2.0.0", "team/hidden");
    if (HasFatalFailure()) return;
    open->Kill();
  }
  auto server = StartRegistryOrSkip(dir, {.kind = RegistryKind::kPlugctlServe,
                                          .htpasswd = true,
                                          .access_yaml = "- user: plugctl\n"
                                                         "  repositories: [\"plugins/*\"]\n"
                                                         "  actions: [pull]\n",
                                          .extra_args = {"--allow-plain-http-credentials"}});
  if (!server) return;
  std::string basic = "Authorization: Basic " +
                      RunProcess({"sh", "-c", "printf %s \"$0\" | base64 -w0",
                                  server->config().user + ":" + server->config().password})
                          .out +
                      "\r\n";
  std::string index = HttpGet(server->host(), "/", basic);
  EXPECT_NE(index.find("HTTP/1.1 200"), std::string::npos) << index;
  EXPECT_NE(index.find("data-name=\"visible\""), std::string::npos) << index;
  EXPECT_EQ(index.find("hidden"), std::string::npos) << index;
  nlohmann::json api =
      nlohmann::json::parse(Body(HttpGet(server->host(), "/api/plugins", basic)), nullptr, false);
  ASSERT_TRUE(api.is_object());
  ASSERT_EQ(api["plugins"].size(), 1u) << api.dump();
  EXPECT_EQ(api["plugins"][0]["name"], "visible");
  EXPECT_NE(HttpGet(server->host(), "/plugin/visible", basic).find("HTTP/1.1 200"),
            std::string::npos);
  for (const char* path : {"/plugin/hidden", "/plugin/hidden/2.0.0", "/api/plugins/hidden"}) {
    EXPECT_NE(HttpGet(server->host(), path, basic).find("HTTP/1.1 404"), std::string::npos) << path;
    EXPECT_NE(HttpGet(server->host(), path).find("HTTP/1.1 401"), std::string::npos) << path;
  }
}

}  // namespace
}  // namespace plugctl::testing
