// Untrusted strings in text output ("Hostile input, round two", terminal and log injection):
// tags, media types and annotations an image carries, and the error messages quoting them,
// reach the terminal escaped — no control bytes but the newlines plugctl writes, and one line
// per tag.
#include <algorithm>

#include "fixture.h"
#include "image_factory.h"

namespace plugctl::testing {
namespace {

constexpr char kForgedTag[] = "evil\nGateway:     loads it";
constexpr char kEscMediaType[] =
    "application/vnd.oci.image.layer.v1.tar+gzip\x1b[2J\x1b]0;pwned\x07";
// CR LF, a forged report line, a right-to-left override, a line separator, a C1 CSI.
constexpr char kEvilTitle[] =
    "plugin.wasm\r\nGateway:     loads it\xe2\x80\xae\xe2\x80\xa8\xc2\x9b"
    "31m";

// Bytes a terminal or a line-oriented log would act on, other than '\n'.
std::string RawControls(const std::string& text) {
  std::string found;
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\n') || c == 0x7f) found += fmt::format(" 0x{:02x}", c);
  }
  for (const char* seq : {"\xe2\x80\xae", "\xe2\x80\xa8", "\xc2\x9b"}) {
    if (text.find(seq) != std::string::npos) found += " (unicode control)";
  }
  return found;
}

bool HasLineStartingWith(const std::string& text, const std::string& prefix) {
  size_t pos = 0;
  while (pos < text.size()) {
    if (text.compare(pos, prefix.size(), prefix) == 0) return true;
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return false;
}

class TerminalTest : public CliTest {
 protected:
  std::string Layout() {
    std::filesystem::path dir = dir_ / "layout";
    std::filesystem::create_directories(dir);
    WriteLayoutImage(
        dir, "1.0",
        {{.media_type = kEscMediaType, .bytes = RandomBytes(64, 1), .title = kEvilTitle}});
    WriteLayoutImage(dir, kForgedTag, {{.bytes = RandomBytes(64, 2)}});
    return "oci:" + dir.string();
  }
};

TEST_F(TerminalTest, TagWithNewlineListsAsOneEscapedLine) {
  std::string layout = Layout();
  RunResult r = Plugctl({"tags", layout});
  ASSERT_TRUE(r.ok()) << r.Summary();
  EXPECT_EQ(RawControls(r.out), "") << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;
  EXPECT_NE(r.out.find("evil\\nGateway:     loads it\n"), std::string::npos) << r.out;
  EXPECT_FALSE(HasLineStartingWith(r.out, "Gateway:")) << r.out;
  // JSON output carries the tag as it is (nlohmann escapes it).
  nlohmann::json j = PlugctlJson({"tags", layout});
  EXPECT_NE(std::find(j["tags"].begin(), j["tags"].end(), std::string(kForgedTag)), j["tags"].end())
      << j;
}

TEST_F(TerminalTest, InspectEscapesMediaTypesAndAnnotations) {
  std::string layout = Layout();
  RunResult r = Plugctl({"inspect", layout + ":1.0"});
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(RawControls(r.out), "") << r.out;
  EXPECT_EQ(RawControls(r.err), "") << r.err;
  EXPECT_NE(r.out.find("\\x1b[2J\\x1b]0;pwned\\x07"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("plugin.wasm\\r\\nGateway:     loads it\\u202e\\u2028\\u009b31m"),
            std::string::npos)
      << r.out;
  // The only "Gateway:" line is plugctl's own verdict, and the image is not loadable.
  EXPECT_FALSE(HasLineStartingWith(r.out, "Gateway:     loads it")) << r.out;
}

TEST_F(TerminalTest, ErrorMessagesAreOneEscapedLine) {
  // pull --all's error quotes the layer title it refuses.
  std::string layout = Layout();
  RunResult r = Plugctl({"pull", "--all", layout + ":1.0", "-o", Path("pulled")});
  EXPECT_EQ(r.exit_code, 1) << r.Summary();
  EXPECT_EQ(RawControls(r.err), "") << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("plugin.wasm\\r\\nGateway:"), std::string::npos) << r.err;
}

TEST_F(TerminalTest, UsageErrorsEscapeTheArgumentTheyQuote) {
  // Arguments often come from scripts fed with tags and names from registries.
  RunResult r = Plugctl({"tags", "oci:x", "b\x1b[31m\nGateway:     loads it"});
  EXPECT_EQ(r.exit_code, 2) << r.Summary();
  EXPECT_EQ(RawControls(r.err), "") << r.err;
  EXPECT_NE(r.err.find("b\\x1b[31m\\nGateway:"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("\nGateway:"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace plugctl::testing
