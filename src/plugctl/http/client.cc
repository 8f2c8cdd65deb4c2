#include "plugctl/http/client.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>

#include <curl/curl.h>

#include "plugctl/http/url.h"

namespace plugctl::http {
namespace {

// Bytes a stream buffers before it pauses the transfer: memory per open
// stream stays near this however large the body is.
constexpr size_t kStreamHighWater = 1 << 20;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Error CurlError(CURLcode code, const char* detail, const std::string& url) {
  std::string what = detail != nullptr && *detail != '\0' ? detail : curl_easy_strerror(code);
  ErrorCode ec = ErrorCode::kUnavailable;
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
      return Error(ErrorCode::kFailedPrecondition,
                   fmt::format("{}: TLS verification failed: {} (trust the CA with --ca-file, or "
                               "use --insecure)",
                               RedactUrl(url), what));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      ec = ErrorCode::kInvalidArgument;
      break;
    case CURLE_OUT_OF_MEMORY:
      ec = ErrorCode::kResourceExhausted;
      break;
    default:
      break;
  }
  return Error(ec, fmt::format("{}: {}", RedactUrl(url), what));
}

bool IsSecretHeader(std::string_view name) {
  return EqualsIgnoreCase(name, "Authorization") || EqualsIgnoreCase(name, "Proxy-Authorization") ||
         EqualsIgnoreCase(name, "Cookie") || EqualsIgnoreCase(name, "Set-Cookie");
}

// Per-transfer state shared with libcurl's callbacks.
struct Transfer {
  const Request* request = nullptr;
  Response response;
  bool headers_done = false;
  std::optional<Error> body_error;  // set by the read callback
  // Body sink: Do() appends up to max_body; streams buffer with pause.
  std::string buffer;
  size_t buffer_offset = 0;
  size_t max_body = 0;
  bool overflow = false;
  bool streaming = false;
  bool paused = false;
  // The request_timeout rule: checked from the progress callback.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool whole_body_deadline = false;  // false: the deadline covers the header phase only
  bool timed_out = false;
  std::chrono::seconds timeout{0};
  std::array<char, CURL_ERROR_SIZE> error_detail{};
  std::unique_ptr<StringReader> body_string_reader;

  size_t buffered() const { return buffer.size() - buffer_offset; }
};

size_t HeaderCallback(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    // A new status line (after 1xx or a proxy CONNECT) starts a new header block.
    t->response.headers = Headers();
    size_t sp = line.find(' ');
    t->response.status =
        sp == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
    return size * n;
  }
  if (line.empty()) {
    if (t->response.status >= 200) t->headers_done = true;
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    t->response.headers.Add(std::string(line.substr(0, colon)), std::string(value));
  }
  return size * n;
}

int ProgressCallback(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if ((t->whole_body_deadline || !t->headers_done) &&
      std::chrono::steady_clock::now() > t->deadline) {
    t->timed_out = true;
    return 1;  // aborts with CURLE_ABORTED_BY_CALLBACK
  }
  return 0;
}

Error TimeoutError(const Transfer& t) {
  return Error(
      ErrorCode::kUnavailable,
      fmt::format("{}: {} not complete within {} s", RedactUrl(t.request->url),
                  t.whole_body_deadline ? "response" : "response headers", t.timeout.count()));
}

size_t WriteCallback(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  if (t->streaming) {
    if (t->buffered() >= kStreamHighWater) {
      // libcurl keeps these bytes and delivers them again after unpausing.
      t->paused = true;
      return CURL_WRITEFUNC_PAUSE;
    }
  } else if (t->buffer.size() + bytes > t->max_body) {
    t->overflow = true;
    return 0;  // aborts with CURLE_WRITE_ERROR
  }
  if (t->buffer_offset > 0 && t->buffer_offset == t->buffer.size()) {
    t->buffer.clear();
    t->buffer_offset = 0;
  }
  t->buffer.append(data, bytes);
  return bytes;
}

size_t ReadCallback(char* out, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  auto got = t->request->body_reader->Read(std::span<char>(out, size * n));
  if (!got) {
    t->body_error = got.error();
    return CURL_READFUNC_ABORT;
  }
  return *got;
}

struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using SlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;
struct CurlEasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using EasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;

class CurlClient;

class CurlStream : public ResponseStream {
 public:
  CurlStream(EasyPtr easy, SlistPtr headers, std::unique_ptr<Transfer> transfer,
             std::unique_ptr<Request> request)
      : easy_(std::move(easy)),
        headers_(std::move(headers)),
        transfer_(std::move(transfer)),
        request_(std::move(request)),
        multi_(curl_multi_init()) {}

  ~CurlStream() override {
    curl_multi_remove_handle(multi_, easy_.get());
    curl_multi_cleanup(multi_);
  }

  Status Start() {
    transfer_->request = request_.get();
    curl_multi_add_handle(multi_, easy_.get());
    // Run until the status line and headers are in (or the transfer ended).
    while (!transfer_->headers_done && !done_) PLUGCTL_RETURN_IF_ERROR(Pump());
    if (done_ && result_ != CURLE_OK) return tl::unexpected(TransferError());
    return OkStatus();
  }

  const Response& response() const override { return transfer_->response; }

  Result<size_t> Read(std::span<char> out) override {
    if (out.empty()) return size_t{0};
    while (transfer_->buffered() == 0) {
      if (done_) {
        if (result_ != CURLE_OK) return tl::unexpected(TransferError());
        return size_t{0};
      }
      PLUGCTL_RETURN_IF_ERROR(Pump());
    }
    size_t n = std::min(out.size(), transfer_->buffered());
    std::memcpy(out.data(), transfer_->buffer.data() + transfer_->buffer_offset, n);
    transfer_->buffer_offset += n;
    if (transfer_->buffered() == 0) {
      transfer_->buffer.clear();
      transfer_->buffer_offset = 0;
    }
    return n;
  }

 private:
  Status Pump() {
    if (transfer_->paused && transfer_->buffered() < kStreamHighWater / 2) {
      transfer_->paused = false;
      curl_easy_pause(easy_.get(), CURLPAUSE_CONT);
    }
    int running = 0;
    CURLMcode mc = curl_multi_perform(multi_, &running);
    if (mc != CURLM_OK) {
      return MakeError(ErrorCode::kInternal, "{}: {}", RedactUrl(request_->url),
                       curl_multi_strerror(mc));
    }
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg == CURLMSG_DONE) {
        done_ = true;
        result_ = msg->data.result;
      }
    }
    if (!done_ && transfer_->buffered() == 0 && !transfer_->paused) {
      curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
    return OkStatus();
  }

  Error TransferError() const {
    if (transfer_->body_error) return *transfer_->body_error;
    if (transfer_->timed_out) return TimeoutError(*transfer_);
    return CurlError(result_, transfer_->error_detail.data(), request_->url);
  }

  EasyPtr easy_;
  SlistPtr headers_;
  std::unique_ptr<Transfer> transfer_;
  std::unique_ptr<Request> request_;
  CURLM* multi_;
  bool done_ = false;
  CURLcode result_ = CURLE_OK;
};

class CurlClient : public Client {
 public:
  explicit CurlClient(ClientOptions options) : options_(std::move(options)) {
    share_ = curl_share_init();
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &CurlClient::Lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &CurlClient::Unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  }
  ~CurlClient() override { curl_share_cleanup(share_); }

  Result<Response> Do(const Request& request, size_t max_body) override {
    auto transfer = std::make_unique<Transfer>();
    transfer->request = &request;
    transfer->max_body = max_body;
    PLUGCTL_ASSIGN_OR_RETURN(auto prepared, Prepare(request, *transfer));
    auto& [easy, headers] = prepared;
    CURLcode rc = curl_easy_perform(easy.get());
    if (rc != CURLE_OK) {
      if (transfer->body_error) return tl::unexpected(*transfer->body_error);
      if (transfer->timed_out) return tl::unexpected(TimeoutError(*transfer));
      if (transfer->overflow) {
        return MakeError(ErrorCode::kResourceExhausted,
                         "{}: response body larger than the limit of {} bytes",
                         RedactUrl(request.url), max_body);
      }
      return tl::unexpected(CurlError(rc, transfer->error_detail.data(), request.url));
    }
    Finish(*transfer, easy.get());
    transfer->response.body = std::move(transfer->buffer);
    return std::move(transfer->response);
  }

  Result<std::unique_ptr<ResponseStream>> Open(const Request& request) override {
    // The stream outlives this call: it owns a copy of the request.
    auto owned = std::make_unique<Request>(request);
    auto transfer = std::make_unique<Transfer>();
    transfer->request = owned.get();
    transfer->streaming = true;
    PLUGCTL_ASSIGN_OR_RETURN(auto prepared, Prepare(*owned, *transfer));
    auto& [easy, headers] = prepared;
    Transfer* t = transfer.get();
    CURL* handle = easy.get();
    auto stream = std::make_unique<CurlStream>(std::move(easy), std::move(headers),
                                               std::move(transfer), std::move(owned));
    PLUGCTL_RETURN_IF_ERROR(stream->Start());
    Finish(*t, handle);
    return std::unique_ptr<ResponseStream>(std::move(stream));
  }

 private:
  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<CurlClient*>(user)->locks_[static_cast<size_t>(data) % kLocks].lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<CurlClient*>(user)->locks_[static_cast<size_t>(data) % kLocks].unlock();
  }

  void Finish(Transfer& t, CURL* easy) {
    char* url = nullptr;
    curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url);
    t.response.url = url != nullptr ? url : t.request->url;
    if (options_.debug) {
      options_.debug(fmt::format("< {} {}", t.response.status, RedactUrl(t.response.url)));
      for (const auto& [name, value] : t.response.headers.fields()) {
        options_.debug(
            fmt::format("<   {}: {}", name, IsSecretHeader(name) ? "REDACTED" : RedactUrl(value)));
      }
    }
  }

  Result<std::pair<EasyPtr, SlistPtr>> Prepare(const Request& request, Transfer& t) {
    EasyPtr easy(curl_easy_init());
    if (!easy) return MakeError(ErrorCode::kResourceExhausted, "curl_easy_init failed");
    CURL* c = easy.get();
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_SHARE, share_);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    if (options_.low_speed_limit > 0 && options_.low_speed_time.count() > 0) {
      curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options_.low_speed_limit));
      curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                       static_cast<long>(options_.low_speed_time.count()));
    }
    if (options_.request_timeout.count() > 0) {
      t.timeout = options_.request_timeout;
      t.deadline = std::chrono::steady_clock::now() + options_.request_timeout;
      t.whole_body_deadline = !t.streaming && request.body_reader == nullptr;
      curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &ProgressCallback);
      curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    }
    curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t.error_detail.data());
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &HeaderCallback);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteCallback);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    // Always set, even to "" (no proxy): libcurl would otherwise read the environment itself.
    const std::string proxy = options_.proxy.ForUrl(request.url);
    curl_easy_setopt(c, CURLOPT_PROXY, proxy.c_str());
    curl_easy_setopt(c, CURLOPT_NOPROXY, options_.proxy.no_proxy.c_str());
    if (options_.insecure_skip_verify) {
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.client_cert_file.empty()) {
      curl_easy_setopt(c, CURLOPT_SSLCERT, options_.client_cert_file.c_str());
    }
    if (!options_.client_key_file.empty()) {
      curl_easy_setopt(c, CURLOPT_SSLKEY, options_.client_key_file.c_str());
    }

    const std::string& m = request.method;
    bool has_body = request.body_reader != nullptr || !request.body.empty() || m == "PUT" ||
                    m == "PATCH" || m == "POST";
    if (m == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
      curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m.c_str());
      if (request.body_reader != nullptr) {
        curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadCallback);
        curl_easy_setopt(c, CURLOPT_READDATA, &t);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body_size));
      } else {
        // Small bodies are sent from a reader over the string.
        t.body_string_reader = std::make_unique<StringReader>(request.body);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, &StringReadCallback);
        curl_easy_setopt(c, CURLOPT_READDATA, &t);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      }
    } else if (m != "GET") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m.c_str());
    }

    curl_slist* list = nullptr;
    bool has_accept_encoding = false;
    for (const auto& [name, value] : request.headers.fields()) {
      list = curl_slist_append(list, fmt::format("{}: {}", name, value).c_str());
      has_accept_encoding = has_accept_encoding || EqualsIgnoreCase(name, "Accept-Encoding");
    }
    // A round trip saved per upload; registries do not use 100-continue.
    if (has_body) list = curl_slist_append(list, "Expect:");
    SlistPtr headers(list);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    (void)has_accept_encoding;

    if (options_.debug) {
      options_.debug(fmt::format("> {} {}", m, RedactUrl(request.url)));
      for (const auto& [name, value] : request.headers.fields()) {
        options_.debug(fmt::format(">   {}: {}", name, IsSecretHeader(name) ? "REDACTED" : value));
      }
    }
    return std::make_pair(std::move(easy), std::move(headers));
  }

  static size_t StringReadCallback(char* out, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    auto got = t->body_string_reader->Read(std::span<char>(out, size * n));
    return got ? *got : CURL_READFUNC_ABORT;
  }

  static constexpr size_t kLocks = CURL_LOCK_DATA_LAST;
  ClientOptions options_;
  CURLSH* share_;
  std::array<std::mutex, kLocks> locks_;
};

}  // namespace

ProxyOptions ProxyOptions::FromEnvironment(const Environment& env) {
  // libcurl's own order (lowercase first, then the uppercase name, then all_proxy); libcurl
  // skips HTTP_PROXY (the "httpoxy" precaution for CGI), but docker and Go tools honour it and
  // operators set it for them.
  const std::string all = env.GetFirst({"all_proxy", "ALL_PROXY"});
  ProxyOptions proxy;
  proxy.http = env.GetFirst({"http_proxy", "HTTP_PROXY"});
  if (proxy.http.empty()) proxy.http = all;
  proxy.https = env.GetFirst({"https_proxy", "HTTPS_PROXY"});
  if (proxy.https.empty()) proxy.https = all;
  proxy.no_proxy = env.GetFirst({"no_proxy", "NO_PROXY"});
  return proxy;
}

std::string ProxyOptions::ForUrl(std::string_view url) const {
  if (url.starts_with("http://")) return http;
  if (url.starts_with("https://")) return https;
  return {};
}

Result<std::unique_ptr<Client>> Client::Create(const ClientOptions& options) {
  GlobalInit();
  if (!options.ca_file.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(options.ca_file, ec)) {
      return MakeError(ErrorCode::kNotFound, "CA file {} not found", options.ca_file);
    }
  }
  return std::unique_ptr<Client>(std::make_unique<CurlClient>(options));
}

}  // namespace plugctl::http
