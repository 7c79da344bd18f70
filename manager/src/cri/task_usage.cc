#include "cri/task_usage.h"

#include <initializer_list>
#include <optional>
#include <sstream>

#include "berth/common/json.h"

namespace berth::manager::cri {
namespace {

uint64_t number_at(const json::Value& object, std::initializer_list<std::string_view> path) {
  std::optional<json::Value> v = object;
  for (auto key : path) {
    if (!v || !v->is_object()) return 0;
    v = v->get(key);
  }
  if (!v) return 0;
  auto n = v->as_uint64();
  return n.ok() ? *n : 0;
}

// v1's memory.stat counts the hierarchy under total_*; v2's counts it without a prefix.
uint64_t memory_stat(const json::Value& data, std::string_view v2_key) {
  uint64_t v1 = number_at(data, {"memory", "raw", "total_" + std::string(v2_key)});
  return v1 != 0 ? v1 : number_at(data, {"memory", "raw", v2_key});
}

}  // namespace

TaskUsage& TaskUsage::operator+=(const TaskUsage& o) {
  cpu_ns += o.cpu_ns;
  memory_usage += o.memory_usage;
  working_set += o.working_set;
  rss += o.rss;
  page_faults += o.page_faults;
  major_page_faults += o.major_page_faults;
  return *this;
}

Result<TaskUsage> parse_task_usage(std::string_view stats_json) {
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(stats_json, "task stats"));
  json::Value data = json::root(tree);
  if (!data.is_object()) return data.type_error("an object");
  if (auto inner = data.get("data"); inner && inner->is_object()) data = *inner;
  TaskUsage u;
  u.cpu_ns = number_at(data, {"cpu", "usage", "total"});
  u.memory_usage = number_at(data, {"memory", "usage", "usage"});
  uint64_t inactive_file = memory_stat(data, "inactive_file");
  u.working_set = u.memory_usage > inactive_file ? u.memory_usage - inactive_file : 0;
  // v1 calls anonymous memory rss, v2 anon.
  u.rss = memory_stat(data, "rss");
  if (u.rss == 0) u.rss = memory_stat(data, "anon");
  u.page_faults = memory_stat(data, "pgfault");
  u.major_page_faults = memory_stat(data, "pgmajfault");
  return u;
}

Result<std::vector<InterfaceUsage>> parse_net_dev(std::string_view text) {
  // "  eth0: rx_bytes rx_packets rx_errs rx_drop fifo frame compressed multicast tx_bytes tx_packets tx_errs ..."
  std::vector<InterfaceUsage> out;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;  // the two header lines
    InterfaceUsage i;
    std::istringstream name(line.substr(0, colon));
    name >> i.name;
    if (i.name.empty() || i.name.find('|') != std::string::npos) continue;
    std::istringstream fields(line.substr(colon + 1));
    uint64_t f[11] = {};
    for (auto& v : f)
      if (!(fields >> v)) return make_error(ErrorCode::kDataLoss, "net/dev: short line for {:?}", i.name);
    if (i.name == "lo") continue;
    i.rx_bytes = f[0];
    i.rx_errors = f[2];
    i.tx_bytes = f[8];
    i.tx_errors = f[10];
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace berth::manager::cri
