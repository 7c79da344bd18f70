#include "registry/catalog_search.h"

#include <functional>

#include "berth/common/json.h"

namespace berth::manager {

namespace {

constexpr int kMaxPages = 1000;  // a registry whose pages never end does not hold the search forever
constexpr size_t kPageSize = 100;  // docker-registry's default and maximum

// Every page of a paged list (the catalog or a tag list): GET url, read the string array `field`,
// then follow the registry's Link rel="next" (the distribution spec's paging) until there is none.
// on_page returns false to stop early.
Status get_pages(RegistryClient& client, std::string url, const std::string& what, const char* field,
                 const std::function<Result<bool>(std::vector<std::string>&&)>& on_page) {
  for (int page = 0; !url.empty(); ++page) {
    if (page == kMaxPages) return make_error(ErrorCode::kResourceExhausted, "{}: over {} pages", what, kMaxPages);
    HttpRequest request;
    request.url = url;
    request.headers = {"Accept: application/json"};
    BERTH_ASSIGN_OR_RETURN(HttpResponse response, client.send(std::move(request)));
    if (response.status == 404 && what == "catalog")
      return make_error(ErrorCode::kUnimplemented, "registry {} has no catalog (/v2/_catalog): it cannot be searched",
                        client.reference().domain);
    if (response.status != 200) return client.status_error(response, what);
    BERTH_ASSIGN_OR_RETURN(json::Tree doc, json::parse(response.body, what));
    std::vector<std::string> names;
    // docker-registry answers a repository without tags with "tags": null.
    if (auto v = json::root(doc, what).get(field); v && !v->is_null()) {
      BERTH_ASSIGN_OR_RETURN(names, v->as_string_array());
    } else if (std::string_view(field) == "repositories") {
      return make_error(ErrorCode::kInvalidArgument, "{}: the registry's answer has no \"{}\"", what, field);
    }
    std::string next = next_link(response.link);
    if (next == url) return make_error(ErrorCode::kInvalidArgument, "{}: the next page is this page again", what);
    BERTH_ASSIGN_OR_RETURN(bool more, on_page(std::move(names)));
    if (!more) break;
    url = std::move(next);
  }
  return {};
}

}  // namespace

Result<std::vector<CatalogMatch>> search_catalog(const RegistryOptions& base, const std::string& registry,
                                                 const std::string& term, size_t limit,
                                                 const std::string& credentials) {
  RegistryOptions options = base;
  if (!credentials.empty()) options.credentials = credentials;
  RegistryClient catalog(Reference{registry, "", "", ""}, options);
  std::vector<CatalogMatch> out;
  BERTH_TRY(get_pages(catalog, fmt::format("/v2/_catalog?n={}", kPageSize), "catalog", "repositories",
                      [&](std::vector<std::string>&& repos) -> Result<bool> {
    for (const auto& repo : repos) {
      if (out.size() == limit) return false;
      if (repo.find(term) == std::string::npos) continue;
      RegistryClient client(Reference{registry, repo, "", ""}, options);
      std::vector<std::string> tags;
      auto add_tags = [&](std::vector<std::string>&& page) -> Result<bool> {
        tags.insert(tags.end(), page.begin(), page.end());
        return true;
      };
      Status listed = get_pages(client, fmt::format("/v2/{}/tags/list?n={}", repo, kPageSize), "tags of " + repo,
                                "tags", add_tags);
      if (!listed) return std::move(listed).error();
      out.push_back({registry + "/" + repo, std::move(tags)});
    }
    return out.size() < limit;
  }));
  return out;
}

}  // namespace berth::manager
