// Builds tar layers in memory for tests (libarchive writer), optionally gzip-compressed.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <string>
#include <utility>

namespace berth::manager::testing {

class TarBuilder {
 public:
  explicit TarBuilder(const char* filter = nullptr) : a_(archive_write_new()) {
    archive_write_set_format_pax_restricted(a_);
    if (filter != nullptr) archive_write_add_filter_by_name(a_, filter);
    archive_write_set_bytes_in_last_block(a_, 1);
    archive_write_open(a_, this, nullptr, &TarBuilder::on_write, nullptr);
  }
  ~TarBuilder() { archive_write_free(a_); }

  TarBuilder& file(const std::string& path, const std::string& data, mode_t mode = 0644) {
    return add(path, AE_IFREG, mode, data);
  }
  TarBuilder& dir(const std::string& path, mode_t mode = 0755) { return add(path, AE_IFDIR, mode); }
  TarBuilder& symlink(const std::string& path, const std::string& target) {
    return add(path, AE_IFLNK, 0777, "", target);
  }
  TarBuilder& hardlink(const std::string& path, const std::string& target) {
    return add(path, AE_IFREG, 0644, "", "", target);
  }
  TarBuilder& fifo(const std::string& path) { return add(path, AE_IFIFO, 0600); }
  TarBuilder& char_device(const std::string& path, unsigned major, unsigned minor) {
    rdev_ = {major, minor};
    add(path, AE_IFCHR, 0666);
    rdev_ = {0, 0};
    return *this;
  }
  // A file carrying one extended attribute.
  TarBuilder& file_with_xattr(const std::string& path, const std::string& data, const std::string& name,
                              const std::string& value) {
    xattr_ = {name, value};
    add(path, AE_IFREG, 0644, data);
    xattr_ = {};
    return *this;
  }

  std::string finish() {
    archive_write_close(a_);
    return out_;
  }

 private:
  TarBuilder& add(const std::string& path, mode_t type, mode_t mode, const std::string& data = "",
                  const std::string& symlink = "", const std::string& hardlink = "") {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, mode);
    archive_entry_set_uid(e, 1000);
    archive_entry_set_gid(e, 1001);
    archive_entry_set_mtime(e, 1600000000, 0);
    if (!symlink.empty()) archive_entry_set_symlink(e, symlink.c_str());
    if (!hardlink.empty()) archive_entry_set_hardlink(e, hardlink.c_str());
    if (type == AE_IFCHR) {
      archive_entry_set_rdevmajor(e, rdev_.first);
      archive_entry_set_rdevminor(e, rdev_.second);
    }
    if (!xattr_.first.empty()) {
      archive_entry_xattr_add_entry(e, xattr_.first.c_str(), xattr_.second.data(), xattr_.second.size());
    }
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_write_header(a_, e);
    if (!data.empty()) archive_write_data(a_, data.data(), data.size());
    archive_entry_free(e);
    return *this;
  }
  static la_ssize_t on_write(archive*, void* self, const void* buf, size_t n) {
    static_cast<TarBuilder*>(self)->out_.append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  }
  archive* a_;
  std::string out_;
  std::pair<unsigned, unsigned> rdev_{0, 0};
  std::pair<std::string, std::string> xattr_;
};

}  // namespace berth::manager::testing
