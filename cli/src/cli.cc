#include "berth/cli/cli.h"

#include <boost/program_options.hpp>
#include <cstdlib>
#include <algorithm>
#include <map>
#include <set>
#include <ostream>

#include "berth/common/ids.h"
#include "berth/common/json.h"
#include "berth/grpc/status.h"
#include "context.h"
#include "build_commands.h"
#include "storage_commands.h"
#include "distribution_commands.h"
#include "network_commands.h"
#include "output.h"

namespace berth::cli {
namespace po = boost::program_options;

Status validate_namespace_name(std::string_view name) { return validate_id(IdKind::kNamespace, name); }

std::unique_ptr<grpc::ClientContext> Context::call() const {
  auto c = std::make_unique<grpc::ClientContext>();
  c->AddMetadata("berth-namespace", ns);
  return c;
}

Error from_grpc(const grpc::Status& status) {
  // gRPC's own words for a socket it could not use; berthd's UNAVAILABLE errors (a registry that
  // can't be reached) say what they are about themselves.
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      status.error_message().starts_with("failed to connect to all addresses")) {
    // A socket the user may not open: say what docker says of its group.
    if (status.error_message().find("Permission denied") != std::string::npos)
      return make_error(ErrorCode::kPermissionDenied,
                        "permission denied while trying to connect to berthd's socket (is the user in the 'berth' "
                        "group? see docs/security.md): {}",
                        status.error_message());
    return make_error(ErrorCode::kUnavailable, "cannot reach berthd: {}", status.error_message());
  }
  return from_grpc_status(status);
}

Status events(Context& ctx, const std::vector<std::string>& args) {
  pb::SubscribeRequest req;
  for (const auto& a : args) req.add_topic_prefixes(a);
  auto call = ctx.call();
  auto reader = pb::Events::NewStub(ctx.channel)->Subscribe(call.get(), req);
  pb::Event e;
  while (reader->Read(&e)) {
    if (ctx.json) {
      json::Writer w;
      w.begin_object()
          .field("topic", e.topic())
          .field("namespace", e.namespace_())
          .field("subject", e.subject())
          .field("timestamp", static_cast<int64_t>(e.timestamp_unix_nano()))
          .end_object();
      ctx.out << w.str() << "\n" << std::flush;
    } else {
      ctx.out << format_time(e.timestamp_unix_nano() / 1000000000) << " " << e.topic() << " "
              << e.namespace_() << " " << e.subject() << "\n"
              << std::flush;
    }
  }
  grpc::Status st = reader->Finish();
  return st.ok() ? Status{} : Status(from_grpc(st));
}

Status version(Context& ctx, const std::vector<std::string>& args) {
  if (!args.empty()) throw UsageError("usage: berthctl version");
  pb::VersionResponse resp;
  BERTH_TRY(
      rpc(ctx, [&](grpc::ClientContext* c) { return pb::Version::NewStub(ctx.channel)->Get(c, {}, &resp); }));
  if (ctx.json) {
    json::Writer w;
    w.begin_object().field("client", "0.1.0").field("server", resp.version()).end_object();
    ctx.out << w.str() << "\n";
  } else {
    ctx.out << "Client: 0.1.0\nServer: " << resp.version() << "\n";
  }
  return {};
}

namespace {

const std::map<std::string, std::map<std::string, Verb>>& groups() {
  static const std::map<std::string, std::map<std::string, Verb>> kGroups = {
      {"image",
       {{"pull", image_pull},
        {"ls", image_ls},
        {"list", image_ls},
        {"rm", image_rm},
        {"inspect", image_inspect},
        {"tag", image_tag},
        {"import", image_import},
        {"prune", image_prune},
        {"export", image_export},
        {"push", image_push}}},
      {"content", {{"ls", content_ls}, {"get", content_get}, {"push", content_push}, {"rm", content_rm}}},
      {"snapshot",
       {{"prepare", snapshot_prepare},
        {"view", snapshot_view},
        {"commit", snapshot_commit},
        {"ls", snapshot_ls},
        {"mounts", snapshot_mounts},
        {"rm", snapshot_rm},
        {"usage", snapshot_usage},
        {"tree", snapshot_tree}}},
      {"volume",
       {{"ls", volume_ls},
        {"list", volume_ls},
        {"rm", volume_rm},
        {"create", volume_create},
        {"inspect", volume_inspect},
        {"prune", volume_prune}}},
      {"network",
       {{"create", network_create}, {"ls", network_ls}, {"list", network_ls}, {"inspect", network_inspect},
        {"rm", network_rm}, {"connect", network_connect}, {"disconnect", network_disconnect}}},
      {"namespace", {{"ls", namespace_ls}, {"create", namespace_create}, {"rm", namespace_rm}}},
      {"container",
       {{"ls", container_ls}, {"list", container_ls}, {"rm", rm}, {"inspect", inspect}, {"start", start}, {"attach", attach}, {"top", top}, {"stats", stats},
        {"prune", container_prune}, {"wait", wait}, {"create", create}, {"rename", rename}, {"cp", cp}}},
      {"system", {{"df", system_df}, {"info", info}}},
      {"task", {{"ls", task_ls}, {"list", task_ls}, {"kill", kill}, {"rm", task_rm}, {"exec", exec},
                {"pause", pause}, {"resume", unpause}}},
  };
  return kGroups;
}

const std::map<std::string, Verb>& top_level() {
  static const std::map<std::string, Verb> kVerbs = {{"events", events},
                                                     {"version", version},
                                                     {"pull", image_pull},
                                                     {"push", image_push},
                                                     {"login", login},
                                                     {"logout", logout},
                                                     {"history", history},
                                                     {"commit", commit},
                                                     {"build", build},
                                                     {"diff", diff},
                                                     {"tag", image_tag},
                                                     {"images", image_ls},
                                                     {"rmi", image_rm},
                                                     {"run", run},
                                                     {"create", create},
                                                     {"rename", rename},
                                                     {"cp", cp},
                                                     {"ps", ps},
                                                     {"port", port},
                                                     {"logs", logs},
                                                     {"stop", stop},
                                                     {"kill", kill},
                                                     {"rm", rm},
                                                     {"exec", exec},
                                                     {"pause", pause},
                                                     {"unpause", unpause},
                                                     {"attach", attach},
                                                     {"start", start},
                                                     {"restart", restart},
                                                     {"update", update},
                                                     {"top", top},
                                                     {"stats", stats},
                                                     {"inspect", inspect},
                                                     {"wait", wait},
                                                     {"info", info},
                                                     {"save", save},
                                                     {"load", load},
                                                     {"export", export_container},
                                                     {"import", import_rootfs},
                                                     {"search", search}};
  return kVerbs;
}

std::string usage_text() {
  std::string text =
      "Usage: berthctl [--address PATH] [--namespace NS] [--format table|json] COMMAND ...\n\nCommands:\n";
  for (const auto& [group, verbs] : groups()) {
    text += "  " + group + " ";
    std::string names;
    for (const auto& [verb, fn] : verbs) names += (names.empty() ? "" : "|") + verb;
    text += names + "\n";
  }
  text += "  events [TOPIC-PREFIX...]\n  version\n  info\n  pull REF | images | rmi REF | tag SOURCE TARGET   (aliases)\n";
  text += "  push [--platform os/arch] [-q] NAME[:TAG]\n";
  text += "  login [-u USER] [--password-stdin] [SERVER] | logout [SERVER]\n";
  text += "  history [--no-trunc] [-q] IMAGE | image inspect IMAGE...\n";
  text += "  commit [-m MSG] [-a AUTHOR] [-c INSTR]... [-p=false] CONTAINER REPO[:TAG] | diff CONTAINER\n";
  text += "  build [-t NAME[:TAG]]... [-f FILE] [--build-arg K=V]... [--target STAGE] [--no-cache] [-q] CONTEXT\n";
  text += "  save [-o FILE] [--format docker-archive|oci-archive] IMAGE... | load [-i FILE] [-q]\n";
  text += "  system df [-v] | system info\n";
  text += "  export [-o FILE] CONTAINER | import [-c INSTR]... [-m MSG] FILE|URL|- [REPO[:TAG]]\n";
  text += "  search [--limit N] [--filter K=V] [--no-trunc] [--format F] REGISTRY/TERM\n";
  text +=
      "  run [--rm] [-d] [--name N] [-e K=V] [-w DIR] [-u USER] [-i] [-t] [--runtime R] [--entrypoint P]\n"
      "      [-v SRC:DST[:ro]|-v /DST] [--volumes-from C[:ro]] [--pull missing|always|never]\n"
      "      [-m SIZE] [--cpus N] [--pids-limit N] [--security-opt seccomp=unconfined] IMAGE [CMD...]\n"
      "  create [the flags of run but -d] IMAGE [CMD...]   (created, not started: start [-a] [-i] runs it)\n"
      "  rename CONTAINER NEW-NAME\n"
      "  cp [-a] [-L] CONTAINER:SRC_PATH DEST_PATH|- | cp [-a] [-L] SRC_PATH|- CONTAINER:DEST_PATH\n"
      "  ps [-a] [-q] | logs [-f] [--tail N] ID | stop [-t S] ID... | kill [-s SIG] ID... | rm [-f] [-v] ID...\n"
      "  exec [-i] [-t] [-e K=V] [-w DIR] ID CMD... | pause ID... | unpause ID...\n"
      "  start [-a] [-i] ID... | restart [-t S] ID... | attach [--no-stdin] ID | logs [-f] [-t] [--since T] ID\n"
      "  top ID | stats [--no-stream] ID... | inspect NAME... | wait ID...\n"
      "  update [-m SIZE] [--memory-swap SIZE] [--cpus N] [--pids-limit N] [--cpu-shares N] ID...\n"
      "  (attached with -it: Ctrl-P Ctrl-Q detaches and leaves the container running)\n";
  return text;
}

// `VERB --help`: the lines of the usage that show the verb (or its group), on stdout.
std::string verb_help(const std::string& verb) {
  std::string text = usage_text(), out;
  bool matched = false;
  for (size_t start = 0; start < text.size();) {
    size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl - start + 1);
    start = nl + 1;
    if (line.starts_with("      ")) {  // a continuation of the line before
      if (matched) out += line;
      continue;
    }
    matched = false;
    for (const std::string& form : {"  " + verb + " ", "  " + verb + "\n", "| " + verb + " ", "| " + verb + "\n"})
      matched = matched || line.find(form) != std::string::npos;
    if (matched) out += line;
  }
  return "Usage of berthctl " + verb + ":\n" + out;
}

}  // namespace

namespace {

// BERTH_HOST, as DOCKER_HOST is for docker (BERTH_ADDRESS is read too, for ctr's habit).
std::string default_address() {
  for (const char* name : {"BERTH_HOST", "BERTH_ADDRESS"}) {
    const char* v = std::getenv(name);
    if (v && *v) return v;
  }
  return "/run/berth/berthd.sock";
}

Result<std::string> socket_path(const std::string& address) {
  if (address.starts_with("unix://")) return address.substr(7);
  if (address.find("://") != std::string::npos)
    return make_error(ErrorCode::kInvalidArgument, "--host {:?}: berthd listens on a unix socket only (unix://PATH)",
                      address);
  return address;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string address = default_address(), ns = "default", format = "table";
  po::options_description global("Global options");
  global.add_options()("help,h", "show help")("host,H", po::value(&address),
                                              "berthd socket: unix://PATH or PATH (default $BERTH_HOST, "
                                              "else /run/berth/berthd.sock)")(
      "address", po::value(&address), "the same as --host")(
      "namespace,n", po::value(&ns), "namespace (default \"default\")")("format", po::value(&format),
                                                                        "table or json");
  std::vector<std::string> rest;
  // Global flags may appear anywhere for the image/store verbs. After run and exec everything belongs
  // to the container's command line ("run IMAGE echo -n hi"); after the other container verbs only
  // the long forms are global (their own -a/-n/-f mean other things).
  static const std::set<std::string> kContainerVerbs = {"run", "create", "rename", "cp", "exec", "ps", "logs", "stop", "kill", "rm",
                                                        "start", "restart", "attach", "top", "stats", "inspect", "update", "wait",
                                                        "save", "search", "export", "import"};
  static const std::set<std::string> kOwnFormatVerbs = {"save", "search"};
  std::vector<std::string> globals = args, verbatim;
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& a = args[i];
    if (a == "--address" || a == "-H" || a == "--host" || a == "--namespace" || a == "-n" || a == "--format") {
      i++;
      continue;
    }
    if (a.empty() || a[0] == '-') continue;
    size_t verb_end = i + 1;
    if ((a == "container" || a == "task") && i + 1 < args.size()) verb_end = i + 2;
    const std::string& v = args[verb_end - 1];
    if (!kContainerVerbs.contains(v) && !(a == "container" || a == "task")) break;
    globals.assign(args.begin(), args.begin() + static_cast<long>(verb_end));
    for (size_t j = verb_end; j < args.size(); j++) {
      const std::string& b = args[j];
      bool own_format = kOwnFormatVerbs.contains(v);  // their --format is theirs, not the output's
      bool global_long = (b == "--format" && !own_format) || b == "--address" || b == "--namespace";
      bool global_eq = (b.rfind("--format=", 0) == 0 && !own_format) || b.rfind("--address=", 0) == 0 ||
                       b.rfind("--namespace=", 0) == 0;
      bool takes_command = v == "run" || v == "create" || v == "exec";
      if (!takes_command && global_long && j + 1 < args.size()) {
        globals.push_back(b);
        globals.push_back(args[++j]);
      } else if (!takes_command && global_eq) {
        globals.push_back(b);
      } else {
        verbatim.push_back(b);
      }
    }
    break;
  }
  try {
    auto parsed = po::command_line_parser(globals).options(global).allow_unregistered().run();
    po::variables_map vm;
    po::store(parsed, vm);
    po::notify(vm);
    rest = po::collect_unrecognized(parsed.options, po::include_positional);
    rest.insert(rest.end(), verbatim.begin(), verbatim.end());
    if (vm.count("help") && !rest.empty()) {  // "images --help", "volume prune --help"
      out << verb_help(rest[0]);
      return 0;
    }
    if (vm.count("help") || rest.empty()) {
      (rest.empty() && !vm.count("help") ? err : out) << usage_text();
      return rest.empty() && !vm.count("help") ? 2 : 0;
    }
    if (format != "table" && format != "json") throw UsageError("--format must be table or json");
    auto socket = socket_path(address);
    if (!socket) throw UsageError(socket.error().what());
    address = *socket;
  } catch (const std::exception& e) {
    err << "berthctl: " << e.what() << "\n";
    return 2;
  }
  Verb verb = nullptr;
  std::vector<std::string> verb_args;
  if (auto it = top_level().find(rest[0]); it != top_level().end()) {
    verb = it->second;
    verb_args.assign(rest.begin() + 1, rest.end());
  } else if (auto g = groups().find(rest[0] == "images" ? "image" : rest[0]); g != groups().end()) {
    if (rest.size() < 2 || !g->second.count(rest[1])) {
      err << "berthctl: unknown or missing " << rest[0] << " command\n" << usage_text();
      return 2;
    }
    verb = g->second.at(rest[1]);
    verb_args.assign(rest.begin() + 2, rest.end());
  } else {
    err << "berthctl: unknown command \"" << rest[0] << "\"\n" << usage_text();
    return 2;
  }
  // Every verb's --help prints its usage and exits 0 (after run/exec's IMAGE/CONTAINER a --help is the
  // command's own).
  {
    size_t end = verb_args.size();
    if (rest[0] == "run" || rest[0] == "create" || rest[0] == "exec") {
      end = 0;
      while (end < verb_args.size() && verb_args[end].starts_with("-")) end++;
    }
    if (std::find(verb_args.begin(), verb_args.begin() + static_cast<long>(end), "--help") !=
        verb_args.begin() + static_cast<long>(end)) {
      out << verb_help(rest[0]);
      return 0;
    }
  }
  // The namespace travels as gRPC metadata, where a non-ASCII value aborts the gRPC library (an
  // assertion, exit 134): checked here with berthd's own rule, failing as berthd would (exit 1).
  if (Status st = validate_namespace_name(ns); !st) {
    err << "berthctl: " << st.error().message() << "\n";
    return 1;
  }
  Context ctx{address, ns,  format == "json",
              out,     err, grpc::CreateChannel("unix:" + address, grpc::InsecureChannelCredentials())};
  try {
    Status st = verb(ctx, verb_args);
    if (!st) {
      err << "berthctl: " << st.error().what() << "\n";
      return ctx.failure_code.value_or(1);
    }
    return ctx.exit_code;
  } catch (const UsageError& e) {
    err << "berthctl: " << e.what() << "\n";
    return ctx.failure_code.value_or(2);
  } catch (const po::error& e) {
    err << "berthctl: " << e.what() << "\n";
    return ctx.failure_code.value_or(2);
  }
  return 0;
}

}  // namespace berth::cli
