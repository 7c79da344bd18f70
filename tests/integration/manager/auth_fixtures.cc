#include "auth_fixtures.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <random>

#include "berth/common/child_process.h"
#include "berth/common/fs.h"
#include "berth/common/json.h"
#include "registry/http_client.h"
#include "registry_fixture.h"

namespace berth::manager::testing {
namespace {

Status run(const std::vector<std::string>& argv) {
  BERTH_ASSIGN_OR_RETURN(auto out, run_command(argv));
  if (!out.status.success())
    return make_error(ErrorCode::kInternal, "{} failed: {}", argv[0] + " " + argv[1], out.err);
  return {};
}

std::string base64url(std::string_view data) {
  std::string s = base64_encode(data);
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

Result<std::string> sign_rs256(const std::string& key_pem, const std::string& input) {
  BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return make_error(ErrorCode::kInternal, "cannot read token key");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string sig;
  bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                        reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok) return make_error(ErrorCode::kInternal, "signing failed");
  return sig;
}

}  // namespace

Result<TestPki> make_pki(const std::string& dir) {
  TestPki p{dir + "/ca.pem", dir + "/server.pem", dir + "/server.key", dir + "/token.pem",
            dir + "/token.key"};
  std::string ca_key = dir + "/ca.key", csr = dir + "/server.csr", ext = dir + "/san.ext";
  BERTH_TRY(run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out",
                 p.ca_cert, "-days", "2", "-subj", "/CN=berth test CA"}));
  BERTH_TRY(run({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", p.server_key, "-out", csr,
                 "-subj", "/CN=127.0.0.1"}));
  BERTH_TRY(write_file_atomic(ext, "subjectAltName=IP:127.0.0.1\n"));
  BERTH_TRY(run({"openssl", "x509", "-req", "-in", csr, "-CA", p.ca_cert, "-CAkey", ca_key, "-CAcreateserial",
                 "-out", p.server_cert, "-days", "2", "-extfile", ext}));
  BERTH_TRY(run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p.token_key, "-out",
                 p.token_cert, "-days", "2", "-subj", "/CN=berth token issuer"}));
  return p;
}

Status write_htpasswd(const std::string& path, const std::string& user, const std::string& password) {
  return run({"htpasswd", "-Bbc", path, user, password});
}

Status write_docker_config(const std::string& path, const std::string& host, const std::string& user,
                           const std::string& password) {
  return write_file_atomic(path, fmt::format(R"({{"auths": {{"{}": {{"auth": "{}"}}}}}})", host,
                                             base64_encode(user + ":" + password)));
}

Result<std::unique_ptr<TokenIssuer>> TokenIssuer::start(std::string key_file, std::string cert_file,
                                                        std::string issuer, std::string service,
                                                        std::string user, std::string password) {
  auto t = std::make_unique<TokenIssuer>();
  BERTH_ASSIGN_OR_RETURN(t->key_pem_, read_file(key_file));
  BERTH_ASSIGN_OR_RETURN(auto der, run_command({"openssl", "x509", "-in", cert_file, "-outform", "DER"}));
  t->cert_der_b64_ = base64_encode(der.out);
  t->issuer_ = std::move(issuer);
  t->service_ = std::move(service);
  t->user_ = std::move(user);
  t->password_ = std::move(password);
  t->listener_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(t->listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
      ::listen(t->listener_.get(), 16) < 0) {
    return sys_error("token issuer listen");
  }
  socklen_t len = sizeof addr;
  ::getsockname(t->listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  t->port_ = ntohs(addr.sin_port);
  t->thread_ = std::thread([p = t.get()] { p->serve(); });
  return t;
}

TokenIssuer::~TokenIssuer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void TokenIssuer::serve() {
  while (!stop_) {
    pollfd pfd{listener_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) continue;
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
      ssize_t n = ::read(conn.get(), buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    (void)write_all(conn.get(), handle(request));
  }
}

std::string TokenIssuer::handle(const std::string& request) {
  auto reply = [](int code, const std::string& body) {
    return fmt::format(
        "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: "
        "close\r\n\r\n{}",
        code, body.size(), body);
  };
  std::string expected = "Authorization: Basic " + base64_encode(user_ + ":" + password_) + "\r\n";
  if (request.find(expected) == std::string::npos) {
    ++refused_;
    return reply(401, R"({"errors":[{"code":"UNAUTHORIZED","message":"bad token credentials"}]})");
  }
  // Grant every requested scope: "scope=repository:name:pull,push".
  std::string line = request.substr(0, request.find("\r\n"));
  json::Writer access;
  access.begin_array();
  for (size_t at = line.find("scope="); at != std::string::npos; at = line.find("scope=", at + 1)) {
    size_t end = line.find_first_of("& ", at);
    std::string scope = url_decode(line.substr(at + 6, end - at - 6));
    size_t c1 = scope.find(':'), c2 = scope.rfind(':');
    std::vector<std::string> actions;
    std::string acts = scope.substr(c2 + 1);
    for (size_t s = 0; s <= acts.size();) {
      size_t e = acts.find(',', s);
      if (e == std::string::npos) e = acts.size();
      actions.push_back(acts.substr(s, e - s));
      s = e + 1;
    }
    access.begin_object()
        .field("type", scope.substr(0, c1))
        .field("name", scope.substr(c1 + 1, c2 - c1 - 1))
        .string_array("actions", actions)
        .end_object();
  }
  access.end_array();
  int64_t now = ::time(nullptr);
  std::string header = fmt::format(R"({{"typ":"JWT","alg":"RS256","x5c":["{}"]}})", cert_der_b64_);
  std::string claims =
      fmt::format(R"({{"iss":"{}","sub":"{}","aud":"{}","exp":{},"nbf":{},"iat":{},"jti":"{}","access":{}}})",
                  issuer_, user_, service_, now + 600, now - 60, now, std::random_device()(), access.str());
  std::string input = base64url(header) + "." + base64url(claims);
  auto sig = sign_rs256(key_pem_, input);
  if (!sig) return reply(500, "{}");
  ++issued_;
  return reply(200, fmt::format(R"({{"token":"{}.{}"}})", input, base64url(*sig)));
}

}  // namespace berth::manager::testing
