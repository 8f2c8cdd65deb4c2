#include "plugctl/server/http_server.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "plugctl/base/file.h"

namespace plugctl::server {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Answers by path: /echo-size reads the body and tells its size, /file sends `file_path`,
// /slow sleeps a little, anything else says "hello".
class TestHandler : public Handler {
 public:
  Response Handle(Exchange& exchange) override {
    std::string target(exchange.head().target());
    Response r;
    if (target == "/echo-size") {
      auto body = ReadUpTo(exchange.Body(limit), limit + 1);
      if (!body) {
        r.status = 413;
        r.body = body.error().message();
        r.close = true;
        return r;
      }
      r.body = std::to_string(body->size());
      return r;
    }
    if (target == "/file") {
      int fd = ::open(file_path.c_str(), O_RDONLY | O_CLOEXEC);
      r.file = Response::File{fd, 2, 5};
      return r;
    }
    if (target == "/slow") {
      std::this_thread::sleep_for(milliseconds(500));
      r.body = "slow";
      return r;
    }
    r.body = "hello";
    r.Set("X-Header", "a\r\nInjected: yes");
    return r;
  }
  uint64_t limit = 1 << 20;
  std::string file_path;
};

class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool Send(std::string_view data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // Reads until `needle` appears, the peer closes, or `timeout` passes.
  // Only bytes after the previous ReadUntil's match count, so a repeated needle waits for its
  // next occurrence.
  std::string ReadUntil(std::string_view needle, milliseconds timeout = milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received_.find(needle, consumed_) == std::string::npos) {
      if (!ReadSome(deadline)) break;
    }
    size_t at = received_.find(needle, consumed_);
    if (at != std::string::npos) consumed_ = at + needle.size();
    return received_;
  }
  // True if the peer closed the connection within `timeout`.
  bool ClosedWithin(milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (ReadSome(deadline)) {
    }
    return closed_;
  }
  const std::string& received() const { return received_; }

 private:
  bool ReadSome(std::chrono::steady_clock::time_point deadline) {
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    received_.append(buf, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string received_;
  size_t consumed_ = 0;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<HttpServer>(options, handler_, HttpServerHooks{});
    ASSERT_TRUE(server_->Bind());
    thread_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    if (server_) {
      server_->Shutdown();
      thread_.join();
    }
  }
  int port() const { return server_->port(); }

  TestHandler handler_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Start();
  Client c(port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  c.ReadUntil("hello");
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got = c.ReadUntil("hello");
  EXPECT_NE(got.find("HTTP/1.1 200 OK"), std::string::npos) << got;
  EXPECT_NE(got.find("Content-Length: 5"), std::string::npos) << got;
  EXPECT_NE(got.rfind("hello"), got.find("hello")) << got;
}

TEST_F(HttpServerTest, HeaderValuesCannotInjectLines) {
  Start();
  Client c(port());
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got = c.ReadUntil("hello");
  EXPECT_EQ(got.find("\r\nInjected"), std::string::npos) << got;
}

TEST_F(HttpServerTest, StreamsBodiesWithLengthAndChunked) {
  Start();
  Client c(port());
  std::string body(300000, 'x');
  ASSERT_TRUE(
      c.Send("POST /echo-size HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n" + body));
  EXPECT_NE(c.ReadUntil("300000").find("\r\n\r\n300000"), std::string::npos);
  Client d(port());
  ASSERT_TRUE(
      d.Send("POST /echo-size HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"));
  EXPECT_NE(d.ReadUntil("\r\n\r\n7").find("\r\n\r\n7"), std::string::npos) << d.received();
}

TEST_F(HttpServerTest, AnswersExpectContinueBeforeTheBody) {
  Start();
  Client c(port());
  ASSERT_TRUE(
      c.Send("POST /echo-size HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
             "Expect: 100-continue\r\n\r\n"));
  EXPECT_NE(c.ReadUntil("100 Continue").find("HTTP/1.1 100 Continue"), std::string::npos);
  ASSERT_TRUE(c.Send("abc"));
  EXPECT_NE(c.ReadUntil("\r\n\r\n3").find("200 OK"), std::string::npos) << c.received();
}

TEST_F(HttpServerTest, BodyOverTheHandlersLimitIsRefused) {
  handler_.limit = 10;
  Start();
  Client c(port());
  ASSERT_TRUE(
      c.Send("POST /echo-size HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n"
             "01234567890123456789"));
  EXPECT_NE(c.ReadUntil("413").find("HTTP/1.1 413"), std::string::npos) << c.received();
}

TEST_F(HttpServerTest, OversizedAndMalformedHeadsGetErrorsAndAClose) {
  HttpServerOptions options;
  options.max_header_bytes = 1024;
  Start(options);
  Client big(port());
  ASSERT_TRUE(
      big.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n"));
  EXPECT_NE(big.ReadUntil("431").find("HTTP/1.1 431"), std::string::npos) << big.received();
  EXPECT_TRUE(big.ClosedWithin(seconds(5)));
  Client bad(port());
  ASSERT_TRUE(bad.Send("GARBAGE\r\n\r\n"));
  EXPECT_NE(bad.ReadUntil("400").find("HTTP/1.1 400"), std::string::npos) << bad.received();
  Client many(port());
  std::string head = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 150; ++i) head += "X-" + std::to_string(i) + ": 1\r\n";
  options.max_header_bytes = 16 * 1024;
  ASSERT_TRUE(many.Send(head + "\r\n"));
  EXPECT_NE(many.ReadUntil("HTTP/1.1 4").find("HTTP/1.1 431"), std::string::npos)
      << many.received();
}

TEST_F(HttpServerTest, SlowLorisIsCutOffAtTheHeaderDeadline) {
  HttpServerOptions options;
  options.header_timeout = seconds(1);
  Start(options);
  Client c(port());
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\n"));
  // Trickle a header byte every 300 ms: each read makes progress, the whole head never comes.
  bool closed = false;
  for (int i = 0; i < 15 && !closed; ++i) {
    c.Send("X");
    closed = c.ClosedWithin(milliseconds(300));
  }
  EXPECT_TRUE(closed);
  EXPECT_EQ(c.received().find("200"), std::string::npos);
}

TEST_F(HttpServerTest, ConnectionsOverTheLimitGet503) {
  HttpServerOptions options;
  options.max_connections = 1;
  Start(options);
  Client first(port());
  ASSERT_TRUE(first.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  first.ReadUntil("hello");
  Client second(port());
  EXPECT_NE(second.ReadUntil("503").find("503"), std::string::npos) << second.received();
}

TEST_F(HttpServerTest, SendsFileRegionsAndHeadSendsNoBody) {
  auto dir = *TempDir::Create("http-server-test");
  handler_.file_path = (dir->path() / "f").string();
  std::ofstream(handler_.file_path) << "0123456789";
  Start();
  Client c(port());
  ASSERT_TRUE(c.Send("GET /file HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got = c.ReadUntil("23456");
  EXPECT_NE(got.find("Content-Length: 5\r\n\r\n23456"), std::string::npos) << got;
  Client h(port());
  ASSERT_TRUE(h.Send("HEAD /file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(h.ClosedWithin(seconds(5)));
  EXPECT_NE(h.received().find("Content-Length: 5\r\n"), std::string::npos) << h.received();
  EXPECT_EQ(h.received().find("23456"), std::string::npos) << h.received();
}

TEST_F(HttpServerTest, ShutdownLetsRequestsInFlightFinish) {
  Start();
  Client c(port());
  ASSERT_TRUE(c.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(100));
  server_->Shutdown();
  thread_.join();
  server_.reset();
  EXPECT_NE(c.ReadUntil("slow").find("slow"), std::string::npos) << c.received();
  EXPECT_NE(c.received().find("Connection: close"), std::string::npos) << c.received();
}

TEST(HttpServerBindTest, RefusesMalformedAndBusyAddresses) {
  TestHandler handler;
  HttpServer bad({.listen = "nonsense"}, handler, {});
  EXPECT_FALSE(bad.Bind());
  HttpServer first({.listen = "127.0.0.1:0"}, handler, {});
  ASSERT_TRUE(first.Bind());
  HttpServer second({.listen = "127.0.0.1:" + std::to_string(first.port())}, handler, {});
  auto status = second.Bind();
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message().find("in use"), std::string::npos) << status.error().message();
}

}  // namespace
}  // namespace plugctl::server
