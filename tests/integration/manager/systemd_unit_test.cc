// packaging/berthd.service: systemd accepts it, the settings that keep containers alive across a
// berthd restart are there, and its ExecStart line starts a berthd that serves. (This host's PID 1
// is not systemd, so the unit itself cannot be started here.)
#include <signal.h>

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"

namespace berth::manager::testing {
namespace {

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// The unit with the installed paths pointed at this build.
std::string unit_for_this_build() {
  auto unit = read_file(std::string(BERTH_SOURCE_DIR) + "/packaging/berthd.service");
  EXPECT_TRUE(unit.ok());
  std::string text = unit.value_or("");
  text = replace_all(text, "/usr/local/bin/berthd ", std::string(BERTHD_PATH) + " ");
  text = replace_all(text, "/usr/local/bin/berth-shim ", std::string(BERTH_SHIM_PATH) + " ");
  text = replace_all(text, "/usr/local/bin/berth\n", std::string(BERTH_RUNTIME_PATH) + "\n");
  return text;
}

std::vector<std::string> exec_start(const std::string& unit) {
  std::istringstream lines(unit);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("ExecStart=", 0) != 0) continue;
    std::istringstream words(line.substr(10));
    std::vector<std::string> argv;
    for (std::string w; words >> w;) argv.push_back(w);
    return argv;
  }
  return {};
}

TEST(SystemdUnit, SystemdAcceptsItAndItKeepsContainersAlive) {
  std::string unit = unit_for_this_build();
  // Containers live in their shims, which stay in berthd's cgroup: only KillMode=process leaves them
  // running when berthd stops or restarts.
  EXPECT_NE(unit.find("\nKillMode=process\n"), std::string::npos);
  EXPECT_NE(unit.find("\nDelegate=yes\n"), std::string::npos);
  EXPECT_NE(unit.find("\nRestart=always\n"), std::string::npos);
  auto analyze = run_command({"sh", "-c", "command -v systemd-analyze"});
  ASSERT_TRUE(analyze.ok() && analyze->status.success()) << "systemd-analyze missing (scripts/setup installs systemd)";
  auto dir = TempDir::create("/tmp/berth-unit-");
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/berthd.service";
  ASSERT_TRUE(write_file_atomic(path, unit, 0644).ok());
  auto verified = run_command({"systemd-analyze", "verify", path});
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->status.success()) << verified->err;
  EXPECT_EQ(verified->err, "") << "systemd warns about the unit";
}

TEST(SystemdUnit, ItsExecStartServes) {
  auto argv = exec_start(unit_for_this_build());
  ASSERT_FALSE(argv.empty());
  ASSERT_EQ(argv[0], BERTHD_PATH);
  auto dir = TempDir::create("/tmp/berth-unit-");
  ASSERT_TRUE(dir.ok());
  std::string socket = dir->path() + "/berthd.sock";
  // Only the places berthd writes to are moved off the system's (flags override the defaults).
  argv.insert(argv.end(), {"--root", dir->path() + "/root", "--state", dir->path() + "/state", "--address", socket});
  auto berthd = ChildProcess::spawn({.argv = argv});
  ASSERT_TRUE(berthd.ok()) << berthd.error().what();
  Result<CommandOutput> version = make_error(ErrorCode::kUnavailable, "not asked yet");
  for (int i = 0; i < 200; i++) {
    version = run_command({BERTHCTL_PATH, "--address", socket, "version"});
    if (version.ok() && version->status.success()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(version.ok() && version->status.success()) << (version.ok() ? version->err : version.error().what());
  ASSERT_TRUE(berthd->signal(SIGTERM).ok());  // what systemctl stop sends
  auto stopped = berthd->wait_for(std::chrono::seconds(20));
  ASSERT_TRUE(stopped.ok() && stopped->has_value());
  EXPECT_TRUE((*stopped)->success());
}

}  // namespace
}  // namespace berth::manager::testing
