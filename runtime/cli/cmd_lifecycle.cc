// start, state, kill, delete: the verbs that act on one existing container.
#include <signal.h>

#include <iostream>

#include "command.h"

namespace berth::runtime::cli {

int cmd_start(Context& ctx) {
  auto vm = parse(ctx, po::options_description("options"), {"id"});
  return report(start_container(ctx.global, require_id(vm, ctx)));
}

int cmd_state(Context& ctx) {
  auto vm = parse(ctx, po::options_description("options"), {"id"});
  auto state = container_state(ctx.global, require_id(vm, ctx));
  if (!state) return report(state.error());
  std::cout << *state << "\n";
  return 0;
}

int cmd_kill(Context& ctx) {
  bool all = false;
  po::options_description flags("options");
  flags.add_options()("all,a", po::bool_switch(&all), "signal every process in the container");
  auto vm = parse(ctx, flags, {"id", "signal"});
  std::string id = require_id(vm, ctx);
  std::string sig_text = vm.count("signal") ? vm["signal"].as<std::string>() : "SIGTERM";
  auto sig = parse_signal(sig_text);
  if (!sig) return report(sig.error());
  return report(kill_container(ctx.global, id, *sig, all));
}

int cmd_delete(Context& ctx) {
  bool force = false;
  po::options_description flags("options");
  flags.add_options()("force,f", po::bool_switch(&force), "kill the container first if it is running");
  auto vm = parse(ctx, flags, {"id"});
  return report(delete_container(ctx.global, require_id(vm, ctx), force));
}

}  // namespace berth::runtime::cli
