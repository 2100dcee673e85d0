// BGP daemons' route dumps: which prefixes arrive, tagged with which communities.
#pragma once

#include <string>
#include <vector>

#include "core/result.hpp"
#include "rules/bgp/community.hpp"
#include "rules/bgp/source_text.hpp"

namespace gwprobe::rules::bgp {

struct BgpRoute {
  std::string prefix;                  ///< "198.18.2.0/24"
  std::vector<Community> communities;  ///< standard communities only (large ones are not ours)
  bool best = false;                   ///< the daemon's selected path
  std::string where;                   ///< "file:line:column" of the route
};

struct RouteDump {
  std::string source;
  std::string format;  ///< "bird" (`show route all`) or "frr-json"
  /// False when the dump cannot show communities (BIRD `show route` without `all`, FRR's table
  /// JSON without `detail`): then nobody can tell which routes carry which community.
  bool has_communities = false;
  std::string how_to_get_communities;  ///< the command to run instead, when !has_communities
  std::vector<BgpRoute> routes;        ///< one entry per path
};

/// Parses BIRD 2 `birdc show route all` text, or FRR JSON: `show bgp ipv4|ipv6 unicast json
/// [detail]`, `show ip bgp json [detail]` (a "routes" object of prefix -> paths, in 8.x's and
/// later versions' layouts) or `show bgp ... PREFIX json` ({"prefix","paths"}).
/// invalid_input "file:line:column: ..." when it is neither.
core::Result<RouteDump> parse_route_dump(const SourceText& source);

}  // namespace gwprobe::rules::bgp
