// A real Debian docker-registry on 127.0.0.1 with a random free port, configured by the test:
// plain HTTP, TLS with htpasswd basic auth, or TLS with bearer tokens from a given issuer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "berth/common/child_process.h"
#include "berth/common/temp_dir.h"

namespace berth::manager::testing {

int free_port();
// A TCP connection to 127.0.0.1:port (an error when nothing listens there).
Result<UniqueFd> connect_loopback(int port);

struct RegistryAuth {
  enum Kind { kNone, kBasic, kToken } kind = kNone;
  std::string htpasswd_file;                                              // kBasic
  std::string token_realm, token_service, token_issuer, token_root_cert;  // kToken
};

class Registry {
 public:
  // tls_cert/key empty: plain HTTP.
  static Result<std::unique_ptr<Registry>> start(const std::string& tls_cert = "",
                                                 const std::string& tls_key = "", RegistryAuth auth = {});
  const std::string& host() const { return host_; }  // "127.0.0.1:PORT"
  // Kills the registry (the storage stays) and starts it again on the same port.
  Status stop();
  Status restart();
  const std::string& storage() const { return storage_; }
  // The registry's own log (one line per request, with bytes written).
  std::string log_path() const { return dir_.path() + "/registry.log"; }

 private:
  Status launch();
  Status wait_ready();
  TempDir dir_;
  std::string host_, storage_, config_, ca_;
  bool tls_ = false;
  UniqueFd log_;
  ChildProcess process_;
};

// A plain-HTTP registry holding this host's busybox image (built under work_dir, pushed with skopeo)
// as each of repo_tags ("team/app:v1"): what the tests that pull, search or df need to start with.
Result<std::unique_ptr<Registry>> registry_with_busybox(const std::string& work_dir,
                                                        const std::vector<std::string>& repo_tags);

}  // namespace berth::manager::testing
