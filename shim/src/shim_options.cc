#include "berth/shim/shim_options.h"

#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdlib>

#include "berth/common/fs.h"
#include "berth/common/ids.h"
#include "berth/common/path_lookup.h"

namespace berth::shim {
namespace po = boost::program_options;
namespace {

Result<std::string> find_runtime(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    char* real = ::realpath(name.c_str(), nullptr);
    if (!real) return sys_error("runtime {}", name);
    std::string path(real);
    std::free(real);
    return path;
  }
  if (auto found = berth::find_in_path(name)) return *found;
  return make_error(ErrorCode::kNotFound, "runtime \"{}\" is not in PATH", name);
}

}  // namespace

Result<ShimOptions> parse_shim_options(const std::vector<std::string>& args) {
  ShimOptions o;
  po::options_description desc("berth-shim options");
  desc.add_options()
      ("namespace,n", po::value(&o.ns)->default_value("default"), "the manager's namespace of the container")
      ("id", po::value(&o.id)->required(), "container id")
      ("bundle", po::value(&o.bundle)->required(), "bundle directory (config.json, rootfs)")
      ("runtime", po::value(&o.runtime)->default_value("berth"), "runc-compatible runtime binary")
      ("runtime-root", po::value(&o.runtime_root), "the runtime's --root (default /run/berth/runtime/<namespace>)")
      ("address", po::value(&o.address), "the manager's event socket path")
      ("state-dir", po::value(&o.state_dir)->default_value("/run/berth/s"), "where shim sockets live")
      ("debug", po::bool_switch(&o.debug), "debug logging")
      ("ready-fd", po::value(&o.ready_fd)->default_value(-1), "internal: start-up report fd")
      ("runtime-fd", po::value(&o.runtime_fd)->default_value(-1), "internal: sealed copy of the runtime (from berthd)");
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return make_error(ErrorCode::kInvalidArgument, "{}", e.what());
  }
  if (Status st = validate_id(IdKind::kRuntimeId, o.id); !st) return std::move(st).error().wrap("--id");
  if (Status st = validate_id(IdKind::kNamespace, o.ns); !st) return std::move(st).error().wrap("--namespace");
  char* bundle = ::realpath(o.bundle.c_str(), nullptr);
  if (!bundle) return sys_error("--bundle {}", o.bundle);
  o.bundle = bundle;
  std::free(bundle);
  BERTH_ASSIGN_OR_RETURN(o.runtime, find_runtime(o.runtime));
  if (o.runtime_root.empty()) o.runtime_root = "/run/berth/runtime/" + o.ns;
  return o;
}

std::vector<std::string> shim_option_args(const ShimOptions& o) {
  std::vector<std::string> args = {"--namespace", o.ns,           "--id",           o.id,
                                   "--bundle",    o.bundle,       "--runtime",      o.runtime,
                                   "--runtime-root", o.runtime_root, "--state-dir", o.state_dir};
  if (!o.address.empty()) args.insert(args.end(), {"--address", o.address});
  if (o.debug) args.push_back("--debug");
  return args;
}

std::string shim_socket_path(const ShimOptions& options) {
  // FNV-1a: stable across builds and short; a collision would only make `start` refuse.
  uint64_t h = 14695981039346656037ULL;
  for (char c : options.ns + "/" + options.id) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return fmt::format("{}/{:016x}.sock", options.state_dir, h);
}

}  // namespace berth::shim
