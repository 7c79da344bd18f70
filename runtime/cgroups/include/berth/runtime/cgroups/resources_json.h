// JSON <-> Resources. The same object is `linux.resources` in config.json and the file given to
// `berth update --resources`; errors name the JSON path ("linux.resources.memory.limit: ...").
#pragma once

#include <string>
#include <string_view>

#include "berth/common/error.h"
#include "berth/common/json.h"
#include "berth/runtime/cgroups/resources.h"

namespace berth::runtime::cgroups {

// Parses a `linux.resources` value (its path() prefixes error messages). Null gives empty Resources.
Result<Resources> parse_resources(const json::Value& v);

// Parses a standalone document, e.g. the --resources file of `berth update` ("-" = stdin is the
// caller's business); `what` names it in errors.
Result<Resources> parse_resources_text(std::string_view text, std::string_view what);

// Writes the object back in the spec's shape; absent fields are omitted.
std::string to_json(const Resources& r);
void write_resources(json::Writer& w, const Resources& r);

// Checks that are shared by the parser and by Resources built in code (e.g. from update flags):
// page sizes, unified keys and rdma device names must not be able to name another file.
Status validate_resources(const Resources& r, std::string_view path = "linux.resources");

}  // namespace berth::runtime::cgroups
