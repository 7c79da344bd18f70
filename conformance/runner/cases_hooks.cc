// config.md#posix-platform-hooks and runtime.md#lifecycle: which hooks run when, in which order,
// with the state on stdin, and what a failing hook does.
#include <unistd.h>

#include <chrono>
#include <sstream>

#include "berth/common/fs.h"
#include "case_run.h"

namespace conformance {
namespace {

constexpr const char* kHooks = "config.md#posix-platform-hooks";
constexpr const char* kLifecycle = "runtime.md#lifecycle";

// A hook that records its name in <dir>/order, its stdin in <dir>/<name>.state, and its env
// and first argument in <dir>/<name>.env.
JValue recorder(const std::string& shell, const std::string& dir, const std::string& name) {
  JValue h = JValue::object();
  h["path"] = shell;
  h["args"] = JValue::strings({"sh", "-c",
                               "cat > \"$D/$0.state\"; echo \"$0\" >> \"$D/order\"; echo \"$HOOK_ENV $1\" > \"$D/$0.env\"",
                               name, "arg-one"});
  h["env"] = JValue::strings({"D=" + dir, "HOOK_ENV=env-ok", "PATH=/bin:/usr/bin"});
  return h;
}

JValue failing(int code) {
  JValue h = JValue::object();
  h["path"] = "/bin/sh";
  h["args"] = JValue::strings({"sh", "-c", "exit " + std::to_string(code)});
  return h;
}

std::vector<std::string> order_of(const std::string& dir) {
  std::vector<std::string> out;
  std::istringstream in(berth::read_file(dir + "/order").value_or(""));
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

int index_of(const std::vector<std::string>& v, const std::string& s) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == s) return static_cast<int>(i);
  }
  return -1;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return "[" + s + "]";
}

// The hook's stdin parsed as state: id must match (and pid, for hooks that run with a process).
void check_state(CaseRun& r, const std::string& req, const std::string& dir, const std::string& name,
                 const std::string& id) {
  auto text = berth::read_file(dir + "/" + name + ".state");
  if (!text.ok()) {
    r.fail(req, "the hook did not run");
    return;
  }
  auto st = parse_state(*text);
  if (!st.ok()) {
    r.fail(req, "stdin is not state JSON: " + text->substr(0, 80));
    return;
  }
  r.expect(req, st->id == id && !st->bundle.empty(), "state on stdin has id \"" + st->id + "\", bundle \"" +
                                                         st->bundle + "\"");
}

void hooks(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  std::string dir = b->dir() + "/hooks";
  (void)berth::make_dirs(dir, 0777);
  JValue& h = b->config["hooks"];
  h["prestart"] = JValue::array({recorder("/bin/sh", dir, "prestart1"), recorder("/bin/sh", dir, "prestart2")});
  h["createRuntime"] = JValue::array({recorder("/bin/sh", dir, "createRuntime")});
  h["createContainer"] = JValue::array({recorder("/bin/sh", dir, "createContainer")});
  h["startContainer"] = JValue::array({recorder("/bin/sh", "/conf-hooks", "startContainer")});
  h["poststart"] = JValue::array({recorder("/bin/sh", dir, "poststart")});
  h["poststop"] = JValue::array({recorder("/bin/sh", dir, "poststop")});
  JValue m = JValue::object();
  m["destination"] = "/conf-hooks";
  m["type"] = "bind";
  m["source"] = dir;
  m["options"] = JValue::strings({"rbind", "rw"});
  b->config["mounts"].push(m);
  b->set_args({"sh", "-c", "echo process >> /conf-hooks/order; sleep 0.2"});
  CmdResult c = r.create(*b);
  if (!c.ok()) {
    r.fail_rest("create failed: " + c.summary());
    return;
  }
  auto after_create = order_of(dir);
  int p1 = index_of(after_create, "prestart1"), p2 = index_of(after_create, "prestart2");
  int cr = index_of(after_create, "createRuntime"), cc = index_of(after_create, "createContainer");
  std::string seen = "hooks run by create: " + joined(after_create);
  r.expect("hooks.prestart.called", p1 >= 0 && p2 >= 0, seen);
  r.expect("hooks.order-within-type", p1 >= 0 && p2 > p1, seen);
  r.expect("hooks.createRuntime.called", cr >= 0, seen);
  r.expect("hooks.createRuntime.after-prestart", cr > p2 && p2 >= 0, seen);
  r.expect("hooks.createContainer.called", cc >= 0, seen);
  r.expect("hooks.createContainer.after-createRuntime", cc > cr && cr >= 0, seen);
  r.expect("hooks.startContainer.not-at-create", index_of(after_create, "startContainer") < 0, seen);
  r.expect("hooks.poststart.not-at-create", index_of(after_create, "poststart") < 0, seen);
  auto env = berth::read_file(dir + "/createRuntime.env").value_or("<hook did not run>");
  r.expect("hooks.args-and-env", env == "env-ok arg-one\n", "the hook saw \"$HOOK_ENV $1\" = " + env);
  check_state(r, "hooks.prestart.state-stdin", dir, "prestart1", b->id());
  check_state(r, "hooks.createRuntime.state-stdin", dir, "createRuntime", b->id());
  check_state(r, "hooks.createContainer.state-stdin", dir, "createContainer", b->id());

  CmdResult s = r.rt().run({"start", b->id()});
  auto after_start = order_of(dir);
  const auto at_start_return = after_start;
  seen = "hooks run by create+start: " + joined(after_start);
  auto wait_until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (s.ok() && index_of(after_start, "process") < 0 && std::chrono::steady_clock::now() < wait_until) {
    ::usleep(20000);
    after_start = order_of(dir);
  }
  // startContainer runs in the container just before the program, which may be after start
  // returned (crun), so both are judged on the final order.
  int sc = index_of(after_start, "startContainer"), proc = index_of(after_start, "process");
  r.expect("hooks.startContainer.called", s.ok() && sc >= 0, s.ok() ? "order " + joined(after_start)
                                                                     : "start: " + s.summary());
  r.expect("hooks.startContainer.before-process", sc >= 0 && proc > sc, "order " + joined(after_start));
  r.expect("hooks.poststart.before-start-returns", s.ok() && index_of(at_start_return, "poststart") >= 0, seen);
  check_state(r, "hooks.startContainer.state-stdin", dir, "startContainer", b->id());
  check_state(r, "hooks.poststart.state-stdin", dir, "poststart", b->id());
  (void)r.rt().wait_status(b->id(), "stopped");
  r.expect("hooks.poststop.not-before-delete", index_of(order_of(dir), "poststop") < 0,
           "poststop ran before delete: " + joined(order_of(dir)));
  CmdResult d = r.rt().run({"delete", b->id()});
  r.expect("hooks.poststop.before-delete-returns", d.ok() && index_of(order_of(dir), "poststop") >= 0,
           d.ok() ? "order " + joined(order_of(dir)) : "delete: " + d.summary());
  check_state(r, "hooks.poststop.state-stdin", dir, "poststop", b->id());
}

void failing_prestart(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  b->config["hooks"]["prestart"] = JValue::array({failing(3)});
  b->set_args({"sleep", "1000"});
  CmdResult c = r.create(*b);
  r.expect("hooks.prestart.failure-error", !c.ok(), "create succeeded although a prestart hook failed");
  auto st = r.rt().state(b->id());
  r.expect("hooks.prestart.failure-stops", !st.ok() || st->status == "stopped",
           "after the failed prestart hook the container is " + (st.ok() ? st->status : ""));

  Bundle* t = r.bundle();
  if (!t) return;
  JValue slow = JValue::object();
  slow["path"] = "/bin/busybox";  // exec'd directly: no child keeps the hook's pipes open
  slow["args"] = JValue::strings({"sleep", "5"});
  slow["timeout"] = 1;
  t->config["hooks"]["createRuntime"] = JValue::array({slow});
  t->set_args({"sleep", "1000"});
  auto t0 = std::chrono::steady_clock::now();
  c = r.create(*t);
  auto secs = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  r.expect("hooks.timeout", !c.ok() && secs < 4500,
           c.ok() ? "create succeeded though the hook outlived its timeout"
                  : "create took " + std::to_string(secs) + " ms (hook timeout 1 s, hook sleeps 5 s)");
}

void failing_poststart_poststop(CaseRun& r) {
  Bundle* b = r.bundle();
  if (!b) return;
  b->config["hooks"]["poststart"] = JValue::array({failing(4)});
  b->set_args({"sh", "-c", "touch /ran; sleep 0.3"});
  CmdResult c = r.create(*b);
  CmdResult s = c.ok() ? r.rt().run({"start", b->id()}) : c;
  ::usleep(100000);
  bool ran = berth::path_exists(b->rootfs() + "/ran");
  r.expect("hooks.poststart.failure-continues", c.ok() && s.ok() && ran,
           !c.ok() ? "create failed: " + c.summary()
                   : s.ok() ? "the user process did not run" : "start failed: " + s.summary());

  Bundle* p = r.bundle();
  if (!p) return;
  p->config["hooks"]["poststop"] = JValue::array({failing(5), recorder("/bin/sh", p->dir(), "poststop-after")});
  p->set_args({"true"});
  c = r.create(*p);
  s = c.ok() ? r.rt().run({"start", p->id()}) : c;
  (void)r.rt().wait_status(p->id(), "stopped");
  CmdResult d = r.rt().run({"delete", p->id()});
  r.expect("hooks.poststop.failure-continues",
           d.ok() && berth::path_exists(p->dir() + "/poststop-after.state") && !r.rt().state(p->id()).ok(),
           !s.ok() ? "create/start failed: " + s.summary()
           : d.ok() ? "the next poststop hook did not run or the container remains" : "delete failed: " + d.summary());
}

}  // namespace

void add_hook_cases(Suite& s) {
  s.add_case("hooks", hooks)
      .must("hooks.prestart.called", kLifecycle, "prestart hooks run during create")
      .must("hooks.order-within-type", kHooks, "hooks of one type run in the order listed")
      .must("hooks.createRuntime.called", kLifecycle, "createRuntime hooks run during create")
      .must("hooks.createRuntime.after-prestart", kLifecycle, "createRuntime hooks run after prestart hooks")
      .must("hooks.createContainer.called", kLifecycle, "createContainer hooks run during create")
      .must("hooks.createContainer.after-createRuntime", kLifecycle, "createContainer hooks run after createRuntime")
      .must("hooks.startContainer.not-at-create", kLifecycle, "startContainer hooks do not run during create")
      .must("hooks.poststart.not-at-create", kLifecycle, "poststart hooks do not run during create")
      .must("hooks.args-and-env", kHooks, "a hook gets its args and env")
      .must("hooks.prestart.state-stdin", kHooks, "prestart hooks get the container state on stdin")
      .must("hooks.createRuntime.state-stdin", kHooks, "createRuntime hooks get the container state on stdin")
      .must("hooks.createContainer.state-stdin", kHooks, "createContainer hooks get the container state on stdin")
      .must("hooks.startContainer.called", kLifecycle, "startContainer hooks run as part of start")
      .must("hooks.startContainer.before-process", kLifecycle, "startContainer hooks run before the user program")
      .must("hooks.poststart.before-start-returns", kLifecycle, "poststart hooks run before start returns")
      .must("hooks.startContainer.state-stdin", kHooks, "startContainer hooks get the container state on stdin")
      .must("hooks.poststart.state-stdin", kHooks, "poststart hooks get the container state on stdin")
      .must("hooks.poststop.not-before-delete", kLifecycle, "poststop hooks do not run before delete")
      .must("hooks.poststop.before-delete-returns", kLifecycle, "poststop hooks run before delete returns")
      .must("hooks.poststop.state-stdin", kHooks, "poststop hooks get the container state on stdin");
  s.add_case("hooks-failing-prestart", failing_prestart)
      .must("hooks.prestart.failure-error", kLifecycle, "a failing prestart hook makes create fail")
      .must("hooks.prestart.failure-stops", kLifecycle, "after a failing prestart hook no container is left created")
      .must("hooks.timeout", kHooks, "a hook that outlives its timeout is aborted (create fails in time)");
  s.add_case("hooks-failing-post", failing_poststart_poststop)
      .must("hooks.poststart.failure-continues", kLifecycle, "a failing poststart hook: warning, lifecycle continues")
      .must("hooks.poststop.failure-continues", kLifecycle,
            "a failing poststop hook: warning, remaining hooks run, delete completes");
}

}  // namespace conformance
