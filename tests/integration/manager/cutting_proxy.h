// A TCP proxy on 127.0.0.1 in front of a registry that breaks one upload: it forwards HTTP/1.1
// requests as they come and, on the Nth PATCH, passes on its headers and the first body bytes, then
// closes both connections — a network that fails mid-chunk. It records each request line with
// its Content-Range, so a test can see how the client carried on.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "berth/common/unique_fd.h"

namespace berth::manager::testing {

struct CutRule {
  int patch_number = 2;        // the PATCH (1-based) that is cut
  size_t body_bytes_sent = 0;  // of its body, this many reach the registry before the cut
};

class CuttingProxy {
 public:
  static Result<std::unique_ptr<CuttingProxy>> start(int listen_port, int upstream_port, CutRule rule);
  ~CuttingProxy();
  CuttingProxy(const CuttingProxy&) = delete;
  CuttingProxy& operator=(const CuttingProxy&) = delete;

  // "PATCH /v2/x/blobs/uploads/<id> 0-65535" (the Content-Range, when sent), in arrival order.
  std::vector<std::string> requests() const;
  bool cut_done() const { return cut_done_; }

 private:
  CuttingProxy(UniqueFd listener, int upstream_port, CutRule rule);
  void accept_loop();
  void serve(UniqueFd client);
  // Forwards the complete request heads and the body bytes of pending; false: cut here.
  bool forward_requests(std::string& pending, size_t& body_left, int upstream);

  UniqueFd listener_, stop_;  // stop_: an eventfd every loop polls
  int upstream_port_;
  CutRule rule_;
  std::atomic<bool> cut_done_{false};
  std::atomic<int> patches_{0};
  mutable std::mutex mu_;
  std::vector<std::string> requests_;
  std::vector<std::thread> threads_;  // guarded by mu_
  std::thread acceptor_;
};

}  // namespace berth::manager::testing
