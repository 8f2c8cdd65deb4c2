#include "plugctl/store/oci_layout.h"

#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "plugctl/store/store_test_util.h"

namespace plugctl::store {
namespace {

using testing::Blob;
using testing::FetchAll;
using testing::ListFiles;
using testing::MakeTestImage;
using testing::PushBlob;
using testing::PushImage;
using testing::TestBlob;
using testing::TestImage;

class OciLayoutTest : public testing::ScratchDirTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(ScratchDirTest::SetUp());
    dir_ = scratch_->path() / "layout";
    auto layout = OciLayoutTarget::Open(dir_, {.create = true});
    ASSERT_TRUE(layout) << layout.error().message();
    layout_ = std::move(*layout);
  }

  fs::path BlobPath(const oci::Descriptor& d) {
    return dir_ / "blobs" / std::string(d.digest.algorithm_name()) / d.digest.hex();
  }

  fs::path dir_;
  std::unique_ptr<OciLayoutTarget> layout_;
};

TEST_F(OciLayoutTest, CreateWritesSpecFiles) {
  EXPECT_EQ(*ReadFileBounded(dir_ / "oci-layout", 1000), R"({"imageLayoutVersion":"1.0.0"})");
  auto index = nlohmann::json::parse(*ReadFileBounded(dir_ / "index.json", 1000));
  EXPECT_EQ(index["schemaVersion"], 2);
  EXPECT_EQ(index["mediaType"], "application/vnd.oci.image.index.v1+json");
  EXPECT_TRUE(index["manifests"].empty());
  EXPECT_TRUE(fs::is_directory(dir_ / "blobs"));
  EXPECT_EQ(layout_->Describe(), "oci:" + dir_.string());
  auto tags = layout_->Tags();
  ASSERT_TRUE(tags);
  EXPECT_TRUE(tags->empty());
  // Creating again is a plain open.
  EXPECT_TRUE(OciLayoutTarget::Open(dir_, {.create = true}));
}

TEST_F(OciLayoutTest, OpenRequiresLayout) {
  auto missing = OciLayoutTarget::Open(scratch_->path() / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);

  fs::path busy = scratch_->path() / "busy";
  ASSERT_TRUE(CreateDirectories(busy));
  ASSERT_TRUE(WriteFileAtomic(busy / "precious.txt", "x"));
  auto refused = OciLayoutTarget::Open(busy, {.create = true});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(fs::exists(busy / "oci-layout"));

  fs::path bad = scratch_->path() / "bad";
  ASSERT_TRUE(CreateDirectories(bad));
  ASSERT_TRUE(WriteFileAtomic(bad / "oci-layout", R"({"imageLayoutVersion":"2.0.0"})"));
  auto unsupported = OciLayoutTarget::Open(bad);
  ASSERT_FALSE(unsupported);
  EXPECT_EQ(unsupported.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(unsupported.error().message().find("oci-layout"), std::string::npos);
}

TEST_F(OciLayoutTest, PushFetchResolveTagRoundTrip) {
  TestImage image = MakeTestImage("round-trip");
  ASSERT_TRUE(PushImage(*layout_, image));
  for (const TestBlob* blob : {&image.config, &image.layers[0], &image.manifest}) {
    EXPECT_TRUE(*layout_->Exists(blob->desc));
    EXPECT_EQ(*FetchAll(*layout_, blob->desc), blob->bytes);
    EXPECT_EQ(*ReadFileBounded(BlobPath(blob->desc), 1 << 20), blob->bytes);
  }
  EXPECT_FALSE(*layout_->Exists(Blob("x", "absent").desc));
  auto absent = layout_->Fetch(Blob("x", "absent").desc);
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code(), ErrorCode::kNotFound);

  auto untagged = layout_->Resolve("");
  ASSERT_FALSE(untagged);
  EXPECT_EQ(untagged.error().code(), ErrorCode::kNotFound);

  ASSERT_TRUE(layout_->Tag(image.desc(), "1.0.0"));
  for (std::string ref : {std::string("1.0.0"), std::string(""), image.desc().digest.ToString()}) {
    auto got = layout_->Resolve(ref);
    ASSERT_TRUE(got) << ref << ": " << got.error().message();
    EXPECT_EQ(got->digest, image.desc().digest) << ref;
    EXPECT_EQ(got->media_type, image.desc().media_type);
    EXPECT_EQ(got->size, image.desc().size);
  }
  EXPECT_EQ(*layout_->Tags(), std::vector<std::string>{"1.0.0"});
  auto missing = layout_->Resolve("2.0");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("1.0.0"), std::string::npos) << "lists known tags";

  // Reopening sees the same state; Commit is a harmless no-op.
  EXPECT_TRUE(layout_->Commit());
  auto reopened = OciLayoutTarget::Open(dir_);
  ASSERT_TRUE(reopened);
  EXPECT_EQ((*reopened)->Resolve("1.0.0")->digest, image.desc().digest);
}

TEST_F(OciLayoutTest, TagsAnyStringAndRetagReplaces) {
  TestImage a = MakeTestImage("a");
  TestImage b = MakeTestImage("b");
  ASSERT_TRUE(PushImage(*layout_, a));
  ASSERT_TRUE(PushImage(*layout_, b));
  ASSERT_TRUE(layout_->Tag(a.desc(), "reg.example.com/plugins/a:1.0"));
  ASSERT_TRUE(layout_->Tag(a.desc(), "latest"));
  ASSERT_TRUE(layout_->Tag(b.desc(), "reg.example.com/plugins/b:1.0"));
  EXPECT_EQ(*layout_->Tags(), (std::vector<std::string>{"latest", "reg.example.com/plugins/a:1.0",
                                                        "reg.example.com/plugins/b:1.0"}));
  auto ambiguous = layout_->Resolve("");
  ASSERT_FALSE(ambiguous);
  EXPECT_EQ(ambiguous.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(ambiguous.error().message().find("reg.example.com/plugins/b:1.0"), std::string::npos);

  ASSERT_TRUE(layout_->Tag(b.desc(), "latest"));
  EXPECT_EQ(layout_->Resolve("latest")->digest, b.desc().digest);
  auto entries = layout_->Entries();
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 3u) << "retag replaces, not appends";
  EXPECT_EQ((*entries)[1].digest, b.desc().digest) << "replaced in place";
  EXPECT_EQ((*entries)[1].annotations.at("org.opencontainers.image.ref.name"), "latest");

  for (std::string bad : {std::string(""), std::string("a\nb"), std::string(5000, 't')}) {
    auto st = layout_->Tag(a.desc(), bad);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  }
}

TEST_F(OciLayoutTest, TagRequiresStoredManifest) {
  TestImage image = MakeTestImage("tag-checks");
  auto st = layout_->Tag(image.desc(), "x");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(PushImage(*layout_, image));
  st = layout_->Tag(image.layers[0].desc, "x");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(OciLayoutTest, EditEntriesRemovesReplacesAndAddsUnnamed) {
  TestImage a = MakeTestImage("edit-a");
  TestImage b = MakeTestImage("edit-b");
  ASSERT_TRUE(PushImage(*layout_, a));
  ASSERT_TRUE(PushImage(*layout_, b));
  ASSERT_TRUE(layout_->Tag(a.desc(), "one"));
  ASSERT_TRUE(layout_->Tag(a.desc(), "two"));
  ASSERT_TRUE(layout_->Tag(a.desc(), "three"));
  // Unknown fields of untouched entries survive an edit.
  {
    auto raw = ReadFileBounded(dir_ / "index.json", 1 << 20);
    ASSERT_TRUE(raw);
    auto doc = nlohmann::ordered_json::parse(*raw);
    doc["manifests"][2]["x-extra"] = 7;
    ASSERT_TRUE(WriteFileAtomic(dir_ / "index.json", doc.dump()));
  }
  // "two" goes; an unnamed entry for b takes its place.
  oci::Descriptor unnamed = b.desc();
  unnamed.annotations["dev.example.note"] = "x";
  auto st = layout_->EditEntries(
      [&](const std::vector<oci::Descriptor>& entries) -> Result<OciLayoutTarget::EntryEdit> {
        EXPECT_EQ(entries.size(), 3u);
        return OciLayoutTarget::EntryEdit{.remove = {1}, .add = {unnamed}};
      });
  ASSERT_TRUE(st) << st.error().message();
  auto entries = layout_->Entries();
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[1].digest, b.desc().digest);
  EXPECT_EQ((*entries)[1].annotations.count("org.opencontainers.image.ref.name"), 0u);
  EXPECT_EQ((*entries)[1].annotations.at("dev.example.note"), "x");
  EXPECT_EQ(*layout_->Tags(), (std::vector<std::string>{"one", "three"}));
  auto doc = nlohmann::json::parse(*ReadFileBounded(dir_ / "index.json", 1 << 20));
  EXPECT_EQ(doc["manifests"][2]["x-extra"], 7);

  // Errors abort the edit; added entries must be stored manifests; no-op edits write nothing.
  auto failed = layout_->EditEntries(
      [](const std::vector<oci::Descriptor>&) -> Result<OciLayoutTarget::EntryEdit> {
        return MakeError(ErrorCode::kAlreadyExists, "no");
      });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::kAlreadyExists);
  TestImage missing = MakeTestImage("edit-missing");
  failed = layout_->EditEntries(
      [&](const std::vector<oci::Descriptor>&) -> Result<OciLayoutTarget::EntryEdit> {
        return OciLayoutTarget::EntryEdit{.remove = {0}, .add = {missing.desc()}};
      });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::kFailedPrecondition);
  failed = layout_->EditEntries(
      [&](const std::vector<oci::Descriptor>&) -> Result<OciLayoutTarget::EntryEdit> {
        return OciLayoutTarget::EntryEdit{.remove = {}, .add = {a.layers[0].desc}};
      });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(layout_->Entries()->size(), 3u);

  // Removing everything leaves a valid, empty index.
  ASSERT_TRUE(layout_->EditEntries(
      [](const std::vector<oci::Descriptor>& all) -> Result<OciLayoutTarget::EntryEdit> {
        OciLayoutTarget::EntryEdit edit;
        for (size_t i = 0; i < all.size(); ++i) edit.remove.push_back(i);
        return edit;
      }));
  EXPECT_TRUE(layout_->Entries()->empty());
  EXPECT_TRUE(layout_->Tags()->empty());
}

TEST_F(OciLayoutTest, ResolvesUnlistedManifestsByDigest) {
  TestImage image = MakeTestImage("child");
  ASSERT_TRUE(PushImage(*layout_, image));
  oci::IndexSpec index_spec;
  oci::Descriptor child = image.desc();
  child.platform = *oci::Platform::Parse("linux/amd64");
  index_spec.manifests = {child};
  TestBlob index = Blob(oci::kOciIndex, oci::BuildIndex(index_spec));
  ASSERT_TRUE(PushBlob(*layout_, index));
  ASSERT_TRUE(layout_->Tag(index.desc, "multi"));

  auto got = layout_->Resolve(image.desc().digest.ToString());
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->media_type, oci::kOciManifest);
  EXPECT_EQ(got->size, image.desc().size);
  EXPECT_EQ(layout_->Resolve("")->digest, index.desc.digest);

  auto layer = layout_->Resolve(image.layers[0].desc.digest.ToString());
  ASSERT_FALSE(layer);
  EXPECT_EQ(layer.error().code(), ErrorCode::kFailedPrecondition);

  auto absent = layout_->Resolve(oci::Digest::Of("nothing").ToString());
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code(), ErrorCode::kNotFound);
}

TEST_F(OciLayoutTest, RefusesOversizedManifestBlob) {
  std::string huge =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{"x":")" +
      std::string(oci::kMaxManifestBytes, 'a') + R"("}})";
  TestBlob blob = Blob(oci::kOciManifest, huge);
  ASSERT_TRUE(PushBlob(*layout_, blob));
  auto got = layout_->Resolve(blob.desc.digest.ToString());
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kResourceExhausted);
}

TEST_F(OciLayoutTest, BadPushesStoreNothing) {
  TestBlob good = Blob("application/octet-stream", std::string(300000, 'g'));
  auto check_nothing_stored = [&](const char* what) {
    std::vector<std::string> files = ListFiles(dir_ / "blobs");
    EXPECT_TRUE(files.empty() || files == std::vector<std::string>{"sha256"})
        << what << ": " << ::testing::PrintToString(files);
    EXPECT_FALSE(*layout_->Exists(good.desc)) << what;
  };

  StringReader truncated(good.bytes.substr(0, 1000));
  auto st = layout_->Push(good.desc, truncated);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  check_nothing_stored("truncated");

  std::string tampered = good.bytes;
  tampered[12345] = 'X';
  StringReader wrong(tampered);
  st = layout_->Push(good.desc, wrong);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  check_nothing_stored("wrong digest");

  StringReader longer(good.bytes + "more");
  st = layout_->Push(good.desc, longer);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  check_nothing_stored("too long");

  testing::FailingReader broken;
  st = layout_->Push(good.desc, broken);
  ASSERT_FALSE(st);
  check_nothing_stored("stream error");

  ASSERT_TRUE(PushBlob(*layout_, good));
  // Existing content: success without reading.
  EXPECT_TRUE(layout_->Push(good.desc, broken));
}

TEST_F(OciLayoutTest, IndexNamingMissingBlobIsDataLoss) {
  TestImage image = MakeTestImage("gone");
  ASSERT_TRUE(PushImage(*layout_, image));
  ASSERT_TRUE(layout_->Tag(image.desc(), "1.0"));
  ASSERT_TRUE(RemoveAll(BlobPath(image.desc())));
  auto got = layout_->Resolve("1.0");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(got.error().message().find("index.json"), std::string::npos) << got.error().message();
  auto fetched = layout_->Fetch(image.desc());
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(fetched.error().message().find("index.json"), std::string::npos);
}

// The referrer scan reads every entry's manifest: one whose blob was deleted is skipped, not an
// error that would hide the referrers of every other image (mirror scans bundles by default).
TEST_F(OciLayoutTest, ReferrersSkipEntriesWhoseManifestIsMissing) {
  TestImage subject = MakeTestImage("subject");
  TestImage gone = MakeTestImage("gone");
  ASSERT_TRUE(PushImage(*layout_, subject));
  ASSERT_TRUE(PushImage(*layout_, gone));
  TestBlob empty = Blob(oci::kOciEmpty, "{}");
  TestBlob layer = Blob("text/plain", "signature");
  oci::ImageManifestSpec spec;
  spec.artifact_type = "application/vnd.example.signature";
  spec.config = empty.desc;
  spec.layers = {layer.desc};
  spec.subject = subject.desc();
  TestBlob referrer = Blob(oci::kOciManifest, oci::BuildImageManifest(spec));
  for (const TestBlob* b : {&empty, &layer, &referrer}) ASSERT_TRUE(PushBlob(*layout_, *b));
  ASSERT_TRUE(layout_->Tag(subject.desc(), "a:1"));
  ASSERT_TRUE(layout_->Tag(gone.desc(), "gone:1"));
  ASSERT_TRUE(layout_->RecordReferrer(referrer.desc));
  ASSERT_TRUE(RemoveAll(BlobPath(gone.desc())));

  auto found = layout_->Referrers(subject.desc().digest, "");
  ASSERT_TRUE(found) << found.error().message();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].digest, referrer.desc.digest);
  EXPECT_EQ((*found)[0].artifact_type, "application/vnd.example.signature");
}

TEST_F(OciLayoutTest, HostileIndexJson) {
  TestImage image = MakeTestImage("hostile");
  ASSERT_TRUE(PushImage(*layout_, image));
  struct Case {
    std::string content;
    std::string expect;
  } cases[] = {
      {"{not json", "not valid JSON"},
      {"[]", "expected a JSON object"},
      {R"({"schemaVersion":1,"manifests":[]})", "schemaVersion"},
      {R"({"schemaVersion":"2","manifests":[]})", "schemaVersion"},
      {R"({"schemaVersion":2})", "manifests: missing"},
      {R"({"schemaVersion":2,"manifests":{}})", "manifests"},
      {R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]})",
       "mediaType"},
      {R"({"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:../../etc/passwd","size":1}]})",
       "manifests[0].digest"},
      {R"({"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:)" +
           std::string(64, 'a') + R"(","size":-1}]})",
       "manifests[0].size"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(WriteFileAtomic(dir_ / "index.json", c.content));
    auto got = layout_->Resolve("x");
    ASSERT_FALSE(got) << c.content;
    EXPECT_EQ(got.error().code(), ErrorCode::kInvalidArgument) << c.content;
    EXPECT_NE(got.error().message().find("index.json"), std::string::npos) << got.error().message();
    EXPECT_NE(got.error().message().find(c.expect), std::string::npos) << got.error().message();
    EXPECT_EQ(got.error().message().find('\n'), std::string::npos);
    EXPECT_FALSE(layout_->Tags());
    // Tag refuses to clobber a file it cannot understand.
    EXPECT_FALSE(layout_->Tag(image.desc(), "x"));
    EXPECT_EQ(*ReadFileBounded(dir_ / "index.json", 1 << 20), c.content);
  }
  ASSERT_TRUE(WriteFileAtomic(dir_ / "index.json", std::string(5 << 20, ' ')));
  auto big = layout_->Resolve("x");
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), ErrorCode::kResourceExhausted);
}

TEST_F(OciLayoutTest, ReadsDockerSaveStyleIndex) {
  TestImage image = MakeTestImage("docker-save", /*docker=*/false);
  ASSERT_TRUE(PushImage(*layout_, image));
  oci::IndexSpec inner_spec;
  oci::Descriptor child = image.desc();
  child.platform = *oci::Platform::Parse("linux/amd64");
  inner_spec.manifests = {child};
  TestBlob inner = Blob(oci::kOciIndex, oci::BuildIndex(inner_spec));
  ASSERT_TRUE(PushBlob(*layout_, inner));
  oci::Descriptor entry = inner.desc;
  entry.annotations = {{"io.containerd.image.name", "docker.io/library/basic-auth:1.0"},
                       {"org.opencontainers.image.ref.name", "1.0"}};
  ASSERT_TRUE(WriteFileAtomic(dir_ / "index.json", oci::BuildIndex(oci::IndexSpec{
                                                       .manifests = {entry}, .annotations = {}})));
  for (std::string ref : {"1.0", "basic-auth:1.0", "docker.io/library/basic-auth:1.0", ""}) {
    auto got = layout_->Resolve(ref);
    ASSERT_TRUE(got) << ref << ": " << got.error().message();
    EXPECT_EQ(got->digest, inner.desc.digest);
  }
  EXPECT_FALSE(layout_->Resolve("basic-auth:2.0"));
  EXPECT_EQ(*layout_->Tags(),
            (std::vector<std::string>{"1.0", "docker.io/library/basic-auth:1.0"}));
}

TEST_F(OciLayoutTest, ConcurrentPushesAndTags) {
  constexpr int kThreads = 8;
  constexpr int kImagesPerThread = 6;
  std::vector<TestImage> images;
  for (int i = 0; i < kThreads * kImagesPerThread; ++i) {
    images.push_back(MakeTestImage("img" + std::to_string(i)));
  }
  TestBlob shared = Blob("application/octet-stream", std::string(1 << 20, 's'));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread also pushes the same shared blob: racing writers of one digest.
      if (!PushBlob(*layout_, shared)) ++failures;
      for (int i = t * kImagesPerThread; i < (t + 1) * kImagesPerThread; ++i) {
        if (!PushImage(*layout_, images[i])) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  threads.clear();
  ASSERT_EQ(failures, 0);

  // Tags from several threads, each with its own target object (as separate commands would).
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto own = OciLayoutTarget::Open(dir_);
      if (!own) {
        ++failures;
        return;
      }
      for (size_t i = t; i < images.size(); i += 4) {
        if (!(*own)->Tag(images[i].desc(), "tag-" + std::to_string(i))) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures, 0);
  auto tags = layout_->Tags();
  ASSERT_TRUE(tags);
  EXPECT_EQ(tags->size(), images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    EXPECT_EQ(layout_->Resolve("tag-" + std::to_string(i))->digest, images[i].desc().digest);
  }
  // No temporary files left behind.
  for (const std::string& name : ListFiles(dir_)) {
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
  }
  auto blobs = layout_->ListBlobs();
  ASSERT_TRUE(blobs);
  EXPECT_EQ(blobs->size(), images.size() * 3 + 1);
}

TEST_F(OciLayoutTest, ConcurrentTagsFromTwoProcesses) {
  constexpr int kTagsPerProcess = 40;
  std::vector<TestImage> images;
  for (int i = 0; i < 2 * kTagsPerProcess; ++i) {
    images.push_back(MakeTestImage("p" + std::to_string(i)));
  }
  for (const TestImage& image : images) ASSERT_TRUE(PushImage(*layout_, image));

  auto tag_range = [&](int begin) {
    auto own = OciLayoutTarget::Open(dir_);
    if (!own) return false;
    for (int i = begin; i < 2 * kTagsPerProcess; i += 2) {
      if (!(*own)->Tag(images[i].desc(), "p-" + std::to_string(i))) return false;
    }
    return true;
  };
  // No other threads exist here, so the child may use the allocator and the filesystem.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(tag_range(1) ? 0 : 1);
  bool parent_ok = tag_range(0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(parent_ok);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto tags = layout_->Tags();
  ASSERT_TRUE(tags) << tags.error().message();
  EXPECT_EQ(tags->size(), images.size());
  EXPECT_TRUE(fs::exists(dir_ / "index.json.lock"));
}

TEST_F(OciLayoutTest, SkopeoReadsOurLayoutAndWeReadSkopeos) {
  if (!testing::HaveSkopeo()) GTEST_SKIP() << "skopeo not installed";
  TestImage image = MakeTestImage("skopeo");
  ASSERT_TRUE(PushImage(*layout_, image));
  ASSERT_TRUE(layout_->Tag(image.desc(), "1.0"));
  fs::path copy = scratch_->path() / "copy";
  ASSERT_EQ(testing::RunSkopeo(scratch_->path(), "copy -q oci:" + dir_.string() +
                                                     ":1.0 oci:" + copy.string() + ":2.0"),
            0);
  auto theirs = OciLayoutTarget::Open(copy);
  ASSERT_TRUE(theirs) << theirs.error().message();
  auto got = (*theirs)->Resolve("2.0");
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->digest, image.desc().digest) << "skopeo keeps digests when nothing changes";
  EXPECT_EQ(*(*theirs)->Tags(), std::vector<std::string>{"2.0"});
  EXPECT_EQ(*FetchAll(**theirs, image.layers[0].desc), image.layers[0].bytes);
}

}  // namespace
}  // namespace plugctl::store
