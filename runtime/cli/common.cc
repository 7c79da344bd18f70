#include <iostream>

#include "berth/common/log.h"
#include "command.h"

namespace berth::runtime::cli {

po::variables_map parse(const Context& ctx, const po::options_description& flags,
                        const std::vector<std::string>& positional, bool rest) {
  po::options_description all;
  all.add(flags);
  po::positional_options_description pos;
  for (size_t i = 0; i < positional.size(); ++i) {
    bool last = i + 1 == positional.size();
    const po::value_semantic* semantic = last && rest
                                             ? static_cast<const po::value_semantic*>(
                                                   po::value<std::vector<std::string>>()->multitoken())
                                             : po::value<std::string>();
    all.add_options()(positional[i].c_str(), semantic);
    pos.add(positional[i].c_str(), last && rest ? -1 : 1);
  }
  all.add_options()("help,h", "show this help");
  auto style = po::command_line_style::default_style | po::command_line_style::allow_long_disguise;
  po::variables_map vm;
  po::store(po::command_line_parser(ctx.args).options(all).positional(pos).style(style).run(), vm);
  po::notify(vm);
  return vm;
}

namespace {
bool g_echo_errors = false;
}  // namespace

void echo_errors_to_stderr(bool echo) { g_echo_errors = echo; }

int report(const Error& error) {
  std::string message = error.what();
  log::get("runtime")->error("{}", message);
  if (g_echo_errors) std::cerr << "berth: " << message << "\n";
  return 1;
}

int report(const Status& status) { return status.ok() ? 0 : report(status.error()); }

std::string require_id(const po::variables_map& vm, const Context& ctx) {
  if (!vm.count("id")) {
    throw po::error("\"" + ctx.command + "\" requires a container id");
  }
  return vm["id"].as<std::string>();
}

po::options_description create_flags(CreateOptions& o) {
  po::options_description d("options");
  d.add_options()
      ("bundle,b", po::value(&o.bundle)->default_value("."), "path to the bundle directory")
      ("console-socket", po::value(&o.console_socket), "unix socket that receives the pty master")
      ("pid-file", po::value(&o.pid_file), "file to write the container init's pid to")
      ("no-pivot", po::bool_switch(&o.no_pivot), "use MS_MOVE + chroot instead of pivot_root")
      ("no-new-keyring", po::bool_switch(&o.no_new_keyring), "keep the caller's session keyring")
      ("preserve-fds", po::value(&o.preserve_fds)->default_value(0), "pass N extra fds (from 3) to the container");
  return d;
}

}  // namespace berth::runtime::cli
