#include "berth/shim/log_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <fstream>

#include "berth/common/clock.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/temp_dir.h"

namespace berth::shim {
namespace {

std::vector<std::pair<std::string, std::string>> records(const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  auto text = read_file(path);
  if (!text.ok()) return out;
  size_t start = 0;
  while (start < text->size()) {
    size_t nl = text->find('\n', start);
    auto tree = json::parse(std::string_view(*text).substr(start, nl - start), "record");
    EXPECT_TRUE(tree.ok());
    auto root = json::root(*tree);
    out.emplace_back(root.get("stream")->as_string().value(), root.get("log")->as_string().value());
    EXPECT_TRUE(root.get("time").has_value());
    start = nl + 1;
  }
  return out;
}

TEST(LogFile, OneRecordPerLineAndStream) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/c.log";
  auto log = LogFile::open(path, 0, 0);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->write("stdout", "a\nb").ok());
  ASSERT_TRUE((*log)->write("stderr", "oops\n").ok());
  ASSERT_TRUE((*log)->write("stdout", "c\n").ok());  // completes "bc"
  ASSERT_TRUE((*log)->write("stdout", "tail").ok());
  ASSERT_TRUE((*log)->flush("stdout").ok());
  auto got = records(path);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], (std::pair<std::string, std::string>{"stdout", "a\n"}));
  EXPECT_EQ(got[1], (std::pair<std::string, std::string>{"stderr", "oops\n"}));
  EXPECT_EQ(got[2], (std::pair<std::string, std::string>{"stdout", "bc\n"}));
  EXPECT_EQ(got[3], (std::pair<std::string, std::string>{"stdout", "tail"}));
}

TEST(LogFile, EndlessLineIsSplitIntoBoundedRecords) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/c.log";
  auto log = LogFile::open(path, 0, 0);
  ASSERT_TRUE(log.ok());
  std::string big(LogFile::kMaxRecord * 2 + 10, 'x');
  ASSERT_TRUE((*log)->write("stdout", big).ok());
  auto got = records(path);
  ASSERT_EQ(got.size(), 2u);  // the last 10 bytes wait for more
  EXPECT_EQ(got[0].second.size(), LogFile::kMaxRecord);
}

TEST(LogFile, RotatesAndKeepsMaxFiles) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/c.log";
  auto log = LogFile::open(path, 1000, 2);
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 100; i++) ASSERT_TRUE((*log)->write("stdout", "line number " + std::to_string(i) + "\n").ok());
  EXPECT_TRUE(path_exists(path));
  EXPECT_TRUE(path_exists(path + ".1"));
  EXPECT_TRUE(path_exists(path + ".2"));
  EXPECT_FALSE(path_exists(path + ".3"));
  EXPECT_LE(read_file(path)->size(), 1000u);
  auto newest = records(path);
  ASSERT_FALSE(newest.empty());
  EXPECT_EQ(newest.back().second, "line number 99\n");
}

// The kubelet's format: "<time> <stream> <P|F> <text>", the line ending not written, a line longer than
// 16 KiB split into P pieces and an F; never rotated by the shim, reopened at its path on request.
TEST(LogFile, CriFormatTagsPartialsAndReopensAfterARename) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/pod/c/0.log";  // the directories are made, as containerd does
  auto log = LogFile::open_cri(path);
  ASSERT_TRUE(log.ok()) << log.error().what();
  ASSERT_TRUE((*log)->write("stdout", "a b\n").ok());
  ASSERT_TRUE((*log)->write("stderr", "\n").ok());
  ASSERT_TRUE((*log)->write("stdout", std::string(LogFile::kMaxRecord, 'x') + "\n").ok());  // exactly 16 KiB: F
  ASSERT_TRUE((*log)->write("stdout", std::string(LogFile::kMaxRecord * 2 + 1, 'y') + "\n").ok());
  ASSERT_TRUE((*log)->write("stderr", "a tty's\r\n").ok());
  ASSERT_TRUE((*log)->write("stdout", std::string(LogFile::kMaxRecord, 'z') + "\r\n").ok());  // 16 KiB of text: F
  ASSERT_TRUE((*log)->write("stdout", "end").ok());
  ASSERT_TRUE((*log)->flush("stdout").ok());
  auto text = read_file(path, 1 << 20);
  ASSERT_TRUE(text.ok());
  std::vector<std::string> rest;  // each line without its timestamp
  for (size_t start = 0; start < text->size();) {
    size_t nl = text->find('\n', start);
    ASSERT_NE(nl, std::string::npos);
    std::string line = text->substr(start, nl - start);
    size_t space = line.find(' ');
    EXPECT_GT(parse_rfc3339_nano(line.substr(0, space)), 0) << line;
    rest.push_back(line.substr(space + 1));
    start = nl + 1;
  }
  std::string x(LogFile::kMaxRecord, 'x'), y(LogFile::kMaxRecord, 'y'), z(LogFile::kMaxRecord, 'z');
  // The stream ended without a newline: P, as containerd tags it.
  EXPECT_EQ(rest, (std::vector<std::string>{"stdout F a b", "stderr F ", "stdout F " + x, "stdout P " + y,
                                            "stdout P " + y, "stdout F y", "stderr F a tty's", "stdout F " + z,
                                            "stdout P end"}));

  ASSERT_EQ(::rename(path.c_str(), (path + ".1").c_str()), 0);
  ASSERT_TRUE((*log)->write("stdout", "still the old file\n").ok());
  ASSERT_TRUE((*log)->reopen().ok());
  ASSERT_TRUE((*log)->write("stdout", "new file\n").ok());
  auto renamed = read_file(path + ".1", 1 << 20);
  ASSERT_TRUE(renamed.ok());
  EXPECT_TRUE(renamed->ends_with(" stdout F still the old file\n"));
  auto fresh = read_file(path);
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->ends_with(" stdout F new file\n")) << *fresh;
  EXPECT_EQ(std::count(fresh->begin(), fresh->end(), '\n'), 1);
}

uint64_t rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      uint64_t kib = 0;
      status >> kib;
      return kib;
    }
  }
  return 0;
}

// A file that takes nothing (ENOSPC on every write): the log keeps no output and counts it all.
TEST(LogFile, AnUnwritableFileDropsAndCountsInsteadOfKeeping) {
  auto log = LogFile::open("/dev/full", 0, 0);
  ASSERT_TRUE(log.ok());
  std::string line(4095, 'o');
  line += '\n';
  std::string chunk;
  while (chunk.size() < 64 * 1024) chunk += line;
  uint64_t before = rss_kib();
  uint64_t written = 0;
  for (int i = 0; i < 512; i++, written += chunk.size()) ASSERT_TRUE((*log)->write("stdout", chunk).ok());
  EXPECT_EQ((*log)->dropped_bytes(), written);  // every chunk ends a line: nothing pending
#if !defined(__SANITIZE_ADDRESS__)  // ASan's quarantine keeps freed buffers resident: RSS says nothing there
  EXPECT_LT(rss_kib(), before + 8 * 1024) << written << " bytes written";  // it kept all of them
#else
  (void)before;
#endif
}

// EFBIG past RLIMIT_FSIZE stands in for a full disk: a record cut in the middle is taken back,
// and once the file can grow again the next record is written.
TEST(LogFile, APartlyWrittenRecordIsCutAndWritingResumes) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/c.log";
  auto log = LogFile::open(path, 0, 0);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->write("stdout", "before\n").ok());
  uint64_t size = read_file(path)->size();

  struct sigaction ignore{}, old{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &old), 0);
  struct rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit small = saved;
  small.rlim_cur = size + 40;  // room for part of the next record only
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  ASSERT_TRUE((*log)->write("stdout", "lost one\n").ok());
  ASSERT_TRUE((*log)->write("stderr", "lost two\n").ok());
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
  ASSERT_EQ(::sigaction(SIGXFSZ, &old, nullptr), 0);
  EXPECT_EQ((*log)->dropped_bytes(), 18u);
  EXPECT_EQ(read_file(path)->size(), size);  // the cut record is gone again

  ASSERT_TRUE((*log)->write("stdout", "after\n").ok());
  auto got = records(path);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].second, "before\n");
  EXPECT_EQ(got[1].second, "after\n");
  EXPECT_EQ((*log)->dropped_bytes(), 18u);
}

}  // namespace
}  // namespace berth::shim
