// Verbs that move images between berthd and registries or files: push, login, logout, search.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "context.h"

namespace berth::cli {

Status image_push(Context& ctx, const std::vector<std::string>& args);
Status login(Context& ctx, const std::vector<std::string>& args);
Status logout(Context& ctx, const std::vector<std::string>& args);
Status history(Context& ctx, const std::vector<std::string>& args);
// Parses args against desc, the words that are no option being returned in order.
std::vector<std::string> parse_verb_args(const std::vector<std::string>& args,
                                         boost::program_options::options_description& desc);
// The credentials the client's config.json holds for the registry of reference ("" when none).
Result<std::string> credentials_for_reference(const std::string& reference);

}  // namespace berth::cli
