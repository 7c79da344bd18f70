#include "registry/reference.h"

#include <gtest/gtest.h>

#include "content/digest.h"
#include "registry/http_client.h"
#include "registry/registry_client.h"
#include "images/oci.h"

namespace berth::manager {
namespace {

// Issue 15: as docker, registries on 127.0.0.0/8, ::1 and localhost are insecure by default.
TEST(ReferenceTest, LoopbackRegistriesAreDockersDefaultInsecureOnes) {
  for (const char* host : {"127.0.0.1:5000", "127.0.0.1", "127.1.2.3:443", "localhost:5000", "localhost",
                           "[::1]:5000", "[::1]"})
    EXPECT_TRUE(is_loopback_registry(host)) << host;
  for (const char* host : {"docker.io", "10.0.0.1:5000", "128.0.0.1", "127.0.0.1.example.com", "127.0.0",
                           "1270.0.0.1", "[::2]:5000", "localhost.example.com", "", "127..0.1"})
    EXPECT_FALSE(is_loopback_registry(host)) << host;
}

TEST(ReferenceTest, NormalisesLikeDocker) {
  struct Case {
    const char* in;
    const char* full;
  } cases[] = {
      {"busybox", "docker.io/library/busybox:latest"},
      {"busybox:1.36", "docker.io/library/busybox:1.36"},
      {"user/app", "docker.io/user/app:latest"},
      {"docker.io/busybox", "docker.io/library/busybox:latest"},
      {"127.0.0.1:5000/a/b:v1", "127.0.0.1:5000/a/b:v1"},
      {"localhost/app", "localhost/app:latest"},
      {"quay.io/x/y@sha256:"
       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       "quay.io/x/y@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
  };
  for (const auto& c : cases) {
    auto ref = parse_reference(c.in);
    ASSERT_TRUE(ref.ok()) << c.in << ": " << ref.error().what();
    EXPECT_EQ(ref->full(), c.full) << c.in;
  }
  EXPECT_EQ(parse_reference("busybox")->registry_host(), "registry-1.docker.io");
  EXPECT_EQ(parse_reference("127.0.0.1:5000/a")->registry_host(), "127.0.0.1:5000");
}

TEST(ReferenceTest, RejectsBadNames) {
  for (const char* bad : {"", "UPPER/case", "a//b", "a/../b", "name:", "name:-tag", "x@sha256:short", "a b",
                          "-leading", "trailing-", "host:5000/"}) {
    auto ref = parse_reference(bad);
    EXPECT_FALSE(ref.ok()) << bad;
    if (!ref.ok()) {
      EXPECT_NE(ref.error().what().find("invalid image reference"), std::string::npos);
    }
  }
}

TEST(AuthChallengeTest, ParsesBearerAndBasic) {
  auto c = parse_auth_challenge(
      R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push")");
  EXPECT_EQ(c.scheme, "bearer");
  EXPECT_EQ(c.param("realm"), "https://auth.example/token");
  EXPECT_EQ(c.param("service"), "registry.example");
  EXPECT_EQ(c.param("scope"), "repository:a/b:pull,push");
  auto b = parse_auth_challenge(R"(Basic realm="x")");
  EXPECT_EQ(b.scheme, "basic");
  EXPECT_EQ(b.param("realm"), "x");
}

TEST(Base64Test, RoundTrips) {
  for (std::string s : {"", "a", "ab", "abc", "user:pa:ss"}) EXPECT_EQ(*base64_decode(base64_encode(s)), s);
  EXPECT_FALSE(base64_decode("abc").ok());
}

TEST(OciTest, ParsesManifestAndChoosesPlatform) {
  std::string d1 = "sha256:" + std::string(64, '1'), d2 = "sha256:" + std::string(64, '2');
  std::string manifest =
      R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      d1 + R"(","size":10},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
      d2 + R"(","size":20}]})";
  auto m = parse_manifest(manifest);
  ASSERT_TRUE(m.ok()) << m.error().what();
  EXPECT_EQ(m->config.digest, d1);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].size, 20);
  EXPECT_EQ(*detect_media_type(manifest, ""), std::string(kOciManifest));

  auto bad =
      parse_manifest(R"({"config":{"mediaType":"x","digest":"sha256:../../etc","size":1},"layers":[]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().what().find("config.digest"), std::string::npos) << bad.error().what();
  auto foreign = parse_manifest(R"({"config":{"mediaType":"x","digest":")" + d1 +
                                R"(","size":1},"layers":[{"mediaType":"application/x-foreign","digest":")" +
                                d2 + R"(","size":1}]})");
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().what().find("unsupported layer media type"), std::string::npos);

  std::vector<OciDescriptor> entries = {
      {std::string(kOciManifest), d1, 1, {"linux", "amd64", ""}},
      {std::string(kOciManifest), d2, 1, {"linux", "arm64", "v8"}},
  };
  EXPECT_EQ(choose_platform(entries, *parse_platform("linux/arm64"))->digest, d2);
  EXPECT_EQ(choose_platform(entries, *parse_platform("linux/x86_64"))->digest, d1);
  auto none = choose_platform(entries, *parse_platform("linux/riscv64"));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().what().find("linux/amd64, linux/arm64/v8"), std::string::npos)
      << none.error().what();
  EXPECT_FALSE(parse_platform("linux").ok());
}

TEST(OciTest, ChainIds) {
  std::string a = "sha256:" + std::string(64, 'a'), b = "sha256:" + std::string(64, 'b');
  auto chains = chain_ids({a, b});
  ASSERT_EQ(chains.size(), 2u);
  EXPECT_EQ(chains[0], a);
  EXPECT_EQ(chains[1], sha256_digest(a + " " + b));
}

}  // namespace
}  // namespace berth::manager

namespace berth::manager {
namespace {

// From fuzz_reference: errors quote the name with fmt's "{:?}"; invalid UTF-8 must come out
// escaped (a fuzz build linking Debian's shared libfmt aborted on it in an fmt assertion).
TEST(ReferenceTest, InvalidUtf8IsAnErrorNotAnAbort) {
  auto r = parse_reference(std::string(26, '\xe3'));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("\\xe3"), std::string::npos) << r.error().message();
  EXPECT_FALSE(parse_platform(std::string(26, '\xe3')).ok());
}

}  // namespace
}  // namespace berth::manager
