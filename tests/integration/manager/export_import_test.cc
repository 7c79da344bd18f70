// docker export and import through a real berthd: a container's file system as a tar (what exec
// wrote, not what its volume holds), the tar back as an image that runs with --change's config, and
// hostile tars refused as pulled layers are, leaving no blob or snapshot behind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "berth/common/child_process.h"
#include "container_fixture.h"
#include "pty_session.h"

namespace berth::manager {
namespace {

using testing::CtlResult;

class ExportImportTest : public testing::ContainerFixture {
 protected:
  // A running container "ex" with /hello written by exec and /vol/secret in its volume.
  void run_with_files() {
    ASSERT_EQ(ctl({"run", "-d", "--name", "ex", "-v", "exvol:/vol", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
    CtlResult r = ctl({"exec", "ex", "/bin/busybox", "sh", "-c", "echo hi > /hello && echo secret > /vol/secret"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  std::string tar_list(const std::string& tar) {
    auto out = run_command({"tar", "-tf", tar});
    EXPECT_TRUE(out.ok() && out->status.success());
    return out.ok() ? "\n" + out->out : "";
  }
  // The store's blobs and snapshots, to compare before and after a refused import.
  std::string store_state() { return ctl({"content", "ls"}).out + ctl({"snapshot", "ls"}).out; }
  void cleanup() {
    (void)ctl({"rm", "-f", "ex"});
    (void)ctl({"volume", "rm", "exvol"});
  }
};

TEST_F(ExportImportTest, ExportHasWhatExecWroteButNotTheVolume) {
  run_with_files();
  std::string tar = dir_.path() + "/ex.tar";
  CtlResult r = ctl({"export", "-o", tar, "ex"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  std::string list = tar_list(tar);
  EXPECT_NE(list.find("\nhello\n"), std::string::npos) << list;  // relative to /, as docker's
  EXPECT_NE(list.find("\nbin/busybox\n"), std::string::npos) << list;
  EXPECT_NE(list.find("\nvol/\n"), std::string::npos) << list;   // the mount point, empty
  EXPECT_EQ(list.find("vol/secret"), std::string::npos) << list;
  EXPECT_EQ(list.find("proc/self"), std::string::npos) << list;
  EXPECT_EQ(list.find("\n./"), std::string::npos) << list;
  EXPECT_EQ(list.find("\n/"), std::string::npos) << list;
  auto hello = run_command({"tar", "-xOf", tar, "hello"});
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ(hello->out, "hi\n");

  // To stdout when redirected; the same members.
  auto piped = shell("\"$@\" > " + dir_.path() + "/piped.tar", {"export", "ex"});
  ASSERT_TRUE(piped.ok() && piped->status.success()) << (piped.ok() ? piped->err : "");
  EXPECT_EQ(tar_list(dir_.path() + "/piped.tar"), list);

  // A stopped container exports too (its snapshot mounted for the call).
  ASSERT_EQ(ctl({"stop", "-t", "0", "ex"}).code, 0);
  r = ctl({"export", "-o", dir_.path() + "/stopped.tar", "ex"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(tar_list(dir_.path() + "/stopped.tar").find("\nhello\n"), std::string::npos);

  // On a terminal: refused as docker does, nothing written.
  auto pty = testing::PtySession::spawn(ctl_argv({"export", "ex"}));
  ASSERT_TRUE(pty.ok()) << pty.error().what();
  EXPECT_TRUE(pty->expect("cowardly refusing to save to a terminal"));
  auto done = pty->finish();
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(done->success());

  r = ctl({"export", "nosuch"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nosuch"), std::string::npos) << r.err;
  r = ctl({"export", "-o", dir_.path() + "/x.tar"});
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/x.tar"));
  cleanup();
  expect_nothing_left();
}

TEST_F(ExportImportTest, ExportPipedIntoImportRunsWithTheChangedConfig) {
  run_with_files();
  std::string id_file = dir_.path() + "/id";
  auto round = shell("\"$@\" export ex | \"$@\" import -m 'from ex' -c 'ENV GREETING=yo' "
                     "-c 'CMD [\"/bin/busybox\", \"sh\", \"-c\", \"cat /hello; echo $GREETING\"]' - imported:1",
                     {});
  ASSERT_TRUE(round.ok());
  ASSERT_TRUE(round->status.success()) << round->err;
  ASSERT_TRUE(round->out.starts_with("sha256:")) << round->out;
  EXPECT_EQ(round->out.size(), 7u + 64 + 1) << round->out;

  CtlResult r = ctl({"run", "--rm", "imported:1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hi\nyo\n");
  r = ctl({"run", "--rm", "imported:1", "/bin/busybox", "ls", "/vol"});  // the volume's data stayed out
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  r = ctl({"history", "imported:1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("from ex"), std::string::npos) << r.out;

  // From a file, no -m: docker's comment names the source.
  std::string tar = dir_.path() + "/ex.tar";
  ASSERT_EQ(ctl({"export", "-o", tar, "ex"}).code, 0);
  r = ctl({"import", tar, "fromfile"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(ctl({"history", "--no-trunc", "fromfile"}).out.find("Imported from " + tar), std::string::npos);

  r = ctl({"import", "-c", "FROM busybox", tar, "bad:1"});  // not a config instruction
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("FROM"), std::string::npos) << r.err;
  r = ctl({"import", tar});  // Berth keeps no untagged image
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("REPOSITORY"), std::string::npos) << r.err;
  r = ctl({"import", dir_.path() + "/nosuch.tar", "x:1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nosuch.tar"), std::string::npos) << r.err;

  ASSERT_EQ(ctl({"rmi", "imported:1"}).code, 0);
  ASSERT_EQ(ctl({"rmi", "fromfile"}).code, 0);
  cleanup();
  expect_nothing_left();
}

TEST_F(ExportImportTest, HostileTarsAreRefusedNamingTheEntryAndLeaveNothing) {
  std::string work = dir_.path() + "/hostile";
  std::filesystem::create_directories(work);
  std::ofstream(work + "/evil") << "owned\n";
  std::filesystem::create_symlink("/", work + "/link");
  // "../../escape": out of the root by "..".
  auto dots = run_command({"tar", "-C", work, "-P", "-cf", dir_.path() + "/dots.tar", "--transform", "s,^evil$,../../escape,", "evil"});
  ASSERT_TRUE(dots.ok() && dots->status.success()) << (dots.ok() ? dots->err : "");
  // "link" -> "/" then "link/tmp/escape": out of the root through an absolute symlink.
  auto through = run_command({"tar", "-C", work, "-cf", dir_.path() + "/link.tar", "--transform",
                              "s,^evil$,link/tmp/berth-import-escape,", "link", "evil"});
  ASSERT_TRUE(through.ok() && through->status.success()) << (through.ok() ? through->err : "");

  std::string before = store_state();
  CtlResult r = ctl({"import", dir_.path() + "/dots.tar", "evil:1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("../../escape"), std::string::npos) << r.err;
  r = ctl({"import", dir_.path() + "/link.tar", "evil:2"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("link/tmp/berth-import-escape"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists("/tmp/berth-import-escape"));
  EXPECT_EQ(store_state(), before);  // no blob, no snapshot
  EXPECT_EQ(ctl({"images", "-q"}).out.find('\n'), ctl({"images", "-q"}).out.rfind('\n'));  // only busybox
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager
