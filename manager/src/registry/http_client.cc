#include "registry/http_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <mutex>

namespace berth::manager {
namespace {

struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  CURL* curl;
  Status sink_status;
  bool status_reported = false;
  int64_t upload_offset = 0;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\n' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

size_t on_header(char* data, size_t size, size_t count, void* opaque) {
  auto* t = static_cast<Transfer*>(opaque);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {  // a new response (after a redirect or 100-continue)
    t->response->content_type.clear();
    t->response->www_authenticate.clear();
    t->response->docker_content_digest.clear();
    t->response->location.clear();
    t->response->range.clear();
    t->response->link.clear();
    t->response->last_modified.clear();
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name = lower(line.substr(0, colon));
    std::string value(trim(line.substr(colon + 1)));
    if (name == "content-type") t->response->content_type = value;
    if (name == "www-authenticate") t->response->www_authenticate = value;
    if (name == "docker-content-digest") t->response->docker_content_digest = value;
    if (name == "location") t->response->location = value;
    if (name == "range") t->response->range = value;
    if (name == "link") t->response->link = value;
    if (name == "last-modified") t->response->last_modified = value;
  }
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* opaque) {
  auto* t = static_cast<Transfer*>(opaque);
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  std::string_view chunk(data, size * count);
  bool success = status >= 200 && status < 300;
  if (success && t->request->sink) {
    if (!t->status_reported && t->request->on_status) {
      t->status_reported = true;
      t->sink_status = t->request->on_status(status);
      if (!t->sink_status.ok()) return 0;
    }
    t->sink_status = t->request->sink(chunk);
    return t->sink_status.ok() ? chunk.size() : 0;
  }
  size_t limit = success ? t->request->max_body : kMaxErrorBody;
  if (t->response->body.size() + chunk.size() > limit) {
    if (!success) {
      // Keep the head of an error body and stop reading: the rest only explains the status.
      t->response->body.append(chunk.substr(0, limit - t->response->body.size()));
      t->response->body_truncated = true;
      return 0;
    }
    t->sink_status = make_error(ErrorCode::kResourceExhausted,
                                "response from {} is larger than the {} byte limit", t->request->url, limit);
    return 0;
  }
  t->response->body.append(chunk);
  return chunk.size();
}

size_t on_read(char* buf, size_t size, size_t count, void* opaque) {
  auto* t = static_cast<Transfer*>(opaque);
  size_t want = static_cast<size_t>(
      std::min<int64_t>(static_cast<int64_t>(size * count), t->request->upload_size - t->upload_offset));
  if (want == 0) return 0;
  auto n = t->request->upload(t->upload_offset, buf, want);
  if (!n) {
    t->sink_status = std::move(n).error();
    return CURL_READFUNC_ABORT;
  }
  t->upload_offset += static_cast<int64_t>(*n);
  return *n;
}

int on_seek(void* opaque, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(opaque);
  if (origin != SEEK_SET || offset < 0 || offset > t->request->upload_size) return CURL_SEEKFUNC_FAIL;
  t->upload_offset = offset;
  return CURL_SEEKFUNC_OK;
}

int on_progress(void* opaque, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const HttpRequest*>(opaque)->cancelled() ? 1 : 0;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

Result<HttpResponse> http_request(const HttpRequest& request) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return make_error(ErrorCode::kInternal, "curl_easy_init failed");
  HttpResponse response;
  Transfer t{&request, &response, curl.get(), {}};
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  for (const auto& h : request.headers) headers.reset(curl_slist_append(headers.release(), h.c_str()));
  CURL* c = curl.get();
  char error_buf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (request.upload_size >= 0) {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.upload_size));
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(c, CURLOPT_SEEKDATA, &t);
    // No "Expect: 100-continue" round trip before each body.
    headers.reset(curl_slist_append(headers.release(), "Expect:"));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  std::chrono::seconds deadline = request.deadline.count() > 0 ? request.deadline
                                  : request.sink || request.upload_size > 0 ? std::chrono::seconds(0)
                                                                : kDefaultDeadline;
  if (deadline.count() > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(deadline.count() * 1000));
  if (request.cancelled) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &request);
  }
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buf);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "berthd/0.1");
  if (!request.basic_user.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERPWD, request.basic_user.c_str());
  }
  if (request.tls.skip_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!request.tls.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, request.tls.ca_file.c_str());
  CURLcode rc = curl_easy_perform(c);
  if (!t.sink_status.ok()) return std::move(t.sink_status).error();
  if (rc == CURLE_WRITE_ERROR && response.body_truncated) rc = CURLE_OK;  // we stopped an error body
  if (rc == CURLE_ABORTED_BY_CALLBACK && request.cancelled && request.cancelled()) {
    return make_error(ErrorCode::kCancelled, "{} {}: cancelled", request.method, request.url);
  }
  if (rc == CURLE_OPERATION_TIMEDOUT && deadline.count() > 0) {
    return make_error(ErrorCode::kDeadlineExceeded, "{} {}: no complete response within {} s ({})", request.method,
                      request.url, deadline.count(), error_buf[0] ? error_buf : curl_easy_strerror(rc));
  }
  if (rc != CURLE_OK) {
    return make_error(ErrorCode::kUnavailable, "{} {}: {}", request.method, request.url,
                      error_buf[0] ? error_buf : curl_easy_strerror(rc));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

std::string AuthChallenge::param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

AuthChallenge parse_auth_challenge(std::string_view header) {
  AuthChallenge out;
  header = trim(header);
  size_t space = header.find(' ');
  out.scheme = lower(header.substr(0, space));
  if (space == std::string_view::npos) return out;
  std::string_view rest = header.substr(space + 1);
  while (!rest.empty()) {
    rest = trim(rest);
    size_t eq = rest.find('=');
    if (eq == std::string_view::npos) break;
    std::string key = lower(trim(rest.substr(0, eq)));
    rest = rest.substr(eq + 1);
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      size_t i = 1;
      for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value += rest[i];
      }
      rest = rest.substr(std::min(i + 1, rest.size()));
    } else {
      size_t comma = rest.find(',');
      value = std::string(trim(rest.substr(0, comma)));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma);
    }
    out.params.emplace_back(std::move(key), std::move(value));
    rest = trim(rest);
    if (!rest.empty() && rest.front() == ',') rest.remove_prefix(1);
  }
  return out;
}

std::string next_link(std::string_view header) {
  while (!header.empty()) {
    size_t open = header.find('<');
    size_t close = header.find('>', open);
    if (open == std::string_view::npos || close == std::string_view::npos) return {};
    std::string_view target = header.substr(open + 1, close - open - 1);
    size_t next = header.find('<', close);  // the next entry (targets cannot hold '<')
    std::string params = lower(header.substr(close + 1, next == std::string_view::npos ? std::string_view::npos
                                                                                      : next - close - 1));
    for (std::string_view rel : {"rel=\"next\"", "rel=next"}) {
      size_t at = params.find(rel);
      if (at != std::string::npos &&
          (at + rel.size() == params.size() || params[at + rel.size()] == ';' || params[at + rel.size()] == ',' ||
           params[at + rel.size()] == ' ')) {
        return std::string(target);
      }
    }
    if (next == std::string_view::npos) return {};
    header = header.substr(next);
  }
  return {};
}

std::string url_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string base64_encode(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> base64_decode(std::string_view s) {
  std::string in(trim(s));
  if (in.size() % 4 != 0) return make_error(ErrorCode::kInvalidArgument, "invalid base64");
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return make_error(ErrorCode::kInvalidArgument, "invalid base64");
  size_t pad = 0;
  if (!in.empty() && in.back() == '=') pad = in.size() > 1 && in[in.size() - 2] == '=' ? 2 : 1;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace berth::manager
