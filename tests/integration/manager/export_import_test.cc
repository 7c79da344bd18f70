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
  r = ctl({"import", dir_.path() + "/nosuch.tar", "x:1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nosuch.tar"), std::string::npos) << r.err;

  ASSERT_EQ(ctl({"rmi", "imported:1"}).code, 0);
  ASSERT_EQ(ctl({"rmi", "fromfile"}).code, 0);
  cleanup();
  expect_nothing_left();
}

// docker 20.10's `import FILE` with no REPOSITORY keeps a dangling image: printed id `sha256:<64 hex>`
// (as with a name), listed as <none> <none>, found by id, no RepoTags, removed by `image prune`.
TEST_F(ExportImportTest, ImportWithoutANameKeepsADanglingImage) {
  std::string rootfs = dir_.path() + "/rootfs";
  std::filesystem::create_directories(rootfs);
  std::filesystem::copy_file("/bin/busybox", rootfs + "/busybox");
  std::string tar = dir_.path() + "/rootfs.tar";
  auto made = run_command({"tar", "-C", rootfs, "-cf", tar, "."});
  ASSERT_TRUE(made.ok() && made->status.success());
  auto is_id_line = [](const std::string& out) {
    return out.size() == 7 + 64 + 1 && out.starts_with("sha256:") && out.back() == '\n';
  };

  CtlResult from_file = ctl({"import", tar});
  ASSERT_EQ(from_file.code, 0) << from_file.err;
  EXPECT_TRUE(is_id_line(from_file.out)) << from_file.out;
  auto from_stdin = shell("\"$@\" import - < " + tar, {});  // docker import - (stdin)
  ASSERT_TRUE(from_stdin.ok());
  ASSERT_TRUE(from_stdin->status.success()) << from_stdin->err;
  EXPECT_TRUE(is_id_line(from_stdin->out)) << from_stdin->out;
  CtlResult named = ctl({"import", tar, "imp:1"});
  ASSERT_EQ(named.code, 0) << named.err;
  EXPECT_TRUE(is_id_line(named.out)) << named.out;  // the same shape with a name
  std::string file_id = from_file.out.substr(7, 64), stdin_id = from_stdin->out.substr(7, 64);

  CtlResult images = ctl({"images"});
  ASSERT_EQ(images.code, 0) << images.err;
  for (const std::string& id : {file_id, stdin_id}) {
    size_t at = images.out.find(id.substr(0, 12));
    ASSERT_NE(at, std::string::npos) << images.out;
    std::string row = images.out.substr(images.out.rfind('\n', at) + 1, at - images.out.rfind('\n', at) - 1);
    EXPECT_TRUE(row.starts_with("<none>") && row.find("<none>", 6) != std::string::npos) << row;
  }
  EXPECT_NE(images.out.find("imp "), std::string::npos) << images.out;

  // By id it runs, shows in ps by its short id, and inspects without names.
  ASSERT_EQ(ctl({"run", "-d", "--name", "dangler", file_id.substr(0, 12), "/busybox", "sleep", "1000"}).code, 0);
  CtlResult ps = ctl({"ps"});
  EXPECT_NE(ps.out.find("   " + file_id.substr(0, 12) + "   "), std::string::npos) << ps.out;
  CtlResult inspect = ctl({"image", "inspect", "sha256:" + file_id});
  ASSERT_EQ(inspect.code, 0) << inspect.err;
  std::string compact = inspect.out;
  std::erase_if(compact, [](char c) { return c == ' ' || c == '\n'; });
  EXPECT_NE(compact.find("\"RepoTags\":[],\"RepoDigests\":[]"), std::string::npos) << inspect.out;
  EXPECT_NE(compact.find("\"Id\":\"sha256:" + file_id), std::string::npos) << inspect.out;

  // image prune: the unused dangling image goes; the used one and the named one stay.
  CtlResult pruned = ctl({"image", "prune", "-f"});
  ASSERT_EQ(pruned.code, 0) << pruned.err;
  EXPECT_EQ(pruned.out, "Deleted Images:\ndeleted: sha256:" + stdin_id + "\n");
  std::string ids = ctl({"images"}).out;
  EXPECT_EQ(ids.find(stdin_id.substr(0, 12)), std::string::npos) << ids;
  EXPECT_NE(ids.find(file_id.substr(0, 12)), std::string::npos) << ids;
  ASSERT_EQ(ctl({"rm", "-f", "dangler"}).code, 0);
  pruned = ctl({"image", "prune", "-f"});
  EXPECT_EQ(pruned.out, "Deleted Images:\ndeleted: sha256:" + file_id + "\n");
  EXPECT_EQ(ctl({"image", "prune", "-f"}).out, "");  // nothing dangling left
  CtlResult gone = ctl({"run", "--rm", "--pull", "never", file_id.substr(0, 12), "/busybox", "true"});
  EXPECT_NE(gone.code, 0);
  ASSERT_EQ(ctl({"rmi", "imp:1"}).code, 0);
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
