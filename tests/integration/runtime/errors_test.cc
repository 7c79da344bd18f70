// Bad input: a clear error naming what was wrong, a non-zero exit, and nothing left behind.
#include <unistd.h>

#include "berth/common/fs.h"
#include "bundle.h"

namespace berth::test {
namespace {

void expect_refused(Bundle& b, const std::string& id, const std::string& message_part) {
  int mounts_before = host_mounts_containing(b.dir());
  auto out = b.berth({"run", "--bundle", b.dir(), id});
  EXPECT_NE(out.status.code, 0);
  EXPECT_NE(out.err.find(message_part), std::string::npos) << "stderr: " << out.err;
  EXPECT_FALSE(path_exists(b.state_root() + "/" + id)) << "state dir left behind";
  EXPECT_EQ(host_mounts_containing(b.dir()), mounts_before);
}

TEST(Errors, WrongTypeNamesTheJsonPath) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".process.args=[\"sh\", 5]");
  expect_refused(b, "e1", "process.args[1]: expected a string");
}

TEST(Errors, MissingRequiredField) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit("del(.process.cwd)");
  expect_refused(b, "e2", "process.cwd: missing required field");
}

TEST(Errors, UnsupportedOciVersion) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".ociVersion=\"2.0.0\"");
  expect_refused(b, "e3", "ociVersion");
}

TEST(Errors, ExecutableNotFound) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"no-such-binary"});
  expect_refused(b, "e4", "\"no-such-binary\": executable file not found");
}

TEST(Errors, BadMountIsReportedWithItsDestination) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".mounts += [{\"destination\":\"/bad\",\"type\":\"nosuchfs\",\"source\":\"x\"}]");
  expect_refused(b, "e5", "/bad");
}

TEST(Errors, HostnameWithoutUtsNamespace) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit("del(.linux.namespaces[] | select(.type==\"uts\"))");
  expect_refused(b, "e6", "hostname");
}

TEST(Errors, InvalidIdAndDuplicateId) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "1000"});
  auto bad = b.berth_detached({"create", "--bundle", b.dir(), "../escape"});
  EXPECT_NE(bad.status.code, 0);
  EXPECT_NE(bad.err.find("invalid container id"), std::string::npos) << bad.err;
  ASSERT_TRUE(b.berth_detached({"create", "--bundle", b.dir(), "dup"}).status.success());
  auto again = b.berth_detached({"create", "--bundle", b.dir(), "dup"});
  EXPECT_NE(again.status.code, 0);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  EXPECT_EQ(b.state_field("dup", "status"), "created") << "the first container survives";
  ASSERT_TRUE(b.berth({"delete", "dup"}).status.success());
}

TEST(Errors, UnknownContainer) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  for (const char* verb : {"state", "start", "kill", "delete"}) {
    auto out = b.berth({verb, "ghost"});
    EXPECT_NE(out.status.code, 0) << verb;
    EXPECT_NE(out.err.find("does not exist"), std::string::npos) << verb << ": " << out.err;
  }
}

TEST(Errors, JsonLogLinesForTheShim) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  std::string log = b.dir() + "/log.json";
  auto out = b.berth({"--log", log, "--log-format", "json", "state", "ghost"});
  ASSERT_NE(out.status.code, 0);
  auto text = read_file(log);
  ASSERT_TRUE(text.ok());
  auto tree = json::parse(text->substr(0, text->find('\n')), "log line");
  ASSERT_TRUE(tree.ok()) << *text;
  EXPECT_EQ(*json::root(*tree).get("level")->as_string(), "error");
  EXPECT_NE(json::root(*tree).get("msg")->as_string()->find("ghost"), std::string::npos);
  EXPECT_TRUE(json::root(*tree).get("time").has_value());
}

}  // namespace
}  // namespace berth::test
