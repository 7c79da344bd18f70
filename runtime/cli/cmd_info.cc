// list, spec, features: verbs that report rather than act.
#include <fcntl.h>
#include <unistd.h>

#include <iostream>

#include "berth/common/fs.h"
#include "command.h"

namespace berth::runtime::cli {

int cmd_list(Context& ctx) {
  std::string format = "table";
  bool quiet = false;
  po::options_description flags("options");
  flags.add_options()("format,f", po::value(&format)->default_value("table"), "table or json")(
      "quiet,q", po::bool_switch(&quiet), "print only the ids");
  parse(ctx, flags, {});
  if (format != "table" && format != "json") {
    return report(make_error(ErrorCode::kInvalidArgument, "--format: \"{}\" is not table or json", format));
  }
  auto entries = list_containers(ctx.global);
  if (!entries) return report(entries.error());
  if (quiet) {
    for (const auto& e : *entries) std::cout << e.state.id << "\n";
  } else if (format == "json") {
    std::cout << list_json(*entries) << "\n";
  } else {
    std::cout << list_table(*entries);
  }
  return 0;
}

int cmd_spec(Context& ctx) {
  std::string bundle = ".";
  bool rootless = false;
  po::options_description flags("options");
  flags.add_options()("bundle,b", po::value(&bundle)->default_value("."), "directory to write config.json into")(
      "rootless", po::bool_switch(&rootless), "a spec for a rootless container");
  parse(ctx, flags, {});
  std::string path = join_path(bundle, "config.json");
  if (path_exists(path)) {
    return report(make_error(ErrorCode::kAlreadyExists, "{} already exists; remove it first", path));
  }
  return report(write_file_atomic(path, default_spec_json(rootless) + "\n", 0644));
}

int cmd_features(Context& ctx) {
  parse(ctx, po::options_description("options"), {});
  std::cout << features_json() << "\n";
  return 0;
}

}  // namespace berth::runtime::cli
