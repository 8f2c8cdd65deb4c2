// Naming of images across mirror, pull, wasmplugin and serve against a real docker-registry
// (issue 13, naming items): two plugins.properties keys of one image each keep their place (a
// plugin-server directory, a bundle entry served under both, a WasmPlugin each); tag-regex
// expansion skips the referrers tag schema; plain-tag bundles (as copy/build/demo write them)
// are named from their spec.yaml by mirror as by wasmplugin, and --map applies to both alike;
// the http(s):// NAME of wasmplugin follows --map as plugin-server trees do; a bundle entry with
// a bad name fails alone.
#include <chrono>
#include <fstream>

#include "fixture.h"
#include "registry_fixture.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

class NamingTest : public DemoRegistryTest {
 protected:
  // `plugctl serve DIR` on a free port, for the test's lifetime; "" when it does not come up.
  std::string Serve(const std::string& dir, std::unique_ptr<Background>& process) {
    const int port = FreePort();
    const std::string host = "127.0.0.1:" + std::to_string(port);
    process = std::make_unique<Background>(
        std::vector<std::string>{PlugctlBinary(), "serve", dir, "--listen", host},
        Path("serve-" + std::to_string(port) + ".log"));
    if (!WaitForPort(port, seconds(20))) return "";
    return host;
  }
  // The HTTP status of GET url ("000" when nothing answered).
  std::string Status(const std::string& url) {
    RunResult r = RunProcess(
        {"curl", "-s", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", url});
    return r.out;
  }
};

TEST_F(NamingTest, TwoKeysOfOneImageEachKeepTheirPlace) {
  Seed("plugins/myp:1.2.3");
  WriteFile(dir_ / "dup.properties",
            "a=oci://" + Ref("plugins/myp:1.2.3") + "\nb=oci://" + Ref("plugins/myp:1.2.3") + "\n");
  const std::string list = Path("dup.properties");

  RunResult tree = Plugctl({"mirror", list, "--to", "plugin-server:" + Path("ps")});
  ASSERT_TRUE(tree.ok()) << tree.Summary();
  RunResult pulled = Plugctl({"pull", list, "-o", Path("pp")});
  ASSERT_TRUE(pulled.ok()) << pulled.Summary();
  for (const char* sub : {"ps/a/1.2.3", "ps/b/1.2.3", "pp/a/1.2.3", "pp/b/1.2.3"}) {
    EXPECT_TRUE(fs::exists(dir_ / sub / "plugin.wasm")) << sub;
  }

  RunResult resources = Plugctl({"wasmplugin", list, "--url-prefix", "http://h/plugins"});
  ASSERT_TRUE(resources.ok()) << resources.Summary();
  EXPECT_NE(resources.out.find("url: http://h/plugins/a/1.2.3/plugin.wasm"), std::string::npos)
      << resources.out;
  EXPECT_NE(resources.out.find("url: http://h/plugins/b/1.2.3/plugin.wasm"), std::string::npos)
      << resources.out;
  EXPECT_EQ(CountOf(resources.out, "kind: WasmPlugin"), 2u) << resources.out;

  // One bundle entry keeps both keys; serving the bundle offers the plugin under each.
  RunResult bundle = Plugctl({"mirror", list, "--to", "oci:" + Path("ob")});
  ASSERT_TRUE(bundle.ok()) << bundle.Summary();
  auto index = nlohmann::json::parse(ReadAll(dir_ / "ob/index.json"), nullptr, false);
  ASSERT_FALSE(index.is_discarded());
  ASSERT_EQ(index["manifests"].size(), 1u) << index.dump(2);
  EXPECT_EQ(index["manifests"][0]["annotations"]["dev.plugctl.plugin.name"], "a,b");
  std::unique_ptr<Background> serve;
  const std::string host = Serve(Path("ob"), serve);
  ASSERT_FALSE(host.empty());
  EXPECT_EQ(Status("http://" + host + "/plugins/a/1.2.3/plugin.wasm"), "200");
  EXPECT_EQ(Status("http://" + host + "/plugins/b/1.2.3/plugin.wasm"), "200");
  // wasmplugin of the bundle: a resource per key, each url what serve serves.
  RunResult from_bundle =
      Plugctl({"wasmplugin", "oci:" + Path("ob"), "--url-prefix", "http://" + host + "/plugins"});
  ASSERT_TRUE(from_bundle.ok()) << from_bundle.Summary();
  EXPECT_NE(from_bundle.out.find("url: http://" + host + "/plugins/a/1.2.3/plugin.wasm"),
            std::string::npos)
      << from_bundle.out;
  EXPECT_NE(from_bundle.out.find("url: http://" + host + "/plugins/b/1.2.3/plugin.wasm"),
            std::string::npos)
      << from_bundle.out;

  // And the bundle written out as a tree again gives both directories.
  RunResult again =
      Plugctl({"mirror", "oci:" + Path("ob"), "--to", "plugin-server:" + Path("ps2")});
  ASSERT_TRUE(again.ok()) << again.Summary();
  EXPECT_TRUE(fs::exists(dir_ / "ps2/a/1.2.3/plugin.wasm"));
  EXPECT_TRUE(fs::exists(dir_ / "ps2/b/1.2.3/plugin.wasm"));
}

TEST_F(NamingTest, TagRegexSkipsReferrerTags) {
  Seed("plugins/myp:1.2.3");
  WriteFile(dir_ / "sig.txt", "sig\n");
  RunResult attached =
      Plugctl({"attach", Ref("plugins/myp:1.2.3"), Path("sig.txt") + ":application/vnd.test.sig",
               "--artifact-type", "application/vnd.test.sig"});
  ASSERT_TRUE(attached.ok()) << attached.Summary();
  WriteFile(dir_ / "all.yaml",
            registry_->host() + ":\n  images-by-tag-regex:\n    plugins/myp: \".*\"\n");

  RunResult strict = Plugctl(
      {"mirror", Path("all.yaml"), "--to", Ref("rx"), "--require-loadable", "--with-referrers"});
  ASSERT_TRUE(strict.ok()) << strict.Summary();
  EXPECT_EQ(strict.out.find("sha256-"), std::string::npos) << strict.out;
  EXPECT_NE(strict.out.find("1 copied"), std::string::npos) << strict.out;
  // The signature travelled as what it is: a referrer of the image.
  EXPECT_NE(strict.out.find("1 referrer copied"), std::string::npos) << strict.out;

  RunResult tree = Plugctl({"mirror", Path("all.yaml"), "--to", "plugin-server:" + Path("ps")});
  ASSERT_TRUE(tree.ok()) << tree.Summary();
  EXPECT_TRUE(fs::exists(dir_ / "ps/myp/1.2.3/plugin.wasm"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "ps"), fs::directory_iterator()), 1);
}

TEST_F(NamingTest, PlainTagBundlesAreNamedAsWasmpluginNamesThem) {
  const std::string archive = "oci-archive:" + Path("demo/hello-world.oci.tar");
  RunResult mirrored = Plugctl({"mirror", archive, "--to", Ref("demo")});
  ASSERT_TRUE(mirrored.ok()) << mirrored.Summary();
  EXPECT_NE(mirrored.out.find(Ref("demo/hello-world:1.0.0")), std::string::npos) << mirrored.out;
  // wasmplugin pins the place mirror filled (its url check reads the registry).
  RunResult pinned = Plugctl({"wasmplugin", archive, "--url-prefix", "oci://" + Ref("demo")});
  ASSERT_TRUE(pinned.ok()) << pinned.Summary();
  EXPECT_NE(pinned.out.find("url: oci://" + Ref("demo/hello-world:1.0.0")), std::string::npos)
      << pinned.out;

  // --map TAG=NAME names the entry the same way for both.
  RunResult mapped = Plugctl({"mirror", archive, "--to", Ref("m3"), "--map", "1.0.0=foo"});
  ASSERT_TRUE(mapped.ok()) << mapped.Summary();
  EXPECT_NE(mapped.out.find(Ref("m3/foo:1.0.0")), std::string::npos) << mapped.out;
  RunResult pinned_mapped =
      Plugctl({"wasmplugin", archive, "--url-prefix", "oci://" + Ref("m3"), "--map", "1.0.0=foo"});
  ASSERT_TRUE(pinned_mapped.ok()) << pinned_mapped.Summary();
  EXPECT_NE(pinned_mapped.out.find("url: oci://" + Ref("m3/foo:1.0.0")), std::string::npos)
      << pinned_mapped.out;

  // pull of a bundle with several plain-tag entries names each as mirror does: by the plugin
  // name the image records (build writes it), else by its spec.yaml (the demo image).
  RunResult copied = Plugctl({"copy", compat_, "oci:" + Path("two") + ":1.0.0"});
  ASSERT_TRUE(copied.ok()) << copied.Summary();
  RunResult init = Plugctl({"init", Path("myp")});
  ASSERT_TRUE(init.ok()) << init.Summary();
  RunResult built = Plugctl({"build", Path("myp"), "-t", "oci:" + Path("two") + ":2.0.0"});
  ASSERT_TRUE(built.ok()) << built.Summary();
  RunResult pulled = Plugctl({"pull", "oci:" + Path("two"), "-o", Path("pp")});
  ASSERT_TRUE(pulled.ok()) << pulled.Summary();
  EXPECT_TRUE(fs::exists(dir_ / "pp/hello-world/1.0.0/plugin.wasm")) << pulled.out;
  EXPECT_TRUE(fs::exists(dir_ / "pp/myp/2.0.0/plugin.wasm")) << pulled.out;
}

TEST_F(NamingTest, HttpUrlNameFollowsMapToWhatServeServes) {
  Seed("plugins/jsonrpc-converter:1.0.0");
  WriteFile(dir_ / "p.properties",
            "json-converter=oci://" + Ref("plugins/jsonrpc-converter:1.0.0") + "\n");
  RunResult bundle = Plugctl({"mirror", Path("p.properties"), "--to", "oci:" + Path("sb")});
  ASSERT_TRUE(bundle.ok()) << bundle.Summary();
  std::unique_ptr<Background> serve;
  const std::string host = Serve(Path("sb"), serve);
  ASSERT_FALSE(host.empty());
  const std::string prefix = "http://" + host + "/plugins";
  RunResult plain =
      Plugctl({"wasmplugin", host + "/plugins/jsonrpc-converter:1.0.0", "--url-prefix", prefix});
  ASSERT_TRUE(plain.ok()) << plain.Summary();
  EXPECT_NE(plain.out.find(prefix + "/jsonrpc-converter/1.0.0/plugin.wasm"), std::string::npos)
      << plain.out;
  RunResult mapped = Plugctl({"wasmplugin", host + "/plugins/jsonrpc-converter:1.0.0",
                              "--url-prefix", prefix, "--map", "jsonrpc-converter=json-converter"});
  ASSERT_TRUE(mapped.ok()) << mapped.Summary();
  const std::string url = prefix + "/json-converter/1.0.0/plugin.wasm";
  EXPECT_NE(mapped.out.find("url: " + url), std::string::npos) << mapped.out;
  EXPECT_EQ(Status(url), "200");
  // The same rule as a plugin-server tree's.
  RunResult tree =
      Plugctl({"mirror", Ref("plugins/jsonrpc-converter:1.0.0"), "--to",
               "plugin-server:" + Path("ps"), "--map", "jsonrpc-converter=json-converter"});
  ASSERT_TRUE(tree.ok()) << tree.Summary();
  EXPECT_TRUE(fs::exists(dir_ / "ps/json-converter/1.0.0/plugin.wasm"));
}

TEST_F(NamingTest, BundleEntryWithABadNameFailsAlone) {
  Seed("plugins/myp:1.2.3");
  WriteFile(dir_ / "p.properties", "a=oci://" + Ref("plugins/myp:1.2.3") + "\n");
  RunResult bundle = Plugctl({"mirror", Path("p.properties"), "--to", "oci:" + Path("ev")});
  ASSERT_TRUE(bundle.ok()) << bundle.Summary();
  auto index = nlohmann::json::parse(ReadAll(dir_ / "ev/index.json"));
  nlohmann::json bad = index["manifests"][0];
  bad["annotations"] = {{"dev.plugctl.plugin.name", "myp"},
                        {"org.opencontainers.image.ref.name", "x/..:1"}};
  index["manifests"].push_back(bad);
  WriteFile(dir_ / "ev/index.json", index.dump());

  RunResult tree = Plugctl({"mirror", "oci:" + Path("ev"), "--to", "plugin-server:" + Path("ps")});
  EXPECT_EQ(tree.exit_code, 1) << tree.Summary();
  EXPECT_TRUE(fs::exists(dir_ / "ps/a/1.2.3/plugin.wasm")) << tree.out;
  EXPECT_NE(tree.err.find("entry \"x/..:1\" is not an image reference"), std::string::npos)
      << tree.err;
  EXPECT_EQ(tree.err.find("invalid port"), std::string::npos) << tree.err;
  EXPECT_NE(tree.err.find("1 of 2 images failed"), std::string::npos) << tree.err;

  RunResult pulled = Plugctl({"pull", "oci:" + Path("ev"), "-o", Path("pp")});
  EXPECT_EQ(pulled.exit_code, 1) << pulled.Summary();
  EXPECT_TRUE(fs::exists(dir_ / "pp/a/1.2.3/plugin.wasm"));
}

}  // namespace
}  // namespace plugctl::testing
