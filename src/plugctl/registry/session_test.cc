#include "plugctl/registry/session.h"

#include <gtest/gtest.h>

#include "plugctl/base/file.h"
#include "plugctl/http/fake_transport.h"

namespace plugctl::registry {
namespace {

using http::FakeReply;
using http::FakeTransport;
using http::RecordedRequest;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kBearer[] =
    R"(Bearer realm="https://auth.test/token",service="reg.test",scope="repository:x:pull")";

class SessionTest : public ::testing::Test {
 protected:
  std::shared_ptr<Session> MakeSession(SessionOptions options = {}) {
    options.plain_http = true;
    options.transport = fake_;
    options.clock = clock_;
    if (!options.credentials) {
      options.credentials = [this](std::string_view) -> Result<Credential> { return cred_; };
    }
    auto session = Session::Create("reg.test", std::move(options));
    EXPECT_TRUE(session.has_value()) << session.error().message();
    return *session;
  }

  std::optional<std::string> AuthOf(size_t i) {
    auto requests = fake_->requests();
    if (i >= requests.size()) return "<no request " + std::to_string(i) + ">";
    return requests[i].headers.Get("Authorization");
  }

  std::shared_ptr<FakeTransport> fake_ = std::make_shared<FakeTransport>();
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  Credential cred_{.username = "user", .password = "secret"};
};

TEST_F(SessionTest, BearerChallengeAsksRealmWithServiceAndScope) {
  fake_->Enqueue({.status = 401, .headers = {{"WWW-Authenticate", kBearer}}});
  fake_->Enqueue({.status = 200, .body = R"({"token":"t1"})"});
  fake_->Enqueue({.status = 200, .body = "ok"});
  auto session = MakeSession();
  auto r = session->Do({.path = "/v2/x/tags/list", .scope = PullScope("x")});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  auto requests = fake_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].url, "http://reg.test/v2/x/tags/list");
  EXPECT_FALSE(requests[0].headers.Has("Authorization"));
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].url,
            "https://auth.test/token?service=reg.test&scope=repository%3Ax%3Apull");
  EXPECT_EQ(requests[1].headers.Get("Authorization"), "Basic " + Base64Encode("user:secret"));
  EXPECT_EQ(requests[2].headers.Get("Authorization"), "Bearer t1");
}

TEST_F(SessionTest, TokenMayComeAsAccessToken) {
  fake_->Enqueue({.status = 401, .headers = {{"WWW-Authenticate", kBearer}}});
  fake_->Enqueue({.status = 200, .body = R"({"access_token":"t2","expires_in":300})"});
  fake_->Enqueue({.status = 200});
  auto session = MakeSession();
  ASSERT_TRUE(session->Do({.path = "/v2/", .scope = PullScope("x")}).has_value());
  EXPECT_EQ(AuthOf(2), "Bearer t2");
}

TEST_F(SessionTest, ChallengeScopeUsedWhenCallHasNone) {
  fake_->Enqueue({.status = 401, .headers = {{"WWW-Authenticate", kBearer}}});
  fake_->Enqueue({.status = 200, .body = R"({"token":"t"})"});
  fake_->Enqueue({.status = 200});
  auto session = MakeSession();
  ASSERT_TRUE(session->Do({.path = "/v2/"}).has_value());
  EXPECT_EQ(fake_->requests()[1].url,
            "https://auth.test/token?service=reg.test&scope=repository%3Ax%3Apull");
}

TEST_F(SessionTest, IdentityTokenIsExchangedWithOAuthPost) {
  cred_ = Credential{.identity_token = "refresh"};
  fake_->Enqueue({.status = 401, .headers = {{"WWW-Authenticate", kBearer}}});
  fake_->Enqueue({.status = 200, .body = R"({"access_token":"t3"})"});
  fake_->Enqueue({.status = 200});
  auto session = MakeSession();
  ASSERT_TRUE(session->Do({.path = "/v2/", .scope = PushScope("x")}).has_value());
  auto requests = fake_->requests();
  EXPECT_EQ(requests[1].method, "POST");
  EXPECT_EQ(requests[1].url, "https://auth.test/token");
  EXPECT_EQ(requests[1].body,
            "grant_type=refresh_token&client_id=plugctl&refresh_token=refresh&service=reg.test"
            "&scope=repository%3Ax%3Apull%2Cpush");
  EXPECT_EQ(AuthOf(2), "Bearer t3");
}

TEST_F(SessionTest, BasicChallengeSendsStoredCredentials) {
  fake_->Enqueue({.status = 401, .headers = {{"WWW-Authenticate", R"(Basic realm="reg")"}}});
  fake_->Enqueue({.status = 200});
  fake_->Enqueue({.status = 200});
  auto session = MakeSession();
  ASSERT_TRUE(session->Do({.path = "/v2/"}).has_value());
  ASSERT_TRUE(session->Do({.path = "/v2/x/tags/list"}).has_value());
  EXPECT_EQ(fake_->requests().size(), 3u);
  EXPECT_EQ(AuthOf(1), "Basic " + Base64Encode("user:secret"));
  // Known to be Basic from then on: no second challenge round trip.
  EXPECT_EQ(AuthOf(2), "Basic " + Base64Encode("user:secret"));
}

TEST_F(SessionTest, RejectedCredentialsAreUnauthenticated) {
  fake_->Enqueue({.status = 401, .headers = {{"WWW-Authenticate", R"(Basic realm="reg")"}}});
  fake_->Enqueue({.status = 401, .headers = {{"WWW-Authenticate", R"(Basic realm="reg")"}}});
  auto session = MakeSession();
  auto r = session->Do({.path = "/v2/"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(r.error().message().find("credentials rejected"), std::string::npos);
}

TEST_F(SessionTest, NoChallengeIsUnauthenticated) {
  fake_->Enqueue({.status = 401});
  auto session = MakeSession();
  auto r = session->Do({.path = "/v2/"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated);
}

TEST_F(SessionTest, TokenRefusedAsksToLogIn) {
  cred_ = {};
  fake_->Enqueue({.status = 401, .headers = {{"WWW-Authenticate", kBearer}}});
  fake_->Enqueue({.status = 403});
  auto session = MakeSession();
  auto r = session->Do({.path = "/v2/"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(r.error().message().find("plugctl login reg.test"), std::string::npos);
  // Nothing to send without credentials.
  EXPECT_FALSE(fake_->requests()[1].headers.Has("Authorization"));
}

// Answers like a token-protected registry: a token per scope, counting requests to the realm.
class TokenRegistry {
 public:
  FakeReply operator()(const RecordedRequest& r) {
    if (r.url.starts_with("https://auth.test/")) {
      ++token_requests;
      return {.status = 200,
              .body = fmt::format(R"({{"token":"tok{}","expires_in":{}}})", token_requests,
                                  expires_in)};
    }
    if (r.headers.Get("Authorization").value_or("").starts_with("Bearer tok")) return {};
    return {.status = 401, .headers = {{"WWW-Authenticate", kBearer}}};
  }
  int token_requests = 0;
  int expires_in = 300;
};

TEST_F(SessionTest, TokensAreCachedPerScopeUntilTheyExpire) {
  auto registry = std::make_shared<TokenRegistry>();
  fake_->SetHandler([registry](const RecordedRequest& r) { return (*registry)(r); });
  auto session = MakeSession();
  auto get = [&](std::string scope) {
    auto r = session->Do({.path = "/v2/x/tags/list", .scope = std::move(scope)});
    EXPECT_TRUE(r.has_value() && r->status == 200);
  };
  get(PullScope("x"));
  get(PullScope("x"));
  EXPECT_EQ(registry->token_requests, 1);
  EXPECT_EQ(AuthOf(fake_->requests().size() - 1), "Bearer tok1");
  get(PushScope("x"));  // another scope, another token
  EXPECT_EQ(registry->token_requests, 2);
  // expires_in 300 is used less 10 s of margin.
  clock_->Advance(seconds(289));
  get(PullScope("x"));
  EXPECT_EQ(registry->token_requests, 2);
  clock_->Advance(seconds(2));
  get(PullScope("x"));
  EXPECT_EQ(registry->token_requests, 3);
  EXPECT_EQ(AuthOf(fake_->requests().size() - 1), "Bearer tok3");
}

TEST_F(SessionTest, ShortTokenLifetimesMeanSixtySeconds) {
  auto registry = std::make_shared<TokenRegistry>();
  registry->expires_in = 5;
  fake_->SetHandler([registry](const RecordedRequest& r) { return (*registry)(r); });
  auto session = MakeSession();
  ASSERT_TRUE(session->Do({.path = "/v2/", .scope = PullScope("x")}).has_value());
  clock_->Advance(seconds(49));
  ASSERT_TRUE(session->Do({.path = "/v2/", .scope = PullScope("x")}).has_value());
  EXPECT_EQ(registry->token_requests, 1);
  clock_->Advance(seconds(2));
  ASSERT_TRUE(session->Do({.path = "/v2/", .scope = PullScope("x")}).has_value());
  EXPECT_EQ(registry->token_requests, 2);
}

TEST_F(SessionTest, RedirectToAnotherOriginCarriesNoCredentials) {
  fake_->Enqueue({.status = 401, .headers = {{"WWW-Authenticate", R"(Basic realm="reg")"}}});
  fake_->Enqueue({.status = 307, .headers = {{"Location", "/v2/x/blobs/moved"}}});
  fake_->Enqueue(
      {.status = 307, .headers = {{"Location", "https://storage.test/blob?X-Amz-Signature=s"}}});
  fake_->Enqueue({.status = 307, .headers = {{"Location", "http://reg.test/v2/back"}}});
  fake_->Enqueue({.status = 200, .body = "blob"});
  auto session = MakeSession();
  http::Headers headers;
  headers.Add("Authorization", "Bearer caller-set");
  auto r = session->Do({.path = "/v2/x/blobs/sha256:1", .headers = headers});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->body, "blob");
  auto requests = fake_->requests();
  ASSERT_EQ(requests.size(), 5u);
  // A relative Location resolves against the request URL, same origin: credentials stay.
  EXPECT_EQ(requests[2].url, "http://reg.test/v2/x/blobs/moved");
  EXPECT_EQ(AuthOf(2), "Basic " + Base64Encode("user:secret"));
  EXPECT_EQ(requests[3].url, "https://storage.test/blob?X-Amz-Signature=s");
  EXPECT_FALSE(requests[3].headers.Has("Authorization"));
  // Once off the origin, never back on with credentials.
  EXPECT_EQ(requests[4].url, "http://reg.test/v2/back");
  EXPECT_FALSE(requests[4].headers.Has("Authorization"));
}

TEST_F(SessionTest, AbsoluteCallOnAnotherOriginCarriesNoCredentials) {
  fake_->Enqueue({.status = 401, .headers = {{"WWW-Authenticate", R"(Basic realm="reg")"}}});
  fake_->Enqueue({.status = 200});
  fake_->Enqueue({.status = 202});
  auto session = MakeSession();
  ASSERT_TRUE(session->Do({.path = "/v2/"}).has_value());
  http::Headers headers;
  headers.Add("Authorization", "Basic leak");
  auto r = session->Do(
      {.method = "PATCH", .path = "https://upload.other/u/1", .headers = headers, .body = "x"});
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(fake_->requests()[2].headers.Has("Authorization"));
}

TEST_F(SessionTest, RedirectsAreNotFollowedForPutOrWhenAskedNot) {
  fake_->Enqueue({.status = 307, .headers = {{"Location", "/elsewhere"}}});
  fake_->Enqueue({.status = 302, .headers = {{"Location", "/elsewhere"}}});
  auto session = MakeSession();
  auto put = session->Do({.method = "PUT", .path = "/v2/x/manifests/1", .body = "{}"});
  ASSERT_TRUE(put.has_value());
  EXPECT_EQ(put->status, 307);
  auto get = session->Do({.path = "/v2/x", .follow_redirects = false});
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->status, 302);
  EXPECT_EQ(fake_->requests().size(), 2u);
}

TEST_F(SessionTest, RetryAfterIsHonoured) {
  fake_->Enqueue({.status = 429, .headers = {{"Retry-After", "2"}}});
  fake_->Enqueue({.status = 503, .headers = {{"Retry-After", "0"}}});
  fake_->Enqueue({.status = 200, .body = "ok"});
  auto session = MakeSession();
  auto r = session->Do({.path = "/v2/"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(clock_->sleeps(), (std::vector<milliseconds>{seconds(2), seconds(0)}));
}

TEST_F(SessionTest, RetryAfterIsCappedByMaxRetryAfter) {
  fake_->Enqueue({.status = 503, .headers = {{"Retry-After", "3600"}}});
  fake_->Enqueue({.status = 200});
  auto session = MakeSession({.max_retry_after = seconds(7)});
  ASSERT_TRUE(session->Do({.path = "/v2/"}).has_value());
  EXPECT_EQ(clock_->sleeps(), (std::vector<milliseconds>{seconds(7)}));
}

TEST_F(SessionTest, ServerErrorsBackOffExponentiallyThenReturnTheLastResponse) {
  for (int i = 0; i < 4; ++i) fake_->Enqueue({.status = 502});
  auto session = MakeSession(
      {.max_attempts = 4, .initial_backoff = milliseconds(100), .max_backoff = milliseconds(300)});
  auto r = session->Do({.path = "/v2/"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(fake_->requests().size(), 4u);
  auto sleeps = clock_->sleeps();
  ASSERT_EQ(sleeps.size(), 3u);
  // attempt n waits between half and all of min(initial * 2^n, max), jittered.
  const int64_t caps[] = {100, 200, 300};
  for (size_t i = 0; i < sleeps.size(); ++i) {
    EXPECT_GE(sleeps[i].count(), caps[i] / 2) << i;
    EXPECT_LE(sleeps[i].count(), caps[i]) << i;
  }
}

TEST_F(SessionTest, ConnectionErrorsAreRetried) {
  fake_->Enqueue({.error = Error(ErrorCode::kUnavailable, "connection refused")});
  fake_->Enqueue({.error = Error(ErrorCode::kUnavailable, "connection reset")});
  fake_->Enqueue({.status = 200});
  auto session = MakeSession();
  auto r = session->Do({.path = "/v2/"});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(clock_->sleeps().size(), 2u);
}

TEST_F(SessionTest, ConnectionErrorsGiveUpAfterMaxAttempts) {
  for (int i = 0; i < 3; ++i) {
    fake_->Enqueue({.error = Error(ErrorCode::kUnavailable, "connection refused")});
  }
  auto session = MakeSession({.max_attempts = 3});
  auto r = session->Do({.path = "/v2/"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(fake_->requests().size(), 3u);
}

TEST_F(SessionTest, OtherErrorsAndStatusesAreNotRetried) {
  fake_->Enqueue({.status = 404});
  fake_->Enqueue({.error = Error(ErrorCode::kFailedPrecondition, "TLS verification failed")});
  auto session = MakeSession();
  auto r = session->Do({.path = "/v2/x/manifests/1"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
  EXPECT_FALSE(session->Do({.path = "/v2/"}).has_value());
  EXPECT_EQ(fake_->requests().size(), 2u);
  EXPECT_TRUE(clock_->sleeps().empty());
}

TEST_F(SessionTest, StreamedBodiesAreNotReplayed) {
  fake_->Enqueue({.status = 503});
  auto session = MakeSession();
  StringReader body("payload");
  auto r = session->Do({.method = "PUT", .path = "/v2/x", .body_reader = &body, .body_size = 7});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 503);
  ASSERT_EQ(fake_->requests().size(), 1u);
  EXPECT_EQ(fake_->requests()[0].body, "payload");
}

TEST_F(SessionTest, OpenRetriesUntilHeadersThenStreams) {
  fake_->Enqueue({.status = 500});
  fake_->Enqueue({.status = 200, .body = "streamed"});
  auto session = MakeSession();
  auto stream = session->Open({.path = "/v2/x/blobs/sha256:1"});
  ASSERT_TRUE(stream.has_value()) << stream.error().message();
  EXPECT_EQ((*stream)->response().status, 200);
  auto all = ReadAllBounded(**stream, 100, "blob");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(*all, "streamed");
  EXPECT_TRUE(fake_->requests()[1].streamed);
}

TEST_F(SessionTest, LoopbackHostsTryPlainHttpFirst) {
  fake_->Enqueue({.status = 401});
  fake_->Enqueue({.status = 200, .body = "listed"});
  auto session = Session::Create("127.0.0.1:5000", {.transport = fake_, .clock = clock_});
  ASSERT_TRUE(session.has_value());
  // The probe's 401 without challenge only chose the scheme; the call then needs no auth.
  auto r = (*session)->Do({.path = "/v2/_catalog"});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(fake_->requests()[0].url, "http://127.0.0.1:5000/v2/");
  EXPECT_EQ(fake_->requests()[1].url, "http://127.0.0.1:5000/v2/_catalog");
  EXPECT_EQ((*session)->base_url(), "http://127.0.0.1:5000");
}

TEST(SessionOptionsTest, DefaultCredentialsComeFromTheEnvironmentSnapshot) {
  auto fake = std::make_shared<FakeTransport>();
  fake->Enqueue({.status = 401, .headers = {{"WWW-Authenticate", R"(Basic realm="r")"}}});
  fake->Enqueue({.status = 200});
  auto dir = TempDir::Create("plugctl-session-test");
  ASSERT_TRUE(dir.has_value());
  ASSERT_TRUE(
      WriteFileAtomic((*dir)->path() / "config.json",
                      R"({"auths":{"reg.test":{"auth":")" + Base64Encode("env:pw") + R"("}}})")
          .has_value());
  Environment env{{"DOCKER_CONFIG", (*dir)->path().string()}, {"HOME", "/nonexistent"}};
  auto session =
      Session::Create("reg.test", {.transport = fake, .environment = env, .plain_http = true});
  ASSERT_TRUE(session.has_value());
  ASSERT_TRUE((*session)->Ping().has_value());
  EXPECT_EQ(fake->requests()[1].headers.Get("Authorization"), "Basic " + Base64Encode("env:pw"));
}

TEST(DockerConfigPathTest, DefaultPathFromSnapshot) {
  EXPECT_EQ(DockerConfig::DefaultPath({{"DOCKER_CONFIG", "/c"}, {"HOME", "/h"}}),
            std::filesystem::path("/c/config.json"));
  EXPECT_EQ(DockerConfig::DefaultPath({{"HOME", "/h"}}),
            std::filesystem::path("/h/.docker/config.json"));
  EXPECT_EQ(DockerConfig::DefaultPath({}), std::filesystem::path("./.docker/config.json"));
}

}  // namespace
}  // namespace plugctl::registry
