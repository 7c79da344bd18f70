// berthctl's pull output against a real daemon and registry: redrawn bars on a terminal (a pty from
// script(1)), plain lines otherwise, and JSON with --format json.
#include <gtest/gtest.h>
#include <unistd.h>

#include "berth/common/child_process.h"
#include "berth/common/json.h"
#include "berth/common/temp_dir.h"
#include "images/oci.h"
#include "berthd_fixture.h"
#include "layout_builder.h"
#include "registry_fixture.h"

namespace berth::manager {
namespace {

using namespace testing;

class PullOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (berthd mounts)";
    auto dir = TempDir::create("/var/tmp/berthctl-out-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    auto registry = Registry::start();
    ASSERT_TRUE(registry.ok()) << registry.error().what();
    registry_ = std::move(*registry);
    LayoutBuilder builder(dir_.path() + "/layout");
    PlatformImage image{"linux", host_platform().architecture, {busybox_layer()}, {}};
    ASSERT_TRUE(builder.write({image}, "1").ok());
    ASSERT_TRUE(builder.push(registry_->host(), "cli/busybox", "1").ok());
    auto daemon = Berthd::start(fmt::format(R"({{"registries": {{"{}": {{"plain_http": true}}}}}})", registry_->host()));
    ASSERT_TRUE(daemon.ok()) << daemon.error().what();
    berthd_ = std::move(*daemon);
    ref_ = registry_->host() + "/cli/busybox:1";
  }

  TempDir dir_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Berthd> berthd_;
  std::string ref_;
};

TEST_F(PullOutputTest, TerminalGetsRedrawnBars) {
  // script(1) runs berthctl on a pty and copies what it wrote (stdout and stderr) to our stdout.
  std::string command = fmt::format("{} --address {} pull {}", BERTHCTL_PATH, berthd_->socket(), ref_);
  auto out = run_command({"script", "-qec", command, "/dev/null"});
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(out->status.success()) << out->out << out->err;
  EXPECT_NE(out->out.find("\x1b[2K"), std::string::npos) << "lines are cleared and redrawn";
  EXPECT_NE(out->out.find("unpacked"), std::string::npos) << out->out;
}

TEST_F(PullOutputTest, PipesGetPlainLinesAndJson) {
  CtlResult r = berthd_->ctl({"pull", ref_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << "no escape codes when not a tty";
  EXPECT_NE(r.err.find("resolving"), std::string::npos) << r.err;
  r = berthd_->ctl({"--format", "json", "pull", ref_});
  ASSERT_EQ(r.code, 0) << r.err;
  auto tree = json::parse(r.out, "pull output");
  ASSERT_TRUE(tree.ok()) << r.out;
  EXPECT_EQ(*json::root(*tree).get("name")->as_string(), ref_);
}

}  // namespace
}  // namespace berth::manager
