// `search` over a plain registry: docker's search needs Docker Hub's v1 search API, which a
// distribution registry lacks, so the repository names come from /v2/_catalog (page by page) and
// are matched against the term here; each match's tags come from /v2/<name>/tags/list.
#pragma once

#include <string>
#include <vector>

#include "registry/registry_client.h"

namespace berth::manager {

struct CatalogMatch {
  std::string name;               // registry/repository, pullable as is
  std::vector<std::string> tags;  // empty: the repository has no tag left
};

// Repositories of registry whose name contains term (all with an empty term), in catalog order, at
// most limit. credentials: user:password (berthctl login's), or empty.
Result<std::vector<CatalogMatch>> search_catalog(const RegistryOptions& options, const std::string& registry,
                                                 const std::string& term, size_t limit,
                                                 const std::string& credentials);

}  // namespace berth::manager
