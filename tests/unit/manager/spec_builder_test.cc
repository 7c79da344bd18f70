#include "berth/manager/spec_builder.h"

#include <gtest/gtest.h>

#include "berth/common/json.h"

namespace berth::manager {
namespace {

const char* kPasswd = "root:x:0:0:root:/root:/bin/sh\nwww:x:33:44:web:/var/www:/bin/false\n";
const char* kGroup = "root:x:0:\nwww:x:44:\nstaff:x:50:www,other\nadm:x:4:www\n";

TEST(SpecBuilder, ParsesTheImageConfig) {
  auto c = parse_image_process_config(
      R"({"config":{"Entrypoint":["/init"],"Cmd":["a","b"],"Env":["A=1"],"WorkingDir":"/w","User":"www"}})");
  ASSERT_TRUE(c.ok()) << c.error().what();
  EXPECT_EQ(c->entrypoint, std::vector<std::string>{"/init"});
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

}  // namespace
}  // namespace berth::manager
