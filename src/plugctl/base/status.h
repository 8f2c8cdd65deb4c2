// Directory plugctl/base/: errors, streams, files, temp dirs, parallel runs, clock, environment.
// plugctl/base/status.h — error values for the whole library.
//
// Every fallible function returns Result<T> (tl::expected<T, Error>) or Status
// (Result<void>). Errors carry the most specific ErrorCode and a one-line
// message; callers add context on the way up instead of logging.
//
//   Result<Digest> d = Digest::Parse(text);
//   if (!d) return tl::unexpected(d.error().WithContext("config.digest"));
//
// Only members that std::expected also has are used, so switching to it later
// touches this header alone.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <tl/expected.hpp>

namespace plugctl {

// The class of a failure, for callers that react to it (retry kUnavailable, fall back on
// kNotFound, map to an HTTP status in a server). The CLI does not turn codes into distinct exit
// statuses: every failed command exits 1 and a usage error 2 (cli/app.h), as docker, skopeo
// and oras do, so scripts test for non-zero and read the one-line message.
enum class ErrorCode {
  kInvalidArgument,     // malformed input: reference, JSON, YAML, flag values
  kNotFound,            // tag, digest, file or repository does not exist
  kAlreadyExists,       // refused to overwrite
  kUnauthenticated,     // no or bad credentials
  kPermissionDenied,    // credentials valid but not allowed
  kDataLoss,            // digest or size mismatch, truncated content
  kFailedPrecondition,  // the operation does not fit the object's state/shape
  kResourceExhausted,   // a size or count limit was hit
  kUnimplemented,       // valid request we do not support
  kUnavailable,         // transient: connection refused, 5xx, 429
  kCancelled,           // stopped by the caller
  kInternal,            // a bug or an unexpected OS failure
};

// The code's stable name for scripts ("INVALID_ARGUMENT", "NOT_FOUND", …: the spelling of
// gRPC and abseil status codes).
std::string_view ErrorCodeName(ErrorCode code);

// An error value. Thread-compatible value type.
class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "context: message".
  Error WithContext(std::string_view context) const {
    return Error(code_, fmt::format("{}: {}", context, message_));
  }

  std::string ToString() const { return message_; }

  bool operator==(const Error&) const = default;

 private:
  ErrorCode code_;
  std::string message_;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline Status OkStatus() { return {}; }

// Builds an unexpected Error with an fmt-formatted message:
//   return MakeError(ErrorCode::kNotFound, "blob {} not found", digest.ToString());
template <typename... Args>
tl::unexpected<Error> MakeError(ErrorCode code, fmt::format_string<Args...> format,
                                Args&&... args) {
  return tl::unexpected<Error>(Error(code, fmt::format(format, std::forward<Args>(args)...)));
}

// `text` made safe to echo in a one-line message about untrusted input: control characters
// become '?', and text longer than `max_chars` bytes is cut and ends in "...".
std::string PrintableForMessage(std::string_view text, size_t max_chars = 200);

}  // namespace plugctl

// Returns early with the error of a Result/Status expression.
#define PLUGCTL_RETURN_IF_ERROR(expr)                              \
  do {                                                             \
    auto plugctl_status_ = (expr);                                 \
    if (!plugctl_status_) {                                        \
      return ::tl::unexpected(std::move(plugctl_status_).error()); \
    }                                                              \
  } while (0)

#define PLUGCTL_CONCAT_INNER_(a, b) a##b
#define PLUGCTL_CONCAT_(a, b) PLUGCTL_CONCAT_INNER_(a, b)

// Declares or assigns `lhs` from a Result expression, returning early on error:
//   PLUGCTL_ASSIGN_OR_RETURN(auto manifest, Manifest::Parse(bytes));
#define PLUGCTL_ASSIGN_OR_RETURN(lhs, expr) \
  PLUGCTL_ASSIGN_OR_RETURN_IMPL_(PLUGCTL_CONCAT_(plugctl_result_, __LINE__), lhs, expr)
#define PLUGCTL_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)       \
  auto tmp = (expr);                                         \
  if (!tmp) return ::tl::unexpected(std::move(tmp).error()); \
  lhs = std::move(*tmp)
