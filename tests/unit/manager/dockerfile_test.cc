// The Dockerfile parser, the word lexer with variable substitution, and the config instructions.
#include <gtest/gtest.h>

#include "build/config_changes.h"
#include "build/dockerfile.h"

namespace berth::manager::build {
namespace {

VariableLookup vars(std::map<std::string, std::string> m) {
  return [m](std::string_view name) -> std::optional<std::string> {
    auto it = m.find(std::string(name));
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

TEST(DockerfileParser, ContinuationsCommentsAndForms) {
  auto file = parse_dockerfile(
      "# syntax=docker/dockerfile:1\n"
      "\n"
      "from busybox AS base   \n"
      "# a comment\n"
      "RUN apt-get update \\\n"
      "    # comment inside\n"
      "\n"
      "    && echo done\n"
      "CMD [\"python\", \"/app/hello.py\"]\n"
      "ENTRYPOINT [not json\n"
      "COPY --from=base --chown=1:2 a /b\r\n");
  ASSERT_TRUE(file.ok()) << file.error().what();
  EXPECT_EQ(file->syntax, "docker/dockerfile:1");
  ASSERT_EQ(file->instructions.size(), 5u);
  EXPECT_EQ(file->instructions[0].keyword, "FROM");
  EXPECT_EQ(file->instructions[0].args, "busybox AS base");
  EXPECT_EQ(file->instructions[0].line, 3);
  EXPECT_EQ(file->instructions[1].args, "apt-get update     && echo done");
  EXPECT_EQ(file->instructions[1].line, 5);
  EXPECT_TRUE(file->instructions[2].json_form);
  EXPECT_EQ(file->instructions[2].json_args, (std::vector<std::string>{"python", "/app/hello.py"}));
  EXPECT_EQ(file->instructions[2].line, 9);
  EXPECT_FALSE(file->instructions[3].json_form);  // invalid JSON is the shell form, as docker
  EXPECT_EQ(file->instructions[4].flags.at("from"), "base");
  EXPECT_EQ(file->instructions[4].flags.at("chown"), "1:2");
  EXPECT_EQ(file->instructions[4].args, "a /b");
}

TEST(DockerfileParser, EscapeDirective) {
  auto file = parse_dockerfile("# escape=`\nFROM scratch\nRUN dir c:\\ `\n  && echo x\n");
  ASSERT_TRUE(file.ok()) << file.error().what();
  EXPECT_EQ(file->escape, '`');
  EXPECT_EQ(file->instructions[1].args, "dir c:\\   && echo x");
  // A directive after an instruction is a comment.
  auto later = parse_dockerfile("FROM scratch\n# escape=`\nRUN a \\\n b\n");
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->escape, '\\');
  EXPECT_FALSE(parse_dockerfile("# escape=x\nFROM scratch\n").ok());
}

TEST(DockerfileParser, ErrorsNameTheLine) {
  auto r = parse_dockerfile("FROM scratch\n\nFROBNICATE x\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().what(), "Dockerfile line 3: unknown instruction: FROBNICATE");
  r = parse_dockerfile("FROM scratch\nRUN\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().what().find("line 2: RUN requires at least one argument"), std::string::npos);
  EXPECT_FALSE(parse_dockerfile("# only a comment\n").ok());
  r = parse_dockerfile("FROM scratch\nCMD \xdd\"sh\"]\n");  // found by fuzz_dockerfile
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().what(), "Dockerfile line 2: not valid UTF-8");
  EXPECT_TRUE(parse_dockerfile("FROM scratch\nLABEL k=\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3\"\n").ok());
  EXPECT_FALSE(parse_dockerfile("").ok());
}

TEST(Substitution, DockerForms) {
  auto v = vars({{"A", "one"}, {"EMPTY", ""}});
  EXPECT_EQ(*expand_word("$A ${A} x${A}y", '\\', v), "one one xoney");
  EXPECT_EQ(*expand_word("${NOPE:-fallback} ${A:-fallback} ${EMPTY:-e}", '\\', v), "fallback one e");
  EXPECT_EQ(*expand_word("${A:+set} [${NOPE:+set}] [${EMPTY:+set}]", '\\', v), "set [] []");
  EXPECT_EQ(*expand_word("${NOPE:-${A}}", '\\', v), "one");
  EXPECT_EQ(*expand_word("\\$A $NOPE.", '\\', v), "$A .");
  EXPECT_EQ(*expand_word("cost $", '\\', v), "cost $");
  EXPECT_FALSE(expand_word("${A", '\\', v).ok());
  EXPECT_FALSE(expand_word("${A:?x}", '\\', v).ok());
}

TEST(Substitution, ShellWordsQuotes) {
  auto v = vars({{"W", "two words"}});
  EXPECT_EQ(*shell_words("a \"b c\" 'd $W' \"$W\" e\\ f", '\\', v),
            (std::vector<std::string>{"a", "b c", "d $W", "two words", "e f"}));
  EXPECT_FALSE(shell_words("\"open", '\\', v).ok());
  EXPECT_FALSE(shell_words("'open", '\\', v).ok());
}

TEST(ConfigInstructions, EnvLabelKeyValues) {
  auto file = parse_dockerfile("ENV A=1 B=\"two words\" C=${A}x\nENV LEGACY some value\nLABEL k=v \"q k\"=w\n");
  ASSERT_TRUE(file.ok());
  ImageConfig config;
  config.env = {"PATH=/bin", "A=old"};
  for (const auto& in : file->instructions) {
    ASSERT_TRUE(apply_config_instruction(config, in, '\\', env_lookup(config.env)).ok());
  }
  EXPECT_EQ(config.env, (std::vector<std::string>{"PATH=/bin", "A=1", "B=two words", "C=oldx", "LEGACY=some value"}));
  EXPECT_EQ(config.labels.at("k"), "v");
  EXPECT_EQ(config.labels.at("q k"), "w");
}

TEST(ConfigInstructions, CommandsWorkdirAndTheRest) {
  ImageConfig config;
  config.cmd = std::vector<std::string>{"old"};
  ASSERT_TRUE(apply_commit_changes(config, {"ENTRYPOINT [\"/bin/app\"]", "WORKDIR /app", "WORKDIR sub/../src",
                                            "EXPOSE 80 53/udp", "VOLUME [\"/data\", \"/logs\"]", "USER 1000:1000",
                                            "STOPSIGNAL SIGTERM", "HEALTHCHECK --interval=1m30s --retries=3 CMD curl -f x",
                                            "ONBUILD RUN make", "CMD echo hi"})
                  .ok());
  EXPECT_EQ(*config.entrypoint, (std::vector<std::string>{"/bin/app"}));
  EXPECT_EQ(*config.cmd, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(config.working_dir, "/app/src");
  EXPECT_EQ(config.exposed_ports, (std::set<std::string>{"53/udp", "80/tcp"}));
  EXPECT_EQ(config.volumes, (std::set<std::string>{"/data", "/logs"}));
  EXPECT_EQ(config.user, "1000:1000");
  EXPECT_EQ(config.stop_signal, "SIGTERM");
  ASSERT_TRUE(config.healthcheck);
  EXPECT_EQ(config.healthcheck->test, (std::vector<std::string>{"CMD-SHELL", "curl -f x"}));
  EXPECT_EQ(config.healthcheck->interval, 90'000'000'000);
  EXPECT_EQ(config.healthcheck->retries, 3);
  EXPECT_EQ(config.on_build, (std::vector<std::string>{"RUN make"}));

  // SHELL changes the shell form of later commands.
  ASSERT_TRUE(apply_commit_changes(config, {"SHELL [\"/bin/bash\", \"-ec\"]", "CMD echo hi"}).ok());
  EXPECT_EQ(*config.cmd, (std::vector<std::string>{"/bin/bash", "-ec", "echo hi"}));

  // The config round-trips through its JSON.
  auto back = parse_image_config(image_config_json(config));
  ASSERT_TRUE(back.ok()) << back.error().what();
  EXPECT_EQ(image_config_json(*back), image_config_json(config));
}

TEST(ConfigInstructions, CommitRefusesWhatIsNotConfig) {
  ImageConfig config;
  auto r = apply_commit_changes(config, {"RUN make"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().what().find("RUN is not allowed in a commit"), std::string::npos);
  EXPECT_FALSE(apply_commit_changes(config, {"EXPOSE http"}).ok());
  EXPECT_FALSE(apply_commit_changes(config, {"SHELL /bin/sh"}).ok());
  EXPECT_FALSE(apply_commit_changes(config, {"HEALTHCHECK --interval=5 CMD x"}).ok());
  EXPECT_FALSE(apply_commit_changes(config, {"ONBUILD FROM x"}).ok());
}

}  // namespace
}  // namespace berth::manager::build
