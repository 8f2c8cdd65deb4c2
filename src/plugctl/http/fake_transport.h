// plugctl/http/fake_transport.h — a scripted Transport for tests.
//
// Records every request (with its body read out) and answers from a handler
// or, without one, from a queue of replies in order. A reply may be a
// transport error, or a streamed body cut after some bytes (a Read then fails
// with kUnavailable, as a reset connection does).
//
//   auto fake = std::make_shared<FakeTransport>();
//   fake->Enqueue({.status = 401, .headers = {{"WWW-Authenticate", "Basic realm=x"}}});
//   fake->Enqueue({.status = 200, .body = "{}"});
//   ... Session::Create("reg.test", {.plain_http = true, .transport = fake}) ...
//   EXPECT_EQ(fake->requests()[1].headers.Get("Authorization"), "Basic …");
#pragma once

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plugctl/http/transport.h"

namespace plugctl::http {

struct FakeReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Set: the request fails with this error instead (connection refused…).
  std::optional<Error> error;
  // Open() only: the stream fails with kUnavailable after this many bytes.
  std::optional<size_t> cut_after;
};

// What the fake saw: the request with its body (streamed bodies read out).
struct RecordedRequest {
  std::string method;
  std::string url;
  Headers headers;
  std::string body;
  bool streamed = false;  // Open() rather than Do()
};

// Thread-safe.
class FakeTransport : public Transport {
 public:
  using Handler = std::function<FakeReply(const RecordedRequest&)>;

  void SetHandler(Handler handler) {
    std::lock_guard lock(mu_);
    handler_ = std::move(handler);
  }
  void Enqueue(FakeReply reply) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(reply));
  }
  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

  Result<Response> Do(const Request& request, size_t max_body = 1 << 20) override {
    PLUGCTL_ASSIGN_OR_RETURN(auto pair, Answer(request, false));
    auto& [reply, response] = pair;
    if (reply.body.size() > max_body) {
      return MakeError(ErrorCode::kResourceExhausted, "{}: body over {} bytes", request.url,
                       max_body);
    }
    response.body = reply.body;
    return response;
  }

  Result<std::unique_ptr<ResponseStream>> Open(const Request& request) override {
    PLUGCTL_ASSIGN_OR_RETURN(auto pair, Answer(request, true));
    auto& [reply, response] = pair;
    return std::unique_ptr<ResponseStream>(
        std::make_unique<Stream>(std::move(response), std::move(reply.body), reply.cut_after));
  }

 private:
  class Stream : public ResponseStream {
   public:
    Stream(Response response, std::string body, std::optional<size_t> cut_after)
        : response_(std::move(response)), body_(std::move(body)), cut_after_(cut_after) {}
    const Response& response() const override { return response_; }
    Result<size_t> Read(std::span<char> out) override {
      size_t end = cut_after_ ? std::min(*cut_after_, body_.size()) : body_.size();
      if (offset_ == end && cut_after_) {
        return MakeError(ErrorCode::kUnavailable, "{}: connection reset", response_.url);
      }
      size_t n = std::min(out.size(), end - offset_);
      std::memcpy(out.data(), body_.data() + offset_, n);
      offset_ += n;
      return n;
    }

   private:
    Response response_;
    std::string body_;
    std::optional<size_t> cut_after_;
    size_t offset_ = 0;
  };

  Result<std::pair<FakeReply, Response>> Answer(const Request& request, bool streamed) {
    RecordedRequest recorded{.method = request.method,
                             .url = request.url,
                             .headers = request.headers,
                             .body = request.body,
                             .streamed = streamed};
    if (request.body_reader != nullptr) {
      recorded.body.clear();
      char buf[4096];
      for (;;) {
        auto n = request.body_reader->Read(std::span<char>(buf, sizeof buf));
        if (!n) return tl::unexpected(n.error());
        if (*n == 0) break;
        recorded.body.append(buf, *n);
        if (request.body_size >= 0 &&
            recorded.body.size() >= static_cast<size_t>(request.body_size)) {
          break;  // as libcurl, stop at the announced size
        }
      }
    }
    FakeReply reply;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(recorded);
      if (handler_) {
        reply = handler_(recorded);
      } else if (!queue_.empty()) {
        reply = std::move(queue_.front());
        queue_.pop_front();
      } else {
        return MakeError(ErrorCode::kInternal, "fake transport: unexpected {} {}", request.method,
                         request.url);
      }
    }
    if (reply.error) return tl::unexpected(*reply.error);
    Response response{.status = reply.status, .url = request.url};
    for (const auto& [name, value] : reply.headers) response.headers.Add(name, value);
    return std::make_pair(std::move(reply), std::move(response));
  }

  mutable std::mutex mu_;
  Handler handler_;
  std::deque<FakeReply> queue_;
  std::vector<RecordedRequest> requests_;
};

}  // namespace plugctl::http
