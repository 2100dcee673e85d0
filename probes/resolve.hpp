// Name resolution the way the system does it (hosts file, then the resolv.conf servers through
// c-ares), bounded by a Deadline and woken by a CancelToken; and the per-run AddressCache.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/cancel.hpp"
#include "core/deadline.hpp"
#include "core/diagnosis.hpp"
#include "core/result.hpp"
#include "probes/ip_address.hpp"

namespace gwprobe::probes {

/// How to resolve like the system: which files to read. Tests and labs point these at their own
/// files (and `port` at a mock server); production uses the defaults.
struct ResolverConfig {
  std::string resolv_conf = "/etc/resolv.conf";
  /// Consulted before DNS ("" = skip), as nsswitch's usual "hosts: files dns" does.
  std::string hosts_file = "/etc/hosts";
  /// UDP/TCP port of every resolv.conf server (0 = 53). resolv.conf itself cannot carry a port.
  std::uint16_t port = 0;
  /// c-ares per-attempt timeout and tries; the caller's deadline still bounds the whole lookup.
  std::chrono::milliseconds attempt_timeout{1500};
  int tries = 2;
};

/// A DNS server to ask directly (a reference resolver).
struct DnsServer {
  IpAddress address;
  std::uint16_t port = 53;
  /// "1.1.1.1:53" / "[2606:4700::1111]:53".
  std::string to_string() const { return address.with_port(port); }
};

/// Parses "1.1.1.1", "1.1.1.1:5353", "[2606:4700::1111]:53" or a bare IPv6 address. Host names are
/// rejected: a resolver named by a name would need a resolver first.
core::Result<DnsServer> parse_dns_server(std::string_view text);

/// Where an answer came from.
enum class AnswerSource { literal, hosts_file, dns };

/// The outcome of one lookup: addresses, or the DNS diagnosis saying why there are none.
struct Resolution {
  /// ok; DNS_NXDOMAIN / DNS_NODATA / DNS_TIMEOUT / DNS_SERVFAIL / DNS_REFUSED; PROBE_CANCELLED;
  /// PROBE_ERROR (a local failure, e.g. unreadable resolv.conf).
  core::Diagnosis diagnosis = core::Diagnosis::ok;
  std::string error;  ///< when not ok: one line for people ("NXDOMAIN (no such name)")
  std::string cause;  ///< when not ok: the library's own code ("ARES_ENOTFOUND")
  AnswerSource source = AnswerSource::dns;
  /// DNS: the server whose reply settled the lookup ("127.0.0.1:5353"), or, when none replied,
  /// the servers asked ("10.1.1.1:53, 10.1.1.2:53"). Hosts file: its path. Literal: empty.
  std::string server;
  std::vector<IpAddress> addresses;      ///< A then AAAA answers, de-duplicated
  std::vector<std::string> cname_chain;  ///< CNAME targets in order, asked name excluded
  std::optional<std::uint32_t> min_ttl;  ///< smallest TTL of the answer records (DNS only)
  int timeouts = 0;                      ///< attempts c-ares saw time out on the way
  /// The caller's deadline or cancel token ended the lookup (not the resolver's own verdict), so
  /// the outcome says nothing about the name and must not be cached.
  bool cut_short = false;

  bool ok() const noexcept { return diagnosis == core::Diagnosis::ok; }
};

/// The addresses `hosts_path` lists for `host` (case-insensitive, all matching lines, IPv4
/// first and each family in file order, de-duplicated). Empty when the file is missing, unreadable
/// or has no entry: exactly when the system would go on to DNS.
std::vector<IpAddress> lookup_hosts_file(const std::string& hosts_path, std::string_view host);

/// Resolves `host` as the system would: an IP literal is itself (no I/O); then the hosts file;
/// then A and AAAA from the resolv.conf servers (c-ares, its own poll loop, no threads). Bounded
/// by `deadline`; returns promptly with PROBE_CANCELLED once `cancel` fires. Never throws.
Resolution resolve_host(std::string_view host, const ResolverConfig& config,
                        const core::Deadline& deadline, const core::CancelToken& cancel) noexcept;

/// Per-run cache host -> Resolution, shared by every probe of a run (ProbeContext::addresses), so
/// that ten ports of one host cost one lookup. Thread-safe. Concurrent callers for the same host
/// wait for the one lookup in flight (each bounded by its own deadline and cancel token) instead
/// of starting their own. Lookups cut short by a caller's deadline or cancel are not cached: the
/// next caller tries again.
class AddressCache {
 public:
  explicit AddressCache(ResolverConfig config) : config_(std::move(config)) {}
  AddressCache(const AddressCache&) = delete;
  AddressCache& operator=(const AddressCache&) = delete;

  /// resolve_host() through the cache. Never throws.
  Resolution resolve(std::string_view host, const core::Deadline& deadline,
                     const core::CancelToken& cancel) noexcept;

  const ResolverConfig& config() const noexcept { return config_; }

 private:
  struct Entry;
  Resolution resolve_cached(const std::string& key, const core::Deadline& deadline,
                            const core::CancelToken& cancel);

  ResolverConfig config_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries_;
};

}  // namespace gwprobe::probes
