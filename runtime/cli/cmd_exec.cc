#include "command.h"

namespace berth::runtime::cli {

namespace {
constexpr int kExecFailed = 255;
}  // namespace

int cmd_exec(Context& ctx) {
  ExecOptions o;
  std::vector<std::string> gids;
  po::options_description flags("options");
  flags.add_options()
      ("process,p", po::value(&o.process_path), "a process.json to run instead of the command line")
      ("tty,t", po::bool_switch(&o.tty), "allocate a pseudo-terminal")
      ("console-socket", po::value(&o.console_socket), "unix socket that receives the pty master")
      ("detach,d", po::bool_switch(&o.detach), "return once the process runs")
      ("pid-file", po::value(&o.pid_file), "file to write the process's pid to")
      ("env,e", po::value(&o.env)->composing(), "KEY=value for the process (repeatable)")
      ("cwd", po::value(&o.cwd), "working directory inside the container")
      ("user,u", po::value(&o.user), "uid[:gid]")
      ("additional-gids,g", po::value(&gids)->composing(), "supplementary group id (repeatable)")
      ("cap,c", po::value(&o.caps)->composing(), "extra capability (repeatable)")
      ("no-new-privs", po::bool_switch(&o.no_new_privs), "set no_new_privileges")
      ("preserve-fds", po::value(&o.preserve_fds)->default_value(0), "pass N extra fds (from 3)")
      ("cgroup", po::value(&o.cgroup), "sub-cgroup to run in")
      ("ignore-paused", po::bool_switch(&o.ignore_paused), "exec even if the container is paused")
      ("console-size", po::value(&o.console_size), "initial size of the terminal, HEIGHT,WIDTH (e.g. 24,80)");
  auto vm = parse(ctx, flags, {"id", "command"}, true);
  o.id = require_id(vm, ctx);
  if (vm.count("command")) o.args = vm["command"].as<std::vector<std::string>>();
  for (const auto& g : gids) {
    try {
      o.additional_gids.push_back(static_cast<uint32_t>(std::stoul(g)));
    } catch (const std::exception&) {
      throw po::error("--additional-gids: \"" + g + "\" is not a number");
    }
  }
  auto code = exec_in_container(ctx.global, o);
  // As runc: exec's own failures exit 255, apart from any exit code of the process.
  if (!code) {
    report(code.error());
    return kExecFailed;
  }
  return *code;
}

}  // namespace berth::runtime::cli
