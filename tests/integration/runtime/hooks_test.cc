// OCI hooks: order, state on stdin, namespaces, and the spec's failure rules.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "berth/common/fs.h"
#include "bundle.h"

namespace berth::test {
namespace {

// A hook that appends its name to <log> and saves its stdin as <dir>/<name>.json.
std::string hook(const std::string& name, const std::string& dir, const std::string& extra = "") {
  std::string script = "cat > " + dir + "/" + name + ".json; echo " + name + " >> " + dir + "/order" + extra;
  return "{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\"," + json::quote(script) + "]}";
}

TEST(Hooks, RunInOrderWithStateOnStdin) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  const std::string d = b.dir();
  b.edit(".root.readonly=false | .hooks={\"prestart\":[" + hook("prestart", d) + "],\"createRuntime\":[" +
         hook("createRuntime", d) + "],\"createContainer\":[" +
         hook("createContainer", d, "; readlink /proc/self/ns/mnt > " + d + "/cc-mnt") +
         "],\"startContainer\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"cat > /start.json\"]}],"
         "\"poststart\":[" + hook("poststart", d) + "],\"poststop\":[" + hook("poststop", d) + "]}");
  b.set_args({"sh", "-c", "readlink /proc/self/ns/mnt > /ctr-mnt"});
  auto out = b.run("hk");
  ASSERT_EQ(out.status.code, 0) << out.err;
  EXPECT_EQ(read_file(d + "/order").value_or(""), "prestart\ncreateRuntime\ncreateContainer\npoststart\npoststop\n");
  auto state = json::parse(read_file(d + "/createRuntime.json").value_or("{}"), "hook state");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(*json::root(*state).get("id")->as_string(), "hk");
  EXPECT_EQ(*json::root(*state).get("status")->as_string(), "creating");
  EXPECT_GT(*json::root(*state).get("pid")->as_int64(), 0);
  EXPECT_NE(read_file(d + "/poststop.json").value_or("").find("\"stopped\""), std::string::npos);
  // createContainer ran in the container's mount namespace; startContainer inside the container.
  EXPECT_EQ(read_file(d + "/cc-mnt").value_or("a"), read_file(b.rootfs() + "/ctr-mnt").value_or("b"));
  EXPECT_NE(read_file(b.rootfs() + "/start.json").value_or("").find("\"hk\""), std::string::npos);
}

TEST(Hooks, FailingCreateRuntimeHookAbortsCreate) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".hooks={\"createRuntime\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo nope >&2; exit 3\"]}]}");
  auto out = b.berth_detached({"create", "--bundle", b.dir(), "hf"});
  EXPECT_NE(out.status.code, 0);
  EXPECT_NE(out.err.find("createRuntime hook /bin/sh exited with status 3: nope"), std::string::npos) << out.err;
  EXPECT_FALSE(path_exists(b.state_root() + "/hf"));
}

TEST(Hooks, TimeoutKillsTheHook) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".hooks={\"prestart\":[{\"path\":\"/bin/sleep\",\"args\":[\"sleep\",\"30\"],\"timeout\":1}]}");
  auto out = b.berth_detached({"create", "--bundle", b.dir(), "ht"});
  EXPECT_NE(out.status.code, 0);
  EXPECT_NE(out.err.find("timed out"), std::string::npos) << out.err;
}

TEST(Hooks, FailingStartContainerHookFailsStart) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".hooks={\"startContainer\":[{\"path\":\"/bin/false\"}]}");
  ASSERT_EQ(::symlink("busybox", (b.rootfs() + "/bin/false").c_str()), 0);
  b.set_args({"sh", "-c", "echo should-not-run"});
  auto out = b.run("hs");
  EXPECT_NE(out.status.code, 0);
  EXPECT_NE(out.err.find("startContainer hook /bin/false failed"), std::string::npos) << out.err;
  EXPECT_EQ(out.out.find("should-not-run"), std::string::npos);
}

// run lets init go from ready to exec on its own; an init killed on the way (here while its
// startContainer hook runs) is a failed start, not a container that ran and was killed.
TEST(Hooks, InitKilledBeforeExecFailsTheRun) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(R"(.root.readonly=false | .hooks={"startContainer":[{"path":"/bin/sh","args":["sh","-c","touch /hook-runs; sleep 30"]}]})");
  b.set_args({"sh", "-c", "echo should-not-run"});
  CommandOutput out;
  std::thread run([&] { out = b.run("hk"); });
  // Bounded wait for the hook to say it runs; then init, waiting for it, is killed from outside.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!path_exists(b.rootfs() + "/hook-runs") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  bool hook_ran = path_exists(b.rootfs() + "/hook-runs");
  if (hook_ran) ::kill(std::stoi(b.state_field("hk", "pid")), SIGKILL);
  run.join();
  ASSERT_TRUE(hook_ran) << out.err;
  EXPECT_NE(out.status.code, 0);
  EXPECT_NE(out.err.find("died before it could exec"), std::string::npos) << out.err;
  EXPECT_EQ(out.out.find("should-not-run"), std::string::npos);
  EXPECT_FALSE(path_exists(b.state_root() + "/hk")) << "state left";
}

TEST(Hooks, FailingPoststartOnlyWarns) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.edit(".hooks={\"poststart\":[{\"path\":\"/bin/false\"}]}");
  b.set_args({"sh", "-c", "echo ran"});
  auto out = b.run("hp");
  EXPECT_EQ(out.status.code, 0) << out.err;
  EXPECT_EQ(out.out, "ran\n");
}

}  // namespace
}  // namespace berth::test
