#include "plugctl/plugin/validate.h"

#include <fstream>
#include <string>
#include <string_view>

#include "support/sample_spec.h"
#include "support/wasm_builder.h"
#include <gtest/gtest.h>

#include "plugctl/base/file.h"

namespace plugctl::plugin {
namespace {

// A module a proxy-wasm host accepts: ABI export, allocator, memory.
std::string GoodWasm() { return test_support::ProxyWasmModule(); }

constexpr std::string_view kSpec = test_support::kSampleSpecYaml;

class ValidateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::move(*TempDir::Create("plugctl-validate-test"));
    Write("spec.yaml", std::string(kSpec));
    Write("README.md", "# test\n");
    Write("plugin.wasm", GoodWasm());
  }
  void Write(const std::string& name, const std::string& content) {
    std::ofstream(dir_->path() / name, std::ios::binary) << content;
  }
  DirectoryReport Check(DirectoryCheckOptions options = {}) {
    auto report = ValidatePluginDirectory(dir_->path(), options);
    EXPECT_TRUE(report.has_value()) << report.error().message();
    return std::move(*report);
  }
  static bool HasFinding(const DirectoryReport& r, Severity s, std::string_view file,
                         std::string_view text) {
    for (const auto& f : r.findings) {
      if (f.severity == s && f.file == file && f.message.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  std::unique_ptr<TempDir> dir_;
};

TEST_F(ValidateDirTest, ValidDirectoryHasNoErrors) {
  DirectoryReport r = Check();
  EXPECT_FALSE(HasErrors(r.findings)) << r.findings.size();
  ASSERT_TRUE(r.spec.has_value());
  EXPECT_EQ(r.spec->spec.info.name, "add-header/v1");
  ASSERT_TRUE(r.module.has_value());
  EXPECT_EQ(r.module->proxy_abi_versions, std::vector<std::string>{"0_2_1"});
  EXPECT_EQ(r.wasm_sha256, oci::Digest::Of(GoodWasm()));
  EXPECT_EQ(r.files, (std::vector<std::string>{"README.md", "plugin.wasm", "spec.yaml"}));
}

TEST_F(ValidateDirTest, MissingDocsAreErrorsOrWarningsAsAsked) {
  std::filesystem::remove(dir_->path() / "README.md");
  std::filesystem::remove(dir_->path() / "spec.yaml");
  DirectoryReport strict_docs = Check();
  EXPECT_TRUE(HasFinding(strict_docs, Severity::kError, "README.md", "missing"));
  EXPECT_TRUE(HasFinding(strict_docs, Severity::kError, "spec.yaml", "missing"));
  DirectoryReport lenient = Check({.missing_docs = Severity::kWarning});
  EXPECT_FALSE(HasErrors(lenient.findings));
  EXPECT_TRUE(HasFinding(lenient, Severity::kWarning, "README.md", "missing"));
}

TEST_F(ValidateDirTest, BadWasmAndIconAreErrors) {
  Write("plugin.wasm", "not wasm at all");
  Write("icon.png", "GIF89a");
  DirectoryReport r = Check();
  EXPECT_TRUE(HasFinding(r, Severity::kError, "plugin.wasm", "magic"));
  EXPECT_TRUE(HasFinding(r, Severity::kError, "icon.png", "not a PNG"));
  EXPECT_FALSE(r.module.has_value());
}

TEST_F(ValidateDirTest, TruncatedWasmIsAnError) {
  Write("plugin.wasm", GoodWasm().substr(0, 20));
  EXPECT_TRUE(HasErrors(Check().findings));
}

TEST_F(ValidateDirTest, SpecErrorsCarryFileAndLine) {
  Write("spec.yaml", std::string(kSpec) + "  phase2: [unclosed\n");
  DirectoryReport r = Check();
  ASSERT_TRUE(HasErrors(r.findings));
  bool with_line = false;
  for (const auto& f : r.findings) with_line |= f.file == "spec.yaml" && f.line > 0;
  EXPECT_TRUE(with_line);
}

TEST_F(ValidateDirTest, StrictTurnsWarningsIntoErrors) {
  Write("README_FR.md", "# fr\n");
  DirectoryReport lenient = Check();
  EXPECT_FALSE(HasErrors(lenient.findings));
  EXPECT_TRUE(HasFinding(lenient, Severity::kWarning, "README_FR.md", "README_ZH.md"));
  EXPECT_TRUE(HasErrors(Check({.strict = true}).findings));
}

TEST_F(ValidateDirTest, OtherFilesAreNotedAndNotAnError) {
  Write("Makefile", "all:\n");
  DirectoryReport r = Check();
  EXPECT_TRUE(HasFinding(r, Severity::kInfo, "Makefile", "not a plugin file"));
  EXPECT_FALSE(HasErrors(r.findings));
}

TEST_F(ValidateDirTest, NotADirectory) {
  auto r = ValidatePluginDirectory(dir_->path() / "nope", {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace plugctl::plugin
