#include "build/image_config.h"

#include "berth/common/json.h"
#include "images/oci.h"

namespace berth::manager {
namespace {

Result<std::string> string_of(const json::Value& obj, std::string_view key) {
  auto v = obj.get(key);
  if (!v) return std::string();
  return v->as_string();
}

Result<std::vector<std::string>> strings_of(const json::Value& obj, std::string_view key) {
  auto v = obj.get(key);
  if (!v) return std::vector<std::string>{};
  return v->as_string_array();
}

Result<std::optional<std::vector<std::string>>> optional_strings_of(const json::Value& obj, std::string_view key) {
  auto v = obj.get(key);
  if (!v) return std::optional<std::vector<std::string>>{};
  BERTH_ASSIGN_OR_RETURN(auto list, v->as_string_array());
  return std::optional<std::vector<std::string>>(std::move(list));
}

// {"80/tcp": {}} and {"/data": {}}: only the keys mean something.
Result<std::set<std::string>> key_set_of(const json::Value& obj, std::string_view key) {
  std::set<std::string> out;
  auto v = obj.get(key);
  if (!v) return out;
  BERTH_ASSIGN_OR_RETURN(auto entries, v->as_object());
  for (const auto& [k, ignored] : entries) out.insert(k);
  return out;
}

Result<int64_t> int_of(const json::Value& obj, std::string_view key) {
  auto v = obj.get(key);
  if (!v) return int64_t{0};
  return v->as_int64();
}

Status parse_process_section(const json::Value& c, ImageConfig& out) {
  BERTH_ASSIGN_OR_RETURN(out.user, string_of(c, "User"));
  BERTH_ASSIGN_OR_RETURN(out.exposed_ports, key_set_of(c, "ExposedPorts"));
  BERTH_ASSIGN_OR_RETURN(out.env, strings_of(c, "Env"));
  BERTH_ASSIGN_OR_RETURN(out.entrypoint, optional_strings_of(c, "Entrypoint"));
  BERTH_ASSIGN_OR_RETURN(out.cmd, optional_strings_of(c, "Cmd"));
  BERTH_ASSIGN_OR_RETURN(out.volumes, key_set_of(c, "Volumes"));
  BERTH_ASSIGN_OR_RETURN(out.working_dir, string_of(c, "WorkingDir"));
  if (auto v = c.get("Labels")) {
    BERTH_ASSIGN_OR_RETURN(out.labels, v->as_string_map());
  }
  BERTH_ASSIGN_OR_RETURN(out.stop_signal, string_of(c, "StopSignal"));
  if (auto h = c.get("Healthcheck")) {
    HealthCheck hc;
    BERTH_ASSIGN_OR_RETURN(hc.test, strings_of(*h, "Test"));
    BERTH_ASSIGN_OR_RETURN(hc.interval, int_of(*h, "Interval"));
    BERTH_ASSIGN_OR_RETURN(hc.timeout, int_of(*h, "Timeout"));
    BERTH_ASSIGN_OR_RETURN(hc.start_period, int_of(*h, "StartPeriod"));
    BERTH_ASSIGN_OR_RETURN(int64_t retries, int_of(*h, "Retries"));
    hc.retries = static_cast<int>(retries);
    out.healthcheck = hc;
  }
  BERTH_ASSIGN_OR_RETURN(out.on_build, strings_of(c, "OnBuild"));
  BERTH_ASSIGN_OR_RETURN(out.shell, strings_of(c, "Shell"));
  return {};
}

void write_key_set(json::Writer& w, std::string_view key, const std::set<std::string>& keys) {
  if (keys.empty()) return;
  w.key(key).begin_object();
  for (const auto& k : keys) w.key(k).begin_object().end_object();
  w.end_object();
}

void write_process_section(json::Writer& w, const ImageConfig& c) {
  w.key("config").begin_object();
  if (!c.user.empty()) w.field("User", c.user);
  write_key_set(w, "ExposedPorts", c.exposed_ports);
  if (!c.env.empty()) w.string_array("Env", c.env);
  if (c.entrypoint) w.string_array("Entrypoint", *c.entrypoint);
  if (c.cmd) w.string_array("Cmd", *c.cmd);
  write_key_set(w, "Volumes", c.volumes);
  if (!c.working_dir.empty()) w.field("WorkingDir", c.working_dir);
  if (!c.labels.empty()) w.string_map("Labels", c.labels);
  if (!c.stop_signal.empty()) w.field("StopSignal", c.stop_signal);
  if (c.healthcheck) {
    const HealthCheck& h = *c.healthcheck;
    w.key("Healthcheck").begin_object().string_array("Test", h.test);
    if (h.interval) w.field("Interval", h.interval);
    if (h.timeout) w.field("Timeout", h.timeout);
    if (h.start_period) w.field("StartPeriod", h.start_period);
    if (h.retries) w.field("Retries", h.retries);
    w.end_object();
  }
  if (!c.on_build.empty()) w.string_array("OnBuild", c.on_build);
  if (!c.shell.empty()) w.string_array("Shell", c.shell);
  w.end_object();
}

}  // namespace

Result<ImageConfig> parse_image_config(std::string_view json_text) {
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(json_text, "image config"));
  json::Value root = json::root(tree);
  ImageConfig out;
  BERTH_ASSIGN_OR_RETURN(out.created, string_of(root, "created"));
  BERTH_ASSIGN_OR_RETURN(out.author, string_of(root, "author"));
  BERTH_ASSIGN_OR_RETURN(out.architecture, string_of(root, "architecture"));
  BERTH_ASSIGN_OR_RETURN(out.os, string_of(root, "os"));
  BERTH_ASSIGN_OR_RETURN(out.variant, string_of(root, "variant"));
  if (auto c = root.get("config")) BERTH_TRY(parse_process_section(*c, out));
  if (auto r = root.get("rootfs")) {
    BERTH_ASSIGN_OR_RETURN(out.diff_ids, strings_of(*r, "diff_ids"));
  }
  if (auto h = root.get("history")) {
    BERTH_ASSIGN_OR_RETURN(auto entries, h->as_array());
    for (const auto& e : entries) {
      HistoryEntry entry;
      BERTH_ASSIGN_OR_RETURN(entry.created, string_of(e, "created"));
      BERTH_ASSIGN_OR_RETURN(entry.created_by, string_of(e, "created_by"));
      BERTH_ASSIGN_OR_RETURN(entry.author, string_of(e, "author"));
      BERTH_ASSIGN_OR_RETURN(entry.comment, string_of(e, "comment"));
      if (auto v = e.get("empty_layer")) {
    BERTH_ASSIGN_OR_RETURN(entry.empty_layer, v->as_bool());
  }
      out.history.push_back(std::move(entry));
    }
  }
  return out;
}

std::string image_config_json(const ImageConfig& c) {
  json::Writer w;
  w.begin_object();
  if (!c.created.empty()) w.field("created", c.created);
  if (!c.author.empty()) w.field("author", c.author);
  w.field("architecture", c.architecture).field("os", c.os);
  if (!c.variant.empty()) w.field("variant", c.variant);
  write_process_section(w, c);
  w.key("rootfs").begin_object().field("type", "layers").string_array("diff_ids", c.diff_ids).end_object();
  w.key("history").begin_array();
  for (const auto& h : c.history) {
    w.begin_object();
    if (!h.created.empty()) w.field("created", h.created);
    if (!h.created_by.empty()) w.field("created_by", h.created_by);
    if (!h.author.empty()) w.field("author", h.author);
    if (!h.comment.empty()) w.field("comment", h.comment);
    if (h.empty_layer) w.field("empty_layer", true);
    w.end_object();
  }
  w.end_array().end_object();
  return w.str();
}

ImageConfig scratch_image_config() {
  Platform p = host_platform();
  ImageConfig c;
  c.os = p.os;
  c.architecture = p.architecture;
  c.variant = p.variant;
  return c;
}

std::optional<std::string> env_value(const std::vector<std::string>& env, std::string_view key) {
  for (const auto& e : env) {
    if (e.size() > key.size() && e.compare(0, key.size(), key) == 0 && e[key.size()] == '=') {
      return e.substr(key.size() + 1);
    }
  }
  return std::nullopt;
}

}  // namespace berth::manager
