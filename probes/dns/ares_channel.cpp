// c-ares channel, status mapping and the poll-driven A+AAAA lookup.
#include "probes/dns/ares_channel.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include "core/duration.hpp"

namespace gwprobe::probes::dns {

using core::Diagnosis;
using core::FailureKind;

AresStatus from_ares(int status) noexcept {
  switch (status) {
    case ARES_SUCCESS:
      return {FailureKind::internal, Diagnosis::ok, "answered", "ARES_SUCCESS"};
    case ARES_ENOTFOUND:
      return {FailureKind::not_found, Diagnosis::dns_nxdomain, "NXDOMAIN (no such name)",
              "ARES_ENOTFOUND"};
    case ARES_ENODATA:
      return {FailureKind::not_found, Diagnosis::dns_nodata,
              "NODATA (the name exists but has no A or AAAA record)", "ARES_ENODATA"};
    case ARES_ETIMEOUT:
      return {FailureKind::timeout, Diagnosis::dns_timeout, "timeout (no answer to any try)",
              "ARES_ETIMEOUT"};
    case ARES_ESERVFAIL:
      return {FailureKind::network, Diagnosis::dns_servfail, "SERVFAIL (the server failed)",
              "ARES_ESERVFAIL"};
    case ARES_EREFUSED:
      return {FailureKind::network, Diagnosis::dns_refused,
              "REFUSED (the server refuses to answer)", "ARES_EREFUSED"};
    case ARES_ECONNREFUSED:
      return {FailureKind::network, Diagnosis::dns_refused,
              "connection refused (nothing listens on the DNS port)", "ARES_ECONNREFUSED"};
    case ARES_EFORMERR:
      return {FailureKind::protocol, Diagnosis::dns_servfail,
              "FORMERR (the server could not parse the query)", "ARES_EFORMERR"};
    case ARES_ENOTIMP:
      return {FailureKind::protocol, Diagnosis::dns_servfail,
              "NOTIMP (the server does not implement the query)", "ARES_ENOTIMP"};
    case ARES_EBADRESP:
      return {FailureKind::protocol, Diagnosis::dns_servfail, "malformed reply", "ARES_EBADRESP"};
    case ARES_ECANCELLED:
      return {FailureKind::cancelled, Diagnosis::probe_cancelled, "cancelled", "ARES_ECANCELLED"};
    case ARES_EDESTRUCTION:
      return {FailureKind::cancelled, Diagnosis::probe_cancelled, "cancelled (channel destroyed)",
              "ARES_EDESTRUCTION"};
    case ARES_EBADNAME:
      return {FailureKind::invalid_input, Diagnosis::probe_error, "not a valid DNS name",
              "ARES_EBADNAME"};
    case ARES_EFILE:
      return {FailureKind::io, Diagnosis::probe_error, "cannot read the resolver configuration",
              "ARES_EFILE"};
    case ARES_EOF:
      return {FailureKind::io, Diagnosis::probe_error, "unexpected end of file", "ARES_EOF"};
    case ARES_ENOMEM:
      return {FailureKind::internal, Diagnosis::probe_error, "out of memory", "ARES_ENOMEM"};
    case ARES_ENONAME:
      return {FailureKind::invalid_input, Diagnosis::probe_error, "not a usable host name",
              "ARES_ENONAME"};
    case ARES_EBADQUERY:
    case ARES_EBADFAMILY:
    case ARES_EBADFLAGS:
    case ARES_EBADHINTS:
    case ARES_EBADSTR:
    case ARES_ESERVICE:
    case ARES_ENOTINITIALIZED:
      return {FailureKind::internal, Diagnosis::probe_error, "c-ares rejected the request",
              "ARES_EBAD*"};
    default:
      return {FailureKind::internal, Diagnosis::probe_error, "unknown c-ares status",
              "ARES_UNKNOWN"};
  }
}

namespace {

// DNS rcodes (RFC 1035 4.1.1) that c-ares 1.18 hides behind ARES_ECONNREFUSED.
constexpr int kRcodeServfail = 2;
constexpr int kRcodeNotimp = 4;
constexpr int kRcodeRefused = 5;

int library_status() noexcept {
  static std::once_flag once;
  static int status = ARES_SUCCESS;
  std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
  return status;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

}  // namespace

core::Result<AresChannel> AresChannel::open(const ChannelConfig& config) {
  if (const int rc = library_status(); rc != ARES_SUCCESS) {
    const auto mapped = from_ares(rc);
    return core::fail(mapped.kind, "c-ares could not start", std::string(mapped.name));
  }
  const bool explicit_servers = !config.servers.empty();
  ares_options options{};
  int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS | ARES_OPT_RESOLVCONF;
  options.timeout = static_cast<int>(std::max<std::int64_t>(1, config.attempt_timeout.count()));
  options.tries = std::max(1, config.tries);
  // DNS only: the hosts file is read by lookup_hosts_file(), which takes any path (c-ares 1.18
  // only reads /etc/hosts or $CARES_HOSTS, a process-wide setting).
  char lookups[] = "b";
  options.lookups = lookups;
  // An explicit server list replaces resolv.conf entirely; /dev/null keeps the real file (and its
  // search list) out of a reference resolver's channel.
  std::string resolv_conf = explicit_servers ? std::string("/dev/null") : config.resolv_conf;
  options.resolvconf_path = resolv_conf.data();
  if (explicit_servers) {
    mask |= ARES_OPT_FLAGS;
    options.flags = ARES_FLAG_NOSEARCH;
  } else if (config.port != 0) {
    mask |= ARES_OPT_UDP_PORT | ARES_OPT_TCP_PORT;
    options.udp_port = config.port;
    options.tcp_port = config.port;
  }
  ares_channel raw = nullptr;
  if (const int rc = ares_init_options(&raw, &options, mask); rc != ARES_SUCCESS) {
    const auto mapped = from_ares(rc);
    return core::fail(mapped.kind, std::string(mapped.text) + " (" + config.resolv_conf + ")",
                      std::string(mapped.name));
  }
  AresChannel channel(raw);
  if (explicit_servers) {
    std::vector<ares_addr_port_node> nodes(config.servers.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const auto& server = config.servers[i];
      auto& node = nodes[i];
      node.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
      node.family = server.address.af();
      std::memcpy(&node.addr, server.address.bytes.data(), server.address.is_v6() ? 16 : 4);
      node.udp_port = server.port;
      node.tcp_port = server.port;
    }
    if (const int rc = ares_set_servers_ports(raw, nodes.data()); rc != ARES_SUCCESS) {
      const auto mapped = from_ares(rc);
      return core::fail(mapped.kind, "c-ares rejected the server list", std::string(mapped.name));
    }
  }
  return channel;
}

void AresChannel::reset(ares_channel channel) noexcept {
  if (channel_ != nullptr) ares_destroy(channel_);
  channel_ = channel;
}

std::vector<std::string> AresChannel::servers(std::uint16_t default_port) const {
  std::vector<std::string> out;
  ares_addr_port_node* list = nullptr;
  if (channel_ == nullptr || ares_get_servers_ports(channel_, &list) != ARES_SUCCESS) return out;
  for (const auto* node = list; node != nullptr; node = node->next) {
    IpAddress address;
    address.family = node->family == AF_INET6 ? IpAddress::Family::v6 : IpAddress::Family::v4;
    std::memcpy(address.bytes.data(), &node->addr, address.is_v6() ? 16 : 4);
    // A port of 0 means "the channel's port", which is the one the config set (or 53).
    const auto port =
        node->udp_port != 0 ? static_cast<std::uint16_t>(node->udp_port) : default_port;
    out.push_back(address.with_port(port));
  }
  ares_free_data(list);
  return out;
}

/// The socket functions c-ares uses for a lookup's channel: plain syscalls, plus bookkeeping of
/// which server each socket talks to and the rcode of each reply, so the reply that settles the
/// lookup can be named. With these set c-ares configures no socket itself, so they are made
/// non-blocking and close-on-exec here. Nothing here allocates or throws (C callbacks).
struct LookupSockets {
  using Socket = AresLookup::Socket;

  static Socket* find(void* self, ares_socket_t fd) {
    for (auto& socket : static_cast<AresLookup*>(self)->sockets_) {
      if (socket.fd == fd) return &socket;
    }
    return nullptr;
  }
  static void note_reply(void* self, const Socket& socket, int rcode) {
    static_cast<AresLookup*>(self)->last_reply_ =
        AresLookup::Reply{socket.address, socket.port, rcode};
  }

  static ares_socket_t open(int domain, int type, int protocol, void* self) {
    const ares_socket_t fd = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd == ARES_SOCKET_BAD) return fd;
    if (auto* slot = find(self, ARES_SOCKET_BAD)) {
      *slot = Socket{};
      slot->fd = fd;
      constexpr int kTypeMask = 0xF;  // the socket type without SOCK_NONBLOCK/SOCK_CLOEXEC
      slot->stream = (type & kTypeMask) == SOCK_STREAM;
    }
    return fd;
  }
  static int close(ares_socket_t fd, void* self) {
    if (auto* slot = find(self, fd)) slot->fd = ARES_SOCKET_BAD;
    return ::close(fd);
  }
  static int connect(ares_socket_t fd, const sockaddr* address, ares_socklen_t length, void* self) {
    auto* slot = find(self, fd);
    const auto ip = IpAddress::from_sockaddr(address);
    if (slot != nullptr && ip) {
      slot->address = *ip;
      slot->port = address->sa_family == AF_INET6
                       ? ntohs(reinterpret_cast<const sockaddr_in6*>(address)->sin6_port)
                       : ntohs(reinterpret_cast<const sockaddr_in*>(address)->sin_port);
    }
    return ::connect(fd, address, length);
  }
  static ares_ssize_t receive(ares_socket_t fd, void* buffer, std::size_t length, int flags,
                              sockaddr* from, ares_socklen_t* from_length, void* self) {
    const auto got = ::recvfrom(fd, buffer, length, flags, from, from_length);
    auto* slot = got > 0 ? find(self, fd) : nullptr;
    if (slot == nullptr) return got;
    const auto* bytes = static_cast<const std::uint8_t*>(buffer);
    if (!slot->stream) {
      constexpr ares_ssize_t kHeader = 4;  // id, flags: the rcode is the low nibble of byte 3
      note_reply(self, *slot, got >= kHeader ? (bytes[3] & 0x0F) : -1);
      return got;
    }
    // TCP: 2-byte length, then the message; c-ares reads them in pieces of its choosing.
    for (ares_ssize_t i = 0; i < got; ++i) {
      if (slot->length_bytes < 2) {
        slot->length = (slot->length << 8) | bytes[i];
        if (++slot->length_bytes == 2) slot->offset = 0;
        continue;
      }
      if (slot->offset == 3) slot->rcode = bytes[i] & 0x0F;
      if (++slot->offset == slot->length) {
        note_reply(self, *slot, slot->rcode);
        slot->length_bytes = 0;
        slot->length = 0;
      }
    }
    return got;
  }
  static ares_ssize_t send(ares_socket_t fd, const iovec* parts, int count, void* self) {
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(parts);
    message.msg_iovlen = static_cast<std::size_t>(count);
    // MSG_NOSIGNAL: a DNS server closing its TCP side must not SIGPIPE the whole run.
    auto sent = ::sendmsg(fd, &message, MSG_NOSIGNAL);
    const auto* slot = find(self, fd);
    if (sent < 0 && errno == ECONNREFUSED && slot != nullptr && !slot->stream) {
      // On a connected UDP socket this is the ICMP port-unreachable of an *earlier* datagram
      // (on loopback it arrives before the AAAA query is sent). c-ares 1.18 would blame this
      // query and leave the earlier one to time out; sending again lets the new datagram's own
      // ICMP reach recv(), where c-ares fails every query on the server at once, as it does
      // when the ICMP arrives late on a real network.
      sent = ::sendmsg(fd, &message, MSG_NOSIGNAL);
    }
    return sent;
  }
};

namespace {
constexpr ares_socket_functions kLookupSockets = {LookupSockets::open, LookupSockets::close,
                                                  LookupSockets::connect, LookupSockets::receive,
                                                  LookupSockets::send};
}  // namespace

AresLookup::AresLookup(std::string_view host, const ChannelConfig& config)
    : host_(host),
      default_port_(config.port != 0 ? config.port : 53),
      started_(std::chrono::steady_clock::now()) {
  auto channel = AresChannel::open(config);
  if (!channel) {
    setup_error_ = channel.error().describe();
    finished_ = true;
    return;
  }
  channel_ = std::move(*channel);
  servers_asked_ = channel_.servers(default_port_);
  ares_set_socket_functions(channel_.get(), &kLookupSockets, this);
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  // No RFC 6724 sorting: it would connect() a UDP socket to every answer to pick a source
  // address; the TCP probe tries every address anyway.
  hints.ai_flags = ARES_AI_NOSORT;
  ares_getaddrinfo(channel_.get(), host_.c_str(), nullptr, &hints, &AresLookup::on_addrinfo, this);
}

AresLookup::~AresLookup() {
  // Destroying the channel runs pending callbacks; they must still find this object whole.
  channel_.reset();
}

void AresLookup::on_addrinfo(void* self, int status, int timeouts, ares_addrinfo* result) {
  auto* lookup = static_cast<AresLookup*>(self);
  lookup->answer_.reset(result);
  lookup->status_ = status;
  lookup->timeouts_ += timeouts;
  lookup->finished_ = true;
}

void AresLookup::abandon(core::Diagnosis why, std::string_view text) noexcept {
  if (finished_) return;
  abandoned_ = why;
  abandoned_text_ = text;
  ares_cancel(channel_.get());  // runs on_addrinfo with ARES_ECANCELLED
  finished_ = true;
}

Resolution AresLookup::resolution() const {
  Resolution out;
  out.source = AnswerSource::dns;
  out.timeouts = timeouts_;
  // c-ares 1.18 ends a lookup whose last reply was SERVFAIL, NOTIMP or REFUSED with
  // ARES_ECONNREFUSED, as if the port were closed; the reply's own rcode says what happened.
  int status = status_;
  if (status == ARES_ECONNREFUSED && last_reply_) {
    if (last_reply_->rcode == kRcodeServfail) status = ARES_ESERVFAIL;
    if (last_reply_->rcode == kRcodeNotimp) status = ARES_ENOTIMP;
    if (last_reply_->rcode == kRcodeRefused) status = ARES_EREFUSED;
  }
  // Name the server whose reply decided the outcome; when no reply decided it (timeout, closed
  // port, deadline), name every server that was asked.
  const bool decided_by_reply = !abandoned_ && setup_error_.empty() && status != ARES_ETIMEOUT &&
                                status != ARES_ECONNREFUSED && status != ARES_ECANCELLED &&
                                status != ARES_EDESTRUCTION;
  out.server = decided_by_reply && last_reply_ ? last_reply_->address.with_port(last_reply_->port)
                                               : join(servers_asked_);
  if (!setup_error_.empty()) {
    out.diagnosis = Diagnosis::probe_error;
    out.error = setup_error_;
    out.cause = "c-ares setup";
    return out;
  }
  if (abandoned_) {
    out.diagnosis = *abandoned_;
    out.cut_short = true;
    out.error = std::string(abandoned_text_);
    if (*abandoned_ == Diagnosis::dns_timeout) {
      out.error += " within " + core::format_duration(std::chrono::steady_clock::now() - started_);
    }
    out.cause = "deadline or cancel";
    return out;
  }
  const auto mapped = from_ares(status);
  if (status != ARES_SUCCESS || !answer_) {
    out.diagnosis = status == ARES_SUCCESS ? Diagnosis::dns_nodata : mapped.diagnosis;
    out.error = status == ARES_SUCCESS ? std::string(from_ares(ARES_ENODATA).text)
                                       : std::string(mapped.text);
    out.cause = mapped.name;
    return out;
  }
  auto note_ttl = [&out](int ttl) {
    if (ttl < 0) return;
    const auto value = static_cast<std::uint32_t>(ttl);
    if (!out.min_ttl || value < *out.min_ttl) out.min_ttl = value;
  };
  for (const auto* node = answer_->nodes; node != nullptr; node = node->ai_next) {
    const auto address = IpAddress::from_sockaddr(node->ai_addr);
    if (!address) continue;
    if (std::find(out.addresses.begin(), out.addresses.end(), *address) == out.addresses.end()) {
      out.addresses.push_back(*address);
    }
    note_ttl(node->ai_ttl);
  }
  // IPv4 first, each family in answer order: how people read a resolver's answer.
  std::stable_partition(out.addresses.begin(), out.addresses.end(),
                        [](const IpAddress& a) { return !a.is_v6(); });
  // The A and AAAA replies each carry the chain, so c-ares lists every hop twice.
  for (const auto* cname = answer_->cnames; cname != nullptr; cname = cname->next) {
    if (cname->name == nullptr) continue;
    const std::string target(cname->name);
    if (std::find(out.cname_chain.begin(), out.cname_chain.end(), target) ==
        out.cname_chain.end()) {
      out.cname_chain.push_back(target);
    }
    note_ttl(cname->ttl);
  }
  if (out.addresses.empty()) {
    out.diagnosis = Diagnosis::dns_nodata;
    out.error = std::string(from_ares(ARES_ENODATA).text);
    out.cause = "ARES_SUCCESS without addresses";
  }
  return out;
}

namespace {

// Room for 16 lookups at c-ares's maximum of sockets each (a DNS probe runs 1 + references).
constexpr std::size_t kMaxPollFds = 1 + 16 * ARES_GETSOCK_MAXNUM;

int ceil_ms(const timeval& tv) noexcept {
  const long long ms = static_cast<long long>(tv.tv_sec) * 1000 + (tv.tv_usec + 999) / 1000;
  return static_cast<int>(std::min<long long>(ms, 24LL * 3600 * 1000));
}

int min_timeout(int a, int b) noexcept {
  if (a < 0) return b;
  if (b < 0) return a;
  return std::min(a, b);
}

}  // namespace

void drive_lookups(std::span<AresLookup* const> lookups, const core::Deadline& deadline,
                   const core::CancelToken& cancel) noexcept {
  constexpr std::string_view kNoAnswer = "no answer";
  // One poll set for every lookup: the cancel token first, then each channel's sockets.
  std::array<pollfd, kMaxPollFds> fds{};
  std::array<AresLookup*, kMaxPollFds> owner{};
  for (;;) {
    bool any_running = false;
    for (auto* lookup : lookups) any_running = any_running || !lookup->finished();
    if (!any_running) return;
    if (cancel.cancelled()) {
      for (auto* lookup : lookups) lookup->abandon(Diagnosis::probe_cancelled, "cancelled");
      return;
    }
    if (deadline.expired()) {
      for (auto* lookup : lookups) lookup->abandon(Diagnosis::dns_timeout, kNoAnswer);
      return;
    }

    std::size_t count = 0;
    fds[count++] = pollfd{cancel.fd(), POLLIN, 0};
    int wait_ms = deadline.remaining_ms();
    for (auto* lookup : lookups) {
      if (lookup->finished()) continue;
      ares_socket_t sockets[ARES_GETSOCK_MAXNUM];
      const int bits = ares_getsock(lookup->channel_.get(), sockets, ARES_GETSOCK_MAXNUM);
      bool has_socket = false;
      for (int i = 0; i < ARES_GETSOCK_MAXNUM && count < fds.size(); ++i) {
        short events = 0;
        if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
        if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
        if (events == 0) continue;
        owner[count] = lookup;
        fds[count++] = pollfd{sockets[i], events, 0};
        has_socket = true;
      }
      timeval buffer{};
      const timeval* next = ares_timeout(lookup->channel_.get(), nullptr, &buffer);
      if (next == nullptr && !has_socket) {
        // Nothing in flight and nothing scheduled, yet no callback: never wait forever on it.
        lookup->abandon(Diagnosis::probe_error, "c-ares stalled");
        continue;
      }
      if (next != nullptr) wait_ms = min_timeout(wait_ms, ceil_ms(*next));
    }

    const int ready = ::poll(fds.data(), count, wait_ms);
    if (ready < 0 && errno != EINTR) {
      for (auto* lookup : lookups) lookup->abandon(Diagnosis::probe_error, "poll() failed");
      return;
    }
    if (ready < 0) continue;
    if ((fds[0].revents & POLLIN) != 0) continue;  // cancelled: handled at the top

    for (auto* lookup : lookups) {
      if (lookup->finished()) continue;
      bool processed = false;
      for (std::size_t i = 1; i < count; ++i) {
        if (owner[i] != lookup || fds[i].revents == 0) continue;
        // POLLERR/POLLHUP go to the read side: recv() then reports the error (e.g. an ICMP
        // port-unreachable as ECONNREFUSED) to c-ares.
        const bool readable = (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
        const bool writable = (fds[i].revents & POLLOUT) != 0;
        ares_process_fd(lookup->channel_.get(), readable ? fds[i].fd : ARES_SOCKET_BAD,
                        writable ? fds[i].fd : ARES_SOCKET_BAD);
        processed = true;
        if (lookup->finished()) break;
      }
      // No socket ready: let c-ares run its retry timers.
      if (!processed) ares_process_fd(lookup->channel_.get(), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    }
  }
}

}  // namespace gwprobe::probes::dns
