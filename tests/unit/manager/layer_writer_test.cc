// snapshots/layer_writer: an overlay upper dir (whiteouts, opaque dirs) read back as docker diff and
// as an OCI layer tar. Overlay whiteouts are char devices 0:0 and trusted.* xattrs: root only.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "berth/common/unique_fd.h"
#include "snapshots/layer_writer.h"

namespace berth::manager {
namespace {

class LayerWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "overlay whiteouts need root";
    auto dir = TempDir::create("/tmp/berth-layer-writer-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    lower_ = dir_.path() + "/lower";
    upper_ = dir_.path() + "/upper";
    for (const char* d : {"/lower/etc", "/lower/var/cache", "/lower/usr/bin", "/upper/etc", "/upper/var/cache",
                          "/upper/usr/bin", "/upper/new"}) {
      ASSERT_TRUE(make_dirs(dir_.path() + d).ok());
    }
    put(lower_ + "/etc/passwd", "root\n");
    put(lower_ + "/etc/gone", "x\n");
    put(lower_ + "/var/cache/old", "x\n");
    put(lower_ + "/usr/bin/tool", "x\n");
    put(upper_ + "/etc/passwd", "root\nme\n");                       // changed
    ASSERT_EQ(::mknod((upper_ + "/etc/gone").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);  // deleted
    ASSERT_EQ(::setxattr((upper_ + "/var/cache").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);  // emptied
    put(upper_ + "/var/cache/fresh", "f\n");
    put(upper_ + "/new/a", "a\n");
    ASSERT_EQ(::link((upper_ + "/new/a").c_str(), (upper_ + "/new/b").c_str()), 0);
    ASSERT_EQ(::symlink("a", (upper_ + "/new/link").c_str()), 0);
    // usr/bin: copied up by overlay, nothing beneath it changed (docker shows nothing).
  }

  static void put(const std::string& path, const std::string& data) {
    ASSERT_TRUE(write_file_atomic(path, data, 0644).ok());
  }

  DiffDirs dirs() const { return {upper_, {lower_}, {}}; }

  // (name, type, hardlink target) of each entry of a gzip tar file.
  static std::vector<std::string> entries(const std::string& path) {
    std::vector<std::string> out;
    archive* a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    EXPECT_EQ(archive_read_open_filename(a, path.c_str(), 1 << 16), ARCHIVE_OK);
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
      std::string line = archive_entry_pathname(e);
      if (archive_entry_hardlink(e)) line += " link=" + std::string(archive_entry_hardlink(e));
      if (archive_entry_symlink(e)) line += " -> " + std::string(archive_entry_symlink(e));
      line += " mtime=" + std::to_string(archive_entry_mtime(e));
      out.push_back(line);
    }
    archive_read_free(a);
    return out;
  }

  Result<WrittenLayer> write(const std::string& name, std::optional<int64_t> epoch) {
    std::string path = dir_.path() + "/" + name;
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    return write_layer(dirs(), fd.get(), {epoch});
  }

  TempDir dir_;
  std::string lower_, upper_;
};

TEST_F(LayerWriterTest, ChangesAsDockerDiff) {
  auto changes = snapshot_changes(dirs());
  ASSERT_TRUE(changes.ok()) << changes.error().what();
  std::string text;
  for (const auto& c : *changes) text += std::string(1, c.kind) + " " + c.path + "\n";
  EXPECT_EQ(text,
            "C /etc\n"
            "D /etc/gone\n"
            "C /etc/passwd\n"
            "A /new\n"
            "A /new/a\n"
            "A /new/b\n"
            "A /new/link\n"
            "C /var\n"
            "C /var/cache\n"
            "A /var/cache/fresh\n");
  // Mount points the runtime made are no change.
  DiffDirs with_mounts = dirs();
  with_mounts.mount_points = {"new"};
  changes = snapshot_changes(with_mounts);
  ASSERT_TRUE(changes.ok());
  for (const auto& c : *changes) EXPECT_EQ(c.path.find("/new"), std::string::npos) << c.path;
}

TEST_F(LayerWriterTest, OciWhiteoutsAndDeterminism) {
  auto layer = write("a.tar.gz", 1000);
  ASSERT_TRUE(layer.ok()) << layer.error().what();
  EXPECT_EQ(entries(dir_.path() + "/a.tar.gz"),
            (std::vector<std::string>{"etc/ mtime=1000", "etc/.wh.gone mtime=1000", "etc/passwd mtime=1000",
                                      "new/ mtime=1000", "new/a mtime=1000", "new/b link=new/a mtime=1000",
                                      "new/link -> a mtime=1000", "var/ mtime=1000", "var/cache/ mtime=1000",
                                      "var/cache/.wh..wh..opq mtime=1000", "var/cache/fresh mtime=1000"}));
  // The same tree writes the same bytes: same diff ID, same blob digest.
  auto again = write("b.tar.gz", 1000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->diff_id, layer->diff_id);
  EXPECT_EQ(again->digest, layer->digest);
  EXPECT_NE(layer->diff_id, layer->digest);
  auto stat_size = [](const std::string& p) { struct stat st {}; ::stat(p.c_str(), &st); return static_cast<int64_t>(st.st_size); };
  EXPECT_EQ(layer->size, stat_size(dir_.path() + "/a.tar.gz"));
  // Without an epoch the files' own times are kept.
  auto unclamped = write("c.tar.gz", std::nullopt);
  ASSERT_TRUE(unclamped.ok());
  EXPECT_NE(unclamped->diff_id, layer->diff_id);
}

TEST(SourceDateEpoch, Parses) {
  EXPECT_FALSE(parse_source_date_epoch("")->has_value());
  EXPECT_EQ(**parse_source_date_epoch("1700000000"), 1700000000);
  EXPECT_FALSE(parse_source_date_epoch("yesterday").ok());
  EXPECT_FALSE(parse_source_date_epoch("-1").ok());
}

TEST(DiffDirs, FromMounts) {
  auto d = diff_dirs({{"overlay", "overlay", {"workdir=/w", "upperdir=/u", "lowerdir=/l1:/l2"}}});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->upper, "/u");
  EXPECT_EQ(d->lowers, (std::vector<std::string>{"/l1", "/l2"}));
  EXPECT_EQ(diff_dirs({{"bind", "/fs", {"rbind", "rw"}}})->upper, "/fs");
  EXPECT_FALSE(diff_dirs({{"overlay", "overlay", {"ro", "lowerdir=/a:/b"}}}).ok());
}

}  // namespace
}  // namespace berth::manager
