// One HTTP(S) request over libcurl, with bounded bodies and streaming sinks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "berth/common/error.h"

namespace berth::manager {

struct TlsOptions {
  bool skip_verify = false;
  std::string ca_file;  // extra CA bundle; empty: system CAs
};

// Error (non-2xx) bodies are kept up to this many bytes; the transfer stops there, so a registry
// sending an endless error body is not read for as long as it sends.
inline constexpr size_t kMaxErrorBody = 64 << 10;
inline constexpr std::chrono::seconds kDefaultDeadline{300};

struct HttpRequest {
  std::string url;
  std::string method = "GET";
  std::vector<std::string> headers;  // "Name: value"
  // Successful (2xx) bodies go here when set; otherwise they are collected up to max_body.
  std::function<Status(std::string_view)> sink;
  // Called once with a 2xx status before its first body byte reaches the sink.
  std::function<Status(long)> on_status;
  size_t max_body = 4 << 20;
  // The whole request, redirects included, must end within this. Zero: kDefaultDeadline for a
  // body collected in memory (manifests, tokens: a registry trickling one must not hold a pull
  // forever); none for a streamed body or an upload (blobs of any size; the low-speed limit guards those).
  std::chrono::seconds deadline{0};
  TlsOptions tls;
  std::string basic_user;  // user:password, sent only to this host
  // A request body (POST, PUT, PATCH) of upload_size bytes; < 0: none. upload(offset, buf, n) fills
  // buf with up to n bytes from offset and may be asked again from 0 when the transfer rewinds.
  int64_t upload_size = -1;
  std::function<Result<size_t>(int64_t offset, char* buf, size_t n)> upload;
  // Asked about once a second, also while no byte flows (a stalled registry); true aborts the
  // request with kCancelled. A pull whose client went away stops at once, not at the low-speed limit.
  std::function<bool()> cancelled;
};

struct HttpResponse {
  long status = 0;
  std::string content_type;
  std::string www_authenticate;
  std::string docker_content_digest;
  std::string body;  // 2xx without a sink, or the (truncated) error body
  bool body_truncated = false;  // an error body longer than kMaxErrorBody
  std::string location;         // Location (upload sessions), as sent: absolute or from the host root
  std::string range;            // Range of an upload session ("0-1023")
  std::string link;             // Link (the next page of a catalog or tag list)
  std::string last_modified;    // Last-Modified (ADD <url> stamps the file with it)
};

Result<HttpResponse> http_request(const HttpRequest& request);

// "Bearer realm=\"x\",service=\"y\"" -> scheme "bearer" and lowercased parameter names.
struct AuthChallenge {
  std::string scheme;
  std::vector<std::pair<std::string, std::string>> params;
  std::string param(std::string_view name) const;
};
AuthChallenge parse_auth_challenge(std::string_view header);

// The target of the rel="next" entry of a Link header (RFC 8288: `<url>; rel="next"`), or empty.
std::string next_link(std::string_view header);

std::string url_escape(std::string_view s);
std::string base64_encode(std::string_view s);
Result<std::string> base64_decode(std::string_view s);

}  // namespace berth::manager
