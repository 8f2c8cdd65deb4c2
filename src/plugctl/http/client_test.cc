#include "plugctl/http/client.h"

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace plugctl::http {
namespace {

// What the tiny server saw of one request.
struct Seen {
  std::string head;  // request line and header lines, CRLF-separated
  std::string body;

  std::string RequestLine() const { return head.substr(0, head.find("\r\n")); }
  bool HasHeaderLine(std::string_view line) const {
    return head.find("\r\n" + std::string(line) + "\r\n") != std::string::npos;
  }
};

// A one-connection-at-a-time HTTP/1.1 server on 127.0.0.1, port 0. Every
// response closes its connection. Waits are bounded (poll with timeouts).
class TinyServer {
 public:
  using Handler = std::function<std::string(const Seen&)>;

  explicit TinyServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TinyServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  // Replies send their first `after` bytes at once, then one byte every `every`.
  void Trickle(size_t after, std::chrono::milliseconds every) {
    trickle_after_ = after;
    trickle_every_ = every;
  }

  static std::string Reply(int status, std::string_view reason, std::string_view headers,
                           std::string_view body) {
    return fmt::format("HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n{}",
                       status, reason, body.size(), headers, body);
  }

 private:
  // Waits up to 5 s for the socket to be readable.
  static bool WaitReadable(int fd) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    return ::poll(&p, 1, 5000) == 1;
  }

  void Serve() {
    while (!stop_) {
      pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, 50) != 1) continue;
      int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      Handle(conn);
      ::close(conn);
    }
  }

  void Handle(int conn) {
    std::string data;
    char buf[65536];
    size_t head_end;
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
      if (!WaitReadable(conn)) return;
      ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) return;
      data.append(buf, static_cast<size_t>(n));
    }
    Seen seen{.head = data.substr(0, head_end + 2), .body = data.substr(head_end + 4)};
    size_t length = 0;
    std::string lower;
    for (char c : seen.head) lower.push_back(static_cast<char>(std::tolower(c)));
    if (size_t cl = lower.find("\r\ncontent-length:"); cl != std::string::npos) {
      length = std::strtoull(seen.head.c_str() + cl + 17, nullptr, 10);
    }
    while (seen.body.size() < length) {
      if (!WaitReadable(conn)) return;
      ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) return;
      seen.body.append(buf, static_cast<size_t>(n));
    }
    {
      std::lock_guard lock(mu_);
      seen_.push_back(seen);
    }
    std::string reply = handler_(seen);
    const size_t after = trickle_after_.load();
    const std::chrono::milliseconds every = trickle_every_.load();
    for (size_t sent = 0; sent < reply.size() && !stop_;) {
      size_t want = reply.size() - sent;
      if (sent >= after) {
        std::this_thread::sleep_for(every);
        want = 1;
      } else {
        want = std::min(want, after - sent);
      }
      ssize_t n = ::send(conn, reply.data() + sent, want, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }

  Handler handler_;
  std::atomic<size_t> trickle_after_{SIZE_MAX};
  std::atomic<std::chrono::milliseconds> trickle_every_{};
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
};

std::unique_ptr<Client> MakeClient(ClientOptions options = {}) {
  options.connect_timeout = std::chrono::seconds(5);
  options.low_speed_time = std::chrono::seconds(10);
  auto client = Client::Create(options);
  EXPECT_TRUE(client.has_value());
  return std::move(*client);
}

TEST(ClientTest, DoSendsHeadersAndReadsStatusHeadersAndBody) {
  TinyServer server([](const Seen&) {
    return TinyServer::Reply(201, "Created", "X-One: 1\r\nX-Two:  two \r\nX-One: 3\r\n", "hello");
  });
  auto client = MakeClient({.user_agent = "plugctl-test"});
  Request req{.method = "GET", .url = server.url("/v2/x?n=1")};
  req.headers.Add("Accept", "application/json");
  auto r = client->Do(req);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->url, server.url("/v2/x?n=1"));
  EXPECT_EQ(r->headers.GetAll("x-one"), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(r->headers.Get("X-Two"), "two ");
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].RequestLine(), "GET /v2/x?n=1 HTTP/1.1");
  EXPECT_TRUE(seen[0].HasHeaderLine("Accept: application/json")) << seen[0].head;
  EXPECT_TRUE(seen[0].HasHeaderLine("User-Agent: plugctl-test")) << seen[0].head;
}

TEST(ClientTest, DoBoundsTheBody) {
  TinyServer server([](const Seen&) { return TinyServer::Reply(200, "OK", "", "too long"); });
  auto r = MakeClient()->Do({.url = server.url()}, 4);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted);
}

TEST(ClientTest, ErrorStatusesAndRedirectsAreResponses) {
  TinyServer server([](const Seen& s) {
    if (s.RequestLine().starts_with("GET /moved")) {
      return TinyServer::Reply(307, "Temporary Redirect", "Location: /elsewhere\r\n", "");
    }
    return TinyServer::Reply(404, "Not Found", "", R"({"errors":[]})");
  });
  auto client = MakeClient();
  auto moved = client->Do({.url = server.url("/moved")});
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->status, 307);
  EXPECT_EQ(moved->headers.Get("Location"), "/elsewhere");
  auto missing = client->Do({.method = "HEAD", .url = server.url("/missing")});
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(server.seen().size(), 2u);
  EXPECT_EQ(server.seen()[1].RequestLine(), "HEAD /missing HTTP/1.1");
}

TEST(ClientTest, UploadsStringAndStreamedBodies) {
  TinyServer server([](const Seen&) { return TinyServer::Reply(201, "Created", "", ""); });
  auto client = MakeClient();
  auto put = client->Do({.method = "PUT", .url = server.url("/m"), .body = "{\"a\":1}"});
  ASSERT_TRUE(put.has_value()) << put.error().message();
  std::string big(300000, 'z');
  StringReader reader(big);
  auto patch = client->Do({.method = "PATCH",
                           .url = server.url("/u"),
                           .body_reader = &reader,
                           .body_size = static_cast<int64_t>(big.size())});
  ASSERT_TRUE(patch.has_value()) << patch.error().message();
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].RequestLine(), "PUT /m HTTP/1.1");
  EXPECT_EQ(seen[0].body, "{\"a\":1}");
  EXPECT_EQ(seen[1].RequestLine(), "PATCH /u HTTP/1.1");
  EXPECT_TRUE(seen[1].HasHeaderLine("Content-Length: 300000")) << seen[1].head;
  EXPECT_EQ(seen[1].body, big);
  // No 100-continue round trip.
  EXPECT_EQ(seen[1].head.find("Expect:"), std::string::npos);
}

TEST(ClientTest, OpenStreamsALargeBody) {
  std::string blob(3 << 20, '\0');
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>('a' + i % 26);
  TinyServer server([&](const Seen&) { return TinyServer::Reply(200, "OK", "", blob); });
  auto client = MakeClient();  // a stream must not outlive its transport
  auto stream = client->Open({.url = server.url("/blob")});
  ASSERT_TRUE(stream.has_value()) << stream.error().message();
  EXPECT_EQ((*stream)->response().status, 200);
  EXPECT_EQ((*stream)->response().headers.Get("Content-Length"), std::to_string(blob.size()));
  auto all = ReadAllBounded(**stream, blob.size() + 1, "blob");
  ASSERT_TRUE(all.has_value()) << all.error().message();
  EXPECT_TRUE(*all == blob);
}

TEST(ClientTest, ConnectionRefusedIsUnavailable) {
  std::string url;
  {
    TinyServer server([](const Seen&) { return std::string(); });
    url = server.url("/v2/");
  }  // closed: nothing listens on that port now
  auto r = MakeClient()->Do({.url = url});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
}

TEST(ClientTest, PlainHttpGoesThroughTheConfiguredProxy) {
  TinyServer proxy([](const Seen&) { return TinyServer::Reply(200, "OK", "", "via proxy"); });
  auto client = MakeClient({.proxy = {.http = proxy.url("")}});
  auto r = client->Do({.url = "http://registry.invalid:5000/v2/"});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->body, "via proxy");
  ASSERT_EQ(proxy.seen().size(), 1u);
  EXPECT_EQ(proxy.seen()[0].RequestLine(), "GET http://registry.invalid:5000/v2/ HTTP/1.1");
}

TEST(ClientTest, NoProxyHostsAreReachedDirectly) {
  TinyServer proxy([](const Seen&) { return TinyServer::Reply(502, "Bad Gateway", "", ""); });
  TinyServer registry([](const Seen&) { return TinyServer::Reply(200, "OK", "", "direct"); });
  auto client = MakeClient({.proxy = {.http = proxy.url(""), .no_proxy = "example.com,127.0.0.1"}});
  auto r = client->Do({.url = registry.url("/v2/")});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->body, "direct");
  EXPECT_TRUE(proxy.seen().empty());
  EXPECT_EQ(registry.seen()[0].RequestLine(), "GET /v2/ HTTP/1.1");
  // The control: without the exemption the same request goes to the proxy.
  auto proxied = MakeClient({.proxy = {.http = proxy.url("")}})->Do({.url = registry.url("/v2/")});
  ASSERT_TRUE(proxied.has_value()) << proxied.error().message();
  EXPECT_EQ(proxied->status, 502);
  EXPECT_EQ(proxy.seen().size(), 1u);
}

TEST(ClientTest, TheEnvironmentIsNotConsulted) {
  // libcurl would read http_proxy itself; the client sets the proxy explicitly ("" = none).
  TinyServer registry([](const Seen&) { return TinyServer::Reply(200, "OK", "", "direct"); });
  ::setenv("http_proxy", "http://127.0.0.1:1", 1);
  auto r = MakeClient()->Do({.url = registry.url("/")});
  ::unsetenv("http_proxy");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->body, "direct");
}

TEST(ClientTest, DebugLinesRedactSecrets) {
  TinyServer server(
      [](const Seen&) { return TinyServer::Reply(200, "OK", "Set-Cookie: session=abc\r\n", ""); });
  std::mutex mu;
  std::vector<std::string> lines;
  auto client = MakeClient({.debug = [&](std::string_view line) {
    std::lock_guard lock(mu);
    lines.emplace_back(line);
  }});
  Request req{.url = server.url("/v2/")};
  req.headers.Add("Authorization", "Bearer secret-token");
  ASSERT_TRUE(client->Do(req).has_value());
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  EXPECT_EQ(all.find("secret-token"), std::string::npos) << all;
  EXPECT_EQ(all.find("session=abc"), std::string::npos) << all;
  EXPECT_NE(all.find(">   Authorization: REDACTED"), std::string::npos) << all;
  EXPECT_NE(all.find("< 200 "), std::string::npos) << all;
}

// A body trickling in slower than low_speed_limit over low_speed_time fails, even with no
// total deadline.
TEST(ClientTest, ATricklingBodyFailsTheLowSpeedRule) {
  std::string body(100, 'x');
  TinyServer server([&](const Seen&) { return TinyServer::Reply(200, "OK", "", body); });
  server.Trickle(80, std::chrono::milliseconds(100));  // headers, then 10 bytes/s
  auto client = Client::Create({.low_speed_limit = 1000,
                                .low_speed_time = std::chrono::seconds(1),
                                .request_timeout = std::chrono::seconds(0)});
  ASSERT_TRUE(client.has_value());
  auto start = std::chrono::steady_clock::now();
  auto r = (*client)->Do({.url = server.url("/m")}, 1000);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable) << r.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// A small response (Do) must be complete within request_timeout, however steadily it trickles.
TEST(ClientTest, ASmallResponseHasATotalDeadline) {
  std::string body(100, 'x');
  TinyServer server([&](const Seen&) { return TinyServer::Reply(200, "OK", "", body); });
  server.Trickle(80, std::chrono::milliseconds(100));
  auto client = Client::Create({.low_speed_limit = 0, .request_timeout = std::chrono::seconds(1)});
  ASSERT_TRUE(client.has_value());
  auto start = std::chrono::steady_clock::now();
  auto r = (*client)->Do({.url = server.url("/m")}, 1000);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message().find("/m: response not complete within 1 s"), std::string::npos)
      << r.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

// A streamed body (a blob) has no total deadline, only its headers do.
TEST(ClientTest, AStreamedBodyHasNoTotalDeadlineButItsHeadersDo) {
  const std::string body = "0123456789abcdefghij";
  TinyServer server([&](const Seen&) { return TinyServer::Reply(200, "OK", "", body); });
  std::string head = TinyServer::Reply(200, "OK", "", "");
  server.Trickle(head.size(), std::chrono::milliseconds(100));  // the body takes 2 s
  auto client = Client::Create({.low_speed_limit = 0, .request_timeout = std::chrono::seconds(1)});
  ASSERT_TRUE(client.has_value());
  auto stream = (*client)->Open({.url = server.url("/blob")});
  ASSERT_TRUE(stream.has_value()) << stream.error().message();
  std::string got;
  char buf[64];
  for (;;) {
    auto n = (*stream)->Read(std::span<char>(buf, sizeof buf));
    ASSERT_TRUE(n.has_value()) << n.error().message();
    if (*n == 0) break;
    got.append(buf, *n);
  }
  EXPECT_EQ(got, body);

  server.Trickle(10, std::chrono::milliseconds(100));  // the headers take seconds
  auto start = std::chrono::steady_clock::now();
  auto late = (*client)->Open({.url = server.url("/blob")});
  ASSERT_FALSE(late.has_value());
  EXPECT_NE(late.error().message().find("response headers not complete within 1 s"),
            std::string::npos)
      << late.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST(ClientTest, MissingCaFileIsNotFound) {
  auto client = Client::Create({.ca_file = "/nonexistent/ca.pem"});
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().code(), ErrorCode::kNotFound);
}

TEST(ProxyOptionsTest, FromEnvironmentFollowsCurlAndDocker) {
  struct Case {
    Environment env;
    ProxyOptions want;
  };
  const Case cases[] = {
      {{}, {}},
      {{{"HTTP_PROXY", "http://up:1"}}, {.http = "http://up:1"}},
      {{{"http_proxy", "http://low:1"}, {"HTTP_PROXY", "http://up:1"}}, {.http = "http://low:1"}},
      {{{"HTTPS_PROXY", "http://s:1"}, {"NO_PROXY", "a.b"}},
       {.https = "http://s:1", .no_proxy = "a.b"}},
      {{{"https_proxy", "http://s1:1"}, {"HTTPS_PROXY", "http://s2:1"}}, {.https = "http://s1:1"}},
      {{{"ALL_PROXY", "http://all:1"}, {"http_proxy", "http://h:1"}},
       {.http = "http://h:1", .https = "http://all:1"}},
      {{{"all_proxy", "http://a1:1"}, {"ALL_PROXY", "http://a2:1"}},
       {.http = "http://a1:1", .https = "http://a1:1"}},
      {{{"no_proxy", "low"}, {"NO_PROXY", "up"}}, {.no_proxy = "low"}},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    EXPECT_EQ(ProxyOptions::FromEnvironment(cases[i].env), cases[i].want) << "case " << i;
  }
}

TEST(ProxyOptionsTest, ForUrlPicksByScheme) {
  ProxyOptions p{.http = "http://h:1", .https = "http://s:1"};
  EXPECT_EQ(p.ForUrl("http://reg/v2/"), "http://h:1");
  EXPECT_EQ(p.ForUrl("https://reg/v2/"), "http://s:1");
  EXPECT_EQ(p.ForUrl("ftp://reg/"), "");
}

}  // namespace
}  // namespace plugctl::http
