// Registry faults, injected by test/integration/fault_registry.py (a registry
// of our own that misbehaves on purpose): broken connections, 429/5xx,
// corrupt bytes, redirects and pagination to other origins, a token realm
// answering garbage.
#include <fstream>
#include <thread>

#include "fixture.h"

#include "plugctl/registry/credentials.h"

namespace plugctl::testing {
namespace {

class FaultTest : public CliTest {
 protected:
  void Start(const std::string& mode, const std::string& password = "p") {
    if (!HaveProgram("python3")) GTEST_SKIP() << "python3 not installed";
    port_file_ = Path("port");
    stats_file_ = Path("stats.json");
    server_ = std::make_unique<Background>(
        std::vector<std::string>{
            "python3", std::string(PLUGCTL_SOURCE_DIR) + "/test/integration/fault_registry.py",
            "--mode", mode, "--port-file", port_file_, "--stats", stats_file_},
        Path("fault.log"));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!std::filesystem::exists(port_file_) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(std::filesystem::exists(port_file_)) << ReadAll(Path("fault.log"));
    host_ = "127.0.0.1:" + ReadAll(port_file_);
    config_ = Path("config.json");
    std::ofstream(config_)
        << nlohmann::json{{"auths", {{host_, {{"auth", registry::Base64Encode("u:" + password)}}}}}}
               .dump();
  }

  RunResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--registry-config", config_});
    return Plugctl(args);
  }
  nlohmann::json Stats() { return nlohmann::json::parse(ReadAll(stats_file_)); }
  std::string Image() const { return host_ + "/fault/img:t1"; }

  std::string port_file_, stats_file_, host_, config_;
  std::unique_ptr<Background> server_;
};

TEST_F(FaultTest, ResumesADownloadCutMidway) {
  Start("cut");
  RunResult r = Cli({"--format", "json", "copy", Image(), "oci:" + Path("out") + ":t1"});
  ASSERT_TRUE(r.ok()) << r.Summary();
  EXPECT_GE(Stats()["range_requests"].get<int>(), 1) << Stats().dump();
}

// A chunked upload whose PATCH is answered 416 (the registry kept only part of the chunk):
// the client asks where the upload stands and resends the rest, and the blob arrives intact.
TEST_F(FaultTest, ChunkedUploadRecoversFrom416) {
  Start("chunk-416");
  RunResult r = Cli({"copy", Image(), "oci:" + Path("local") + ":t1"});
  ASSERT_TRUE(r.ok()) << r.Summary();
  r = Cli({"--format", "json", "--chunk-size", "262144", "copy", "oci:" + Path("local") + ":t1",
           host_ + "/fault/up:t1"});
  ASSERT_TRUE(r.ok()) << r.Summary();
  nlohmann::json stats = Stats();
  EXPECT_EQ(stats["status_416"].get<int>(), 1) << stats.dump();
  EXPECT_GE(stats["upload_status_gets"].get<int>(), 1) << stats.dump();
  // The registry verified the assembled blob's digest; reading it back verifies it again.
  r = Cli({"--format", "json", "copy", host_ + "/fault/up:t1", "oci:" + Path("back") + ":t1"});
  ASSERT_TRUE(r.ok()) << r.Summary();
  EXPECT_EQ(nlohmann::json::parse(r.out)["digest"],
            nlohmann::json::parse(Cli({"--format", "json", "resolve", Image()}).out)["digest"]);
}

TEST_F(FaultTest, RetriesAfter429) {
  Start("429");
  RunResult r = Cli({"copy", Image(), "oci:" + Path("out") + ":t1"});
  ASSERT_TRUE(r.ok()) << r.Summary();
  EXPECT_EQ(Stats()["blob_gets"].get<int>(), 2);
}

TEST_F(FaultTest, RetriesAfter500) {
  Start("500");
  RunResult r = Cli({"copy", Image(), "oci:" + Path("out") + ":t1"});
  ASSERT_TRUE(r.ok()) << r.Summary();
  EXPECT_EQ(Stats()["blob_gets"].get<int>(), 3);
}

TEST_F(FaultTest, CorruptBlobFailsAndLeavesNoFile) {
  Start("corrupt");
  RunResult r = Cli({"copy", Image(), "oci:" + Path("out") + ":t1"});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find("digest mismatch"), std::string::npos) << r.err;
  size_t blobs = 0;
  if (std::filesystem::exists(dir_ / "out/blobs/sha256")) {
    for (const auto& e : std::filesystem::directory_iterator(dir_ / "out/blobs/sha256")) {
      // Only the small config may have arrived; never the corrupt layer, never a temp file.
      EXPECT_LT(std::filesystem::file_size(e.path()), 1000u) << e.path();
      ++blobs;
    }
  }
  EXPECT_LE(blobs, 1u);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out/index.json") &&
               ReadAll(dir_ / "out/index.json").find("t1") != std::string::npos);
}

TEST_F(FaultTest, RedirectToAnotherOriginCarriesNoCredentials) {
  Start("redirect");
  RunResult r = Cli({"--debug", "copy", Image(), "oci:" + Path("out") + ":t1"});
  ASSERT_TRUE(r.ok()) << r.Summary();
  nlohmann::json stats = Stats();
  ASSERT_GE(stats["offsite_requests"].get<int>(), 1);
  for (const auto& auth : stats["offsite_auth"]) EXPECT_EQ(auth, "") << stats.dump();
  // Debug output redacts tokens and pre-signed URL signatures.
  EXPECT_NE(r.err.find("REDACTED"), std::string::npos);
  EXPECT_EQ(r.err.find("good-token"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("X-Amz-Signature=secret"), std::string::npos) << r.err;
}

TEST_F(FaultTest, PaginationToAnotherOriginCarriesNoCredentials) {
  Start("link-offsite");
  RunResult r = Cli({"--format", "json", "tags", host_ + "/fault/img"});
  ASSERT_TRUE(r.ok()) << r.Summary();
  // Keep the parsed stats alive for the loop (a range over a temporary's member dangles).
  nlohmann::json stats = Stats();
  EXPECT_GE(stats["offsite_requests"].get<int>(), 1) << stats.dump();
  for (const auto& auth : stats["offsite_auth"]) EXPECT_EQ(auth, "") << stats.dump();
}

TEST_F(FaultTest, FollowsTagPagination) {
  Start("none");
  RunResult r = Cli({"--format", "json", "tags", host_ + "/fault/img"});
  ASSERT_TRUE(r.ok()) << r.Summary();
  EXPECT_EQ(nlohmann::json::parse(r.out)["tags"],
            nlohmann::json::array({"t1", "t2", "t3", "t4", "t5"}));
}

// A registry linking every tags/catalog page to yet another (4 MiB each): plugctl stops at
// the 64 MiB bound, in one line naming the list, instead of growing forever. How fast is not
// asserted (sanitized builds differ tenfold); the runner's deadline bounds each run.
TEST_F(FaultTest, EndlessPaginationIsRefused) {
  Start("endless-pages");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"tags", host_ + "/fault/img"}, {"catalog", host_}}) {
    RunResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 1) << r.Summary();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("the registry keeps paginating"), std::string::npos) << r.err;
    EXPECT_NE(
        r.err.find(args[0] == "tags" ? "tags of " + host_ + "/fault/img" : "catalog of " + host_),
        std::string::npos)
        << r.err;
  }
  EXPECT_LE(Stats()["list_pages"].get<int>(), 40) << Stats().dump();
}

// A manifest trickling in one byte every half second: --request-timeout bounds the request (and
// its retries), in one line naming the URL. Without the bound the run would outlast the
// runner's deadline and fail on its exit code; how fast it ends is not asserted.
TEST_F(FaultTest, TricklingResponseTimesOut) {
  Start("slow-body");
  RunResult r = Cli({"--request-timeout", "1", "inspect", Image()});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(host_ + "/v2/fault/img/manifests/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(": response not complete within 1 s"), std::string::npos) << r.err;
}

TEST_F(FaultTest, TokenRealmAnsweringGarbageIsAClearError) {
  Start("token-garbage");
  RunResult r = Cli({"resolve", Image()});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find("invalid JSON"), std::string::npos) << r.err;
}

// JSON nested 100000 levels deep (a token response; a manifest under the size limit with the
// right digest) fails in one line instead of overflowing the stack.
TEST_F(FaultTest, DeeplyNestedJsonIsRefused) {
  for (const char* mode : {"deep-token", "deep-manifest"}) {
    Start(mode);
    for (std::vector<std::string> args : {std::vector<std::string>{"inspect", Image()},
                                          {"--format", "json", "inspect", Image()},
                                          {"copy", Image(), "oci:" + Path("out")}}) {
      RunResult r = Cli(args);
      EXPECT_EQ(r.exit_code, 1) << mode << ": " << r.Summary();
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << mode << ": " << r.err;
      if (std::string(mode) == "deep-manifest") {
        EXPECT_NE(r.err.find("nested deeper than 64 levels"), std::string::npos) << r.err;
      }
    }
    server_.reset();
    std::filesystem::remove(port_file_);
  }
  // Nothing was stored: the layout holds no blobs and no tag.
  std::error_code ec;
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "out" / "blobs" / "sha256", ec) || ec);
  EXPECT_EQ(ReadAll(dir_ / "out" / "index.json").find("ref.name"), std::string::npos);
}

TEST_F(FaultTest, RejectedCredentialsAreAClearError) {
  Start("none", "wrong");
  RunResult r = Cli({"resolve", Image()});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_NE(r.err.find("credentials rejected"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace plugctl::testing
