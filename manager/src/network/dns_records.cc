#include "network/dns_records.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <thread>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/log.h"

namespace berth::manager::network {
namespace {

constexpr const char* kPidFile = "aardvark.pid";

bool is_generated_id(const std::string& id) {
  return id.size() == 64 && std::all_of(id.begin(), id.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

}  // namespace

std::string render_aardvark_config(const std::string& listen_address, const std::vector<DnsEntry>& entries) {
  std::string out = listen_address + "\n";
  for (const auto& e : entries) out += e.container_id + " " + e.ipv4 + "  " + join(e.names) + "\n";  // no IPv6
  return out;
}

std::vector<std::string> dns_names(const std::string& id, const std::vector<std::string>& aliases) {
  std::vector<std::string> names{id};
  if (is_generated_id(id)) names.push_back(id.substr(0, 12));
  for (const auto& a : aliases)
    if (std::find(names.begin(), names.end(), a) == names.end()) names.push_back(a);
  return names;
}

bool DnsRecords::available() const { return !binary_.empty() && ::access(binary_.c_str(), X_OK) == 0; }

std::vector<std::string> DnsRecords::network_files() const {
  std::vector<std::string> out;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(dir_.c_str()), ::closedir);
  if (!dir) return out;
  while (dirent* e = ::readdir(dir.get())) {
    std::string name = e->d_name;
    if (name != "." && name != ".." && name != kPidFile && !name.starts_with(".")) out.push_back(name);
  }
  return out;
}

pid_t DnsRecords::daemon_pid() const {
  auto text = read_file(dir_ + "/" + kPidFile, 64);
  if (!text) return 0;
  pid_t pid = static_cast<pid_t>(std::atoi(text->c_str()));
  if (pid <= 0) return 0;
  // Ours only when it is aardvark-dns serving this very directory (a pid may have been reused).
  auto cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline", 1 << 16);
  if (!cmdline || cmdline->find("aardvark-dns") == std::string::npos ||
      cmdline->find(std::string(1, '\0') + dir_ + '\0') == std::string::npos)
    return 0;
  return pid;
}

Status DnsRecords::update(const std::string& network, const std::string& listen_address,
                          const std::vector<DnsEntry>& entries) {
  BERTH_TRY(make_dirs(dir_, 0700));
  std::string file = dir_ + "/" + network;
  if (entries.empty()) {
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) return sys_error("remove {}", file);
  } else {
    BERTH_TRY(write_file_atomic(file, render_aardvark_config(listen_address, entries), 0644));
  }
  return sync_daemon();
}

Status DnsRecords::retain(const std::vector<std::string>& keep) {
  for (const auto& name : network_files())
    if (std::find(keep.begin(), keep.end(), name) == keep.end()) (void)::unlink((dir_ + "/" + name).c_str());
  return sync_daemon();
}

Status DnsRecords::sync_daemon() {
  pid_t pid = daemon_pid();
  bool wanted = !network_files().empty();
  if (pid != 0 && wanted) {
    if (::kill(pid, SIGHUP) != 0) return sys_error("reload aardvark-dns ({})", pid);
    return {};
  }
  if (pid != 0) {  // nothing left to serve
    (void)::kill(pid, SIGTERM);
    // daemon_pid() and not kill(pid, 0): an exited daemon may stay a zombie of whoever adopted it.
    for (int i = 0; i < 200 && daemon_pid() == pid; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (daemon_pid() == pid) (void)::kill(pid, SIGKILL);
    (void)::unlink((dir_ + "/" + kPidFile).c_str());
    log::get("berthd")->info("aardvark-dns stopped: no network has containers");
    return {};
  }
  if (!wanted || !available()) return {};
  // It forks into the background once its servers listen and writes aardvark.pid; its log goes
  // next to the config dir (a pipe would be held open by the daemon).
  UniqueFd log_fd(::open((dir_ + ".log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log_fd.valid()) return sys_error("open {}.log", dir_);
  SpawnOptions options;
  options.argv = {binary_, "--config", dir_, "-p", "53", "run"};
  options.path = binary_;
  options.stdout_fd = log_fd.get();
  options.stderr_fd = log_fd.get();
  options.new_session = true;
  BERTH_ASSIGN_OR_RETURN(auto child, ChildProcess::spawn(options));
  BERTH_ASSIGN_OR_RETURN(auto exited, child.wait_for(std::chrono::seconds(10)));
  if (!exited) return make_error(ErrorCode::kDeadlineExceeded, "aardvark-dns did not start within 10 s");
  if (!exited->success() || daemon_pid() == 0)
    return make_error(ErrorCode::kInternal, "aardvark-dns failed to start (exit {}): see {}.log",
                      exited->shell_code(), dir_);
  log::get("berthd")->info("aardvark-dns started (pid {}) for {}", daemon_pid(), dir_);
  return {};
}

}  // namespace berth::manager::network
