// conformance-runner: runs the OCI runtime-spec conformance cases against one or more
// runc-compatible runtimes and prints a requirement × runtime table (or JSON).
//   conformance-runner --runtime PATH [--runtime [NAME=]PATH ...] [--format table|json]
//                      [--case FILTER] [--verbose] [--diff] [--list] [--checker PATH]
#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <linux/magic.h>

#include "berth/common/fs.h"
#include "berth/common/temp_dir.h"
#include "case_run.h"
#include "host.h"
#include "report.h"
#include "suite.h"

#ifndef CONFORMANCE_CHECKER
#define CONFORMANCE_CHECKER ""
#endif

namespace conformance {
namespace {

struct Options {
  std::vector<std::pair<std::string, std::string>> runtimes;  // name, path
  std::string format = "table";
  std::string filter;
  std::string checker = CONFORMANCE_CHECKER;
  bool verbose = false, diff = false, list = false;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "%s\nusage: conformance-runner --runtime [NAME=]PATH [--runtime ...] [--format table|json]\n"
               "       [--case FILTER] [--verbose] [--diff] [--list] [--checker PATH]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage((a + " needs a value").c_str());
      return argv[++i];
    };
    if (a == "--runtime") {
      std::string v = value();
      auto eq = v.find('=');
      std::string path = eq == std::string::npos ? v : v.substr(eq + 1);
      std::string name = eq == std::string::npos ? berth::basename_of(v) : v.substr(0, eq);
      for (const auto& [n, p] : o.runtimes) {
        if (n == name) name += "-" + std::to_string(o.runtimes.size());
      }
      o.runtimes.emplace_back(name, path);
    } else if (a == "--format") {
      o.format = value();
      if (o.format != "table" && o.format != "json") usage("--format is table or json");
    } else if (a == "--case") {
      o.filter = value();
    } else if (a == "--checker") {
      o.checker = value();
    } else if (a == "--verbose" || a == "-v") {
      o.verbose = true;
    } else if (a == "--diff") {
      o.diff = true;
    } else if (a == "--list") {
      o.list = true;
    } else {
      usage(("unknown argument " + a).c_str());
    }
  }
  if (o.runtimes.empty() && !o.list) usage("at least one --runtime is needed");
  return o;
}

// All runtimes see the same host: a private mount namespace where the hybrid cgroup2 mount is
// hidden under a tmpfs (crun 1.8.1 refuses hybrid hosts), so the host looks cgroup v1 to all.
berth::Status isolate_host() {
  if (::unshare(CLONE_NEWNS) != 0) return berth::sys_error("unshare(CLONE_NEWNS)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return berth::sys_error("make / rprivate");
  struct statfs sf;
  if (::statfs("/sys/fs/cgroup/unified", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
    struct statfs top;
    if (::statfs("/sys/fs/cgroup", &top) == 0 && top.f_type != CGROUP2_SUPER_MAGIC &&
        ::mount("tmpfs", "/sys/fs/cgroup/unified", "tmpfs", 0, nullptr) != 0) {
      return berth::sys_error("mount tmpfs over /sys/fs/cgroup/unified");
    }
  }
  return {};
}

// Removes the (now empty) per-container cgroups runtimes left under the shared parent, and the
// parent itself, in every hierarchy.
void remove_cgroup_parents(const HostInfo& host) {
  auto all = host.cgroup_v1;
  all.insert(host.cgroup_named.begin(), host.cgroup_named.end());
  for (const auto& [controller, point] : all) {
    std::string parent = point + "/" + host.cgroup_parent;
    if (DIR* d = ::opendir(parent.c_str())) {
      while (dirent* e = ::readdir(d)) {
        if (e->d_type == DT_DIR && e->d_name[0] != '.') ::rmdir((parent + "/" + e->d_name).c_str());
      }
      ::closedir(d);
    }
    ::rmdir(parent.c_str());
  }
}

std::vector<RuntimeResults> run_all(const Options& o, const Suite& suite, const HostInfo& host) {
  std::vector<RuntimeResults> all;
  int seq = 0;
  for (const auto& [name, path] : o.runtimes) {
    auto root = berth::TempDir::create("/tmp/berth-conf-root-");
    if (!root.ok()) {
      std::fprintf(stderr, "%s\n", root.error().what().c_str());
      std::exit(1);
    }
    Runtime rt(name, path, root->path());
    RuntimeResults res{name, path, rt.version(), {}};
    for (const auto& c : suite.cases()) {
      bool match = o.filter.empty() || c.name.find(o.filter) != std::string::npos;
      for (const auto& id : c.requirement_ids) match |= !o.filter.empty() && id.rfind(o.filter, 0) == 0;
      if (!match) continue;
      if (o.verbose) std::fprintf(stderr, "[%s] %s\n", name.c_str(), c.name.c_str());
      CaseRun run(c, rt, host, &seq);
      c.run(run);
      for (auto& [id, outcome] : run.finish()) res.outcomes[id] = outcome;
    }
    all.push_back(std::move(res));
  }
  return all;
}

}  // namespace
}  // namespace conformance

int main(int argc, char** argv) {
  using namespace conformance;
  Options o = parse(argc, argv);
  Suite suite;
  add_lifecycle_cases(suite);
  add_hook_cases(suite);
  add_process_cases(suite);
  add_capability_cases(suite);
  add_mount_cases(suite);
  add_device_cases(suite);
  add_namespace_cases(suite);
  add_linux_cases(suite);
  add_cgroup_cases(suite);
  add_config_cases(suite);
  add_paused_cases(suite);
  if (o.list) {
    for (const auto& r : suite.requirements()) {
      std::printf("%-44s %-6s %-34s %s\n", r.id.c_str(), level_name(r.level), r.ref.c_str(), r.description.c_str());
    }
    std::printf("%zu requirements in %zu cases\n", suite.requirements().size(), suite.cases().size());
    return 0;
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "conformance-runner: needs root (it creates real containers)\n");
    return 77;
  }
  if (o.checker.empty() || ::access(o.checker.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "conformance-runner: checker binary not found (%s); pass --checker\n", o.checker.c_str());
    return 2;
  }
  if (auto st = isolate_host(); !st.ok()) {
    std::fprintf(stderr, "conformance-runner: %s\n", st.error().what().c_str());
    return 1;
  }
  // Must not leak into containers (process.env.not-inherited).
  ::setenv("CONFORMANCE_RUNNER_MARKER", "1", 1);
  // A recognisable oom_score_adj that containers without oomScoreAdj must keep (raising needs
  // no privilege; process.oomScoreAdj.unset).
  (void)berth::write_file("/proc/self/oom_score_adj", "7");
  HostInfo host = HostInfo::probe(o.checker);
  // Bundles hard-link busybox and the checker from private copies (rootfses are writable).
  auto stage = berth::TempDir::create("/tmp/berth-conf-stage-");
  if (!stage.ok()) {
    std::fprintf(stderr, "conformance-runner: %s\n", stage.error().what().c_str());
    return 1;
  }
  for (auto [src, dst] : {std::pair{&host.busybox, "busybox"}, std::pair{&host.checker, "checker"}}) {
    auto data = berth::read_file(*src);
    std::string copy = stage->path() + "/" + dst;
    if (!data.ok() || !berth::write_file_atomic(copy, *data, 0755).ok()) {
      std::fprintf(stderr, "conformance-runner: cannot copy %s\n", src->c_str());
      return 1;
    }
    *src = copy;
  }
  auto results = run_all(o, suite, host);
  remove_cgroup_parents(host);
  if (o.format == "json") {
    std::cout << format_json(suite, results) << "\n";
  } else {
    std::cout << format_table(suite, results, o.verbose, o.diff);
  }
  return 0;
}
