#include "plugctl/registry/repository.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "plugctl/http/fake_transport.h"
#include "plugctl/http/url.h"
#include "plugctl/oci/media_types.h"

namespace plugctl::registry {
namespace {

using http::FakeReply;
using http::FakeTransport;
using http::RecordedRequest;
using std::chrono::milliseconds;

class RepositoryTest : public ::testing::Test {
 protected:
  RepositoryTarget MakeRepository(RepositoryOptions options = {}) {
    auto session =
        Session::Create("reg.test", {.transport = fake_,
                                     .clock = clock_,
                                     .plain_http = true,
                                     .credentials = [](std::string_view) -> Result<Credential> {
                                       return Credential{.username = "user", .password = "secret"};
                                     }});
    EXPECT_TRUE(session.has_value());
    return RepositoryTarget(*session, "x", options);
  }

  static oci::Descriptor Blob(std::string_view bytes) {
    return oci::Descriptor::For(oci::kOciLayerTarGzip, bytes);
  }

  std::shared_ptr<FakeTransport> fake_ = std::make_shared<FakeTransport>();
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
};

TEST_F(RepositoryTest, InterruptedDownloadResumesWithRange) {
  const std::string blob = "0123456789abcdefghij";
  oci::Descriptor desc = Blob(blob);
  fake_->Enqueue({.status = 200, .body = blob, .cut_after = 8});
  fake_->Enqueue({.status = 206,
                  .headers = {{"Content-Range", "bytes 8-19/20"}},
                  .body = blob.substr(8),
                  .cut_after = 5});
  fake_->Enqueue(
      {.status = 206, .headers = {{"Content-Range", "bytes 13-19/20"}}, .body = blob.substr(13)});
  RepositoryTarget repo = MakeRepository();
  auto reader = repo.Fetch(desc);
  ASSERT_TRUE(reader.has_value()) << reader.error().message();
  auto all = ReadAllBounded(**reader, 1000, "blob");
  ASSERT_TRUE(all.has_value()) << all.error().message();
  EXPECT_EQ(*all, blob);
  auto requests = fake_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].url, "http://reg.test/v2/x/blobs/" + desc.digest.ToString());
  EXPECT_FALSE(requests[0].headers.Has("Range"));
  EXPECT_EQ(requests[1].headers.Get("Range"), "bytes=8-");
  EXPECT_EQ(requests[2].headers.Get("Range"), "bytes=13-");
  // Waits before each resume, on the session's clock.
  EXPECT_EQ(clock_->sleeps(), (std::vector<milliseconds>{milliseconds(100), milliseconds(200)}));
}

TEST_F(RepositoryTest, ResumeSkipsWhatItHasWhenRangeIsIgnored) {
  const std::string blob = "0123456789";
  fake_->Enqueue({.status = 200, .body = blob, .cut_after = 4});
  fake_->Enqueue({.status = 200, .body = blob});
  RepositoryTarget repo = MakeRepository();
  auto reader = repo.Fetch(Blob(blob));
  ASSERT_TRUE(reader.has_value());
  auto all = ReadAllBounded(**reader, 1000, "blob");
  ASSERT_TRUE(all.has_value()) << all.error().message();
  EXPECT_EQ(*all, blob);
}

TEST_F(RepositoryTest, ResumeAtTheWrongOffsetIsDataLoss) {
  const std::string blob = "0123456789";
  fake_->Enqueue({.status = 200, .body = blob, .cut_after = 4});
  fake_->Enqueue({.status = 206, .headers = {{"Content-Range", "bytes 0-9/10"}}, .body = blob});
  RepositoryTarget repo = MakeRepository();
  auto reader = repo.Fetch(Blob(blob));
  ASSERT_TRUE(reader.has_value());
  auto all = ReadAllBounded(**reader, 1000, "blob");
  ASSERT_FALSE(all.has_value());
  EXPECT_EQ(all.error().code(), ErrorCode::kDataLoss);
}

TEST_F(RepositoryTest, ResumesAreBounded) {
  const std::string blob = "0123456789";
  fake_->SetHandler([&](const RecordedRequest&) {
    return FakeReply{.status = 200, .body = blob, .cut_after = 0};
  });
  RepositoryTarget repo = MakeRepository({.max_resumes = 2});
  auto reader = repo.Fetch(Blob(blob));
  ASSERT_TRUE(reader.has_value());
  auto all = ReadAllBounded(**reader, 1000, "blob");
  ASSERT_FALSE(all.has_value());
  EXPECT_EQ(all.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(fake_->requests().size(), 3u);
}

TEST_F(RepositoryTest, MonolithicUploadResolvesRelativeLocation) {
  const std::string blob = "layer bytes";
  oci::Descriptor desc = Blob(blob);
  fake_->Enqueue({.status = 202, .headers = {{"Location", "/v2/x/blobs/uploads/u1?_state=abc"}}});
  fake_->Enqueue({.status = 201});
  RepositoryTarget repo = MakeRepository();
  StringReader content(blob);
  auto pushed = repo.Push(desc, content);
  ASSERT_TRUE(pushed.has_value()) << pushed.error().message();
  auto requests = fake_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].url, "http://reg.test/v2/x/blobs/uploads/");
  EXPECT_EQ(requests[1].method, "PUT");
  EXPECT_EQ(requests[1].url, "http://reg.test/v2/x/blobs/uploads/u1?_state=abc&digest=" +
                                 http::QueryEscape(desc.digest.ToString()));
  EXPECT_EQ(requests[1].body, blob);
}

TEST_F(RepositoryTest, CrossHostUploadLocationGetsNoCredentials) {
  const std::string blob = "layer bytes";
  fake_->Enqueue({.status = 401, .headers = {{"WWW-Authenticate", R"(Basic realm="r")"}}});
  fake_->Enqueue({.status = 202, .headers = {{"Location", "https://upload.other/u/2"}}});
  fake_->Enqueue({.status = 201});
  RepositoryTarget repo = MakeRepository();
  StringReader content(blob);
  ASSERT_TRUE(repo.Push(Blob(blob), content).has_value());
  auto requests = fake_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_TRUE(requests[1].headers.Has("Authorization"));
  EXPECT_TRUE(requests[2].url.starts_with("https://upload.other/u/2?digest="));
  EXPECT_FALSE(requests[2].headers.Has("Authorization"));
}

TEST_F(RepositoryTest, ChunkedUploadRecoversFrom416) {
  const std::string blob = "0123456789";  // chunks of 4: 0-3, 4-7, 8-9
  oci::Descriptor desc = Blob(blob);
  fake_->Enqueue({.status = 202, .headers = {{"Location", "/up/1"}}});
  fake_->Enqueue({.status = 202, .headers = {{"Location", "/up/2"}}});  // PATCH 0-3
  fake_->Enqueue({.status = 416});                                      // PATCH 4-7
  // The registry holds 0-5: continue from byte 6.
  fake_->Enqueue({.status = 204, .headers = {{"Range", "0-5"}, {"Location", "/up/3"}}});
  fake_->Enqueue({.status = 202, .headers = {{"Location", "/up/4"}}});  // PATCH 6-7
  fake_->Enqueue({.status = 202, .headers = {{"Location", "/up/5"}}});  // PATCH 8-9
  fake_->Enqueue({.status = 201});                                      // PUT
  RepositoryTarget repo = MakeRepository({.chunk_size = 4});
  StringReader content(blob);
  auto pushed = repo.Push(desc, content);
  ASSERT_TRUE(pushed.has_value()) << pushed.error().message();
  auto requests = fake_->requests();
  ASSERT_EQ(requests.size(), 7u);
  struct Want {
    std::string method, url, range, body;
  };
  const Want want[] = {
      {"POST", "http://reg.test/v2/x/blobs/uploads/", "", ""},
      {"PATCH", "http://reg.test/up/1", "0-3", "0123"},
      {"PATCH", "http://reg.test/up/2", "4-7", "4567"},
      {"GET", "http://reg.test/up/2", "", ""},
      {"PATCH", "http://reg.test/up/3", "6-7", "67"},
      {"PATCH", "http://reg.test/up/4", "8-9", "89"},
      {"PUT", "http://reg.test/up/5?digest=" + http::QueryEscape(desc.digest.ToString()), "", ""},
  };
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].method, want[i].method) << i;
    EXPECT_EQ(requests[i].url, want[i].url) << i;
    EXPECT_EQ(requests[i].headers.Get("Content-Range").value_or(""), want[i].range) << i;
    EXPECT_EQ(requests[i].body, want[i].body) << i;
  }
}

TEST_F(RepositoryTest, ChunkSizeIsRaisedToTheRegistryMinimum) {
  const std::string blob = "0123456789";
  fake_->Enqueue(
      {.status = 202, .headers = {{"Location", "/up/1"}, {"OCI-Chunk-Min-Length", "6"}}});
  fake_->Enqueue({.status = 202, .headers = {{"Location", "/up/2"}}});
  fake_->Enqueue({.status = 202, .headers = {{"Location", "/up/3"}}});
  fake_->Enqueue({.status = 201});
  RepositoryTarget repo = MakeRepository({.chunk_size = 4});
  StringReader content(blob);
  ASSERT_TRUE(repo.Push(Blob(blob), content).has_value());
  auto requests = fake_->requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[1].headers.Get("Content-Range"), "0-5");
  EXPECT_EQ(requests[2].headers.Get("Content-Range"), "6-9");
}

TEST_F(RepositoryTest, UploadOfWrongContentIsDataLoss) {
  oci::Descriptor desc = Blob("expected");
  fake_->Enqueue({.status = 202, .headers = {{"Location", "/up/1"}}});
  fake_->Enqueue({.status = 201});
  RepositoryTarget repo = MakeRepository();
  StringReader content("tampered");
  auto pushed = repo.Push(desc, content);
  ASSERT_FALSE(pushed.has_value());
  EXPECT_EQ(pushed.error().code(), ErrorCode::kDataLoss);
}

TEST_F(RepositoryTest, ResolveUsesHeadAndFallsBackToGet) {
  const std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json",)"
      R"("digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",)"
      R"("size":2},"layers":[]})";
  oci::Descriptor want = oci::Descriptor::For(oci::kOciManifest, manifest);
  fake_->Enqueue({.status = 200,
                  .headers = {{"Docker-Content-Digest", want.digest.ToString()},
                              {"Content-Type", std::string(oci::kOciManifest)},
                              {"Content-Length", std::to_string(manifest.size())}}});
  // A HEAD without the digest header: GET and measure.
  fake_->Enqueue({.status = 200});
  fake_->Enqueue({.status = 200,
                  .headers = {{"Content-Type", std::string(oci::kOciManifest)}},
                  .body = manifest});
  RepositoryTarget repo = MakeRepository();
  auto by_head = repo.Resolve("1.0");
  ASSERT_TRUE(by_head.has_value()) << by_head.error().message();
  EXPECT_EQ(by_head->digest, want.digest);
  EXPECT_EQ(by_head->size, static_cast<int64_t>(manifest.size()));
  auto by_get = repo.Resolve("2.0");
  ASSERT_TRUE(by_get.has_value()) << by_get.error().message();
  EXPECT_EQ(by_get->digest, want.digest);
  auto requests = fake_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "HEAD");
  EXPECT_EQ(requests[0].url, "http://reg.test/v2/x/manifests/1.0");
  EXPECT_EQ(requests[2].method, "GET");
  EXPECT_EQ(requests[2].url, "http://reg.test/v2/x/manifests/2.0");
}

TEST_F(RepositoryTest, TagsFollowLinkPagination) {
  fake_->Enqueue({.status = 200,
                  .headers = {{"Link", R"(</v2/x/tags/list?last=b&n=2>; rel="next")"}},
                  .body = R"({"name":"x","tags":["b","a"]})"});
  fake_->Enqueue({.status = 200, .body = R"({"name":"x","tags":["c"]})"});
  RepositoryTarget repo = MakeRepository();
  auto tags = repo.Tags();
  ASSERT_TRUE(tags.has_value()) << tags.error().message();
  EXPECT_EQ(*tags, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(fake_->requests()[1].url, "http://reg.test/v2/x/tags/list?last=b&n=2");
}

TEST_F(RepositoryTest, PaginationLinkOnAnotherOriginGetsNoCredentials) {
  fake_->Enqueue({.status = 401, .headers = {{"WWW-Authenticate", R"(Basic realm="r")"}}});
  fake_->Enqueue({.status = 200,
                  .headers = {{"Link", R"(<https://pages.other/tags?last=a>; rel="next")"}},
                  .body = R"({"name":"x","tags":["a"]})"});
  fake_->Enqueue({.status = 200, .body = R"({"name":"x","tags":["b"]})"});
  RepositoryTarget repo = MakeRepository();
  auto tags = repo.Tags();
  ASSERT_TRUE(tags.has_value()) << tags.error().message();
  EXPECT_EQ(*tags, (std::vector<std::string>{"a", "b"}));
  auto requests = fake_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_TRUE(requests[1].headers.Has("Authorization"));
  EXPECT_EQ(requests[2].url, "https://pages.other/tags?last=a");
  EXPECT_FALSE(requests[2].headers.Has("Authorization"));
}

// A registry answering every page with a link to yet another page: the walk stops at the
// first bound passed, with an error naming the list and the bound — never a truncated list.
class EndlessPagesTest : public RepositoryTest {
 protected:
  void ServeEndlessPages(size_t tags_per_page, size_t tag_length = 1) {
    fake_->SetHandler([=, n = std::make_shared<int>(0)](const RecordedRequest&) {
      int page = (*n)++;
      nlohmann::json tags = nlohmann::json::array();
      for (size_t i = 0; i < tags_per_page; ++i) {
        tags.push_back(fmt::format("{:0>{}}-{}", page, tag_length, i));
      }
      return FakeReply{
          .status = 200,
          .headers = {{"Link", fmt::format("</v2/x/tags/list?last={}>; rel=\"next\"", page)}},
          .body = nlohmann::json{{"name", "x"}, {"tags", tags}, {"repositories", tags}}.dump()};
    });
  }
};

TEST_F(EndlessPagesTest, TooManyPages) {
  ServeEndlessPages(1);
  RepositoryTarget repo = MakeRepository({.list_limits = {.max_pages = 50}});
  auto tags = repo.Tags();
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().message(),
            "tags of reg.test/x: more than 50 pages; the registry keeps paginating");
  EXPECT_EQ(fake_->requests().size(), 50u);
}

TEST_F(EndlessPagesTest, TooManyItems) {
  ServeEndlessPages(30);
  RepositoryTarget repo = MakeRepository({.list_limits = {.max_items = 100}});
  auto tags = repo.Tags();
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().message(),
            "tags of reg.test/x: more than 100 items; the registry keeps paginating");
  EXPECT_LE(fake_->requests().size(), 4u);
}

TEST_F(EndlessPagesTest, TooManyBytes) {
  ServeEndlessPages(10, 200);
  RepositoryTarget repo = MakeRepository({.list_limits = {.max_bytes = 10000}});
  auto tags = repo.Tags();
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().message(),
            "tags of reg.test/x: more than 10000 bytes; the registry keeps paginating");
  EXPECT_LE(fake_->requests().size(), 3u);
}

TEST_F(EndlessPagesTest, CatalogHasTheDefaultBounds) {
  ServeEndlessPages(1000, 20);  // about 26 KB a page: the 1,000,000 items end it at page 1000
  auto session = Session::Create("reg.test", {.transport = fake_, .clock = clock_});
  ASSERT_TRUE(session.has_value());
  auto repos = Catalog(**session);
  ASSERT_FALSE(repos.has_value());
  EXPECT_EQ(repos.error().message(),
            "catalog of reg.test: more than 1000000 items; the registry keeps paginating");
}

TEST_F(EndlessPagesTest, AListWithinTheBoundsIsWhole) {
  fake_->Enqueue({.status = 200,
                  .headers = {{"Link", R"(</v2/x/tags/list?last=b>; rel="next")"}},
                  .body = R"({"name":"x","tags":["b","a"]})"});
  fake_->Enqueue({.status = 200, .body = R"({"name":"x","tags":["c","d"]})"});
  RepositoryTarget repo =
      MakeRepository({.list_limits = {.max_pages = 2, .max_items = 4, .max_bytes = 60}});
  auto tags = repo.Tags();
  ASSERT_TRUE(tags.has_value()) << tags.error().message();
  EXPECT_EQ(*tags, (std::vector<std::string>{"a", "b", "c", "d"}));
}

}  // namespace
}  // namespace plugctl::registry
