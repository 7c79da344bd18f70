// The `berth` CLI: one short file per verb, each parsing its flags and calling the library.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "berth/common/error.h"
#include "berth/runtime/container.h"

namespace berth::runtime::cli {

namespace po = boost::program_options;

struct Context {
  GlobalOptions global;
  std::string command;
  std::vector<std::string> args;  // after the verb
};

// Parses a verb's flags; positional names in order ("id", "signal"...), the last may repeat when
// `rest` is set. Throws po::error on bad input (main turns it into a usage error).
po::variables_map parse(const Context& ctx, const po::options_description& flags,
                        const std::vector<std::string>& positional, bool rest = false);

// Thrown by parse() after printing a verb's usage for -h/--help; main exits 0.
struct HelpShown {};

// Logs the error (to --log when given) and prints it on stderr; returns the exit code (1).
int report(const Error& error);
int report(const Status& status);
// With --log the log gets the error; it is echoed on stderr too (the stderr sink does it otherwise).
void echo_errors_to_stderr(bool echo);

// The container id argument, with runc's message when it's missing.
std::string require_id(const po::variables_map& vm, const Context& ctx);

int cmd_create(Context& ctx);
int cmd_start(Context& ctx);
int cmd_state(Context& ctx);
int cmd_kill(Context& ctx);
int cmd_delete(Context& ctx);
int cmd_run(Context& ctx);
int cmd_exec(Context& ctx);
int cmd_pause(Context& ctx);
int cmd_resume(Context& ctx);
int cmd_ps(Context& ctx);
int cmd_update(Context& ctx);
int cmd_events(Context& ctx);
int cmd_list(Context& ctx);
int cmd_spec(Context& ctx);
int cmd_features(Context& ctx);

// Flags shared by create and run.
po::options_description create_flags(CreateOptions& options);

}  // namespace berth::runtime::cli
