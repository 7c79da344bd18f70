#include "command.h"

namespace berth::runtime::cli {

int cmd_create(Context& ctx) {
  CreateOptions options;
  auto vm = parse(ctx, create_flags(options), {"id"});
  options.id = require_id(vm, ctx);
  options.listen_fds = socket_activation_fds();
  return report(create_container(ctx.global, options));
}

}  // namespace berth::runtime::cli
