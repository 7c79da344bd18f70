// Registry auth end to end: htpasswd basic auth over TLS with a test CA, and bearer tokens from the
// test's own issuer. Credentials reach berthd through a docker-style config.json.
#include <gtest/gtest.h>
#include <unistd.h>

#include "auth_fixtures.h"
#include "berth/common/temp_dir.h"
#include "images/oci.h"
#include "berthd_fixture.h"
#include "layout_builder.h"
#include "registry_fixture.h"

namespace berth::manager {
namespace {

using namespace testing;

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (berthd mounts)";
    auto dir = TempDir::create("/var/tmp/berth-auth-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(*dir);
    auto pki = make_pki(dir_.path());
    ASSERT_TRUE(pki.ok()) << pki.error().what();
    pki_ = *pki;
  }

  void push(const std::string& host, const std::string& repo, const std::vector<std::string>& creds) {
    LayoutBuilder builder(dir_.path() + "/layout");
    PlatformImage image{"linux", host_platform().architecture, {busybox_layer()}, {}};
    ASSERT_TRUE(builder.write({image}, "1").ok());
    auto st = builder.push(host, repo, "1", creds);
    ASSERT_TRUE(st.ok()) << st.error().what();
  }

  CtlResult pull_with(const std::string& config, const std::string& ref) {
    auto daemon = Berthd::start(config);
    EXPECT_TRUE(daemon.ok()) << daemon.error().what();
    if (!daemon.ok()) return {};
    return (*daemon)->ctl({"pull", ref});
  }

  TempDir dir_;
  TestPki pki_;
};

TEST_F(AuthTest, BasicAuthOverTls) {
  std::string htpasswd = dir_.path() + "/htpasswd";
  ASSERT_TRUE(write_htpasswd(htpasswd, "alice", "s3cret").ok());
  RegistryAuth auth{RegistryAuth::kBasic, htpasswd};
  auto registry = Registry::start(pki_.server_cert, pki_.server_key, auth);
  ASSERT_TRUE(registry.ok()) << registry.error().what();
  std::string host = (*registry)->host();
  push(host, "private/busybox", {"--dest-creds", "alice:s3cret"});
  std::string ref = host + "/private/busybox:1";

  std::string good = dir_.path() + "/good.json", bad = dir_.path() + "/bad.json";
  ASSERT_TRUE(write_docker_config(good, host, "alice", "s3cret").ok());
  ASSERT_TRUE(write_docker_config(bad, host, "alice", "wrong").ok());
  auto config = [&](const std::string& auth_config, bool with_ca) {
    return fmt::format(R"({{"auth_config": "{}", "registries": {{"{}": {{"ca_file": "{}"}}}}}})", auth_config,
                       host, with_ca ? pki_.ca_cert : "");
  };

  CtlResult r = pull_with(config(good, true), ref);
  EXPECT_EQ(r.code, 0) << r.err;

  r = pull_with(config("", true), ref);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("requires basic auth and no credentials"), std::string::npos) << r.err;

  r = pull_with(config(bad, true), ref);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("HTTP 401"), std::string::npos) << r.err;

  r = pull_with(config(good, false), ref);  // the system CAs do not know our test CA
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("certificate"), std::string::npos) << r.err;
}

TEST_F(AuthTest, BearerTokenFromIssuer) {
  auto issuer = TokenIssuer::start(pki_.token_key, pki_.token_cert, "berth-test-issuer", "berth-registry",
                                   "bob", "hunter2");
  ASSERT_TRUE(issuer.ok()) << issuer.error().what();
  RegistryAuth auth{RegistryAuth::kToken, "", (*issuer)->realm(), "berth-registry", "berth-test-issuer",
                    pki_.token_cert};
  auto registry = Registry::start("", "", auth);
  ASSERT_TRUE(registry.ok()) << registry.error().what();
  std::string host = (*registry)->host();
  push(host, "tok/busybox", {"--dest-creds", "bob:hunter2"});
  std::string ref = host + "/tok/busybox:1";

  std::string creds = dir_.path() + "/creds.json";
  ASSERT_TRUE(write_docker_config(creds, host, "bob", "hunter2").ok());
  int before = (*issuer)->tokens_issued();
  CtlResult r = pull_with(
      fmt::format(R"({{"auth_config": "{}", "registries": {{"{}": {{"plain_http": true}}}}}})", creds, host),
      ref);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_GT((*issuer)->tokens_issued(), before) << "berthd must have fetched a token";

  int refused = (*issuer)->refused();
  r = pull_with(fmt::format(R"({{"registries": {{"{}": {{"plain_http": true}}}}}})", host), ref);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("bad token credentials"), std::string::npos) << r.err;
  EXPECT_GT((*issuer)->refused(), refused);
}

}  // namespace
}  // namespace berth::manager
