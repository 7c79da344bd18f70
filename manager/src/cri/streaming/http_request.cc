#include "cri/streaming/http_request.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

namespace berth::cri::streaming {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  while (true) {
    auto comma = s.find(',');
    auto part = trim(s.substr(0, comma));
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> HttpRequest::header_values(std::string_view name) const {
  std::vector<std::string> out;
  auto [begin, end] = headers.equal_range(lower(name));
  for (auto it = begin; it != end; ++it)
    for (auto& v : split_commas(it->second)) out.push_back(std::move(v));
  return out;
}

std::string HttpRequest::header(std::string_view name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

bool HttpRequest::header_has_token(std::string_view name, std::string_view token) const {
  auto values = header_values(name);
  return std::any_of(values.begin(), values.end(), [&](const std::string& v) { return lower(v) == lower(token); });
}

std::vector<std::string> HttpRequest::query_values(std::string_view name) const {
  std::vector<std::string> out;
  std::string_view q = query;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto pair = q.substr(0, amp);
    auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) == name)
      out.push_back(eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

Result<HttpRequest> parse_http_request(std::string_view head) {
  HttpRequest request;
  auto line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) return make_error(ErrorCode::kInvalidArgument, "no HTTP request line");
  std::string_view line = head.substr(0, line_end);
  auto sp1 = line.find(' ');
  auto sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1)
    return make_error(ErrorCode::kInvalidArgument, "malformed HTTP request line");
  if (line.substr(sp2 + 1) != "HTTP/1.1")
    return make_error(ErrorCode::kInvalidArgument, "not an HTTP/1.1 request: {}", line.substr(sp2 + 1));
  request.method = std::string(line.substr(0, sp1));
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  auto qmark = target.find('?');
  request.path = std::string(target.substr(0, qmark));
  if (qmark != std::string_view::npos) request.query = std::string(target.substr(qmark + 1));
  if (request.path.empty() || request.path[0] != '/')
    return make_error(ErrorCode::kInvalidArgument, "HTTP request target is not a path");
  head.remove_prefix(line_end + 2);
  while (!head.empty()) {
    auto end = head.find("\r\n");
    if (end == std::string_view::npos) return make_error(ErrorCode::kInvalidArgument, "unterminated HTTP header");
    std::string_view field = head.substr(0, end);
    head.remove_prefix(end + 2);
    if (field.empty()) break;
    auto colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return make_error(ErrorCode::kInvalidArgument, "malformed HTTP header line");
    request.headers.emplace(lower(field.substr(0, colon)), std::string(trim(field.substr(colon + 1))));
  }
  return request;
}

Result<HttpRequest> read_http_request(int fd, std::string& rest) {
  std::string buffer;
  char chunk[4096];
  while (true) {
    auto end = buffer.find("\r\n\r\n");
    if (end != std::string::npos) {
      rest = buffer.substr(end + 4);
      return parse_http_request(std::string_view(buffer).substr(0, end + 4));
    }
    if (buffer.size() > kMaxRequestHead)
      return make_error(ErrorCode::kInvalidArgument, "HTTP request head larger than {} bytes", kMaxRequestHead);
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read HTTP request");
    if (n == 0) return make_error(ErrorCode::kInvalidArgument, "connection closed inside the HTTP request head");
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

std::string http_response(int code, std::string_view reason, std::string_view body) {
  return fmt::format("HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n"
                     "Connection: close\r\n\r\n{}",
                     code, reason, body.size(), body);
}

Status send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("send");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace berth::cri::streaming
