// Writes a tar stream (pax) with libarchive, to a file descriptor or to a sink function (a gRPC
// stream): regular-file members given as bytes or copied from an fd, never the whole archive in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "berth/common/error.h"

struct archive;
struct stat;

namespace berth::manager {

class TarWriter {
 public:
  // Receives the archive's bytes in order; false stops the archive (the reader went away).
  using Sink = std::function<bool(std::string_view)>;

  static Result<TarWriter> to_fd(int fd);
  static Result<TarWriter> to_sink(Sink sink);

  Status add_bytes(const std::string& name, std::string_view data);
  // size bytes read from fd (to its end); fewer or more than size is an error.
  Status add_fd(const std::string& name, int fd, int64_t size);
  // A member as the file system has it (type, mode, owner, mtime from st): a regular file's bytes are
  // read from fd, a symlink's target is link_target; other types have no data.
  Status add_stat(const std::string& name, const struct stat& st, int fd, const std::string& link_target = {});
  // The end-of-archive blocks; the archive is unusable afterwards.
  Status close();

 private:
  struct Deleter {
    void operator()(archive* a) const;
  };
  TarWriter() = default;
  Status header(const std::string& name, int64_t size);
  Status copy_data(const std::string& name, int fd, int64_t size);
  Error error(std::string_view what);
  std::unique_ptr<archive, Deleter> a_;
  std::unique_ptr<Sink> sink_;  // stable address for libarchive's callback
};

}  // namespace berth::manager
