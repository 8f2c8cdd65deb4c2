#include "plugctl/catalog/markdown.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace plugctl::catalog {
namespace {

std::string Lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

// Whether a tag (text outside tags may say anything) has an attribute such as ` onerror=`.
// A scan, not std::regex: libstdc++'s regex recurses per character and the deep-nesting test
// renders large HTML.
bool HasEventAttribute(const std::string& lower_html) {
  size_t at = 0;
  while ((at = lower_html.find('<', at)) != std::string::npos) {
    size_t end = lower_html.find('>', at);
    if (end == std::string::npos) end = lower_html.size();
    std::string_view tag(lower_html.data() + at, end - at);
    for (size_t i = 1; i + 3 < tag.size(); ++i) {
      if (tag[i - 1] != ' ' && tag[i - 1] != '\t' && tag[i - 1] != '\n' && tag[i - 1] != '/') {
        continue;
      }
      if (tag[i] != 'o' || tag[i + 1] != 'n') continue;
      size_t j = i + 2;
      while (j < tag.size() && tag[j] >= 'a' && tag[j] <= 'z') ++j;
      while (j < tag.size() && tag[j] == ' ') ++j;
      if (j > i + 2 && j < tag.size() && tag[j] == '=') return true;
    }
    at = end;
  }
  return false;
}

std::vector<std::string> Hrefs(const std::string& lower_html) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = lower_html.find("href=\"", at)) != std::string::npos) {
    at += 6;
    size_t end = lower_html.find('"', at);
    out.push_back(lower_html.substr(at, end - at));
    if (end == std::string::npos) break;
    at = end;
  }
  return out;
}

// What no rendering of any README may contain: an element that runs or loads something, an
// event handler attribute, or a link target with a script scheme.
void ExpectInert(const std::string& markdown) {
  SCOPED_TRACE(markdown);
  std::string html = RenderMarkdown(markdown);
  std::string lower = Lower(html);
  EXPECT_EQ(lower.find("<script"), std::string::npos) << html;
  EXPECT_EQ(lower.find("<img"), std::string::npos) << html;
  EXPECT_EQ(lower.find("<iframe"), std::string::npos) << html;
  EXPECT_EQ(lower.find("<svg"), std::string::npos) << html;
  EXPECT_EQ(lower.find("<a href=\"javascript"), std::string::npos) << html;
  EXPECT_EQ(lower.find("<a href=\"vbscript"), std::string::npos) << html;
  EXPECT_EQ(lower.find("<a href=\"data:"), std::string::npos) << html;
  EXPECT_EQ(lower.find("<a href=\"file:"), std::string::npos) << html;
  EXPECT_FALSE(HasEventAttribute(lower)) << html;
  for (const std::string& url : Hrefs(lower)) {
    bool ok = url.starts_with("http://") || url.starts_with("https://") ||
              url.starts_with("mailto:") || url.find(':') == std::string::npos;
    EXPECT_TRUE(ok) << url;
  }
}

TEST(MarkdownTest, RendersTablesLinksAndCode) {
  std::string html = RenderMarkdown(
      "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[site](https://higress.io/x?a=1&b=2)\n\n"
      "```yaml\nkey: <value>\n```\n\n`inline` ~~gone~~ https://example.com/auto\n");
  EXPECT_NE(html.find("<h1>Title</h1>"), std::string::npos) << html;
  EXPECT_NE(html.find("<table>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td>1</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<a href=\"https://higress.io/x?a=1&amp;b=2\">site</a>"), std::string::npos)
      << html;
  EXPECT_NE(html.find("<pre><code class=\"language-yaml\">key: &lt;value&gt;\n</code></pre>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<code>inline</code>"), std::string::npos) << html;
  EXPECT_NE(html.find("<del>gone</del>"), std::string::npos) << html;
  EXPECT_NE(html.find("<a href=\"https://example.com/auto\">"), std::string::npos) << html;
}

TEST(MarkdownTest, RawHtmlIsShownAsText) {
  std::string html = RenderMarkdown("<script>alert(1)</script>\n\ntext <b onclick=x()>bold</b>\n");
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << html;
  EXPECT_NE(html.find("&lt;b onclick=x()&gt;"), std::string::npos) << html;
  EXPECT_EQ(html.find("raw HTML omitted"), std::string::npos) << html;
  ExpectInert("<script>alert(1)</script>");
}

TEST(MarkdownTest, HostileInputsAreInert) {
  for (const char* markdown : {
           "<script>alert(1)</script>",
           "<img src=x onerror=alert(1)>",
           "inline <img src=x onerror=alert(1)> html",
           "[x](javascript:alert(1))",
           "[x](JaVaScRiPt:alert(1))",
           "[x](java\tscript:alert(1))",
           "[x](<java\nscript:alert(1)>)",
           "[x](&#106;avascript:alert(1))",
           "[x](&#x6A;avascript&#x3A;alert(1))",
           "[x]( javascript:alert(1))",
           "[x](\x01javascript:alert(1))",
           "[x](vbscript:msgbox(1))",
           "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
           "[x](file:///etc/passwd)",
           "[x][r]\n\n[r]: javascript:alert(1)",
           "![a](javascript:alert(1))",
           "![a](http://evil/x.png)",
           "![a](data:image/png;base64,AAAA)",
           "![](http://evil/x.png \"t\")",
           "[![a](http://evil/x.png)](javascript:alert(1))",
           "<a href=\"javascript:alert(1)\">x</a>",
           "<a href=\"javascript:\">x</a>",
           "<javascript:alert(1)>",
           "<JAVASCRIPT:alert(1)>",
           "<data:text/html,<script>alert(1)</script>>",
           "<svg onload=alert(1)>",
           "<iframe src=\"javascript:alert(1)\"></iframe>",
           "<div>\n<img src=x onerror=alert(1)>\n</div>",
           "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
           "- [ ] task <script>x</script>",
       }) {
    ExpectInert(markdown);
  }
}

TEST(MarkdownTest, UnsafeLinkKeepsItsText) {
  std::string html = RenderMarkdown("[click me](javascript:alert(1))");
  EXPECT_NE(html.find("click me"), std::string::npos) << html;
  EXPECT_EQ(html.find("<a"), std::string::npos) << html;
}

TEST(MarkdownTest, ImageBecomesLink) {
  std::string html = RenderMarkdown("![diagram](https://img.example/d.png)");
  EXPECT_NE(html.find("<a href=\"https://img.example/d.png\">diagram</a>"), std::string::npos)
      << html;
  EXPECT_EQ(html.find("<img"), std::string::npos) << html;
  html = RenderMarkdown("![](https://img.example/d.png)");
  EXPECT_NE(html.find(">https://img.example/d.png</a>"), std::string::npos) << html;
}

TEST(MarkdownTest, SafeRelativeAndMailtoLinksStay) {
  std::string html = RenderMarkdown("[a](README_EN.md) [b](#usage) [c](mailto:a@b.c) [d](/x/y)");
  EXPECT_NE(html.find("href=\"README_EN.md\""), std::string::npos) << html;
  EXPECT_NE(html.find("href=\"#usage\""), std::string::npos) << html;
  EXPECT_NE(html.find("href=\"mailto:a@b.c\""), std::string::npos) << html;
  EXPECT_NE(html.find("href=\"/x/y\""), std::string::npos) << html;
}

TEST(MarkdownTest, RelativeLinksAreRebasedOnTheFilesOfTheirPlugin) {
  std::string html = RenderMarkdown(
      "[a](README_EN.md) [b](./docs/x.md) [c](#usage) [d](/x/y) [e](https://h.example/z) "
      "[f](//h.example/w) ![g](img/p.png)",
      "/plugins/demo/1.0.0/");
  EXPECT_NE(html.find("href=\"/plugins/demo/1.0.0/README_EN.md\""), std::string::npos) << html;
  EXPECT_NE(html.find("href=\"/plugins/demo/1.0.0/docs/x.md\""), std::string::npos) << html;
  EXPECT_NE(html.find("href=\"#usage\""), std::string::npos) << html;
  EXPECT_NE(html.find("href=\"/x/y\""), std::string::npos) << html;
  EXPECT_NE(html.find("href=\"https://h.example/z\""), std::string::npos) << html;
  EXPECT_NE(html.find("href=\"//h.example/w\""), std::string::npos) << html;
  EXPECT_NE(html.find("href=\"/plugins/demo/1.0.0/img/p.png\""), std::string::npos) << html;
}

TEST(MarkdownTest, LinkAttributesAreEscaped) {
  std::string html =
      RenderMarkdown("[x](https://a.example/\"onmouseover=\"alert(1) \"t\\\"itle\")");
  ExpectInert("[x](https://a.example/\"onmouseover=\"alert(1) \"t\\\"itle\")");
  EXPECT_EQ(html.find("\"onmouseover"), std::string::npos) << html;
}

TEST(MarkdownTest, LargeInputIsCutWithANote) {
  std::string big(kMaxMarkdownBytes + 100, 'a');
  std::string html = RenderMarkdown(big);
  EXPECT_NE(html.find("cut at 1 MiB"), std::string::npos);
  EXPECT_LT(html.size(), kMaxMarkdownBytes + 200);
}

TEST(MarkdownTest, InvalidUtf8AndDeepNestingDoNotCrash) {
  std::string html = RenderMarkdown("\xff\xfe bad \xc3");
  EXPECT_NE(html.find("bad"), std::string::npos);
  std::string deep(5000, '>');
  deep += " x\n";
  deep += std::string(5000, '[') + "x" + std::string(5000, ']');
  ExpectInert(deep);
}

}  // namespace
}  // namespace plugctl::catalog
