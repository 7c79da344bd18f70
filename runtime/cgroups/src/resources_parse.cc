// Parsing of linux.resources; every error carries the JSON path of the offending value.
#include <limits>

#include "berth/runtime/cgroups/resources_json.h"

namespace berth::runtime::cgroups {
namespace {

template <typename T, typename Fn>
Status read_opt(const json::Value& obj, std::string_view key, std::optional<T>& out, Fn conv) {
  auto v = obj.get(key);
  if (!v) return {};
  BERTH_ASSIGN_OR_RETURN(out, (v.value().*conv)());
  return {};
}

Status read_i64(const json::Value& o, std::string_view k, std::optional<int64_t>& out) {
  return read_opt(o, k, out, &json::Value::as_int64);
}
Status read_u64(const json::Value& o, std::string_view k, std::optional<uint64_t>& out) {
  return read_opt(o, k, out, &json::Value::as_uint64);
}
Status read_bool(const json::Value& o, std::string_view k, std::optional<bool>& out) {
  return read_opt(o, k, out, &json::Value::as_bool);
}
Status read_str(const json::Value& o, std::string_view k, std::optional<std::string>& out) {
  return read_opt(o, k, out, &json::Value::as_string);
}

Status read_u16(const json::Value& o, std::string_view k, std::optional<uint16_t>& out) {
  auto v = o.get(k);
  if (!v) return {};
  BERTH_ASSIGN_OR_RETURN(uint64_t raw, v->as_uint64());
  if (raw > std::numeric_limits<uint16_t>::max()) {
    return make_error(ErrorCode::kOutOfRange, "{}: {} is out of range for a 16-bit weight", v->path(), raw);
  }
  out = static_cast<uint16_t>(raw);
  return {};
}

Status require_object(const json::Value& v) {
  if (!v.is_object()) return v.type_error("an object");
  return {};
}

Result<MemoryResources> parse_memory(const json::Value& v) {
  BERTH_TRY(require_object(v));
  MemoryResources m;
  BERTH_TRY(read_i64(v, "limit", m.limit));
  BERTH_TRY(read_i64(v, "reservation", m.reservation));
  BERTH_TRY(read_i64(v, "swap", m.swap));
  BERTH_TRY(read_i64(v, "kernel", m.kernel));
  BERTH_TRY(read_i64(v, "kernelTCP", m.kernel_tcp));
  BERTH_TRY(read_u64(v, "swappiness", m.swappiness));
  BERTH_TRY(read_bool(v, "disableOOMKiller", m.disable_oom_killer));
  BERTH_TRY(read_bool(v, "useHierarchy", m.use_hierarchy));
  BERTH_TRY(read_bool(v, "checkBeforeUpdate", m.check_before_update));
  return m;
}

Result<CpuResources> parse_cpu(const json::Value& v) {
  BERTH_TRY(require_object(v));
  CpuResources c;
  BERTH_TRY(read_u64(v, "shares", c.shares));
  BERTH_TRY(read_i64(v, "quota", c.quota));
  BERTH_TRY(read_u64(v, "burst", c.burst));
  BERTH_TRY(read_u64(v, "period", c.period));
  BERTH_TRY(read_i64(v, "realtimeRuntime", c.realtime_runtime));
  BERTH_TRY(read_u64(v, "realtimePeriod", c.realtime_period));
  BERTH_TRY(read_str(v, "cpus", c.cpus));
  BERTH_TRY(read_str(v, "mems", c.mems));
  BERTH_TRY(read_i64(v, "idle", c.idle));
  return c;
}

Result<PidsResources> parse_pids(const json::Value& v) {
  BERTH_TRY(require_object(v));
  PidsResources p;
  BERTH_ASSIGN_OR_RETURN(json::Value limit, v.require("limit"));
  BERTH_ASSIGN_OR_RETURN(p.limit, limit.as_int64());
  return p;
}

Status parse_major_minor(const json::Value& v, int64_t& major, int64_t& minor) {
  BERTH_ASSIGN_OR_RETURN(json::Value ma, v.require("major"));
  BERTH_ASSIGN_OR_RETURN(json::Value mi, v.require("minor"));
  BERTH_ASSIGN_OR_RETURN(major, ma.as_int64());
  BERTH_ASSIGN_OR_RETURN(minor, mi.as_int64());
  if (major < 0 || major > UINT32_MAX)
    return make_error(ErrorCode::kOutOfRange, "{}: invalid major number", ma.path());
  if (minor < 0 || minor > UINT32_MAX)
    return make_error(ErrorCode::kOutOfRange, "{}: invalid minor number", mi.path());
  return {};
}

Result<std::vector<ThrottleDevice>> parse_throttle(const json::Value& parent, std::string_view key) {
  std::vector<ThrottleDevice> out;
  auto list = parent.get(key);
  if (!list) return out;
  BERTH_ASSIGN_OR_RETURN(auto items, list->as_array());
  for (const auto& item : items) {
    BERTH_TRY(require_object(item));
    ThrottleDevice d;
    BERTH_TRY(parse_major_minor(item, d.major, d.minor));
    BERTH_ASSIGN_OR_RETURN(json::Value rate, item.require("rate"));
    BERTH_ASSIGN_OR_RETURN(d.rate, rate.as_uint64());
    out.push_back(d);
  }
  return out;
}

Result<BlockIoResources> parse_block_io(const json::Value& v) {
  BERTH_TRY(require_object(v));
  BlockIoResources b;
  BERTH_TRY(read_u16(v, "weight", b.weight));
  BERTH_TRY(read_u16(v, "leafWeight", b.leaf_weight));
  if (auto list = v.get("weightDevice")) {
    BERTH_ASSIGN_OR_RETURN(auto items, list->as_array());
    for (const auto& item : items) {
      BERTH_TRY(require_object(item));
      WeightDevice d;
      BERTH_TRY(parse_major_minor(item, d.major, d.minor));
      BERTH_TRY(read_u16(item, "weight", d.weight));
      BERTH_TRY(read_u16(item, "leafWeight", d.leaf_weight));
      b.weight_device.push_back(d);
    }
  }
  BERTH_ASSIGN_OR_RETURN(b.throttle_read_bps_device, parse_throttle(v, "throttleReadBpsDevice"));
  BERTH_ASSIGN_OR_RETURN(b.throttle_write_bps_device, parse_throttle(v, "throttleWriteBpsDevice"));
  BERTH_ASSIGN_OR_RETURN(b.throttle_read_iops_device, parse_throttle(v, "throttleReadIOPSDevice"));
  BERTH_ASSIGN_OR_RETURN(b.throttle_write_iops_device, parse_throttle(v, "throttleWriteIOPSDevice"));
  return b;
}

Result<std::vector<HugepageLimit>> parse_hugepages(const json::Value& v) {
  std::vector<HugepageLimit> out;
  BERTH_ASSIGN_OR_RETURN(auto items, v.as_array());
  for (const auto& item : items) {
    BERTH_TRY(require_object(item));
    HugepageLimit h;
    BERTH_ASSIGN_OR_RETURN(json::Value size, item.require("pageSize"));
    BERTH_ASSIGN_OR_RETURN(h.page_size, size.as_string());
    BERTH_ASSIGN_OR_RETURN(json::Value limit, item.require("limit"));
    BERTH_ASSIGN_OR_RETURN(h.limit, limit.as_uint64());
    out.push_back(std::move(h));
  }
  return out;
}

Result<NetworkResources> parse_network(const json::Value& v) {
  BERTH_TRY(require_object(v));
  NetworkResources n;
  if (auto id = v.get("classID")) {
    BERTH_ASSIGN_OR_RETURN(n.class_id, id->as_uint32());
  }
  if (auto list = v.get("priorities")) {
    BERTH_ASSIGN_OR_RETURN(auto items, list->as_array());
    for (const auto& item : items) {
      BERTH_TRY(require_object(item));
      InterfacePriority p;
      BERTH_ASSIGN_OR_RETURN(json::Value name, item.require("name"));
      BERTH_ASSIGN_OR_RETURN(p.name, name.as_string());
      BERTH_ASSIGN_OR_RETURN(json::Value prio, item.require("priority"));
      BERTH_ASSIGN_OR_RETURN(p.priority, prio.as_uint32());
      n.priorities.push_back(std::move(p));
    }
  }
  return n;
}

Result<DeviceRule> parse_device_rule(const json::Value& item) {
  BERTH_TRY(require_object(item));
  DeviceRule d;
  BERTH_ASSIGN_OR_RETURN(json::Value allow, item.require("allow"));
  BERTH_ASSIGN_OR_RETURN(d.allow, allow.as_bool());
  if (auto type = item.get("type")) {
    BERTH_ASSIGN_OR_RETURN(std::string t, type->as_string());
    if (t.size() != 1 || (t[0] != 'a' && t[0] != 'b' && t[0] != 'c')) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: device type must be \"a\", \"b\" or \"c\", got \"{}\"", type->path(), t);
    }
    d.type = t[0];
  }
  for (auto [key, field] : {std::pair{"major", &d.major}, std::pair{"minor", &d.minor}}) {
    auto n = item.get(key);
    if (!n) continue;
    BERTH_ASSIGN_OR_RETURN(int64_t num, n->as_int64());
    // -1 is how some tools spell the wildcard.
    if (num < -1 || num > UINT32_MAX)
      return make_error(ErrorCode::kOutOfRange, "{}: invalid device number", n->path());
    if (num >= 0) *field = num;
  }
  if (auto access = item.get("access")) {
    BERTH_ASSIGN_OR_RETURN(d.access, access->as_string());
  }
  return d;
}

Result<std::map<std::string, RdmaLimit>> parse_rdma(const json::Value& v) {
  std::map<std::string, RdmaLimit> out;
  BERTH_ASSIGN_OR_RETURN(auto members, v.as_object());
  for (const auto& [name, item] : members) {
    BERTH_TRY(require_object(item));
    RdmaLimit l;
    if (auto h = item.get("hcaHandles")) {
      BERTH_ASSIGN_OR_RETURN(l.hca_handles, h->as_uint32());
    }
    if (auto o = item.get("hcaObjects")) {
      BERTH_ASSIGN_OR_RETURN(l.hca_objects, o->as_uint32());
    }
    out[name] = l;
  }
  return out;
}

}  // namespace

Result<Resources> parse_resources(const json::Value& v) {
  Resources r;
  if (v.is_null()) return r;
  BERTH_TRY(require_object(v));
  if (auto m = v.get("memory")) {
    BERTH_ASSIGN_OR_RETURN(r.memory, parse_memory(*m));
  }
  if (auto c = v.get("cpu")) {
    BERTH_ASSIGN_OR_RETURN(r.cpu, parse_cpu(*c));
  }
  if (auto p = v.get("pids")) {
    BERTH_ASSIGN_OR_RETURN(r.pids, parse_pids(*p));
  }
  if (auto b = v.get("blockIO")) {
    BERTH_ASSIGN_OR_RETURN(r.block_io, parse_block_io(*b));
  }
  if (auto h = v.get("hugepageLimits")) {
    BERTH_ASSIGN_OR_RETURN(r.hugepage_limits, parse_hugepages(*h));
  }
  if (auto n = v.get("network")) {
    BERTH_ASSIGN_OR_RETURN(r.network, parse_network(*n));
  }
  if (auto d = v.get("devices")) {
    BERTH_ASSIGN_OR_RETURN(auto items, d->as_array());
    for (const auto& item : items) {
      BERTH_ASSIGN_OR_RETURN(DeviceRule rule, parse_device_rule(item));
      r.devices.push_back(std::move(rule));
    }
  }
  if (auto rd = v.get("rdma")) {
    BERTH_ASSIGN_OR_RETURN(r.rdma, parse_rdma(*rd));
  }
  if (auto u = v.get("unified")) {
    BERTH_ASSIGN_OR_RETURN(r.unified, u->as_string_map());
  }
  BERTH_TRY(validate_resources(r, v.path().empty() ? "(root)" : v.path()));
  return r;
}

Result<Resources> parse_resources_text(std::string_view text, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(json::Tree tree, json::parse(text, what));
  auto r = parse_resources(json::root(tree));
  if (!r) return std::move(r).error().wrap("{}", what);
  return r;
}

}  // namespace berth::runtime::cgroups
