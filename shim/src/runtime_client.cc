#include "berth/shim/runtime_client.h"

#include <sys/stat.h>

#include "berth/common/fs.h"
#include "berth/common/json.h"

namespace berth::shim {
namespace {

size_t file_size(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

ErrorCode classify(std::string_view message) {
  if (message.find("does not exist") != std::string_view::npos ||
      message.find("not found") != std::string_view::npos)
    return ErrorCode::kNotFound;
  if (message.find("already exists") != std::string_view::npos) return ErrorCode::kAlreadyExists;
  return ErrorCode::kFailedPrecondition;
}

}  // namespace

std::string last_log_error(const std::string& log_path, size_t offset) {
  auto text = read_file(log_path, 64 << 20);
  if (!text.ok() || text->size() <= offset) return {};
  std::string_view rest(text->data() + offset, text->size() - offset);
  std::string found;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    auto tree = json::parse(line, "runtime log");
    if (!tree.ok()) continue;
    auto root = json::root(*tree);
    auto level = root.get("level");
    auto msg = root.get("msg");
    if (!level || !msg) continue;
    auto lv = level->as_string();
    if (lv.ok() && (*lv == "error" || *lv == "fatal")) found = msg->as_string().value_or("");
  }
  return found;
}

Result<CommandOutput> RuntimeClient::run(std::vector<std::string> verb_args, const std::string& input,
                                         RuntimeStdio* stdio) {
  CommandSpec spec;
  spec.argv = {config_.binary, "--root", config_.root, "--log", config_.log_path, "--log-format", "json"};
  spec.argv.insert(spec.argv.end(), verb_args.begin(), verb_args.end());
  spec.path = config_.exec_path;
  spec.input = input;
  if (stdio) {
    spec.stdin_fd = stdio->in;
    spec.stdout_fd = stdio->out;
    spec.stderr_fd = stdio->err;
  }
  size_t offset = file_size(config_.log_path);
  BERTH_ASSIGN_OR_RETURN(auto out, runner_.run(spec));
  if (out.status.success()) return out;
  std::string message = last_log_error(config_.log_path, offset);
  if (message.empty()) message = out.err.empty() ? out.out : out.err;
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (message.empty()) message = fmt::format("exit status {}", out.status.shell_code());
  return Error(classify(message), fmt::format("{} {}: {}", basename_of(config_.binary), verb_args.at(0), message));
}

Status RuntimeClient::create(const std::string& id, const std::string& bundle, const std::string& pid_file,
                             const std::string& console_socket, RuntimeStdio stdio) {
  std::vector<std::string> args = {"create", "--bundle", bundle, "--pid-file", pid_file};
  if (!console_socket.empty()) args.insert(args.end(), {"--console-socket", console_socket});
  args.push_back(id);
  BERTH_TRY(run(args, {}, &stdio));
  return ok_status();
}

Status RuntimeClient::start(const std::string& id) {
  BERTH_TRY(run({"start", id}));
  return ok_status();
}

Status RuntimeClient::exec(const std::string& id, const std::string& process_file, const std::string& pid_file,
                           const std::string& console_socket, RuntimeStdio stdio) {
  std::vector<std::string> args = {"exec", "--detach", "--process", process_file, "--pid-file", pid_file};
  if (!console_socket.empty()) args.insert(args.end(), {"--console-socket", console_socket});
  args.push_back(id);
  BERTH_TRY(run(args, {}, &stdio));
  return ok_status();
}

Status RuntimeClient::kill(const std::string& id, int signal, bool all) {
  std::vector<std::string> args = {"kill"};
  if (all) args.push_back("--all");
  args.insert(args.end(), {id, std::to_string(signal)});
  BERTH_TRY(run(args));
  return ok_status();
}

Status RuntimeClient::remove(const std::string& id, bool force) {
  std::vector<std::string> args = {"delete"};
  if (force) args.push_back("--force");
  args.push_back(id);
  BERTH_TRY(run(args));
  return ok_status();
}

Status RuntimeClient::pause(const std::string& id) {
  BERTH_TRY(run({"pause", id}));
  return ok_status();
}

Status RuntimeClient::resume(const std::string& id) {
  BERTH_TRY(run({"resume", id}));
  return ok_status();
}

Result<std::vector<pid_t>> RuntimeClient::pids(const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto out, run({"ps", "--format", "json", id}));
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(out.out, "ps output"));
  BERTH_ASSIGN_OR_RETURN(auto items, json::root(tree).as_array());
  std::vector<pid_t> pids;
  for (const auto& item : items) {
    BERTH_ASSIGN_OR_RETURN(auto pid, item.as_int32());
    pids.push_back(pid);
  }
  return pids;
}

Result<std::string> RuntimeClient::stats(const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(auto out, run({"events", "--stats", id}));
  return std::move(out.out);
}

Status RuntimeClient::update(const std::string& id, const std::string& resources_json) {
  BERTH_TRY(run({"update", "--resources", "-", id}, resources_json));
  return ok_status();
}

}  // namespace berth::shim
