// System-style resolution (literal, hosts file, c-ares on resolv.conf) and the per-run cache.
#include "probes/resolve.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <fstream>
#include <utility>

#include "core/duration.hpp"
#include "core/target.hpp"
#include "core/unique_fd.hpp"
#include "probes/dns/ares_channel.hpp"

namespace gwprobe::probes {

using core::Diagnosis;

core::Result<DnsServer> parse_dns_server(std::string_view text) {
  const std::string shown(text);
  auto target = core::parse_target(text, 53, false);
  if (!target) {
    return core::fail(core::FailureKind::invalid_input,
                      "bad resolver '" + shown + "': " + target.error().message);
  }
  const auto address = IpAddress::parse(target->host);
  if (!address) {
    return core::fail(core::FailureKind::invalid_input,
                      "bad resolver '" + shown +
                          "': expected an IP address with an optional :PORT, not a host name");
  }
  return DnsServer{*address, target->port};
}

namespace {

std::string normalized_name(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string out(host);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool same_name(std::string_view a, std::string_view b) {
  if (!a.empty() && a.back() == '.') a.remove_suffix(1);
  if (!b.empty() && b.back() == '.') b.remove_suffix(1);
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

/// A failure made without allocating, for the catch-all paths of noexcept functions.
Resolution internal_failure() noexcept {
  Resolution out;
  out.diagnosis = Diagnosis::probe_error;
  out.cut_short = true;
  try {
    out.error = "internal error while resolving (out of memory?)";
  } catch (...) {
  }
  return out;
}

Resolution stopped(Diagnosis why, std::string error) {
  Resolution out;
  out.diagnosis = why;
  out.error = std::move(error);
  out.cause = "deadline or cancel";
  out.cut_short = true;
  return out;
}

}  // namespace

std::vector<IpAddress> lookup_hosts_file(const std::string& hosts_path, std::string_view host) {
  std::vector<IpAddress> out;
  if (hosts_path.empty()) return out;
  std::ifstream file(hosts_path);
  std::string line;
  while (std::getline(file, line)) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::size_t pos = 0;
    auto next_token = [&]() -> std::string_view {
      while (pos < line.size() && std::isspace(static_cast<unsigned char>(line[pos]))) ++pos;
      const std::size_t start = pos;
      while (pos < line.size() && !std::isspace(static_cast<unsigned char>(line[pos]))) ++pos;
      return std::string_view(line).substr(start, pos - start);
    };
    const auto address = IpAddress::parse(next_token());
    if (!address) continue;
    for (auto name = next_token(); !name.empty(); name = next_token()) {
      if (!same_name(name, host)) continue;
      if (std::find(out.begin(), out.end(), *address) == out.end()) out.push_back(*address);
      break;
    }
  }
  std::stable_partition(out.begin(), out.end(), [](const IpAddress& a) { return !a.is_v6(); });
  return out;
}

Resolution resolve_host(std::string_view host, const ResolverConfig& config,
                        const core::Deadline& deadline, const core::CancelToken& cancel) noexcept {
  try {
    if (const auto literal = IpAddress::parse(host)) {
      Resolution out;
      out.source = AnswerSource::literal;
      out.addresses.push_back(*literal);
      return out;
    }
    if (cancel.cancelled()) return stopped(Diagnosis::probe_cancelled, "cancelled");
    if (auto from_file = lookup_hosts_file(config.hosts_file, host); !from_file.empty()) {
      Resolution out;
      out.source = AnswerSource::hosts_file;
      out.server = config.hosts_file;
      out.addresses = std::move(from_file);
      return out;
    }
    dns::ChannelConfig channel;
    channel.resolv_conf = config.resolv_conf;
    channel.port = config.port;
    channel.attempt_timeout = config.attempt_timeout;
    channel.tries = config.tries;
    dns::AresLookup lookup(host, channel);
    dns::AresLookup* const lookups[] = {&lookup};
    dns::drive_lookups(lookups, deadline, cancel);
    return lookup.resolution();
  } catch (...) {
    return internal_failure();
  }
}

/// One host's lookup: settled once, or withdrawn when the owner's lookup was cut short.
struct AddressCache::Entry {
  /// Readable once the entry is settled or withdrawn; never read, so it stays readable for every
  /// waiter (an eventfd rather than a condition variable, so waiters can poll() it together
  /// with their cancel token).
  core::UniqueFd ready{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
  bool settled = false;    ///< `value` is final (guarded by the cache's mutex)
  bool withdrawn = false;  ///< the owner was cut short; a waiter takes over the lookup
  Resolution value;
};

Resolution AddressCache::resolve(std::string_view host, const core::Deadline& deadline,
                                 const core::CancelToken& cancel) noexcept {
  try {
    if (IpAddress::parse(host)) return resolve_host(host, config_, deadline, cancel);
    return resolve_cached(normalized_name(host), deadline, cancel);
  } catch (...) {
    return internal_failure();
  }
}

Resolution AddressCache::resolve_cached(const std::string& key, const core::Deadline& deadline,
                                        const core::CancelToken& cancel) {
  const auto started = std::chrono::steady_clock::now();
  for (;;) {
    std::shared_ptr<Entry> entry;
    bool owner = false;
    {
      std::lock_guard lock(mutex_);
      auto it = entries_.find(key);
      if (it == entries_.end()) {
        entry = std::make_shared<Entry>();
        // Out of descriptors: resolve without sharing rather than fail.
        if (!entry->ready) return resolve_host(key, config_, deadline, cancel);
        entries_.emplace(key, entry);
        owner = true;
      } else if (it->second->settled) {
        return it->second->value;
      } else {
        entry = it->second;
      }
    }

    if (owner) {
      Resolution result = resolve_host(key, config_, deadline, cancel);
      {
        std::lock_guard lock(mutex_);
        if (result.cut_short) {
          entry->withdrawn = true;
          entries_.erase(key);
        } else {
          entry->value = result;
          entry->settled = true;
        }
      }
      const std::uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(entry->ready.get(), &one, sizeof one);
      return result;
    }

    // Another probe is resolving this host: wait for it, within our own limits.
    pollfd fds[2] = {{entry->ready.get(), POLLIN, 0}, {cancel.fd(), POLLIN, 0}};
    for (;;) {
      if (cancel.cancelled()) return stopped(Diagnosis::probe_cancelled, "cancelled");
      if (deadline.expired()) {
        return stopped(Diagnosis::dns_timeout,
                       "no answer within " +
                           core::format_duration(std::chrono::steady_clock::now() - started) +
                           " (waiting for the lookup of the same name already in flight)");
      }
      const int rc = ::poll(fds, 2, deadline.remaining_ms());
      if (rc < 0 && errno != EINTR) return internal_failure();
      if ((fds[0].revents & POLLIN) != 0) break;
    }
    std::lock_guard lock(mutex_);
    if (entry->settled) return entry->value;
    // Withdrawn: loop, and either take the lookup over or wait for whoever did.
  }
}

}  // namespace gwprobe::probes
