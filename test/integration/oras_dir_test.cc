// ORAS directory parity: `plugctl push REF DIR` packs a directory as `oras push ./dir` does (one
// reproducible tar.gz layer titled DIR, io.deis.oras.content.unpack/digest) and `plugctl pull
// --all` unpacks it as `oras pull` does, into a real docker-registry (or plugctl serve). Hostile
// directory layers — hand-made tars pushed as files with the annotations set by hand — are
// refused with one line and leave nothing in the output directory.
#include <map>
#include <random>

#include "fixture.h"
#include "registry_fixture.h"
#include "support/raw_tar.h"
#include "support/tar_builder.h"

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;
using archive::testing::RawTar;
using archive::testing::RawTarEntry;

using test_support::DirectoryTree;

bool IsEmptyDirectory(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir) && fs::directory_iterator(dir, ec) == fs::directory_iterator();
}

class OrasDirTest : public WithRegistry<CliTest> {
 protected:
  // SOURCE_DATE_EPOCH pins org.opencontainers.image.created, so equal content gives equal
  // manifests.
  RunResult Push(std::vector<std::string> args) {
    args.insert(args.begin(), {"--format", "json", "push"});
    return Plugctl(args, {.env = {{"SOURCE_DATE_EPOCH", "1700000000"}}, .cwd = Path("work")});
  }
};

TEST_F(OrasDirTest, PushedDirectoryPullsBackByteForByteAndReproducibly) {
  fs::path tree = dir_ / "work/site";
  WriteFile(tree / "index.html", "<h1>hi</h1>\n");
  WriteFile(tree / "a/b/c/deep.txt", "deep\n");
  WriteFile(tree / "docs/with space.md", "spaced name\n");
  fs::create_directories(tree / "empty");
  std::string big(5 << 20, '\0');
  std::mt19937 rng(42);
  for (char& c : big) c = static_cast<char>(rng());
  WriteFile(tree / "a/big.bin", big);
  WriteFile(dir_ / "work/notes.txt", "a plain file beside the directory\n");

  RunResult first = Push({Ref("site:v1"), "site", "notes.txt"});
  ASSERT_TRUE(first.ok()) << first.Summary();
  nlohmann::json pushed = nlohmann::json::parse(first.out);
  const nlohmann::json& layer = pushed["layers"][0];
  EXPECT_EQ(layer["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(layer["annotations"]["org.opencontainers.image.title"], "site");
  EXPECT_EQ(layer["annotations"]["io.deis.oras.content.unpack"], "true");
  EXPECT_EQ(layer["annotations"]["io.deis.oras.content.digest"].get<std::string>().substr(0, 7),
            "sha256:");
  EXPECT_EQ(pushed["layers"][1]["annotations"]["org.opencontainers.image.title"], "notes.txt");

  // Reproducible: the same tree (named with a trailing slash this time) gives the same manifest.
  RunResult second = Push({Ref("site:v2"), "./site/", "notes.txt"});
  ASSERT_TRUE(second.ok()) << second.Summary();
  EXPECT_EQ(nlohmann::json::parse(second.out)["digest"], pushed["digest"]);

  nlohmann::json pulled = PlugctlJson({"pull", "--all", Ref("site:v1"), "-o", Path("out")});
  ASSERT_EQ(pulled["files"].size(), 2u) << pulled.dump(2);
  EXPECT_EQ(pulled["files"][0]["unpacked"], true);
  EXPECT_EQ(DirectoryTree(dir_ / "out/site"), DirectoryTree(tree));
  EXPECT_EQ(ReadAll(dir_ / "out/notes.txt"), ReadAll(dir_ / "work/notes.txt"));
  EXPECT_EQ(DirectoryTree(dir_ / "out").size(),
            DirectoryTree(tree).size() + 2);  // site/, notes.txt: no leftovers

  // Pulling again needs --force, which replaces the directory (a stray file does not survive).
  WriteFile(dir_ / "out/site/stray.txt", "x");
  RunResult again = Plugctl({"pull", "--all", Ref("site:v1"), "-o", Path("out")});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  RunResult forced = Plugctl({"pull", "--all", "--force", Ref("site:v1"), "-o", Path("out")});
  ASSERT_TRUE(forced.ok()) << forced.Summary();
  EXPECT_EQ(DirectoryTree(dir_ / "out/site"), DirectoryTree(tree));

  // --no-unpack: the layer blob itself, named by its title.
  nlohmann::json raw =
      PlugctlJson({"pull", "--all", "--no-unpack", Ref("site:v1"), "-o", Path("raw")});
  EXPECT_EQ(oci::Digest::Of(ReadAll(dir_ / "raw/site")).ToString(), layer["digest"]);
  EXPECT_EQ(raw["files"][0]["unpacked"], false);

  if (HaveProgram("skopeo")) {
    EXPECT_EQ(SkopeoDigest(Ref("site:v1")), pushed["digest"]);
  }
}

TEST_F(OrasDirTest, PushRefusesSymlinksInTheDirectory) {
  WriteFile(dir_ / "work/d/ok.txt", "ok");
  fs::create_symlink("/etc/passwd", dir_ / "work/d/passwd");
  RunResult r = Push({Ref("d:v1"), "d"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is a symlink"), std::string::npos) << r.err;
}

TEST_F(OrasDirTest, HostileDirectoryLayersAreRefusedAndLeaveNothing) {
  std::string good = RawTar({{.name = "evil/", .type = '5'}, {.name = "evil/f", .data = "x"}});
  struct Case {
    std::string name;
    std::string tar;
    std::string content_digest;  // empty: none annotated
  };
  std::vector<Case> cases = {
      {"dotdot", RawTar({{.name = "evil/", .type = '5'}, {.name = "../escape", .data = "x"}}), ""},
      {"absolute", RawTar({{.name = "evil/", .type = '5'}, {.name = "/tmp/abs", .data = "x"}}), ""},
      {"symlink",
       RawTar({{.name = "evil/", .type = '5'},
               {.name = "evil/etc", .type = '2', .link = "/etc"},
               {.name = "evil/etc/plugctl-owned", .data = "x"}}),
       ""},
      {"outside-title", RawTar({{.name = "evil/f", .data = "x"}, {.name = "other/g", .data = "y"}}),
       ""},
      {"content-digest", good, oci::Digest::Of("not the tar").ToString()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    fs::path work = dir_ / "work" / c.name;
    WriteFile(work / "evil", test_support::GzipStored(c.tar));
    nlohmann::json annotations = {{"evil", {{"io.deis.oras.content.unpack", "true"}}}};
    if (!c.content_digest.empty()) {
      annotations["evil"]["io.deis.oras.content.digest"] = c.content_digest;
    }
    WriteFile(work / "annotations.json", annotations.dump());
    RunResult pushed = Plugctl(
        {"push", Ref("hostile:" + c.name), "evil:application/vnd.oci.image.layer.v1.tar+gzip",
         "--annotation-file", "annotations.json"},
        {.cwd = work.string()});
    ASSERT_TRUE(pushed.ok()) << pushed.Summary();

    // Into an existing empty directory: it stays empty. Into a new one: it is not created.
    fs::path out = dir_ / ("out-" + c.name);
    fs::create_directories(out);
    RunResult pulled = Plugctl({"pull", "--all", Ref("hostile:" + c.name), "-o", out.string()});
    EXPECT_EQ(pulled.exit_code, 1) << pulled.Summary();
    EXPECT_EQ(std::count(pulled.err.begin(), pulled.err.end(), '\n'), 1) << pulled.err;
    EXPECT_TRUE(IsEmptyDirectory(out)) << c.name;
    RunResult fresh =
        Plugctl({"pull", "--all", Ref("hostile:" + c.name), "-o", Path("fresh-" + c.name)});
    EXPECT_EQ(fresh.exit_code, 1);
    EXPECT_FALSE(fs::exists(dir_ / ("fresh-" + c.name)));
  }
  EXPECT_FALSE(fs::exists(dir_ / "escape"));
  EXPECT_FALSE(fs::exists("/tmp/abs"));
  EXPECT_FALSE(fs::exists("/etc/plugctl-owned"));

  // The same good tar with its right digest unpacks (the refusal above was the digest's).
  fs::path work = dir_ / "work/right";
  WriteFile(work / "evil", test_support::GzipStored(good));
  WriteFile(work / "annotations.json",
            nlohmann::json({{"evil",
                             {{"io.deis.oras.content.unpack", "true"},
                              {"io.deis.oras.content.digest", oci::Digest::Of(good).ToString()}}}})
                .dump());
  ASSERT_TRUE(
      Plugctl({"push", Ref("hostile:right"), "evil", "--annotation-file", "annotations.json"},
              {.cwd = work.string()})
          .ok());
  RunResult ok = Plugctl({"pull", "--all", Ref("hostile:right"), "-o", Path("right")});
  ASSERT_TRUE(ok.ok()) << ok.Summary();
  EXPECT_EQ(ReadAll(dir_ / "right/evil/f"), "x");
}

}  // namespace
}  // namespace plugctl::testing
