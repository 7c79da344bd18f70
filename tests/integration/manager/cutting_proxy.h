// A TCP proxy on 127.0.0.1 in front of a registry that breaks one transfer. Upload: it forwards
// HTTP/1.1 requests as they come and, on the Nth PATCH, passes on its headers and the first body
// bytes, then closes both connections — a network that fails mid-chunk. Download: once it has
// relayed a budget of response bytes it dies — cuts every connection mid-response and stops
// listening, so connections are refused as by a registry that crashed mid-blob. It records each
// request line with its Content-Range, so a test can see how the client carried on. Hostile: it
// answers chosen requests itself (an endless error body, a huge manifest, an overlong blob). Hold:
// it stops relaying mid-response until released, and says when the client gives up.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "berth/common/unique_fd.h"

namespace berth::manager::testing {

// An answer the proxy gives itself, instead of the registry's, to requests whose line ("GET
// /v2/x/blobs/sha256:...") contains `request`: `head` (status line and headers, "\r\n\r\n" included),
// then `body`, repeated while the client reads when `endless` — a registry that never stops.
struct HostileAnswer {
  std::string request;
  std::string head;
  std::string body;
  bool endless = false;
};

struct CutRule {
  int patch_number = 2;        // the PATCH (1-based) that is cut
  size_t body_bytes_sent = 0;  // of its body, this many reach the registry before the cut
  int64_t response_bytes = -1;  // >= 0: die after relaying this many response bytes (all connections)
  // >= 0: after relaying this many response bytes (all connections), hold: relay nothing more,
  // keeping every connection open, until release_hold() — a transfer stalled mid-blob.
  int64_t hold_after_bytes = -1;
  std::vector<HostileAnswer> answers;
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
  // Body bytes of hostile answers that reached the client (the socket buffers included).
  int64_t answered_bytes() const { return answered_; }
  // Hold mode: true once the hold began / once a client hung up on a held connection, within timeout.
  bool wait_held(std::chrono::milliseconds timeout);
  bool wait_held_client_gone(std::chrono::milliseconds timeout);
  // Relays what it held and everything after it.
  void release_hold();

 private:
  CuttingProxy(UniqueFd listener, int upstream_port, CutRule rule);
  void accept_loop();
  void serve(UniqueFd client);
  // Forwards the complete request heads and the body bytes of pending; false: cut here.
  bool forward_requests(std::string& pending, size_t& body_left, int upstream, int client);
  // Sends a hostile answer until it is done, the client hangs up or the proxy stops.
  void answer(const HostileAnswer& a, int client);
  // Passes a response chunk on within the response budget; false: the budget is spent, die. In
  // hold mode what is past the hold point goes to held instead.
  bool forward_response(std::string_view chunk, int client, std::string& held);
  bool holding() const { return held_ && !released_; }

  UniqueFd listener_, stop_;  // stop_: an eventfd every loop polls
  UniqueFd release_;          // an eventfd: readable once the hold is released
  int upstream_port_;
  CutRule rule_;
  std::atomic<bool> cut_done_{false};
  std::atomic<int> patches_{0};
  std::atomic<int64_t> relayed_{0};
  std::atomic<int64_t> answered_{0};
  std::atomic<bool> held_{false}, released_{false}, held_client_gone_{false};
  mutable std::mutex mu_;
  std::condition_variable changed_;  // held_ or held_client_gone_ turned true
  std::vector<std::string> requests_;
  std::vector<std::thread> threads_;  // guarded by mu_
  std::thread acceptor_;
};

}  // namespace berth::manager::testing
