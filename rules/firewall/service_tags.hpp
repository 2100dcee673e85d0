// Azure Service Tags (the weekly ServiceTags_*.json download or `az network list-service-tags`):
// which address ranges the gateway's destinations may use, and whether an IP allowlist covers
// the tags the gateway needs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "rules/bgp/source_text.hpp"
#include "rules/firewall/ip_range.hpp"

namespace gwprobe::rules::firewall {

struct ServiceTag {
  std::string name;    ///< "ServiceBus.WestEurope", "AzureCloud", "PowerBI"
  std::string region;  ///< "westeurope"; "" for global tags
  std::string system_service;
  std::vector<IpRange> prefixes;
};

struct ServiceTags {
  std::string source;
  std::string cloud;  ///< "Public", "AzureGovernment", ...
  long change_number = 0;
  std::vector<ServiceTag> tags;

  const ServiceTag* find(std::string_view name) const;  ///< case-insensitive
};

/// Parses a Service Tags file: {"changeNumber", "cloud", "values":[{"name", "properties":
/// {"region", "addressPrefixes":[...]}}]} (also the az CLI shape, where the list is under
/// "values" too). invalid_input "file:line:column: ..." for a malformed file or prefix.
core::Result<ServiceTags> parse_service_tags(const bgp::SourceText& source);

/// One tag the gateway needs, resolved to an entry of the file.
struct NeededTag {
  std::string base;    ///< "ServiceBus"
  std::string name;    ///< the entry used: "ServiceBus.WestEurope", or "AzureCloud"
  std::string region;  ///< "westeurope", "" for global
  std::string why;
  std::string source;                 ///< "S1"
  const ServiceTag* entry = nullptr;  ///< nullptr: not in the file
};

/// The tags the gateway depends on (S1: ServiceBus, AzureCloud, PowerBI, AzureActiveDirectory),
/// regional ones narrowed to `regions` (azure names, e.g. "westeurope"; the irregular
/// AzureCloud names of S16 are known). Without regions, the global entries.
std::vector<NeededTag> needed_tags(const ServiceTags& tags,
                                   const std::vector<std::string>& regions);

/// The address ranges of the tags that cover `host` ("*.servicebus.windows.net" -> ServiceBus and
/// AzureCloud of the regions), and a description of where they come from; nullopt when no tag
/// covers the host.
struct HostRanges {
  std::vector<IpRange> ranges;
  std::string origin;  ///< "service tags ServiceBus.WestEurope, AzureCloud.westeurope"
};
std::optional<HostRanges> ranges_for_host(const ServiceTags& tags, std::string_view host,
                                          const std::vector<std::string>& regions);

/// An allowlist: one address, CIDR prefix or range per line (commas and spaces also separate),
/// `#` comments. invalid_input "file:line:column: ..." for anything else.
core::Result<std::vector<IpRange>> parse_allowlist(const bgp::SourceText& source);

struct TagCoverage {
  NeededTag tag;
  std::size_t prefixes = 0;            ///< in the tag
  std::vector<std::string> uncovered;  ///< CIDR blocks of the tag the allowlist lacks
};

/// For every needed tag, the parts of its prefixes that no allowlist entry covers.
std::vector<TagCoverage> check_allowlist(const ServiceTags& tags,
                                         const std::vector<std::string>& regions,
                                         const std::vector<IpRange>& allowlist);

}  // namespace gwprobe::rules::firewall
