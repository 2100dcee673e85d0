// c-ares, wrapped: the RAII channel, the one status mapping (from_ares), and A+AAAA lookups
// driven by our own poll loop (deadline + cancel token; c-ares runs no threads of its own).
#pragma once

#include <ares.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/cancel.hpp"
#include "core/deadline.hpp"
#include "core/diagnosis.hpp"
#include "core/result.hpp"
#include "probes/ip_address.hpp"
#include "probes/resolve.hpp"

namespace gwprobe::probes::dns {

/// What a c-ares status code means to gwprobe.
struct AresStatus {
  core::FailureKind kind;     ///< meaningless for ARES_SUCCESS
  core::Diagnosis diagnosis;  ///< ok for ARES_SUCCESS
  std::string_view text;      ///< for people: "NXDOMAIN (no such name)"
  std::string_view name;      ///< the constant's name: "ARES_ENOTFOUND"
};

/// The one place c-ares status codes become gwprobe's vocabulary. ARES_ECONNREFUSED (the
/// server's port is closed, ICMP port-unreachable) is DNS_REFUSED like the REFUSED rcode;
/// malformed or unimplemented replies are DNS_SERVFAIL; local problems are PROBE_ERROR.
AresStatus from_ares(int status) noexcept;

/// Where a channel sends its queries.
struct ChannelConfig {
  /// resolv.conf to read (servers, search, ndots, options) when `servers` is empty.
  std::string resolv_conf = "/etc/resolv.conf";
  /// Port of the resolv.conf servers (0 = 53).
  std::uint16_t port = 0;
  /// Explicit servers (a reference resolver): resolv.conf is not read and no search domain is
  /// appended, so the name is asked exactly as given.
  std::vector<DnsServer> servers;
  std::chrono::milliseconds attempt_timeout{1500};
  int tries = 2;
};

/// RAII owner of an ares_channel.
class AresChannel {
 public:
  AresChannel() = default;
  explicit AresChannel(ares_channel channel) noexcept : channel_(channel) {}
  AresChannel(AresChannel&& other) noexcept : channel_(std::exchange(other.channel_, nullptr)) {}
  AresChannel& operator=(AresChannel&& other) noexcept {
    if (this != &other) reset(std::exchange(other.channel_, nullptr));
    return *this;
  }
  AresChannel(const AresChannel&) = delete;
  AresChannel& operator=(const AresChannel&) = delete;
  ~AresChannel() { reset(); }

  /// A channel configured by `config` (ares_library_init is done once, on first use).
  static core::Result<AresChannel> open(const ChannelConfig& config);

  ares_channel get() const noexcept { return channel_; }
  explicit operator bool() const noexcept { return channel_ != nullptr; }
  /// Destroys the channel; pending queries end with ARES_EDESTRUCTION first.
  void reset(ares_channel channel = nullptr) noexcept;

  /// The servers the channel will ask, as "ip:port", in order.
  std::vector<std::string> servers(std::uint16_t default_port) const;

 private:
  ares_channel channel_ = nullptr;
};

/// One A+AAAA lookup (ares_getaddrinfo) on its own channel, started by the constructor and run
/// by drive_lookups(). It owns the channel's sockets (ares_set_socket_functions) to learn what
/// c-ares 1.18 does not say: which server's reply settled the lookup, and that reply's rcode
/// (c-ares 1.18 reports a SERVFAIL/REFUSED/NOTIMP reply as ARES_ECONNREFUSED). Pinned in
/// memory: c-ares holds pointers to it while the query runs.
class AresLookup {
 public:
  AresLookup(std::string_view host, const ChannelConfig& config);
  ~AresLookup();
  AresLookup(const AresLookup&) = delete;
  AresLookup& operator=(const AresLookup&) = delete;

  bool finished() const noexcept { return finished_; }
  /// The outcome, once finished() (drive_lookups guarantees that on return).
  Resolution resolution() const;

 private:
  friend void drive_lookups(std::span<AresLookup* const>, const core::Deadline&,
                            const core::CancelToken&) noexcept;
  friend struct LookupSockets;

  /// Stops the lookup from outside (deadline, cancel, poll failure).
  void abandon(core::Diagnosis why, std::string_view text) noexcept;
  static void on_addrinfo(void* self, int status, int timeouts, ares_addrinfo* result);

  /// One socket c-ares opened: the server it is connected to and, for TCP, enough framing
  /// state to find each reply's rcode in the byte stream.
  struct Socket {
    ares_socket_t fd = ARES_SOCKET_BAD;
    bool stream = false;
    IpAddress address;
    std::uint16_t port = 0;
    int length_bytes = 0;    ///< TCP: bytes of the 2-byte length prefix seen
    std::size_t length = 0;  ///< TCP: size of the message being received
    std::size_t offset = 0;  ///< TCP: bytes of that message seen
    int rcode = 0;           ///< TCP: rcode of that message, once offset > 3
  };
  /// The last complete reply: who sent it and its rcode.
  struct Reply {
    IpAddress address;
    std::uint16_t port = 0;
    int rcode = 0;
  };
  struct FreeAddrinfo {
    void operator()(ares_addrinfo* ai) const noexcept { ares_freeaddrinfo(ai); }
  };

  std::string host_;
  std::uint16_t default_port_ = 53;
  std::vector<std::string> servers_asked_;
  std::chrono::steady_clock::time_point started_;
  bool finished_ = false;
  int status_ = ARES_SUCCESS;
  int timeouts_ = 0;
  std::unique_ptr<ares_addrinfo, FreeAddrinfo> answer_;
  std::optional<core::Diagnosis> abandoned_;  ///< set when stopped from outside
  std::string_view abandoned_text_;
  std::string setup_error_;  ///< the channel could not be opened
  std::array<Socket, std::size_t{2} * ARES_GETSOCK_MAXNUM> sockets_{};
  std::optional<Reply> last_reply_;
  AresChannel channel_;  ///< last: destroyed first, so its callbacks see live members
};

/// Runs c-ares's loop for every lookup together: one poll() over all their sockets and
/// cancel.fd(), each wait bounded by the deadline and c-ares's own retry timers. Returns when all
/// have finished; lookups still running when the deadline passes end as DNS_TIMEOUT, and all end
/// as PROBE_CANCELLED once `cancel` fires (both marked cut_short).
void drive_lookups(std::span<AresLookup* const> lookups, const core::Deadline& deadline,
                   const core::CancelToken& cancel) noexcept;

}  // namespace gwprobe::probes::dns
