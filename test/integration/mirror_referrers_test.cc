// `plugctl mirror` carries referrers (signatures, SBOMs, attached artifacts) with each image:
// attached at a docker-registry (tag schema), mirrored to a second registry, where `plugctl
// referrers` lists the same digests; a second run copies none again; and through an oci-archive
// bundle into a third registry.
#include <fstream>

#include "fixture.h"
#include "registry_fixture.h"

namespace plugctl::testing {
namespace {

namespace fs = std::filesystem;

class MirrorReferrersTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    RegistryConfig config;
    config.kind = RegistryKind::kDockerRegistry;
    source_ = StartRegistryOrSkip(dir_ / "source", config);
    if (!source_) return;
    dest_ = StartRegistryOrSkip(dir_ / "dest");
    if (!dest_) return;
    PlugctlJson({"demo", "--dir", Path("demo")});
    image_ = source_->Ref("plugins/hello-world:1.0.0");
    PlugctlJson({"copy", DemoLayout() + ":hello-world:1.0.0", image_});
    fs::create_directories(dir_ / "work");
    WriteFile(dir_ / "work/sig.txt", "signature");
    signature_ = PlugctlJson({"attach", image_, Path("work/sig.txt"), "--artifact-type",
                              "application/vnd.example.signature"})["digest"];
    // A referrer of the signature (say, its timestamp): one level below.
    WriteFile(dir_ / "work/stamp.txt", "timestamp");
    stamp_ = PlugctlJson({"attach", source_->Ref("plugins/hello-world@") + signature_,
                          Path("work/stamp.txt"), "--artifact-type",
                          "application/vnd.example.timestamp"})["digest"];
  }

  // The digests `plugctl referrers REF` lists.
  std::vector<std::string> Referrers(const std::string& ref) {
    std::vector<std::string> out;
    const nlohmann::json listed = PlugctlJson({"referrers", ref});
    for (const auto& r : listed["referrers"]) out.push_back(r["digest"]);
    return out;
  }

  std::unique_ptr<RegistryServer> source_;
  std::unique_ptr<RegistryServer> dest_;
  std::string image_;
  std::string signature_;
  std::string stamp_;
};

TEST_F(MirrorReferrersTest, RegistryToRegistryCarriesReferrersOnceWhenAskedFor) {
  // Registry to registry, referrers are opt-in.
  nlohmann::json plain = PlugctlJson({"mirror", image_, "--to", dest_->Ref("plugins")});
  EXPECT_EQ(plain["referrersCopied"], 0) << plain.dump(2);
  const std::string mirrored = dest_->Ref("plugins/hello-world:1.0.0");
  EXPECT_TRUE(Referrers(mirrored).empty());

  // The image is up to date; its referrers still travel.
  nlohmann::json first =
      PlugctlJson({"mirror", "--with-referrers", image_, "--to", dest_->Ref("plugins")});
  EXPECT_EQ(first["referrersCopied"], 2) << first.dump(2);
  EXPECT_EQ(first["images"][0]["state"], "up-to-date");
  EXPECT_EQ(Referrers(mirrored), std::vector<std::string>{signature_});
  EXPECT_EQ(Referrers(dest_->Ref("plugins/hello-world@") + signature_),
            std::vector<std::string>{stamp_});

  nlohmann::json second =
      PlugctlJson({"mirror", "--with-referrers", image_, "--to", dest_->Ref("plugins")});
  EXPECT_EQ(second["referrersCopied"], 0) << second.dump(2);
  EXPECT_EQ(second["images"][0]["referrersPresent"], 2);

  RunResult text = Plugctl(
      {"mirror", "--with-referrers", "--no-referrers", image_, "--to", dest_->Ref("plugins")});
  EXPECT_FALSE(text.ok());
}

// Through the air gap: into an oci-archive bundle (referrers on by default; kept as untagged
// index.json entries), then from the bundle into a third registry, where `plugctl referrers`
// lists the same digests.
TEST_F(MirrorReferrersTest, BundleCarriesReferrersIntoAThirdRegistry) {
  const std::string bundle = "oci-archive:" + Path("bundle.tar");
  nlohmann::json out = PlugctlJson({"mirror", image_, "--to", bundle});
  EXPECT_EQ(out["referrersCopied"], 2) << out.dump(2);
  EXPECT_EQ(Referrers(bundle + ":" + image_), std::vector<std::string>{signature_});
  // The bundle still loads: only its tagged entries are images to mirror.
  auto third = StartRegistryOrSkip(dir_ / "third");
  if (!third) return;
  nlohmann::json loaded = PlugctlJson({"mirror", bundle, "--to", third->Ref("plugins")});
  ASSERT_EQ(loaded["images"].size(), 1u) << loaded.dump(2);
  EXPECT_EQ(loaded["referrersCopied"], 2) << loaded.dump(2);
  EXPECT_EQ(Referrers(third->Ref("plugins/hello-world:1.0.0")),
            std::vector<std::string>{signature_});
  EXPECT_EQ(Referrers(third->Ref("plugins/hello-world@") + signature_),
            std::vector<std::string>{stamp_});
  nlohmann::json again = PlugctlJson({"mirror", bundle, "--to", third->Ref("plugins")});
  EXPECT_EQ(again["referrersCopied"], 0) << again.dump(2);

  // A docker archive cannot hold them: a note, and the image still goes.
  nlohmann::json docker = PlugctlJson(
      {"mirror", "--variant", "docker", image_, "--to", "docker-archive:" + Path("d.tar")});
  EXPECT_EQ(docker["copied"], 1) << docker.dump(2);
  EXPECT_TRUE(docker.contains("referrersNote")) << docker.dump(2);
}

}  // namespace
}  // namespace plugctl::testing
