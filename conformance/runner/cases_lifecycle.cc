// runtime.md: state, create/start/kill/delete and the errors they MUST return; the runtime CLI
// flags --pid-file and --console-socket (runtime-tools command-line-interface.md).
#include <signal.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <thread>

#include "berth/common/fd_passing.h"
#include "berth/common/fs.h"
#include "case_run.h"

namespace conformance {
namespace {

constexpr const char* kState = "runtime.md#state";
constexpr const char* kCli = "runtime-tools:command-line-interface.md";

bool wait_for_file(const std::string& path, int ms = 5000) {
  for (int i = 0; i < ms / 10; ++i) {
    if (berth::path_exists(path)) return true;
    ::usleep(10000);
  }
  return berth::path_exists(path);
}

std::string real(const std::string& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) ? buf : p;
}

bool semver(const std::string& v) {
  int a, b, c;
  char rest;
  return std::sscanf(v.c_str(), "%d.%d.%d%c", &a, &b, &c, &rest) >= 3;
}

void lifecycle(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  const auto& rt = r.rt();
  b->set_args({"sh", "-c", "trap 'touch /got-usr1; exit 3' USR1; touch /started; while :; do sleep 0.05; done"});
  b->config["annotations"]["org.conformance.key"] = "value";
  b->config["annotations"]["org.conformance.other"] = "second value";
  std::string pid_file = b->dir() + "/container.pid";
  CmdResult c = r.create(*b, {"--pid-file", pid_file});
  if (!c.ok()) {
    r.fail_rest("create failed: " + c.summary());
    return;
  }
  auto st = rt.state(b->id());
  if (!st.ok()) {
    r.fail_rest(st.error().what());
    return;
  }
  r.expect("state.status.created", st->status == "created", "status \"" + st->status + "\" after create");
  r.expect("state.ociVersion", semver(st->oci_version), "ociVersion \"" + st->oci_version + "\"");
  r.expect("state.id", st->id == b->id(), "id \"" + st->id + "\"");
  r.expect("state.pid", st->has_pid && process_alive(st->pid), "pid " + std::to_string(st->pid) + " not alive");
  r.expect("state.bundle", st->bundle == real(b->dir()) && st->bundle[0] == '/',
           "bundle \"" + st->bundle + "\", want \"" + real(b->dir()) + "\"");
  std::map<std::string, std::string> want_ann = {{"org.conformance.key", "value"},
                                                 {"org.conformance.other", "second value"}};
  r.expect("state.annotations", st->annotations == want_ann,
           st->has_annotations ? "annotations differ from config.json" : "no annotations in state");
  auto pid_text = berth::read_file(pid_file).value_or("<missing>");
  r.expect("cli.pid-file", std::atoll(pid_text.c_str()) == st->pid && st->pid > 0,
           "pid file holds \"" + pid_text + "\", state pid " + std::to_string(st->pid));
  ::usleep(100000);
  r.expect("create.process-not-run", !berth::path_exists(b->rootfs() + "/started"),
           "the user process ran before start");
  int64_t pid = st->pid;
  std::string memcg = cgroup_dir_of(r.host(), pid, "memory");
  if (memcg.empty()) memcg = cgroup_dir_of(r.host(), pid, "pids");

  // create with a duplicate id: error, the first container is untouched.
  Bundle* dup = r.bundle();
  if (dup) {
    (void)dup->write();
    CmdResult dc = rt.run_detached({"create", "--bundle", dup->dir(), b->id()}, dup->out_path(), dup->err_path());
    auto again = rt.state(b->id());
    r.expect("create.duplicate-id-error",
             !dc.ok() && again.ok() && again->pid == pid && again->bundle == real(b->dir()),
             dc.ok() ? "create with a duplicate id succeeded" : "the existing container changed");
  }

  CmdResult s = rt.run({"start", b->id()});
  bool started = s.ok() && wait_for_file(b->rootfs() + "/started");
  r.expect("start.runs-process", started, s.ok() ? "the user process did not run" : "start: " + s.summary());
  auto running = rt.state(b->id());
  r.expect("state.status.running", running.ok() && running->status == "running",
           running.ok() ? "status \"" + running->status + "\" after start" : running.error().what());
  CmdResult s2 = rt.run({"start", b->id()});
  auto still = rt.state(b->id());
  r.expect("start.not-created-error", !s2.ok() && still.ok() && still->status == "running",
           s2.ok() ? "start of a running container succeeded" : "the container changed");
  CmdResult d2 = rt.run({"delete", b->id()});
  still = rt.state(b->id());
  r.expect("delete.running-error", !d2.ok() && still.ok() && still->status == "running" && process_alive(pid),
           d2.ok() ? "delete of a running container succeeded" : "the container changed");

  CmdResult k = rt.run({"kill", b->id(), "USR1"});
  bool got = k.ok() && wait_for_file(b->rootfs() + "/got-usr1");
  r.expect("kill.signal-delivered", got, k.ok() ? "the process never saw SIGUSR1" : "kill: " + k.summary());
  auto stopped = rt.wait_status(b->id(), "stopped");
  r.expect("state.status.stopped", stopped.ok() && stopped->status == "stopped",
           stopped.ok() ? "status \"" + stopped->status + "\" after the process exited" : stopped.error().what());
  CmdResult k2 = rt.run({"kill", b->id(), "KILL"});
  r.expect("kill.stopped-error", !k2.ok(), "kill of a stopped container succeeded");
  CmdResult s3 = rt.run({"start", b->id()});
  r.expect("start.stopped-error", !s3.ok(), "start of a stopped container succeeded");

  CmdResult d3 = rt.run({"delete", b->id()});
  r.expect("delete.stopped", d3.ok(), "delete: " + d3.summary());
  auto gone = rt.state(b->id());
  r.expect("delete.state-gone", !gone.ok(), "state still answers after delete");
  r.expect("delete.state-dir-gone", !berth::path_exists(rt.root() + "/" + b->id()),
           rt.root() + "/" + b->id() + " still exists");
  if (memcg.empty()) {
    r.skip("delete.cgroup-gone", "could not find the container's cgroup");
  } else {
    r.expect("delete.cgroup-gone", !berth::path_exists(memcg), memcg + " still exists");
  }
  r.expect("delete.process-gone", !process_alive(pid), "pid " + std::to_string(pid) + " still alive");
}

void created(CaseRun& r) {
  // kill of a created container: it stops.
  Bundle* b = r.bundle();
  if (!b) return;
  b->set_args({"sleep", "1000"});
  CmdResult c = r.create(*b);
  if (!c.ok()) {
    r.fail_rest("create failed: " + c.summary());
    return;
  }
  CmdResult k = r.rt().run({"kill", b->id(), "KILL"});
  auto st = r.rt().wait_status(b->id(), "stopped");
  r.expect("kill.created", k.ok() && st.ok() && st->status == "stopped",
           k.ok() ? "status after kill: " + (st.ok() ? st->status : st.error().what()) : "kill: " + k.summary());

  // delete of a created (not stopped) container: error, no effect.
  Bundle* b2 = r.bundle();
  if (!b2) return;
  b2->set_args({"sleep", "1000"});
  c = r.create(*b2);
  if (!c.ok()) {
    r.fail_rest("create failed: " + c.summary());
    return;
  }
  CmdResult d = r.rt().run({"delete", b2->id()});
  auto after = r.rt().state(b2->id());
  r.expect("delete.created-error", !d.ok() && after.ok() && after->status == "created",
           d.ok() ? "delete of a created container succeeded (and removed it)" : "the container changed");
}

void unknown_ids(CaseRun& r) {
  const auto& rt = r.rt();
  const std::string id = "conf-no-such-container";
  r.expect("state.unknown-id-error", !rt.run({"state", id}).ok(), "state of an unknown id succeeded");
  r.expect("kill.unknown-id-error", !rt.run({"kill", id, "KILL"}).ok(), "kill of an unknown id succeeded");
  r.expect("delete.unknown-id-error", !rt.run({"delete", id}).ok(), "delete of an unknown id succeeded");
  r.expect("start.unknown-id-error", !rt.run({"start", id}).ok(), "start of an unknown id succeeded");
}

void bad_config(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  // A mount whose source does not exist cannot be created.
  JValue m = JValue::object();
  m["destination"] = "/conf-missing";
  m["type"] = "bind";
  m["source"] = b->dir() + "/does-not-exist";
  m["options"] = JValue::strings({"rbind"});
  b->config["mounts"].push(m);
  CmdResult c = r.create(*b);
  r.expect("create.unsatisfiable-config-error", !c.ok(), "create succeeded");
  auto st = r.rt().state(b->id());
  r.expect("create.error-no-container", !st.ok() || st->status == "stopped",
           "a failed create left a container in status " + (st.ok() ? st->status : ""));
}

void console(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  b->config["process"]["terminal"] = true;
  b->check("process.terminal.true", "isatty", {"0", "1"});
  b->check("terminal.dev-console", "rdev", {"/dev/console", "136:*"});
  std::string sock_path = b->dir() + "/console.sock";
  auto sock = berth::listen_unix(sock_path);
  if (!sock.ok()) {
    r.fail_rest(sock.error().what());
    return;
  }
  berth::UniqueFd master;
  std::string recv_error;
  std::atomic<bool> create_done{false};
  std::thread acceptor([&] {
    // Wait for the runtime to connect, but no longer than create runs (or 10 s).
    struct pollfd p = {sock->get(), POLLIN, 0};
    int ready = 0;
    for (int i = 0; i < 100 && ready == 0; ++i) {
      ready = ::poll(&p, 1, 100);
      if (ready == 0 && create_done) break;
    }
    if (ready != 1) {
      recv_error = "nothing connected to the console socket";
      return;
    }
    berth::UniqueFd conn(::accept4(sock->get(), nullptr, nullptr, SOCK_CLOEXEC));
    auto got = berth::receive_fd(conn.get());
    if (got.ok()) {
      master = std::move(got->fd);
    } else {
      recv_error = got.error().what();
    }
  });
  CmdResult c = r.create(*b, {"--console-socket", sock_path});
  create_done = true;
  acceptor.join();
  if (!c.ok()) {
    r.fail_rest("create failed: " + c.summary());
    return;
  }
  r.expect("cli.console-socket", master.valid(), "no fd received: " + recv_error);
  int ptn = -1;
  r.expect("cli.console-socket-pty-master", master.valid() && ::ioctl(master.get(), TIOCGPTN, &ptn) == 0,
           "the received fd is not a pty master");
  CmdResult s = r.rt().run({"start", b->id()});
  std::string out;
  if (s.ok() && master.valid()) {
    char buf[4096];
    for (int i = 0; i < 200; ++i) {
      struct pollfd p = {master.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) {
        if (r.rt().state(b->id()).value_or(ContainerState{}).status == "stopped") break;
        continue;
      }
      ssize_t n = ::read(master.get(), buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, n);
    }
  }
  std::string clean;
  for (char ch : out) {
    if (ch != '\r') clean += ch;
  }
  (void)r.rt().wait_status(b->id(), "stopped");
  r.parse_checker_output(clean, *b, s.ok() ? "no result from the checker" : "start failed: " + s.summary());
}

}  // namespace

void add_lifecycle_cases(Suite& s) {
  s.add_case("lifecycle", lifecycle)
      .must("state.status.created", kState, "after create, status is \"created\"")
      .must("state.ociVersion", kState, "state carries ociVersion (a SemVer string)")
      .must("state.id", kState, "state carries the container's id")
      .must("state.pid", kState, "state carries the pid of the container process (alive) when created")
      .must("state.bundle", kState, "state carries the bundle's absolute path")
      .must("state.annotations", kState, "state carries the annotations of config.json")
      .should("cli.pid-file", kCli, "create --pid-file writes the container process's pid")
      .must("create.process-not-run", "runtime.md#lifecycle", "create MUST NOT run the user-specified program")
      .must("create.duplicate-id-error", "runtime.md#create", "create with an id in use errors; the container stays")
      .must("start.runs-process", "runtime.md#start", "start runs the user-specified program")
      .must("state.status.running", kState, "after start, status is \"running\"")
      .must("start.not-created-error", "runtime.md#start", "start of a running container errors, no effect")
      .must("delete.running-error", "runtime.md#delete", "delete of a running container errors, no effect")
      .must("kill.signal-delivered", "runtime.md#kill", "kill sends the given signal to the container process")
      .must("state.status.stopped", kState, "after the process exits, status is \"stopped\"")
      .must("kill.stopped-error", "runtime.md#kill", "kill of a stopped container errors")
      .must("start.stopped-error", "runtime.md#start", "start of a stopped container errors")
      .must("delete.stopped", "runtime.md#delete", "delete of a stopped container succeeds")
      .must("delete.state-gone", "runtime.md#delete", "after delete, state of the id errors")
      .must("delete.state-dir-gone", "runtime.md#delete", "delete removes the runtime's state directory")
      .must("delete.cgroup-gone", "runtime.md#delete", "delete removes the cgroup created at create")
      .must("delete.process-gone", "runtime.md#delete", "after delete no container process remains");
  s.add_case("lifecycle-created", created)
      .must("delete.created-error", "runtime.md#delete", "delete of a created (not stopped) container errors, no effect")
      .must("kill.created", "runtime.md#kill", "kill works on a created container (it stops)");
  s.add_case("lifecycle-unknown-id", unknown_ids)
      .must("state.unknown-id-error", "runtime.md#query-state", "state of an unknown id errors")
      .must("kill.unknown-id-error", "runtime.md#kill", "kill of an unknown id errors")
      .must("delete.unknown-id-error", "runtime.md#delete", "delete of an unknown id errors")
      .must("start.unknown-id-error", "runtime.md#start", "start of an unknown id errors");
  s.add_case("lifecycle-bad-config", bad_config)
      .must("create.unsatisfiable-config-error", "runtime.md#create",
            "create errors when the environment of config.json cannot be created")
      .must("create.error-no-container", "runtime.md#create", "a failed create leaves no created container");
  s.add_case("console-socket", console)
      .should("cli.console-socket", kCli, "create --console-socket sends the pty master over SCM_RIGHTS")
      .should("cli.console-socket-pty-master", kCli, "the fd received is a pty master")
      .must("process.terminal.true", "config.md#process", "terminal true: stdin is a terminal")
      .must("terminal.dev-console", "config-linux.md#default-devices",
            "with a terminal, /dev/console is the container's pty (major 136)");
}

}  // namespace conformance
