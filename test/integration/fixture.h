// test/integration/fixture.h — shared helpers for CLI-level tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "subprocess.h"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "plugctl/oci/digest.h"

namespace plugctl::testing {

// The whole content of a file ("" when it cannot be read).
inline std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/plugctl-it-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  RunResult Plugctl(std::vector<std::string> args, RunOptions options = {}) {
    args.insert(args.begin(), PlugctlBinary());
    return RunProcess(args, options);
  }

  // Runs plugctl --format json ARGS and parses stdout.
  nlohmann::json PlugctlJson(std::vector<std::string> args) {
    args.insert(args.begin(), {"--format", "json"});
    RunResult r = Plugctl(args);
    EXPECT_TRUE(r.ok()) << r.Summary();
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }

  RunResult Skopeo(std::vector<std::string> args) {
    args.insert(args.begin(), {"skopeo", "--insecure-policy"});
    return RunProcess(args, {.timeout = std::chrono::seconds(120),
                             .env = {{"HOME", dir_.string()}, {"TMPDIR", dir_.string()}}});
  }

  // sha256 of what `skopeo inspect ARGS` prints: with --raw, of the manifest bytes it reads;
  // with --config --raw, of the config blob.
  std::string SkopeoInspectDigest(std::vector<std::string> args) {
    args.insert(args.begin(), "inspect");
    RunResult r = Skopeo(args);
    EXPECT_TRUE(r.ok()) << args.back() << ": " << r.Summary();
    return oci::Digest::Of(r.out).ToString();
  }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Runs `plugctl demo` into dir_/demo once per test.
  void Demo() {
    RunResult r = Plugctl({"demo", "--dir", Path("demo")});
    ASSERT_TRUE(r.ok()) << r.Summary();
  }
  std::string DemoLayout() const { return "oci:" + (dir_ / "demo" / "layout").string(); }

  std::filesystem::path dir_;
};

}  // namespace plugctl::testing
