#include "containers/spec_builder.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "berth/common/json.h"

namespace berth::manager {
namespace {

const char* kPasswd = "root:x:0:0:root:/root:/bin/sh\nwww:x:33:44:web:/var/www:/bin/false\n";
const char* kGroup = "root:x:0:\nwww:x:44:\nstaff:x:50:www,other\nadm:x:4:www\n";

TEST(SpecBuilder, ParsesTheImageConfig) {
  auto c = parse_image_process_config(
      R"({"config":{"Entrypoint":["/init"],"Cmd":["a","b"],"Env":["A=1"],"WorkingDir":"/w","User":"www",)"
      R"("Volumes":{"/data":{},"/logs":{}}}})");
  ASSERT_TRUE(c.ok()) << c.error().what();
  EXPECT_EQ(c->entrypoint, std::vector<std::string>{"/init"});
  EXPECT_EQ(c->volumes, (std::vector<std::string>{"/data", "/logs"}));
  EXPECT_EQ(c->cmd, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c->env, std::vector<std::string>{"A=1"});
  EXPECT_EQ(c->working_dir, "/w");
  EXPECT_EQ(c->user, "www");
  auto empty = parse_image_process_config(R"({"config":{"Cmd":null}})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->cmd.empty());
}

TEST(SpecBuilder, ResolvesUsers) {
  auto ids = resolve_user("www", kPasswd, kGroup);
  ASSERT_TRUE(ids.ok()) << ids.error().what();
  EXPECT_EQ(ids->uid, 33u);
  EXPECT_EQ(ids->gid, 44u);
  EXPECT_EQ(ids->additional_gids, (std::vector<uint32_t>{50, 4}));
  ids = resolve_user("1000:1001", "", "");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->uid, 1000u);
  EXPECT_EQ(ids->gid, 1001u);
  ids = resolve_user("33", kPasswd, kGroup);  // a uid takes its primary group from passwd
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->gid, 44u);
  ids = resolve_user("www:staff", kPasswd, kGroup);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->gid, 50u);
  EXPECT_FALSE(resolve_user("nobody", kPasswd, kGroup).ok());
  EXPECT_FALSE(resolve_user("www:nogroup", kPasswd, kGroup).ok());
  EXPECT_FALSE(resolve_user("a:b:c", kPasswd, kGroup).ok());
  EXPECT_FALSE(user_needs_lookup("1:2"));
  EXPECT_TRUE(user_needs_lookup("www"));
}

TEST(SpecBuilder, MergesEnv) {
  EXPECT_EQ(merge_env({"A=1", "B=2"}, {"B=3", "C=4"}), (std::vector<std::string>{"A=1", "B=3", "C=4"}));
}

TEST(SpecBuilder, BuildsTheSpecFromImageAndOverrides) {
  SpecInputs in;
  in.id = "0123456789abcdef";
  in.ns = "default";
  in.image.entrypoint = {"/bin/sh", "-c"};
  in.image.cmd = {"echo hi"};
  in.image.env = {"PATH=/bin", "A=1"};
  in.overrides.args = {"echo override"};
  in.overrides.env = {"A=2"};
  in.overrides.tty = true;
  in.user = {5, 6, {}};
  auto spec = build_spec(in);
  ASSERT_TRUE(spec.ok()) << spec.error().what();
  auto tree = json::parse(*spec, "spec");
  ASSERT_TRUE(tree.ok());
  auto root = json::root(*tree);
  auto process = *root.get("process");
  EXPECT_EQ(*process.get("args")->as_string_array(), (std::vector<std::string>{"/bin/sh", "-c", "echo override"}));
  EXPECT_EQ(*process.get("env")->as_string_array(), (std::vector<std::string>{"PATH=/bin", "A=2", "TERM=xterm"}));
  EXPECT_EQ(*process.get("cwd")->as_string(), "/");
  EXPECT_TRUE(*process.get("terminal")->as_bool());
  EXPECT_EQ(*process.get("user")->get("uid")->as_uint32(), 5u);
  EXPECT_EQ(*root.get("hostname")->as_string(), "0123456789ab");
  EXPECT_EQ(*root.get("linux")->get("cgroupsPath")->as_string(), "/berth/default/0123456789abcdef");

  in.image = {};
  in.overrides = {};
  EXPECT_FALSE(build_spec(in).ok());  // no command anywhere
  in.overrides.args = {"x"};
  in.overrides.cwd = "relative";
  EXPECT_FALSE(build_spec(in).ok());
}

// Issue 15: docker's --entrypoint drops the image's Cmd; arguments after the image still follow it.
TEST(SpecBuilder, EntrypointOverrideDropsTheImagesCmd) {
  SpecInputs in;
  in.id = "c";
  in.ns = "default";
  in.image.entrypoint = {"/docker-entrypoint.sh"};
  in.image.cmd = {"nginx", "-g", "daemon off;"};
  auto args_of = [&]() {
    auto spec = build_spec(in);
    EXPECT_TRUE(spec.ok()) << spec.error().what();
    auto tree = json::parse(spec.value_or("{}"), "spec");
    return json::root(*tree).get("process")->get("args")->as_string_array().value_or({});
  };
  EXPECT_EQ(args_of(), (std::vector<std::string>{"/docker-entrypoint.sh", "nginx", "-g", "daemon off;"}));
  in.overrides.entrypoint = std::vector<std::string>{"/bin/sh"};
  EXPECT_EQ(args_of(), std::vector<std::string>{"/bin/sh"});
  in.overrides.args = {"-c", "echo hi"};
  EXPECT_EQ(args_of(), (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
}

TEST(SpecBuilder, ExecProcessKeepsTheContainersUserAndEnv) {
  SpecInputs in;
  in.id = "c";
  in.ns = "default";
  in.image.cmd = {"sleep"};
  in.image.env = {"A=1"};
  in.image.working_dir = "/srv";
  in.user = {7, 8, {}};
  auto spec = build_spec(in);
  ASSERT_TRUE(spec.ok());
  auto process = exec_process_json(*spec, {"ls"}, {"B=2"}, "", false);
  ASSERT_TRUE(process.ok()) << process.error().what();
  auto tree = json::parse(*process, "process");
  ASSERT_TRUE(tree.ok());
  auto root = json::root(*tree);
  EXPECT_EQ(*root.get("args")->as_string_array(), std::vector<std::string>{"ls"});
  auto env = *root.get("env")->as_string_array();
  EXPECT_EQ(env.back(), "B=2");
  EXPECT_EQ(*root.get("cwd")->as_string(), "/srv");
  EXPECT_EQ(*root.get("user")->get("uid")->as_uint32(), 7u);
  EXPECT_FALSE(*root.get("terminal")->as_bool());
  EXPECT_FALSE(exec_process_json(*spec, {}, {}, "", false).ok());
}

// A spec built from a one-command container with these overrides, parsed.
json::Tree spec_with(const SpecOverrides& overrides) {
  SpecInputs in;
  in.id = "c";
  in.ns = "default";
  in.image.cmd = {"sh"};
  in.overrides = overrides;
  auto spec = build_spec(in);
  EXPECT_TRUE(spec.ok()) << spec.error().what();
  auto tree = json::parse(spec.ok() ? *spec : "{}", "spec");
  return std::move(*tree);
}

TEST(SpecBuilder, AddsBindMountsAfterTheDefaults) {
  SpecOverrides o;
  o.args = {"sh"};
  o.mounts = {{"/srv/a", "/a", false}, {"/srv/b", "/b", true}};
  auto tree = spec_with(o);
  auto mounts = *json::root(tree).get("mounts")->as_array();
  ASSERT_GE(mounts.size(), 2u);
  const auto& b = mounts.back();
  EXPECT_EQ(*b.get("destination")->as_string(), "/b");
  EXPECT_EQ(*b.get("source")->as_string(), "/srv/b");
  EXPECT_EQ(*b.get("type")->as_string(), "bind");
  EXPECT_EQ(*b.get("options")->as_string_array(), (std::vector<std::string>{"rbind", "rprivate", "ro"}));
  EXPECT_EQ(mounts[mounts.size() - 2].get("options")->as_string_array()->back(), "rw");
  EXPECT_EQ(*mounts[0].get("destination")->as_string(), "/proc");
}

TEST(SpecBuilder, WritesResourceLimits) {
  SpecOverrides o;
  o.resources = {64 << 20, 0, 1500000000, 20, 512};
  auto tree = spec_with(o);
  auto r = *json::root(tree).get("linux")->get("resources");
  EXPECT_EQ(*r.get("memory")->get("limit")->as_int64(), 64 << 20);
  EXPECT_EQ(*r.get("memory")->get("swap")->as_int64(), 64 << 20);  // no swap, as docker
  EXPECT_EQ(*r.get("cpu")->get("quota")->as_int64(), 150000);
  EXPECT_EQ(*r.get("cpu")->get("period")->as_uint64(), 100000u);
  EXPECT_EQ(*r.get("cpu")->get("shares")->as_uint64(), 512u);
  EXPECT_EQ(*r.get("pids")->get("limit")->as_int64(), 20);
  EXPECT_EQ(r.get("devices")->as_array()->size(), 1u);

  o.resources = {64 << 20, -1, 0, 0, 0};
  tree = spec_with(o);
  r = *json::root(tree).get("linux")->get("resources");
  EXPECT_EQ(*r.get("memory")->get("swap")->as_int64(), -1);
  EXPECT_FALSE(r.get("cpu").has_value());
  EXPECT_FALSE(r.get("pids").has_value());
}

TEST(SpecBuilder, RefusesBadLimitsAndMounts) {
  SpecInputs in;
  in.id = "c";
  in.ns = "default";
  in.image.cmd = {"sh"};
  for (Resources r : {Resources{1024, 0, 0, 0, 0}, Resources{64 << 20, 32 << 20, 0, 0, 0},
                      Resources{0, 64 << 20, 0, 0, 0}, Resources{0, 0, 1000, 0, 0}, Resources{-1, 0, 0, 0, 0},
                      Resources{0, 0, int64_t{100000} * 1000000000, 0, 0},
                      Resources{0, 0, INT64_MAX, 0, 0}}) {
    in.overrides.resources = r;
    EXPECT_FALSE(build_spec(in).ok()) << r.memory << " " << r.memory_swap << " " << r.nano_cpus;
  }
  in.overrides.resources = {};
  for (BindMount m : {BindMount{"rel", "/a"}, BindMount{"/a", "rel"}, BindMount{"/a", "/x/../etc"}}) {
    in.overrides.mounts = {m};
    EXPECT_FALSE(build_spec(in).ok()) << m.source << " " << m.destination;
  }
}

TEST(SpecBuilder, HasTheDefaultSeccompProfileUnlessUnconfined) {
  SpecOverrides o;
  auto tree = spec_with(o);
  auto seccomp = json::root(tree).get("linux")->get("seccomp");
  ASSERT_TRUE(seccomp.has_value());
  EXPECT_EQ(*seccomp->get("defaultAction")->as_string(), "SCMP_ACT_ERRNO");
  o.seccomp = false;
  tree = spec_with(o);
  EXPECT_FALSE(json::root(tree).get("linux")->get("seccomp").has_value());
}

TEST(SpecBuilder, PrivilegedDropsTheConfinement) {
  SpecOverrides o;
  o.privileged = true;
  o.devices = {{"/dev/loop0", 'b', 7, 0, 0660, 0, 6}};
  o.capabilities = own_capabilities();
  auto tree = spec_with(o);
  auto root = json::root(tree);
  auto linux_ = *root.get("linux");
  EXPECT_FALSE(linux_.get("seccomp").has_value());
  EXPECT_FALSE(linux_.get("maskedPaths").has_value());
  EXPECT_FALSE(linux_.get("readonlyPaths").has_value());
  EXPECT_TRUE(*(*linux_.get("resources")->get("devices")->as_array())[0].get("allow")->as_bool());
  auto devices = *linux_.get("devices")->as_array();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(*devices[0].get("type")->as_string(), "b");
  EXPECT_EQ(*devices[0].get("major")->as_int64(), 7);
  EXPECT_EQ(*devices[0].get("fileMode")->as_uint32(), 0660u);
  auto caps = *root.get("process")->get("capabilities")->get("bounding")->as_string_array();
  EXPECT_EQ(caps, o.capabilities);
  EXPECT_NE(std::find(caps.begin(), caps.end(), "CAP_CHOWN"), caps.end());
}

TEST(SpecBuilder, HostDevicesAreTheNodesUnderDev) {
  auto devices = host_devices();
  ASSERT_TRUE(devices.ok()) << devices.error().what();
  auto null = std::find_if(devices->begin(), devices->end(), [](const HostDevice& d) { return d.path == "/dev/null"; });
  ASSERT_NE(null, devices->end());
  EXPECT_EQ(null->type, 'c');
  EXPECT_EQ(null->major, 1);
  EXPECT_EQ(null->minor, 3);
  for (const auto& d : *devices) EXPECT_NE(d.path.rfind("/dev/pts/", 0), 0u) << d.path;
}

}  // namespace
}  // namespace berth::manager
