// save / load end to end against a real berthd: round trips in both formats (to files and through
// stdout/stdin), interop with podman (a private root) and skopeo, and hostile archives that must be
// refused with nothing left behind.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "container_fixture.h"
#include "content/digest.h"
#include "podman_fixture.h"
#include "pty_session.h"

namespace berth::manager {
namespace {

using testing::CtlResult;

struct TarMember {
  std::string name;
  std::string data;     // a regular file's contents
  std::string symlink;  // non-empty: a symlink to this
};

// Writes a tar with exactly these members (libarchive, so names like "../x" stay as given).
void write_tar(const std::string& path, const std::vector<TarMember>& members) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const auto& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    if (m.symlink.empty()) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, static_cast<la_int64_t>(m.data.size()));
    } else {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, m.symlink.c_str());
    }
    archive_entry_set_perm(e, 0644);
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK);
    if (m.symlink.empty()) archive_write_data(a, m.data.data(), m.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

std::string member(const std::string& tar, const std::string& name) {
  auto r = run_command({"tar", "-xOf", tar, name});
  return r && r->status.success() ? r->out : "";
}

class SaveLoadTest : public testing::ContainerFixture {
 protected:
  // The image, saved, removed and loaded back, runs.
  void expect_runs(const std::string& image) {
    CtlResult r = ctl({"run", "--rm", image, "/bin/sh", "-c", "echo hello from the loaded image"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "hello from the loaded image\n");
  }
  std::vector<std::string> blobs() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(berthd_->root() + "/content/blobs/sha256", ec))
      out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }
  // A refused load: non-zero, the error names the problem, no image and no blob added.
  void expect_refused(const std::string& archive, const std::string& why) {
    auto images_before = ctl({"images", "-q"}).out;
    auto blobs_before = blobs();
    CtlResult r = ctl({"load", "-i", archive});
    EXPECT_NE(r.code, 0) << r.out;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(ctl({"images", "-q"}).out, images_before);
    EXPECT_EQ(blobs(), blobs_before);
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(berthd_->root(), ec))
      EXPECT_FALSE(e.path().filename().string().starts_with("import-")) << e.path();
  }
};

TEST_F(SaveLoadTest, DockerArchiveRoundTripThroughAFile) {
  std::string tar = dir_.path() + "/saved.tar";
  CtlResult r = ctl({"save", "-o", tar, image_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  // docker's layout: manifest.json with the short name, the config and an uncompressed layer tar.
  std::string manifest = member(tar, "manifest.json");
  EXPECT_NE(manifest.find("\"RepoTags\":[\"berth.test/busybox:1\"]"), std::string::npos) << manifest;
  EXPECT_NE(member(tar, "repositories").find("\"berth.test/busybox\":{\"1\":"), std::string::npos);
  auto listing = run_command({"tar", "-tvf", tar});
  ASSERT_TRUE(listing.ok());
  EXPECT_NE(listing->out.find(".json"), std::string::npos) << listing->out;
  EXPECT_NE(listing->out.find(".tar"), std::string::npos) << listing->out;
  ASSERT_EQ(ctl({"rmi", image_}).code, 0);
  r = ctl({"load", "-i", tar});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Loaded image: berth.test/busybox:1\n");
  expect_runs(image_);
  // Loading again is fine (docker prints the same line).
  r = ctl({"load", "-q", "-i", tar});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Loaded image: berth.test/busybox:1\n");
}

TEST_F(SaveLoadTest, StdoutAndStdinStreams) {
  std::string tar = dir_.path() + "/piped.tar";
  auto argv = ctl_argv({"save", image_});
  argv.insert(argv.begin(), {"sh", "-c", "exec \"$@\" > " + tar, "sh"});
  auto saved = run_command(argv);
  ASSERT_TRUE(saved.ok() && saved->status.success()) << (saved ? saved->err : "");
  ASSERT_NE(member(tar, "manifest.json"), "");
  ASSERT_EQ(ctl({"rmi", image_}).code, 0);
  argv = ctl_argv({"load"});
  argv.insert(argv.begin(), {"sh", "-c", "exec \"$@\" < " + tar, "sh"});
  auto loaded = run_command(argv);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->status.success()) << loaded->err;
  EXPECT_EQ(loaded->out, "Loaded image: berth.test/busybox:1\n");
  expect_runs(image_);
}

TEST_F(SaveLoadTest, RefusesATerminalAndUnknownImages) {
  auto pty = testing::PtySession::spawn(ctl_argv({"save", image_}));
  ASSERT_TRUE(pty.ok()) << pty.error().what();
  auto st = pty->finish();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->code, 1);
  EXPECT_NE(pty->output().find("cowardly refusing to save to a terminal"), std::string::npos) << pty->output();

  std::string tar = dir_.path() + "/none.tar";
  CtlResult r = ctl({"save", "-o", tar, "berth.test/no-such:1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("No such image: berth.test/no-such:1"), std::string::npos) << r.err;
  EXPECT_FALSE(path_exists(tar));  // nothing half-written
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path(), ec))
    EXPECT_EQ(e.path().filename().string().find("berth-save"), std::string::npos) << e.path();
}

TEST_F(SaveLoadTest, OciArchiveRoundTripReadBySkopeo) {
  if (!path_exists("/usr/bin/skopeo")) GTEST_SKIP() << "needs skopeo";
  std::string tar = dir_.path() + "/oci.tar";
  CtlResult r = ctl({"save", "--format", "oci-archive", "-o", tar, image_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(member(tar, "oci-layout"), "");
  auto inspected = run_command({"skopeo", "inspect", "oci-archive:" + tar});
  ASSERT_TRUE(inspected.ok());
  EXPECT_TRUE(inspected->status.success()) << inspected->err;
  EXPECT_NE(inspected->out.find("\"Layers\""), std::string::npos) << inspected->out;
  auto copied = run_command({"skopeo", "copy", "oci-archive:" + tar, "dir:" + dir_.path() + "/skopeo-dir"});
  ASSERT_TRUE(copied.ok());
  EXPECT_TRUE(copied->status.success()) << copied->err;
  EXPECT_TRUE(path_exists(dir_.path() + "/skopeo-dir/manifest.json"));
  ASSERT_EQ(ctl({"rmi", image_}).code, 0);
  r = ctl({"load", "-i", tar});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Loaded image: berth.test/busybox:1\n");
  expect_runs(image_);
}

// What a user of podman would do with our file (podman_fixture.h: a podman root of the test's own).
class PodmanInterop : public SaveLoadTest {
 protected:
  void SetUp() override {
    SaveLoadTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!testing::podman_available()) GTEST_SKIP() << "needs podman and runc";
    podman_.emplace(dir_.path() + "/podman");
  }
  Result<CommandOutput> podman(std::vector<std::string> args) const { return (*podman_)(std::move(args)); }
  void expect_podman_runs(const std::string& image) {
    auto r = podman_->run(image, {"/bin/sh", "-c", "echo hello from podman"});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->status.success()) << r->err;
    EXPECT_EQ(r->out, "hello from podman\n");
  }
  std::optional<testing::Podman> podman_;
};

TEST_F(PodmanInterop, PodmanLoadsAndRunsOurDockerArchive) {
  std::string tar = dir_.path() + "/for-podman.tar";
  ASSERT_EQ(ctl({"save", "-o", tar, image_}).code, 0);
  auto loaded = podman({"load", "-i", tar});
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->status.success()) << loaded->err;
  EXPECT_NE(loaded->out.find("Loaded image: berth.test/busybox:1"), std::string::npos) << loaded->out;
  expect_podman_runs("berth.test/busybox:1");
}

TEST_F(PodmanInterop, WeLoadAndRunPodmansSave) {
  // podman builds its own image from our rootfs (podman import), saves it, and we load it.
  std::string ours = dir_.path() + "/ours.tar";
  ASSERT_EQ(ctl({"save", "-o", ours, image_}).code, 0);
  ASSERT_TRUE(podman({"load", "-i", ours}).ok());
  auto tagged = podman({"tag", "berth.test/busybox:1", "localhost/from-podman:2"});
  ASSERT_TRUE(tagged.ok() && tagged->status.success());
  for (std::string format : {"docker-archive", "oci-archive"}) {
    std::string tar = dir_.path() + "/podman-" + format + ".tar";
    auto saved = podman({"save", "--format", format, "-o", tar, "localhost/from-podman:2"});
    ASSERT_TRUE(saved.ok() && saved->status.success()) << (saved ? saved->err : "");
    CtlResult r = ctl({"load", "-i", tar});
    ASSERT_EQ(r.code, 0) << format << ": " << r.err;
    EXPECT_EQ(r.out, "Loaded image: localhost/from-podman:2\n") << format;
    CtlResult run = ctl({"run", "--rm", "localhost/from-podman:2", "/bin/sh", "-c", "echo " + format});
    EXPECT_EQ(run.code, 0) << run.err;
    EXPECT_EQ(run.out, format + "\n");
    ASSERT_EQ(ctl({"rmi", "localhost/from-podman:2"}).code, 0);
  }
}

TEST_F(SaveLoadTest, HostileArchivesAreRefusedLeavingNothing) {
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
  std::string config_name = std::string(digest_hex(sha256_digest(config))) + ".json";
  auto manifest = [](const std::string& cfg, const std::string& layer) {
    return R"([{"Config":")" + cfg + R"(","RepoTags":["berth.test/hostile:1"],"Layers":[")" + layer + R"("]}])";
  };
  std::string d = dir_.path();

  write_tar(d + "/dotdot.tar", {{"../escaped", "x", ""}, {"manifest.json", "[]", ""}});
  expect_refused(d + "/dotdot.tar", "../escaped");
  EXPECT_FALSE(path_exists(berthd_->root() + "/escaped"));

  // A symlinked directory leading to the host: its members resolve inside the archive, so missing.
  write_tar(d + "/symlink-dir.tar", {{"etc", "", "/etc"}, {"manifest.json", manifest("etc/passwd", "etc/hostname"), ""}});
  expect_refused(d + "/symlink-dir.tar", "\"etc/passwd\" is missing");

  // manifest.json itself a symlink to a host file.
  write_tar(d + "/symlink-manifest.tar", {{"manifest.json", "", "/etc/passwd"}});
  expect_refused(d + "/symlink-manifest.tar", "\"manifest.json\" is missing");

  write_tar(d + "/huge.tar", {{"manifest.json", "[" + std::string(5 << 20, ' ') + "]", ""}});
  expect_refused(d + "/huge.tar", "manifest.json");

  // The config is there, the layer is not: the config blob it brought is removed again.
  write_tar(d + "/missing.tar", {{config_name, config, ""}, {"manifest.json", manifest(config_name, "gone.tar"), ""}});
  expect_refused(d + "/missing.tar", "\"gone.tar\" is missing");

  write_tar(d + "/neither.tar", {{"hello.txt", "hi", ""}});
  expect_refused(d + "/neither.tar", "neither an OCI image layout nor a docker save archive");

  // An OCI layout whose index points at a manifest that is not there.
  std::string index = R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
                      std::string(64, 'a') + R"(","size":10,"annotations":{"io.containerd.image.name":"berth.test/hostile:2"}}]})";
  write_tar(d + "/oci-missing.tar", {{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})", ""}, {"index.json", index, ""}});
  expect_refused(d + "/oci-missing.tar", "sha256:aaaa");
}

}  // namespace
}  // namespace berth::manager
