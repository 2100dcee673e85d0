// A firewall ruleset as gwprobe evaluates it: nftables' model (tables, chains with hooks and
// priorities, rules as expression lists, named sets). `nft -j list ruleset` is read as is;
// iptables-save is translated into the same expressions, as iptables-nft does in the kernel.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gwprobe::rules::firewall {

enum class Hook { prerouting, input, forward, output, postrouting, ingress, egress };

/// Where the ruleset came from; decides what a missing address family means.
enum class RulesetFormat {
  nft_json,       ///< the whole nf_tables ruleset: a family with no tables has no filtering
  iptables_save,  ///< one family's iptables (or ip6tables): the other family is not covered
};

struct Rule {
  std::string location;  ///< "inet gwfilter output handle 7" or "line 12"
  std::string text;      ///< the rule in nft-like or iptables-save syntax, for messages
  nlohmann::json expr;   ///< array of nft JSON expressions (matches and statements)
};

struct Chain {
  std::string family;  ///< ip | ip6 | inet | arp | bridge | netdev
  std::string table;
  std::string name;
  std::optional<Hook> hook;  ///< set for base chains
  std::string type;          ///< filter | nat | route (base chains)
  int priority = 0;
  std::string policy = "accept";     ///< base chains: accept | drop
  std::string location;              ///< "inet gwfilter output" or "line 4"
  std::vector<std::string> devices;  ///< netdev chains: the devices they are bound to
  std::vector<Rule> rules;
};

/// A named set or map; `elements` as nft prints them ("elem"), map entries as [key, data].
struct NamedSet {
  std::string family;
  std::string table;
  std::string name;
  std::string type;
  bool is_map = false;
  bool dynamic = false;  ///< flags dynamic/timeout: the kernel may add or expire elements
  nlohmann::json elements = nlohmann::json::array();
};

struct Ruleset {
  std::string source;
  RulesetFormat format = RulesetFormat::nft_json;
  std::string iptables_family;  ///< "ip" or "ip6" for iptables-save input
  std::vector<Chain> chains;
  std::vector<NamedSet> sets;
  std::vector<std::string> notes;  ///< e.g. "table bridge x not evaluated"

  const Chain* find_chain(const std::string& family, const std::string& table,
                          const std::string& name) const;
  const NamedSet* find_set(const std::string& family, const std::string& table,
                           const std::string& name) const;
};

std::optional<Hook> parse_hook(std::string_view name);
std::string_view to_string(Hook hook) noexcept;

}  // namespace gwprobe::rules::firewall
