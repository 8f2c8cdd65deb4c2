#include "plugctl/http/url.h"

#include <memory>

#include <curl/curl.h>

#include "plugctl/http/headers.h"

namespace plugctl::http {
namespace {

struct UrlHandleDeleter {
  void operator()(CURLU* h) const { curl_url_cleanup(h); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlHandleDeleter>;

std::string GetPart(CURLU* h, CURLUPart part, unsigned flags = 0) {
  char* value = nullptr;
  if (curl_url_get(h, part, &value, flags) != CURLUE_OK || value == nullptr) return "";
  std::string out(value);
  curl_free(value);
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

}  // namespace

std::string Url::Origin() const {
  bool v6 = host.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}", scheme, v6 ? "[" : "", host, v6 ? "]" : "", port);
}

Result<Url> ParseUrl(std::string_view text) {
  UrlHandle h(curl_url());
  std::string s(text);
  if (s.find('\0') != std::string::npos ||
      curl_url_set(h.get(), CURLUPART_URL, s.c_str(), 0) != CURLUE_OK) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid URL \"{}\"",
                     RedactUrl(text.substr(0, 300)));
  }
  Url url;
  url.scheme = Lower(GetPart(h.get(), CURLUPART_SCHEME));
  if (url.scheme != "http" && url.scheme != "https") {
    return MakeError(ErrorCode::kInvalidArgument, "unsupported URL scheme \"{}\"", url.scheme);
  }
  url.host = Lower(GetPart(h.get(), CURLUPART_HOST));
  if (url.host.size() > 2 && url.host.front() == '[' && url.host.back() == ']') {
    url.host = url.host.substr(1, url.host.size() - 2);
  }
  std::string port = GetPart(h.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  url.port = port.empty() ? 0 : std::stoi(port);
  url.path = GetPart(h.get(), CURLUPART_PATH);
  // push_back, not = "/": GCC 12 -O2 reports a false -Wrestrict for the assignment.
  if (url.path.empty()) url.path.push_back('/');
  url.query = GetPart(h.get(), CURLUPART_QUERY);
  return url;
}

Result<std::string> ResolveUrl(std::string_view base, std::string_view reference) {
  UrlHandle h(curl_url());
  std::string b(base), r(reference);
  if (curl_url_set(h.get(), CURLUPART_URL, b.c_str(), 0) != CURLUE_OK) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid base URL \"{}\"", RedactUrl(base));
  }
  // With a base set, CURLUPART_URL resolves relative references (RFC 3986 §5).
  if (r.find('\0') != std::string::npos ||
      curl_url_set(h.get(), CURLUPART_URL, r.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid URL reference \"{}\"",
                     RedactUrl(reference.substr(0, 300)));
  }
  std::string out = GetPart(h.get(), CURLUPART_URL);
  PLUGCTL_RETURN_IF_ERROR(ParseUrl(out));
  return out;
}

bool SameOrigin(std::string_view a, std::string_view b) {
  auto ua = ParseUrl(a);
  auto ub = ParseUrl(b);
  return ua && ub && ua->Origin() == ub->Origin();
}

std::string QueryEscape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string RedactUrl(std::string_view url) {
  size_t q = url.find('?');
  if (q == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, q + 1));
  std::string_view query = url.substr(q + 1);
  bool first = true;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    static constexpr std::string_view kSecret[] = {"signature",
                                                   "x-amz-signature",
                                                   "x-amz-credential",
                                                   "x-amz-security-token",
                                                   "sig",
                                                   "token",
                                                   "access_token",
                                                   "x-goog-signature",
                                                   "x-goog-credential",
                                                   "se",
                                                   "sv",
                                                   "sp",
                                                   "password",
                                                   "secret",
                                                   "key",
                                                   "ossaccesskeyid",
                                                   "code"};
    bool secret = false;
    for (auto s : kSecret) secret = secret || EqualsIgnoreCase(name, s);
    if (!first) out += '&';
    first = false;
    out += std::string(name);
    if (eq != std::string_view::npos) out += secret ? "=REDACTED" : std::string(pair.substr(eq));
  }
  return out;
}

}  // namespace plugctl::http
