// ADD <url>: the remote file fetched (libcurl) into a build scratch dir, so the ordinary COPY path
// copies it. As docker does: the file is named after the URL's last path component, mode 0600, its
// mtime the server's Last-Modified; its content digest goes into the step's cache key.
#pragma once

#include <string>
#include <string_view>

#include "berth/common/error.h"

namespace berth::manager::build {

// An http:// or https:// source of ADD.
bool is_url_source(std::string_view source);

// The file name ADD gives url's download: the last component of its path (query and fragment
// dropped); an error when there is none ("http://host/").
Result<std::string> url_file_name(std::string_view url);

struct FetchedUrl {
  std::string name;    // file name inside dir
  std::string digest;  // sha256 of the content
  std::string last_modified;  // the server's Last-Modified, as sent (empty: none)
};

// GETs url into dir/<url_file_name>; a non-2xx answer is an error naming the status.
Result<FetchedUrl> fetch_url(const std::string& url, const std::string& dir);

}  // namespace berth::manager::build
