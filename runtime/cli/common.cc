#include <iostream>

#include "berth/common/log.h"
#include "command.h"

namespace berth::runtime::cli {

namespace {

constexpr int kStyle = (po::command_line_style::default_style | po::command_line_style::allow_long_disguise) &
                       ~po::command_line_style::allow_guessing;

// Whether the flag token (e.g. "--bundle", "-b", "--bundle=x") consumes the next argument.
bool takes_next_value(const po::options_description& flags, const std::string& token) {
  if (token.find('=') != std::string::npos) return false;
  std::string name = token.substr(token.find_first_not_of('-'));
  const po::option_description* d = flags.find_nothrow(name, false, false, false);
  if (d == nullptr && token.size() == 2) d = flags.find_nothrow(name, false, false, true);
  if (d == nullptr) {
    // A short flag written as "-b": look it up by its short name.
    for (const auto& o : flags.options()) {
      if (o->canonical_display_name(po::command_line_style::allow_dash_for_short) == token) d = o.get();
    }
  }
  return d != nullptr && d->semantic()->max_tokens() > 0 && !d->semantic()->is_required() &&
         d->semantic()->min_tokens() > 0;
}

}  // namespace

// As with runc, flags come before the positional arguments; everything from the first positional
// on is positional (so `exec <id> sh -c ...` passes "-c" to sh).
po::variables_map parse(const Context& ctx, const po::options_description& flags,
                        const std::vector<std::string>& positional, bool rest) {
  po::options_description all;
  all.add(flags);
  all.add_options()("help,h", "show this help");
  size_t i = 0;
  std::vector<std::string> flag_args;
  while (i < ctx.args.size() && ctx.args[i].size() > 1 && ctx.args[i][0] == '-') {
    if (ctx.args[i] == "--") {
      ++i;
      break;
    }
    flag_args.push_back(ctx.args[i]);
    if (takes_next_value(all, ctx.args[i]) && i + 1 < ctx.args.size()) flag_args.push_back(ctx.args[++i]);
    ++i;
  }
  po::variables_map vm;
  po::store(po::command_line_parser(flag_args).options(all).style(kStyle).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: berth " << ctx.command << " [options]";
    for (const auto& name : positional) std::cout << " <" << name << ">" << (rest && &name == &positional.back() ? "..." : "");
    std::cout << "\n\n" << all;
    throw HelpShown{};
  }
  std::vector<std::string> values(ctx.args.begin() + static_cast<long>(i), ctx.args.end());
  for (size_t p = 0; p < positional.size() && !values.empty(); ++p) {
    bool last = p + 1 == positional.size();
    if (last && rest) {
      vm.emplace(positional[p], po::variable_value(values, false));
      values.clear();
    } else {
      vm.emplace(positional[p], po::variable_value(values.front(), false));
      values.erase(values.begin());
    }
  }
  if (!values.empty()) throw po::error("unexpected argument \"" + values.front() + "\"");
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
