#include "plugctl/transfer/location.h"

#include <gtest/gtest.h>

namespace plugctl::transfer {
namespace {

struct LocationCase {
  const char* text;
  LocationKind kind;
  const char* path;
  const char* resolve_ref;
};

TEST(ParseLocationTest, ValidForms) {
  const LocationCase cases[] = {
      {"oci:/tmp/layout", LocationKind::kOciLayout, "/tmp/layout", ""},
      {"oci:layout:1.0.0", LocationKind::kOciLayout, "layout", "1.0.0"},
      {"oci:bundle:reg.local:5000/plugins/x:1.0", LocationKind::kOciLayout, "bundle",
       "reg.local:5000/plugins/x:1.0"},
      {"oci:dir:@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       LocationKind::kOciLayout, "dir",
       "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"oci-archive:/x/y.tar", LocationKind::kOciArchive, "/x/y.tar", ""},
      {"oci-archive:y.tar:v2", LocationKind::kOciArchive, "y.tar", "v2"},
      {"docker-archive:out.tar:plugins/basic-auth:1.0.0", LocationKind::kDockerArchive, "out.tar",
       "plugins/basic-auth:1.0.0"},
  };
  for (const auto& c : cases) {
    auto loc = ParseLocation(c.text);
    ASSERT_TRUE(loc.has_value()) << c.text << ": " << loc.error().message();
    EXPECT_EQ(loc->kind, c.kind) << c.text;
    EXPECT_EQ(loc->path.string(), c.path) << c.text;
    EXPECT_EQ(loc->ResolveRef(), c.resolve_ref) << c.text;
    EXPECT_EQ(loc->ToString(), c.text);
  }
}

TEST(ParseLocationTest, RegistryForms) {
  auto loc = ParseLocation("oci://reg.local:5000/plugins/basic-auth:1.0.0");
  ASSERT_TRUE(loc.has_value()) << loc.error().message();
  EXPECT_EQ(loc->kind, LocationKind::kRegistry);
  EXPECT_EQ(loc->reference.registry, "reg.local:5000");
  EXPECT_EQ(loc->ResolveRef(), "1.0.0");

  auto oci_host = ParseLocation("oci://127.0.0.1:5000/plugins/x");
  ASSERT_TRUE(oci_host.has_value()) << oci_host.error().message();
  EXPECT_EQ(oci_host->kind, LocationKind::kRegistry);
  EXPECT_EQ(oci_host->reference.registry, "127.0.0.1:5000");

  auto docker = ParseLocation(
      "docker://localhost:5000/a/b@sha256:"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  ASSERT_TRUE(docker.has_value()) << docker.error().message();
  EXPECT_EQ(docker->kind, LocationKind::kRegistry);
  EXPECT_TRUE(docker->ResolveRef().starts_with("sha256:"));
}

TEST(IsLocalTransportTest, LocalTransportsButNotRegistrySchemes) {
  for (const char* text : {"oci:dir", "oci:", "oci-archive:f.tar:x", "docker-archive:f.tar"}) {
    EXPECT_TRUE(IsLocalTransport(text)) << text;
  }
  for (const char* text : {"oci://reg.local/x:1", "docker://reg.local/x", "reg.local:5000/x:1",
                           "oci", "ocidir", "docker:x", "archive:x", "", "./oci:x"}) {
    EXPECT_FALSE(IsLocalTransport(text)) << text;
  }
}

TEST(ParseLocationTest, InvalidForms) {
  const char* cases[] = {
      "",
      "oci:",
      "oci::tag",
      "oci:dir:",
      "oci:dir:@sha256:abc",
      "oci-archive:",
      "docker-archive:x.tar:bad tag",
      "Upper/Case:1",
  };
  for (const char* text : cases) {
    auto loc = ParseLocation(text);
    EXPECT_FALSE(loc.has_value()) << "accepted: " << text;
    if (!loc) {
      EXPECT_EQ(loc.error().code(), ErrorCode::kInvalidArgument) << text;
    }
  }
}

}  // namespace
}  // namespace plugctl::transfer
