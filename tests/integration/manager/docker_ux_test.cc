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

}  // namespace
}  // namespace berth::manager
