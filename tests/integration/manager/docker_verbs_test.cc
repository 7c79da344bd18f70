// docker create (a container made as run makes it, not started) and docker rename (a new name, running or
// not, the id kept), through a real berthd, shim and runtime.
#include <gtest/gtest.h>

#include "container_fixture.h"

namespace berth::manager {
namespace {

using testing::CtlResult;

class DockerVerbsTest : public testing::ContainerFixture {
 protected:
  // The NAMES column of `ps -a` for the row whose CONTAINER ID column starts with id_column.
  std::string names_of(const std::string& id_column) {
    CtlResult r = ctl({"ps", "-a"});
    EXPECT_EQ(r.code, 0) << r.err;
    size_t names = r.out.find("NAMES");
    for (size_t start = r.out.find('\n') + 1; start < r.out.size();) {
      size_t nl = r.out.find('\n', start);
      std::string row = r.out.substr(start, nl - start);
      start = nl + 1;
      if (row.starts_with(id_column + " ") && row.size() > names) return row.substr(names);
    }
    return "(no row " + id_column + " in)\n" + r.out;
  }
};

TEST_F(DockerVerbsTest, CreateMakesAContainerThatStartAttachRuns) {
  CtlResult r = ctl({"create", "--name", "c1", "-e", "WORD=hello", image_, "/bin/busybox", "sh", "-c",
                     "echo $WORD; exit 3"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "c1\n");
  EXPECT_EQ(ctl({"ps", "-q"}).out, "");  // not started
  r = ctl({"ps", "-a"});
  EXPECT_NE(r.out.find("Created"), std::string::npos) << r.out;
  EXPECT_EQ(names_of("c1"), "c1");
  r = ctl({"start", "-a", "c1"});
  EXPECT_EQ(r.code, 3) << r.err;  // start -a returns the container's exit code, as docker's
  EXPECT_EQ(r.out, "hello\n");
  r = ctl({"ps", "-a"});
  EXPECT_NE(r.out.find("Exited (3)"), std::string::npos) << r.out;
  EXPECT_EQ(ctl({"rm", "c1"}).code, 0);
  expect_nothing_left();
}

TEST_F(DockerVerbsTest, CreateWithoutANamePrintsTheGeneratedId) {
  CtlResult r = ctl({"create", image_, "/bin/busybox", "true"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string id = r.out.substr(0, r.out.find('\n'));
  ASSERT_EQ(id.size(), 64u) << r.out;
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, id + "\n");
  r = ctl({"start", id.substr(0, 12)});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ctl({"wait", id.substr(0, 12)}).out, "0\n");
  EXPECT_EQ(ctl({"rm", id}).code, 0);
  expect_nothing_left();
}

// docker create has no -d (it never starts): refused as docker's flag errors are (125), nothing made.
TEST_F(DockerVerbsTest, CreateRefusesDetachAndAMissingImage) {
  CtlResult r = ctl({"create", "-d", image_, "/bin/busybox", "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("-d"), std::string::npos) << r.err;
  r = ctl({"create", "--name", "x"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("usage: berthctl create"), std::string::npos) << r.err;
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  r = ctl({"create", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("create"), std::string::npos) << r.out;
  expect_nothing_left();
}

// A running container renamed: the new name names it (exec, stop, rm), ps and inspect show it, its process
// never noticed.
TEST_F(DockerVerbsTest, RenameWorksOnARunningContainer) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "old", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  CtlResult r = ctl({"rename", "old", "new"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");  // docker rename prints nothing
  EXPECT_EQ(names_of("old"), "new");
  r = ctl({"exec", "new", "/bin/busybox", "echo", "inside"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "inside\n");
  r = ctl({"inspect", "new"});
  EXPECT_NE(r.out.find("\"Name\": \"/new\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"Running\": true"), std::string::npos) << r.out;
  ASSERT_EQ(ctl({"rename", "new", "newer"}).code, 0);
  EXPECT_EQ(ctl({"stop", "-t", "0", "newer"}).code, 0);
  EXPECT_EQ(ctl({"rm", "newer"}).code, 0);
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  expect_nothing_left();
}

TEST_F(DockerVerbsTest, RenameOfAGeneratedIdAndBackToTheId) {
  CtlResult r = ctl({"create", image_, "/bin/busybox", "true"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string id = r.out.substr(0, r.out.find('\n'));
  ASSERT_EQ(ctl({"rename", id.substr(0, 12), "web"}).code, 0);
  EXPECT_EQ(names_of(id.substr(0, 12)), "web");
  r = ctl({"rename", "web", "web"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("already named"), std::string::npos) << r.err;
  EXPECT_EQ(ctl({"rename", "web", id}).code, 0);  // its id is its own to take back
  EXPECT_EQ(names_of(id.substr(0, 12)), id.substr(0, 12));
  EXPECT_EQ(ctl({"rm", id.substr(0, 12)}).code, 0);
  expect_nothing_left();
}

// docker's conflicts: a name held by another container (as its name or its id) is refused, naming the holder;
// a bad name is refused with the rule; and create --name of a name a rename took is refused too.
TEST_F(DockerVerbsTest, RenameRefusesTakenAndInvalidNames) {
  ASSERT_EQ(ctl({"create", "--name", "aa", image_, "/bin/busybox", "true"}).code, 0);
  ASSERT_EQ(ctl({"create", "--name", "bb", image_, "/bin/busybox", "true"}).code, 0);
  CtlResult r = ctl({"rename", "aa", "bb"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("container name \"bb\" is already in use by container \"bb\""), std::string::npos) << r.err;
  r = ctl({"rename", "aa", "bad/name"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("invalid container name \"bad/name\""), std::string::npos) << r.err;
  r = ctl({"rename", "nosuch", "cc"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("No such container: nosuch"), std::string::npos) << r.err;
  r = ctl({"rename", "aa"});
  EXPECT_EQ(r.code, 2);
  ASSERT_EQ(ctl({"rename", "aa", "cc"}).code, 0);
  r = ctl({"create", "--name", "cc", image_, "/bin/busybox", "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("\"cc\" is already in use by container \"aa\""), std::string::npos) << r.err;
  r = ctl({"rename", "bb", "aa"});  // "aa" is still the renamed container's id
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("already in use by container \"aa\""), std::string::npos) << r.err;
  EXPECT_EQ(ctl({"rm", "cc", "bb"}).code, 0);
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager
