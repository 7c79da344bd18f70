#include "distribution_commands.h"

#include <unistd.h>

#include <termios.h>

#include <boost/program_options.hpp>
#include <iostream>
#include <iterator>
#include <ostream>

#include "berth/common/json.h"
#include "docker_config.h"
#include "output.h"
#include "pull_progress.h"

namespace berth::cli {
namespace po = boost::program_options;

namespace {

// A line typed at the terminal, echoed or not.
std::string prompt(std::ostream& err, const char* what, bool echo) {
  err << what << std::flush;
  termios saved{};
  bool tty = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (tty && !echo) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty && !echo) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    err << "\n";
  }
  return line;
}

}  // namespace

std::vector<std::string> parse_verb_args(const std::vector<std::string>& args, po::options_description& desc) {
  std::vector<std::string> positional;
  desc.add_options()("positional-args", po::value(&positional));
  po::positional_options_description pos;
  pos.add("positional-args", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  return positional;
}

Result<std::string> credentials_for_reference(const std::string& reference) {
  return stored_credentials(docker_config_path(), registry_of(reference));
}

Status login(Context& ctx, const std::vector<std::string>& args) {
  po::options_description desc("login options");
  std::string user, password;
  bool password_stdin = false;
  desc.add_options()("username,u", po::value(&user), "user name")(
      "password,p", po::value(&password), "password (visible to other users: prefer --password-stdin)")(
      "password-stdin", po::bool_switch(&password_stdin), "read the password from stdin");
  std::vector<std::string> positional = parse_verb_args(args, desc);
  if (positional.size() > 1) throw UsageError("usage: berthctl login [-u USER] [--password-stdin] [SERVER]");
  if (password_stdin && !password.empty()) throw UsageError("--password and --password-stdin are exclusive");
  std::string server = positional.empty() ? "docker.io" : positional[0];
  if (!password.empty()) ctx.err << "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n";
  if (password_stdin) {
    if (user.empty()) throw UsageError("--password-stdin needs --username");
    password.assign(std::istreambuf_iterator<char>(std::cin), {});
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
  }
  if (user.empty()) user = prompt(ctx.err, "Username: ", true);
  if (password.empty() && !password_stdin) password = prompt(ctx.err, "Password: ", false);
  if (user.empty() || password.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "login to {}: a user name and a password are required", server);
  }
  pb::LoginRequest req;
  req.set_server(server);
  req.set_credentials(user + ":" + password);
  pb::Empty resp;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) { return pb::Transfer::NewStub(ctx.channel)->Login(c, req, &resp); }));
  BERTH_TRY(store_credentials(docker_config_path(), server, user, password));
  ctx.out << "Login Succeeded\n";
  return {};
}

Status logout(Context& ctx, const std::vector<std::string>& args) {
  if (args.size() > 1) throw UsageError("usage: berthctl logout [SERVER]");
  std::string server = args.empty() ? "docker.io" : args[0];
  BERTH_ASSIGN_OR_RETURN(bool removed, remove_credentials(docker_config_path(), server));
  if (removed) {
    ctx.out << "Removing login credentials for " << config_key(server) << "\n";
  } else {
    ctx.err << "Not logged in to " << config_key(server) << "\n";
  }
  return {};
}

Status image_push(Context& ctx, const std::vector<std::string>& args) {
  po::options_description desc("push options");
  std::string platform;
  int64_t chunk_size = 0;
  bool quiet = false;
  desc.add_options()("platform", po::value(&platform), "push only this platform of a multi-platform image")(
      "chunk-size", po::value(&chunk_size), "upload blobs larger than this many bytes in chunks of it")(
      "quiet,q", po::bool_switch(&quiet), "no progress");
  std::vector<std::string> positional = parse_verb_args(args, desc);
  require_args(positional, 1, "push [--platform os/arch] [-q] NAME[:TAG]");

  pb::PushRequest req;
  req.set_reference(positional[0]);
  req.set_platform(platform);
  req.set_chunk_size(chunk_size);
  BERTH_ASSIGN_OR_RETURN(std::string credentials, credentials_for_reference(positional[0]));
  req.set_credentials(credentials);
  auto call = ctx.call();
  auto reader = pb::Transfer::NewStub(ctx.channel)->Push(call.get(), req);
  bool show = !ctx.json && !quiet;
  if (show) ctx.err << "The push refers to repository [" << positional[0] << "]\n";
  PullProgressView view(ctx.err, !ctx.json && ::isatty(STDERR_FILENO));
  pb::PullProgress p, last;
  while (reader->Read(&p)) {
    if (!p.digest().empty()) {
      last = p;
    } else if (show) {
      view.update(p);
    }
  }
  grpc::Status st = reader->Finish();
  if (!st.ok()) return from_grpc(st);
  if (ctx.json) {
    json::Writer w;
    w.begin_object().field("name", last.ref()).field("digest", last.digest()).field("size", last.total()).end_object();
    ctx.out << w.str() << "\n";
    return {};
  }
  std::string tag = last.ref().substr(last.ref().find_last_of(":/") + 1);
  ctx.out << tag << ": digest: " << last.digest() << " size: " << last.total() << "\n";
  return {};
}

}  // namespace berth::cli
