// berth: a runc-compatible OCI runtime. Global flags come before the verb, as with runc.
#include <sys/prctl.h>
#include <unistd.h>

#include <iostream>
#include <map>

#include <spdlog/sinks/sink.h>

#include "berth/common/log.h"
#include "berth/runtime/sealed_binary.h"
#include "berth/runtime/spec.h"
#include "command.h"
#include "verb.h"

namespace {

using namespace berth::runtime::cli;

const std::map<std::string, int (*)(Context&)>& commands() {
  static const std::map<std::string, int (*)(Context&)> k = {
      {"create", cmd_create}, {"start", cmd_start}, {"state", cmd_state}, {"kill", cmd_kill},
      {"delete", cmd_delete}, {"run", cmd_run},     {"exec", cmd_exec},     {"list", cmd_list},   {"spec", cmd_spec},
      {"features", cmd_features}, {"pause", cmd_pause}, {"resume", cmd_resume}, {"ps", cmd_ps},
      {"update", cmd_update},     {"events", cmd_events},
  };
  return k;
}

void usage(std::ostream& out, const po::options_description& global) {
  out << "usage: berth [global options] <command> [command options] [arguments]\n\n"
         "An OCI runtime with runc's command line.\n\ncommands:\n";
  for (const auto& [name, fn] : commands()) out << "  " << name << "\n";
  out << "\n" << global;
}

int install_logging(const std::string& log_path, const std::string& format, bool debug) {
  // Errors are printed on stderr by report(); the log gets every message at the chosen level.
  std::vector<spdlog::sink_ptr> sinks;
  if (!log_path.empty()) {
    auto sink = format == "json" ? berth::log::json_file_sink(log_path) : berth::log::text_file_sink(log_path);
    if (!sink) {
      std::cerr << "berth: " << sink.error().what() << "\n";
      return 1;
    }
    sinks.push_back(*sink);
    echo_errors_to_stderr(true);
  } else {
    // Without --log, warnings (e.g. a failed poststart hook) still reach the user, as with runc.
    sinks.push_back(berth::log::stderr_sink("berth"));
    if (!debug) sinks.back()->set_level(spdlog::level::warn);
  }
  berth::log::install(sinks, debug ? spdlog::level::debug : spdlog::level::info);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Context ctx;
  std::string log_path, log_format = "text";
  bool debug = false;
  po::options_description global("global options");
  global.add_options()
      ("help,h", "show this help")
      ("version,v", "print the version")
      ("root", po::value(&ctx.global.root)->default_value(berth::runtime::kDefaultRoot),
       "directory for container state (tmpfs recommended)")
      ("log", po::value(&log_path), "log file (default: none; errors always go to stderr)")
      ("log-format", po::value(&log_format)->default_value("text"), "log format: text or json")
      ("debug", po::bool_switch(&debug), "debug logging")
      ("systemd-cgroup", po::bool_switch(&ctx.global.systemd_cgroup), "use systemd for cgroups")
      ("rootless", po::value<std::string>(), "accepted for runc compatibility (auto)")
      ("criu", po::value<std::string>(), "accepted for runc compatibility (checkpointing unsupported)");

  // Global flags end at the first positional argument: the verb.
  int verb_index = berth::runtime::cli::verb_index(argc, argv);
  try {
    po::variables_map vm;
    auto style = (po::command_line_style::default_style | po::command_line_style::allow_long_disguise) &
                 ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(std::min(verb_index, argc), argv).options(global).style(style).run(), vm);
    po::notify(vm);
    if (vm.count("version")) {
      std::cout << "berth version 0.1.0\nspec: " << berth::runtime::kOciVersion << "\n";
      return 0;
    }
    if (vm.count("help") || verb_index >= argc) {
      usage(vm.count("help") ? std::cout : std::cerr, global);
      return vm.count("help") ? 0 : 1;
    }
  } catch (const po::error& e) {
    std::cerr << "berth: " << e.what() << "\n";
    return 1;
  }
  if (log_format != "text" && log_format != "json") {
    std::cerr << "berth: --log-format: \"" << log_format << "\" is not text or json\n";
    return 1;
  }
  if (install_logging(log_path, log_format, debug) != 0) return 1;

  ctx.command = argv[verb_index];
  // Normally done already at the entry point (first_entry.cc): the fallback, with its sealed-copy
  // path where the mount API is refused, and the report of why it failed.
  bool sealed = berth::runtime::running_from_protected_binary();
  if (berth::runtime::cli::verb_enters_a_container(argv[verb_index]) && !sealed) {
    auto st = berth::runtime::reexec_from_protected_binary(argv);
    return report(st.error());
  }
  // Run from an fd, the kernel names the process after the memfd or the fd number ("4").
  if (sealed) ::prctl(PR_SET_NAME, "berth");
  for (int i = verb_index + 1; i < argc; ++i) ctx.args.emplace_back(argv[i]);
  auto it = commands().find(ctx.command);
  if (it == commands().end()) {
    if (ctx.command == "checkpoint" || ctx.command == "restore") {
      return report(berth::make_error(berth::ErrorCode::kUnimplemented,
                                      "{}: not supported by berth (no CRIU checkpoint/restore)", ctx.command));
    }
    return report(berth::make_error(berth::ErrorCode::kInvalidArgument,
                                    "unknown command \"{}\" (berth --help lists the commands)", ctx.command));
  }
  try {
    return it->second(ctx);
  } catch (const HelpShown&) {
    return 0;
  } catch (const po::error& e) {
    return report(berth::make_error(berth::ErrorCode::kInvalidArgument, "{}: {}", ctx.command, e.what()));
  }
}
