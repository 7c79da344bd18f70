// Issue 18, commit and diff: a container's changes (the overlay upper dir) as docker shows them and
// as a new image layer, with a running container paused while its layer is taken.
#include <gtest/gtest.h>

#include "container_fixture.h"

namespace berth::manager {
namespace {

using testing::CtlResult;

class CommitTest : public testing::ContainerFixture {
 protected:
  std::string run_changes(const std::string& name) {
    CtlResult r = ctl({"run", "--name", name, image_, "/bin/busybox", "sh", "-c",
                       "mkdir /data && echo x > /data/f && echo new > /etc/new && rm /etc/hostname && "
                       "rm /bin/ls"});
    EXPECT_EQ(r.code, 0) << r.err;
    return name;
  }
};

// docker diff: A/C/D lines; the runtime's mount points (/proc, /dev, /etc/hosts...) are not changes.
TEST_F(CommitTest, DiffShowsAddedChangedDeleted) {
  run_changes("d1");
  CtlResult r = ctl({"diff", "d1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "C /bin\n"
            "D /bin/ls\n"
            "A /data\n"
            "A /data/f\n"
            "C /etc\n"
            "D /etc/hostname\n"
            "A /etc/new\n");
  r = ctl({"diff", "nosuch"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("nosuch"), std::string::npos) << r.err;
  ASSERT_EQ(ctl({"rm", "d1"}).code, 0);
  expect_nothing_left();
}

// commit makes an image with one more layer: files added and deleted show in a container of it,
// --change sets the config, -m lands in history, and the id printed is the image's id.
TEST_F(CommitTest, CommitMakesARunnableImage) {
  run_changes("c1");
  CtlResult r = ctl({"commit", "-m", "my change", "-a", "me", "-c", "ENV GREETING=hello", "-c",
                     "CMD [\"/bin/busybox\", \"sh\", \"-c\", \"echo $GREETING; cat /data/f; ls /etc\"]", "c1",
                     "committed:1"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(r.out.rfind("sha256:", 0), 0u) << r.out;
  std::string id = r.out.substr(0, r.out.size() - 1);
  ASSERT_EQ(id.size(), 71u);
  CtlResult inspect = ctl({"image", "inspect", "committed:1"});
  ASSERT_EQ(inspect.code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find(id), std::string::npos) << inspect.out;
  EXPECT_NE(inspect.out.find("GREETING=hello"), std::string::npos) << inspect.out;

  r = ctl({"run", "--rm", "committed:1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\nx\nnew\n");  // /etc/hostname gone (the whiteout), /etc/new there
  r = ctl({"run", "--rm", "committed:1", "/bin/busybox", "ls", "/bin"});
  EXPECT_EQ(r.out, "busybox\nsh\n");  // /bin/ls deleted

  CtlResult history = ctl({"history", "--no-trunc", "committed:1"});
  ASSERT_EQ(history.code, 0) << history.err;
  EXPECT_NE(history.out.find("my change"), std::string::npos) << history.out;

  // Bad input: a change commit does not take, a missing container; nothing made either way.
  r = ctl({"commit", "-c", "RUN true", "c1", "bad:1"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("RUN is not allowed"), std::string::npos) << r.err;
  r = ctl({"commit", "-c", "FROB x", "c1", "bad:1"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("unknown instruction: FROB"), std::string::npos) << r.err;
  EXPECT_EQ(ctl({"images"}).out.find("bad"), std::string::npos);

  ASSERT_EQ(ctl({"rm", "c1"}).code, 0);
  ASSERT_EQ(ctl({"rmi", "committed:1"}).code, 0);
  expect_nothing_left();
}

// A running container is paused while its layer is taken and running again afterwards.
TEST_F(CommitTest, CommitOfARunningContainerPausesAndResumes) {
  CtlResult r = ctl({"run", "-d", "--name", "live", image_, "/bin/busybox", "sh", "-c",
                     "echo ready > /ready; while true; do /bin/busybox sleep 0.1; done"});
  ASSERT_EQ(r.code, 0) << r.err;
  eventually({"exec", "live", "/bin/busybox", "cat", "/ready"}, [](const CtlResult& c) { return c.out == "ready\n"; });
  r = ctl({"commit", "live", "live:1"});
  ASSERT_EQ(r.code, 0) << r.err;
  CtlResult ps = ctl({"ps"});
  EXPECT_NE(ps.out.find("Up"), std::string::npos) << ps.out;
  EXPECT_EQ(ps.out.find("Paused"), std::string::npos) << ps.out;
  r = ctl({"exec", "live", "/bin/busybox", "echo", "alive"});
  EXPECT_EQ(r.out, "alive\n") << r.err;
  r = ctl({"run", "--rm", "live:1", "/bin/busybox", "cat", "/ready"});
  EXPECT_EQ(r.out, "ready\n") << r.err;

  // --pause=false leaves it running throughout and still commits.
  r = ctl({"commit", "--pause=false", "live", "live:2"});
  EXPECT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(ctl({"rm", "-f", "live"}).code, 0);
  ASSERT_EQ(ctl({"rmi", "live:1"}).code, 0);
  ASSERT_EQ(ctl({"rmi", "live:2"}).code, 0);
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager
