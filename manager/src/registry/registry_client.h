// An OCI distribution client for one repository: manifests and blobs, with anonymous, basic and
// bearer-token auth negotiated from the registry's WWW-Authenticate challenge.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "content/content_store.h"
#include "registry/http_client.h"
#include "registry/reference.h"

namespace berth::manager {

struct RegistryHostConfig {
  bool plain_http = false;
  bool skip_verify = false;
  std::string ca_file;
};

// Docker's default for a registry not in the config: insecure (HTTPS without verification, then
// plain HTTP) on a loopback address — 127.0.0.0/8, ::1, localhost — and TLS everywhere else.
bool is_loopback_registry(std::string_view host);

struct RegistryOptions {
  std::map<std::string, RegistryHostConfig> hosts;  // by registry host ("127.0.0.1:5000")
  std::string auth_config;                          // docker-style config.json; empty: none
  size_t max_manifest_size = 4 << 20;
  size_t max_config_size = 16 << 20;
  std::string credentials;  // user:password given with the request (berthctl login); wins over auth_config
  std::function<bool()> cancelled;  // true: every request under way stops (the caller went away)
};

struct FetchedManifest {
  std::string media_type;
  std::string digest;
  std::string body;
};

// "user:password" for host from a docker config.json ({"auths": {"host": {"auth": base64}}}), or empty.
Result<std::string> credentials_for(const std::string& config_path, const std::string& host);

class RegistryClient {
 public:
  RegistryClient(Reference ref, RegistryOptions options);

  // object: a tag or digest. A digest is verified against the body.
  Result<FetchedManifest> fetch_manifest(const std::string& object);
  // A small blob read whole (image configs), verified.
  Result<std::string> fetch_small_blob(const std::string& digest, size_t max_size);
  // Streams a blob into writer from its current offset (HTTP Range on resume); commit is the caller's.
  // An error from progress aborts the transfer (cancellation).
  Status fetch_blob(const std::string& digest, ContentWriter& writer,
                    const std::function<Status(int64_t offset)>& progress);

  // One request with this repository's authorization, negotiated on a 401 (once). request.url: a path
  // under /v2/<repository> ("/blobs/uploads/"), a path from the host root ("/v2/..."), or an absolute
  // URL of this registry (an upload Location).
  Result<HttpResponse> send(HttpRequest request);
  // The error for a non-2xx response, with the registry's own message.
  Error status_error(const HttpResponse& response, const std::string& what) const;
  const Reference& reference() const { return ref_; }

 private:
  Result<HttpResponse> get(const std::string& path, std::vector<std::string> headers,
                           std::function<Status(std::string_view)> sink, size_t max_body,
                           std::function<Status(long)> on_status = nullptr);
  Status authenticate(const AuthChallenge& challenge);
  Error transport_error(Error error) const;
  std::string resolve_url(const std::string& url, const std::string& origin) const;

  Reference ref_;
  RegistryOptions options_;
  RegistryHostConfig host_;
  std::string origin_;  // scheme://host; guarded by mu_: an insecure registry falls back to plain HTTP
  bool http_fallback_ = false;
  std::mutex mu_;
  std::string authorization_;  // header value once negotiated
  std::string credentials_;    // user:password from the auth config
  bool credentials_loaded_ = false;
};

}  // namespace berth::manager
