// search, as docker's, over a registry's catalog (through berthd): docker's columns, with what a plain
// registry cannot tell (description, stars, official, automated) left empty.
#include <boost/program_options.hpp>
#include <ostream>

#include "berth/common/json.h"
#include "context.h"
#include "distribution_commands.h"
#include "output.h"
#include "berth/manager/v1/search.grpc.pb.h"

namespace berth::cli {
namespace po = boost::program_options;

namespace {

// REGISTRY/TERM: a first component with a '.' or ':' (or "localhost") names the registry, as in
// image references; anything else is a Docker Hub search.
std::pair<std::string, std::string> split_registry(const std::string& query) {
  size_t slash = query.find('/');
  if (slash != std::string::npos) {
    std::string first = query.substr(0, slash);
    if (first.find_first_of(".:") != std::string::npos || first == "localhost")
      return {first, query.substr(slash + 1)};
  }
  return {"docker.io", query};
}

// docker's --filter keys; a plain registry has no stars, official or automated images.
bool passes(const std::vector<std::string>& filters) {
  for (const auto& f : filters) {
    size_t eq = f.find('=');
    std::string key = f.substr(0, eq), value = eq == std::string::npos ? "" : f.substr(eq + 1);
    if (key == "stars") {
      try {
        if (std::stoi(value) > 0) return false;
      } catch (const std::exception&) {
        throw UsageError("invalid filter 'stars=" + value + "': a number is expected");
      }
    } else if (key == "is-official" || key == "is-automated") {
      if (value != "true" && value != "false")
        throw UsageError("invalid filter '" + f + "': true or false is expected");
      if (value == "true") return false;
    } else {
      throw UsageError("invalid filter '" + key + "'");
    }
  }
  return true;
}

// A docker --format template: {{.Name}}, {{.Description}}, {{.StarCount}}, {{.IsOfficial}}, {{.IsAutomated}}.
std::string render(std::string tmpl, const std::string& name) {
  const std::pair<std::string, std::string> fields[] = {{"{{.Name}}", name},
                                                        {"{{.Description}}", ""},
                                                        {"{{.StarCount}}", "0"},
                                                        {"{{.IsOfficial}}", "false"},
                                                        {"{{.IsAutomated}}", "false"}};
  for (const auto& [key, value] : fields) {
    for (size_t at; (at = tmpl.find(key)) != std::string::npos;) tmpl.replace(at, key.size(), value);
  }
  if (tmpl.find("{{") != std::string::npos) throw UsageError("--format: unknown field in " + tmpl);
  return tmpl;
}

}  // namespace

Status search(Context& ctx, const std::vector<std::string>& args) {
  int limit = 25;
  bool no_trunc = false;
  std::string format;
  std::vector<std::string> filters;
  po::options_description desc("search options");
  desc.add_options()("limit", po::value(&limit), "at most this many results (1-100, default 25)")(
      "filter,f", po::value(&filters)->composing(), "stars=N, is-official=BOOL, is-automated=BOOL")(
      "no-trunc", po::bool_switch(&no_trunc), "do not cut descriptions (a registry has none)")(
      "format", po::value(&format), "table, json or a template ({{.Name}} ...)");
  std::vector<std::string> positional = parse_verb_args(args, desc);
  require_args(positional, 1, "search [--limit N] [--filter K=V] [--no-trunc] [--format F] REGISTRY/TERM");
  bool keep = passes(filters);
  auto [registry, term] = split_registry(positional[0]);
  manager::v1::SearchRequest req;
  req.set_registry(registry);
  req.set_term(term);
  req.set_limit(limit);
  BERTH_ASSIGN_OR_RETURN(std::string credentials, credentials_for_reference(registry + "/search"));
  req.set_credentials(credentials);
  manager::v1::SearchResponse resp;
  BERTH_TRY(rpc(ctx, [&](grpc::ClientContext* c) {
    return manager::v1::Search::NewStub(ctx.channel)->Search(c, req, &resp);
  }));
  std::vector<const manager::v1::SearchResult*> results;
  if (keep)
    for (const auto& r : resp.results()) results.push_back(&r);
  if (ctx.json || format == "json") {
    json::Writer w;
    w.begin_array();
    for (const auto* r : results) {
      w.begin_object()
          .field("Name", r->name())
          .field("Description", "")
          .field("StarCount", 0)
          .field("IsOfficial", false)
          .field("IsAutomated", false)
          .string_array("Tags", {r->tags().begin(), r->tags().end()})
          .end_object();
    }
    w.end_array();
    ctx.out << w.str() << "\n";
    return {};
  }
  if (!format.empty() && format != "table") {
    for (const auto* r : results) ctx.out << render(format, r->name()) << "\n";
    return {};
  }
  (void)no_trunc;  // docker cuts DESCRIPTION at 45 characters; a registry gives none to cut
  Table table({"NAME", "DESCRIPTION", "STARS", "OFFICIAL", "AUTOMATED"});
  for (const auto* r : results) table.add({r->name(), "", "0", "", ""});
  table.print(ctx.out);
  return {};
}

}  // namespace berth::cli
