#include "plugctl/server/api_error.h"

#include <nlohmann/json.hpp>

namespace plugctl::server {

std::string_view ApiCodeName(ApiCode code) {
  switch (code) {
    case ApiCode::kBlobUnknown:
      return "BLOB_UNKNOWN";
    case ApiCode::kBlobUploadInvalid:
      return "BLOB_UPLOAD_INVALID";
    case ApiCode::kBlobUploadUnknown:
      return "BLOB_UPLOAD_UNKNOWN";
    case ApiCode::kDigestInvalid:
      return "DIGEST_INVALID";
    case ApiCode::kManifestBlobUnknown:
      return "MANIFEST_BLOB_UNKNOWN";
    case ApiCode::kManifestInvalid:
      return "MANIFEST_INVALID";
    case ApiCode::kManifestUnknown:
      return "MANIFEST_UNKNOWN";
    case ApiCode::kNameInvalid:
      return "NAME_INVALID";
    case ApiCode::kNameUnknown:
      return "NAME_UNKNOWN";
    case ApiCode::kSizeInvalid:
      return "SIZE_INVALID";
    case ApiCode::kUnauthorized:
      return "UNAUTHORIZED";
    case ApiCode::kDenied:
      return "DENIED";
    case ApiCode::kUnsupported:
      return "UNSUPPORTED";
    case ApiCode::kTooManyRequests:
      return "TOOMANYREQUESTS";
    case ApiCode::kTooLarge:
      return "SIZE_INVALID";
    case ApiCode::kInternal:
      return "UNKNOWN";
  }
  return "UNKNOWN";
}

int HttpStatusOf(const ApiError& error) {
  if (error.http_status != 0) return error.http_status;
  switch (error.code) {
    case ApiCode::kBlobUnknown:
    case ApiCode::kBlobUploadUnknown:
    case ApiCode::kManifestUnknown:
    case ApiCode::kNameUnknown:
      return 404;
    case ApiCode::kUnauthorized:
      return 401;
    case ApiCode::kDenied:
      return 403;
    case ApiCode::kUnsupported:
      return 405;
    case ApiCode::kTooManyRequests:
      return 429;
    case ApiCode::kTooLarge:
      return 413;
    case ApiCode::kInternal:
      return 500;
    default:
      return 400;
  }
}

std::string ErrorBody(const ApiError& error) {
  // Internal failures keep their detail for the log; the client learns only that it failed.
  std::string message =
      error.code == ApiCode::kInternal ? std::string("internal error") : error.message;
  nlohmann::json body = {
      {"errors", nlohmann::json::array({{{"code", ApiCodeName(error.code)},
                                         {"message", message},
                                         {"detail", nlohmann::json::object()}}})}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace plugctl::server
