// `plugctl mirror … --to plugin-server:DIR` end to end: a plugins.properties list mirrored from a
// docker-registry into a bundle, the bundle written out as a Higress plugin-server tree, the
// files checked against md5sum/sha256sum and `plugctl pull`, a rerun that touches nothing, and
// the tree served by a real nginx as the plugin-server image does.
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include "fixture.h"
#include "image_factory.h"
#include "registry_fixture.h"

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

// The first field of `md5sum FILE` / `sha256sum FILE`.
std::string HashTool(const std::string& tool, const fs::path& file) {
  RunResult r = RunProcess({tool, file.string()});
  EXPECT_TRUE(r.ok()) << tool << ": " << r.Summary();
  return r.out.substr(0, r.out.find(' '));
}

// Every regular file below `dir`, relative to it.
std::set<std::string> FilesBelow(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::end(it); it.increment(ec)) {
    if (it->is_regular_file()) out.insert(fs::relative(it->path(), dir).string());
  }
  return out;
}

class PluginServerTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    internet_ = StartRegistryOrSkip(dir_ / "internet");
    if (!internet_) return;
    nlohmann::json demo = PlugctlJson({"demo", "--dir", Path("demo")});
    nlohmann::json pulled =
        PlugctlJson({"pull", DemoLayout() + ":hello-world:1.0.0", "-o", Path("demo/plugin")});
    wasm_ = ReadAll(dir_ / "demo/plugin/plugin.wasm");
    pulled_sha256_ = pulled.value("wasmSha256", "");
    ASSERT_EQ(oci::Digest::Of(wasm_).ToString(), pulled_sha256_);
    tree_ = dir_ / "www" / "plugins";
  }

  std::string Internet(const std::string& repo_tag) const { return internet_->Ref(repo_tag); }

  // Higress-shaped plugins, one single-raw-layer image the gateway would not pull (plain HTTP
  // serves it fine), and the list naming them as the console does.
  void PopulateInternet() {
    const std::string compat = DemoLayout() + ":hello-world:1.0.0";
    PlugctlJson({"copy", compat, Internet("plugins/jsonrpc-converter:1.0.0")});
    PlugctlJson({"copy", compat, Internet("plugins/basic-auth:1.0.0")});
    PlugctlJson({"copy", compat, Internet("plugins/basic-auth:2.0.0")});
    WriteLayoutImage(dir_ / "raw", "1.0.0",
                     {{.media_type = "application/vnd.module.wasm.content.layer.v1+wasm",
                       .bytes = wasm_,
                       .title = "plugin.wasm"}});
    PlugctlJson({"copy", "oci:" + Path("raw") + ":1.0.0", Internet("plugins/raw-wasm:1.0.0")});
    WriteFile(dir_ / "plugins.properties",
              "# Higress plugins\n"
              "json-converter=oci://" +
                  Internet("plugins/jsonrpc-converter:1.0.0") + "\nbasic-auth = oci://" +
                  Internet("plugins/basic-auth:1.0.0") + "\nbasic-auth-2=oci://" +
                  Internet("plugins/basic-auth:2.0.0") + "\nraw=oci://" +
                  Internet("plugins/raw-wasm:1.0.0") + "\n");
  }

  std::unique_ptr<RegistryServer> internet_;
  std::string wasm_;
  std::string pulled_sha256_;
  fs::path tree_;
};

TEST_F(PluginServerTest, BundleBecomesAPluginServerTreeThatNginxServes) {
  PopulateInternet();
  if (HasFatalFailure()) return;
  const std::string bundle = "oci-archive:" + Path("bundle.tar");
  nlohmann::json mirrored = PlugctlJson({"mirror", Path("plugins.properties"), "--to", bundle});
  ASSERT_EQ(mirrored["copied"], 4) << mirrored.dump(2);
  const std::string to = "plugin-server:" + tree_.string();

  // Dry run: decides, writes nothing.
  nlohmann::json dry = PlugctlJson({"mirror", bundle, "--to", to, "--dry-run"});
  ASSERT_EQ(dry["images"].size(), 4) << dry.dump(2);
  for (const auto& item : dry["images"]) EXPECT_EQ(item["state"], "would-copy") << item.dump(2);
  EXPECT_FALSE(fs::exists(tree_));

  nlohmann::json out = PlugctlJson({"mirror", bundle, "--to", to});
  EXPECT_EQ(out["copied"], 4) << out.dump(2);
  EXPECT_EQ(out["failed"], 0);
  // The bundle carried the keys: json-converter (not jsonrpc-converter) and basic-auth-2,
  // whose version is still the tag.
  EXPECT_EQ(FilesBelow(tree_),
            (std::set<std::string>{
                "basic-auth/1.0.0/metadata.txt", "basic-auth/1.0.0/plugin.wasm",
                "basic-auth-2/2.0.0/metadata.txt", "basic-auth-2/2.0.0/plugin.wasm",
                "json-converter/1.0.0/metadata.txt", "json-converter/1.0.0/plugin.wasm",
                "raw/1.0.0/metadata.txt", "raw/1.0.0/plugin.wasm"}));
  for (const auto& item : out["images"]) {
    EXPECT_EQ(item["pluginWasm"]["sha256"], pulled_sha256_) << item.dump(2);
  }

  const fs::path version = tree_ / "json-converter" / "1.0.0";
  const fs::path wasm = version / "plugin.wasm";
  EXPECT_EQ(ReadAll(wasm), wasm_);
  const std::string metadata = ReadAll(version / "metadata.txt");
  EXPECT_NE(metadata.find("Plugin Name: json-converter\n"), std::string::npos) << metadata;
  EXPECT_NE(metadata.find("Size: " + std::to_string(wasm_.size()) + " bytes\n"), std::string::npos)
      << metadata;
  EXPECT_NE(metadata.find("MD5: " + HashTool("md5sum", wasm) + "\n"), std::string::npos)
      << metadata;
  const std::string sha256 = HashTool("sha256sum", wasm);
  EXPECT_EQ("sha256:" + sha256, pulled_sha256_);
  EXPECT_NE(metadata.find("SHA256: " + sha256 + "\n"), std::string::npos) << metadata;
  EXPECT_NE(metadata.find("Last Modified: "), std::string::npos) << metadata;
  EXPECT_NE(metadata.find("Created: "), std::string::npos) << metadata;

  // A rerun finds everything in place and touches nothing.
  const auto wasm_time = fs::last_write_time(wasm);
  const auto metadata_time = fs::last_write_time(version / "metadata.txt");
  nlohmann::json again = PlugctlJson({"mirror", bundle, "--to", to});
  EXPECT_EQ(again["upToDate"], 4) << again.dump(2);
  EXPECT_EQ(again["copied"], 0);
  EXPECT_EQ(fs::last_write_time(wasm), wasm_time);
  EXPECT_EQ(fs::last_write_time(version / "metadata.txt"), metadata_time);
  EXPECT_EQ(ReadAll(version / "metadata.txt"), metadata);

  // nginx, configured as the plugin-server image configures it: files under /plugins/.
  if (!fs::exists("/usr/sbin/nginx")) GTEST_SKIP() << "nginx not installed";
  const int port = FreePort();
  const fs::path prefix = dir_ / "nginx";
  fs::create_directories(prefix / "tmp");
  WriteFile(prefix / "nginx.conf",
            std::string(geteuid() == 0 ? "user root;\n" : "") +
                "daemon off;\nworker_processes 1;\npid " + (prefix / "nginx.pid").string() +
                ";\nerror_log " + (prefix / "error.log").string() +
                ";\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n"
                "  client_body_temp_path " +
                (prefix / "tmp").string() + ";\n  proxy_temp_path " + (prefix / "tmp").string() +
                ";\n  fastcgi_temp_path " + (prefix / "tmp").string() + ";\n  uwsgi_temp_path " +
                (prefix / "tmp").string() + ";\n  scgi_temp_path " + (prefix / "tmp").string() +
                ";\n  server {\n    listen 127.0.0.1:" + std::to_string(port) + ";\n    root " +
                (dir_ / "www").string() + ";\n  }\n}\n");
  Background nginx(
      {"/usr/sbin/nginx", "-c", (prefix / "nginx.conf").string(), "-p", prefix.string() + "/"},
      (prefix / "stderr.log").string());
  ASSERT_TRUE(WaitForPort(port, std::chrono::seconds(10)))
      << ReadAll(prefix / "stderr.log") << ReadAll(prefix / "error.log");
  const std::string url =
      "http://127.0.0.1:" + std::to_string(port) + "/plugins/json-converter/1.0.0/";
  RunResult fetched = RunProcess(
      {"curl", "-sSf", "--max-time", "10", "-o", Path("fetched.wasm"), url + "plugin.wasm"});
  ASSERT_TRUE(fetched.ok()) << fetched.Summary() << ReadAll(prefix / "error.log");
  EXPECT_EQ("sha256:" + HashTool("sha256sum", dir_ / "fetched.wasm"), pulled_sha256_);
  RunResult meta = RunProcess({"curl", "-sSf", "--max-time", "10", url + "metadata.txt"});
  ASSERT_TRUE(meta.ok()) << meta.Summary();
  EXPECT_EQ(meta.out, metadata);
}

TEST_F(PluginServerTest, ServeFindsTheKeyABundleCarried) {
  PopulateInternet();
  if (HasFatalFailure()) return;
  const std::string bundle = "oci-archive:" + Path("bundle.tar");
  PlugctlJson({"mirror", Path("plugins.properties"), "--to", bundle});
  // Across the air gap: the bundle into the directory `plugctl serve` serves.
  auto served = StartRegistryOrSkip(dir_ / "served",
                                    {.kind = RegistryKind::kPlugctlServe, .anonymous_read = true});
  if (!served) return;
  nlohmann::json loaded =
      PlugctlJson({"mirror", bundle, "--to", "oci:" + served->storage().string()});
  EXPECT_EQ(loaded["copied"], 4) << loaded.dump(2);
  // serve notices the new index.json on its own, within a moment.
  RunResult fetched;
  for (int i = 0; i < 50 && !fetched.ok(); ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    fetched =
        RunProcess({"curl", "-sSf", "--max-time", "10", "-o", Path("served.wasm"),
                    "http://" + served->host() + "/plugins/json-converter/1.0.0/plugin.wasm"});
  }
  ASSERT_TRUE(fetched.ok()) << fetched.Summary();
  EXPECT_EQ("sha256:" + HashTool("sha256sum", dir_ / "served.wasm"), pulled_sha256_);

  // `serve --import` of the same bundle keeps the keys too.
  auto imported = StartRegistryOrSkip(
      dir_ / "imported",
      {.kind = RegistryKind::kPlugctlServe, .extra_args = {"--import", Path("bundle.tar")}});
  if (!imported) return;
  RunResult via_import =
      RunProcess({"curl", "-sSf", "--max-time", "10", "-o", Path("imported.wasm"),
                  "http://" + imported->host() + "/plugins/json-converter/1.0.0/plugin.wasm"});
  ASSERT_TRUE(via_import.ok()) << via_import.Summary();
  EXPECT_EQ("sha256:" + HashTool("sha256sum", dir_ / "imported.wasm"), pulled_sha256_);
}

TEST_F(PluginServerTest, StraightFromTheRegistryWithMapsClashesAndRefusals) {
  PopulateInternet();
  if (HasFatalFailure()) return;
  const std::string to = "plugin-server:" + tree_.string();

  // Two images onto one name and version: refused before anything is written, naming both.
  RunResult clash = Plugctl(
      {"mirror", Path("plugins.properties"), "--to", to, "--map", "json-converter=basic-auth"});
  EXPECT_EQ(clash.exit_code, 1) << clash.Summary();
  EXPECT_NE(clash.err.find("plugins/jsonrpc-converter:1.0.0"), std::string::npos) << clash.err;
  EXPECT_NE(clash.err.find("plugins/basic-auth:1.0.0"), std::string::npos) << clash.err;
  EXPECT_FALSE(fs::exists(tree_));

  // A name that would leave the tree is refused; so is an unsafe key (it falls back to the
  // repository's name, which is safe).
  RunResult escape =
      Plugctl({"mirror", Path("plugins.properties"), "--to", to, "--map", "raw=../../etc"});
  EXPECT_EQ(escape.exit_code, 1) << escape.Summary();
  EXPECT_NE(escape.err.find("../../etc"), std::string::npos) << escape.err;
  EXPECT_FALSE(fs::exists(tree_));
  WriteFile(dir_ / "hostile.properties",
            "../../escape=oci://" + Internet("plugins/basic-auth:1.0.0") + "\n");

  // An empty module (valid wasm, no proxy-wasm ABI): refused; --keep-going writes the rest.
  WriteLayoutImage(dir_ / "bad", "1.0.0",
                   {{.media_type = "application/vnd.module.wasm.content.layer.v1+wasm",
                     .bytes = std::string("\0asm\1\0\0\0", 8),
                     .title = "plugin.wasm"}});
  PlugctlJson({"copy", "oci:" + Path("bad") + ":1.0.0", Internet("plugins/empty:1.0.0")});

  RunResult r = Plugctl({"--format", "json", "mirror", Path("plugins.properties"),
                         Path("hostile.properties"), Internet("plugins/empty:1.0.0"), "--to", to,
                         "--map", Internet("plugins/basic-auth") + "=auth", "--keep-going"});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  nlohmann::json out = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << r.out;
  EXPECT_EQ(out["failed"], 1) << out.dump(2);
  EXPECT_EQ(out["copied"], 4) << out.dump(2);
  for (const auto& item : out["images"]) {
    if (item["state"] == "failed") {
      EXPECT_NE(item["source"].get<std::string>().find("plugins/empty"), std::string::npos);
      EXPECT_NE(item["error"].get<std::string>().find("plugin.wasm"), std::string::npos)
          << item.dump(2);
    }
  }
  // The repository rule names both basic-auth versions whatever their keys; the hostile key
  // falls back to the repository's name, so its image (the same one) is written once.
  EXPECT_EQ(
      FilesBelow(tree_),
      (std::set<std::string>{
          "auth/1.0.0/metadata.txt", "auth/1.0.0/plugin.wasm", "auth/2.0.0/metadata.txt",
          "auth/2.0.0/plugin.wasm", "json-converter/1.0.0/metadata.txt",
          "json-converter/1.0.0/plugin.wasm", "raw/1.0.0/metadata.txt", "raw/1.0.0/plugin.wasm"}));
  // Nothing outside the tree, and the refused image left no directory (nor staging) behind.
  EXPECT_EQ(FilesBelow(dir_ / "www").size(), FilesBelow(tree_).size());
  EXPECT_FALSE(fs::exists(dir_ / "escape"));
  std::set<std::string> entries;
  for (const auto& e : fs::directory_iterator(tree_)) entries.insert(e.path().filename().string());
  EXPECT_EQ(entries, (std::set<std::string>{"auth", "json-converter", "raw"}));
}

}  // namespace
}  // namespace plugctl::testing
