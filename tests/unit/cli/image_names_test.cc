#include "image_names.h"

#include <gtest/gtest.h>

#include "output.h"

namespace berth::cli {
namespace {

TEST(ImageNames, DockerHubNamesAreShownShort) {
  RepoTag r = docker_repo_tag("docker.io/library/busybox:latest");
  EXPECT_EQ(r.repository, "busybox");
  EXPECT_EQ(r.tag, "latest");
  r = docker_repo_tag("docker.io/me/app:1.0");
  EXPECT_EQ(r.repository, "me/app");
  EXPECT_EQ(r.tag, "1.0");
}

TEST(ImageNames, ARegistryPortIsNotATag) {
  RepoTag r = docker_repo_tag("127.0.0.1:5000/test/busybox:1");
  EXPECT_EQ(r.repository, "127.0.0.1:5000/test/busybox");
  EXPECT_EQ(r.tag, "1");
  r = docker_repo_tag("127.0.0.1:5000/test/busybox");
  EXPECT_EQ(r.repository, "127.0.0.1:5000/test/busybox");
  EXPECT_EQ(r.tag, "<none>");
}

TEST(ImageNames, ANameByDigestHasNoTag) {
  RepoTag r = docker_repo_tag("docker.io/library/busybox@sha256:abcd");
  EXPECT_EQ(r.repository, "busybox");
  EXPECT_EQ(r.tag, "<none>");
}

TEST(ImageNames, ShortIdIsTwelveHexDigits) {
  EXPECT_EQ(short_image_id("sha256:68210c80023b0123456789"), "68210c80023b");
  EXPECT_EQ(short_image_id(""), "<none>");
}

TEST(HumanDuration, AsDockerSaysIt) {
  EXPECT_EQ(human_duration(0), "Less than a second");
  EXPECT_EQ(human_duration(1), "1 second");
  EXPECT_EQ(human_duration(59), "59 seconds");
  EXPECT_EQ(human_duration(90), "About a minute");
  EXPECT_EQ(human_duration(5 * 60), "5 minutes");
  EXPECT_EQ(human_duration(3600), "About an hour");
  EXPECT_EQ(human_duration(3 * 3600), "3 hours");
  EXPECT_EQ(human_duration(3 * 86400), "3 days");
  EXPECT_EQ(human_duration(21 * 86400), "3 weeks");
  EXPECT_EQ(human_duration(90 * 86400), "3 months");
  EXPECT_EQ(human_duration(3 * 365 * 86400), "3 years");
}

// Issue 15: ps shows the image as docker does.
TEST(ImageNamesTest, PsImageColumn) {
  EXPECT_EQ(docker_image_name("docker.io/library/busybox:latest"), "busybox");
  EXPECT_EQ(docker_image_name("docker.io/library/busybox:1.36"), "busybox:1.36");
  EXPECT_EQ(docker_image_name("127.0.0.1:5000/app:v1"), "127.0.0.1:5000/app:v1");
  EXPECT_EQ(docker_image_name("docker.io/me/app@sha256:ab"), "me/app@sha256:ab");
}

// Issue 15: run's "Unable to find image 'busybox:latest' locally" names the tag docker would pull.
TEST(ImageNamesTest, DefaultTagIsLatest) {
  EXPECT_EQ(with_default_tag("busybox"), "busybox:latest");
  EXPECT_EQ(with_default_tag("busybox:1.36"), "busybox:1.36");
  EXPECT_EQ(with_default_tag("127.0.0.1:5000/app"), "127.0.0.1:5000/app:latest");
  EXPECT_EQ(with_default_tag("127.0.0.1:5000/app:v2"), "127.0.0.1:5000/app:v2");
  EXPECT_EQ(with_default_tag("app@sha256:0123"), "app@sha256:0123");
}

// import without a name: berthd keeps "<none>@<image id>"; docker shows <none> <none>, and ps the short id.
TEST(ImageNamesTest, DanglingImagesAreNoneNoneAndTheirShortId) {
  std::string name = "<none>@sha256:8a5dbb617fe32561bed9af1d7db1a50fa2e45efb6ce600946c922faaf6b91c47";
  EXPECT_TRUE(is_dangling(name));
  EXPECT_FALSE(is_dangling("docker.io/library/busybox:latest"));
  EXPECT_EQ(docker_repo_tag(name).repository, "<none>");
  EXPECT_EQ(docker_repo_tag(name).tag, "<none>");
  EXPECT_EQ(docker_image_name(name), "8a5dbb617fe3");
}

}  // namespace
}  // namespace berth::cli
