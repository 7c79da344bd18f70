#include "images/tar_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

namespace berth::manager {

void TarWriter::Deleter::operator()(archive* a) const { archive_write_free(a); }

Result<TarWriter> TarWriter::to_fd(int fd) {
  TarWriter w;
  w.a_.reset(archive_write_new());
  archive_write_set_format_pax_restricted(w.a_.get());
  if (archive_write_open_fd(w.a_.get(), fd) != ARCHIVE_OK) return w.error("open archive");
  return w;
}

Result<TarWriter> TarWriter::to_sink(Sink sink) {
  TarWriter w;
  w.a_.reset(archive_write_new());
  w.sink_ = std::make_unique<Sink>(std::move(sink));
  archive_write_set_format_pax_restricted(w.a_.get());
  auto write = [](archive* a, void* data, const void* buf, size_t n) -> la_ssize_t {
    if (!(*static_cast<Sink*>(data))(std::string_view(static_cast<const char*>(buf), n))) {
      archive_set_error(a, EPIPE, "the reader went away");
      return -1;
    }
    return static_cast<la_ssize_t>(n);
  };
  if (archive_write_open(w.a_.get(), w.sink_.get(), nullptr, write, nullptr) != ARCHIVE_OK)
    return w.error("open archive");
  return w;
}

Error TarWriter::error(std::string_view what) {
  const char* msg = archive_error_string(a_.get());
  return make_error(ErrorCode::kInternal, "{}: {}", what, msg ? msg : "unknown error");
}

Status TarWriter::header(const std::string& name, int64_t size) {
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, size);
  int r = archive_write_header(a_.get(), e);
  archive_entry_free(e);
  if (r != ARCHIVE_OK) return error("write archive header " + name);
  return {};
}

Status TarWriter::add_bytes(const std::string& name, std::string_view data) {
  BERTH_TRY(header(name, static_cast<int64_t>(data.size())));
  if (archive_write_data(a_.get(), data.data(), data.size()) < 0) return error("write archive " + name);
  return {};
}

Status TarWriter::add_fd(const std::string& name, int fd, int64_t size) {
  BERTH_TRY(header(name, size));
  return copy_data(name, fd, size);
}

Status TarWriter::add_stat(const std::string& name, const struct stat& st, int fd, const std::string& link_target) {
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
  archive_entry_copy_stat(e.get(), &st);
  archive_entry_unset_atime(e.get());
  archive_entry_unset_ctime(e.get());
  archive_entry_set_pathname(e.get(), name.c_str());
  if (S_ISLNK(st.st_mode)) archive_entry_set_symlink(e.get(), link_target.c_str());
  if (!S_ISREG(st.st_mode)) archive_entry_set_size(e.get(), 0);
  if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK) return error("write archive header " + name);
  return S_ISREG(st.st_mode) ? copy_data(name, fd, st.st_size) : Status{};
}

Status TarWriter::copy_data(const std::string& name, int fd, int64_t size) {
  int64_t copied = 0;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) return sys_error("read {}", name);
    if (n == 0) break;
    copied += n;
    if (copied > size) break;
    if (archive_write_data(a_.get(), buf, static_cast<size_t>(n)) < 0) return error("write archive " + name);
  }
  if (copied != size)
    return make_error(ErrorCode::kInternal, "{}: {} bytes where {} were expected", name, copied, size);
  return {};
}

Status TarWriter::close() {
  if (archive_write_close(a_.get()) != ARCHIVE_OK) return error("close archive");
  return {};
}

}  // namespace berth::manager
