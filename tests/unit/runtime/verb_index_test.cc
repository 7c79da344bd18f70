// Where berth's verb sits among runc-style global flags: decided before C++ start-up to re-execute
// from a protected view of the binary, so a wrong answer would skip that protection.
#include "verb.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using berth::runtime::cli::verb_enters_a_container;
using berth::runtime::cli::verb_index;

int verb_of(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return verb_index(static_cast<int>(args.size()), argv.data());
}

TEST(VerbIndex, GlobalFlagsWithValuesAreSkipped) {
  EXPECT_EQ(verb_of({"berth", "run", "id"}), 1);
  EXPECT_EQ(verb_of({"berth", "--root", "/run/x", "run", "id"}), 3);
  EXPECT_EQ(verb_of({"berth", "-root", "/run/x", "--debug", "create", "id"}), 4);
  EXPECT_EQ(verb_of({"berth", "--log", "/l", "--log-format", "json", "exec", "id", "sh"}), 5);
  EXPECT_EQ(verb_of({"berth", "--rootless", "false", "--criu", "x", "run"}), 5);
}

TEST(VerbIndex, FlagsWithAnEqualsSignTakeNoNextArgument) {
  EXPECT_EQ(verb_of({"berth", "--root=/run/x", "run", "id"}), 2);
  EXPECT_EQ(verb_of({"berth", "--log-format=json", "--systemd-cgroup", "exec"}), 3);
}

TEST(VerbIndex, NoVerbIsArgc) {
  EXPECT_EQ(verb_of({"berth"}), 1);
  EXPECT_EQ(verb_of({"berth", "--help"}), 2);
  EXPECT_EQ(verb_of({"berth", "--root"}), 2);  // the value is missing: no verb
}

TEST(VerbIndex, TheValueOfAFlagIsNeverTheVerb) {
  // `--root run` names a state dir called "run"; the verb is what follows.
  EXPECT_EQ(verb_of({"berth", "--root", "run", "state", "id"}), 3);
}

TEST(VerbIndex, OnlyCreateRunAndExecEnterAContainer) {
  for (const char* v : {"create", "run", "exec"}) EXPECT_TRUE(verb_enters_a_container(v)) << v;
  for (const char* v : {"start", "state", "delete", "kill", "runner", "exe", "", "spec"})
    EXPECT_FALSE(verb_enters_a_container(v)) << v;
}

}  // namespace
