#include <gtest/gtest.h>

#include "berth/runtime/container.h"
#include "berth/runtime/spec.h"

namespace berth::runtime {
namespace {

std::string minimal(const std::string& extra = "") {
  return R"({"ociVersion":"1.0.2","root":{"path":"rootfs"},)"
         R"("process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/"},)"
         R"("linux":{"namespaces":[{"type":"mount"},{"type":"pid"},{"type":"uts"}]})" +
         extra + "}";
}

std::string error_of(const std::string& text) {
  auto r = parse_spec(text);
  return r.ok() ? "<ok>" : r.error().message();
}

TEST(SpecParser, DefaultSpecRoundTrips) {
  for (bool rootless : {false, true}) {
    auto spec = parse_spec(default_spec_json(rootless));
    ASSERT_TRUE(spec.ok()) << spec.error().what();
    EXPECT_EQ(spec->process->args, std::vector<std::string>{"sh"});
    EXPECT_TRUE(spec->root.readonly);
    EXPECT_EQ(spec->hostname, "berth");
    EXPECT_EQ(spec->linux_.creates(NamespaceType::kUser), rootless);
    EXPECT_EQ(spec->linux_.masked_paths.size(), 10u);
  }
}

TEST(SpecParser, AcceptsEveryOneDotX) {
  for (const char* v : {"1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.2.1", "1.3.0", "1.4.0", "1.99.1"}) {
    std::string text = minimal();
    text.replace(text.find("1.0.2"), 5, v);
    EXPECT_TRUE(parse_spec(text).ok()) << v;
  }
  std::string two = minimal();
  two.replace(two.find("1.0.2"), 5, "2.0.0");
  EXPECT_NE(error_of(two).find("not major version 2"), std::string::npos) << error_of(two);
  for (const char* v : {"0.9.0", "2.0.0", "abc"}) {
    std::string text = minimal();
    text.replace(text.find("1.0.2"), 5, v);
    EXPECT_NE(error_of(text).find("ociVersion"), std::string::npos) << v;
  }
}

TEST(SpecParser, NamesUnknownFieldsAndRefusesUnimplementedOnes) {
  auto spec = parse_spec(minimal(R"(,"futureTop":1,"mounts":[{"destination":"/x","type":"tmpfs","newKnob":true}])"));
  ASSERT_TRUE(spec.ok()) << spec.error().what();
  EXPECT_EQ(unknown_spec_fields(*spec), (std::vector<std::string>{"futureTop", "mounts[0].newKnob"}));
  auto known = parse_spec(minimal());
  ASSERT_TRUE(known.ok());
  EXPECT_TRUE(unknown_spec_fields(*known).empty());
  std::string net = minimal();
  net.replace(net.find("\"namespaces\""), 12, R"("netDevices":{"eth0":{}},"namespaces")");
  EXPECT_NE(error_of(net).find("linux.netDevices: not supported"), std::string::npos) << error_of(net);
}

TEST(SpecParser, ErrorsNameTheJsonPath) {
  EXPECT_EQ(error_of(R"({"root":{"path":"r"}})"), "ociVersion: missing required field");
  EXPECT_EQ(error_of(R"({"ociVersion":"1.0.0","root":{"path":5}})"), "root.path: expected a string");
  std::string bad_uid = minimal();
  bad_uid.replace(bad_uid.find("\"uid\":0"), 7, "\"uid\":\"x\"");
  EXPECT_EQ(error_of(bad_uid), "process.user.uid: expected an unsigned integer");
  EXPECT_EQ(error_of(minimal(R"(,"mounts":[{"type":"tmpfs"}])")), "mounts[0].destination: missing required field");
  EXPECT_EQ(error_of(minimal(R"(,"hooks":{"prestart":[{"path":"rel"}]})")),
            "hooks.prestart[0].path: \"rel\" is not an absolute path");
}

TEST(SpecParser, UnknownFieldsAreTolerated) {
  EXPECT_TRUE(parse_spec(minimal(R"(,"vm":{"x":1},"futureField":[1,2])")).ok());
}

TEST(SpecParser, CrossFieldRules) {
  std::string no_uts = minimal(R"(,"hostname":"h")");
  EXPECT_TRUE(parse_spec(no_uts).ok());
  no_uts.replace(no_uts.find(R"(,{"type":"uts"})"), 15, "");
  EXPECT_NE(error_of(no_uts).find("hostname"), std::string::npos);

  std::string dup = minimal();
  dup.replace(dup.find(R"({"type":"uts"})"), 14, R"({"type":"pid"})");
  EXPECT_NE(error_of(dup).find("appears twice"), std::string::npos);

  std::string user = minimal();
  user.replace(user.find(R"({"type":"uts"})"), 14, R"({"type":"user"})");
  EXPECT_NE(error_of(user).find("Mappings"), std::string::npos);

  EXPECT_NE(error_of(minimal(R"(,"mounts":[{"destination":"/a/../../etc","type":"tmpfs"}])")).find(".."),
            std::string::npos);
  std::string bad_ns = minimal();
  bad_ns.replace(bad_ns.find(R"({"type":"uts"})"), 14, R"({"type":"bogus"})");
  EXPECT_EQ(error_of(bad_ns), "linux.namespaces[2].type: unknown namespace type \"bogus\"");
}

TEST(SpecParser, SysctlMustBeNamespacedAndOwned) {
  EXPECT_NE(error_of(minimal().insert(minimal().size() - 2, R"(,"sysctl":{"kernel.panic":"1"})")).find("kernel.panic"),
            std::string::npos);
  EXPECT_NE(error_of(minimal().insert(minimal().size() - 2, R"(,"sysctl":{"net.ipv4.ip_forward":"1"})")).find("network"),
            std::string::npos);
}

TEST(SpecParser, ProcessFields) {
  auto spec = parse_spec(R"({"ociVersion":"1.1.0","root":{"path":"r","readonly":true},
    "process":{"terminal":true,"consoleSize":{"height":10,"width":20},
      "user":{"uid":1,"gid":2,"umask":18,"additionalGids":[3,4]},
      "args":["a","b"],"env":["A=1"],"cwd":"/w","noNewPrivileges":true,"oomScoreAdj":100},
    "linux":{"namespaces":[{"type":"mount"},{"type":"network","path":"/proc/1/ns/net"}]}})");
  ASSERT_TRUE(spec.ok()) << spec.error().what();
  const Process& p = *spec->process;
  EXPECT_TRUE(p.terminal);
  EXPECT_EQ(p.console_size->width, 20u);
  EXPECT_EQ(p.user.umask, 18u);
  EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{3, 4}));
  EXPECT_EQ(*p.oom_score_adj, 100);
  EXPECT_FALSE(spec->linux_.creates(NamespaceType::kNetwork));
  EXPECT_EQ(spec->linux_.find(NamespaceType::kNetwork)->path, "/proc/1/ns/net");
  EXPECT_NE(error_of(R"({"ociVersion":"1.1.0","root":{"path":"r"},"process":{"user":{"uid":0,"gid":0},
    "args":["a"],"cwd":"/","env":["NOEQUALS"]},"linux":{"namespaces":[{"type":"mount"}]}})")
                .find("process.env[0]"),
            std::string::npos);
}

}  // namespace
}  // namespace berth::runtime
