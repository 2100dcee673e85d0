// Profile endpoints -> firewall destinations.
#include "rules/firewall/profile_destinations.hpp"

namespace gwprobe::rules::firewall {

std::vector<FirewallDestination> destinations_from_profile(const Profile& profile) {
  std::vector<FirewallDestination> out;
  for (const auto& endpoint : profile.endpoints) {
    FirewallDestination d;
    d.name = endpoint.name;
    d.host = endpoint.host;
    d.probe_host = endpoint.probe_host == endpoint.host ? std::string() : endpoint.probe_host;
    d.ports = endpoint.ports;
    d.required = endpoint.is_required(profile.https_mode);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace gwprobe::rules::firewall
