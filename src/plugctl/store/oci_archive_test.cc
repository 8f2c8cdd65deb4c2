#include "plugctl/store/oci_archive.h"

#include "support/raw_tar.h"
#include <gtest/gtest.h>

#include "plugctl/archive/tar.h"
#include "plugctl/store/oci_layout.h"
#include "plugctl/store/store_test_util.h"

namespace plugctl::store {
namespace {

using archive::testing::RawTar;
using testing::FetchAll;
using testing::ListFiles;
using testing::MakeTestImage;
using testing::PushImage;
using testing::TestImage;

class OciArchiveTest : public testing::ScratchDirTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ScratchDirTest::SetUp());
    file_ = scratch_->path() / "bundle.tar";
  }

  // Writes `images` tagged with their names into `file`.
  void WriteArchive(const fs::path& file,
                    const std::vector<std::pair<TestImage, std::string>>& images) {
    auto out = OpenOciArchive(file, OpenMode::kWrite);
    ASSERT_TRUE(out) << out.error().message();
    for (const auto& [image, tag] : images) {
      ASSERT_TRUE(PushImage(**out, image));
      ASSERT_TRUE((*out)->Tag(image.desc(), tag));
    }
    ASSERT_TRUE((*out)->Commit());
  }

  std::vector<std::string> Members(const fs::path& file) {
    std::vector<std::string> names;
    auto tar = archive::TarReader::Open(file);
    EXPECT_TRUE(tar);
    for (;;) {
      auto entry = (*tar)->Next();
      EXPECT_TRUE(entry);
      if (!entry || !*entry) break;
      names.push_back((*entry)->path);
    }
    return names;
  }

  fs::path file_;
};

TEST_F(OciArchiveTest, WriteThenReadRoundTrip) {
  TestImage a = MakeTestImage("a");
  TestImage b = MakeTestImage("b");
  WriteArchive(file_, {{a, "reg.example.com/plugins/a:1.0"}, {b, "reg.example.com/plugins/b:2.0"}});

  std::vector<std::string> members = Members(file_);
  ASSERT_GE(members.size(), 4u);
  EXPECT_EQ(members[0], "oci-layout");
  EXPECT_EQ(members[1], "index.json");
  EXPECT_EQ(members[2], "blobs/");
  EXPECT_EQ(members[3], "blobs/sha256/");
  EXPECT_EQ(members.size(), 4u + 6u);
  EXPECT_TRUE(std::is_sorted(members.begin() + 4, members.end()));

  auto in = OpenOciArchive(file_, OpenMode::kRead);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ((*in)->Describe(), "oci-archive:" + file_.string());
  EXPECT_EQ(*(*in)->Tags(), (std::vector<std::string>{"reg.example.com/plugins/a:1.0",
                                                      "reg.example.com/plugins/b:2.0"}));
  auto resolved = (*in)->Resolve("reg.example.com/plugins/b:2.0");
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->digest, b.desc().digest);
  EXPECT_EQ(*FetchAll(**in, b.layers[0].desc), b.layers[0].bytes);
  EXPECT_EQ(*FetchAll(**in, a.config.desc), a.config.bytes);
  EXPECT_TRUE((*in)->Commit()) << "no-op on read targets";

  StringReader content(a.config.bytes);
  auto push = (*in)->Push(a.config.desc, content);
  ASSERT_FALSE(push);
  EXPECT_EQ(push.error().code(), ErrorCode::kFailedPrecondition);
  auto tag = (*in)->Tag(a.desc(), "x");
  ASSERT_FALSE(tag);
  EXPECT_EQ(tag.error().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(OciArchiveTest, OutputIsDeterministic) {
  TestImage a = MakeTestImage("det");
  fs::path second = scratch_->path() / "second.tar";
  WriteArchive(file_, {{a, "1.0"}});
  WriteArchive(second, {{a, "1.0"}});
  EXPECT_EQ(*ReadFileBounded(file_, 64 << 20), *ReadFileBounded(second, 64 << 20));
}

TEST_F(OciArchiveTest, CommitIsAtomicAndUpdatesInPlace) {
  TestImage a = MakeTestImage("first");
  TestImage b = MakeTestImage("second");
  WriteArchive(file_, {{a, "a"}});
  std::string before = *ReadFileBounded(file_, 64 << 20);
  {
    auto out = OpenOciArchive(file_, OpenMode::kWrite);
    ASSERT_TRUE(out);
    EXPECT_EQ((*out)->Resolve("a")->digest, a.desc().digest) << "update starts from the file";
    ASSERT_TRUE(PushImage(**out, b));
    ASSERT_TRUE((*out)->Tag(b.desc(), "b"));
    // Destroyed without Commit.
  }
  EXPECT_EQ(*ReadFileBounded(file_, 64 << 20), before);
  EXPECT_EQ(ListFiles(scratch_->path()), std::vector<std::string>{"bundle.tar"});

  {
    auto out = OpenOciArchive(file_, OpenMode::kWrite);
    ASSERT_TRUE(out);
    ASSERT_TRUE((*out)->Commit()) << "nothing changed: no rewrite";
    EXPECT_EQ(*ReadFileBounded(file_, 64 << 20), before);
    ASSERT_TRUE(PushImage(**out, b));
    ASSERT_TRUE((*out)->Tag(b.desc(), "b"));
    ASSERT_TRUE((*out)->Commit());
    ASSERT_TRUE((*out)->Commit()) << "idempotent";
  }
  auto in = OpenOciArchive(file_, OpenMode::kRead);
  ASSERT_TRUE(in);
  EXPECT_EQ(*(*in)->Tags(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ListFiles(scratch_->path()), std::vector<std::string>{"bundle.tar"});
}

TEST_F(OciArchiveTest, EmptyWriteCommitsAnEmptyLayout) {
  auto out = OpenOciArchive(file_, OpenMode::kWrite);
  ASSERT_TRUE(out);
  ASSERT_TRUE((*out)->Commit());
  auto in = OpenOciArchive(file_, OpenMode::kRead);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_TRUE((*in)->Tags()->empty());
  EXPECT_EQ((*in)->Resolve("").error().code(), ErrorCode::kNotFound);
}

TEST_F(OciArchiveTest, OpenErrors) {
  auto missing = OpenOciArchive(file_, OpenMode::kRead);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  auto no_dir = OpenOciArchive(scratch_->path() / "nope" / "x.tar", OpenMode::kWrite);
  ASSERT_FALSE(no_dir);
  EXPECT_EQ(no_dir.error().code(), ErrorCode::kNotFound);

  ASSERT_TRUE(WriteFileAtomic(file_, RawTar({{.name = "manifest.json", .data = "[]"}})));
  std::string before = *ReadFileBounded(file_, 1 << 20);
  auto not_oci = OpenOciArchive(file_, OpenMode::kRead);
  ASSERT_FALSE(not_oci);
  EXPECT_EQ(not_oci.error().code(), ErrorCode::kNotFound);
  auto overwrite = OpenOciArchive(file_, OpenMode::kWrite);
  ASSERT_FALSE(overwrite);
  EXPECT_EQ(overwrite.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(*ReadFileBounded(file_, 1 << 20), before);

  ASSERT_TRUE(WriteFileAtomic(file_, "this is not a tar at all, not even close......"));
  auto garbage = OpenOciArchive(file_, OpenMode::kRead);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(garbage.error().message().find("oci-archive:"), std::string::npos);
}

TEST_F(OciArchiveTest, HostileMembersExtractNothing) {
  const std::string layout = R"({"imageLayoutVersion":"1.0.0"})";
  const std::vector<archive::testing::RawTarEntry> evil[] = {
      {{.name = "oci-layout", .data = layout}, {.name = "../evil", .data = "x"}},
      {{.name = "oci-layout", .data = layout}, {.name = "/tmp/plugctl-abs-evil", .data = "x"}},
      {{.name = "oci-layout", .data = layout}, {.name = "blobs", .type = '2', .link = "/etc"}},
      {{.name = "oci-layout", .data = layout},
       {.name = "index.json", .type = '1', .link = "/etc/passwd"}},
  };
  for (const auto& entries : evil) {
    ASSERT_TRUE(WriteFileAtomic(file_, RawTar(entries)));
    auto got = OpenOciArchive(file_, OpenMode::kRead);
    ASSERT_FALSE(got) << entries.back().name;
    EXPECT_EQ(got.error().code(), ErrorCode::kInvalidArgument) << got.error().message();
    EXPECT_EQ(ListFiles(scratch_->path()), std::vector<std::string>{"bundle.tar"});
  }
  EXPECT_FALSE(fs::exists("/tmp/plugctl-abs-evil"));
}

// A layout tar holding `image` tagged "v1", plus `extra` members; `layer_suffix` is appended
// to the layer blob's bytes (a member larger than its descriptor).
std::string LayoutTar(const TestImage& image, std::vector<archive::testing::RawTarEntry> extra,
                      const std::string& layer_suffix = "") {
  std::string index = R"({"schemaVersion":2,"manifests":[{"mediaType":")" +
                      image.manifest.desc.media_type + R"(","digest":")" +
                      image.manifest.desc.digest.ToString() + R"(","size":)" +
                      std::to_string(image.manifest.desc.size) +
                      R"(,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]})";
  auto blob = [](const testing::TestBlob& b, const std::string& suffix = "") {
    return archive::testing::RawTarEntry{.name = "blobs/sha256/" + b.desc.digest.hex(),
                                         .data = b.bytes + suffix};
  };
  std::vector<archive::testing::RawTarEntry> entries = std::move(extra);
  entries.push_back({.name = "oci-layout", .data = R"({"imageLayoutVersion":"1.0.0"})"});
  entries.push_back({.name = "index.json", .data = index});
  entries.push_back(blob(image.manifest));
  entries.push_back(blob(image.config));
  entries.push_back(blob(image.layers[0], layer_suffix));
  return RawTar(entries);
}

TEST_F(OciArchiveTest, ReadingWritesOnlyReferencedMembers) {
  TestImage image = MakeTestImage("referenced");
  ASSERT_TRUE(WriteFileAtomic(
      file_, LayoutTar(image, {{.name = "junk/big", .data = std::string(2 << 20, '\0')},
                               {.name = "blobs/sha256/" + std::string(64, 'e'),
                                .data = "unreferenced blob"}})));
  fs::path tmp = scratch_->path() / "tmp";
  ASSERT_TRUE(CreateDirectories(tmp));
  const fs::path old_root = TempRoot();
  SetTempRoot(tmp);
  auto in = OpenOciArchive(file_, OpenMode::kRead);
  SetTempRoot(old_root);
  ASSERT_TRUE(in) << in.error().message();
  std::vector<std::string> staged;
  for (const auto& e : fs::recursive_directory_iterator(tmp)) {
    if (e.is_regular_file()) staged.push_back(e.path().filename().string());
  }
  std::sort(staged.begin(), staged.end());
  std::vector<std::string> expected = {
      image.config.desc.digest.hex(), image.layers[0].desc.digest.hex(),
      image.manifest.desc.digest.hex(), "index.json", "oci-layout"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(staged, expected);
  EXPECT_EQ(*FetchAll(**in, image.layers[0].desc), image.layers[0].bytes);
}

TEST_F(OciArchiveTest, MemberLargerThanItsDescriptorIsRefused) {
  TestImage image = MakeTestImage("oversize");
  ASSERT_TRUE(WriteFileAtomic(file_, LayoutTar(image, {}, "!")));
  auto in = OpenOciArchive(file_, OpenMode::kRead);
  ASSERT_FALSE(in);
  EXPECT_EQ(in.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(in.error().message().find(image.layers[0].desc.digest.hex()), std::string::npos)
      << in.error().message();
  EXPECT_NE(in.error().message().find("its descriptor declares"), std::string::npos);
}

TEST_F(OciArchiveTest, IndexNamingMissingBlob) {
  TestImage a = MakeTestImage("dangling");
  oci::Descriptor entry = a.desc();
  entry.annotations["org.opencontainers.image.ref.name"] = "1.0";
  ASSERT_TRUE(WriteFileAtomic(
      file_, RawTar({{.name = "oci-layout", .data = R"({"imageLayoutVersion":"1.0.0"})"},
                     {.name = "index.json",
                      .data = oci::BuildIndex(oci::IndexSpec{.manifests = {entry}})}})));
  auto in = OpenOciArchive(file_, OpenMode::kRead);
  ASSERT_TRUE(in) << in.error().message();
  auto got = (*in)->Resolve("1.0");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(got.error().message().find("oci-archive:" + file_.string() + ": index.json"),
            std::string::npos)
      << got.error().message();
}

TEST_F(OciArchiveTest, ReadsGzipArchives) {
  TestImage a = MakeTestImage("gz");
  WriteArchive(file_, {{a, "1.0"}});
  // Repack the same members with gzip.
  fs::path gz = scratch_->path() / "bundle.tar.gz";
  {
    auto in = archive::TarReader::Open(file_);
    ASSERT_TRUE(in);
    auto out = AtomicFileWriter::Create(gz);
    ASSERT_TRUE(out);
    auto tar = archive::TarWriter::Create(**out, {.compression = archive::Compression::kGzip});
    ASSERT_TRUE(tar);
    for (;;) {
      auto entry = (*in)->Next();
      ASSERT_TRUE(entry);
      if (!*entry) break;
      if ((*entry)->type == archive::EntryType::kDirectory) {
        ASSERT_TRUE((*tar)->AddDirectory((*entry)->path));
      } else {
        ASSERT_TRUE((*tar)->AddFile((*entry)->path, (*entry)->size, (*in)->data()));
      }
    }
    ASSERT_TRUE((*tar)->Finish());
    ASSERT_TRUE((*out)->Commit());
  }
  auto in = OpenOciArchive(gz, OpenMode::kRead);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ((*in)->Resolve("")->digest, a.desc().digest);
}

TEST_F(OciArchiveTest, SkopeoInterop) {
  if (!testing::HaveSkopeo()) GTEST_SKIP() << "skopeo not installed";
  TestImage a = MakeTestImage("skopeo-oci-archive");
  WriteArchive(file_, {{a, "1.0"}});
  // skopeo reads ours...
  fs::path copy = scratch_->path() / "copy";
  ASSERT_EQ(testing::RunSkopeo(scratch_->path(), "copy -q oci-archive:" + file_.string() +
                                                     ":1.0 oci:" + copy.string() + ":1.0"),
            0);
  auto layout = OciLayoutTarget::Open(copy);
  ASSERT_TRUE(layout);
  EXPECT_EQ((*layout)->Resolve("1.0")->digest, a.desc().digest);
  // ...and we read skopeo's.
  fs::path theirs = scratch_->path() / "theirs.tar";
  ASSERT_EQ(
      testing::RunSkopeo(scratch_->path(), "copy -q oci:" + copy.string() +
                                               ":1.0 oci-archive:" + theirs.string() + ":2.0"),
      0);
  auto in = OpenOciArchive(theirs, OpenMode::kRead);
  ASSERT_TRUE(in) << in.error().message();
  EXPECT_EQ((*in)->Resolve("2.0")->digest, a.desc().digest);
  EXPECT_EQ(*FetchAll(**in, a.layers[0].desc), a.layers[0].bytes);
}

}  // namespace
}  // namespace plugctl::store
