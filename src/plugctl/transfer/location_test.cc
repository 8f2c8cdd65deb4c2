#include "plugctl/transfer/location.h"

#include <gtest/gtest.h>

#include "plugctl/archive/tar.h"
#include "plugctl/base/file.h"

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

// A tar holding the given members (empty files), as docker save and skopeo write them.
void WriteTar(const std::filesystem::path& path, std::initializer_list<std::string_view> members) {
  auto out = AtomicFileWriter::Create(path);
  ASSERT_TRUE(out.has_value());
  auto tar = archive::TarWriter::Create(**out);
  ASSERT_TRUE(tar.has_value());
  for (std::string_view m : members) ASSERT_TRUE((*tar)->AddFile(m, "{}").has_value());
  ASSERT_TRUE((*tar)->Finish().has_value());
  ASSERT_TRUE((*out)->Commit().has_value());
}

class LocalPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("location-test");
    ASSERT_TRUE(dir.has_value());
    dir_ = std::move(*dir);
  }
  std::string P(std::string_view name) const { return (dir_->path() / name).string(); }
  std::unique_ptr<TempDir> dir_;
};

TEST_F(LocalPathTest, ExistingPathsAreReadByContent) {
  std::filesystem::create_directories(P("layout"));
  ASSERT_TRUE(WriteFileAtomic(P("layout/oci-layout"), "{}").has_value());
  WriteTar(P("oci.tar"), {"oci-layout", "index.json", "blobs/sha256/x"});
  WriteTar(P("docker.bin"), {"abc/layer.tar", "manifest.json", "repositories"});

  auto layout = ParseLocation(P("layout"));
  ASSERT_TRUE(layout.has_value()) << layout.error().message();
  EXPECT_EQ(layout->kind, LocationKind::kOciLayout);
  auto oci = ParseLocation(P("oci.tar"));
  ASSERT_TRUE(oci.has_value()) << oci.error().message();
  EXPECT_EQ(oci->kind, LocationKind::kOciArchive);
  EXPECT_EQ(oci->ref, "");
  // The name says nothing: content decides.
  auto docker = ParseLocation(P("docker.bin"));
  ASSERT_TRUE(docker.has_value()) << docker.error().message();
  EXPECT_EQ(docker->kind, LocationKind::kDockerArchive);
}

TEST_F(LocalPathTest, ExistingPathsThatAreNotImagesAreRefusedWithAHint) {
  std::filesystem::create_directories(P("plugin"));
  ASSERT_TRUE(WriteFileAtomic(P("plugin/spec.yaml"), "apiVersion: 1.0.0\n").has_value());
  std::filesystem::create_directories(P("empty"));
  ASSERT_TRUE(WriteFileAtomic(P("plugins.properties"), "a=oci://x/y:1\n").has_value());
  WriteTar(P("other.tar"), {"hello.txt"});

  struct Case {
    std::string text;
    std::string_view needle;
  };
  for (const Case& c : {Case{P("plugin"), "plugctl build"}, Case{P("empty"), "oci:"},
                        Case{P("plugins.properties"), "plugctl mirror"},
                        Case{P("other.tar"), "neither an OCI archive nor a docker archive"}}) {
    auto loc = ParseLocation(c.text);
    ASSERT_FALSE(loc.has_value()) << c.text;
    EXPECT_EQ(loc.error().code(), ErrorCode::kInvalidArgument) << c.text;
    EXPECT_NE(loc.error().message().find(c.needle), std::string::npos) << loc.error().message();
    EXPECT_NE(loc.error().message().find(c.text), std::string::npos) << loc.error().message();
  }
  // docker:// is the way to mean a registry even when a path of that name exists.
  auto registry = ParseLocation("docker://" + std::string("reg.local/empty"));
  ASSERT_TRUE(registry.has_value());
  EXPECT_EQ(registry->kind, LocationKind::kRegistry);
}

TEST(ParseLocationTest, MissingPathsAreNotFoundNotDockerHub) {
  for (const char* text : {"plugins.tar", "./layout", "/nonexistent/dir", "../x",
                           "plugin.properties", "bundle.tar.gz", "list.txt", "~/x"}) {
    auto loc = ParseLocation(text);
    ASSERT_FALSE(loc.has_value()) << text << " parsed as " << loc->ToString();
    EXPECT_EQ(loc.error().code(), ErrorCode::kNotFound) << text;
    EXPECT_NE(loc.error().message().find("no such file or directory"), std::string::npos)
        << loc.error().message();
  }
}

TEST(ParseLocationTest, MissingSourcesGetNoHintAboutCreatingThem) {
  // Only a destination can be created; a missing source is just missing.
  auto source = ParseLocation("missing.properties", LocationUse::kSource);
  ASSERT_FALSE(source.has_value());
  EXPECT_EQ(source.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(source.error().message(), "missing.properties: no such file or directory");
  auto either = ParseLocation("missing.tar");
  ASSERT_FALSE(either.has_value());
  EXPECT_NE(either.error().message().find("oci-archive:missing.tar"), std::string::npos)
      << either.error().message();
}

TEST(ParseLocationTest, ForeignTransportsAreUsageErrors) {
  for (const char* text : {"dir:/x", "containers-storage:x", "docker-daemon:x:latest",
                           "http://reg/x", "https://reg/x", "file:///x"}) {
    auto loc = ParseLocation(text);
    ASSERT_FALSE(loc.has_value()) << text << " parsed as " << loc->ToString();
    EXPECT_EQ(loc.error().code(), ErrorCode::kInvalidArgument) << text;
    EXPECT_NE(loc.error().message().find("unknown transport"), std::string::npos)
        << loc.error().message();
  }
  // Registry names that only look similar stay registry references.
  for (const char* text : {"dir.example.com/x:1", "localhost:5000/dir:1", "reg/http:2"}) {
    auto loc = ParseLocation(text);
    ASSERT_TRUE(loc.has_value()) << text << ": " << loc.error().message();
    EXPECT_EQ(loc->kind, LocationKind::kRegistry) << text;
  }
}

}  // namespace
}  // namespace plugctl::transfer
