#include "runtime_driver.h"

#include <fcntl.h>
#include <signal.h>

#include <thread>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/unique_fd.h"

namespace conformance {

std::string CmdResult::summary() const {
  if (timed_out) return "timed out";
  std::string first = err.substr(0, err.find('\n'));
  if (first.size() > 200) first = first.substr(0, 200) + "...";
  return "exit " + std::to_string(code) + (first.empty() ? "" : ": " + first);
}

Runtime::Runtime(std::string name, std::string path, std::string root)
    : name_(std::move(name)), path_(std::move(path)), root_(std::move(root)) {}

std::string Runtime::version() const {
  auto out = berth::run_command({path_, "--version"}, {}, std::chrono::seconds(10));
  if (!out.ok()) return "?";
  std::string line = out->out.substr(0, out->out.find('\n'));
  return line.empty() ? "?" : line;
}

CmdResult Runtime::run(const std::vector<std::string>& args, const std::string& input,
                       std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {path_, "--root", root_};
  argv.insert(argv.end(), args.begin(), args.end());
  auto out = berth::run_command(argv, input, timeout);
  CmdResult r;
  if (!out.ok()) {
    r.timed_out = out.error().code() == berth::ErrorCode::kDeadlineExceeded ||
                  out.error().message().find("time") != std::string::npos;
    r.err = out.error().what();
    return r;
  }
  r.code = out->status.shell_code();
  r.out = std::move(out->out);
  r.err = std::move(out->err);
  return r;
}

CmdResult Runtime::run_detached(const std::vector<std::string>& args, const std::string& out_path,
                                const std::string& err_path, std::chrono::milliseconds timeout) const {
  CmdResult r;
  std::vector<std::string> argv = {path_, "--root", root_};
  argv.insert(argv.end(), args.begin(), args.end());
  auto out_fd = berth::open_fd(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  auto err_fd = berth::open_fd(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (!out_fd.ok() || !err_fd.ok()) {
    r.err = "cannot open output files";
    return r;
  }
  auto child = berth::ChildProcess::spawn({.argv = argv, .stdout_fd = out_fd->get(), .stderr_fd = err_fd->get()});
  if (!child.ok()) {
    r.err = child.error().what();
    return r;
  }
  auto st = child->wait_for(timeout);
  if (st.ok() && st->has_value()) {
    r.code = (*st)->shell_code();
  } else {
    (void)child->signal(SIGKILL);
    (void)child->wait();
    r.timed_out = true;
  }
  r.err = berth::read_file(err_path, 1 << 20).value_or("");
  return r;
}

berth::Result<ContainerState> parse_state(const std::string& text) {
  BERTH_ASSIGN_OR_RETURN(auto tree, berth::json::parse(text, "state"));
  auto root = berth::json::root(tree);
  ContainerState s;
  s.raw = text;
  auto str = [&](const char* key, std::string& dst) {
    if (auto v = root.get(key); v && v->is_string()) dst = v->as_string().value_or("");
  };
  str("ociVersion", s.oci_version);
  str("id", s.id);
  str("status", s.status);
  str("bundle", s.bundle);
  if (auto v = root.get("pid")) {
    auto n = v->as_int64();
    if (n.ok()) {
      s.pid = *n;
      s.has_pid = true;
    }
  }
  if (auto v = root.get("annotations")) {
    auto m = v->as_string_map();
    if (m.ok()) {
      s.annotations = *m;
      s.has_annotations = true;
    }
  }
  return s;
}

berth::Result<ContainerState> Runtime::state(const std::string& id) const {
  CmdResult r = run({"state", id});
  if (!r.ok()) return berth::make_error(berth::ErrorCode::kUnknown, "state {}: {}", id, r.summary());
  return parse_state(r.out);
}

berth::Result<ContainerState> Runtime::wait_status(const std::string& id, const std::string& want,
                                                   std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto delay = std::chrono::milliseconds(5);
  while (true) {
    auto s = state(id);
    if (!s.ok() || s->status == want || std::chrono::steady_clock::now() > deadline) return s;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(50));
  }
}

void Runtime::force_delete(const std::string& id) const { (void)run({"delete", "--force", id}); }

}  // namespace conformance
