#include "run_options.h"

#include <cctype>
#include <charconv>
#include <cmath>

namespace berth::cli {
namespace po = boost::program_options;

Result<int64_t> parse_size(std::string_view text, bool allow_unlimited) {
  if (allow_unlimited && text == "-1") return -1;
  std::string_view digits = text;
  int64_t unit = 1;
  if (!text.empty() && std::isalpha(static_cast<unsigned char>(text.back()))) {
    std::string_view suffix = text;
    size_t i = text.size();
    while (i > 0 && std::isalpha(static_cast<unsigned char>(text[i - 1]))) i--;
    digits = text.substr(0, i);
    suffix = text.substr(i);
    std::string lower;
    for (char c : suffix) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "b") unit = 1;
    else if (lower == "k" || lower == "kb" || lower == "kib") unit = int64_t{1} << 10;
    else if (lower == "m" || lower == "mb" || lower == "mib") unit = int64_t{1} << 20;
    else if (lower == "g" || lower == "gb" || lower == "gib") unit = int64_t{1} << 30;
    else if (lower == "t" || lower == "tb" || lower == "tib") unit = int64_t{1} << 40;
    else return make_error(ErrorCode::kInvalidArgument, "invalid size {:?}: unknown unit {:?} (use b, k, m, g or t)",
                           std::string(text), std::string(suffix));
  }
  int64_t n = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || n < 0)
    return make_error(ErrorCode::kInvalidArgument, "invalid size {:?}: use a number with an optional k, m or g",
                      std::string(text));
  if (n > INT64_MAX / unit) return make_error(ErrorCode::kInvalidArgument, "size {:?} is too large", std::string(text));
  return n * unit;
}

int launch_failure_code(std::string_view message) {
  std::string lower;
  for (char c : message) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.find("exec:") == std::string::npos) return 125;
  if (lower.find("executable file not found") != std::string::npos ||
      lower.find("no such file or directory") != std::string::npos)
    return 127;
  if (lower.find("permission denied") != std::string::npos || lower.find("is a directory") != std::string::npos)
    return 126;
  return 125;
}

Result<int64_t> parse_nano_cpus(std::string_view text) {
  auto bad = [&] {
    return make_error(ErrorCode::kInvalidArgument, "invalid --cpus {:?}: use a positive number such as 1.5",
                      std::string(text));
  };
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if ((whole.empty() && frac.empty()) || frac.size() > 9) return bad();
  int64_t w = 0, f = 0;
  for (auto part : {whole, frac}) {
    for (char c : part)
      if (!std::isdigit(static_cast<unsigned char>(c))) return bad();
  }
  if (!whole.empty() && (std::from_chars(whole.data(), whole.data() + whole.size(), w).ec != std::errc() ||
                         w > 1000000))
    return bad();
  if (!frac.empty()) std::from_chars(frac.data(), frac.data() + frac.size(), f);
  for (size_t i = frac.size(); i < 9; i++) f *= 10;
  int64_t nano = w * 1000000000 + f;
  if (nano <= 0) return bad();
  return nano;
}

Result<std::string> mount_to_volume(std::string_view text) {
  std::string type, source, target;
  bool readonly = false;
  for (size_t start = 0; start <= text.size();) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    start = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    std::string value(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1));
    if (key == "type") type = value;
    else if (key == "src" || key == "source") source = value;
    else if (key == "dst" || key == "destination" || key == "target") target = value;
    else if ((key == "readonly" || key == "ro") && (value.empty() || value == "true" || value == "1")) readonly = true;
    else if ((key == "readonly" || key == "ro") && (value == "false" || value == "0")) readonly = false;
    else
      return make_error(ErrorCode::kInvalidArgument, "--mount {:?}: unknown or bad option {:?}", std::string(text),
                        std::string(item));
  }
  if (type != "bind" && type != "volume")
    return make_error(ErrorCode::kInvalidArgument, "--mount {:?}: type must be bind or volume", std::string(text));
  if (source.empty() || target.empty())
    return make_error(ErrorCode::kInvalidArgument, "--mount {:?} needs src= and dst=", std::string(text));
  if (type == "bind" && source[0] != '/')
    return make_error(ErrorCode::kInvalidArgument, "--mount {:?}: a bind source must be an absolute path",
                      std::string(text));
  if (type == "volume" && source[0] == '/')
    return make_error(ErrorCode::kInvalidArgument, "--mount {:?}: a volume source is a name, not a path",
                      std::string(text));
  return source + ":" + target + (readonly ? ":ro" : "");
}

void ResourceOptions::add_to(po::options_description& desc) {
  desc.add_options()("memory,m", po::value(&memory))("memory-swap", po::value(&memory_swap))("cpus", po::value(&cpus))(
      "pids-limit", po::value(&pids_limit))("cpu-shares", po::value(&cpu_shares));
}

std::set<std::string> ResourceOptions::flags_with_value() {
  return {"-m", "--memory", "--memory-swap", "--cpus", "--pids-limit", "--cpu-shares"};
}

Status ResourceOptions::apply(pb::ContainerResources& r) const {
  if (!memory.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto bytes, parse_size(memory));
    r.set_memory_bytes(bytes);
  }
  if (!memory_swap.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto bytes, parse_size(memory_swap, true));
    r.set_memory_swap_bytes(bytes);
  }
  if (!cpus.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto nano, parse_nano_cpus(cpus));
    r.set_nano_cpus(nano);
  }
  if (pids_limit < 0 && pids_limit != -1)
    return make_error(ErrorCode::kInvalidArgument, "invalid --pids-limit {}: use a positive number", pids_limit);
  r.set_pids_limit(pids_limit > 0 ? pids_limit : 0);
  if (cpu_shares != 0 && (cpu_shares < kMinCpuShares || cpu_shares > kMaxCpuShares))
    return make_error(ErrorCode::kInvalidArgument, "invalid --cpu-shares {}: use {} to {}", cpu_shares, kMinCpuShares,
                      kMaxCpuShares);
  r.set_cpu_shares(static_cast<uint64_t>(cpu_shares));
  return {};
}

void RunOptions::add_to(po::options_description& desc) {
  desc.add_options()("volume,v", po::value(&volumes))("mount", po::value(&mounts))(
      "security-opt", po::value(&security_opt))("privileged", po::bool_switch(&privileged));
  desc.add_options()("network", po::value(&network))("publish,p", po::value(&publish))(
      "hostname", po::value(&hostname))("add-host", po::value(&add_hosts))("dns", po::value(&dns));
  desc.add_options()("network-alias", po::value(&aliases))("link", po::value(&links))(
      "publish-all,P", po::bool_switch(&publish_all));
  limits.add_to(desc);
}

std::set<std::string> RunOptions::flags_with_value() {
  auto flags = ResourceOptions::flags_with_value();
  flags.insert({"-v", "--volume", "--mount", "--security-opt", "--network", "-p", "--publish",
                "--hostname", "--add-host", "--dns", "--network-alias", "--link"});
  return flags;
}

Status RunOptions::apply(pb::ContainerCreateRequest& create) const {
  for (const auto& v : volumes) create.add_volumes(v);
  for (const auto& m : mounts) {
    BERTH_ASSIGN_OR_RETURN(auto v, mount_to_volume(m));
    create.add_volumes(v);
  }
  BERTH_TRY(limits.apply(*create.mutable_resources()));
  for (const auto& s : security_opt) create.add_security_opt(s);
  create.set_privileged(privileged);
  auto* net = create.mutable_network();
  net->set_network(network);
  for (const auto& p : publish) net->add_publish(p);
  net->set_hostname(hostname);
  for (const auto& h : add_hosts) net->add_add_host(h);
  for (const auto& d : dns) net->add_dns(d);
  for (const auto& a : aliases) net->add_alias(a);
  for (const auto& l : links) net->add_link(l);
  net->set_publish_all(publish_all);
  return {};
}

}  // namespace berth::cli
