#include "fake_runtime.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "berth/common/fs.h"
#include "cri/streaming/handlers.h"

namespace berth::cri::streaming::testing {

std::string big_output(size_t n) {
  std::string out(n, 'a');
  for (size_t i = 0; i < n; i++) out[i] = static_cast<char>('a' + i % 26);
  return out;
}

Result<int> FakeRuntime::exec(const ExecRequest& request, StreamIo& io) {
  {
    std::lock_guard lock(mu);
    execs.push_back(request);
  }
  const auto& cmd = request.cmd;
  const std::string& verb = cmd.at(0);
  if (verb == "echo") {
    std::string line;
    for (size_t i = 1; i < cmd.size(); i++) line += (i > 1 ? " " : "") + cmd[i];
    BERTH_TRY(write_all(io.stdout.get(), line + "\n"));
    return 0;
  }
  if (verb == "cat") {
    char buf[4096];
    while (true) {
      ssize_t n = ::read(io.stdin.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      BERTH_TRY(write_all(io.stdout.get(), std::string_view(buf, static_cast<size_t>(n))));
    }
    return 0;
  }
  if (verb == "fail") {
    BERTH_TRY(write_all(io.stderr.get(), "oops\n"));
    return std::stoi(cmd.at(1));
  }
  if (verb == "sizes") {
    for (int i = 0; i < std::stoi(cmd.at(1)); i++) {
      auto size = io.resize->pop();
      if (!size) break;
      BERTH_TRY(write_all(io.stdout.get(), fmt::format("{}x{}\n", size->width, size->height)));
    }
    return 0;
  }
  if (verb == "big") {
    BERTH_TRY(write_all(io.stdout.get(), big_output(std::stoul(cmd.at(1)))));
    return 0;
  }
  return make_error(ErrorCode::kNotFound, "no such command: {}", verb);
}

Status FakeRuntime::attach(const AttachRequest&, StreamIo& io) {
  BERTH_TRY(write_all(io.stdout.get(), "attached\n"));
  return {};
}

Status FakeRuntime::port_forward(const std::string& pod_sandbox_id, int32_t port, UniqueFd&& conn) {
  {
    std::lock_guard lock(mu);
    forwarded_pods.push_back(pod_sandbox_id);
  }
  UniqueFd target(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(target.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return sys_error("connect to 127.0.0.1:{}", port);
  UniqueFd client = std::move(conn);
  copy_bidirectional(client.get(), target.get());
  return {};
}

}  // namespace berth::cri::streaming::testing
