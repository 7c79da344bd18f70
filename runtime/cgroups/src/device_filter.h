// cgroup v2 device control: a BPF_PROG_TYPE_CGROUP_DEVICE program built from the rule list,
// loaded and attached with raw bpf(2) calls (no libbpf).
#pragma once

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "berth/common/error.h"
#include "berth/runtime/cgroups/resources.h"

namespace berth::runtime::cgroups {

// The program: returns 1 (allow) or 0 (deny) for a bpf_cgroup_dev_ctx. Rules are checked last to
// first, so a later rule overrides an earlier one, as in the spec; no match denies.
std::vector<bpf_insn> build_device_filter(const std::vector<DeviceRule>& rules);

// Loads the program and attaches it to the cgroup directory with BPF_F_ALLOW_MULTI, then
// detaches the programs that were attached there before (so `update` replaces, not stacks).
Status attach_device_filter(const std::string& cgroup_dir, const std::vector<DeviceRule>& rules);

}  // namespace berth::runtime::cgroups
