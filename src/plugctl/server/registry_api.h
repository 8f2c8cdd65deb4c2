// plugctl/server/registry_api.h — the OCI distribution API (spec v1.1) as an HTTP handler:
// routing, authorization, the spec's status codes, headers and error bodies, over a
// RegistryStore. Also /token (the token service), /healthz and /metrics.
//
// Names in paths are never percent-decoded: the spec's repository grammar has no '%', so an
// encoded separator or dot is simply an invalid name (400 NAME_INVALID), never a path.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "plugctl/server/auth.h"
#include "plugctl/server/http_server.h"
#include "plugctl/server/metrics.h"
#include "plugctl/server/registry_store.h"

namespace plugctl::server {

struct RegistryApiOptions {
  // Every write answers 405 UNSUPPORTED.
  bool read_only = false;
  // The base URL clients reach this server by ("https://reg.example:5000"), for the token
  // realm; "" derives it from each request's Host header.
  std::string public_url;
  // Upload requests streaming at once; more get 429 TOOMANYREQUESTS.
  int max_concurrent_uploads = 64;
  // Largest blob accepted (bytes; 0: no limit).
  uint64_t max_blob_bytes = 0;
  // Answers requests outside /v2, /token, /healthz and /metrics (404 when null). Not owned.
  Handler* fallback = nullptr;
};

class RegistryApi : public Handler {
 public:
  RegistryApi(RegistryStore& store, Authorizer& auth, Metrics& metrics, RegistryApiOptions options);
  Response Handle(Exchange& exchange) override;
  // The fallback's answer for its paths; the registry API itself is never slow.
  bool IsSlow(const Exchange& exchange) override;

 private:
  RegistryStore& store_;
  Authorizer& auth_;
  Metrics& metrics_;
  RegistryApiOptions options_;
  std::atomic<int> uploads_{0};
};

}  // namespace plugctl::server
