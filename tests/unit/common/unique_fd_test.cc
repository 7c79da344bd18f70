#include "berth/common/unique_fd.h"

#include <fcntl.h>

#include <gtest/gtest.h>

namespace berth {
namespace {

bool is_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

TEST(UniqueFd, ClosesOnScopeExitAndMoves) {
  int raw;
  {
    auto pipe = make_pipe();
    ASSERT_TRUE(pipe.ok());
    raw = pipe->first.get();
    EXPECT_TRUE(::fcntl(raw, F_GETFD) & FD_CLOEXEC);
    UniqueFd moved = std::move(pipe->first);
    EXPECT_EQ(moved.get(), raw);
    EXPECT_FALSE(pipe->first.valid());
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, OpenErrorsNameThePath) {
  auto r = open_fd("/nonexistent/file", O_RDONLY);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("/nonexistent/file"), std::string::npos);
}

}  // namespace
}  // namespace berth
