#include "berth/common/json.h"

#include <gtest/gtest.h>

namespace berth::json {
namespace {

TEST(Json, ParseErrorNamesDocument) {
  auto r = parse("{\"a\": ", "config.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("config.json: invalid JSON"), std::string::npos);
}

// 300 000 nested arrays (600 KB) overflowed the stack in yajl's recursive tree code (issue 16).
TEST(Json, DeepNestingIsRefusedNotACrash) {
  std::string deep = std::string(300000, '[') + std::string(300000, ']');
  auto r = parse(deep, "manifest");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "manifest: invalid JSON: nested deeper than 256 levels");
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  EXPECT_FALSE(parse(objects + "1" + std::string(100000, '}'), "config").ok());
  // Unbalanced: still refused before yajl sees it.
  EXPECT_FALSE(parse(std::string(300000, '['), "index.json").ok());
}

TEST(Json, NestingUpToTheLimitParses) {
  std::string ok = std::string(kMaxDepth, '[') + std::string(kMaxDepth, ']');
  EXPECT_TRUE(parse(ok, "t").ok());
  EXPECT_FALSE(parse("[" + ok + "]", "t").ok());
  // Brackets inside strings (escaped quotes too) are not nesting.
  std::string in_string = "{\"k\": \"\\\"" + std::string(1000, '[') + "\"}";
  EXPECT_TRUE(parse(in_string, "t").ok()) << in_string;
}

TEST(Json, PathsInTypeErrors) {
  auto tree = parse(R"({"process": {"args": ["sh", 3], "user": {"uid": -1}}})", "config.json");
  ASSERT_TRUE(tree.ok());
  Value r = root(*tree);
  auto args = r.get("process")->require("args");
  ASSERT_TRUE(args.ok());
  auto arr = args->as_array();
  ASSERT_TRUE(arr.ok());
  EXPECT_EQ(*(*arr)[0].as_string(), "sh");
  EXPECT_EQ((*arr)[1].as_string().error().message(), "process.args[1]: expected a string");
  auto uid = r.get("process")->get("user")->require("uid");
  EXPECT_EQ(uid->as_uint32().error().message(), "process.user.uid: -1 is negative");
  EXPECT_EQ(r.get("process")->require("cwd").error().message(), "process.cwd: missing required field");
}

TEST(Json, NarrowingIsRangeChecked) {
  auto tree = parse(R"({"big": 4294967296, "ok": 4294967295, "neg": -2147483649})", "t");
  Value r = root(*tree);
  EXPECT_FALSE(r.get("big")->as_uint32().ok());
  EXPECT_EQ(*r.get("ok")->as_uint32(), 4294967295u);
  EXPECT_EQ(r.get("neg")->as_int32().error().code(), ErrorCode::kOutOfRange);
}

TEST(Json, NullAndAbsentAreNullopt) {
  auto tree = parse(R"({"a": null})", "t");
  Value r = root(*tree);
  EXPECT_FALSE(r.get("a").has_value());
  EXPECT_FALSE(r.get("b").has_value());
}

TEST(Json, WriterRoundTripsAndEscapes) {
  Writer w;
  w.begin_object().field("s", "a\"b\n").field("n", int64_t{-5}).field("b", true);
  w.string_array("arr", {"x", "y"}).string_map("m", {{"k", "v"}}).end_object();
  std::string text = w.str();
  auto tree = parse(text, "written");
  ASSERT_TRUE(tree.ok()) << text;
  Value r = root(*tree);
  EXPECT_EQ(*r.get("s")->as_string(), "a\"b\n");
  EXPECT_EQ(*r.get("n")->as_int64(), -5);
  EXPECT_EQ((*r.get("arr")->as_string_array()).size(), 2u);
  EXPECT_EQ((*r.get("m")->as_string_map()).at("k"), "v");
  EXPECT_EQ(quote("a\"b"), "\"a\\\"b\"");
}

}  // namespace
}  // namespace berth::json
