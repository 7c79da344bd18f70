#include "network/cni_result.h"

#include <fmt/format.h>

#include "berth/common/json.h"
#include "network/ipv4.h"

namespace berth::manager::network {
namespace {

Status optional_string(const json::Value& object, const char* key, std::string& out) {
  if (auto v = object.get(key)) {
    BERTH_ASSIGN_OR_RETURN(out, v->as_string());
  }
  return {};
}

Status optional_strings(const json::Value& object, const char* key, std::vector<std::string>& out) {
  if (auto v = object.get(key)) {
    BERTH_ASSIGN_OR_RETURN(out, v->as_string_array());
  }
  return {};
}

Status parse_interfaces(const json::Value& root, CniResult& r) {
  auto list = root.get("interfaces");
  if (!list) return {};
  BERTH_ASSIGN_OR_RETURN(auto items, list->as_array());
  for (const auto& item : items) {
    CniInterface i;
    BERTH_ASSIGN_OR_RETURN(auto name, item.require("name"));
    BERTH_ASSIGN_OR_RETURN(i.name, name.as_string());
    BERTH_TRY(optional_string(item, "mac", i.mac));
    BERTH_TRY(optional_string(item, "sandbox", i.sandbox));
    r.interfaces.push_back(std::move(i));
  }
  return {};
}

Status parse_ips(const json::Value& root, CniResult& r) {
  auto list = root.get("ips");
  if (!list) return {};
  BERTH_ASSIGN_OR_RETURN(auto items, list->as_array());
  for (const auto& item : items) {
    CniIp ip;
    BERTH_ASSIGN_OR_RETURN(auto address, item.require("address"));
    BERTH_ASSIGN_OR_RETURN(ip.address, address.as_string());
    BERTH_TRY(optional_string(item, "gateway", ip.gateway));
    if (ip.address.find(':') == std::string::npos) {  // IPv6 is passed through unchecked
      auto prefix = parse_ipv4_prefix(ip.address, false);
      if (!prefix) return std::move(prefix).error().wrap("{}", address.path());
    }
    if (auto index = item.get("interface")) {
      BERTH_ASSIGN_OR_RETURN(ip.interface, index->as_uint32());
      if (*ip.interface >= r.interfaces.size())
        return make_error(ErrorCode::kInvalidArgument, "{}: interface {} out of range ({} interfaces)",
                          index->path(), *ip.interface, r.interfaces.size());
    }
    r.ips.push_back(std::move(ip));
  }
  return {};
}

Status parse_routes(const json::Value& root, CniResult& r) {
  auto list = root.get("routes");
  if (!list) return {};
  BERTH_ASSIGN_OR_RETURN(auto items, list->as_array());
  for (const auto& item : items) {
    CniRoute route;
    BERTH_ASSIGN_OR_RETURN(auto dst, item.require("dst"));
    BERTH_ASSIGN_OR_RETURN(route.dst, dst.as_string());
    BERTH_TRY(optional_string(item, "gw", route.gw));
    r.routes.push_back(std::move(route));
  }
  return {};
}

}  // namespace

std::string CniError::str() const {
  std::string text = msg.empty() ? "plugin failed" : msg;
  if (!details.empty()) text += ": " + details;
  return fmt::format("{} (CNI error {})", text, code);
}

Result<CniResult> parse_cni_result(std::string_view text) {
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(text, "CNI result"));
  auto root = json::root(tree, "result");
  if (!root.is_object()) return root.type_error("an object");
  if (root.get("code"))
    return make_error(ErrorCode::kInvalidArgument, "CNI result is an error: {}", text.substr(0, 512));
  CniResult r;
  BERTH_ASSIGN_OR_RETURN(auto version, root.require("cniVersion"));
  BERTH_ASSIGN_OR_RETURN(r.cni_version, version.as_string());
  BERTH_TRY(parse_interfaces(root, r));
  BERTH_TRY(parse_ips(root, r));
  BERTH_TRY(parse_routes(root, r));
  if (auto dns = root.get("dns")) {
    if (!dns->is_object()) return dns->type_error("an object");
    BERTH_TRY(optional_strings(*dns, "nameservers", r.dns.nameservers));
    BERTH_TRY(optional_string(*dns, "domain", r.dns.domain));
    BERTH_TRY(optional_strings(*dns, "search", r.dns.search));
    BERTH_TRY(optional_strings(*dns, "options", r.dns.options));
  }
  return r;
}

Result<CniError> parse_cni_error(std::string_view text) {
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(text, "CNI error"));
  auto root = json::root(tree, "error");
  if (!root.is_object()) return root.type_error("an object");
  CniError e;
  BERTH_ASSIGN_OR_RETURN(auto code, root.require("code"));
  BERTH_ASSIGN_OR_RETURN(e.code, code.as_uint32());
  BERTH_TRY(optional_string(root, "msg", e.msg));
  BERTH_TRY(optional_string(root, "details", e.details));
  return e;
}

std::optional<std::string> container_ipv4(const CniResult& result) {
  std::optional<std::string> fallback;
  for (const auto& ip : result.ips) {
    auto prefix = parse_ipv4_prefix(ip.address, false);
    if (!prefix) continue;
    std::string address = format_ipv4(prefix->address);
    if (ip.interface && !result.interfaces[*ip.interface].sandbox.empty()) return address;
    if (!fallback) fallback = address;
  }
  return fallback;
}

}  // namespace berth::manager::network
