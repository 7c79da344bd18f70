#include "berth/cli/cli.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "berth/common/temp_dir.h"
#include "output.h"
#include "pull_progress.h"

namespace berth::cli {
namespace {

struct CliRun {
  int code;
  std::string out, err;
};

CliRun run(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = run_cli(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(CliTest, UsageErrorsExitTwo) {
  CliRun r = run({});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("Usage: berthctl"), std::string::npos);
  EXPECT_EQ(run({"--help"}).code, 0);
  r = run({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown command \"frobnicate\""), std::string::npos);
  r = run({"image"});
  EXPECT_EQ(r.code, 2);
  r = run({"--format", "yaml", "images"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--format"), std::string::npos);
  r = run({"--address", "/nonexistent/sock", "image", "tag", "only-one"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("usage: berthctl image tag SOURCE TARGET"), std::string::npos) << r.err;
  r = run({"--address", "/nonexistent/sock", "pull", "--bogus-flag", "x"});
  EXPECT_EQ(r.code, 2);
}

// Issue 16 item 6: a non-ASCII namespace went into gRPC metadata and aborted berthctl (exit 134).
// Issue 15: every verb's --help prints its usage on stdout and exits 0, without reaching berthd.
TEST(CliTest, EveryVerbHasHelp) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"run", "--help"}, {"run", "--rm", "--help"}, {"inspect", "--help"}, {"ps", "--help"},
           {"rm", "-f", "--help"}, {"volume", "prune", "--help"}, {"images", "--help"}, {"wait", "--help"},
           {"exec", "--help"}, {"container", "prune", "--help"}, {"logs", "--help"}}) {
    args.insert(args.begin(), {"--address", "/nonexistent/sock"});
    CliRun r = run(args);
    EXPECT_EQ(r.code, 0) << args[2] << ": " << r.err;
    EXPECT_NE(r.out.find("Usage of berthctl " + args[2]), std::string::npos) << r.out;
    EXPECT_GT(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args[2] << ": " << r.out;
    EXPECT_EQ(r.err, "");
  }
  CliRun r = run({"--address", "/nonexistent/sock", "run", "--help"});
  EXPECT_NE(r.out.find("--pull missing|always|never"), std::string::npos) << r.out;
  // After run's IMAGE, --help is the container command's.
  r = run({"--address", "/nonexistent/sock", "run", "busybox", "ls", "--help"});
  EXPECT_EQ(r.code, 125);
}

TEST(CliTest, BadNamespacesAreErrorsNotAborts) {
  auto dir = TempDir::create("/tmp/berthctl-test-");
  ASSERT_TRUE(dir.ok());
  std::string sock = dir->path() + "/missing.sock";
  CliRun r = run({"--address", sock, "-n", "\xc3\xbcn\xc3\xaf", "images"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("invalid namespace \"??n??\""), std::string::npos) << r.err;
  r = run({"--address", sock, "--namespace", std::string(100000, 'a'), "ps"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("(100000 bytes): use 1-76 of [a-z0-9._-]"), std::string::npos) << r.err;
  EXPECT_LT(r.err.size(), 400u);
  EXPECT_EQ(run({"--address", sock, "-n", "a\nb", "ps"}).code, 1);
  EXPECT_EQ(run({"--address", sock, "-n", "", "ps"}).code, 1);
  // A good one gets as far as the (missing) daemon.
  r = run({"--address", sock, "-n", "ok-name.1", "ps"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.find("invalid namespace"), std::string::npos) << r.err;
}

TEST(CliTest, UnreachableDaemonIsAClearFailure) {
  auto dir = TempDir::create("/tmp/berthctl-test-");
  ASSERT_TRUE(dir.ok());
  CliRun r = run({"--address", dir->path() + "/missing.sock", "images"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("berthctl: "), std::string::npos);
  EXPECT_NE(r.err.find("missing.sock"), std::string::npos) << r.err;
}

TEST(CliTest, HostFlagAndBerthHostNameTheSocket) {
  auto dir = TempDir::create("/tmp/berthctl-test-");
  ASSERT_TRUE(dir.ok());
  CliRun r = run({"-H", "unix://" + dir->path() + "/via-flag.sock", "images"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find(dir->path() + "/via-flag.sock"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("unix://"), std::string::npos) << "the scheme is not part of the path: " << r.err;
  ::setenv("BERTH_HOST", ("unix://" + dir->path() + "/via-env.sock").c_str(), 1);
  r = run({"images"});
  ::unsetenv("BERTH_HOST");
  EXPECT_NE(r.err.find("via-env.sock"), std::string::npos) << r.err;
  r = run({"-H", "tcp://127.0.0.1:2375", "images"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unix socket only"), std::string::npos) << r.err;
}

// Issue 15: pull bars fit any width (the last column free, so nothing wraps), with speed and ETA.
TEST(OutputTest, PullLinesFitTheTerminal) {
  pb::PullProgress p;
  p.set_ref("layer-sha256:00101c2f28551234567890abcdef");
  p.set_status("downloading");
  p.set_offset(512 << 10);
  p.set_total(1 << 20);
  std::string wide = progress_line(p, 200, 256 << 10);
  EXPECT_NE(wide.find("|==============="), std::string::npos) << wide;
  EXPECT_NE(wide.find("512.0 KiB / 1.0 MiB 256.0 KiB/s 2s"), std::string::npos) << wide;
  for (size_t width : {120u, 80u, 60u, 50u, 40u, 20u, 5u, 1u}) {
    std::string line = progress_line(p, width, 256 << 10);
    EXPECT_LT(line.size(), width) << width << ": " << line;
  }
  EXPECT_NE(progress_line(p, 100, 256 << 10).find("/s"), std::string::npos);
  p.set_status("done");
  EXPECT_EQ(progress_line(p, SIZE_MAX, 0).find('|'), std::string::npos);
}

TEST(OutputTest, TablesAlignAndSizesReadWell) {
  Table t({"REF", "SIZE"});
  t.add({"a-long-name", "1"});
  t.add({"b", "22"});
  std::ostringstream out;
  t.print(out);
  EXPECT_EQ(out.str(), "REF           SIZE\na-long-name   1\nb             22\n");
  EXPECT_EQ(human_size(512), "512 B");
  EXPECT_EQ(human_size(1536), "1.5 KiB");
  EXPECT_EQ(human_size(5 << 20), "5.0 MiB");
  EXPECT_EQ(format_time(0), "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace berth::cli
