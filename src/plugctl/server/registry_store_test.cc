#include "plugctl/server/registry_store.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "plugctl/base/file.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/store/content.h"
#include "plugctl/store/oci_layout.h"
#include "plugctl/store/store_test_util.h"

namespace plugctl::server {
namespace {

using store::OciLayoutTarget;
using store::testing::MakeTestImage;
using store::testing::TestBlob;
using store::testing::TestImage;

std::string ReadFd(int fd) {
  std::string out;
  char buf[4096];
  off_t pos = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf, sizeof(buf), pos);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    pos += n;
  }
  return out;
}

class RegistryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto scratch = TempDir::Create("registry-store-test");
    ASSERT_TRUE(scratch);
    scratch_ = std::move(*scratch);
    dir_ = scratch_->path() / "layout";
  }

  void OpenStore(StoreOptions options = {}) {
    options.clock = &clock_;
    store_.reset();
    auto s = RegistryStore::Open(dir_, options);
    ASSERT_TRUE(s) << s.error().message();
    store_ = std::move(*s);
  }

  std::unique_ptr<OciLayoutTarget> Layout() {
    auto layout = OciLayoutTarget::Open(dir_, {.create = true});
    EXPECT_TRUE(layout) << layout.error().message();
    return std::move(*layout);
  }

  ApiResult<oci::Descriptor> PutBlob(const std::string& repo, const std::string& bytes) {
    StringReader reader(bytes);
    return store_->PutBlob(repo, oci::Digest::Of(bytes).ToString(), bytes.size(), reader);
  }

  // Config, layers and manifest of `image` pushed to `repo`, tagged `tag` ("" → by digest).
  void PushImage(const std::string& repo, const TestImage& image, const std::string& tag) {
    ASSERT_TRUE(PutBlob(repo, image.config.bytes));
    for (const TestBlob& layer : image.layers) ASSERT_TRUE(PutBlob(repo, layer.bytes));
    auto put = store_->PutManifest(repo, tag.empty() ? image.desc().digest.ToString() : tag,
                                   image.manifest.desc.media_type, image.manifest.bytes);
    ASSERT_TRUE(put) << put.error().message;
    EXPECT_EQ(put->desc.digest, image.desc().digest);
  }

  bool BlobFileExists(const oci::Digest& d) {
    return fs::exists(dir_ / "blobs" / std::string(d.algorithm_name()) / d.hex());
  }

  size_t UploadDirs() {
    std::error_code ec;
    size_t n = 0;
    for (fs::directory_iterator it(dir_ / ".plugctl" / "uploads", ec), end; !ec && it != end;
         it.increment(ec)) {
      ++n;
    }
    return n;
  }

  FakeClock clock_;
  std::unique_ptr<TempDir> scratch_;
  fs::path dir_;
  std::unique_ptr<RegistryStore> store_;
};

TEST(RepositoryNameTest, Grammar) {
  for (std::string ok : std::vector<std::string>{"a", "plugins/basic-auth", "a.b/c__d/e-f---g",
                                                 "x0/y_1", "a/b/c/d"}) {
    EXPECT_TRUE(ValidateRepositoryName(ok)) << ok;
  }
  for (std::string bad :
       std::vector<std::string>{"", "A", "a//b", "/a", "a/", "a..b", "a___b", "-a", "a-", "../etc",
                                "a/../b", "a b", std::string(256, 'a'), "a:b", "_a"}) {
    auto st = ValidateRepositoryName(bad);
    ASSERT_FALSE(st) << bad;
    EXPECT_EQ(st.error().code, ApiCode::kNameInvalid);
  }
  EXPECT_TRUE(ValidateRepositoryName(std::string(255, 'a')));
}

TEST_F(RegistryStoreTest, MapsMirrorStyleRefNames) {
  auto layout = Layout();
  TestImage a = MakeTestImage("a");
  TestImage b = MakeTestImage("b");
  TestImage c = MakeTestImage("c");
  for (const TestImage* image : {&a, &b, &c}) {
    ASSERT_TRUE(store::testing::PushImage(*layout, *image));
  }
  ASSERT_TRUE(layout->Tag(a.desc(), "reg.io/plugins/basic-auth:1.0.0"));
  ASSERT_TRUE(layout->Tag(b.desc(), "plugins/key-auth:2.0"));
  ASSERT_TRUE(layout->Tag(c.desc(), "1.0.0"));
  ASSERT_TRUE(layout->Tag(c.desc(), "localhost:5000/x/y:3"));
  ASSERT_TRUE(layout->Tag(c.desc(), "Not A Name!"));
  ASSERT_NO_FATAL_FAILURE(OpenStore());

  EXPECT_EQ(store_->Repositories(),
            (std::vector<std::string>{"default", "plugins/basic-auth", "plugins/key-auth", "x/y"}));
  EXPECT_EQ(*store_->Tags("plugins/basic-auth"), std::vector<std::string>{"1.0.0"});
  EXPECT_EQ(*store_->Tags("default"), std::vector<std::string>{"1.0.0"});
  auto m = store_->GetManifest("plugins/basic-auth", "1.0.0");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->desc.digest, a.desc().digest);
  EXPECT_EQ(*m->bytes, a.manifest.bytes);
  EXPECT_EQ(m->desc.media_type, oci::kOciManifest);
  EXPECT_EQ(store_->GetManifest("x/y", "3")->desc.digest, c.desc().digest);
  // Blobs reachable from a mirrored manifest are in its repository without link files.
  auto blob = store_->OpenBlob("plugins/basic-auth", a.layers[0].desc.digest.ToString());
  ASSERT_TRUE(blob) << blob.error().message;
  EXPECT_EQ(ReadFd(blob->fd), a.layers[0].bytes);
  EXPECT_EQ(blob->size, a.layers[0].bytes.size());
  EXPECT_EQ(store_->OpenBlob("plugins/key-auth", a.layers[0].desc.digest.ToString()).error().code,
            ApiCode::kBlobUnknown);
  // Such a blob cannot be deleted alone: the manifest keeps it in the repository.
  EXPECT_EQ(
      store_->DeleteBlob("plugins/basic-auth", a.layers[0].desc.digest.ToString()).error().code,
      ApiCode::kUnsupported);

  auto warnings = store_->Warnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("Not A Name!"), std::string::npos);

  auto tags = store_->Tags("nope");
  ASSERT_FALSE(tags);
  EXPECT_EQ(tags.error().code, ApiCode::kNameUnknown);
  EXPECT_EQ(store_->GetManifest("nope", "1").error().code, ApiCode::kNameUnknown);
  EXPECT_EQ(store_->GetManifest("default", "2").error().code, ApiCode::kManifestUnknown);
  EXPECT_EQ(store_->GetManifest("default", "sha256:zz").error().code, ApiCode::kDigestInvalid);
  EXPECT_EQ(store_->GetManifest("Bad", "1").error().code, ApiCode::kNameInvalid);
}

TEST_F(RegistryStoreTest, HostlessNameWinsConflicts) {
  auto layout = Layout();
  TestImage hosted = MakeTestImage("hosted");
  TestImage plain = MakeTestImage("plain");
  ASSERT_TRUE(store::testing::PushImage(*layout, hosted));
  ASSERT_TRUE(store::testing::PushImage(*layout, plain));
  ASSERT_TRUE(layout->Tag(hosted.desc(), "reg.io/a/b:1"));
  ASSERT_TRUE(layout->Tag(plain.desc(), "a/b:1"));
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  EXPECT_EQ(store_->GetManifest("a/b", "1")->desc.digest, plain.desc().digest);
  auto warnings = store_->Warnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("reg.io/a/b:1"), std::string::npos) << warnings[0];

  // A push of the tag replaces both entries with one; the warning goes.
  TestImage pushed = MakeTestImage("pushed");
  ASSERT_NO_FATAL_FAILURE(PushImage("a/b", pushed, "1"));
  EXPECT_EQ(store_->GetManifest("a/b", "1")->desc.digest, pushed.desc().digest);
  EXPECT_TRUE(store_->Warnings().empty());
  EXPECT_EQ(*Layout()->Tags(), std::vector<std::string>{"a/b:1"});
}

TEST_F(RegistryStoreTest, ChunkedUploadWithRanges) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  const std::string data = "hello, chunked world";
  auto up = store_->StartUpload("r");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->id.size(), 32u);
  EXPECT_EQ(up->id.find_first_not_of("0123456789abcdef"), std::string::npos);

  StringReader first(data.substr(0, 5));
  auto st = store_->AppendUpload("r", up->id, ChunkRange{0, 4}, first);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->offset, 5u);

  // Out of order: 416, nothing appended.
  StringReader again(data.substr(0, 5));
  st = store_->AppendUpload("r", up->id, ChunkRange{0, 4}, again);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ApiCode::kBlobUploadInvalid);
  EXPECT_EQ(HttpStatusOf(st.error()), 416);
  EXPECT_EQ(store_->GetUpload("r", up->id)->offset, 5u);

  // A chunk shorter or longer than its range: SIZE_INVALID, offset unchanged.
  StringReader short_chunk(data.substr(5, 3));
  st = store_->AppendUpload("r", up->id, ChunkRange{5, 9}, short_chunk);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ApiCode::kSizeInvalid);
  StringReader long_chunk(data.substr(5, 10));
  st = store_->AppendUpload("r", up->id, ChunkRange{5, 9}, long_chunk);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ApiCode::kSizeInvalid);
  EXPECT_EQ(store_->GetUpload("r", up->id)->offset, 5u);

  StringReader second(data.substr(5, 5));
  ASSERT_TRUE(store_->AppendUpload("r", up->id, ChunkRange{5, 9}, second));
  StringReader third(data.substr(10, 4));
  ASSERT_TRUE(store_->AppendUpload("r", up->id, std::nullopt, third));
  EXPECT_EQ(store_->GetUpload("r", up->id)->offset, 14u);

  // Another repository does not see the upload; junk ids are unknown.
  EXPECT_EQ(store_->GetUpload("other", up->id).error().code, ApiCode::kBlobUploadUnknown);
  EXPECT_EQ(store_->GetUpload("r", "../../etc").error().code, ApiCode::kBlobUploadUnknown);
  EXPECT_EQ(store_->GetUpload("r", std::string(32, 'A')).error().code, ApiCode::kBlobUploadUnknown);

  StringReader last(data.substr(14));
  auto desc = store_->FinishUpload("r", up->id, oci::Digest::Of(data).ToString(), last);
  ASSERT_TRUE(desc) << desc.error().message;
  EXPECT_EQ(desc->size, static_cast<int64_t>(data.size()));
  auto blob = store_->OpenBlob("r", oci::Digest::Of(data).ToString());
  ASSERT_TRUE(blob);
  EXPECT_EQ(ReadFd(blob->fd), data);
  EXPECT_EQ(store_->GetUpload("r", up->id).error().code, ApiCode::kBlobUploadUnknown);
  EXPECT_EQ(UploadDirs(), 0u);
}

TEST_F(RegistryStoreTest, UploadSurvivesRestart) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  const std::string data = "resumed after a restart";
  auto up = store_->StartUpload("r");
  ASSERT_TRUE(up);
  StringReader first(data.substr(0, 7));
  ASSERT_TRUE(store_->AppendUpload("r", up->id, std::nullopt, first));
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  EXPECT_EQ(store_->GetUpload("r", up->id)->offset, 7u);
  StringReader rest(data.substr(7));
  auto desc = store_->FinishUpload("r", up->id, oci::Digest::Of(data).ToString(), rest);
  ASSERT_TRUE(desc) << desc.error().message;
  EXPECT_TRUE(BlobFileExists(oci::Digest::Of(data)));
}

// Hands out `data`, then fails: a client that went away mid-chunk.
class FailingReader : public Reader {
 public:
  explicit FailingReader(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(std::span<char> out) override {
    if (done_) return MakeError(ErrorCode::kUnavailable, "connection reset");
    done_ = true;
    size_t n = std::min(out.size(), data_.size());
    std::copy_n(data_.data(), n, out.data());
    return n;
  }

 private:
  std::string data_;
  bool done_ = false;
};

TEST_F(RegistryStoreTest, FailedChunkLeavesTheUploadAsItWas) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  const std::string data = "0123456789abcdef";
  auto up = store_->StartUpload("r");
  ASSERT_TRUE(up);
  StringReader first(data.substr(0, 4));
  ASSERT_TRUE(store_->AppendUpload("r", up->id, std::nullopt, first));
  FailingReader broken("XXXXXXXX");
  auto st = store_->AppendUpload("r", up->id, std::nullopt, broken);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ApiCode::kBlobUploadInvalid);
  EXPECT_EQ(store_->GetUpload("r", up->id)->offset, 4u);
  StringReader rest(data.substr(4));
  auto desc = store_->FinishUpload("r", up->id, oci::Digest::Of(data).ToString(), rest);
  ASSERT_TRUE(desc) << desc.error().message;
  auto blob = store_->OpenBlob("r", oci::Digest::Of(data).ToString());
  ASSERT_TRUE(blob);
  EXPECT_EQ(ReadFd(blob->fd), data);
}

TEST_F(RegistryStoreTest, OpenReclaimsOldUploadsByFileTime) {
  ASSERT_NO_FATAL_FAILURE(OpenStore({.stale_upload_age = std::chrono::seconds(60)}));
  auto old_upload = store_->StartUpload("r");
  auto fresh = store_->StartUpload("r");
  ASSERT_TRUE(old_upload && fresh);
  fs::path data = dir_ / ".plugctl/uploads" / old_upload->id / "data";
  std::error_code ec;
  fs::last_write_time(data, fs::file_time_type::clock::now() - std::chrono::minutes(5), ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_NO_FATAL_FAILURE(OpenStore({.stale_upload_age = std::chrono::seconds(60)}));
  EXPECT_EQ(store_->GetUpload("r", old_upload->id).error().code, ApiCode::kBlobUploadUnknown);
  EXPECT_TRUE(store_->GetUpload("r", fresh->id));
  EXPECT_EQ(UploadDirs(), 1u);
}

TEST_F(RegistryStoreTest, Sha512Digests) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  TestImage image = MakeTestImage("sha512");
  ASSERT_TRUE(PutBlob("r", image.config.bytes));
  const std::string layer = image.layers[0].bytes;
  const oci::Digest layer512 = oci::Digest::Of(layer, oci::DigestAlgorithm::kSha512);
  StringReader reader(layer);
  auto put = store_->PutBlob("r", layer512.ToString(), std::nullopt, reader);
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_TRUE(store_->OpenBlob("r", layer512.ToString()));
  // The manifest names the layer by sha256, which this repository does not hold.
  auto m = store_->PutManifest("r", "1", oci::kOciManifest, image.manifest.bytes);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ApiCode::kManifestBlobUnknown);
  ASSERT_TRUE(PutBlob("r", layer));
  const oci::Digest manifest512 =
      oci::Digest::Of(image.manifest.bytes, oci::DigestAlgorithm::kSha512);
  m = store_->PutManifest("r", manifest512.ToString(), oci::kOciManifest, image.manifest.bytes);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->desc.digest, manifest512);
  auto got = store_->GetManifest("r", manifest512.ToString());
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got->bytes, image.manifest.bytes);
}

TEST_F(RegistryStoreTest, BadUploadsStoreNothing) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  const std::string data = "some bytes";
  const oci::Digest digest = oci::Digest::Of(data);
  {
    StringReader reader(data);
    auto put = store_->PutBlob("r", oci::Digest::Of("other").ToString(), std::nullopt, reader);
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code, ApiCode::kDigestInvalid);
  }
  {
    StringReader reader(data);
    auto put = store_->PutBlob("r", digest.ToString(), data.size() + 1, reader);
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code, ApiCode::kSizeInvalid);
  }
  {
    StringReader reader(data);
    auto put = store_->PutBlob("r", "sha256:nothex", std::nullopt, reader);
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code, ApiCode::kDigestInvalid);
  }
  auto up = store_->StartUpload("r");
  ASSERT_TRUE(up);
  StringReader reader(data);
  auto finish = store_->FinishUpload("r", up->id, oci::Digest::Of("x").ToString(), reader);
  ASSERT_FALSE(finish);
  EXPECT_EQ(finish.error().code, ApiCode::kDigestInvalid);
  EXPECT_EQ(store_->GetUpload("r", up->id).error().code, ApiCode::kBlobUploadUnknown);

  EXPECT_FALSE(BlobFileExists(digest));
  EXPECT_EQ(store_->OpenBlob("r", digest.ToString()).error().code, ApiCode::kBlobUnknown);
  EXPECT_EQ(UploadDirs(), 0u);
  EXPECT_EQ(store_->Stats().blob_count, 0u);

  // Cancel removes an upload.
  auto cancelled = store_->StartUpload("r");
  ASSERT_TRUE(cancelled);
  EXPECT_TRUE(store_->CancelUpload("r", cancelled->id));
  EXPECT_EQ(store_->CancelUpload("r", cancelled->id).error().code, ApiCode::kBlobUploadUnknown);
  EXPECT_EQ(UploadDirs(), 0u);
}

TEST_F(RegistryStoreTest, MountsAndIsolation) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  const std::string data = "shared layer";
  const std::string digest = oci::Digest::Of(data).ToString();
  ASSERT_TRUE(PutBlob("a", data));
  EXPECT_TRUE(store_->OpenBlob("a", digest));
  auto in_b = store_->OpenBlob("b", digest);
  ASSERT_FALSE(in_b);
  EXPECT_EQ(in_b.error().code, ApiCode::kBlobUnknown);

  EXPECT_FALSE(*store_->MountBlob("c", "b", digest)) << "b does not hold it";
  EXPECT_FALSE(*store_->MountBlob("c", "Not Valid", digest));
  EXPECT_EQ(store_->MountBlob("c", "a", "sha256:bad").error().code, ApiCode::kDigestInvalid);
  EXPECT_FALSE(store_->OpenBlob("c", digest));
  EXPECT_TRUE(*store_->MountBlob("b", "a", digest));
  EXPECT_TRUE(store_->OpenBlob("b", digest));

  // Deleting from a leaves b's copy; the bytes stay until gc.
  EXPECT_TRUE(store_->DeleteBlob("a", digest));
  EXPECT_EQ(store_->OpenBlob("a", digest).error().code, ApiCode::kBlobUnknown);
  EXPECT_EQ(store_->DeleteBlob("a", digest).error().code, ApiCode::kBlobUnknown);
  EXPECT_TRUE(store_->OpenBlob("b", digest));
}

TEST_F(RegistryStoreTest, PutManifestChecks) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  TestImage image = MakeTestImage("checks");
  const std::string type = image.manifest.desc.media_type;

  // Blobs not in the repository (here: in another one).
  ASSERT_TRUE(PutBlob("elsewhere", image.config.bytes));
  ASSERT_TRUE(PutBlob("elsewhere", image.layers[0].bytes));
  auto put = store_->PutManifest("r", "1.0", type, image.manifest.bytes);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, ApiCode::kManifestBlobUnknown);

  ASSERT_TRUE(PutBlob("r", image.config.bytes));
  put = store_->PutManifest("r", "1.0", type, image.manifest.bytes);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, ApiCode::kManifestBlobUnknown) << "the layer is still missing";
  ASSERT_TRUE(PutBlob("r", image.layers[0].bytes));

  put = store_->PutManifest("r", "1.0", type, "{not json");
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, ApiCode::kManifestInvalid);
  put = store_->PutManifest("r", "1.0", oci::kOciIndex, image.manifest.bytes);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, ApiCode::kManifestInvalid) << "content type disagrees";
  put = store_->PutManifest("r", oci::Digest::Of("x").ToString(), type, image.manifest.bytes);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, ApiCode::kDigestInvalid);
  put = store_->PutManifest("r", "sha256:short", type, image.manifest.bytes);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, ApiCode::kDigestInvalid);
  put = store_->PutManifest("r", "1.0", type, std::string(oci::kMaxManifestBytes + 1, ' '));
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, ApiCode::kTooLarge);
  EXPECT_EQ(HttpStatusOf(put.error()), 413);
  EXPECT_EQ(store_->PutManifest("R", "1.0", type, image.manifest.bytes).error().code,
            ApiCode::kNameInvalid);
  EXPECT_FALSE(BlobFileExists(image.desc().digest));

  put = store_->PutManifest("r", "1.0", type, image.manifest.bytes);
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_FALSE(put->subject);
  auto got = store_->GetManifest("r", "1.0");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got->bytes, image.manifest.bytes);
  EXPECT_EQ(got->desc.size, static_cast<int64_t>(image.manifest.bytes.size()));
  got = store_->GetManifest("r", image.desc().digest.ToString());
  ASSERT_TRUE(got);
  EXPECT_EQ(got->desc.media_type, type);
  EXPECT_EQ(store_->GetManifest("elsewhere", image.desc().digest.ToString()).error().code,
            ApiCode::kManifestUnknown);
}

TEST_F(RegistryStoreTest, TagsDeletesAndOneEntryPerManifest) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  TestImage one = MakeTestImage("one");
  TestImage two = MakeTestImage("two");
  // By digest first: an untagged entry, then tagging it leaves a single entry.
  ASSERT_NO_FATAL_FAILURE(PushImage("r", one, ""));
  EXPECT_EQ(store_->Repositories(), std::vector<std::string>{"r"});
  EXPECT_TRUE(store_->Tags("r")->empty());
  auto entries = Layout()->Entries();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(entries->front().annotations.at(std::string(kRepositoryAnnotation)), "r");
  ASSERT_NO_FATAL_FAILURE(PushImage("r", one, "v2"));
  ASSERT_NO_FATAL_FAILURE(PushImage("r", one, "v10"));
  ASSERT_NO_FATAL_FAILURE(PushImage("r", two, "a"));
  ASSERT_NO_FATAL_FAILURE(PushImage("r", one, "v2"));  // idempotent
  ASSERT_NO_FATAL_FAILURE(PushImage("r", one, ""));    // a tag already holds it
  EXPECT_EQ(*store_->Tags("r"), (std::vector<std::string>{"a", "v10", "v2"}));
  EXPECT_EQ(Layout()->Entries()->size(), 3u);

  // By tag: only the tag goes.
  EXPECT_TRUE(store_->DeleteManifest("r", "v10"));
  EXPECT_EQ(store_->DeleteManifest("r", "v10").error().code, ApiCode::kManifestUnknown);
  EXPECT_EQ(*store_->Tags("r"), (std::vector<std::string>{"a", "v2"}));
  EXPECT_TRUE(store_->GetManifest("r", one.desc().digest.ToString()));

  // By digest: the manifest and every tag naming it.
  ASSERT_NO_FATAL_FAILURE(PushImage("r", one, "v3"));
  EXPECT_TRUE(store_->DeleteManifest("r", one.desc().digest.ToString()));
  EXPECT_EQ(*store_->Tags("r"), std::vector<std::string>{"a"});
  EXPECT_EQ(store_->GetManifest("r", one.desc().digest.ToString()).error().code,
            ApiCode::kManifestUnknown);
  EXPECT_EQ(store_->DeleteManifest("r", one.desc().digest.ToString()).error().code,
            ApiCode::kManifestUnknown);
  EXPECT_EQ(store_->DeleteManifest("r", "sha256:bad").error().code, ApiCode::kDigestInvalid);

  // A layer is not a manifest: its link stays.
  const std::string layer = two.layers[0].desc.digest.ToString();
  EXPECT_EQ(store_->DeleteManifest("r", layer).error().code, ApiCode::kManifestUnknown);
  EXPECT_TRUE(store_->OpenBlob("r", layer));
}

TEST_F(RegistryStoreTest, Referrers) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  TestImage image = MakeTestImage("subject");
  ASSERT_NO_FATAL_FAILURE(PushImage("r", image, "1.0"));

  const std::string empty = "{}";
  ASSERT_TRUE(PutBlob("r", empty));
  auto referrer = [&](const std::string& artifact_type, const std::string& config_type,
                      const std::string& note) {
    oci::ImageManifestSpec spec;
    spec.artifact_type = artifact_type;
    spec.config = oci::Descriptor::For(config_type, empty);
    spec.layers = {oci::Descriptor::For(oci::kOciEmpty, empty)};
    spec.subject = image.desc();
    spec.annotations["note"] = note;
    return oci::BuildImageManifest(spec);
  };
  std::string sig = referrer("application/vnd.example.sig", std::string(oci::kOciEmpty), "sig");
  std::string sbom = referrer("", "application/vnd.example.sbom", "sbom");
  auto put = store_->PutManifest("r", oci::Digest::Of(sig).ToString(), oci::kOciManifest, sig);
  ASSERT_TRUE(put) << put.error().message;
  ASSERT_TRUE(put->subject);
  EXPECT_EQ(*put->subject, image.desc().digest);
  ASSERT_TRUE(store_->PutManifest("r", "sbom", oci::kOciManifest, sbom));

  auto all = store_->Referrers("r", image.desc().digest.ToString(), "");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  for (const oci::Descriptor& d : *all) {
    if (d.digest == oci::Digest::Of(sig)) {
      EXPECT_EQ(d.artifact_type, "application/vnd.example.sig");
      EXPECT_EQ(d.annotations.at("note"), "sig");
      EXPECT_EQ(d.size, static_cast<int64_t>(sig.size()));
      EXPECT_EQ(d.media_type, oci::kOciManifest);
    } else {
      EXPECT_EQ(d.digest, oci::Digest::Of(sbom));
      EXPECT_EQ(d.artifact_type, "application/vnd.example.sbom") << "the config's media type";
    }
  }
  auto sigs = store_->Referrers("r", image.desc().digest.ToString(), "application/vnd.example.sig");
  ASSERT_TRUE(sigs);
  ASSERT_EQ(sigs->size(), 1u);
  EXPECT_EQ(sigs->front().digest, oci::Digest::Of(sig));
  EXPECT_TRUE(store_->Referrers("other", image.desc().digest.ToString(), "")->empty());
  EXPECT_TRUE(store_->Referrers("r", oci::Digest::Of("none").ToString(), "")->empty());
  EXPECT_EQ(store_->Referrers("r", "nope", "").error().code, ApiCode::kDigestInvalid);

  // The subject need not exist.
  oci::ImageManifestSpec dangling;
  dangling.config = oci::Descriptor::For(oci::kOciEmpty, empty);
  dangling.subject = oci::Descriptor::For(oci::kOciManifest, "absent");
  std::string body = oci::BuildImageManifest(dangling);
  EXPECT_TRUE(store_->PutManifest("r", oci::Digest::Of(body).ToString(), oci::kOciManifest, body));
}

TEST_F(RegistryStoreTest, IndexesAndTheirChildren) {
  TestImage a = MakeTestImage("index-a");
  TestImage b = MakeTestImage("index-b");
  oci::IndexSpec spec;
  spec.manifests = {a.desc(), b.desc()};
  const std::string index = oci::BuildIndex(spec);
  const oci::Descriptor index_desc = oci::Descriptor::For(oci::kOciIndex, index);
  {
    auto layout = Layout();
    ASSERT_TRUE(store::testing::PushImage(*layout, a));
    ASSERT_TRUE(store::testing::PushImage(*layout, b));
    StringReader reader(index);
    ASSERT_TRUE(layout->Push(index_desc, reader));
    ASSERT_TRUE(layout->Tag(index_desc, "reg.io/multi/p:1"));
  }
  // A tiny cache: manifests are then read from their blobs every time, and still served.
  ASSERT_NO_FATAL_FAILURE(OpenStore({.manifest_cache_bytes = 16}));
  auto top = store_->GetManifest("multi/p", "1");
  ASSERT_TRUE(top) << top.error().message;
  EXPECT_EQ(top->desc.media_type, oci::kOciIndex);
  auto child = store_->GetManifest("multi/p", a.desc().digest.ToString());
  ASSERT_TRUE(child) << child.error().message;
  EXPECT_EQ(*child->bytes, a.manifest.bytes);
  EXPECT_EQ(child->desc.media_type, oci::kOciManifest);
  EXPECT_TRUE(store_->OpenBlob("multi/p", b.layers[0].desc.digest.ToString()));

  auto report = RegistryStore::CollectGarbage(dir_, false, std::chrono::seconds(0));
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_TRUE(report->removed.empty());
  EXPECT_EQ(report->kept, 7u);

  // Pushing an index: its children must be in the repository.
  auto put = store_->PutManifest("s", "1", oci::kOciIndex, index);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, ApiCode::kManifestBlobUnknown);
  ASSERT_NO_FATAL_FAILURE(PushImage("s", a, ""));
  ASSERT_NO_FATAL_FAILURE(PushImage("s", b, ""));
  put = store_->PutManifest("s", "1", oci::kOciIndex, index);
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_EQ(put->desc.digest, index_desc.digest);
  EXPECT_TRUE(store_->Tags("s")->size() == 1);
}

TEST_F(RegistryStoreTest, NoticesExternalWriters) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  TestImage image = MakeTestImage("external");
  auto layout = Layout();
  ASSERT_TRUE(store::testing::PushImage(*layout, image));
  ASSERT_TRUE(layout->Tag(image.desc(), "reg.io/ext/plugin:1.0"));
  // Within the check interval the store serves its view without looking at index.json.
  EXPECT_FALSE(store_->GetManifest("ext/plugin", "1.0"));
  clock_.Advance(std::chrono::milliseconds(1001));
  auto got = store_->GetManifest("ext/plugin", "1.0");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->desc.digest, image.desc().digest);

  // A retag by the other writer is seen too.
  TestImage next = MakeTestImage("external-2");
  ASSERT_TRUE(store::testing::PushImage(*layout, next));
  ASSERT_TRUE(layout->Tag(next.desc(), "reg.io/ext/plugin:1.0"));
  clock_.Advance(std::chrono::milliseconds(1001));
  EXPECT_EQ(store_->GetManifest("ext/plugin", "1.0")->desc.digest, next.desc().digest);

  // A broken index.json keeps the last good view, and Warnings() says why.
  ASSERT_TRUE(WriteFileAtomic(dir_ / "index.json", "{broken"));
  clock_.Advance(std::chrono::milliseconds(1001));
  EXPECT_EQ(store_->GetManifest("ext/plugin", "1.0")->desc.digest, next.desc().digest);
  auto warnings = store_->Warnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("index.json"), std::string::npos);
}

TEST_F(RegistryStoreTest, LayoutStaysValidForOtherReaders) {
  {
    auto layout = Layout();
    TestImage mirrored = MakeTestImage("mirrored");
    ASSERT_TRUE(store::testing::PushImage(*layout, mirrored));
    ASSERT_TRUE(layout->Tag(mirrored.desc(), "reg.io/plugins/m:1.0"));
  }
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  TestImage pushed = MakeTestImage("pushed");
  ASSERT_NO_FATAL_FAILURE(PushImage("plugins/m", pushed, "1.0"));  // keeps the mirrored name
  ASSERT_NO_FATAL_FAILURE(PushImage("reg.io/x", pushed, "2.0"));   // a host-like repository
  ASSERT_NO_FATAL_FAILURE(PushImage("plain", pushed, "3.0"));

  auto layout = Layout();
  EXPECT_EQ(*layout->Tags(), (std::vector<std::string>{"localhost/reg.io/x:2.0", "plain:3.0",
                                                       "reg.io/plugins/m:1.0"}));
  const std::vector<std::string> tags = *layout->Tags();
  for (const std::string& tag : tags) {
    auto desc = layout->Resolve(tag);
    ASSERT_TRUE(desc) << desc.error().message();
    EXPECT_EQ(desc->digest, pushed.desc().digest);
    auto m = store::FetchManifest(*layout, *desc);
    ASSERT_TRUE(m) << m.error().message();
    for (const oci::Descriptor& layer : m->layers) {
      EXPECT_TRUE(*layout->Exists(layer));
    }
  }
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  EXPECT_EQ(*store_->Tags("reg.io/x"), std::vector<std::string>{"2.0"});
  EXPECT_TRUE(store_->Warnings().empty());
}

TEST_F(RegistryStoreTest, GarbageCollection) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  TestImage kept = MakeTestImage("kept");
  ASSERT_NO_FATAL_FAILURE(PushImage("r", kept, "1.0"));
  const std::string orphan = "nobody references me";
  ASSERT_TRUE(PutBlob("r", orphan));
  const oci::Digest orphan_digest = oci::Digest::Of(orphan);

  // Everything is younger than the grace period.
  auto report = RegistryStore::CollectGarbage(dir_, false);
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_TRUE(report->removed.empty());

  auto dry = RegistryStore::CollectGarbage(dir_, true, std::chrono::seconds(0));
  ASSERT_TRUE(dry);
  EXPECT_EQ(dry->removed, std::vector<oci::Digest>{orphan_digest});
  EXPECT_EQ(dry->removed_bytes, orphan.size());
  EXPECT_TRUE(BlobFileExists(orphan_digest));

  report = RegistryStore::CollectGarbage(dir_, false, std::chrono::seconds(0));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->removed, std::vector<oci::Digest>{orphan_digest});
  EXPECT_EQ(report->kept, 3u);
  EXPECT_FALSE(BlobFileExists(orphan_digest));
  EXPECT_FALSE(fs::exists(dir_ / ".plugctl/repositories/r/_links/sha256" / orphan_digest.hex()));
  EXPECT_EQ(store_->OpenBlob("r", orphan_digest.ToString()).error().code, ApiCode::kBlobUnknown);
  EXPECT_TRUE(BlobFileExists(kept.desc().digest));
  EXPECT_TRUE(BlobFileExists(kept.config.desc.digest));
  EXPECT_TRUE(BlobFileExists(kept.layers[0].desc.digest));
  EXPECT_TRUE(store_->GetManifest("r", "1.0"));

  // A plain layout (never served, no .plugctl) is collected too.
  {
    TestImage other = MakeTestImage("plain-layout");
    fs::path plain = scratch_->path() / "plain";
    auto target = OciLayoutTarget::Open(plain, {.create = true});
    ASSERT_TRUE(target);
    ASSERT_TRUE(store::testing::PushImage(**target, other));
    ASSERT_TRUE((*target)->Tag(other.desc(), "1.0"));
    ASSERT_TRUE(store::testing::PushBlob(**target, store::testing::Blob("x", "orphan")));
    auto plain_report = RegistryStore::CollectGarbage(plain, false, std::chrono::seconds(0));
    ASSERT_TRUE(plain_report) << plain_report.error().message();
    EXPECT_EQ(plain_report->removed.size(), 1u);
    EXPECT_EQ(plain_report->kept, 3u);
    EXPECT_FALSE(fs::exists(plain / ".plugctl"));
  }

  // Deleting the manifest makes all of it garbage.
  ASSERT_TRUE(store_->DeleteManifest("r", kept.desc().digest.ToString()));
  report = RegistryStore::CollectGarbage(dir_, false, std::chrono::seconds(0));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->removed.size(), 3u);
  EXPECT_EQ(store_->Stats().blob_count, 0u);
}

TEST_F(RegistryStoreTest, ReclaimsStaleUploads) {
  ASSERT_NO_FATAL_FAILURE(OpenStore({.stale_upload_age = std::chrono::seconds(60)}));
  auto old_upload = store_->StartUpload("r");
  ASSERT_TRUE(old_upload);
  clock_.Advance(std::chrono::seconds(50));
  auto fresh = store_->StartUpload("r");
  ASSERT_TRUE(fresh);
  EXPECT_EQ(store_->Stats().uploads_in_progress, 2u);
  clock_.Advance(std::chrono::seconds(11));
  EXPECT_EQ(store_->ReclaimStaleUploads(), 1u);
  EXPECT_EQ(store_->GetUpload("r", old_upload->id).error().code, ApiCode::kBlobUploadUnknown);
  EXPECT_TRUE(store_->GetUpload("r", fresh->id));
  EXPECT_EQ(UploadDirs(), 1u);
  // Touching an upload keeps it.
  clock_.Advance(std::chrono::seconds(40));
  StringReader chunk("x");
  ASSERT_TRUE(store_->AppendUpload("r", fresh->id, std::nullopt, chunk));
  clock_.Advance(std::chrono::seconds(40));
  EXPECT_EQ(store_->ReclaimStaleUploads(), 0u);
}

TEST_F(RegistryStoreTest, OpenRefusesDamagedLayouts) {
  auto layout = Layout();
  TestImage image = MakeTestImage("damaged");
  ASSERT_TRUE(store::testing::PushImage(*layout, image));
  ASSERT_TRUE(layout->Tag(image.desc(), "1.0"));
  ASSERT_TRUE(fs::remove(layout->BlobPath(image.desc().digest)));
  auto s = RegistryStore::Open(dir_, {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("index.json"), std::string::npos);
  EXPECT_FALSE(RegistryStore::Open(scratch_->path() / "missing", {.create = false}));
}

TEST_F(RegistryStoreTest, ConcurrentPushesAndReads) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  std::vector<TestImage> images;
  for (int i = 0; i < 4; ++i) images.push_back(MakeTestImage("c" + std::to_string(i)));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      PushImage("r", images[i], "t" + std::to_string(i));
      for (int j = 0; j < 20; ++j) (void)store_->GetManifest("r", "t" + std::to_string(j % 4));
    });
  }
  // Readers and housekeeping alongside, with the clock moving so the index.json check runs.
  threads.emplace_back([&] {
    for (int j = 0; j < 20; ++j) {
      clock_.Advance(std::chrono::milliseconds(1001));
      (void)store_->ReclaimStaleUploads();
      (void)store_->Stats();
      (void)store_->Repositories();
      (void)store_->Warnings();
      (void)store_->Referrers("r", images[0].desc().digest.ToString(), "");
      (void)store_->OpenBlob("r", images[j % 4].layers[0].desc.digest.ToString());
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(store_->Tags("r")->size(), 4u);
  EXPECT_EQ(Layout()->Entries()->size(), 4u);
}

// Listing repositories while pushes replace the view: the listing must hold the view it
// iterates (a range-for over a temporary's member freed it mid-loop; TSan saw it in serve).
TEST_F(RegistryStoreTest, RepositoriesWhilePushesReplaceTheView) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  TestImage image = MakeTestImage("many");
  std::atomic<bool> done{false};
  std::thread reader([&] {
    size_t listed = 0;
    while (!done.load()) listed += store_->Repositories().size();
    (void)listed;
  });
  std::vector<std::thread> pushers;
  for (int i = 0; i < 3; ++i) {
    pushers.emplace_back([&, i] {
      for (int k = 0; k < 15; ++k) PushImage(fmt::format("team{}/repo{:02}", i, k), image, "1");
    });
  }
  for (auto& t : pushers) t.join();
  done = true;
  reader.join();
  EXPECT_EQ(store_->Repositories().size(), 45u);
}

}  // namespace
}  // namespace plugctl::server
