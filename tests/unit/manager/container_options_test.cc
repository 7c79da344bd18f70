#include "containers/container_options.h"

#include <gtest/gtest.h>

namespace berth::manager {
namespace {

TEST(ContainerOptions, ParsesBindMounts) {
  auto v = parse_volume_option("/srv/data:/data");
  ASSERT_TRUE(v.ok()) << v.error().what();
  EXPECT_FALSE(v->named);
  EXPECT_EQ(v->source, "/srv/data");
  EXPECT_EQ(v->destination, "/data");
  EXPECT_FALSE(v->readonly);
  v = parse_volume_option("/srv/data:/data:ro");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->readonly);
  v = parse_volume_option("/srv/data:/data:rw");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->readonly);
}

TEST(ContainerOptions, ParsesNamedVolumes) {
  auto v = parse_volume_option("cache-1.x_y:/var/cache:ro");
  ASSERT_TRUE(v.ok()) << v.error().what();
  EXPECT_TRUE(v->named);
  EXPECT_EQ(v->source, "cache-1.x_y");
  EXPECT_TRUE(v->readonly);
}

// Issue 15: docker's anonymous "-v /data", and an anonymous volume per image VOLUME not covered.
TEST(ContainerOptions, AnonymousVolumes) {
  auto v = parse_volume_option("/data");
  ASSERT_TRUE(v.ok()) << v.error().what();
  EXPECT_TRUE(v->named);
  EXPECT_EQ(v->source, "");
  EXPECT_EQ(v->destination, "/data");
  auto all = with_image_volumes({*v, {false, "/srv", "/cache", true}}, {"/data", "/cache/", "/logs", "relative", "/"});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].destination, "/logs");
  EXPECT_TRUE(all[2].named);
  EXPECT_EQ(all[2].source, "");
  EXPECT_FALSE(all[2].readonly);
}

TEST(ContainerOptions, RefusesBadVolumes) {
  for (const char* bad : {"/", "/a/../b", "a", "/a:/b:rx", "/a:b", "/a:/b/../c", "/a:/", "a/b:/c", "./a:/c", "-a:/c", ":/c",
                          "/a:/b:ro:x", "a b:/c", "/a:"}) {
    auto v = parse_volume_option(bad);
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) {
      EXPECT_EQ(v.error().code(), ErrorCode::kInvalidArgument) << bad;
    }
  }
  auto v = parse_volume_option("/a:/b/../etc");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(std::string(v.error().what()).find("\"..\""), std::string::npos) << v.error().what();
}

TEST(ContainerOptions, ParsesSecurityOptions) {
  auto s = parse_security_options({});
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->seccomp);
  s = parse_security_options({"seccomp=unconfined"});
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->seccomp);
  s = parse_security_options({"apparmor=foo"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.error().what()).find("apparmor=foo"), std::string::npos);
}

}  // namespace
}  // namespace berth::manager
