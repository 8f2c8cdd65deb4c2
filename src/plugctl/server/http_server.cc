#include "plugctl/server/http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include <arpa/inet.h>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

namespace plugctl::server {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

namespace {

// Waits until `fd` is ready for `events` or `deadline` passes; a ready `wake_fd` (shutdown)
// also ends the wait when given. Returns 1 ready, 0 timed out, -1 woken.
int WaitFd(int fd, short events, Deadline deadline, int wake_fd = -1) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return 0;
    pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
    int n = ::poll(fds, wake_fd >= 0 ? 2 : 1,
                   static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return 1;  // let the following I/O call report the error
    }
    if (n == 0) continue;
    if (wake_fd >= 0 && (fds[1].revents & POLLIN) != 0 && fds[0].revents == 0) return -1;
    return 1;
  }
}

// sendfile(2) has no MSG_NOSIGNAL: to a client that reset the connection it raises SIGPIPE,
// which would end the process. Blocked in the server's threads, it stays pending and the call
// fails with EPIPE instead.
void BlockSigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

// A connection's byte stream with deadlines: plain TCP or TLS.
class Stream {
 public:
  virtual ~Stream() = default;
  // >0 bytes read, 0 end of stream, <0 failure or timeout.
  virtual ssize_t Read(char* data, size_t size, Deadline deadline) = 0;
  // `more`: the caller sends more right after (a file), so the kernel may hold a partial packet.
  virtual bool WriteAll(const char* data, size_t size, Deadline deadline, bool more = false) = 0;
  // Sends `length` bytes of file `fd` from `offset`, waiting at most io_timeout for progress.
  virtual bool SendFile(int fd, uint64_t offset, uint64_t length,
                        std::chrono::seconds io_timeout) = 0;
  // Bytes already decrypted and waiting (TLS), so a poll on the socket would miss them.
  virtual bool HasPending() const { return false; }
  // Ends the stream's own protocol before the TCP FIN (TLS: close_notify); best effort.
  virtual void Finish() {}
  virtual int fd() const = 0;
};

class PlainStream : public Stream {
 public:
  explicit PlainStream(int fd) : fd_(fd) {}
  ssize_t Read(char* data, size_t size, Deadline deadline) override {
    for (;;) {
      ssize_t n = ::recv(fd_, data, size, 0);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
      if (WaitFd(fd_, POLLIN, deadline) != 1) return -1;
    }
  }
  bool WriteAll(const char* data, size_t size, Deadline deadline, bool more) override {
    while (size > 0) {
      ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
      if (n > 0) {
        data += n;
        size -= static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (WaitFd(fd_, POLLOUT, deadline) != 1) return false;
        continue;
      }
      return false;
    }
    return true;
  }
  bool SendFile(int fd, uint64_t offset, uint64_t length,
                std::chrono::seconds io_timeout) override {
    auto off = static_cast<off_t>(offset);
    while (length > 0) {
      size_t step = static_cast<size_t>(std::min<uint64_t>(length, 1 << 30));
      ssize_t n = ::sendfile(fd_, fd, &off, step);
      if (n > 0) {
        length -= static_cast<uint64_t>(n);
        continue;
      }
      if (n == 0) return false;  // the file is shorter than it was
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (WaitFd(fd_, POLLOUT, Clock::now() + io_timeout) != 1) return false;
        continue;
      }
      return false;
    }
    return true;
  }
  int fd() const override { return fd_; }

 private:
  int fd_;
};

class TlsStream : public Stream {
 public:
  TlsStream(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ~TlsStream() override { SSL_free(ssl_); }

  // The handshake; false on failure or timeout.
  bool Accept(Deadline deadline) {
    for (;;) {
      ERR_clear_error();
      int r = SSL_accept(ssl_);
      if (r == 1) return true;
      if (!Wait(r, deadline)) return false;
    }
  }
  ssize_t Read(char* data, size_t size, Deadline deadline) override {
    for (;;) {
      ERR_clear_error();
      int r = SSL_read(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
      if (r > 0) return r;
      int err = SSL_get_error(ssl_, r);
      if (err == SSL_ERROR_ZERO_RETURN) return 0;
      if (!Wait(r, deadline)) return -1;
    }
  }
  bool WriteAll(const char* data, size_t size, Deadline deadline, bool /*more*/) override {
    while (size > 0) {
      ERR_clear_error();
      int r = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
      if (r > 0) {
        data += r;
        size -= static_cast<size_t>(r);
        continue;
      }
      if (!Wait(r, deadline)) return false;
    }
    return true;
  }
  bool SendFile(int fd, uint64_t offset, uint64_t length,
                std::chrono::seconds io_timeout) override {
    std::string buffer(kCopyBufferSize, '\0');
    while (length > 0) {
      size_t step = static_cast<size_t>(std::min<uint64_t>(length, buffer.size()));
      ssize_t n = ::pread(fd, buffer.data(), step, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      if (!WriteAll(buffer.data(), static_cast<size_t>(n), Clock::now() + io_timeout, false)) {
        return false;
      }
      offset += static_cast<uint64_t>(n);
      length -= static_cast<uint64_t>(n);
    }
    return true;
  }
  bool HasPending() const override { return SSL_pending(ssl_) > 0; }
  int fd() const override { return fd_; }
  // One close_notify, not waiting for the peer's (RFC 8446 6.1 allows that): OpenSSL 3 clients
  // report a bare FIN as "unexpected eof". Never after a fatal error, which OpenSSL forbids.
  void Finish() override {
    if (fatal_) return;
    ERR_clear_error();
    (void)SSL_shutdown(ssl_);
  }

  std::string PeerSubject() const {
    X509* cert = SSL_get_peer_certificate(ssl_);
    if (cert == nullptr) return {};
    char line[512];
    X509_NAME_oneline(X509_get_subject_name(cert), line, sizeof line);
    X509_free(cert);
    return line;
  }

 private:
  bool Wait(int r, Deadline deadline) {
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_READ:
        return WaitFd(fd_, POLLIN, deadline) == 1;
      case SSL_ERROR_WANT_WRITE:
        return WaitFd(fd_, POLLOUT, deadline) == 1;
      case SSL_ERROR_SSL:
      case SSL_ERROR_SYSCALL:
        fatal_ = true;
        return false;
      default:
        return false;
    }
  }
  int fd_;
  SSL* ssl_;
  bool fatal_ = false;
};

// Beast's SyncReadStream/SyncWriteStream over a Stream, with the deadline of the current phase.
class BeastStream {
 public:
  explicit BeastStream(Stream& stream) : stream_(stream) {}
  void set_deadline(Deadline deadline) { deadline_ = deadline; }
  uint64_t bytes_read() const { return bytes_read_; }

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    ec = {};
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::mutable_buffer b = *it;
      if (b.size() == 0) continue;
      ssize_t n = stream_.Read(static_cast<char*>(b.data()), b.size(), deadline_);
      if (n == 0) {
        ec = boost::asio::error::eof;
        return 0;
      }
      if (n < 0) {
        ec = boost::asio::error::timed_out;
        return 0;
      }
      bytes_read_ += static_cast<uint64_t>(n);
      return static_cast<size_t>(n);
    }
    return 0;
  }
  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <class ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
    ec = {};
    size_t total = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::const_buffer b = *it;
      if (!stream_.WriteAll(static_cast<const char*>(b.data()), b.size(), deadline_)) {
        ec = boost::asio::error::timed_out;
        return total;
      }
      total += b.size();
    }
    return total;
  }
  template <class ConstBufferSequence>
  size_t write_some(const ConstBufferSequence& buffers) {
    boost::system::error_code ec;
    size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  Stream& stream_;
  Deadline deadline_ = Clock::now();
  uint64_t bytes_read_ = 0;
};

using Parser = http::request_parser<http::buffer_body>;

// Header values come partly from request data (names, digests): never let one end the line.
// (A plain scan: find_first_of calls memchr once per character, a tenth of a 304's CPU time.)
void AppendHeaderValue(std::string& out, std::string_view value) {
  size_t clean = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\r' || c == '\n' || c == '\0') {
      out.append(value.substr(clean, i - clean));
      clean = i + 1;
    }
  }
  out.append(value.substr(clean));
}

void AppendNumber(std::string& out, uint64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, end);
}

std::string FormatHead(unsigned status, const Response& response, uint64_t content_length,
                       bool keep_alive) {
  std::string out;
  out.reserve(256 + response.headers.size() * 64);
  auto reason = http::obsolete_reason(http::int_to_status(status));
  out += "HTTP/1.1 ";
  AppendNumber(out, status);
  out += ' ';
  out +=
      reason.empty() ? std::string_view("Unknown") : std::string_view(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& [name, value] : response.headers) {
    AppendHeaderValue(out, name);
    out += ": ";
    AppendHeaderValue(out, value);
    out += "\r\n";
  }
  if (status >= 200 && status != 204 && status != 304) {
    out += "Content-Length: ";
    AppendNumber(out, content_length);
    out += "\r\n";
  }
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

Result<std::pair<std::string, std::string>> SplitListen(std::string_view listen) {
  std::string host;
  std::string port;
  if (listen.starts_with('[')) {
    size_t close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return MakeError(ErrorCode::kInvalidArgument, "--listen {}: expected [ADDR]:PORT",
                       PrintableForMessage(listen));
    }
    host = std::string(listen.substr(1, close - 1));
    port = std::string(listen.substr(close + 2));
  } else {
    size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidArgument, "--listen {}: expected ADDR:PORT",
                       PrintableForMessage(listen));
    }
    host = std::string(listen.substr(0, colon));
    port = std::string(listen.substr(colon + 1));
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
    return MakeError(ErrorCode::kInvalidArgument, "--listen {}: invalid port",
                     PrintableForMessage(listen));
  }
  if (host.empty()) host = "0.0.0.0";
  return std::make_pair(host, port);
}

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

std::string PeerName(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = {};
  int port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
    return fmt::format("{}:{}", host, port);
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
  inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
  port = ntohs(a->sin6_port);
  return fmt::format("[{}]:{}", host, port);
}

// A response an event loop could not finish without blocking: the connection's thread sends the
// rest, then writes the access record the loop would have.
struct PendingResponse {
  std::string out;                     // the unsent part of head and body
  std::optional<Response::File> file;  // the unsent file region (its fd is owned here)
  bool keep_alive = false;
  std::string method;
  std::string target;
  std::string user;
  unsigned status = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;  // what the record says once everything went out
  Deadline started{};
};

// What an event-loop connection hands to the thread that continues it.
struct Carry {
  std::string input;        // received bytes not yet consumed: the start of the next request
  Deadline head_started{};  // when the first of them arrived (the header deadline counts from it)
  std::optional<PendingResponse> pending;
};

class EmptyReader : public Reader {
 public:
  Result<size_t> Read(std::span<char> /*out*/) override { return 0; }
};

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  HttpServerOptions options;
  Handler& handler;
  HttpServerHooks hooks;
  int listen_fd = -1;
  int shutdown_fd = -1;  // eventfd: readable once Shutdown() was called
  int reload_fd = -1;    // eventfd: a TLS reload was requested
  std::string host;

  std::mutex tls_mu;
  std::shared_ptr<SSL_CTX> tls_ctx;

  std::mutex mu;
  std::condition_variable cv;
  std::set<int> connections;  // fds of live connections, in event loops and on threads alike
  std::atomic<bool> stopping{false};

  // Plain-HTTP connections live in these event loops until one needs to block (Run owns them).
  struct Loop;
  std::vector<Loop*> loops;
  size_t next_loop = 0;

  Impl(HttpServerOptions o, Handler& h, HttpServerHooks k)
      : options(std::move(o)), handler(h), hooks(std::move(k)) {}

  ~Impl() {
    if (listen_fd >= 0) ::close(listen_fd);
    if (shutdown_fd >= 0) ::close(shutdown_fd);
    if (reload_fd >= 0) ::close(reload_fd);
  }

  void Event(std::string_view text) {
    if (hooks.on_event) hooks.on_event(text);
  }

  Result<std::shared_ptr<SSL_CTX>> LoadTls() {
    const TlsOptions& tls = *options.tls;
    std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
    if (!ctx) return MakeError(ErrorCode::kInternal, "TLS: {}", OpenSslError());
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx.get(),
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert_file.c_str()) != 1) {
      return MakeError(ErrorCode::kInvalidArgument, "--tls-cert {}: {}", tls.cert_file.string(),
                       OpenSslError());
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return MakeError(ErrorCode::kInvalidArgument, "--tls-key {}: {}", tls.key_file.string(),
                       OpenSslError());
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
      return MakeError(ErrorCode::kInvalidArgument, "--tls-key {} does not match --tls-cert {}",
                       tls.key_file.string(), tls.cert_file.string());
    }
    if (tls.client_ca_file) {
      if (SSL_CTX_load_verify_locations(ctx.get(), tls.client_ca_file->c_str(), nullptr) != 1) {
        return MakeError(ErrorCode::kInvalidArgument, "--tls-client-ca {}: {}",
                         tls.client_ca_file->string(), OpenSslError());
      }
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file->c_str());
      if (names != nullptr) SSL_CTX_set_client_CA_list(ctx.get(), names);
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      // Clients resume sessions (curl does across its parallel connections); with peer
      // verification on, OpenSSL refuses a resumption without a session id context by
      // aborting the handshake with an "internal error" alert.
      static constexpr unsigned char kSessionContext[] = "plugctl-serve";
      SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
    }
    return ctx;
  }

  void ReloadTls() {
    auto ctx = LoadTls();
    if (!ctx) {
      Event(fmt::format("TLS reload failed, keeping the previous certificate: {}",
                        ctx.error().message()));
      return;
    }
    std::lock_guard lock(tls_mu);
    tls_ctx = *ctx;
    Event("TLS certificate reloaded");
  }

  void AcceptLoop() {
    for (;;) {
      pollfd fds[3] = {{listen_fd, POLLIN, 0}, {shutdown_fd, POLLIN, 0}, {reload_fd, POLLIN, 0}};
      int n = ::poll(fds, 3, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        Event(fmt::format("poll: {}", std::strerror(errno)));
        return;
      }
      if (fds[1].revents != 0) {
        // Read what Shutdown() wrote (so its write happens-before this thread closes the fd,
        // as ThreadSanitizer requires), then write it back: idle connections poll the same
        // eventfd to learn that the server is stopping.
        uint64_t value = 0;
        if (::read(shutdown_fd, &value, sizeof value) == sizeof value) {
          (void)!::write(shutdown_fd, &value, sizeof value);
        }
        return;
      }
      if (fds[2].revents != 0) {
        uint64_t value = 0;
        if (::read(reload_fd, &value, sizeof value) < 0) {
          // Nothing to do: the eventfd is drained by the next successful read.
        }
        if (options.tls) ReloadTls();
      }
      if ((fds[0].revents & POLLIN) == 0) continue;
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
          Event("accept: out of file descriptors");
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        continue;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      {
        std::unique_lock lock(mu);
        if (connections.size() >= options.max_connections) {
          lock.unlock();
          static constexpr std::string_view kBusy =
              "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\n"
              "Connection: close\r\n\r\n";
          (void)!::send(fd, kBusy.data(), kBusy.size(), MSG_NOSIGNAL);
          ::close(fd);
          continue;
        }
        connections.insert(fd);
      }
      Dispatch(fd, PeerName(addr));
    }
  }

  // Gives a new connection to an event loop (round robin), or a thread when there are none.
  void Dispatch(int fd, std::string peer);

  // Serves connection `fd` on its own thread until it closes.
  void StartThread(int fd, std::string peer, Carry carry) {
    std::thread([self = shared_from_this(), fd, peer = std::move(peer),
                 carry = std::move(carry)]() mutable {
      BlockSigpipe();
      self->Serve(fd, peer, std::move(carry));
      self->Forget(fd);
    }).detach();
  }

  // Closes a connection and stops counting it; in that order, so a new connection that gets the
  // same fd number is never the one erased.
  void Forget(int fd) {
    {
      std::lock_guard lock(mu);
      connections.erase(fd);
    }
    ::close(fd);
    cv.notify_all();
  }

  void Serve(int fd, const std::string& peer, Carry carry);
  // Sends the rest of a response an event loop began, and logs it; true to keep the connection.
  bool FinishPending(Stream& stream, PendingResponse& pending, const std::string& peer);
  void LogRequest(std::string_view method, std::string_view target, unsigned status,
                  uint64_t bytes_in, uint64_t bytes_out, Deadline started, std::string_view user,
                  std::string_view peer) {
    if (!hooks.on_request) return;
    hooks.on_request(AccessRecord{
        .method = method,
        .target = target,
        .status = status,
        .bytes_in = bytes_in,
        .bytes_out = bytes_out,
        .duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started),
        .user = user,
        .peer = peer,
    });
  }
};

namespace {

// The request body of one exchange, read from the parser on demand.
class BodyReader : public Reader {
 public:
  BodyReader(Parser& parser, BeastStream& stream, boost::beast::flat_buffer& buffer,
             std::chrono::seconds io_timeout, bool expect_continue)
      : parser_(parser),
        stream_(stream),
        buffer_(buffer),
        io_timeout_(io_timeout),
        expect_continue_(expect_continue) {}

  void set_limit(uint64_t limit) { limit_ = limit; }
  uint64_t total() const { return total_; }
  bool continue_pending() const { return expect_continue_ && !continue_sent_; }

  Result<size_t> Read(std::span<char> out) override {
    if (parser_.is_done()) return 0;
    if (expect_continue_ && !continue_sent_) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.set_deadline(Clock::now() + io_timeout_);
      boost::system::error_code ec;
      stream_.write_some(boost::asio::const_buffer(kContinue.data(), kContinue.size()), ec);
      if (ec) return MakeError(ErrorCode::kUnavailable, "request body: connection lost");
      continue_sent_ = true;
    }
    while (!parser_.is_done()) {
      parser_.get().body().data = out.data();
      parser_.get().body().size = out.size();
      stream_.set_deadline(Clock::now() + io_timeout_);
      boost::system::error_code ec;
      http::read_some(stream_, buffer_, parser_, ec);
      if (ec == http::error::need_buffer) ec = {};
      size_t n = out.size() - parser_.get().body().size;
      if (ec) {
        if (ec == boost::asio::error::timed_out) {
          return MakeError(ErrorCode::kUnavailable, "request body: timed out");
        }
        if (ec == boost::asio::error::eof || ec == http::error::partial_message) {
          return MakeError(ErrorCode::kUnavailable, "request body: connection closed early");
        }
        return MakeError(ErrorCode::kInvalidArgument, "request body: {}", ec.message());
      }
      total_ += n;
      if (total_ > limit_) {
        return MakeError(ErrorCode::kResourceExhausted, "request body over {} bytes", limit_);
      }
      if (n > 0) return n;
    }
    return 0;
  }

 private:
  Parser& parser_;
  BeastStream& stream_;
  boost::beast::flat_buffer& buffer_;
  std::chrono::seconds io_timeout_;
  bool expect_continue_;
  bool continue_sent_ = false;
  uint64_t limit_ = 0;
  uint64_t total_ = 0;
};

class ExchangeImpl : public Exchange {
 public:
  // `limited` is `body` when it takes a limit (a request that has a body).
  ExchangeImpl(const RequestHead& head, const std::string& peer, Reader& body, BodyReader* limited,
               std::optional<uint64_t> content_length, const std::string& subject, bool secure)
      : head_(head),
        peer_(peer),
        body_(body),
        limited_(limited),
        content_length_(content_length),
        subject_(subject),
        secure_(secure) {}
  const RequestHead& head() const override { return head_; }
  const std::string& peer() const override { return peer_; }
  Reader& Body(uint64_t limit) override {
    if (limited_ != nullptr) limited_->set_limit(limit);
    return body_;
  }
  std::optional<uint64_t> content_length() const override { return content_length_; }
  const std::string& client_subject() const override { return subject_; }
  bool secure() const override { return secure_; }

 private:
  const RequestHead& head_;
  const std::string& peer_;
  Reader& body_;
  BodyReader* limited_;
  std::optional<uint64_t> content_length_;
  const std::string& subject_;
  bool secure_;
};

Response PlainError(unsigned status, std::string_view text) {
  Response r;
  r.status = status;
  r.Set("Content-Type", "text/plain; charset=utf-8");
  r.body = std::string(text) + "\n";
  r.close = true;
  return r;
}

// The answer to a request head that cannot be served (both the event loop and the blocking
// path use it, so a client sees the same status either way): 431 for a head over the byte or
// field limits, 400 for anything Beast could not parse. std::nullopt for a good head. `ec` is
// the parse result; end-of-stream and timeouts are the caller's to handle before this.
std::optional<Response> RefuseHead(const Parser& parser, const boost::system::error_code& ec,
                                   const HttpServerOptions& options) {
  if (ec == http::error::header_limit) return PlainError(431, "request header too large");
  if (ec) return PlainError(400, "malformed request: " + ec.message());
  if (std::distance(parser.get().begin(), parser.get().end()) >
      static_cast<std::ptrdiff_t>(options.max_header_fields)) {
    return PlainError(431, "too many header fields");
  }
  return std::nullopt;
}

}  // namespace

void HttpServer::Impl::Serve(int fd, const std::string& peer, Carry carry) {
  std::unique_ptr<Stream> stream;
  std::string subject;
  if (options.tls) {
    std::shared_ptr<SSL_CTX> ctx;
    {
      std::lock_guard lock(tls_mu);
      ctx = tls_ctx;
    }
    SSL* ssl = SSL_new(ctx.get());
    if (ssl == nullptr) return;
    SSL_set_fd(ssl, fd);
    auto tls = std::make_unique<TlsStream>(fd, ssl);
    if (!tls->Accept(Clock::now() + options.header_timeout)) return;
    subject = tls->PeerSubject();
    stream = std::move(tls);
  } else {
    stream = std::make_unique<PlainStream>(fd);
  }
  BeastStream beast_stream(*stream);
  boost::beast::flat_buffer buffer;
  std::optional<Deadline> carried_start;
  if (!carry.input.empty()) {
    auto space = buffer.prepare(carry.input.size());
    std::memcpy(space.data(), carry.input.data(), carry.input.size());
    buffer.commit(carry.input.size());
    carried_start = carry.head_started;
  }
  if (carry.pending && !FinishPending(*stream, *carry.pending, peer)) {
    ::shutdown(fd, SHUT_WR);
    return;
  }
  for (;;) {
    // Idle between requests: wait for the first byte, or for shutdown.
    if (buffer.size() == 0 && !stream->HasPending()) {
      if (stopping.load()) return;
      if (WaitFd(fd, POLLIN, Clock::now() + options.idle_timeout, shutdown_fd) != 1) return;
    }
    // A head the event loop began receiving keeps the deadline of its first byte.
    auto started = carried_start.value_or(Clock::now());
    carried_start.reset();
    Parser parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // BodyReader has the limit
    beast_stream.set_deadline(started + options.header_timeout);
    uint64_t read_before = beast_stream.bytes_read();
    boost::system::error_code ec;
    // The deadline covers the whole head, so a client trickling bytes gains nothing.
    http::read_header(beast_stream, buffer, parser, ec);
    if (ec == boost::asio::error::eof || ec == boost::asio::error::timed_out ||
        ec == http::error::end_of_stream) {
      return;  // closed or too slow: nothing useful to answer
    }
    Response response;
    bool parsed = true;
    if (std::optional<Response> refusal = RefuseHead(parser, ec, options)) {
      response = std::move(*refusal);
      parsed = false;
    }
    std::optional<uint64_t> content_length;
    if (parsed && parser.content_length()) content_length = *parser.content_length();
    bool expect_continue = false;
    if (parsed) {
      auto expect = parser.get()[http::field::expect];
      expect_continue = boost::beast::iequals(expect, "100-continue");
    }
    BodyReader body(parser, beast_stream, buffer, options.io_timeout, expect_continue);
    const RequestHead& head = parser.get().base();
    if (parsed) {
      if (hooks.on_in_flight) hooks.on_in_flight(1);
      ExchangeImpl exchange(head, peer, body, &body, content_length, subject,
                            options.tls.has_value());
      response = handler.Handle(exchange);
      if (hooks.on_in_flight) hooks.on_in_flight(-1);
      // What the handler did not read must go, so the next request starts at its head; a
      // client still waiting for "100 Continue" never sends it, and a large rest is not
      // worth reading.
      if (!parser.is_done()) {
        if (body.continue_pending()) {
          response.close = true;
        } else {
          body.set_limit(body.total() + (1 << 20));
          std::string sink(64 * 1024, '\0');
          for (;;) {
            auto n = body.Read(std::span<char>(sink.data(), sink.size()));
            if (!n) {
              response.close = true;
              break;
            }
            if (*n == 0) break;
          }
        }
      }
    }
    bool keep_alive = parsed && parser.keep_alive() && !response.close && !stopping.load();
    bool head_request = parsed && head.method() == http::verb::head;
    uint64_t length = response.file ? response.file->length : response.body.size();
    std::string out = FormatHead(response.status, response, length, keep_alive);
    bool ok;
    uint64_t sent = 0;
    beast_stream.set_deadline(Clock::now() + options.io_timeout);
    if (head_request || response.status == 204 || response.status == 304) {
      ok = stream->WriteAll(out.data(), out.size(), Clock::now() + options.io_timeout);
    } else if (response.file) {
      ok = stream->WriteAll(out.data(), out.size(), Clock::now() + options.io_timeout,
                            /*more=*/length > 0) &&
           stream->SendFile(response.file->fd, response.file->offset, length, options.io_timeout);
      if (ok) sent = length;
    } else {
      out += response.body;
      ok = stream->WriteAll(out.data(), out.size(), Clock::now() + options.io_timeout);
      if (ok) sent = length;
    }
    if (response.file) ::close(response.file->fd);
    if (hooks.on_request) {
      auto target = parsed ? std::string_view(head.target().data(), head.target().size())
                           : std::string_view("-");
      auto method = parsed
                        ? std::string_view(head.method_string().data(), head.method_string().size())
                        : std::string_view("-");
      hooks.on_request(AccessRecord{
          .method = method,
          .target = target,
          .status = response.status,
          .bytes_in = beast_stream.bytes_read() - read_before,
          .bytes_out = sent,
          .duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started),
          .user = response.user,
          .peer = peer,
      });
    }
    if (!ok || !keep_alive) break;
  }
  stream->Finish();
  ::shutdown(fd, SHUT_WR);
}

bool HttpServer::Impl::FinishPending(Stream& stream, PendingResponse& pending,
                                     const std::string& peer) {
  bool file_left = pending.file && pending.file->length > 0;
  bool ok = stream.WriteAll(pending.out.data(), pending.out.size(),
                            Clock::now() + options.io_timeout, /*more=*/file_left) &&
            (!file_left || stream.SendFile(pending.file->fd, pending.file->offset,
                                           pending.file->length, options.io_timeout));
  if (pending.file) ::close(pending.file->fd);
  LogRequest(pending.method, pending.target, pending.status, pending.bytes_in,
             ok ? pending.bytes_out : 0, pending.started, pending.user, peer);
  return ok && pending.keep_alive;
}

// An epoll loop owning many plain-HTTP connections: one wakeup serves every connection that is
// ready, which is what makes small keep-alive requests cheap (a thread per connection pays a
// context switch per request). Only requests without a body are served here, and only as long
// as nothing would block; otherwise the connection moves to its own thread (StartThread) and the
// blocking code continues it from where the loop stopped.
struct HttpServer::Impl::Loop {
  struct Conn {
    int fd = -1;
    std::string peer;
    std::string in;    // received bytes from the start of the current request on
    size_t start = 0;  // where the current request starts in `in`
    size_t pos = 0;  // how far the parser has consumed it (a start line goes before the head ends)
    std::optional<Parser> parser;
    Deadline started{};   // first byte of the current head
    Deadline deadline{};  // header deadline while a head arrives, else the idle deadline
  };

  Impl& server;
  int epoll_fd = -1;
  int wake_fd = -1;  // eventfd: new connections queued, or the server is stopping
  std::mutex mu;
  std::vector<std::pair<int, std::string>> incoming;
  std::atomic<bool> quit{false};
  std::unordered_map<int, std::unique_ptr<Conn>> conns;
  std::vector<char> scratch = std::vector<char>(64 * 1024);
  Deadline next_reap{};
  bool stop_seen = false;
  std::thread thread;

  explicit Loop(Impl& s) : server(s) {
    epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev);
  }
  ~Loop() {
    if (epoll_fd >= 0) ::close(epoll_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void Adopt(int fd, std::string peer) {
    {
      std::lock_guard lock(mu);
      incoming.emplace_back(fd, std::move(peer));
    }
    Wake();
  }
  void Wake() {
    uint64_t one = 1;
    (void)!::write(wake_fd, &one, sizeof one);
  }

  void Run() {
    BlockSigpipe();
    std::vector<epoll_event> events(256);
    next_reap = Clock::now() + std::chrono::seconds(1);
    for (;;) {
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_reap - Clock::now());
      int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()),
                           static_cast<int>(std::clamp<int64_t>(wait.count(), 0, 1000)));
      if (n < 0 && errno != EINTR) {
        server.Event(fmt::format("epoll_wait: {}", std::strerror(errno)));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      for (int i = 0; i < n; ++i) {
        if (events[i].data.ptr == nullptr) {
          TakeIncoming();
        } else {
          OnReadable(*static_cast<Conn*>(events[i].data.ptr));
        }
      }
      if (quit.load()) {
        while (!conns.empty()) Close(*conns.begin()->second);
        return;
      }
      if (!stop_seen && server.stopping.load()) {
        stop_seen = true;
        // Idle keep-alive connections go now; a head on its way still gets its answer.
        std::vector<Conn*> idle;
        for (auto& [fd, c] : conns) {
          if (c->in.size() == c->start) idle.push_back(c.get());
        }
        for (Conn* c : idle) Close(*c);
      }
      if (Clock::now() >= next_reap) Reap();
    }
  }

  void TakeIncoming() {
    uint64_t value = 0;
    (void)!::read(wake_fd, &value, sizeof value);
    std::vector<std::pair<int, std::string>> taken;
    {
      std::lock_guard lock(mu);
      taken.swap(incoming);
    }
    for (auto& [fd, peer] : taken) {
      if (server.stopping.load()) {
        server.Forget(fd);
        continue;
      }
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      c->peer = std::move(peer);
      SetDeadline(*c, Clock::now() + server.options.idle_timeout);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = c.get();
      if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        server.Forget(fd);
        continue;
      }
      conns.emplace(fd, std::move(c));
    }
  }

  void SetDeadline(Conn& c, Deadline deadline) {
    c.deadline = deadline;
    next_reap = std::min(next_reap, deadline);
  }

  void Reap() {
    auto now = Clock::now();
    next_reap = now + std::chrono::seconds(1);
    std::vector<Conn*> expired;
    for (auto& [fd, c] : conns) {
      if (c->deadline <= now) {
        expired.push_back(c.get());
      } else {
        next_reap = std::min(next_reap, c->deadline);
      }
    }
    for (Conn* c : expired) Close(*c);
  }

  void Close(Conn& c) {
    int fd = c.fd;
    ::shutdown(fd, SHUT_WR);
    conns.erase(fd);  // destroys c
    server.Forget(fd);
  }

  // Hands the connection to a thread of its own; `c` is gone afterwards.
  void Detach(Conn& c, std::optional<PendingResponse> pending) {
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
    Carry carry{c.in.substr(c.start), c.started, std::move(pending)};
    int fd = c.fd;
    std::string peer = std::move(c.peer);
    conns.erase(fd);
    server.StartThread(fd, std::move(peer), std::move(carry));
  }

  void OnReadable(Conn& c) {
    ssize_t n = ::recv(c.fd, scratch.data(), scratch.size(), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
      Close(c);
      return;
    }
    if (c.in.size() == c.start) {
      c.in.clear();
      c.start = c.pos = 0;
      c.started = Clock::now();
      SetDeadline(c, c.started + server.options.header_timeout);
    }
    c.in.append(scratch.data(), static_cast<size_t>(n));
    Process(c);
  }

  enum class Sent { kAll, kBlocked, kFailed };

  // Writes what the socket takes now.
  static Sent SendNow(int fd, PendingResponse& r) {
    size_t done = 0;
    bool file_left = r.file && r.file->length > 0;
    while (done < r.out.size()) {
      ssize_t n = ::send(fd, r.out.data() + done, r.out.size() - done,
                         MSG_NOSIGNAL | MSG_DONTWAIT | (file_left ? MSG_MORE : 0));
      if (n > 0) {
        done += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      r.out.erase(0, done);
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? Sent::kBlocked : Sent::kFailed;
    }
    r.out.clear();
    while (r.file && r.file->length > 0) {
      auto off = static_cast<off_t>(r.file->offset);
      ssize_t n = ::sendfile(fd, r.file->fd, &off,
                             static_cast<size_t>(std::min<uint64_t>(r.file->length, 1 << 30)));
      if (n > 0) {
        r.file->offset += static_cast<uint64_t>(n);
        r.file->length -= static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? Sent::kBlocked : Sent::kFailed;
    }
    return Sent::kAll;
  }

  // Serves the complete requests in `c.in`; `c` may be gone afterwards (closed or detached).
  void Process(Conn& c) {
    const HttpServerOptions& opts = server.options;
    while (c.start < c.in.size()) {
      if (!c.parser) {
        c.parser.emplace();
        c.parser->header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
        c.parser->body_limit(std::numeric_limits<std::uint64_t>::max());
      }
      Parser& parser = *c.parser;
      boost::system::error_code ec;
      size_t used = 0;
      if (c.pos == c.in.size()) {
        ec = http::error::need_more;
      } else {
        used = parser.put(boost::asio::const_buffer(c.in.data() + c.pos, c.in.size() - c.pos), ec);
      }
      if (ec == http::error::need_more) {
        // Keep the head in progress from its first byte: a thread may have to parse it again.
        c.pos += used;
        c.in.erase(0, c.start);
        c.pos -= c.start;
        c.start = 0;
        return;
      }
      Response response;
      bool parsed = !ec;
      if (std::optional<Response> refusal = RefuseHead(parser, ec, opts)) {
        response = std::move(*refusal);
        parsed = false;
      } else if (!parser.is_done() || parser.get().count(http::field::expect) > 0) {
        // A body to stream (or a 100-continue to answer): the blocking code does that, from
        // this request's first byte.
        c.parser.reset();
        Detach(c, std::nullopt);
        return;
      }
      const RequestHead& head = parser.get().base();
      if (parsed) {
        if (server.hooks.on_in_flight) server.hooks.on_in_flight(1);
        EmptyReader body;
        static const std::string kNoSubject;
        std::optional<uint64_t> content_length;
        if (parser.content_length()) content_length = *parser.content_length();
        ExchangeImpl exchange(head, c.peer, body, nullptr, content_length, kNoSubject, false);
        if (server.handler.IsSlow(exchange)) {
          // The thread parses the request again from its first byte.
          if (server.hooks.on_in_flight) server.hooks.on_in_flight(-1);
          c.parser.reset();
          Detach(c, std::nullopt);
          return;
        }
        response = server.handler.Handle(exchange);
        if (server.hooks.on_in_flight) server.hooks.on_in_flight(-1);
      }
      uint64_t bytes_in = parsed ? c.pos + used - c.start : c.in.size() - c.start;
      bool keep_alive = parsed && parser.keep_alive() && !response.close && !server.stopping.load();
      bool no_body = (parsed && head.method() == http::verb::head) || response.status == 204 ||
                     response.status == 304;
      uint64_t length = response.file ? response.file->length : response.body.size();
      PendingResponse out;
      out.out = FormatHead(response.status, response, length, keep_alive);
      if (no_body) {
        if (response.file) ::close(response.file->fd);
      } else if (response.file) {
        out.file = response.file;
        out.bytes_out = length;
      } else {
        out.out += response.body;
        out.bytes_out = length;
      }
      // A large file ties up the loop for the whole copy while other connections wait; on a
      // thread of its own it goes out as it did before the loops (downloads held their speed).
      constexpr uint64_t kInlineFileBytes = 256 * 1024;
      Sent sent =
          out.file && out.file->length > kInlineFileBytes ? Sent::kBlocked : SendNow(c.fd, out);
      if (sent == Sent::kBlocked) {
        out.keep_alive = keep_alive;
        out.method =
            parsed ? std::string(head.method_string().data(), head.method_string().size()) : "-";
        out.target = parsed ? std::string(head.target().data(), head.target().size()) : "-";
        out.user = std::move(response.user);
        out.status = response.status;
        out.bytes_in = bytes_in;
        out.started = c.started;
        c.pos = parsed ? c.pos + used : c.in.size();
        c.start = c.pos;
        c.parser.reset();
        c.started = Clock::now();
        Detach(c, std::move(out));
        return;
      }
      if (out.file) ::close(out.file->fd);
      auto method = head.method_string();
      auto target = head.target();
      server.LogRequest(parsed ? std::string_view(method.data(), method.size()) : "-",
                        parsed ? std::string_view(target.data(), target.size()) : "-",
                        response.status, bytes_in, sent == Sent::kAll ? out.bytes_out : 0,
                        c.started, response.user, c.peer);
      if (sent == Sent::kFailed || !keep_alive) {
        Close(c);
        return;
      }
      c.pos += used;
      c.start = c.pos;
      c.parser.reset();
      c.started = Clock::now();
      SetDeadline(c, c.started + opts.header_timeout);
    }
    c.in.clear();
    c.start = c.pos = 0;
    SetDeadline(c, Clock::now() + opts.idle_timeout);
  }
};

void HttpServer::Impl::Dispatch(int fd, std::string peer) {
  if (loops.empty()) {
    StartThread(fd, std::move(peer), Carry{});
  } else {
    loops[next_loop++ % loops.size()]->Adopt(fd, std::move(peer));
  }
}

HttpServer::HttpServer(HttpServerOptions options, Handler& handler, HttpServerHooks hooks)
    : impl_(std::make_shared<Impl>(std::move(options), handler, std::move(hooks))) {}

HttpServer::~HttpServer() = default;

Status HttpServer::Bind() {
  Impl& s = *impl_;
  s.shutdown_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  s.reload_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s.shutdown_fd < 0 || s.reload_fd < 0) {
    return MakeError(ErrorCode::kInternal, "eventfd: {}", std::strerror(errno));
  }
  if (s.options.tls) {
    PLUGCTL_ASSIGN_OR_RETURN(s.tls_ctx, s.LoadTls());
  }
  PLUGCTL_ASSIGN_OR_RETURN(auto host_port, SplitListen(s.options.listen));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* result = nullptr;
  int rc = ::getaddrinfo(host_port.first.c_str(), host_port.second.c_str(), &hints, &result);
  if (rc != 0) {
    return MakeError(ErrorCode::kInvalidArgument, "--listen {}: {}",
                     PrintableForMessage(s.options.listen), gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(result, freeaddrinfo);
  int fd = ::socket(result->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return MakeError(ErrorCode::kInternal, "socket: {}", std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, result->ai_addr, result->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
    int err = errno;
    ::close(fd);
    return MakeError(err == EADDRINUSE ? ErrorCode::kAlreadyExists : ErrorCode::kUnavailable,
                     "--listen {}: {}", PrintableForMessage(s.options.listen), std::strerror(err));
  }
  s.listen_fd = fd;
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = bound.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port)
                                     : ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  s.host = host_port.first.find(':') != std::string::npos ? "[" + host_port.first + "]"
                                                          : host_port.first;
  return OkStatus();
}

std::string HttpServer::url() const {
  return fmt::format("{}://{}:{}", impl_->options.tls ? "https" : "http", impl_->host, port_);
}

void HttpServer::Run() {
  Impl& s = *impl_;
  // TLS connections keep a thread each: a handshake and its record layer do not suit the loop.
  std::vector<std::unique_ptr<Impl::Loop>> loops;
  if (!s.options.tls) {
    unsigned count = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < count; ++i) {
      loops.push_back(std::make_unique<Impl::Loop>(s));
      s.loops.push_back(loops.back().get());
    }
    if (std::any_of(loops.begin(), loops.end(),
                    [](const auto& loop) { return loop->epoll_fd < 0 || loop->wake_fd < 0; })) {
      // Out of descriptors already: threads serve everything, as they can.
      s.Event(fmt::format("event loops unavailable ({}); a thread per connection",
                          std::strerror(errno)));
      loops.clear();
      s.loops.clear();
    }
    for (auto& loop : loops) loop->thread = std::thread([l = loop.get()] { l->Run(); });
  }
  s.AcceptLoop();
  s.stopping.store(true);
  for (auto& loop : loops) loop->Wake();
  ::close(s.listen_fd);
  s.listen_fd = -1;
  {
    std::unique_lock lock(s.mu);
    if (!s.cv.wait_for(lock, s.options.drain_timeout, [&] { return s.connections.empty(); })) {
      s.Event(fmt::format("{} connection(s) still busy after the drain timeout; cutting them",
                          s.connections.size()));
      for (int fd : s.connections) ::shutdown(fd, SHUT_RDWR);
      s.cv.wait_for(lock, std::chrono::seconds(2), [&] { return s.connections.empty(); });
    }
  }
  for (auto& loop : loops) {
    loop->quit.store(true);
    loop->Wake();
    loop->thread.join();
  }
  s.loops.clear();
}

void HttpServer::Shutdown() {
  uint64_t one = 1;
  if (impl_->shutdown_fd >= 0) (void)!::write(impl_->shutdown_fd, &one, sizeof one);
}

void HttpServer::RequestTlsReload() {
  uint64_t one = 1;
  if (impl_->reload_fd >= 0) (void)!::write(impl_->reload_fd, &one, sizeof one);
}

namespace {

// Only plausible host names go into a URL: the Host header is the client's to choose.
bool PlausibleHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == ':' ||
           c == '[' || c == ']';
  });
}

}  // namespace

std::string RequestBaseUrl(const Exchange& exchange, std::string_view public_url) {
  if (!public_url.empty()) {
    while (public_url.ends_with('/')) public_url.remove_suffix(1);
    return std::string(public_url);
  }
  auto field = exchange.head()[boost::beast::http::field::host];
  std::string_view host(field.data(), field.size());
  return std::string(exchange.secure() ? "https://" : "http://") +
         std::string(PlausibleHost(host) ? host : std::string_view("localhost"));
}

}  // namespace plugctl::server
