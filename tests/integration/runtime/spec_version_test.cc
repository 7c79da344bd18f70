// ociVersion: every 1.x config runs (fields berth does not know are named in a warning), 2.x is
// refused, and `features` says which spec versions and 1.2/1.3 features this build has.
#include "berth/common/fs.h"
#include "bundle.h"

namespace berth::test {
namespace {

TEST(SpecVersion, OneThreeRuns) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"echo", "ok"});
  b.edit(".ociVersion=\"1.3.0\"");
  auto out = b.run("v13");
  EXPECT_EQ(out.status.code, 0) << out.err;
  EXPECT_EQ(out.out, "ok\n");
  EXPECT_EQ(out.err, "") << "a 1.3.0 config with only known fields runs without a warning";
}

TEST(SpecVersion, NewerMinorRunsAndWarnsAboutUnknownFields) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"echo", "ok"});
  b.edit(".ociVersion=\"1.9.0\" | .linux.someFutureKnob={\"x\":1} | .process.futureField=true");
  auto out = b.run("v19");
  EXPECT_EQ(out.status.code, 0) << out.err;
  EXPECT_EQ(out.out, "ok\n");
  EXPECT_NE(out.err.find("linux.someFutureKnob"), std::string::npos) << out.err;
  EXPECT_NE(out.err.find("process.futureField"), std::string::npos) << out.err;
}

TEST(SpecVersion, MajorTwoIsRefusedClearly) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".ociVersion=\"2.0.0\"");
  auto out = b.run("v2");
  EXPECT_NE(out.status.code, 0);
  EXPECT_NE(out.err.find("ociVersion: 2.0.0 is not supported"), std::string::npos) << out.err;
  EXPECT_FALSE(path_exists(b.state_root() + "/v2"));
}

TEST(SpecVersion, FeaturesReportOneThree) {
  Bundle b;
  auto out = b.berth({"features"});
  ASSERT_EQ(out.status.code, 0) << out.err;
  auto tree = json::parse(out.out, "features");
  ASSERT_TRUE(tree.ok()) << out.out;
  auto root = json::root(*tree);
  EXPECT_EQ(*root.get("ociVersionMin")->as_string(), "1.0.0");
  EXPECT_EQ(*root.get("ociVersionMax")->as_string(), "1.3.0");
  auto linux_ = root.get("linux");
  ASSERT_TRUE(linux_);
  for (const char* feature : {"intelRdt", "netDevices", "memoryPolicy"}) {
    auto f = linux_->get(feature);
    ASSERT_TRUE(f) << feature;
    EXPECT_FALSE(*f->get("enabled")->as_bool()) << feature;
  }
  EXPECT_FALSE(*linux_->get("mountExtensions")->get("idmap")->get("enabled")->as_bool());
}

TEST(SpecVersion, SpecWritesTheCurrentVersion) {
  Bundle b;
  EXPECT_NE(b.config().find("\"ociVersion\": \"1.3.0\""), std::string::npos) << b.config().substr(0, 80);
}

}  // namespace
}  // namespace berth::test
