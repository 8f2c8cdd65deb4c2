#include "plugctl/plugin/scaffold.h"

#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "plugctl/base/file.h"
#include "plugctl/plugin/builder.h"
#include "plugctl/plugin/validate.h"

namespace plugctl::plugin {
namespace {

class ScaffoldTest : public ::testing::Test {
 protected:
  void SetUp() override { tmp_ = std::move(*TempDir::Create("plugctl-scaffold-test")); }
  std::unique_ptr<TempDir> tmp_;
};

TEST_F(ScaffoldTest, ValidatesWithoutFindingsAndBuilds) {
  fs::path dir = tmp_->path() / "new" / "my-plugin";
  auto result = ScaffoldPlugin(dir, {.name = "my-plugin"});
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->files, (std::vector<std::string>{"spec.yaml", "README.md", "README_EN.md",
                                                     "plugin.c", "build.sh", "plugin.wasm"}));
  auto report = ValidatePluginDirectory(dir, {.strict = true});
  ASSERT_TRUE(report) << report.error().message();
  for (const Finding& f : report->findings) {
    EXPECT_EQ(f.severity, Severity::kInfo) << f.ToString();
  }
  ASSERT_TRUE(report->spec);
  EXPECT_EQ(report->spec->spec.info.name, "my-plugin");

  struct stat st {};
  ASSERT_EQ(::stat((dir / "build.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);

  store::MemoryTarget mem;
  auto built = BuildPluginImage(dir, {.strict = true}, mem);
  ASSERT_TRUE(built) << built.error().message();
  EXPECT_EQ(built->name, "my-plugin");
  EXPECT_EQ(built->version, "0.1.0");
}

TEST_F(ScaffoldTest, RefusesNonEmptyDirectoryUnlessForced) {
  fs::path dir = tmp_->path() / "p";
  ASSERT_TRUE(CreateDirectories(dir));
  std::ofstream(dir / "notes.txt") << "mine";
  auto refused = ScaffoldPlugin(dir, {.name = "p"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_FALSE(fs::exists(dir / "spec.yaml"));
  ASSERT_TRUE(ScaffoldPlugin(dir, {.name = "p", .force = true}));
  EXPECT_TRUE(fs::exists(dir / "spec.yaml"));
  EXPECT_TRUE(fs::exists(dir / "notes.txt"));
}

TEST_F(ScaffoldTest, RefusesSymlinkEvenWhenForced) {
  fs::path dir = tmp_->path() / "p";
  ASSERT_TRUE(CreateDirectories(dir));
  fs::create_symlink(tmp_->path() / "victim", dir / "spec.yaml");
  auto refused = ScaffoldPlugin(dir, {.name = "p", .force = true});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(fs::exists(tmp_->path() / "victim"));
}

TEST_F(ScaffoldTest, PluginNames) {
  for (const char* good : {"a", "my-plugin", "ai-proxy2", "x0"}) {
    EXPECT_TRUE(IsValidPluginName(good)) << good;
  }
  for (const char* bad : {"", "My", "1abc", "a_b", "a/b", "a-", "../x", "a b",
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    EXPECT_FALSE(IsValidPluginName(bad)) << bad;
    auto r = ScaffoldPlugin(tmp_->path() / "x", {.name = bad});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(fs::exists(tmp_->path() / "x"));
}

}  // namespace
}  // namespace plugctl::plugin
