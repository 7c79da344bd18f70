#include "bundle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "berth/common/fs.h"

namespace berth::test {

bool busybox_available() { return ::access("/bin/busybox", X_OK) == 0; }
bool runc_available() { return ::access(kRunc, X_OK) == 0; }

Bundle::Bundle() : dir_(std::move(TempDir::create("/tmp/berth-it-").value())) {
  std::string bin = rootfs() + "/bin";
  EXPECT_TRUE(make_dirs(bin).ok());
  auto cp = run_command({"/bin/cp", "/bin/busybox", bin + "/busybox"});
  EXPECT_TRUE(cp.ok() && cp->status.success());
  for (const char* applet : {"sh", "ls", "cat", "echo", "id", "hostname", "ps", "mount", "sleep", "true", "touch",
                             "readlink", "stat", "umask", "pwd", "env", "grep", "wc", "mkdir", "domainname", "uname"}) {
    EXPECT_EQ(::symlink("busybox", (bin + "/" + applet).c_str()), 0);
  }
  auto spec = berth({"spec", "--bundle", dir()});
  EXPECT_TRUE(spec.status.success()) << spec.err;
  // A cgroup of its own per bundle: tests run in parallel and reuse short container ids, and the
  // default cgroup path (/berth/<id>) would make them share (and kill) each other's cgroups.
  edit(".process.terminal=false | .linux.cgroupsPath=\"/berth-test-" + basename_of(dir()) + "\"");
}

void Bundle::edit(const std::string& jq_filter) {
  std::string path = dir() + "/config.json";
  auto out = run_command({"/usr/bin/jq", jq_filter, path});
  ASSERT_TRUE(out.ok() && out->status.success()) << jq_filter << ": " << (out.ok() ? out->err : "");
  ASSERT_TRUE(write_file_atomic(path, out->out, 0644).ok());
}

void Bundle::set_args(const std::vector<std::string>& args) {
  std::string list;
  for (const auto& a : args) list += (list.empty() ? "" : ",") + json::quote(a);
  edit(".process.args=[" + list + "]");
}

std::string Bundle::config() const { return read_file(dir() + "/config.json").value_or(""); }

CommandOutput Bundle::berth(const std::vector<std::string>& args, const std::string& input) const {
  return runtime(BERTH_BINARY, args, input);
}

std::string Bundle::root_for(const std::string& binary) const {
  return binary == BERTH_BINARY ? state_root() : state_root() + "-" + basename_of(binary);
}

CommandOutput Bundle::runtime(const std::string& binary, const std::vector<std::string>& args,
                              const std::string& input) const {
  std::vector<std::string> argv = {binary, "--root", root_for(binary)};
  argv.insert(argv.end(), args.begin(), args.end());
  auto out = run_command(argv, input, std::chrono::seconds(30));
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().what());
  return out.ok() ? *out : CommandOutput{{255, 0}, "", ""};
}

CommandOutput Bundle::berth_detached(const std::vector<std::string>& args) const {
  return runtime_detached(BERTH_BINARY, args);
}

CommandOutput Bundle::runtime_detached(const std::string& binary, const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {binary, "--root", root_for(binary)};
  argv.insert(argv.end(), args.begin(), args.end());
  auto out_fd = open_fd((dir() + "/container.out").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  auto err_path = dir() + "/berth.err";
  auto err_fd = open_fd(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  EXPECT_TRUE(out_fd.ok() && err_fd.ok());
  auto child = ChildProcess::spawn({.argv = argv, .stdout_fd = out_fd->get(), .stderr_fd = err_fd->get()});
  EXPECT_TRUE(child.ok());
  auto st = child->wait();
  EXPECT_TRUE(st.ok());
  return CommandOutput{st.ok() ? *st : ExitStatus{255, 0}, "", read_file(err_path).value_or("")};
}

CommandOutput Bundle::run(const std::string& id) { return berth({"run", "--bundle", dir(), id}); }

std::string Bundle::state_field(const std::string& id, const std::string& field) const {
  auto out = berth({"state", id});
  if (!out.status.success()) return "<error: " + out.err + ">";
  auto tree = json::parse(out.out, "state");
  if (!tree) return "<bad json>";
  auto v = json::root(*tree).get(field);
  if (!v) return "<missing>";
  if (v->is_string()) return *v->as_string();
  auto n = v->as_int64();
  return n ? std::to_string(*n) : "<?>";
}

int host_mounts_containing(const std::string& needle) {
  auto text = read_file("/proc/self/mountinfo");
  if (!text) return -1;
  std::istringstream in(*text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) n += line.find(needle) != std::string::npos;
  return n;
}

}  // namespace berth::test
