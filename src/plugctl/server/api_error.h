// Directory plugctl/server/: `plugctl serve` — an OCI distribution registry over an OCI layout.
// plugctl/server/api_error.h — the distribution-spec error codes and the statuses they go with.
//
// The store and the auth code answer in these terms (they know the registry semantics: a
// missing blob is BLOB_UNKNOWN on a blob GET and MANIFEST_BLOB_UNKNOWN on a manifest PUT), and
// the HTTP layer turns an ApiError into the spec's JSON body:
//   {"errors":[{"code":"BLOB_UNKNOWN","message":"…","detail":{}}]}
#pragma once

#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace plugctl::server {

// distribution-spec "Error Codes", plus the spec's 416 for an upload chunk out of order.
enum class ApiCode {
  kBlobUnknown,          // 404
  kBlobUploadInvalid,    // 400 (416 when http_status says so: a chunk out of order)
  kBlobUploadUnknown,    // 404
  kDigestInvalid,        // 400
  kManifestBlobUnknown,  // 400 (the spec's MANIFEST_BLOB_UNKNOWN)
  kManifestInvalid,      // 400
  kManifestUnknown,      // 404
  kNameInvalid,          // 400
  kNameUnknown,          // 404
  kSizeInvalid,          // 400
  kUnauthorized,         // 401
  kDenied,               // 403
  kUnsupported,          // 405 (read-only, deletes disabled) or 415
  kTooManyRequests,      // 429
  kTooLarge,             // 413, code SIZE_INVALID (a manifest over 4 MiB, a body over a limit)
  kInternal,             // 500, code UNKNOWN: storage failures; message goes to the log only
};

struct ApiError {
  ApiCode code = ApiCode::kInternal;
  std::string message;
  // 0: the code's default status (above). Set for 416 and other spec-prescribed variants.
  int http_status = 0;
};

template <typename T>
using ApiResult = tl::expected<T, ApiError>;
using ApiStatus = ApiResult<void>;

inline tl::unexpected<ApiError> MakeApiError(ApiCode code, std::string message,
                                             int http_status = 0) {
  return tl::unexpected<ApiError>(ApiError{code, std::move(message), http_status});
}

// "BLOB_UNKNOWN" …; kTooLarge is "SIZE_INVALID", kInternal "UNKNOWN".
std::string_view ApiCodeName(ApiCode code);
// The status for `error` (its http_status when set, else the code's default).
int HttpStatusOf(const ApiError& error);
// The spec's JSON error body for `error`.
std::string ErrorBody(const ApiError& error);

}  // namespace plugctl::server
