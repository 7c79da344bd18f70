// The HTTP/1.1 request head that opens a streaming connection (an upgrade to SPDY/3.1 or a
// WebSocket), read from the socket with a bounded size, and the few responses the server sends.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "berth/common/error.h"

namespace berth::cri::streaming {

inline constexpr size_t kMaxRequestHead = 16 * 1024;

struct HttpRequest {
  std::string method;
  std::string path;   // without the query
  std::string query;  // after '?', undecoded
  std::multimap<std::string, std::string> headers;  // names lower-cased, values trimmed

  // Every value of a header, comma-separated lists split ("a, b" -> a, b).
  std::vector<std::string> header_values(std::string_view name) const;
  std::string header(std::string_view name) const;  // the first value, "" when absent
  // Whether a comma-separated header holds token (case-insensitive), e.g. Connection: Upgrade.
  bool header_has_token(std::string_view name, std::string_view token) const;
  // Every value of a query parameter, percent-decoded.
  std::vector<std::string> query_values(std::string_view name) const;
};

// Parses a complete head (up to and including the blank line).
Result<HttpRequest> parse_http_request(std::string_view head);

// Reads from fd until the blank line that ends the head; what follows it (the first bytes of the
// upgraded protocol, if the client did not wait) is left in rest.
Result<HttpRequest> read_http_request(int fd, std::string& rest);

// "HTTP/1.1 <code> <reason>" with the headers and a text body, Connection: close.
std::string http_response(int code, std::string_view reason, std::string_view body);

// Sends all of data on a socket without raising SIGPIPE.
Status send_all(int fd, std::string_view data);

}  // namespace berth::cri::streaming
