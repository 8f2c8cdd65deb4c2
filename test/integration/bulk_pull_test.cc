// Bulk work over lists and bundles against real docker-registry peers (issue 13, items 6-8, 16):
// `pull LIST|BUNDLE -o DIR` tries every image and reports each (one failing image neither stops
// the others nor leaves anything behind), `pull --map` keeps two images of one name apart, a
// `mirror --variant` rerun is up to date, a bundle whose index.json names a deleted manifest
// fails that image alone (mirror and pull), referrers that cannot travel (docker archives,
// rebuilt images) get one note per run, and `--src-creds USER` / `--dest-creds USER` take the
// password from standard input (--*-password-stdin) or a terminal prompt against an htpasswd
// registry.
#include <fstream>
#include <set>

#include "fixture.h"
#include "registry_fixture.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

class BulkPullTest : public DemoRegistryTest {
 protected:
  std::string WasmSha256(const fs::path& file) { return oci::Digest::Of(ReadAll(file)).ToString(); }
};

// One image of three is missing: the other two are pulled, each gets a line, nothing of the
// missing one is written, and the exit is 1. JSON lists all three, the failure with its error.
TEST_F(BulkPullTest, EveryImageIsTriedAndEachGetsALine) {
  Seed("plugins/basic-auth:1.0.0");
  Seed("plugins/key-auth:2.0.0");
  WriteFile(dir_ / "plugins.properties",
            "basic-auth=oci://" + Ref("plugins/basic-auth:1.0.0") + "\n" + "missing=oci://" +
                Ref("plugins/missing:1.0.0") + "\n" + "key-auth=oci://" +
                Ref("plugins/key-auth:2.0.0") + "\n");
  RunResult text = Plugctl({"pull", Path("plugins.properties"), "-o", Path("out")});
  EXPECT_EQ(text.exit_code, 1) << text.Summary();
  const size_t basic = text.out.find("pulled  " + Ref("plugins/basic-auth:1.0.0"));
  const size_t missing = text.out.find("failed  " + Ref("plugins/missing:1.0.0"));
  const size_t key = text.out.find("pulled  " + Ref("plugins/key-auth:2.0.0"));
  ASSERT_NE(basic, std::string::npos) << text.out;
  ASSERT_NE(missing, std::string::npos) << text.out;
  ASSERT_NE(key, std::string::npos) << text.out;
  EXPECT_LT(basic, missing);
  EXPECT_LT(missing, key);
  EXPECT_NE(text.out.find("2 images pulled into " + Path("out") + ", 1 failed"), std::string::npos)
      << text.out;
  EXPECT_NE(text.err.find("1 of 3 images failed"), std::string::npos) << text.err;
  EXPECT_NE(text.err.find("missing"), std::string::npos) << text.err;
  for (const char* sub : {"out/basic-auth/1.0.0", "out/key-auth/2.0.0"}) {
    EXPECT_EQ(WasmSha256(dir_ / sub / "plugin.wasm"), demo_["wasmSha256"]) << sub;
  }
  EXPECT_FALSE(fs::exists(dir_ / "out/missing")) << "a failed image left a directory";

  // JSON: one document (no error object appended), every image with its state.
  RunResult json =
      Plugctl({"--format", "json", "pull", Path("plugins.properties"), "-o", Path("json")});
  EXPECT_EQ(json.exit_code, 1) << json.Summary();
  auto doc = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << json.out;
  ASSERT_EQ(doc["images"].size(), 3u) << doc.dump(2);
  EXPECT_EQ(doc["pulled"], 2);
  EXPECT_EQ(doc["failed"], 1);
  EXPECT_EQ(doc["images"][0]["state"], "pulled");
  EXPECT_EQ(doc["images"][0]["directory"], Path("json/basic-auth/1.0.0"));
  EXPECT_EQ(doc["images"][1]["state"], "failed");
  EXPECT_EQ(doc["images"][1]["image"], Ref("plugins/missing:1.0.0"));
  EXPECT_EQ(doc["images"][1]["error"]["code"], "NOT_FOUND") << doc.dump(2);
  EXPECT_FALSE(doc["images"][1]["error"]["message"].get<std::string>().empty());
  EXPECT_FALSE(doc["images"][1].contains("wasmSha256"));
  EXPECT_EQ(doc["images"][2]["state"], "pulled");
  EXPECT_FALSE(fs::exists(dir_ / "json/missing"));

  // A rerun without --force: files in the way fail those images (nothing is replaced); with
  // --force the two that exist are pulled again and the missing one still fails.
  RunResult again = Plugctl({"pull", Path("plugins.properties"), "-o", Path("out")});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(CountOf(again.out, "failed  "), 3u) << again.out;
  RunResult forced = Plugctl({"pull", "--force", Path("plugins.properties"), "-o", Path("out")});
  EXPECT_EQ(CountOf(forced.out, "pulled  "), 2u) << forced.out;
  EXPECT_EQ(forced.exit_code, 1);
}

// Two repositories ending in one name clash; the message says --map, and --map (mirror's
// FROM=TO syntax: a whole repository, its path, or a plugin name) keeps them apart.
TEST_F(BulkPullTest, MapKeepsClashingImagesApart) {
  Seed("plugins/basic-auth:1.0.0");
  Seed("other/basic-auth:1.0.0");
  WriteFile(dir_ / "clash.txt",
            Ref("plugins/basic-auth:1.0.0") + "\n" + Ref("other/basic-auth:1.0.0") + "\n");
  RunResult clash = Plugctl({"pull", Path("clash.txt"), "-o", Path("clash")});
  EXPECT_EQ(clash.exit_code, 1);
  EXPECT_NE(clash.err.find("use --map"), std::string::npos) << clash.err;
  EXPECT_FALSE(fs::exists(dir_ / "clash"));

  nlohmann::json mapped = PlugctlJson({"pull", Path("clash.txt"), "-o", Path("mapped"), "--map",
                                       registry_->host() + "/other/basic-auth=basic-auth-other"});
  ASSERT_EQ(mapped["images"].size(), 2u) << mapped.dump(2);
  EXPECT_EQ(WasmSha256(dir_ / "mapped/basic-auth/1.0.0/plugin.wasm"), demo_["wasmSha256"]);
  EXPECT_EQ(WasmSha256(dir_ / "mapped/basic-auth-other/1.0.0/plugin.wasm"), demo_["wasmSha256"]);

  // The repository path alone, and a plugin name, name it too.
  nlohmann::json by_path = PlugctlJson(
      {"pull", Path("clash.txt"), "-o", Path("by-path"), "--map", "plugins/basic-auth=auth"});
  EXPECT_TRUE(fs::exists(dir_ / "by-path/auth/1.0.0/plugin.wasm"));
  EXPECT_TRUE(fs::exists(dir_ / "by-path/basic-auth/1.0.0/plugin.wasm"));

  RunResult bad = Plugctl({"pull", Path("clash.txt"), "-o", Path("bad"), "--map", "no-equals"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_FALSE(fs::exists(dir_ / "bad"));
  RunResult single =
      Plugctl({"pull", Ref("plugins/basic-auth:1.0.0"), "-o", Path("single"), "--map", "a=b"});
  EXPECT_EQ(single.exit_code, 1);
  EXPECT_NE(single.err.find("--map"), std::string::npos) << single.err;
}

// A layout bundle whose index.json names a manifest that was deleted: mirror and pull report
// that image as failed (a line naming it), the others go (the referrer scan of the bundle skips
// the broken entry, so the signature still travels), exit 1.
TEST_F(BulkPullTest, BrokenBundleEntryFailsAlone) {
  Seed("plugins/basic-auth:1.0.0");
  Seed("plugins/key-auth:1.0.0");
  WriteFile(dir_ / "work/sig.txt", "signature");
  nlohmann::json sig = PlugctlJson({"attach", Ref("plugins/basic-auth:1.0.0"), Path("work/sig.txt"),
                                    "--artifact-type", "application/vnd.example.signature"});
  const std::string bundle = "oci:" + Path("bundle");
  PlugctlJson(
      {"mirror", Ref("plugins/basic-auth:1.0.0"), Ref("plugins/key-auth:1.0.0"), "--to", bundle});
  // A third image of its own digest, then its manifest blob deleted.
  const std::string broken_name = Ref("plugins/broken:1.0.0");
  nlohmann::json broken =
      PlugctlJson({"copy", "--variant", "oci", compat_, bundle + ":" + broken_name});
  const std::string hex = broken["digest"].get<std::string>().substr(7);
  ASSERT_TRUE(fs::remove(dir_ / "bundle/blobs/sha256" / hex));

  auto dest = StartRegistryOrSkip(dir_ / "dest", {.kind = RegistryKind::kDockerRegistry});
  if (!dest) return;
  RunResult mirrored = Plugctl({"mirror", bundle, "--to", dest->Ref("plugins")});
  EXPECT_EQ(mirrored.exit_code, 1) << mirrored.Summary();
  EXPECT_NE(mirrored.out.find("failed     " + bundle + ": " + broken_name), std::string::npos)
      << mirrored.out;
  EXPECT_NE(mirrored.err.find("missing"), std::string::npos) << mirrored.err;
  EXPECT_EQ(CountOf(mirrored.out, "copied     "), 2u) << mirrored.out;
  EXPECT_NE(mirrored.out.find("1 referrer copied"), std::string::npos) << mirrored.out;
  for (const char* repo : {"plugins/basic-auth:1.0.0", "plugins/key-auth:1.0.0"}) {
    EXPECT_TRUE(Plugctl({"resolve", dest->Ref(repo)}).ok()) << repo;
  }
  nlohmann::json referrers = PlugctlJson({"referrers", dest->Ref("plugins/basic-auth:1.0.0")});
  ASSERT_EQ(referrers["referrers"].size(), 1u) << referrers.dump(2);
  EXPECT_EQ(referrers["referrers"][0]["digest"], sig["digest"]);

  // JSON: the entry among the source failures, with the reason.
  RunResult json = Plugctl({"--format", "json", "mirror", bundle, "--to", dest->Ref("plugins")});
  EXPECT_EQ(json.exit_code, 1);
  auto doc = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << json.out;
  ASSERT_EQ(doc["sourceFailures"].size(), 1u) << doc.dump(2);
  EXPECT_EQ(doc["sourceFailures"][0]["origin"], bundle + ": " + broken_name);
  EXPECT_EQ(doc["upToDate"], 2);

  // The same bundle tarred as an oci-archive.
  RunResult tar = RunProcess({"tar", "-C", Path("bundle"), "-cf", Path("bundle.tar"), "."});
  ASSERT_TRUE(tar.ok()) << tar.Summary();
  RunResult archived =
      Plugctl({"mirror", "oci-archive:" + Path("bundle.tar"), "--to", "oci:" + Path("copy")});
  EXPECT_EQ(archived.exit_code, 1) << archived.Summary();
  EXPECT_EQ(CountOf(archived.out, "copied     "), 2u) << archived.out;
  EXPECT_NE(archived.out.find("failed     oci-archive:"), std::string::npos) << archived.out;

  // pull: the two good images land, the broken one gets its line.
  RunResult pulled = Plugctl({"pull", bundle, "-o", Path("out")});
  EXPECT_EQ(pulled.exit_code, 1) << pulled.Summary();
  EXPECT_EQ(CountOf(pulled.out, "pulled  "), 2u) << pulled.out;
  EXPECT_NE(pulled.out.find("failed  " + broken_name), std::string::npos) << pulled.out;
  EXPECT_TRUE(fs::exists(dir_ / "out/basic-auth/1.0.0/plugin.wasm"));
  EXPECT_TRUE(fs::exists(dir_ / "out/key-auth/1.0.0/plugin.wasm"));
  EXPECT_FALSE(fs::exists(dir_ / "out/broken"));
}

// A `mirror --variant` rerun finds the rebuilt images in place: "up-to-date", as without a
// variant, into a registry, a layout and a docker archive.
TEST_F(BulkPullTest, VariantRerunIsUpToDate) {
  Seed("plugins/basic-auth:1.0.0");
  const std::string image = Ref("plugins/basic-auth:1.0.0");
  auto dest = StartRegistryOrSkip(dir_ / "dest", {.kind = RegistryKind::kDockerRegistry});
  if (!dest) return;
  for (const std::string& to :
       {dest->Ref("mirrored"), "oci:" + Path("layout"), "docker-archive:" + Path("d.tar")}) {
    nlohmann::json first = PlugctlJson({"mirror", "--variant", "docker", image, "--to", to});
    ASSERT_EQ(first["images"].size(), 1u) << first.dump(2);
    EXPECT_EQ(first["images"][0]["state"], "copied") << to;
    RunResult second = Plugctl({"mirror", "--variant", "docker", image, "--to", to});
    ASSERT_TRUE(second.ok()) << second.Summary();
    EXPECT_TRUE(second.out.starts_with("up-to-date ")) << to << ": " << second.out;
    EXPECT_EQ(second.out.find("copied     "), std::string::npos) << second.out;
    nlohmann::json third = PlugctlJson({"mirror", "--variant", "docker", image, "--to", to});
    EXPECT_EQ(third["images"][0]["state"], "up-to-date") << to;
    EXPECT_EQ(third["images"][0]["convertedDigest"], first["images"][0]["convertedDigest"]);
    EXPECT_EQ(third["bytesCopied"], 0);
  }
}

// Referrers that cannot travel get one note per run: into a docker archive, and for images a
// variant rebuilt. An image already in the requested shape keeps its digest and its referrers.
TEST_F(BulkPullTest, ReferrersThatCannotTravelGetOneNote) {
  Seed("plugins/basic-auth:1.0.0");
  Seed("plugins/key-auth:1.0.0");
  WriteFile(dir_ / "work/sig.txt", "signature");
  for (const char* repo : {"plugins/basic-auth:1.0.0", "plugins/key-auth:1.0.0"}) {
    PlugctlJson({"attach", Ref(repo), Path("work/sig.txt"), "--artifact-type",
                 "application/vnd.example.signature"});
  }
  const std::vector<std::string> images = {Ref("plugins/basic-auth:1.0.0"),
                                           Ref("plugins/key-auth:1.0.0")};
  auto mirror = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"mirror", "--with-referrers"});
    args.insert(args.end(), images.begin(), images.end());
    return args;
  };

  RunResult docker =
      Plugctl(mirror({"--variant", "docker", "--to", "docker-archive:" + Path("d.tar")}));
  ASSERT_TRUE(docker.ok()) << docker.Summary();
  EXPECT_EQ(CountOf(docker.out, "note: referrers"), 1u) << docker.out;
  EXPECT_NE(docker.out.find("cannot hold them"), std::string::npos) << docker.out;
  std::vector<std::string> json_args =
      mirror({"--variant", "docker", "--to", "docker-archive:" + Path("d2.tar")});
  nlohmann::json docker_json = PlugctlJson(json_args);
  EXPECT_NE(docker_json.value("referrersNote", "").find("docker-archive:"), std::string::npos)
      << docker_json.dump(2);
  EXPECT_EQ(docker_json["referrersCopied"], 0);

  // Rebuilt into a layout (which could hold referrers): the note names the rebuild.
  RunResult rebuilt = Plugctl(mirror({"--variant", "oci", "--to", "oci:" + Path("layout")}));
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.Summary();
  EXPECT_EQ(CountOf(rebuilt.out, "note: referrers"), 1u) << rebuilt.out;
  EXPECT_NE(rebuilt.out.find("rebuilt"), std::string::npos) << rebuilt.out;
  nlohmann::json rebuilt_json =
      PlugctlJson(mirror({"--variant", "oci", "--to", "oci:" + Path("layout2")}));
  EXPECT_NE(rebuilt_json.value("referrersNote", "").find("rebuilt"), std::string::npos);

  // Already compat: unchanged, so the signatures still apply and travel, with no note.
  auto dest = StartRegistryOrSkip(dir_ / "dest", {.kind = RegistryKind::kDockerRegistry});
  if (!dest) return;
  nlohmann::json same = PlugctlJson(mirror({"--variant", "compat", "--to", dest->Ref("p")}));
  EXPECT_EQ(same["referrersCopied"], 2) << same.dump(2);
  EXPECT_FALSE(same.contains("referrersNote")) << same.dump(2);
}

// `--src-creds USER` / `--dest-creds USER`: the password from standard input with
// --*-password-stdin, or a terminal prompt; without either a clear usage error. Against a TLS
// docker-registry with htpasswd; the password never appears in the output.
class BulkCredsTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    plain_ = StartRegistryOrSkip(dir_ / "plain", {.kind = RegistryKind::kDockerRegistry});
    if (!plain_) return;
    secure_ = StartRegistryOrSkip(
        dir_ / "secure", {.kind = RegistryKind::kDockerRegistry, .tls = true, .htpasswd = true});
    if (!secure_) return;
    fs::create_directories(dir_ / "docker-config");
    config_ = Path("docker-config/config.json");
    std::ofstream(config_) << "{}";
    Demo();
    RunResult seeded = Plugctl(
        {"copy", DemoLayout() + ":hello-world:1.0.0", plain_->Ref("plugins/hello-world:1.0.0")});
    ASSERT_TRUE(seeded.ok()) << seeded.Summary();
    src_ = plain_->Ref("plugins/hello-world:1.0.0");
  }
  std::vector<std::string> Cmd(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--registry-config", config_});
    return args;
  }
  const std::string& user() const { return secure_->config().user; }
  const std::string& password() const { return secure_->config().password; }

  std::unique_ptr<RegistryServer> plain_;
  std::unique_ptr<RegistryServer> secure_;
  std::string config_;
  std::string src_;
};

TEST_F(BulkCredsTest, PasswordFromStdin) {
  const std::string dst = secure_->Ref("plugins/hello-world:1.0.0");
  RunResult copied = Plugctl(Cmd({"copy", "--dest-ca-file", secure_->ca_file(), "--dest-creds",
                                  user(), "--dest-password-stdin", src_, dst}),
                             {.stdin_data = password() + "\n"});
  ASSERT_TRUE(copied.ok()) << copied.Summary();

  // mirror, the secure registry as the source this time.
  RunResult mirrored =
      Plugctl(Cmd({"mirror", "--src-ca-file", secure_->ca_file(), "--src-creds", user(),
                   "--src-password-stdin", dst, "--to", "oci:" + Path("layout")}),
              {.stdin_data = password()});
  ASSERT_TRUE(mirrored.ok()) << mirrored.Summary();
  EXPECT_NE(mirrored.out.find("copied"), std::string::npos) << mirrored.out;

  // A wrong password: refused, naming the side, never printed.
  const std::string secret = "wrong-pass-51d2";
  RunResult wrong =
      Plugctl(Cmd({"copy", "--dest-ca-file", secure_->ca_file(), "--dest-creds", user(),
                   "--dest-password-stdin", src_, secure_->Ref("plugins/x:1")}),
              {.stdin_data = secret + "\n"});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.Summary();
  EXPECT_NE(wrong.err.find("destination"), std::string::npos) << wrong.err;
  EXPECT_EQ((wrong.out + wrong.err).find(secret), std::string::npos);
}

TEST_F(BulkCredsTest, UsageErrors) {
  const std::string dst = secure_->Ref("plugins/y:1");
  // USER alone, stdin not a terminal, no --dest-password-stdin: says what to do.
  RunResult no_password = Plugctl(
      Cmd({"copy", "--dest-ca-file", secure_->ca_file(), "--dest-creds", user(), src_, dst}));
  EXPECT_EQ(no_password.exit_code, 1) << no_password.Summary();
  EXPECT_NE(no_password.err.find("--dest-password-stdin"), std::string::npos) << no_password.err;

  // Both sides cannot read one stdin.
  RunResult both = Plugctl(Cmd({"copy", "--src-creds", user(), "--src-password-stdin",
                                "--dest-creds", user(), "--dest-password-stdin", src_, dst}),
                           {.stdin_data = password()});
  EXPECT_EQ(both.exit_code, 1) << both.Summary();
  EXPECT_NE(both.err.find("one stream"), std::string::npos) << both.err;

  // --*-password-stdin with a password already given, or without --*-creds.
  RunResult twice = Plugctl(
      Cmd({"copy", "--dest-creds", user() + ":" + password(), "--dest-password-stdin", src_, dst}),
      {.stdin_data = password()});
  EXPECT_EQ(twice.exit_code, 1) << twice.Summary();
  EXPECT_EQ((twice.out + twice.err).find(password()), std::string::npos);
  RunResult alone =
      Plugctl(Cmd({"copy", "--dest-password-stdin", src_, dst}), {.stdin_data = password()});
  EXPECT_EQ(alone.exit_code, 1) << alone.Summary();
  EXPECT_NE(alone.err.find("--dest-creds"), std::string::npos) << alone.err;

  // Empty standard input.
  RunResult empty = Plugctl(Cmd({"copy", "--dest-ca-file", secure_->ca_file(), "--dest-creds",
                                 user(), "--dest-password-stdin", src_, dst}),
                            {.stdin_data = "\n"});
  EXPECT_EQ(empty.exit_code, 1) << empty.Summary();
  EXPECT_NE(empty.err.find("no password"), std::string::npos) << empty.err;
}

// On a terminal, `--dest-creds USER` asks for the password (not echoed), as skopeo does. The
// terminal is a pseudo-terminal python's pty module gives plugctl.
TEST_F(BulkCredsTest, PasswordPromptOnATerminal) {
  if (!HaveProgram("python3")) GTEST_SKIP() << "python3 is needed for a pseudo-terminal";
  const std::string driver = R"PY(
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
deadline = time.time() + 60
sent = False
while time.time() < deadline:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if not sent and b"Password for" in out:
        os.write(fd, (os.environ["PW"] + "\n").encode())
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
)PY";
  WriteFile(dir_ / "tty_driver.py", driver);
  std::vector<std::string> args =
      Cmd({"copy", "--no-progress", "--dest-ca-file", secure_->ca_file(), "--dest-creds", user(),
           src_, secure_->Ref("plugins/prompted:1")});
  args.insert(args.begin(), PlugctlBinary());
  args.insert(args.begin(), {"python3", Path("tty_driver.py")});
  RunResult r = RunProcess(args, {.env = {{"PW", password()}}});
  EXPECT_EQ(r.exit_code, 0) << r.Summary() << r.out;
  EXPECT_NE(r.out.find("Password for " + user()), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(password()), std::string::npos) << "the password was echoed: " << r.out;
  RunResult check = Plugctl(
      Cmd({"copy", "--src-ca-file", secure_->ca_file(), "--src-creds", user() + ":" + password(),
           secure_->Ref("plugins/prompted:1"), "oci:" + Path("check")}));
  EXPECT_TRUE(check.ok()) << check.Summary();
}

}  // namespace
}  // namespace plugctl::testing
