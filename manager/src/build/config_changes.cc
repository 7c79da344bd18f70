#include "build/config_changes.h"

#include <charconv>
#include <set>

#include "berth/common/fs.h"
#include "build/build_context.h"
#include "containers/spec_builder.h"

namespace berth::manager::build {
namespace {

Error bad(const Instruction& in, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument, "Dockerfile line {}: {}: {}", in.line, in.keyword, why);
}

// Go-style durations as docker takes them: "30s", "1m30s", "500ms", "1h".
Result<int64_t> parse_duration(std::string_view text) {
  int64_t total = 0;
  std::string_view rest = text;
  if (rest.empty()) return make_error(ErrorCode::kInvalidArgument, "empty duration");
  while (!rest.empty()) {
    double value = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc()) return make_error(ErrorCode::kInvalidArgument, "invalid duration {:?}", std::string(text));
    rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    static const std::pair<std::string_view, double> kUnits[] = {
        {"ms", 1e6}, {"us", 1e3}, {"ns", 1}, {"h", 3600e9}, {"m", 60e9}, {"s", 1e9}};
    bool found = false;
    for (const auto& [unit, scale] : kUnits) {
      if (rest.starts_with(unit)) {
        total += static_cast<int64_t>(value * scale);
        rest.remove_prefix(unit.size());
        found = true;
        break;
      }
    }
    if (!found) return make_error(ErrorCode::kInvalidArgument, "invalid duration {:?}: missing unit", std::string(text));
  }
  return total;
}

// JSON form: the array; shell form: the words (EXPOSE 80 443, VOLUME /a /b).
Result<std::vector<std::string>> list_args(const Instruction& in, char escape, const VariableLookup& lookup) {
  if (in.json_form) {
    std::vector<std::string> out;
    for (const auto& a : in.json_args) {
      BERTH_ASSIGN_OR_RETURN(std::string v, expand_word(a, escape, lookup));
      out.push_back(std::move(v));
    }
    return out;
  }
  return shell_words(in.args, escape, lookup);
}

// An absolute path with "." and ".." applied ("/app/sub/../src" → "/app/src").
std::string normalize_path(const std::string& path) { return "/" + clean_relative(path).value_or(""); }

Status apply_healthcheck(ImageConfig& config, const Instruction& in) {
  if (in.args == "NONE" || in.args == "none") {
    config.healthcheck = HealthCheck{{"NONE"}};
    return {};
  }
  HealthCheck hc;
  for (const auto& [flag, value] : in.flags) {
    int64_t* field = flag == "interval" ? &hc.interval
                     : flag == "timeout" ? &hc.timeout
                     : flag == "start-period" ? &hc.start_period
                                               : nullptr;
    if (field != nullptr) {
      BERTH_ASSIGN_OR_RETURN(*field, parse_duration(value));
    } else if (flag == "retries") {
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), hc.retries);
      if (ec != std::errc() || end != value.data() + value.size()) return bad(in, "--retries needs a number");
    } else {
      return bad(in, "unknown flag --" + flag);
    }
  }
  std::string_view rest = in.args;
  if (!rest.starts_with("CMD")) return bad(in, "expected CMD or NONE");
  Instruction cmd = in;
  cmd.args = std::string(rest.substr(3));
  while (!cmd.args.empty() && (cmd.args.front() == ' ' || cmd.args.front() == '\t')) cmd.args.erase(0, 1);
  if (cmd.args.empty()) return bad(in, "CMD needs a command");
  cmd.json_form = false;
  cmd.json_args.clear();
  auto parsed = parse_dockerfile("CMD " + cmd.args);
  if (parsed && parsed->instructions.front().json_form) {
    hc.test = {"CMD"};
    for (const auto& a : parsed->instructions.front().json_args) hc.test.push_back(a);
  } else {
    hc.test = {"CMD-SHELL", cmd.args};
  }
  config.healthcheck = hc;
  return {};
}

}  // namespace

bool is_config_instruction(std::string_view keyword) {
  static const std::set<std::string, std::less<>> kConfig = {
      "CMD",  "ENTRYPOINT", "ENV",   "WORKDIR",     "EXPOSE",  "LABEL",     "USER",
      "VOLUME", "STOPSIGNAL", "SHELL", "HEALTHCHECK", "ONBUILD", "MAINTAINER"};
  return kConfig.contains(keyword);
}

Status apply_config_instruction(ImageConfig& config, const Instruction& in, char escape,
                                const VariableLookup& lookup) {
  const std::string& k = in.keyword;
  if (k == "CMD" || k == "ENTRYPOINT") {
    std::vector<std::string> command = command_of(in, config.shell);
    if (k == "CMD") {
      config.cmd = command;
    } else {
      config.entrypoint = command;
      config.cmd.reset();  // docker: a new ENTRYPOINT resets the inherited CMD
    }
  } else if (k == "ENV") {
    BERTH_ASSIGN_OR_RETURN(auto pairs, key_values(in, escape, lookup));
    std::vector<std::string> added;
    for (const auto& [key, value] : pairs) added.push_back(key + "=" + value);
    config.env = merge_env(config.env, added);
  } else if (k == "LABEL") {
    BERTH_ASSIGN_OR_RETURN(auto pairs, key_values(in, escape, lookup));
    for (const auto& [key, value] : pairs) config.labels[key] = value;
  } else if (k == "MAINTAINER") {
    config.author = in.args;
  } else if (k == "WORKDIR") {
    BERTH_ASSIGN_OR_RETURN(std::string dir, expand_word(in.args, escape, lookup));
    config.working_dir = normalize_path(dir.starts_with("/") ? dir : join_path(config.working_dir.empty() ? "/" : config.working_dir, dir));
  } else if (k == "USER") {
    BERTH_ASSIGN_OR_RETURN(config.user, expand_word(in.args, escape, lookup));
  } else if (k == "STOPSIGNAL") {
    BERTH_ASSIGN_OR_RETURN(config.stop_signal, expand_word(in.args, escape, lookup));
  } else if (k == "EXPOSE") {
    BERTH_ASSIGN_OR_RETURN(auto ports, list_args(in, escape, lookup));
    for (auto p : ports) {
      if (p.find('/') == std::string::npos) p += "/tcp";
      if (p.front() < '0' || p.front() > '9') return bad(in, "invalid port " + p);
      config.exposed_ports.insert(p);
    }
  } else if (k == "VOLUME") {
    BERTH_ASSIGN_OR_RETURN(auto paths, list_args(in, escape, lookup));
    for (const auto& p : paths) {
      if (p.empty()) return bad(in, "empty volume path");
      config.volumes.insert(p);
    }
  } else if (k == "SHELL") {
    if (!in.json_form || in.json_args.empty()) return bad(in, "SHELL requires the JSON form: SHELL [\"executable\", \"parameters\"]");
    config.shell = in.json_args;
  } else if (k == "HEALTHCHECK") {
    return apply_healthcheck(config, in);
  } else if (k == "ONBUILD") {
    std::string_view trigger = in.args;
    std::string first(trigger.substr(0, trigger.find_first_of(" \t")));
    for (auto& c : first) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (first == "ONBUILD" || first == "FROM" || first == "MAINTAINER") {
      return bad(in, first + " isn't allowed as an ONBUILD trigger");
    }
    config.on_build.push_back(in.args);
  } else {
    return bad(in, "not a config instruction");
  }
  return {};
}

Status apply_commit_changes(ImageConfig& config, const std::vector<std::string>& changes) {
  static const std::set<std::string, std::less<>> kAllowed = {"CMD",  "ENTRYPOINT", "ENV",  "EXPOSE", "LABEL",
                                                              "ONBUILD", "USER", "VOLUME", "WORKDIR", "STOPSIGNAL",
                                                              "HEALTHCHECK", "SHELL"};
  for (const auto& change : changes) {
    auto parsed = parse_dockerfile(change);
    if (!parsed) return std::move(parsed).error().wrap("--change {:?}", change);
    for (const auto& in : parsed->instructions) {
      if (!kAllowed.contains(in.keyword)) {
        return make_error(ErrorCode::kInvalidArgument, "--change {:?}: {} is not allowed in a commit", change,
                          in.keyword);
      }
      auto applied = apply_config_instruction(config, in, parsed->escape, env_lookup(config.env));
      if (!applied) return std::move(applied).error().wrap("--change {:?}", change);
    }
  }
  return {};
}

VariableLookup env_lookup(const std::vector<std::string>& env) {
  return [env](std::string_view name) { return env_value(env, name); };
}

}  // namespace berth::manager::build
