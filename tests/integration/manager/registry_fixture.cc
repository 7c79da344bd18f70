#include "registry_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "berth/common/fs.h"
#include "images/oci.h"
#include "layout_builder.h"
#include "registry/http_client.h"

namespace berth::manager::testing {

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

Result<UniqueFd> connect_loopback(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    return sys_error("connect to 127.0.0.1:{}", port);
  }
  return fd;
}

Result<std::unique_ptr<Registry>> Registry::start(const std::string& tls_cert, const std::string& tls_key,
                                                  RegistryAuth auth) {
  auto r = std::make_unique<Registry>();
  BERTH_ASSIGN_OR_RETURN(r->dir_, TempDir::create("/var/tmp/berth-registry-"));
  r->host_ = "127.0.0.1:" + std::to_string(free_port());
  r->storage_ = r->dir_.path() + "/storage";
  r->config_ = r->dir_.path() + "/config.yml";
  r->tls_ = !tls_cert.empty();
  std::string yaml = fmt::format(
      "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n"
      "    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {}\n",
      r->storage_, r->host_);
  if (r->tls_) yaml += fmt::format("  tls:\n    certificate: {}\n    key: {}\n", tls_cert, tls_key);
  if (auth.kind == RegistryAuth::kBasic) {
    yaml += fmt::format("auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n", auth.htpasswd_file);
  } else if (auth.kind == RegistryAuth::kToken) {
    yaml += fmt::format(
        "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
        auth.token_realm, auth.token_service, auth.token_issuer, auth.token_root_cert);
  }
  BERTH_TRY(make_dirs(r->storage_));
  BERTH_TRY(write_file_atomic(r->config_, yaml));
  BERTH_TRY(r->launch());
  return r;
}

Status Registry::launch() {
  SpawnOptions options;
  options.argv = {"docker-registry", "serve", config_};
  // Its request log is noise in test output; it stays in the registry's directory.
  BERTH_ASSIGN_OR_RETURN(
      log_, open_fd((dir_.path() + "/registry.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600));
  options.stdout_fd = log_.get();
  options.stderr_fd = log_.get();
  BERTH_ASSIGN_OR_RETURN(process_, ChildProcess::spawn(options));
  return wait_ready();
}

Status Registry::wait_ready() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string url = (tls_ ? "https://" : "http://") + host_ + "/v2/";
  while (std::chrono::steady_clock::now() < deadline) {
    HttpRequest req{.url = url, .tls = {.skip_verify = true}};
    if (auto resp = http_request(req); resp.ok() && (resp->status == 200 || resp->status == 401)) return {};
    if (auto exited = process_.wait_for(std::chrono::milliseconds(50)); exited.ok() && exited->has_value()) {
      return make_error(ErrorCode::kUnavailable, "docker-registry exited with {}", (*exited)->shell_code());
    }
  }
  return make_error(ErrorCode::kDeadlineExceeded, "docker-registry on {} did not come up", host_);
}

Status Registry::stop() {
  BERTH_TRY(process_.signal(SIGKILL));
  BERTH_TRY(process_.wait());
  return {};
}

Status Registry::restart() { return launch(); }

Result<std::unique_ptr<Registry>> registry_with_busybox(const std::string& work_dir,
                                                        const std::vector<std::string>& repo_tags) {
  BERTH_ASSIGN_OR_RETURN(auto registry, Registry::start());
  std::string layer = busybox_layer();
  for (size_t i = 0; i < repo_tags.size(); i++) {
    size_t colon = repo_tags[i].rfind(':');
    if (colon == std::string::npos)
      return make_error(ErrorCode::kInvalidArgument, "{:?}: give REPO:TAG", repo_tags[i]);
    std::string repo = repo_tags[i].substr(0, colon), tag = repo_tags[i].substr(colon + 1);
    LayoutBuilder builder(fmt::format("{}/layout-{}", work_dir, i));  // a layout holds one tag
    BERTH_TRY(builder.write({{"linux", host_platform().architecture, {layer}, {}}}, tag));
    BERTH_TRY(builder.push(registry->host(), repo, tag));
  }
  return registry;
}

}  // namespace berth::manager::testing
