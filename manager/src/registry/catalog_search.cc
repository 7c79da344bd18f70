#include "registry/catalog_search.h"

#include "berth/common/json.h"

namespace berth::manager {

namespace {

constexpr int kMaxPages = 1000;  // a registry whose pages never end does not hold the search forever
constexpr size_t kPageSize = 100;  // docker-registry's default and maximum

Result<json::Tree> get_json(RegistryClient& client, const std::string& url, const std::string& what) {
  HttpRequest request;
  request.url = url;
  request.headers = {"Accept: application/json"};
  BERTH_ASSIGN_OR_RETURN(HttpResponse response, client.send(std::move(request)));
  if (response.status == 404 && what == "catalog")
    return make_error(ErrorCode::kUnimplemented, "registry {} has no catalog (/v2/_catalog): it cannot be searched",
                      client.reference().domain);
  if (response.status != 200) return client.status_error(response, what);
  return json::parse(response.body, what);
}

}  // namespace

Result<std::vector<CatalogMatch>> search_catalog(const RegistryOptions& base, const std::string& registry,
                                                 const std::string& term, size_t limit,
                                                 const std::string& credentials) {
  RegistryOptions options = base;
  if (!credentials.empty()) options.credentials = credentials;
  RegistryClient catalog(Reference{registry, "", "", ""}, options);
  std::vector<CatalogMatch> out;
  // Pages as the distribution spec defines them: n per page, the next one starting after `last`
  // (the URL the registry's Link header names); a short page is the last one.
  std::string last;
  for (int page = 0; out.size() < limit; ++page) {
    if (page == kMaxPages) return make_error(ErrorCode::kResourceExhausted, "catalog of {}: over {} pages", registry, kMaxPages);
    std::string url = fmt::format("/v2/_catalog?n={}", kPageSize);
    if (!last.empty()) url += "&last=" + url_escape(last);
    BERTH_ASSIGN_OR_RETURN(auto doc, get_json(catalog, url, "catalog"));
    BERTH_ASSIGN_OR_RETURN(auto repos_v, json::root(doc, "catalog").require("repositories"));
    BERTH_ASSIGN_OR_RETURN(auto repos, repos_v.as_string_array());
    if (repos.empty() || repos.back() == last) break;
    for (const auto& repo : repos) {
      if (out.size() == limit) break;
      if (repo.find(term) == std::string::npos) continue;
      RegistryClient client(Reference{registry, repo, "", ""}, options);
      BERTH_ASSIGN_OR_RETURN(auto tags_doc, get_json(client, "/v2/" + repo + "/tags/list", "tags of " + repo));
      std::vector<std::string> tags;
      if (auto t = json::root(tags_doc, "tags").get("tags")) tags = t->as_string_array().value_or({});
      out.push_back({registry + "/" + repo, std::move(tags)});
    }
    if (repos.size() < kPageSize) break;
    last = repos.back();
  }
  return out;
}

}  // namespace berth::manager
