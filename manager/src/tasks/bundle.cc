#include "tasks/bundle.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "berth/common/fs.h"
#include "socket_group.h"

namespace berth::manager {
namespace {

// Files of a task directly in the bundle, in creation order.
constexpr const char* kTaskFiles[] = {"config.json", "init-stdin", "init-stdout", "init-stderr", "address",
                                      "shim.pid",    "shim.log",   "init.pid",    "log.json",    "exit.json"};

}  // namespace

Status Bundle::create_dir() const { return make_dirs(dir_, 0700); }

Status Bundle::prepare_task(const std::string& spec_json) const {
  BERTH_TRY(make_dirs(rootfs(), 0700));
  BERTH_TRY(make_dirs(dir_ + "/execs", 0700));
  return write_file_atomic(config(), spec_json);
}

bool Bundle::has_task() const { return path_exists(config()); }

Result<std::string> Bundle::shim_socket() const {
  BERTH_ASSIGN_OR_RETURN(std::string address, read_file(address_file(), 4096));
  address = address.substr(0, address.find('\n'));
  if (address.rfind("unix://", 0) != 0)
    return make_error(ErrorCode::kInternal, "berth-shim wrote {:?}, not an address", address);
  return address.substr(7);
}

int Bundle::init_pid() const {
  auto text = read_file(init_pid_file(), 64);
  return text ? std::atoi(text->c_str()) : 0;
}

bool Bundle::init_exited() const { return path_exists(dir_ + "/exit.json"); }

Status Bundle::make_fifos(std::initializer_list<const std::string*> paths) const {
  if (fifos_apart()) {
    // <fifo root>/<ns>/<id>/execs, each reachable by the group.
    const std::string ns_dir = dirname_of(fifo_dir_);
    for (const std::string& dir : {dirname_of(ns_dir), ns_dir, fifo_dir_, fifo_dir_ + "/execs"}) {
      BERTH_TRY(make_dirs(dir, 0700));
      if (fifo_group_) BERTH_TRY(give_to_group(dir, *fifo_group_, 0710));
    }
  }
  for (const std::string* p : paths) {
    if (p->empty()) continue;
    if (::mkfifo(p->c_str(), 0600) != 0 && errno != EEXIST) return sys_error("mkfifo {}", *p);
    if (fifo_group_) BERTH_TRY(give_to_group(*p, *fifo_group_, 0660));
  }
  return {};
}

// Every entry of dir, then dir itself, when it exists.
static void add_dir_and_entries(std::vector<std::string>& out, const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(dir + "/" + name);
  }
  ::closedir(d);
  out.push_back(dir);
}

std::vector<std::string> Bundle::task_files() const {
  std::vector<std::string> out;
  for (const char* name : kTaskFiles)
    if (path_exists(dir_ + "/" + name)) out.push_back(dir_ + "/" + name);
  add_dir_and_entries(out, dir_ + "/execs");
  if (fifos_apart()) {
    for (const char* stream : {"stdin", "stdout", "stderr"})
      if (path_exists(init_fifo(stream))) out.push_back(init_fifo(stream));
    add_dir_and_entries(out, fifo_dir_ + "/execs");
    if (path_exists(fifo_dir_)) out.push_back(fifo_dir_);
  }
  if (path_exists(rootfs())) out.push_back(rootfs());
  return out;
}

void Bundle::remove_task_files() const {
  for (const auto& path : task_files()) {
    if (::unlink(path.c_str()) != 0 && errno == EISDIR) (void)::rmdir(path.c_str());
  }
}

Status Bundle::remove() const {
  if (fifos_apart()) BERTH_TRY(remove_tree(fifo_dir_));
  return remove_tree(dir_);
}

}  // namespace berth::manager
