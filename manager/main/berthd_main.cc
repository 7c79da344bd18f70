// berthd: parse flags, install logging, open the daemon, serve until SIGTERM/SIGINT.
#include <malloc.h>
#include <signal.h>

#include <boost/program_options.hpp>
#include <iostream>
#include <thread>

#include "berth/grpc/absl_mutex_mode.h"
#include "berth/common/log.h"
#include "berth/common/startup_pages.h"
#include "berth/manager/daemon.h"
#include "cri/image_service.h"
#include "cri/runtime_service.h"
#include "services/build_service.h"
#include "services/network_service.h"
#include "services/search_service.h"

namespace po = boost::program_options;
using berth::manager::Daemon;
using berth::manager::DaemonConfig;

int main(int argc, char** argv) {
  // One malloc arena, not one per gRPC thread: berthd's calls are short and rarely concurrent, and
  // a dozen arenas each holding freed memory made up a third of its RSS.
  ::mallopt(M_ARENA_MAX, 1);
  berth::disable_mutex_deadlock_detection();
  DaemonConfig config;
  std::string config_file, log_level;
  po::options_description desc("Usage: berthd [options]");
  desc.add_options()("help,h", "show help")("config,c", po::value(&config_file),
                                            "JSON config file (flags override it)")(
      "address,a", po::value<std::string>(), "unix socket path (default /run/berth/berthd.sock)")(
      "root", po::value<std::string>(), "persistent data directory (default /var/lib/berth)")(
      "state", po::value<std::string>(), "runtime state directory (default /run/berth)")(
      "snapshotter", po::value<std::string>(), "overlay, native or auto (default auto)")(
      "shim", po::value<std::string>(), "berth-shim binary (default: berth-shim in PATH)")(
      "runtime", po::value<std::string>(), "the runtime called \"berth\" (default: berth in PATH)")(
      "cgroup-parent", po::value<std::string>(),
      "cgroup of the containers' cgroups (default /berth/<8 hex digits of sha256(root)>)")(
      "cri-socket", po::value<std::string>(), "Kubernetes CRI socket (default <state>/cri.sock; \"\": none)")(
      "socket-group", po::value<std::string>(),
      "group whose members may use the socket (0660; they are root-equivalent; default: \"berth\" if it "
      "exists, else root only; \"\": root only)")(
      "pause", po::value<std::string>(), "berth-pause, the pods' infra binary (default: berth-pause in PATH)")(
      "log-level", po::value(&log_level)->default_value("info"), "trace, debug, info, warn, error");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "berthd: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  berth::log::install({berth::log::stderr_sink("berthd")}, spdlog::level::from_str(log_level));
  auto logger = berth::log::get("berthd");
  if (!config_file.empty()) {
    if (auto st = berth::manager::load_config_file(config_file, config); !st) {
      logger->error("config {}: {}", config_file, st.error().what());
      return 1;
    }
  }
  if (vm.count("address")) config.address = vm["address"].as<std::string>();
  if (vm.count("root")) config.root = vm["root"].as<std::string>();
  if (vm.count("state")) config.state = vm["state"].as<std::string>();
  if (vm.count("snapshotter")) config.snapshotter = vm["snapshotter"].as<std::string>();
  if (vm.count("shim")) config.shim = vm["shim"].as<std::string>();
  if (vm.count("runtime")) config.runtime = vm["runtime"].as<std::string>();
  if (vm.count("cgroup-parent")) config.cgroup_parent = vm["cgroup-parent"].as<std::string>();
  if (vm.count("cri-socket")) config.cri_socket = vm["cri-socket"].as<std::string>();
  if (vm.count("socket-group")) config.socket_group = vm["socket-group"].as<std::string>();
  if (vm.count("pause")) config.pause = vm["pause"].as<std::string>();

  // Signals are taken synchronously by one thread, so shutdown runs outside a signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto daemon = Daemon::open(config);
  if (!daemon) {
    logger->error("{}", daemon.error().what());
    return 1;
  }
  // Every service, wired explicitly. Shims publish task events to EventSink on the same socket.
  Daemon& d = **daemon;
  berth::manager::VersionService version({d.images().snapshots().driver(), d.config().runtime, d.config().root,
                                          d.config().state, d.config().cgroup_parent});
  berth::manager::NamespacesService namespaces(d.images());
  berth::manager::ImagesService images(d.images());
  berth::manager::ContentService content(d.images());
  berth::manager::SnapshotsService snapshots(d.images());
  berth::manager::LeasesService leases(d.images());
  berth::manager::EventsService events(d.events(), d.stopping());
  berth::manager::TransferService transfer(d.images(), d.scratch_dir());
  berth::manager::ContainersService containers(d.tasks(), d.images());
  berth::manager::TasksService tasks(d.tasks());
  berth::manager::TaskEventSink event_sink(d.tasks());
  berth::manager::VolumesService volumes(d.tasks());
  berth::manager::NetworksService networks(d.networks());
  berth::manager::BuildService build(d.tasks(), d.images(), d.scratch_dir());
  berth::manager::SearchService search(d.images());
  if (auto st = d.start({&version, &namespaces, &images, &content, &snapshots, &leases, &events, &transfer,
                         &containers, &tasks, &event_sink, &volumes, &networks, &build, &search});
      !st) {
    logger->error("{}", st.error().what());
    return 1;
  }
  // The Kubernetes CRI on its own socket, over the same managers.
  berth::manager::cri::CriOptions cri_options{d.pause_binary()};
  cri_options.pods_dir = berth::manager::cri::pods_dir(d.config().state);
  berth::manager::cri::RuntimeService cri_runtime(d.tasks(), d.images(), d.networks(), cri_options);
  berth::manager::cri::ImageService cri_images(d.images(), d.config().root + "/snapshots");
  if (auto st = cri_runtime.start_streaming({}); !st) {  // loopback, a port the kernel picks
    logger->error("CRI streaming server: {}", st.error().what());
    d.shutdown();
    return 1;
  }
  if (auto st = d.start_cri({&cri_runtime, &cri_images}); !st) {
    logger->error("{}", st.error().what());
    d.shutdown();
    return 1;
  }
  // Serving now: what start-up alone ran (gRPC's plugin registry, recovery, OpenSSL's config
  // loader) need not stay mapped; see startup_pages.h.
  logger->debug("dropped {} KiB of start-up code pages", berth::drop_startup_file_pages());
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    logger->info("signal {}: shutting down", sig);
    (*daemon)->shutdown();
  });
  (*daemon)->wait();
  waiter.join();
  cri_runtime.stop_streaming();  // its sessions use the TaskManager, which goes with the daemon
  logger->info("stopped");
  return 0;
}
