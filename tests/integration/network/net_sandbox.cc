#include "net_sandbox.h"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <thread>

#include "berth/common/child_process.h"
#include "berth/common/unique_fd.h"

namespace berth::network_testing {

Status enter_private_netns() {
  static bool entered = false;
  if (entered) return {};
  if (::unshare(CLONE_NEWNET) != 0) return sys_error("unshare(CLONE_NEWNET)");
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return sys_error("socket");
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) return sys_error("SIOCGIFFLAGS lo");
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &req) != 0) return sys_error("SIOCSIFFLAGS lo");
  entered = true;
  return {};
}

bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  auto pause = std::chrono::milliseconds(5);
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);  // a poll interval, growing; the deadline is what bounds the wait
    pause = std::min(pause * 2, std::chrono::milliseconds(200));
  }
  return true;
}

std::string output_of(const std::vector<std::string>& argv) {
  auto out = run_command(argv, {}, std::chrono::seconds(20));
  return out.ok() ? out->out : std::string();
}

bool http_get(const std::string& url, std::string* body) {
  auto out = run_command({"curl", "-sf", "--max-time", "2", url}, {}, std::chrono::seconds(5));
  if (!out.ok() || !out->status.success()) return false;
  if (body) *body = out->out;
  return true;
}

}  // namespace berth::network_testing
