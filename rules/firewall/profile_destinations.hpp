// A profile's endpoints as firewall destinations (the glue between rules/profile and the
// firewall check).
#pragma once

#include <vector>

#include "rules/firewall/firewall_check.hpp"
#include "rules/profile.hpp"

namespace gwprobe::rules::firewall {

/// One destination per endpoint: its name, documented host, probe host and ports; required as
/// the endpoint is in the profile's mode (tcp-mode endpoints are optional in HTTPS mode).
std::vector<FirewallDestination> destinations_from_profile(const Profile& profile);

}  // namespace gwprobe::rules::firewall
