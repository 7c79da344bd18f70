#include "build/url_source.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "berth/common/fs.h"
#include "berth/common/unique_fd.h"
#include "content/digest.h"
#include "registry/http_client.h"

namespace berth::manager::build {

bool is_url_source(std::string_view source) {
  return source.starts_with("http://") || source.starts_with("https://");
}

Result<std::string> url_file_name(std::string_view url) {
  std::string_view path = url.substr(url.find("://") + 3);
  path = path.substr(0, path.find_first_of("?#"));
  size_t slash = path.find('/');
  std::string_view name = slash == std::string_view::npos ? std::string_view() : path.substr(path.rfind('/') + 1);
  if (name.empty() || name == "." || name == "..") {
    return make_error(ErrorCode::kInvalidArgument, "cannot determine a file name from the URL {}", url);
  }
  return std::string(name);
}

Result<FetchedUrl> fetch_url(const std::string& url, const std::string& dir) {
  FetchedUrl out;
  BERTH_ASSIGN_OR_RETURN(out.name, url_file_name(url));
  std::string path = dir + "/" + out.name;
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  Sha256 hash;
  HttpRequest request;
  request.url = url;
  request.sink = [&](std::string_view chunk) -> Status {
    hash.update(chunk);
    return write_all(fd.get(), chunk);
  };
  auto response = http_request(request);
  if (!response) return std::move(response).error().wrap("ADD {}", url);
  if (response->status < 200 || response->status >= 300) {
    return make_error(ErrorCode::kFailedPrecondition, "ADD {}: the server answered HTTP {}", url, response->status);
  }
  if (!response->last_modified.empty()) {
    time_t when = curl_getdate(response->last_modified.c_str(), nullptr);
    if (when >= 0) {
      timespec times[2] = {{when, 0}, {when, 0}};
      if (::futimens(fd.get(), times) < 0) return sys_error("set the time of {}", path);
    }
  }
  out.digest = hash.digest();
  out.last_modified = response->last_modified;
  return out;
}

}  // namespace berth::manager::build
