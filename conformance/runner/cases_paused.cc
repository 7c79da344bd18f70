// A paused (frozen) container under the runc CLI verbs the spec does not define but every shim
// uses: exec must refuse rather than hang in the frozen cgroup, and delete --force must kill and
// thaw, leaving no process or cgroup behind.
#include <sstream>

#include "berth/common/fs.h"
#include "case_run.h"

namespace conformance {
namespace {

constexpr const char* kRuncCli = "runc CLI: pause, exec, delete --force";

size_t procs_in(const std::string& cgroup_dir) {
  std::istringstream in(berth::read_file(cgroup_dir + "/cgroup.procs").value_or(""));
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}

void paused(CaseRun& r) {
  if (!r.host().has_controller("freezer")) {
    r.skip("cli.exec.paused-error", "the host has no cgroup v1 freezer");
    r.skip("cli.delete-force.paused", "the host has no cgroup v1 freezer");
    return;
  }
  Bundle* b = r.bundle();
  if (!b) return;
  const auto& rt = r.rt();
  b->set_args({"sleep", "1000"});
  CmdResult c = r.create(*b);
  CmdResult s = c.ok() ? rt.run({"start", b->id()}) : c;
  CmdResult p = s.ok() ? rt.run({"pause", b->id()}) : s;
  auto st = rt.state(b->id());
  if (!p.ok() || !st.ok() || st->status != "paused") {
    r.fail_rest("could not make a paused container: " + (p.ok() ? "status " + st.value_or(ContainerState{}).status : p.summary()));
    return;
  }
  std::string freezer = cgroup_dir_of(r.host(), st->pid, "freezer");
  size_t before = procs_in(freezer);
  // A hang here is the bug; 5 s is far longer than any runtime needs to refuse.
  CmdResult e = rt.run({"exec", b->id(), "true"}, "", std::chrono::seconds(5));
  size_t after = procs_in(freezer);
  r.expect("cli.exec.paused-error", !e.ok() && !e.timed_out && after == before,
           e.timed_out ? "exec hung" : e.ok() ? "exec succeeded"
                                              : "exec left " + std::to_string(after - before) + " process(es) frozen");

  CmdResult d = rt.run({"delete", "--force", b->id()});
  bool gone = !process_alive(st->pid) && !berth::path_exists(freezer) && !rt.state(b->id()).ok();
  r.expect("cli.delete-force.paused", d.ok() && gone,
           !d.ok() ? "delete --force: " + d.summary()
                   : process_alive(st->pid) ? "the container's process survived" : "the cgroup or state is left");
}

}  // namespace

void add_paused_cases(Suite& s) {
  s.add_case("paused", paused)
      .should("cli.exec.paused-error", kRuncCli, "exec into a paused container fails promptly and adds no process")
      .should("cli.delete-force.paused", kRuncCli,
              "delete --force of a paused container kills its processes and removes its cgroup and state");
}

}  // namespace conformance
