#include "plugctl/server/http_server.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
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
      r.file = Response::File{fd, 2, file_length};
      return r;
    }
    if (target == "/slow") {
      std::this_thread::sleep_for(milliseconds(500));
      r.body = "slow";
      return r;
    }
    if (target == "/gate") {
      // Blocks until the test opens the gate (bounded, so a failing test still ends).
      std::unique_lock lock(mu);
      gate_cv.wait_for(lock, seconds(5), [this] { return gate_open; });
      r.body = "gate";
      return r;
    }
    if (target == "/big") {
      r.body = std::string(8 << 20, 'b') + "END";
      return r;
    }
    if (target == "/thread") {
      std::lock_guard lock(mu);
      threads.insert(std::this_thread::get_id());
    }
    r.body = "hello";
    r.Set("X-Header", "a\r\nInjected: yes");
    return r;
  }
  bool IsSlow(const Exchange& exchange) override { return exchange.head().target() == "/gate"; }
  void OpenGate() {
    std::lock_guard lock(mu);
    gate_open = true;
    gate_cv.notify_all();
  }
  std::mutex mu;
  std::condition_variable gate_cv;
  bool gate_open = false;
  std::set<std::thread::id> threads;  // that served /thread
  uint64_t limit = 1 << 20;
  std::string file_path;
  uint64_t file_length = 5;
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

 public:
  // Closes with a reset (SO_LINGER 0), as a client giving up mid-download may.
  void Reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  bool connected_ = false;
  bool closed_ = false;
  std::string received_;
  size_t consumed_ = 0;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    HttpServerHooks hooks;
    hooks.on_request = [this](const AccessRecord& r) {
      std::lock_guard lock(records_mu_);
      records_.push_back(std::string(r.method) + " " + std::string(r.target) + " " +
                         std::to_string(r.status) + " " + std::to_string(r.bytes_in) + " " +
                         std::to_string(r.bytes_out));
    };
    server_ = std::make_unique<HttpServer>(options, handler_, hooks);
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

  std::vector<std::string> records() {
    std::lock_guard lock(records_mu_);
    return records_;
  }

  TestHandler handler_;
  std::mutex records_mu_;
  std::vector<std::string> records_;  // "METHOD TARGET STATUS BYTES_IN BYTES_OUT"
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
  // Cut by the deadline, not answered: a trickled head is not a malformed one.
  EXPECT_EQ(c.received().find("HTTP/1.1"), std::string::npos) << c.received();
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

TEST_F(HttpServerTest, ManyKeepAliveRequestsShareTheEventLoops) {
  Start();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<Client>(port()));
    ASSERT_TRUE(clients.back()->connected());
  }
  constexpr std::string_view kRequest = "GET /thread HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int round = 0; round < 50; ++round) {
    for (auto& c : clients) ASSERT_TRUE(c->Send(kRequest));
    for (auto& c : clients) {
      std::string got = c->ReadUntil("hello");
      ASSERT_NE(got.find("hello", got.size() - 5), std::string::npos) << round << got;
    }
  }
  // Eight connections, but no more threads than event loops ran the handler.
  std::lock_guard lock(handler_.mu);
  EXPECT_LE(handler_.threads.size(), std::max(1u, std::thread::hardware_concurrency()));
  // The record follows the response, so the last ones may come a moment after it.
  auto logged = records();
  for (int i = 0; i < 500 && logged.size() < 400; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
    logged = records();
  }
  ASSERT_EQ(logged.size(), 400u);
  EXPECT_EQ(logged[0], "GET /thread 200 " + std::to_string(kRequest.size()) + " 5");
}

// A request the handler calls slow leaves the event loop before it is handled, so the loop's
// other connections are answered meanwhile.
TEST_F(HttpServerTest, SlowRequestsDoNotHoldUpTheirLoop) {
  Start();
  Client gate(server_->port());
  ASSERT_TRUE(gate.Send("GET /gate HTTP/1.1\r\nHost: x\r\n\r\n"));
  // More connections than loops: at least one shares a loop with /gate.
  const unsigned loops = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<Client>> others;
  for (unsigned i = 0; i < 2 * loops + 1; ++i) {
    others.push_back(std::make_unique<Client>(server_->port()));
    ASSERT_TRUE(others.back()->Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  for (auto& c : others) {
    EXPECT_NE(c->ReadUntil("hello", milliseconds(3000)).find("hello"), std::string::npos);
  }
  EXPECT_EQ(gate.received().find("gate"), std::string::npos);  // still held
  handler_.OpenGate();
  EXPECT_NE(gate.ReadUntil("gate").find("200 OK"), std::string::npos) << gate.received();
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Start();
  Client c(port());
  // The second request arrives split, its head completing only with the last send.
  ASSERT_TRUE(
      c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /thread HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET / HTTP/1.1\r\nHo"));
  std::this_thread::sleep_for(milliseconds(50));
  ASSERT_TRUE(c.Send("st: x\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(c.ClosedWithin(seconds(5)));
  const std::string& got = c.received();
  size_t first = got.find("hello");
  size_t second = got.find("HTTP/1.1", first);
  size_t third = got.find("hello", second);
  ASSERT_NE(first, std::string::npos) << got;
  ASSERT_NE(second, std::string::npos) << got;
  ASSERT_NE(third, std::string::npos) << got;
  EXPECT_NE(got.find("Connection: close", second), std::string::npos) << got;
}

TEST_F(HttpServerTest, BodyRequestAfterLoopRequestsOnTheSameConnection) {
  Start();
  Client c(port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    c.ReadUntil("hello");
  }
  std::string body(100000, 'x');
  // The head and the first part of the body arrive together, with the next request behind.
  ASSERT_TRUE(c.Send("POST /echo-size HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                     body.substr(0, 1000)));
  std::this_thread::sleep_for(milliseconds(50));
  ASSERT_TRUE(c.Send(body.substr(1000) + "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(c.ReadUntil("100000").find("\r\n\r\n100000"), std::string::npos) << c.received();
  EXPECT_NE(c.ReadUntil("hello").find("hello", c.received().find("100000")), std::string::npos)
      << c.received();
  ASSERT_TRUE(
      c.Send("POST /echo-size HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
             "Expect: 100-continue\r\n\r\n"));
  c.ReadUntil("100 Continue");
  ASSERT_TRUE(c.Send("abc"));
  EXPECT_NE(c.ReadUntil("\r\n\r\n3").find("\r\n\r\n3"), std::string::npos) << c.received();
}

TEST_F(HttpServerTest, AResponseTheSocketCannotTakeAtOnceStillArrivesWhole) {
  Start();
  Client c(port());
  ASSERT_TRUE(c.Send("GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(200));  // let the socket buffers fill up
  std::string got = c.ReadUntil("END", seconds(20));
  ASSERT_NE(got.find("Content-Length: " + std::to_string((8 << 20) + 3)), std::string::npos);
  size_t end = got.find("END");
  EXPECT_EQ(end - got.find("\r\n\r\n") - 4, static_cast<size_t>(8 << 20));
  EXPECT_NE(c.ReadUntil("hello").find("hello", end), std::string::npos);
}

TEST_F(HttpServerTest, SlowLorisIsCutOffOnAKeepAliveConnectionToo) {
  HttpServerOptions options;
  options.header_timeout = seconds(1);
  Start(options);
  Client c(port());
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  c.ReadUntil("hello");
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\n"));
  auto begun = std::chrono::steady_clock::now();
  bool closed = false;
  for (int i = 0; i < 15 && !closed; ++i) {
    c.Send("X");
    closed = c.ClosedWithin(milliseconds(300));
  }
  EXPECT_TRUE(closed);
  EXPECT_GT(std::chrono::steady_clock::now() - begun, milliseconds(500));
  EXPECT_LT(std::chrono::steady_clock::now() - begun, milliseconds(2500));
  EXPECT_EQ(c.received().find("HTTP/1.1 4"), std::string::npos) << c.received();
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionsAreClosedAtTheIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout = seconds(1);
  Start(options);
  Client c(port());
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  c.ReadUntil("hello");
  EXPECT_TRUE(c.ClosedWithin(seconds(3)));
}

TEST_F(HttpServerTest, TheConnectionLimitCountsLoopAndThreadConnections) {
  HttpServerOptions options;
  options.max_connections = 2;
  Start(options);
  Client loop(port());
  ASSERT_TRUE(loop.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  loop.ReadUntil("hello");
  // A body on its way keeps this one on a thread.
  Client upload(port());
  ASSERT_TRUE(upload.Send("POST /echo-size HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12"));
  std::this_thread::sleep_for(milliseconds(100));
  Client third(port());
  EXPECT_NE(third.ReadUntil("503").find("503"), std::string::npos) << third.received();
  ASSERT_TRUE(upload.Send("34567890"));
  EXPECT_NE(upload.ReadUntil("\r\n\r\n10").find("\r\n\r\n10"), std::string::npos);
  ASSERT_TRUE(loop.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(loop.ReadUntil("hello").rfind("hello"), loop.received().find("hello"));
}

TEST_F(HttpServerTest, ShutdownClosesIdleConnectionsAndFinishesTheRest) {
  Start();
  Client idle(port());
  ASSERT_TRUE(idle.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  idle.ReadUntil("hello");
  Client busy(port());
  ASSERT_TRUE(busy.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  Client uploading(port());
  ASSERT_TRUE(uploading.Send("POST /echo-size HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab"));
  std::this_thread::sleep_for(milliseconds(100));
  auto begun = std::chrono::steady_clock::now();
  server_->Shutdown();
  EXPECT_TRUE(idle.ClosedWithin(seconds(2)));
  ASSERT_TRUE(uploading.Send("cd"));
  EXPECT_NE(uploading.ReadUntil("\r\n\r\n4").find("Connection: close"), std::string::npos)
      << uploading.received();
  thread_.join();
  server_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - begun, seconds(5));
  EXPECT_NE(busy.ReadUntil("slow").find("slow"), std::string::npos) << busy.received();
}

TEST_F(HttpServerTest, DrainTimeoutCutsWhatIsStillBusy) {
  HttpServerOptions options;
  options.drain_timeout = seconds(1);
  Start(options);
  Client trickle(port());
  ASSERT_TRUE(trickle.Send("GET / HTTP/1.1\r\n"));  // a head that never completes
  Client upload(port());
  ASSERT_TRUE(upload.Send("POST /echo-size HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(100));
  auto begun = std::chrono::steady_clock::now();
  server_->Shutdown();
  thread_.join();
  server_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - begun, seconds(4));
  EXPECT_TRUE(trickle.ClosedWithin(seconds(1)));
  EXPECT_TRUE(upload.ClosedWithin(seconds(1)));
}

TEST_F(HttpServerTest, ClientsResettingMidFileDoNotEndTheServer) {
  auto dir = *TempDir::Create("http-server-test");
  handler_.file_path = (dir->path() / "f").string();
  std::ofstream(handler_.file_path) << std::string(4 << 20, 'f');
  handler_.file_length = (4 << 20) - 2;
  Start();
  for (int round = 0; round < 5; ++round) {
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 16; ++i) {
      clients.push_back(std::make_unique<Client>(port()));
      ASSERT_TRUE(clients.back()->Send("GET /file HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
    for (auto& c : clients) c->ReadUntil("ffff", milliseconds(500));
    for (auto& c : clients) c->Reset();
  }
  std::this_thread::sleep_for(milliseconds(200));
  Client after(port());
  ASSERT_TRUE(after.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(after.ReadUntil("hello").find("hello"), std::string::npos);
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
