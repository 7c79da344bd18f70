#include "registry/registry_client.h"

#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "berth/common/log.h"
#include "images/oci.h"

namespace berth::manager {

Result<std::string> credentials_for(const std::string& config_path, const std::string& host) {
  if (config_path.empty() || !path_exists(config_path)) return std::string();
  BERTH_ASSIGN_OR_RETURN(std::string text, read_file(config_path, 1 << 20));
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(text, config_path));
  auto auths = json::root(tree).get("auths");
  if (!auths) return std::string();
  std::vector<std::string> keys = {host, "https://" + host, "http://" + host};
  if (host == "docker.io") keys.push_back("https://index.docker.io/v1/");  // what docker login writes
  for (const std::string& key : keys) {
    auto entry = auths->get(key);
    if (!entry) continue;
    auto auth = entry->get("auth");
    if (!auth) continue;
    BERTH_ASSIGN_OR_RETURN(std::string encoded, auth->as_string());
    auto decoded = base64_decode(encoded);
    if (!decoded || decoded->find(':') == std::string::npos) {
      return make_error(ErrorCode::kInvalidArgument, "{}: auths.{}.auth is not base64 of user:password",
                        config_path, key);
    }
    return *decoded;
  }
  return std::string();
}

bool is_loopback_registry(std::string_view host) {
  if (host.starts_with("[")) return host.starts_with("[::1]");
  host = host.substr(0, host.find(':'));
  if (host == "localhost") return true;
  // 127.0.0.0/8: four decimal parts, the first 127.
  int parts = 0, first = -1;
  for (size_t start = 0; start <= host.size(); parts++) {
    size_t dot = std::min(host.find('.', start), host.size());
    auto part = host.substr(start, dot - start);
    if (part.empty() || part.size() > 3 || part.find_first_not_of("0123456789") != std::string_view::npos)
      return false;
    if (parts == 0) first = std::stoi(std::string(part));
    start = dot + 1;
  }
  return parts == 4 && first == 127;
}

RegistryClient::RegistryClient(Reference ref, RegistryOptions options)
    : ref_(std::move(ref)), options_(std::move(options)) {
  std::string host = ref_.registry_host();
  if (auto it = options_.hosts.find(ref_.domain); it != options_.hosts.end()) {
    host_ = it->second;
  } else if (is_loopback_registry(ref_.domain)) {
    host_.skip_verify = true;
    http_fallback_ = true;
  }
  origin_ = (host_.plain_http ? "http://" : "https://") + host;
}

Error RegistryClient::transport_error(Error error) const {
  std::string message = error.message();
  bool tls = message.find("SSL") != std::string::npos || message.find("TLS") != std::string::npos ||
             message.find("certificate") != std::string::npos;
  std::string hint;
  if (tls && !host_.plain_http) {
    hint = fmt::format(
        " (a plain-HTTP registry needs \"registries\": {{\"{0}\": {{\"plain_http\": true}}}} in berthd's "
        "config; a private CA needs \"ca_file\" there, or \"skip_verify\": true)",
        ref_.domain);
  }
  return Error(error.code(), fmt::format("registry {}: {}{}", ref_.domain, message, hint));
}

Error RegistryClient::status_error(const HttpResponse& response, const std::string& what) const {
  struct Meaning {
    long status;
    ErrorCode code;
    const char* text;
  };
  static constexpr Meaning kMeanings[] = {
      {401, ErrorCode::kPermissionDenied, "unauthorized (check credentials)"},
      {403, ErrorCode::kPermissionDenied, "forbidden"},
      {404, ErrorCode::kNotFound, "not found"},
      {429, ErrorCode::kResourceExhausted, "too many requests (rate limited)"},
  };
  ErrorCode code = response.status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kUnknown;
  std::string meaning = response.status >= 500 ? "registry server error" : "unexpected response";
  for (const auto& m : kMeanings) {
    if (m.status == response.status) {
      code = m.code;
      meaning = m.text;
    }
  }
  // The distribution spec's {"errors":[{"code","message"}]}, else the raw head of the body.
  std::string detail;
  if (auto tree = json::parse(response.body, "error body"); tree.ok()) {
    if (auto errors = json::root(*tree).get("errors"); errors && errors->is_array()) {
      for (const auto& e : errors->as_array().value_or({})) {
        auto c = e.get("code");
        auto m = e.get("message");
        if (!detail.empty()) detail += "; ";
        detail += (c ? c->as_string().value_or("") : "") + ": " + (m ? m->as_string().value_or("") : "");
      }
    }
  }
  if (detail.empty()) detail = response.body.substr(0, 300);
  // An endless or huge error body was not read to its end: say so, with the limit.
  std::string cut = response.body_truncated ? fmt::format(" (error body cut at the {} byte limit)", kMaxErrorBody) : "";
  return make_error(code, "{} {}: HTTP {} {}{}{}{}", what, ref_.full(), response.status, meaning,
                    detail.empty() ? "" : ": ", detail, cut);
}

Status RegistryClient::authenticate(const AuthChallenge& challenge) {
  if (!credentials_loaded_) {
    if (!options_.credentials.empty()) {
      credentials_ = options_.credentials;
    } else {
      BERTH_ASSIGN_OR_RETURN(credentials_, credentials_for(options_.auth_config, ref_.domain));
    }
    credentials_loaded_ = true;
  }
  if (challenge.scheme == "basic") {
    if (credentials_.empty()) {
      return make_error(ErrorCode::kPermissionDenied,
                        "{} requires basic auth and no credentials are configured", ref_.domain);
    }
    authorization_ = "Basic " + base64_encode(credentials_);
    return {};
  }
  if (challenge.scheme != "bearer") {
    return make_error(ErrorCode::kUnimplemented, "unsupported auth scheme {:?} from {}", challenge.scheme,
                      ref_.domain);
  }
  std::string realm = challenge.param("realm");
  if (!realm.starts_with("https://") && !realm.starts_with("http://")) {
    return make_error(ErrorCode::kPermissionDenied, "bearer challenge from {} has no usable realm",
                      ref_.domain);
  }
  // Credentials must not leave a TLS registry in clear text.
  if (!host_.plain_http && !http_fallback_ && realm.starts_with("http://") && !credentials_.empty()) {
    return make_error(ErrorCode::kPermissionDenied,
                      "{} sends tokens from a plain-HTTP realm {}; refusing to send credentials", ref_.domain,
                      realm);
  }
  std::string scope = challenge.param("scope");
  // No repository (a login): a token for the registry alone, as docker asks for one.
  if (scope.empty() && !ref_.repository.empty()) scope = "repository:" + ref_.repository + ":pull";
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&") +
                    "service=" + url_escape(challenge.param("service")) +
                    (scope.empty() ? "" : "&scope=" + url_escape(scope));
  HttpRequest request{
      .url = url, .max_body = 1 << 20, .tls = {host_.skip_verify, host_.ca_file}, .basic_user = credentials_,
      .cancelled = options_.cancelled};
  auto sent = http_request(request);
  if (!sent) return transport_error(std::move(sent).error());
  HttpResponse response = std::move(*sent);
  if (response.status != 200) return status_error(response, "token for");
  BERTH_ASSIGN_OR_RETURN(auto tree, json::parse(response.body, "token response"));
  auto token = json::root(tree).get("token");
  if (!token) token = json::root(tree).get("access_token");
  if (!token) return make_error(ErrorCode::kPermissionDenied, "token response from {} has no token", realm);
  BERTH_ASSIGN_OR_RETURN(std::string value, token->as_string());
  authorization_ = "Bearer " + value;
  return {};
}

Result<HttpResponse> RegistryClient::get(const std::string& path, std::vector<std::string> headers,
                                         std::function<Status(std::string_view)> sink, size_t max_body,
                                         std::function<Status(long)> on_status) {
  return send({.url = path,
               .headers = std::move(headers),
               .sink = std::move(sink),
               .on_status = std::move(on_status),
               .max_body = max_body});
}

std::string RegistryClient::resolve_url(const std::string& url, const std::string& origin) const {
  if (url.starts_with("http://") || url.starts_with("https://")) return url;
  if (url.starts_with("/v2/")) return origin + url;
  return origin + "/v2/" + ref_.repository + url;
}

Result<HttpResponse> RegistryClient::send(HttpRequest request) {
  std::string target = std::move(request.url);
  request.tls = {host_.skip_verify, host_.ca_file};
  if (!request.cancelled) request.cancelled = options_.cancelled;
  std::vector<std::string> headers = std::move(request.headers);
  for (int attempt = 0;; ++attempt) {
    std::string auth, origin;
    {
      std::lock_guard lock(mu_);
      auth = authorization_;
      origin = origin_;
    }
    request.url = resolve_url(target, origin);
    // The registry's token goes to the registry only, not to a storage backend it points an upload at.
    bool ours = request.url.starts_with(origin + "/");
    request.headers = headers;
    if (!auth.empty() && ours) request.headers.push_back("Authorization: " + auth);
    auto sent = http_request(request);
    if (!sent && sent.error().code() == ErrorCode::kUnavailable && http_fallback_ && origin.starts_with("https://") &&
        !target.starts_with("https://")) {
      std::lock_guard lock(mu_);  // docker's insecure registry: HTTPS failed, plain HTTP next
      if (origin_ == origin) origin_ = "http://" + origin.substr(8);
      log::get("berthd")->info("registry {}: HTTPS failed ({}), trying plain HTTP", ref_.domain, sent.error().message());
      attempt--;
      continue;
    }
    if (!sent) return transport_error(std::move(sent).error());
    HttpResponse response = std::move(*sent);
    if (response.status != 401 || attempt > 0 || response.www_authenticate.empty()) return response;
    std::lock_guard lock(mu_);
    if (authorization_ == auth) BERTH_TRY(authenticate(parse_auth_challenge(response.www_authenticate)));
  }
}

Result<FetchedManifest> RegistryClient::fetch_manifest(const std::string& object) {
  std::vector<std::string> headers = {"Accept: " + std::string(kOciManifest) + ", " + std::string(kOciIndex) +
                                      ", " + std::string(kDockerManifest) + ", " +
                                      std::string(kDockerManifestList)};
  BERTH_ASSIGN_OR_RETURN(HttpResponse response,
                         get("/manifests/" + object, headers, nullptr, options_.max_manifest_size));
  if (response.status != 200) return status_error(response, "fetch manifest of");
  FetchedManifest out{response.content_type, sha256_digest(response.body), std::move(response.body)};
  if (!response.docker_content_digest.empty() && response.docker_content_digest.starts_with("sha256:") &&
      response.docker_content_digest != out.digest) {
    return make_error(ErrorCode::kDataLoss, "manifest of {} has digest {} but the registry announced {}",
                      ref_.full(), out.digest, response.docker_content_digest);
  }
  if (object.starts_with("sha256:") && out.digest != object) {
    return make_error(ErrorCode::kDataLoss, "manifest {} of {} has digest {}", object, ref_.full(),
                      out.digest);
  }
  if (auto semi = out.media_type.find(';'); semi != std::string::npos) out.media_type.resize(semi);
  return out;
}

Result<std::string> RegistryClient::fetch_small_blob(const std::string& digest, size_t max_size) {
  BERTH_TRY(validate_digest(digest));
  BERTH_ASSIGN_OR_RETURN(HttpResponse response, get("/blobs/" + digest, {}, nullptr, max_size));
  if (response.status != 200) return status_error(response, "fetch blob " + digest + " of");
  if (sha256_digest(response.body) != digest) {
    return make_error(ErrorCode::kDataLoss, "blob {} of {} failed digest verification", digest, ref_.full());
  }
  return std::move(response.body);
}

Status RegistryClient::fetch_blob(const std::string& digest, ContentWriter& writer,
                                  const std::function<Status(int64_t)>& progress) {
  BERTH_TRY(validate_digest(digest));
  std::vector<std::string> headers;
  if (writer.offset() > 0) headers.push_back(fmt::format("Range: bytes={}-", writer.offset()));
  // A server that ignores Range answers 200 with the whole blob: start over then.
  auto on_status = [&](long status) -> Status {
    if (status == 200 && writer.offset() > 0) return writer.truncate();
    return {};
  };
  auto sink = [&](std::string_view chunk) -> Status {
    BERTH_TRY(writer.write(chunk));
    if (progress) BERTH_TRY(progress(writer.offset()));
    return {};
  };
  BERTH_ASSIGN_OR_RETURN(HttpResponse response, get("/blobs/" + digest, headers, sink, 0, on_status));
  if (response.status == 416 && writer.offset() > 0) {  // offset past the end: corrupt ingest, start over
    BERTH_TRY(writer.truncate());
    return fetch_blob(digest, writer, progress);
  }
  if (response.status != 200 && response.status != 206)
    return status_error(response, "fetch blob " + digest + " of");
  return {};
}

}  // namespace berth::manager
