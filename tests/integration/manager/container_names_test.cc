// How berthctl names containers, checked against a real berthd: docker's rules (exact name, exact id,
// unique prefix of a generated id; never a name prefix) and its multi-container verbs (one unknown
// name is reported, the others still act, exit 1).
#include <gtest/gtest.h>

#include "container_fixture.h"

namespace berth::manager {
namespace {

using testing::CtlResult;

class ContainerNamesTest : public testing::ContainerFixture {};

TEST_F(ContainerNamesTest, RmOfANamePrefixRemovesNothing) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "web2", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  CtlResult r = ctl({"rm", "-f", "web"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("No such container: web"), std::string::npos) << r.err;
  EXPECT_EQ(ctl({"ps", "-q"}).out, "web2\n");
  EXPECT_EQ(ctl({"rm", "-f", "web2"}).code, 0);
  expect_nothing_left();
}

TEST_F(ContainerNamesTest, RmOfSeveralRemovesTheKnownOnesAndReportsTheRest) {
  for (const char* name : {"one", "two"}) {
    CtlResult run = ctl({"run", "-d", "--name", name, image_, "/bin/busybox", "true"});
    ASSERT_EQ(run.code, 0) << run.err;
  }
  eventually({"ps", "-q"}, [](const CtlResult& r) { return r.out.empty(); });
  CtlResult r = ctl({"rm", "one", "nosuch", "two"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "one\ntwo\n");
  EXPECT_NE(r.err.find("No such container: nosuch"), std::string::npos) << r.err;
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  expect_nothing_left();
}

TEST_F(ContainerNamesTest, AGeneratedIdIsFoundByAUniquePrefix) {
  CtlResult r = ctl({"run", "-d", image_, "/bin/busybox", "sleep", "1000"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string id = r.out.substr(0, r.out.find('\n'));
  ASSERT_EQ(id.size(), 64u) << id;
  r = ctl({"stop", "-t", "0", id.substr(0, 12)});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, id + "\n");
  EXPECT_EQ(ctl({"rm", id.substr(0, 5)}).code, 0);
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager
