#include "berth/common/startup_pages.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <fstream>
#include <memory>
#include <string>

#include "berth/common/temp_dir.h"
#include "berth/common/unique_fd.h"

namespace berth {
namespace {

// RssFile of /proc/self/status: resident pages of mapped files, in KiB.
size_t resident_file_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with("RssFile:")) return std::stoul(line.substr(8));
  return 0;
}

TEST(StartupPages, DropsResidentCodeAndTheProcessRunsOn) {
  size_t before = resident_file_kib();
  size_t dropped = drop_startup_file_pages();
  EXPECT_GT(dropped, 0u);
  EXPECT_LT(resident_file_kib(), before);
  // Code and read-only data come back from the file as they are used again.
  EXPECT_EQ(std::to_string(12345) + std::string("-ok"), "12345-ok");
}

// A private copy in a read-only mapping (as the loader leaves relocated RELRO data) is not a
// page of the file: dropping it would bring the file's bytes back in its place.
TEST(StartupPages, KeepsPrivateCopiesInReadOnlyMappings) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  std::string path = dir->path() + "/data";
  std::ofstream(path) << std::string(4096, 'f');
  auto fd = open_fd(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_TRUE(fd.ok());
  void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd->get(), 0);
  ASSERT_NE(p, MAP_FAILED);
  std::unique_ptr<char, decltype([](char* m) { ::munmap(m, 4096); })> mapping(static_cast<char*>(p));
  mapping.get()[0] = 'c';  // copied on write
  ASSERT_EQ(::mprotect(p, 4096, PROT_READ), 0);
  drop_startup_file_pages();
  EXPECT_EQ(mapping.get()[0], 'c');
}

}  // namespace
}  // namespace berth
