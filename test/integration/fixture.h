// test/integration/fixture.h — shared helpers for CLI-level tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
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

// Writes `content` to `p`, creating its directories (test setup: failures show up later).
inline void WriteFile(const std::filesystem::path& p, const std::string& content) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

// How many times `what` occurs in `text` (overlapping occurrences count).
inline size_t CountOf(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Adds to the OCI layout at `layout` an image index tagged `index_tag` whose children are the
// layout's entries tagged as `children` says, each as linux/<arch> ({tag, arch} pairs); false
// when a tag names no entry. (plugctl has no command that makes an index.)
inline bool AddPlatformIndex(const std::filesystem::path& layout,
                             const std::vector<std::pair<std::string, std::string>>& children,
                             const std::string& index_tag) {
  nlohmann::json index_json = nlohmann::json::parse(ReadAll(layout / "index.json"));
  nlohmann::json manifests = nlohmann::json::array();
  for (const auto& [tag, arch] : children) {
    for (const auto& m : index_json["manifests"]) {
      auto annotations = m.find("annotations");
      if (annotations != m.end() &&
          annotations->value("org.opencontainers.image.ref.name", "") == tag) {
        manifests.push_back({{"mediaType", m["mediaType"]},
                             {"digest", m["digest"]},
                             {"size", m["size"]},
                             {"platform", {{"os", "linux"}, {"architecture", arch}}}});
      }
    }
  }
  if (manifests.size() != children.size()) return false;
  std::string index = nlohmann::json{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.index.v1+json"},
      {"manifests",
       manifests}}.dump();
  oci::Digest digest = oci::Digest::Of(index);
  std::ofstream(layout / "blobs" / "sha256" / digest.hex(), std::ios::binary) << index;
  index_json["manifests"].push_back(
      {{"mediaType", "application/vnd.oci.image.index.v1+json"},
       {"digest", digest.ToString()},
       {"size", index.size()},
       {"annotations", {{"org.opencontainers.image.ref.name", index_tag}}}});
  std::ofstream(layout / "index.json", std::ios::trunc) << index_json.dump();
  return true;
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

// A CliTest with the example plugin (examples/add-header) built into layout_
// ("oci:<dir>/layout:1.0.0"); skipped where the examples are not built.
class ExampleLayoutTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (HasFatalFailure()) return;
    if (!std::filesystem::exists(Example() / "plugin.wasm")) {
      GTEST_SKIP() << "examples not built (PLUGCTL_BUILD_EXAMPLES=OFF): " << Example().string();
    }
    layout_ = "oci:" + Path("layout") + ":1.0.0";
    RunResult r = Plugctl({"build", Example().string(), "-t", layout_});
    ASSERT_TRUE(r.ok()) << r.Summary();
  }

  static std::filesystem::path Example() {
    return std::filesystem::path(PLUGCTL_BINARY_DIR) / "examples" / "add-header";
  }
  // Writes `text` to NAME in the test directory; returns its path.
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return Path(name);
  }

  std::string layout_;
};

}  // namespace plugctl::testing
