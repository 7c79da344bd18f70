// A process's exit, kept in the bundle directory so it survives the shim and the manager:
// <bundle>/exit.json for init, <bundle>/execs/<exec-id>.exit.json for exec processes.
// Written crash-safe (temp, fsync, rename, fsync dir) before the exit event is sent.
#pragma once
#include <sys/types.h>
#include <cstdint>
#include <optional>
#include <string>
#include "berth/common/error.h"

namespace berth::shim {

struct ExitRecord {
  pid_t pid = 0;
  uint32_t exit_status = 0;  // 128 + signal when killed
  int64_t exited_at_unix_nano = 0;
};

std::string exit_file_path(const std::string& bundle, const std::string& exec_id);
Status write_exit_file(const std::string& path, const ExitRecord& record);
// nullopt when there is no such file.
Result<std::optional<ExitRecord>> read_exit_file(const std::string& path);

}  // namespace berth::shim
