// A typed OCI image config (with docker's extra fields: Healthcheck, OnBuild, Shell) that commit and
// build read from the parent image, change and write back. Fields it does not know are dropped.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "berth/common/error.h"

namespace berth::manager {

struct HealthCheck {
  std::vector<std::string> test;  // ["NONE"], ["CMD", ...] or ["CMD-SHELL", "..."]
  int64_t interval = 0, timeout = 0, start_period = 0;  // nanoseconds, 0: default
  int retries = 0;
};

struct HistoryEntry {
  std::string created;  // RFC 3339
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;
};

struct ImageConfig {
  std::string created;
  std::string author;
  std::string architecture;
  std::string os;
  std::string variant;
  // "config"
  std::string user;
  std::set<std::string> exposed_ports;  // "80/tcp"
  std::vector<std::string> env;
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::set<std::string> volumes;
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  std::optional<HealthCheck> healthcheck;
  std::vector<std::string> on_build;
  std::vector<std::string> shell;  // empty: /bin/sh -c
  // "rootfs" and "history"
  std::vector<std::string> diff_ids;
  std::vector<HistoryEntry> history;
};

Result<ImageConfig> parse_image_config(std::string_view json_text);
// Canonical JSON (fixed field order, sorted maps): the same config is always the same bytes.
std::string image_config_json(const ImageConfig& config);

// A config for `FROM scratch`: the host's platform, nothing else.
ImageConfig scratch_image_config();

// The environment variable K of an env list, if set.
std::optional<std::string> env_value(const std::vector<std::string>& env, std::string_view key);

}  // namespace berth::manager
