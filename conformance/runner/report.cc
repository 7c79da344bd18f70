#include "report.h"

#include <sys/utsname.h>

#include <algorithm>
#include <ctime>

#include "berth/common/json.h"

namespace conformance {

Totals totals_of(const RuntimeResults& r) {
  Totals t;
  for (const auto& [id, o] : r.outcomes) {
    if (o.verdict == Verdict::kPass) ++t.pass;
    if (o.verdict == Verdict::kFail) ++t.fail;
    if (o.verdict == Verdict::kSkip) ++t.skip;
  }
  return t;
}

namespace {

std::string pad(const std::string& s, size_t w) { return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' '); }

std::string kernel() {
  struct utsname u;
  ::uname(&u);
  return u.release;
}

std::string today() {
  char buf[32];
  std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return buf;
}

}  // namespace

std::string format_table(const Suite& suite, const std::vector<RuntimeResults>& results, bool verbose,
                         bool only_differences) {
  size_t idw = 10, refw = 10;
  for (const auto& r : suite.requirements()) {
    idw = std::max(idw, r.id.size() + 1);
    refw = std::max(refw, r.ref.size() + 1);
  }
  std::string out = pad("requirement", idw) + pad("level", 7) + pad("spec", refw);
  for (const auto& rt : results) out += pad(rt.name, 7);
  out += "\n";
  std::string details;
  for (const auto& req : suite.requirements()) {
    std::vector<const Outcome*> row;
    bool any = false;
    for (const auto& rt : results) {
      auto it = rt.outcomes.find(req.id);
      row.push_back(it == rt.outcomes.end() ? nullptr : &it->second);
      any |= it != rt.outcomes.end();
    }
    if (!any) continue;
    bool differ = false;
    for (const auto* o : row) differ |= !o || !row[0] || o->verdict != row[0]->verdict;
    if (only_differences && !differ) continue;
    out += pad(req.id, idw) + pad(level_name(req.level), 7) + pad(req.ref, refw);
    for (size_t i = 0; i < row.size(); ++i) {
      out += pad(row[i] ? verdict_name(row[i]->verdict) : "-", 7);
      if (verbose && row[i] && row[i]->verdict != Verdict::kPass && !row[i]->detail.empty()) {
        details += "  " + results[i].name + " " + req.id + ": " + verdict_name(row[i]->verdict) + ": " +
                   row[i]->detail + "\n";
      }
    }
    out += "\n";
  }
  out += "\ntotals (" + today() + ", kernel " + kernel() + "):\n";
  for (const auto& rt : results) {
    Totals t = totals_of(rt);
    out += "  " + pad(rt.name, 7) + " pass " + std::to_string(t.pass) + "  fail " + std::to_string(t.fail) +
           "  skip " + std::to_string(t.skip) + "   (" + rt.version + ")\n";
  }
  if (verbose && !details.empty()) out += "\nnot passed:\n" + details;
  return out;
}

std::string format_json(const Suite& suite, const std::vector<RuntimeResults>& results) {
  berth::json::Writer w(true);
  w.begin_object();
  w.field("date", today()).field("kernel", kernel());
  w.key("runtimes").begin_array();
  for (const auto& rt : results) {
    Totals t = totals_of(rt);
    w.begin_object().field("name", rt.name).field("path", rt.path).field("version", rt.version);
    w.key("totals").begin_object().field("pass", t.pass).field("fail", t.fail).field("skip", t.skip).end_object();
    w.end_object();
  }
  w.end_array();
  w.key("requirements").begin_array();
  for (const auto& req : suite.requirements()) {
    bool any = false;
    for (const auto& rt : results) any |= rt.outcomes.count(req.id) != 0;
    if (!any) continue;
    w.begin_object().field("id", req.id).field("spec", req.ref).field("level", level_name(req.level));
    w.field("description", req.description).field("case", req.case_name);
    w.key("results").begin_object();
    for (const auto& rt : results) {
      auto it = rt.outcomes.find(req.id);
      if (it == rt.outcomes.end()) continue;
      w.key(rt.name).begin_object().field("verdict", verdict_name(it->second.verdict));
      if (!it->second.detail.empty()) w.field("detail", it->second.detail);
      w.end_object();
    }
    w.end_object().end_object();
  }
  w.end_array();
  w.end_object();
  return w.str();
}

}  // namespace conformance
