#include "command.h"

namespace berth::runtime::cli {

int cmd_run(Context& ctx) {
  RunOptions options;
  po::options_description flags = create_flags(options.create);
  flags.add_options()
      ("detach,d", po::bool_switch(&options.detach), "return once the container runs")
      ("keep", po::bool_switch(&options.keep), "keep the container's state after it exits");
  auto vm = parse(ctx, flags, {"id"});
  options.create.id = require_id(vm, ctx);
  options.create.listen_fds = socket_activation_fds();
  auto code = run_container(ctx.global, options);
  if (!code) return report(code.error());
  return *code;
}

}  // namespace berth::runtime::cli
