#include "berth/common/temp_dir.h"

#include <stdlib.h>

#include <vector>

#include "berth/common/fs.h"

namespace berth {

Result<TempDir> TempDir::create(const std::string& prefix) {
  std::vector<char> buf(prefix.begin(), prefix.end());
  for (char c : std::string_view("XXXXXX")) buf.push_back(c);
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return sys_error("mkdtemp {}XXXXXX", prefix);
  return TempDir(std::string(buf.data()));
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) (void)remove_tree(path_);
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  if (!path_.empty()) (void)remove_tree(path_);
}

std::string TempDir::release() {
  std::string p = std::move(path_);
  path_.clear();
  return p;
}

}  // namespace berth
