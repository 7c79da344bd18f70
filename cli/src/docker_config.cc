#include "docker_config.h"

#include <cstdlib>
#include <map>

#include "berth/common/fs.h"
#include "berth/common/json.h"

namespace berth::cli {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string to_base64(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    for (size_t k = 0; k < 4; ++k) out += k <= in.size() - i ? kAlphabet[(n >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

Result<std::string> from_base64(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) return make_error(ErrorCode::kInvalidArgument, "invalid base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

bool is_docker_hub(const std::string& server) {
  return server == "docker.io" || server == "index.docker.io" || server == "registry-1.docker.io" ||
         server.starts_with("https://index.docker.io/");
}

// The config as parsed (an empty object when there is no file yet).
Result<json::Tree> load(const std::string& path) {
  std::string text = "{}";
  if (path_exists(path)) {
    BERTH_ASSIGN_OR_RETURN(text, read_file(path, 1 << 20));
  }
  BERTH_ASSIGN_OR_RETURN(json::Tree tree, json::parse(text, path));
  if (!json::root(tree).is_object()) return make_error(ErrorCode::kInvalidArgument, "{}: not a JSON object", path);
  return tree;
}

// Writes tree back with auths replaced; every other key unchanged.
Status save(const std::string& path, const json::Tree& tree, const std::map<std::string, std::string>& auths) {
  json::Writer w(true);
  w.begin_object();
  BERTH_ASSIGN_OR_RETURN(auto members, json::root(tree).as_object());
  std::map<std::string, json::Value> old_auths;
  for (const auto& [key, value] : members) {
    if (key != "auths") {
      w.key(key).value(value.raw());
      continue;
    }
    if (auto entries = value.as_object(); entries.ok()) {
      for (const auto& [server, entry] : *entries) old_auths.emplace(server, entry);
    }
  }
  w.key("auths").begin_object();
  for (const auto& [server, entry] : old_auths) {
    if (!auths.contains(server)) w.key(server).value(entry.raw());
  }
  for (const auto& [server, auth] : auths) {
    if (!auth.empty()) w.key(server).begin_object().field("auth", auth).end_object();
  }
  w.end_object().end_object();
  std::string dir = path.substr(0, path.find_last_of('/'));
  if (!dir.empty() && dir != path) BERTH_TRY(make_dirs(dir, 0700));
  return write_file_atomic(path, w.str() + "\n", 0600);
}

}  // namespace

std::string docker_config_path() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir) return std::string(dir) + "/config.json";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/root") + "/.docker/config.json";
}

std::string registry_of(const std::string& reference) {
  size_t slash = reference.find('/');
  if (slash == std::string::npos) return "docker.io";
  std::string first = reference.substr(0, slash);
  bool host = first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost";
  return host && !is_docker_hub(first) ? first : "docker.io";
}

std::string config_key(const std::string& server) {
  return is_docker_hub(server) ? "https://index.docker.io/v1/" : server;
}

Result<std::string> stored_credentials(const std::string& path, const std::string& server) {
  if (!path_exists(path)) return std::string();
  BERTH_ASSIGN_OR_RETURN(json::Tree tree, load(path));
  auto auths = json::root(tree).get("auths");
  if (!auths) return std::string();
  for (const std::string& key : {config_key(server), server, "https://" + server, "http://" + server}) {
    auto entry = auths->get(key);
    auto auth = entry ? entry->get("auth") : std::nullopt;
    if (!auth) continue;
    BERTH_ASSIGN_OR_RETURN(std::string encoded, auth->as_string());
    auto decoded = from_base64(encoded);
    if (!decoded || decoded->find(':') == std::string::npos) {
      return make_error(ErrorCode::kInvalidArgument, "{}: auths.{}.auth is not base64 of user:password", path, key);
    }
    return *decoded;
  }
  return std::string();
}

Status store_credentials(const std::string& path, const std::string& server, const std::string& user,
                         const std::string& password) {
  BERTH_ASSIGN_OR_RETURN(json::Tree tree, load(path));
  return save(path, tree, {{config_key(server), to_base64(user + ":" + password)}});
}

Result<bool> remove_credentials(const std::string& path, const std::string& server) {
  if (!path_exists(path)) return false;
  BERTH_ASSIGN_OR_RETURN(std::string had, stored_credentials(path, server));
  if (had.empty()) return false;
  BERTH_ASSIGN_OR_RETURN(json::Tree tree, load(path));
  std::map<std::string, std::string> gone;
  for (const std::string& key : {config_key(server), server, "https://" + server, "http://" + server}) gone[key] = "";
  BERTH_TRY(save(path, tree, gone));
  return true;
}

}  // namespace berth::cli
