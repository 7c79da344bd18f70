#include "berth/shim/shim_options.h"

#include <gtest/gtest.h>
#include <sys/un.h>

#include "berth/common/temp_dir.h"

namespace berth::shim {
namespace {

TEST(ShimOptions, DefaultsAndAbsolutePaths) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  auto o = parse_shim_options({"--id", "c1", "--bundle", dir->path() + "/.", "--runtime", "/bin/true"});
  ASSERT_TRUE(o.ok()) << o.error().what();
  EXPECT_EQ(o->bundle, dir->path());
  EXPECT_EQ(o->ns, "default");
  EXPECT_EQ(o->runtime_root, "/run/berth/runtime/default");
  EXPECT_EQ(o->runtime, "/usr/bin/true");  // /bin is a link to /usr/bin on Debian 12
  auto again = parse_shim_options(shim_option_args(*o));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(shim_socket_path(*again), shim_socket_path(*o));
}

TEST(ShimOptions, RefusesBadIdsAndMissingThings) {
  auto dir = TempDir::create();
  ASSERT_TRUE(dir.ok());
  auto bad_id = parse_shim_options({"--id", "../x", "--bundle", dir->path(), "--runtime", "/bin/true"});
  ASSERT_FALSE(bad_id.ok());
  EXPECT_NE(bad_id.error().what().find("--id"), std::string::npos);
  EXPECT_FALSE(parse_shim_options({"--bundle", dir->path()}).ok());
  auto no_runtime = parse_shim_options({"--id", "c", "--bundle", dir->path(), "--runtime", "no-such-runtime-xyz"});
  ASSERT_FALSE(no_runtime.ok());
  EXPECT_NE(no_runtime.error().what().find("no-such-runtime-xyz"), std::string::npos);
  EXPECT_FALSE(parse_shim_options({"--id", "c", "--bundle", dir->path() + "/missing"}).ok());
}

TEST(ShimOptions, SocketPathIsShortAndPerContainer) {
  ShimOptions a;
  a.id = std::string(1000, 'a');
  a.ns = "ns1";
  ShimOptions b = a;
  b.ns = "ns2";
  EXPECT_NE(shim_socket_path(a), shim_socket_path(b));
  EXPECT_LT(shim_socket_path(a).size(), sizeof(sockaddr_un{}.sun_path));
}

}  // namespace
}  // namespace berth::shim
