// docker cp through a real berthd: both directions, running and stopped containers, tar streams on
// stdin/stdout, owners with and without -a, and symlinks in the container that point at the host's
// files (they must reach the container's own, or nothing).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "berth/common/child_process.h"
#include "container_fixture.h"

namespace berth::manager {
namespace {

using testing::CtlResult;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

class CpTest : public testing::ContainerFixture {
 protected:
  // A running container "cc" with /data/sub/f (0640, 12:34, "hi\n") and /data/link -> /data/target.
  void run_with_data() {
    ASSERT_EQ(ctl({"run", "-d", "--name", "cc", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
    CtlResult r = ctl({"exec", "cc", "/bin/busybox", "sh", "-c",
                       "mkdir -p /data/sub && echo hi > /data/sub/f && chmod 640 /data/sub/f && "
                       "chown 12:34 /data/sub/f && echo target > /data/target && ln -s /data/target /data/link"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  // Runs `sh -c SCRIPT sh berthctl-argv...`: the script says where "$@" (berthctl) reads and writes.
  std::string in_container(const std::string& script) {
    CtlResult r = ctl({"exec", "cc", "/bin/busybox", "sh", "-c", script});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }
};

TEST_F(CpTest, FromARunningContainerIntoADirectoryAndToANewName) {
  run_with_data();
  std::string out = dir_.path() + "/out";
  ASSERT_EQ(::mkdir(out.c_str(), 0755), 0);
  CtlResult r = ctl({"cp", "cc:/data", out});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(out + "/data/sub/f"), "hi\n");
  struct stat st {};
  ASSERT_EQ(::stat((out + "/data/sub/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_uid, ::getuid());  // docker: the caller owns what it copied out, without -a
  EXPECT_EQ(std::filesystem::read_symlink(out + "/data/link"), "/data/target");  // kept a link, not followed

  r = ctl({"cp", "cc:/data/sub/f", out + "/renamed"});  // a new name: the file becomes it
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(out + "/renamed"), "hi\n");
  r = ctl({"cp", "-a", "cc:/data/sub", out + "/owned"});  // a new directory name, owners as in the container
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(::stat((out + "/owned/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 12u);
  EXPECT_EQ(st.st_gid, 34u);
  r = ctl({"cp", "-L", "cc:/data/link", out + "/followed"});  // -L: the file the link names, in the container
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(out + "/followed"), "target\n");

  r = ctl({"cp", "cc:/nosuch", out});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Could not find the file /nosuch in container"), std::string::npos) << r.err;
  r = ctl({"cp", "cc:/data", out + "/renamed"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot copy a directory to a file"), std::string::npos) << r.err;
  r = ctl({"cp", out, dir_.path()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("must specify at least one container source"), std::string::npos) << r.err;
  EXPECT_EQ(ctl({"rm", "-f", "cc"}).code, 0);
  expect_nothing_left();
}

// Into a container that never ran: berthd mounts its snapshot for the copy; the files are there when it starts.
TEST_F(CpTest, IntoAStoppedContainerOwnedByRootUnlessArchive) {
  ASSERT_EQ(ctl({"create", "--name", "cc", image_, "/bin/busybox", "sh", "-c",
                 "stat -c '%a %u:%g %n' /etc/f /etc/kept /newdir/x; cat /newdir/x"})
                .code,
            0);
  std::string f = dir_.path() + "/f", kept = dir_.path() + "/kept", tree = dir_.path() + "/tree";
  spit(f, "file\n");
  spit(kept, "kept\n");
  ASSERT_EQ(::chmod(f.c_str(), 0751), 0);
  ASSERT_EQ(::chown(f.c_str(), 12, 34), 0);
  ASSERT_EQ(::chown(kept.c_str(), 56, 78), 0);
  std::filesystem::create_directory(tree);
  spit(tree + "/x", "in the tree\n");
  CtlResult r = ctl({"cp", f, "cc:/etc/"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(ctl({"cp", "-a", kept, "cc:/etc"}).code, 0);
  ASSERT_EQ(ctl({"cp", tree, "cc:/newdir"}).code, 0);  // not there: the directory becomes /newdir
  r = ctl({"start", "-a", "cc"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "751 0:0 /etc/f\n644 56:78 /etc/kept\n644 0:0 /newdir/x\nin the tree\n");

  r = ctl({"cp", tree, "cc:/etc/f"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot copy a directory to a file"), std::string::npos) << r.err;
  r = ctl({"cp", dir_.path() + "/nosuch", "cc:/etc"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("nosuch"), std::string::npos) << r.err;
  EXPECT_EQ(ctl({"rm", "cc"}).code, 0);
  expect_nothing_left();
}

TEST_F(CpTest, TarStreamsOnStdoutAndStdin) {
  run_with_data();
  std::string tar = dir_.path() + "/data.tar", out = dir_.path() + "/x";
  auto saved = shell("exec \"$@\" > " + tar, {"cp", "cc:/data", "-"});
  ASSERT_TRUE(saved.ok() && saved->status.success()) << (saved ? saved->err : "");
  auto listed = run_command({"tar", "-tvf", tar});
  ASSERT_TRUE(listed.ok() && listed->status.success());
  EXPECT_NE(listed->out.find("12/34"), std::string::npos) << listed->out;  // owners as they are
  EXPECT_NE(listed->out.find("data/sub/f"), std::string::npos) << listed->out;
  EXPECT_NE(listed->out.find("data/link -> /data/target"), std::string::npos) << listed->out;

  in_container("mkdir /in");
  auto loaded = shell("exec \"$@\" < " + tar, {"cp", "-", "cc:/in"});
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->status.success()) << loaded->err;
  EXPECT_EQ(in_container("stat -c '%u:%g' /in/data/sub/f; cat /in/data/sub/f"), "12:34\nhi\n");

  // Not a layer: ".wh." names are plain files (as docker cp makes them), never deletions.
  in_container("echo kept > /in/victim");
  std::string wh = dir_.path() + "/wh";
  std::filesystem::create_directory(wh);
  spit(wh + "/.wh.victim", "a file\n");
  spit(wh + "/.wh..wh..opq", "another\n");
  auto whiteouts = shell("tar -C " + wh + " -cf - . | \"$@\"", {"cp", "-", "cc:/in"});
  ASSERT_TRUE(whiteouts.ok());
  EXPECT_TRUE(whiteouts->status.success()) << whiteouts->err;
  EXPECT_EQ(in_container("cat /in/victim /in/.wh.victim /in/.wh..wh..opq; ls -A /in | wc -l"),
            "kept\na file\nanother\n4\n");
  EXPECT_EQ(ctl({"rm", "-f", "cc"}).code, 0);
  expect_nothing_left();
}

// The attacks: links in the container that name host paths resolve inside the container's root, so cp
// reads and writes the container's files or fails; a tar with ".." or a path through a symlink is refused.
TEST_F(CpTest, ContainerSymlinksNeverReachTheHost) {
  std::string secret = dir_.path() + "/host-secret", drop = dir_.path() + "/drop";
  spit(secret, "host secret\n");
  std::filesystem::create_directory(drop);
  ASSERT_EQ(ctl({"run", "-d", "--name", "cc", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  in_container("mkdir /in; ln -s / /root-link; ln -s ../../../../../.. /up; ln -s " + secret + " /secret-link; ln -s " + drop +
               " /drop-link");
  std::string out = dir_.path() + "/out";

  CtlResult r = ctl({"cp", "-L", "cc:/secret-link", out});
  EXPECT_NE(r.code, 0);
  EXPECT_FALSE(std::filesystem::exists(out));
  r = ctl({"cp", "cc:/root-link" + secret, out});
  EXPECT_NE(r.code, 0);
  r = ctl({"cp", "cc:/up" + secret, out});
  EXPECT_NE(r.code, 0);
  EXPECT_FALSE(std::filesystem::exists(out));

  r = ctl({"cp", secret, "cc:/drop-link/"});  // the link's target inside the container, which has no such dir
  EXPECT_NE(r.code, 0);
  r = ctl({"cp", secret, "cc:/up" + drop + "/"});
  EXPECT_NE(r.code, 0);
  r = ctl({"cp", secret, "cc:/root-link" + drop});
  EXPECT_TRUE(std::filesystem::is_empty(drop));

  // A tar whose entries climb out or pass through a link: refused, nothing lands on the host.
  std::string work = dir_.path() + "/work";
  std::filesystem::create_directories(work + "/inner");
  spit(work + "/escaped", "x\n");
  std::filesystem::create_directory_symlink(drop, work + "/inner/l");
  auto climbing = shell("cd " + work + "/inner && tar -P -cf - ../escaped | \"$@\"", {"cp", "-", "cc:/in"});
  ASSERT_TRUE(climbing.ok());
  EXPECT_FALSE(climbing->status.success());
  spit(drop + "/../through-link", "");  // a file to tar as l/through-link (read through the host link)
  auto through = shell("cd " + work + "/inner && tar -cf - l ../../through-link --transform 's,^\\.\\./\\.\\./,l/,' -P | \"$@\"",
                       {"cp", "-", "cc:/in"});
  ASSERT_TRUE(through.ok());
  EXPECT_FALSE(through->status.success()) << through->out;
  EXPECT_TRUE(std::filesystem::is_empty(drop));
  EXPECT_EQ(in_container("find / -name escaped -o -name through-link -xdev"), "");
  EXPECT_EQ(ctl({"rm", "-f", "cc"}).code, 0);
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager
