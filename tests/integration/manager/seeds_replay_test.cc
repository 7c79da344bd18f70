// Issue 15's end-to-end check: the command sequence of the seeds (docker tutorials) replayed in
// docker's syntax with only the program name changed — pull, images, run, run -it on a terminal, ps -a,
// start -i, stop, rm, rmi (and its "in use" conflict), volume, tag, inspect — against a real berthd and
// a real registry, each output and exit code checked against what docker documents for it.
#include <gtest/gtest.h>

#include "container_fixture.h"
#include "pty_session.h"
#include "registry_fixture.h"

namespace berth::manager {
namespace {

using testing::CtlResult;

class SeedsReplayTest : public testing::ContainerFixture {
 protected:
  void SetUp() override {
    ContainerFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto registry = testing::registry_with_busybox(dir_.path() + "/pushed", {"tutorial/busybox:1"});
    ASSERT_TRUE(registry.ok()) << registry.error().what();
    registry_ = std::move(*registry);
    image_ref_ = registry_->host() + "/tutorial/busybox:1";
  }

  // The row of a table (stdout of ps/images) that contains `needle`, or "" when none does.
  static std::string row_with(const std::string& table, const std::string& needle) {
    for (size_t start = 0; start < table.size();) {
      size_t nl = table.find('\n', start);
      std::string row = table.substr(start, nl - start);
      if (row.find(needle) != std::string::npos) return row;
      start = nl == std::string::npos ? table.size() : nl + 1;
    }
    return "";
  }

  std::unique_ptr<testing::Registry> registry_;
  std::string image_ref_;
};

TEST_F(SeedsReplayTest, TheTutorialSequenceAsDockerDocumentsIt) {
  // docker version: client and server.
  CtlResult r = ctl({"version"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Client:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Server:"), std::string::npos) << r.out;

  // docker pull NAME:TAG — ends with "Status: Downloaded newer image for NAME:TAG" and the name.
  r = ctl({"pull", image_ref_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE((r.out + r.err).find("Status: Downloaded newer image for " + image_ref_), std::string::npos) << r.out << r.err;
  EXPECT_TRUE(r.out.ends_with(image_ref_ + "\n")) << r.out;

  // docker images: REPOSITORY TAG IMAGE ID CREATED SIZE.
  r = ctl({"images"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("REPOSITORY")) << r.out;
  for (const char* column : {"TAG", "IMAGE ID", "CREATED", "SIZE"})
    EXPECT_NE(r.out.find(column), std::string::npos) << column << "\n" << r.out;
  std::string row = row_with(r.out, registry_->host() + "/tutorial/busybox");
  EXPECT_NE(row.find(" 1 "), std::string::npos) << r.out;

  // docker run IMAGE CMD: the command's output, its exit code.
  r = ctl({"run", image_ref_, "/bin/busybox", "echo", "hello world"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hello world\n");
  r = ctl({"run", image_ref_, "/bin/busybox", "sh", "-c", "exit 7"});
  EXPECT_EQ(r.code, 7);

  // docker run -it --name NAME IMAGE sh: a shell on the terminal; `exit 3` ends it with 3.
  {
    auto pty = testing::PtySession::spawn(ctl_argv({"run", "-it", "--name", "shell", image_ref_, "/bin/sh"}));
    ASSERT_TRUE(pty.ok()) << pty.error().what();
    ASSERT_TRUE(pty->expect("# ")) << pty->output();  // busybox sh's root prompt
    ASSERT_TRUE(pty->type("echo inside-$((6*7))\r")) << pty->output();
    EXPECT_TRUE(pty->expect("inside-42")) << pty->output();
    ASSERT_TRUE(pty->type("exit 3\r"));
    auto status = pty->finish();
    ASSERT_TRUE(status.ok()) << status.error().what();
    EXPECT_EQ(status->shell_code(), 3) << pty->output();
  }

  // docker ps -a: the exited shell, by its name, with its exit code.
  r = ctl({"ps", "-a"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(row_with(r.out, "shell").find("Exited (3)"), std::string::npos) << r.out;

  // docker start -i NAME: the same shell again, on the terminal.
  {
    auto pty = testing::PtySession::spawn(ctl_argv({"start", "-i", "shell"}));
    ASSERT_TRUE(pty.ok()) << pty.error().what();
    ASSERT_TRUE(pty->expect("# ")) << pty->output();
    ASSERT_TRUE(pty->type("echo again-$((1+1))\r")) << pty->output();
    EXPECT_TRUE(pty->expect("again-2")) << pty->output();
    ASSERT_TRUE(pty->type("exit\r"));
    auto status = pty->finish();
    ASSERT_TRUE(status.ok()) << status.error().what();
    EXPECT_EQ(status->shell_code(), 0) << pty->output();
  }

  // docker run -d --name web ...; docker ps shows it Up; docker stop/rm print the names they were given.
  r = ctl({"run", "-d", "--name", "web", image_ref_, "/bin/busybox", "sleep", "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "web\n");
  r = ctl({"ps"});
  EXPECT_NE(row_with(r.out, "web").find("Up"), std::string::npos) << r.out;
  EXPECT_EQ(row_with(r.out, "shell"), "") << "ps without -a lists running containers only\n" << r.out;
  r = ctl({"stop", "-t", "1", "web"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "web\n");

  // docker rmi of an image a container uses: refused (exit 1) naming the container.
  r = ctl({"rmi", image_ref_});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("in use by container"), std::string::npos) << r.err;

  // docker rm NAME...: each name printed; then nothing left.
  r = ctl({"rm", "shell", "web"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "shell\nweb\n");
  r = ctl({"ps", "-a", "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string unnamed = r.out;  // the two plain `run`s (docker keeps them too, without --rm)
  for (size_t start = 0; start < unnamed.size();) {
    size_t nl = unnamed.find('\n', start);
    EXPECT_EQ(ctl({"rm", unnamed.substr(start, nl - start)}).code, 0);
    start = nl + 1;
  }
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");

  // docker volume: create, use from two containers in turn, ls, rm.
  r = ctl({"volume", "create", "data"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "data\n");
  r = ctl({"run", "--rm", "-v", "data:/data", image_ref_, "/bin/busybox", "sh", "-c", "echo kept > /data/f"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = ctl({"run", "--rm", "-v", "data:/data", image_ref_, "/bin/busybox", "cat", "/data/f"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "kept\n");
  r = ctl({"volume", "ls"});
  EXPECT_NE(row_with(r.out, "data"), "") << r.out;
  r = ctl({"volume", "rm", "data"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "data\n");

  // docker tag SOURCE TARGET; docker images shows it; docker inspect TARGET prints the image.
  r = ctl({"tag", image_ref_, "mybox:v1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  r = ctl({"images"});
  EXPECT_NE(row_with(r.out, "mybox").find("v1"), std::string::npos) << r.out;
  r = ctl({"inspect", "mybox:v1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.starts_with("[")) << r.out;
  r = ctl({"inspect", "nosuchthing"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("No such object: nosuchthing"), std::string::npos) << r.err;

  // docker rmi NAME...: "Untagged: NAME" each; then no images.
  r = ctl({"rmi", "mybox:v1", image_ref_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Untagged: mybox:v1"), std::string::npos) << r.out;
  EXPECT_EQ(row_with(ctl({"images"}).out, "tutorial/busybox"), "");
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager
