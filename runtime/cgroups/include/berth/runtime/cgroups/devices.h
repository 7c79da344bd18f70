// Device cgroup rules: the runtime's default allow list and the v1 text form.
#pragma once

#include <string>
#include <vector>

#include "berth/runtime/cgroups/resources.h"

namespace berth::runtime::cgroups {

// Devices every container may use, as runc allows them: null, zero, full, random, urandom, tty,
// console, ptmx and /dev/pts/*, plus mknod of any char/block device (creating is not opening).
const std::vector<DeviceRule>& default_device_rules();

// The rule list a container's cgroup gets, as runc builds it: deny everything, then the spec's
// rules in order, then the defaults (a container can't deny itself /dev/null). linux.devices
// entries are not allowed implicitly: only these rules decide what may be opened.
std::vector<DeviceRule> container_device_rules(const std::vector<DeviceRule>& spec_rules);

// "c 1:3 rwm", "a *:* rwm" — the devices.allow / devices.deny format.
std::string device_rule_string(const DeviceRule& rule);

// True for the rule that matches every device with every access ("a *:* rwm").
bool is_wildcard_rule(const DeviceRule& rule);

}  // namespace berth::runtime::cgroups
