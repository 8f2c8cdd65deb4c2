// Interop with skopeo (containers/image), an independent implementation of the
// OCI layout, OCI archive and docker archive formats. What plugctl writes,
// skopeo reads, and the other way round, with identical digests wherever the
// format stores manifests.
#include "fixture.h"

#include "plugctl/oci/digest.h"

namespace plugctl::testing {
namespace {

class SkopeoInteropTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (!HaveProgram("skopeo")) GTEST_SKIP() << "skopeo not installed (run scripts/setup.sh)";
    Demo();
  }

  // sha256 of the manifest bytes skopeo reads at `location`.
  std::string SkopeoManifestDigest(const std::string& location) {
    return SkopeoInspectDigest({"--raw", location});
  }
  std::string SkopeoConfigDigest(const std::string& location) {
    return SkopeoInspectDigest({"--config", "--raw", location});
  }
  std::string PlugctlDigest(const std::string& location) {
    return PlugctlJson({"inspect", location})["digest"];
  }

  std::string Compat() { return DemoLayout() + ":hello-world:1.0.0"; }
  std::string DemoDockerArchive() {
    return "docker-archive:" + Path("demo/hello-world.docker.tar");
  }
  std::string Docker() { return DemoLayout() + ":hello-world:1.0.0-docker"; }
};

// skopeo's layout reader only looks at OCI-typed index entries, so the Docker
// schema2 image goes to it through the docker archive (tests below).
TEST_F(SkopeoInteropTest, SkopeoReadsPlugctlLayout) {
  EXPECT_EQ(SkopeoManifestDigest(Compat()), PlugctlDigest(Compat()));
}

TEST_F(SkopeoInteropTest, PlugctlReadsSkopeoLayoutWithSameDigest) {
  std::string skopeo_dst = "oci:" + Path("by-skopeo") + ":copied";
  RunResult r = Skopeo({"copy", Compat(), skopeo_dst});
  ASSERT_TRUE(r.ok()) << r.Summary();
  EXPECT_EQ(PlugctlDigest(skopeo_dst), PlugctlDigest(Compat()));
  // And plugctl copies skopeo's layout on, unchanged.
  nlohmann::json copied = PlugctlJson({"copy", skopeo_dst, "oci:" + Path("again") + ":x"});
  EXPECT_EQ(copied["digest"], PlugctlDigest(Compat()));
  EXPECT_EQ(SkopeoManifestDigest("oci:" + Path("again") + ":x"), PlugctlDigest(Compat()));
}

TEST_F(SkopeoInteropTest, OciArchiveBothWays) {
  std::string ours = "oci-archive:" + Path("ours.tar") + ":1.0.0";
  PlugctlJson({"copy", Compat(), ours});
  EXPECT_EQ(SkopeoManifestDigest(ours), PlugctlDigest(Compat()));

  std::string theirs = "oci-archive:" + Path("theirs.tar") + ":2.0.0";
  RunResult r = Skopeo({"copy", Compat(), theirs});
  ASSERT_TRUE(r.ok()) << r.Summary();
  EXPECT_EQ(PlugctlDigest(theirs), PlugctlDigest(Compat()));
}

TEST_F(SkopeoInteropTest, SkopeoReadsPlugctlDockerArchive) {
  std::string archive = "docker-archive:" + Path("ours-docker.tar") + ":plugctl/hello:1.0.0";
  nlohmann::json copied = PlugctlJson({"copy", Docker(), archive});
  nlohmann::json source = PlugctlJson({"inspect", Docker()});
  // The image config (and so the image ID docker shows) is identical.
  EXPECT_EQ(SkopeoConfigDigest("docker-archive:" + Path("ours-docker.tar")),
            source["config"]["digest"]);
  // skopeo can take it on to an OCI layout, layer bytes intact.
  RunResult r = Skopeo(
      {"copy", "docker-archive:" + Path("ours-docker.tar"), "oci:" + Path("from-docker") + ":x"});
  ASSERT_TRUE(r.ok()) << r.Summary();
  nlohmann::json reread = PlugctlJson({"inspect", "oci:" + Path("from-docker") + ":x"});
  EXPECT_EQ(reread["config"]["digest"], source["config"]["digest"]);
}

TEST_F(SkopeoInteropTest, PlugctlReadsSkopeoDockerArchive) {
  std::string theirs = "docker-archive:" + Path("theirs-docker.tar");
  RunResult r = Skopeo({"copy", DemoDockerArchive(), theirs + ":skopeo/hello:2.0.0"});
  ASSERT_TRUE(r.ok()) << r.Summary();
  nlohmann::json source = PlugctlJson({"inspect", Docker()});
  nlohmann::json read = PlugctlJson({"inspect", theirs});
  EXPECT_EQ(read["config"]["digest"], source["config"]["digest"]);
  ASSERT_EQ(read["layers"].size(), 1u);
  nlohmann::json tags = PlugctlJson({"tags", theirs});
  // skopeo stores the normalized name; plugctl reports the tag as stored.
  EXPECT_EQ(tags["tags"], nlohmann::json::array({"docker.io/skopeo/hello:2.0.0"}));
  // What plugctl makes of skopeo's archive is itself readable by skopeo.
  PlugctlJson({"copy", theirs, "docker-archive:" + Path("again.tar") + ":again/hello:3"});
  EXPECT_EQ(SkopeoConfigDigest("docker-archive:" + Path("again.tar")), source["config"]["digest"]);
}

}  // namespace
}  // namespace plugctl::testing
