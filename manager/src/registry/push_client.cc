#include "registry/push_client.h"

#include "berth/common/log.h"
#include "content/digest.h"

namespace berth::manager {
namespace {

std::string with_query(const std::string& url, const std::string& query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

// A "Range: 0-<last>" header as the number of bytes the session holds.
int64_t range_end(const std::string& range) {
  size_t dash = range.find('-');
  if (dash == std::string::npos) return 0;
  int64_t last = std::strtoll(range.c_str() + dash + 1, nullptr, 10);
  return last > 0 ? last + 1 : 0;  // docker-registry says "0-0" for an empty session
}

// A request built field by field (GCC 12 misreads designated initializers of HttpRequest here).
HttpRequest make_request(std::string url, std::string method, std::vector<std::string> headers = {},
                         int64_t upload_size = -1,
                         std::function<Result<size_t>(int64_t, char*, size_t)> upload = nullptr) {
  HttpRequest request;
  request.url = std::move(url);
  request.method = std::move(method);
  request.headers = std::move(headers);
  request.upload_size = upload_size;
  request.upload = std::move(upload);
  return request;
}

// Only a broken transfer or a registry's 5xx is worth trying again.
bool retriable(const Error& e) { return e.code() == ErrorCode::kUnavailable; }

}  // namespace

Result<bool> PushClient::blob_exists(const std::string& digest) {
  BERTH_TRY(validate_digest(digest));
  BERTH_ASSIGN_OR_RETURN(HttpResponse response, client_.send(make_request("/blobs/" + digest, "HEAD")));
  if (response.status == 200) return true;
  if (response.status == 404) return false;
  return client_.status_error(response, "check blob " + digest + " of");
}

Result<std::string> PushClient::start_upload(const std::string& digest, const std::string& from) {
  std::string url = "/blobs/uploads/";
  if (!from.empty()) url += "?mount=" + url_escape(digest) + "&from=" + url_escape(from);
  BERTH_ASSIGN_OR_RETURN(HttpResponse response, client_.send(make_request(url, "POST", {}, 0)));
  if (response.status == 201 && !from.empty()) return std::string();
  if (response.status != 202) return client_.status_error(response, "start upload of " + digest + " to");
  if (response.location.empty()) {
    return make_error(ErrorCode::kUnknown, "registry of {} started an upload without a Location",
                      client_.reference().full());
  }
  return response.location;
}

Status PushClient::finish_upload(const std::string& location, const std::string& digest) {
  BERTH_ASSIGN_OR_RETURN(HttpResponse response,
                         client_.send(make_request(with_query(location, "digest=" + url_escape(digest)), "PUT", {}, 0)));
  if (response.status != 201) return client_.status_error(response, "finish upload of " + digest + " to");
  if (!response.docker_content_digest.empty() && response.docker_content_digest != digest) {
    return make_error(ErrorCode::kDataLoss, "registry stored {} as {}", digest, response.docker_content_digest);
  }
  return {};
}

Status PushClient::upload_monolithic(const std::string& location, const BlobSource& blob,
                                     const UploadOptions& options) {
  auto read = [&](int64_t offset, char* buf, size_t n) -> Result<size_t> {
    if (options.progress) BERTH_TRY(options.progress(offset));
    return blob.read(offset, buf, n);
  };
  BERTH_ASSIGN_OR_RETURN(HttpResponse response,
                         client_.send(make_request(with_query(location, "digest=" + url_escape(blob.digest)), "PUT",
                                                   {"Content-Type: application/octet-stream"}, blob.size, read)));
  if (response.status != 201) return client_.status_error(response, "upload blob " + blob.digest + " to");
  if (!response.docker_content_digest.empty() && response.docker_content_digest != blob.digest) {
    return make_error(ErrorCode::kDataLoss, "registry stored {} as {}", blob.digest,
                      response.docker_content_digest);
  }
  return {};
}

Result<int64_t> PushClient::session_offset(std::string& location) {
  BERTH_ASSIGN_OR_RETURN(HttpResponse response, client_.send(make_request(location, "GET")));
  if (response.status != 204) return client_.status_error(response, "upload status at");
  if (!response.location.empty()) location = response.location;
  return range_end(response.range);
}

Status PushClient::upload_chunks(std::string& location, const BlobSource& blob, const UploadOptions& options) {
  BERTH_ASSIGN_OR_RETURN(int64_t offset, session_offset(location));
  while (offset < blob.size) {
    int64_t start = offset;
    int64_t length = std::min(options.chunk_size, blob.size - start);
    auto read = [&](int64_t at, char* buf, size_t n) -> Result<size_t> {
      if (options.progress) BERTH_TRY(options.progress(start + at));
      return blob.read(start + at, buf, n);
    };
    BERTH_ASSIGN_OR_RETURN(
        HttpResponse response,
        client_.send(make_request(location, "PATCH",
                                  {"Content-Type: application/octet-stream",
                                   fmt::format("Content-Range: {}-{}", start, start + length - 1)},
                                  length, read)));
    if (response.status != 202) return client_.status_error(response, "upload chunk of " + blob.digest + " to");
    if (!response.location.empty()) location = response.location;
    offset = response.range.empty() ? start + length : range_end(response.range);
    if (offset <= start) {
      return make_error(ErrorCode::kUnknown, "registry of {} took none of the chunk at {} of {}",
                        client_.reference().full(), start, blob.digest);
    }
  }
  if (options.progress) BERTH_TRY(options.progress(blob.size));
  return finish_upload(location, blob.digest);
}

Result<BlobPushed> PushClient::push_blob(const BlobSource& blob, const std::string& mount_from,
                                         const UploadOptions& options) {
  BERTH_ASSIGN_OR_RETURN(bool exists, blob_exists(blob.digest));
  if (exists) return BlobPushed::kExists;
  bool chunked = blob.size > options.chunk_size;
  std::string location;  // a chunked session survives a broken chunk
  Status st;
  for (int attempt = 0; attempt <= options.retries; ++attempt) {
    if (location.empty()) {
      BERTH_ASSIGN_OR_RETURN(location, start_upload(blob.digest, attempt == 0 ? mount_from : ""));
      if (location.empty()) return BlobPushed::kMounted;
    }
    if (chunked) {
      st = upload_chunks(location, blob, options);
    } else {
      st = upload_monolithic(location, blob, options);
      location.clear();  // a failed PUT ends its session
    }
    if (st.ok()) break;
    if (chunked && st.error().code() == ErrorCode::kNotFound) {
      // The registry dropped the session (docker-registry does when a broken PATCH left part of its
      // body behind): a new one, from the start.
      log::get("manager")->warn("push {} to {}: upload session gone, starting a new one", blob.digest,
                                client_.reference().full());
      location.clear();
      continue;
    }
    if (!retriable(st.error())) break;
    log::get("manager")->warn("push {} to {}: attempt {} failed: {}", blob.digest, client_.reference().full(),
                              attempt + 1, st.error().what());
    if (chunked && !session_offset(location).ok()) location.clear();  // gone: start a new session
  }
  if (!st) return std::move(st).error();
  return BlobPushed::kUploaded;
}

Result<std::string> PushClient::put_manifest(const std::string& object, const std::string& media_type,
                                             const std::string& body) {
  std::string digest = sha256_digest(body);
  auto read = [&](int64_t offset, char* buf, size_t n) -> Result<size_t> {
    size_t count = std::min(n, body.size() - static_cast<size_t>(offset));
    std::copy_n(body.data() + offset, count, buf);
    return count;
  };
  BERTH_ASSIGN_OR_RETURN(HttpResponse response,
                         client_.send(make_request("/manifests/" + object, "PUT", {"Content-Type: " + media_type},
                                                   static_cast<int64_t>(body.size()), read)));
  if (response.status != 201) return client_.status_error(response, "put manifest " + object + " of");
  if (!response.docker_content_digest.empty() && response.docker_content_digest != digest) {
    return make_error(ErrorCode::kDataLoss, "manifest {} of {} was stored as {}", digest,
                      client_.reference().full(), response.docker_content_digest);
  }
  return digest;
}

}  // namespace berth::manager
