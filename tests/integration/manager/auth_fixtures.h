// Credentials for the auth tests: a self-signed CA with a server certificate for 127.0.0.1 (openssl
// CLI), an htpasswd file, a docker-style config.json, and a tiny bearer-token issuer that signs
// RS256 JWTs (x5c header) the way docker-registry's token auth expects.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "berth/common/error.h"
#include "berth/common/unique_fd.h"

namespace berth::manager::testing {

struct TestPki {
  std::string ca_cert, server_cert, server_key;
  // A key + self-signed cert used to sign tokens; docker-registry trusts it as rootcertbundle.
  std::string token_cert, token_key;
};
Result<TestPki> make_pki(const std::string& dir);

Status write_htpasswd(const std::string& path, const std::string& user, const std::string& password);
Status write_docker_config(const std::string& path, const std::string& host, const std::string& user,
                           const std::string& password);

class TokenIssuer {
 public:
  // Serves GET /token on 127.0.0.1:<free port>; requires basic auth user:password.
  static Result<std::unique_ptr<TokenIssuer>> start(std::string key_file, std::string cert_file,
                                                    std::string issuer, std::string service, std::string user,
                                                    std::string password);
  ~TokenIssuer();
  std::string realm() const { return "http://127.0.0.1:" + std::to_string(port_) + "/token"; }
  int tokens_issued() const { return issued_; }
  int refused() const { return refused_; }

 private:
  void serve();
  std::string handle(const std::string& request);
  std::string key_pem_, cert_der_b64_, issuer_, service_, user_, password_;
  int port_ = 0;
  UniqueFd listener_;
  std::atomic<bool> stop_{false};
  std::atomic<int> issued_{0}, refused_{0};
  std::thread thread_;
};

}  // namespace berth::manager::testing
