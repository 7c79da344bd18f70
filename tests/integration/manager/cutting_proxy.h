// A TCP relay on 127.0.0.1 in front of a registry that "dies" after a byte budget: once it has
// relayed budget bytes of responses, it cuts every connection and stops listening (connections are
// refused, as of a registry process that crashed mid-blob). revive() listens again on the same port
// without a budget. Deterministic where killing the registry at "some point" is not.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "berth/common/unique_fd.h"

namespace berth::manager::testing {

class CuttingProxy {
 public:
  // upstream: "127.0.0.1:PORT" of the real registry.
  static Result<std::unique_ptr<CuttingProxy>> start(const std::string& upstream, int64_t budget);
  ~CuttingProxy();
  const std::string& host() const { return host_; }  // "127.0.0.1:PORT"
  bool died() const { return died_; }
  int64_t relayed() const { return relayed_; }
  Status revive();

 private:
  Status listen_on(int port);
  void accept_loop();
  void relay(UniqueFd client);
  void die();
  std::string host_;
  int port_ = 0, upstream_port_ = 0;
  std::atomic<int64_t> budget_ = 0;  // < 0: none
  std::atomic<int64_t> relayed_ = 0;
  std::atomic<bool> died_ = false, stopping_ = false;
  UniqueFd listener_;
  std::mutex mu_;  // clients_
  std::vector<int> clients_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace berth::manager::testing
