#include "run_options.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

TEST(RunOptions, ParsesSizes) {
  EXPECT_EQ(*parse_size("64m"), int64_t{64} << 20);
  EXPECT_EQ(*parse_size("64M"), int64_t{64} << 20);
  EXPECT_EQ(*parse_size("1g"), int64_t{1} << 30);
  EXPECT_EQ(*parse_size("512k"), 512 * 1024);
  EXPECT_EQ(*parse_size("512kb"), 512 * 1024);
  EXPECT_EQ(*parse_size("100b"), 100);
  EXPECT_EQ(*parse_size("1048576"), 1048576);
  EXPECT_EQ(*parse_size("-1", true), -1);
  for (const char* bad : {"", "m", "64x", "1.5g", "-1", "-5m", "64 m", "99999999999999g"}) {
    auto r = parse_size(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  auto r = parse_size("64x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.error().what()).find("\"64x\""), std::string::npos) << r.error().what();
}

TEST(RunOptions, ParsesCpus) {
  EXPECT_EQ(*parse_nano_cpus("1.5"), 1500000000);
  EXPECT_EQ(*parse_nano_cpus("2"), 2000000000);
  EXPECT_EQ(*parse_nano_cpus(".25"), 250000000);
  EXPECT_EQ(*parse_nano_cpus("0.000000001"), 1);
  for (const char* bad : {"", ".", "0", "0.0", "-1", "1.5.5", "abc", "1e3", "0.0000000001"})
    EXPECT_FALSE(parse_nano_cpus(bad).ok()) << bad;
}

TEST(RunOptions, TurnsMountsIntoVolumes) {
  EXPECT_EQ(*mount_to_volume("type=bind,src=/a,dst=/b"), "/a:/b");
  EXPECT_EQ(*mount_to_volume("type=bind,source=/a,target=/b,readonly"), "/a:/b:ro");
  EXPECT_EQ(*mount_to_volume("type=volume,src=data,destination=/b,ro=true"), "data:/b:ro");
  for (const char* bad : {"type=tmpfs,dst=/b", "src=/a,dst=/b", "type=bind,src=/a", "type=bind,src=a,dst=/b",
                          "type=volume,src=/a,dst=/b", "type=bind,src=/a,dst=/b,bogus=1"})
    EXPECT_FALSE(mount_to_volume(bad).ok()) << bad;
}

TEST(RunOptions, FillTheCreateRequest) {
  RunOptions o;
  o.volumes = {"/a:/b"};
  o.mounts = {"type=volume,src=v,dst=/c"};
  o.limits.memory = "32m";
  o.limits.cpus = "0.5";
  o.limits.pids_limit = 10;
  o.security_opt = {"seccomp=unconfined"};
  pb::ContainerCreateRequest create;
  ASSERT_TRUE(o.apply(create).ok());
  ASSERT_EQ(create.volumes_size(), 2);
  EXPECT_EQ(create.volumes(1), "v:/c");
  EXPECT_EQ(create.resources().memory_bytes(), 32 << 20);
  EXPECT_EQ(create.resources().nano_cpus(), 500000000);
  EXPECT_EQ(create.resources().pids_limit(), 10);
  EXPECT_EQ(create.security_opt(0), "seccomp=unconfined");
  o.limits.pids_limit = -7;
  EXPECT_FALSE(o.apply(create).ok());
}

// Issue 16: "--cpu-shares -3" was stored as 18446744073709551613.
TEST(RunOptions, CpuSharesAreRangeChecked) {
  auto parse = [](const std::string& flag) {
    ResourceOptions o;
    boost::program_options::options_description desc;
    o.add_to(desc);
    boost::program_options::variables_map vm;
    boost::program_options::store(
        boost::program_options::command_line_parser(std::vector<std::string>{flag}).options(desc).run(), vm);
    boost::program_options::notify(vm);
    pb::ContainerResources r;
    Status st = o.apply(r);
    return std::make_pair(st, r.cpu_shares());
  };
  auto [neg, neg_value] = parse("--cpu-shares=-3");
  ASSERT_FALSE(neg.ok()) << neg_value;
  EXPECT_EQ(neg.error().message(), "invalid --cpu-shares -3: use 2 to 262144");
  EXPECT_FALSE(parse("--cpu-shares=262145").first.ok());
  EXPECT_FALSE(parse("--cpu-shares=1").first.ok());
  auto [ok, value] = parse("--cpu-shares=512");
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(value, 512u);
  EXPECT_EQ(parse("--cpu-shares=0").second, 0u);
}

// Issue 15: docker run's 126 and 127 (runc's and berth's wording of the init's exec failure).
TEST(RunOptionsTest, LaunchFailureCodesAsDocker) {
  EXPECT_EQ(launch_failure_code("create task: berth create: container init: exec: \"nosuchcmd\": executable file "
                                "not found in $PATH: No such file or directory"),
            127);
  EXPECT_EQ(launch_failure_code("exec: \"/nosuchcmd\": No such file or directory"), 127);
  EXPECT_EQ(launch_failure_code("exec: \"/bin\": Permission denied"), 126);
  EXPECT_EQ(launch_failure_code("runc create failed: exec: \"/\": is a directory"), 126);
  EXPECT_EQ(launch_failure_code("bind mount source /x: No such file or directory"), 125);
  EXPECT_EQ(launch_failure_code("container \"x\" already exists"), 125);
}

}  // namespace
}  // namespace berth::cli
