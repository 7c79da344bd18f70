// berth-shim: one per container. `start` spawns the daemon and prints its address,
// `serve` is the daemon (internal), `delete` cleans up after a shim that died.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "berth/grpc/absl_mutex_mode.h"
#include "berth/common/log.h"
#include "berth/shim/daemon.h"

namespace {

constexpr const char* kUsage =
    "usage: berth-shim start|delete|serve --id ID --bundle DIR [--namespace NS] [--runtime PATH]\n"
    "                  [--runtime-root DIR] [--address MANAGER_SOCKET] [--state-dir DIR] [--debug]\n"
    "  start   start the shim for a container (if not running) and print its address\n"
    "  delete  force the container down after its shim died; prints its exit record as JSON\n";

int report(const berth::Error& error) {
  std::fprintf(stderr, "berth-shim: %s\n", error.what().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  berth::disable_mutex_deadlock_detection();
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string verb = argv[1];
  if (verb == "--version") {
    std::printf("berth-shim %s\n", BERTH_SHIM_VERSION);
    return 0;
  }
  // SIGCHLD is read through a signalfd; blocked before any thread (gRPC's too) exists, or a
  // thread that doesn't block it would swallow it.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::pthread_sigmask(SIG_BLOCK, &chld, nullptr);
  berth::log::install({berth::log::stderr_sink("berth-shim")}, spdlog::level::info);
  auto options = berth::shim::parse_shim_options(std::vector<std::string>(argv + 2, argv + argc));
  if (!options.ok()) return report(options.error());
  if (verb == "serve") {
    int code = berth::shim::serve_shim(*options);
    // gRPC's threads may still be winding down: leave without running static destructors under them.
    spdlog::shutdown();
    std::fflush(nullptr);
    ::_exit(code);
  }
  if (verb == "start") {
    auto address = berth::shim::start_shim(*options, "/proc/self/exe");
    if (!address.ok()) return report(address.error());
    std::printf("%s\n", address->c_str());
    return 0;
  }
  if (verb == "delete") {
    auto record = berth::shim::delete_after_shim(*options);
    if (!record.ok()) return report(record.error());
    std::printf("%s\n", record->c_str());
    return 0;
  }
  std::fprintf(stderr, "berth-shim: unknown command \"%s\"\n%s", verb.c_str(), kUsage);
  return 2;
}
