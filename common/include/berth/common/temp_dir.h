// A directory created with mkdtemp and removed recursively (without crossing mounts) on scope exit.
#pragma once

#include <string>

#include "berth/common/error.h"

namespace berth {

class TempDir {
 public:
  // prefix like "/tmp/berth-test-"; XXXXXX is appended.
  static Result<TempDir> create(const std::string& prefix = "/tmp/berth-");
  TempDir() = default;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&& other) noexcept;
  ~TempDir();

  const std::string& path() const { return path_; }
  std::string release();

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace berth
