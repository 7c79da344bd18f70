// Defences against the known runtime escapes; each test fails without its defence.
#include <fcntl.h>
#include <unistd.h>

#include "berth/common/fs.h"
#include "bundle.h"

namespace berth::test {
namespace {

// CVE-2019-5736: /proc/<pid>/exe of a berth process in the container's reach must not be the
// host binary, and can't be written.
TEST(Hardening, InitRunsFromASealedCopyOfBerth) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "1000"});
  auto before = read_file(BERTH_BINARY, 64 << 20);
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(b.berth_detached({"create", "--bundle", b.dir(), "sealed"}).status.success());
  std::string pid = b.state_field("sealed", "pid");
  char link[256] = {};
  ASSERT_GT(::readlink(("/proc/" + pid + "/exe").c_str(), link, sizeof link - 1), 0);
  EXPECT_EQ(std::string(link).find("/memfd:berth-sealed"), 0u) << link;
  // Even root on the host can't write through it: the memfd is sealed.
  int fd = ::open(("/proc/" + pid + "/exe").c_str(), O_WRONLY);
  if (fd >= 0) {
    EXPECT_LT(::write(fd, "x", 1), 0) << "sealed copy accepted a write";
    ::close(fd);
  }
  // From inside (exec, while init is still berth), /proc/1/exe is out of reach.
  auto attempt = b.berth({"exec", "sealed", "sh", "-c", "echo pwned >> /proc/1/exe && echo wrote"});
  EXPECT_EQ(attempt.out.find("wrote"), std::string::npos);
  EXPECT_EQ(read_file(BERTH_BINARY, 64 << 20).value_or(""), *before) << "the host binary changed";
  ASSERT_TRUE(b.berth({"delete", "--force", "sealed"}).status.success());
}

// CVE-2016-9962 class: init's host fds (state dir, sync socket) are not reachable through
// /proc/1/fd by processes in the container before init execs.
TEST(Hardening, InitIsNotInspectableWhileCreated) {
  BERTH_REQUIRE_ROOT();
  Bundle b;
  b.set_args({"sleep", "1000"});
  ASSERT_TRUE(b.berth_detached({"create", "--bundle", b.dir(), "nodump"}).status.success());
  auto out = b.berth({"exec", "nodump", "sh", "-c", "ls -l /proc/1/fd/ 2>&1; cat /proc/1/environ 2>&1 | wc -c"});
  EXPECT_EQ(out.out.find("state"), std::string::npos) << out.out;
  EXPECT_EQ(out.out.find("socket:"), std::string::npos) << out.out;
  ASSERT_TRUE(b.berth({"delete", "--force", "nodump"}).status.success());
}

// CVE-2024-21626: a cwd that resolves through a leaked fd to the host is refused.
TEST(Hardening, CwdThroughProcSelfFdCannotReachTheHost) {
  BERTH_REQUIRE_ROOT();
  for (int fd = 3; fd <= 8; ++fd) {
    Bundle b;
    b.edit(".process.cwd=\"/proc/self/fd/" + std::to_string(fd) + "\"");
    b.set_args({"sh", "-c", "ls; ls ..; pwd"});
    auto out = b.run("cwd" + std::to_string(fd));
    EXPECT_EQ(out.out.find("state.json"), std::string::npos) << "fd " << fd << ": " << out.out;
    EXPECT_EQ(out.out.find("exec.fifo"), std::string::npos) << "fd " << fd << ": " << out.out;
    EXPECT_EQ(out.out.find("config.json"), std::string::npos) << "fd " << fd << ": " << out.out;
  }
}

}  // namespace
}  // namespace berth::test
