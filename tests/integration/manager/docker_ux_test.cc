// Issue 15, "the first ten minutes of a Docker user": berthctl against a real berthd (started with
// no registry configuration, as a new user's), checked against what docker prints and exits with.
#include <gtest/gtest.h>

#include "container_fixture.h"
#include "images/oci.h"
#include "layout_builder.h"
#include "registry_fixture.h"

namespace berth::manager {
namespace {

using testing::CtlResult;

class DockerUxTest : public testing::ContainerFixture {
 protected:
  // A plain-HTTP registry on 127.0.0.1 holding test/busybox:1.
  void start_registry() {
    auto registry = testing::Registry::start();
    ASSERT_TRUE(registry.ok()) << registry.error().what();
    registry_ = std::move(*registry);
    std::string layout = dir_.path() + "/pushed";
    testing::LayoutBuilder builder(layout);
    auto built = builder.write({{"linux", host_platform().architecture, {testing::busybox_layer()}, {}}}, "1");
    ASSERT_TRUE(built.ok()) << built.error().what();
    auto pushed = builder.push(registry_->host(), "test/busybox", "1");
    ASSERT_TRUE(pushed.ok()) << pushed.error().what();
  }
  std::string remote(const std::string& repo = "test/busybox") const { return registry_->host() + "/" + repo + ":1"; }

  std::unique_ptr<testing::Registry> registry_;
};

// docker run of an image that is not there pulls it, saying so on stderr; --pull never refuses.
TEST_F(DockerUxTest, RunPullsAMissingImage) {
  start_registry();
  CtlResult r = ctl({"run", "--pull", "never", "--rm", remote(), "/bin/busybox", "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("No such image: " + remote()), std::string::npos) << r.err;

  r = ctl({"run", "--rm", remote(), "/bin/busybox", "echo", "hi"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_NE(r.err.find("Unable to find image '" + remote() + "' locally"), std::string::npos) << r.err;
  EXPECT_NE(ctl({"images"}).out.find(registry_->host() + "/test/busybox"), std::string::npos);

  // Now present: no pull, nothing on stderr.
  r = ctl({"run", "--rm", remote(), "/bin/busybox", "echo", "again"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // --pull always pulls even so.
  r = ctl({"run", "--rm", "--pull", "always", remote(), "/bin/busybox", "true"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("Unable to find"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Status: Downloaded"), std::string::npos) << r.err;

  r = ctl({"run", "--pull", "sometimes", remote(), "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("invalid --pull \"sometimes\""), std::string::npos) << r.err;
  // A missing repository: the registry's answer, exit 125, no container left.
  r = ctl({"run", "--rm", remote("test/nosuch"), "true"});
  EXPECT_EQ(r.code, 125);
  EXPECT_NE(r.err.find("HTTP 404"), std::string::npos) << r.err;
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  expect_nothing_left();
}

// A registry on 127.0.0.1 needs no configuration (docker's default insecure registries), and a
// registry that can't be reached is named — never "cannot reach berthd".
TEST_F(DockerUxTest, RegistryErrorsNameTheRegistry) {
  start_registry();
  CtlResult r = ctl({"pull", remote()});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string closed = "127.0.0.1:" + std::to_string(testing::free_port());
  r = ctl({"pull", closed + "/test/busybox:1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("registry " + closed + ": "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("cannot reach berthd"), std::string::npos) << r.err;
  // The plain-HTTP registry under a name that is not loopback: TLS fails, the hint names the key.
  std::string port = registry_->host().substr(registry_->host().find(':'));
  r = ctl({"pull", "berth-test.localtest" + port + "/test/busybox:1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.find("cannot reach berthd"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("registry berth-test.localtest" + port + ": "), std::string::npos) << r.err;
}

// docker ps: CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES.
TEST_F(DockerUxTest, PsShowsNames) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "web", image_, "/bin/busybox", "sleep", "1000"}).code, 0);
  CtlResult r = ctl({"ps"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string header = r.out.substr(0, r.out.find('\n'));
  size_t id = header.find("CONTAINER ID"), image = header.find("IMAGE"), command = header.find("COMMAND"),
         created = header.find("CREATED"), status = header.find("STATUS"), ports = header.find("PORTS"),
         names = header.find("NAMES");
  ASSERT_NE(names, std::string::npos) << header;
  EXPECT_TRUE(id < image && image < command && command < created && created < status && status < ports &&
              ports < names)
      << header;
  std::string row = r.out.substr(r.out.find('\n') + 1);
  EXPECT_EQ(row.substr(names, 4), "web\n") << r.out;
  EXPECT_NE(row.find("Up"), std::string::npos) << r.out;
  EXPECT_NE(row.find(" ago"), std::string::npos) << r.out;
  EXPECT_EQ(ctl({"rm", "-f", "web"}).code, 0);
  expect_nothing_left();
}

// docker inspect falls back to images; a word naming nothing is reported, the others printed.
TEST_F(DockerUxTest, InspectFallsBackToImages) {
  ASSERT_EQ(ctl({"run", "-d", "--name", "c1", image_, "/bin/busybox", "true"}).code, 0);
  CtlResult r = ctl({"inspect", image_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"media_type\""), std::string::npos) << r.out;
  r = ctl({"inspect", "c1", "nosuch", image_});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("No such object: nosuch"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("\"c1\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"media_type\""), std::string::npos) << r.out;
  EXPECT_EQ(ctl({"rm", "-f", "c1"}).code, 0);
  expect_nothing_left();
}

// docker run's exit codes: 125 the daemon failed, 126 the command can't be run, 127 not found.
TEST_F(DockerUxTest, RunExitCodesAsDocker) {
  CtlResult r = ctl({"run", "--rm", image_, "/nosuchcmd"});
  EXPECT_EQ(r.code, 127) << r.err;
  r = ctl({"run", "--rm", image_, "nosuchcmd"});
  EXPECT_EQ(r.code, 127) << r.err;
  r = ctl({"run", "--rm", image_, "/bin"});
  EXPECT_EQ(r.code, 126) << r.err;
  r = ctl({"run", "--rm", "--name", "bad name", image_, "true"});
  EXPECT_EQ(r.code, 125) << r.err;
  r = ctl({"run", "--no-such-flag", image_, "true"});
  EXPECT_EQ(r.code, 125) << r.err;
  r = ctl({"run", "--rm", image_, "/bin/busybox", "sh", "-c", "exit 3"});
  EXPECT_EQ(r.code, 3) << r.err;
  // Detached: the container stays Created (as docker's), and the error says how to remove it.
  r = ctl({"run", "-d", "--name", "broken", image_, "/nosuchcmd"});
  EXPECT_EQ(r.code, 127) << r.err;
  EXPECT_NE(r.err.find("rm broken"), std::string::npos) << r.err;
  EXPECT_EQ(ctl({"rm", "-f", "broken"}).code, 0);
  EXPECT_EQ(ctl({"ps", "-a", "-q"}).out, "");
  expect_nothing_left();
}

}  // namespace
}  // namespace berth::manager
