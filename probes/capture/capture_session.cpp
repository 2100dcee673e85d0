// The capture session: one reader thread polls every libpcap handle and a stop eventfd, writes
// the pcap file and keeps a bounded copy of the packets for analysis.
#include "probes/capture/capture_session.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <variant>

#include "core/target.hpp"
#include "core/unique_fd.hpp"
#include "probes/capture/capture_filter.hpp"
#include "probes/capture/interface_route.hpp"
#include "probes/capture/pcap_handle.hpp"

namespace gwprobe::probes::capture {

namespace {

constexpr std::uint16_t kDnsPort = 53;
// Bytes kept of a packet once only headers are kept: Linux cooked v2 (20) + IPv6 (40) + TCP
// with options (60), or + ICMPv6 (8) + the quoted IPv6 and transport headers (48).
constexpr std::size_t kHeaderBytes = 160;
// pcap file record header (struct pcap_sf_pkthdr) and file header sizes.
constexpr std::int64_t kPcapRecordHeader = 16;
// Rounds of pcap_dispatch per wake-up, so one busy interface cannot starve the stop signal.
constexpr int kDispatchRounds = 64;

std::optional<Endpoint> resolver_endpoint(std::string_view text) {
  return Endpoint::parse(text, kDnsPort);
}

}  // namespace

struct CaptureSession::State {
  struct Source {
    std::string interface;
    PcapHandle handle;
    std::optional<LinkType> link;  ///< nullopt: a framing the analysis cannot decode
    State* state = nullptr;
    bool failed = false;  ///< libpcap reported an error (interface gone): no longer read
  };

  CaptureRequest request;
  std::vector<std::string> interfaces;
  std::string filter;
  std::vector<std::unique_ptr<Source>> sources;
  std::optional<PcapDumper> dumper;
  core::UniqueFd stop_fd;
  std::thread reader;
  bool stopped = false;
  std::optional<core::Error> reader_error;  // written by the reader, read after join

  mutable std::mutex mutex;  // guards stats and kept while the reader runs
  CaptureStats stats;
  std::vector<CapturedPacket> kept;
  std::uint64_t kept_bytes = 0;
  bool file_full = false;

  static void on_packet_callback(u_char* user, const pcap_pkthdr* header, const u_char* bytes) {
    auto* source = reinterpret_cast<Source*>(user);
    source->state->on_packet(*source, *header, bytes);
  }
  void on_packet(const Source& source, const pcap_pkthdr& header, const std::uint8_t* bytes);
  void run();
  int dispatch_all();
};

void CaptureSession::State::on_packet(const Source& source, const pcap_pkthdr& header,
                                      const std::uint8_t* bytes) {
  std::lock_guard lock(mutex);
  ++stats.packets_seen;
  if (dumper) {
    const std::int64_t needed = kPcapRecordHeader + header.caplen;
    if (!file_full &&
        dumper->position() + needed <= static_cast<std::int64_t>(request.max_file_bytes)) {
      dumper->write(header, bytes);
      ++stats.packets_written;
    } else {
      // The file stays a clean prefix of the capture: once full, nothing more is written.
      file_full = true;
      ++stats.packets_not_written;
    }
  }
  if (!source.link) return;
  const std::uint64_t whole = sizeof(CapturedPacket) + header.caplen;
  const std::size_t header_len = std::min<std::size_t>(header.caplen, kHeaderBytes);
  std::size_t keep = 0;
  if (kept_bytes + whole <= request.max_kept_bytes / 4 * 3) {
    keep = header.caplen;
    ++stats.packets_kept;
  } else if (kept_bytes + sizeof(CapturedPacket) + header_len <= request.max_kept_bytes) {
    keep = header_len;
    ++stats.packets_kept_headers;
  } else {
    ++stats.packets_not_kept;
    return;
  }
  // No exception may cross libpcap's C callback: an allocation failure only loses the copy.
  try {
    CapturedPacket p;
    p.timestamp =
        std::chrono::seconds(header.ts.tv_sec) + std::chrono::microseconds(header.ts.tv_usec);
    p.link = *source.link;
    p.original_length = header.len;
    p.data.assign(bytes, bytes + keep);
    kept.push_back(std::move(p));
    kept_bytes += sizeof(CapturedPacket) + keep;
  } catch (const std::bad_alloc&) {
    ++stats.packets_not_kept;
  }
}

int CaptureSession::State::dispatch_all() {
  int total = 0;
  for (auto& source : sources) {
    if (source->failed) continue;
    for (int round = 0; round < kDispatchRounds; ++round) {
      const int n = libpcap().dispatch(source->handle.get(), -1, on_packet_callback,
                                       reinterpret_cast<u_char*>(source.get()));
      if (n < 0) {
        source->failed = true;
        if (!reader_error) {
          auto error = from_pcap(n, libpcap().geterr(source->handle.get()));
          error.message += " (interface " + source->interface + ")";
          reader_error = std::move(error);
        }
        break;
      }
      if (n == 0) break;
      total += n;
    }
  }
  return total;
}

void CaptureSession::State::run() {
  std::vector<pollfd> fds;
  fds.push_back(pollfd{stop_fd.get(), POLLIN, 0});
  for (const auto& s : sources) fds.push_back(pollfd{s->handle.selectable_fd(), POLLIN, 0});
  // Until stop(): sleep in poll() until packets or the stop signal arrive.
  for (;;) {
    const int rc = ::poll(fds.data(), fds.size(), -1);
    if (rc < 0 && errno != EINTR) {
      reader_error = core::Error{core::FailureKind::io, "capture reader failed",
                                 std::string("poll: ") + std::strerror(errno)};
      break;
    }
    dispatch_all();
    if (fds[0].revents != 0) break;
    // A failed source would keep poll() returning at once: stop watching it (negative fds are
    // ignored by poll), and the other interfaces carry on.
    for (std::size_t i = 0; i < sources.size(); ++i) {
      if (sources[i]->failed) fds[i + 1].fd = -1;
    }
  }
  // After stop(): read what is still queued until the interfaces stay quiet for `settle`, but
  // never longer than `linger`.
  const auto until = std::chrono::steady_clock::now() + request.linger;
  std::span<pollfd> packet_fds(fds.begin() + 1, fds.end());
  for (;;) {
    dispatch_all();
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const auto wait = std::min(left, request.settle);
    const int rc = ::poll(packet_fds.data(), packet_fds.size(), static_cast<int>(wait.count()));
    if (rc == 0) break;
    if (rc < 0 && errno != EINTR) break;
  }
}

CaptureSession::CaptureSession(std::unique_ptr<State> state) : state_(std::move(state)) {}

CaptureSession::~CaptureSession() {
  [[maybe_unused]] auto ignored = stop();
}

const std::vector<std::string>& CaptureSession::interfaces() const noexcept {
  return state_->interfaces;
}

const std::string& CaptureSession::filter() const noexcept {
  return state_->filter;
}

const std::filesystem::path& CaptureSession::file() const noexcept {
  return state_->request.file;
}

core::Result<void> CaptureSession::stop() {
  auto& s = *state_;
  if (s.stopped) return {};
  s.stopped = true;
  const std::uint64_t one = 1;
  if (::write(s.stop_fd.get(), &one, sizeof one) != sizeof one) {
    // Cannot happen with a fresh eventfd; without the signal the join below would hang.
    std::abort();
  }
  if (s.reader.joinable()) s.reader.join();
  std::lock_guard lock(s.mutex);
  for (const auto& source : s.sources) s.stats.kernel_drops += source->handle.kernel_drops();
  core::Result<void> closed;
  if (s.dumper) {
    s.stats.file_bytes = s.dumper->position();
    closed = s.dumper->close();
    s.dumper.reset();
  }
  s.sources.clear();
  if (s.reader_error) return core::fail(*s.reader_error);
  return closed;
}

CaptureStats CaptureSession::stats() const {
  std::lock_guard lock(state_->mutex);
  auto stats = state_->stats;
  if (state_->dumper) stats.file_bytes = state_->dumper->position();
  return stats;
}

std::span<const CapturedPacket> CaptureSession::packets() const noexcept {
  if (!state_->stopped) return {};
  return state_->kept;
}

CaptureAnalysis CaptureSession::analyse() {
  [[maybe_unused]] auto ignored = stop();
  return analyse_packets(state_->kept);
}

core::Result<bool> CaptureSession::finish(const std::vector<core::ProbeResult>& results) {
  [[maybe_unused]] auto ignored = stop();
  const auto& request = state_->request;
  if (request.file.empty()) return false;
  const bool failed = std::any_of(results.begin(), results.end(), [](const auto& r) {
    return r.status == core::Status::fail || r.status == core::Status::warn ||
           r.status == core::Status::error;
  });
  if (!request.keep_only_on_failure || failed) return true;
  std::error_code ec;
  std::filesystem::remove(request.file, ec);
  if (ec) {
    return core::fail(core::FailureKind::io,
                      "cannot delete the capture file " + request.file.string(), ec.message());
  }
  return false;
}

std::string CaptureSession::summary() const {
  const auto s = stats();
  std::string out = std::to_string(s.packets_seen) + " packets on ";
  for (std::size_t i = 0; i < state_->interfaces.size(); ++i) {
    if (i > 0) out += ", ";
    out += state_->interfaces[i];
  }
  if (!state_->request.file.empty()) out += " -> " + state_->request.file.string();
  if (s.packets_not_written > 0) {
    out += " (file cap reached: " + std::to_string(s.packets_not_written) + " packets not written)";
  }
  if (s.packets_kept_headers + s.packets_not_kept > 0) {
    out += " (analysis memory cap reached: " + std::to_string(s.packets_kept_headers) +
           " kept as headers only, " + std::to_string(s.packets_not_kept) + " not analysed)";
  }
  if (s.kernel_drops > 0) out += " (kernel dropped " + std::to_string(s.kernel_drops) + ")";
  return out;
}

core::Result<std::unique_ptr<CaptureSession>> start_capture(const CaptureRequest& request) {
  // What to filter on, and which interfaces the routes use.
  std::vector<FilterTarget> targets;
  std::vector<Endpoint> resolvers;
  std::set<std::string> routed;
  bool unresolved = false;
  auto route = [&](const IpAddress& address, std::uint16_t port) {
    // No route: that probe fails on its own with "unreachable"; nothing to capture for it.
    if (auto iface = interface_toward(address, port)) routed.insert(*iface);
  };
  for (const auto& e : request.endpoints) {
    if (e.port == 0) continue;
    std::vector<IpAddress> addresses;
    if (auto literal = IpAddress::parse(e.host)) addresses.push_back(*literal);
    for (const auto& a : e.addresses) {
      if (auto parsed = IpAddress::parse(a)) addresses.push_back(*parsed);
    }
    if (addresses.empty()) {
      unresolved = true;
      targets.push_back(FilterTarget{std::nullopt, e.port});
    }
    for (const auto& a : addresses) {
      targets.push_back(FilterTarget{a, e.port});
      route(a, e.port);
    }
  }
  for (const auto& text : request.resolvers) {
    auto r = resolver_endpoint(text);
    if (!r) {
      return core::fail(core::FailureKind::invalid_input,
                        "capture: resolver \"" + text + "\" is not an IP address[:port]");
    }
    resolvers.push_back(*r);
    route(r->address, r->port);
  }
  if (targets.empty() && resolvers.empty()) {
    return core::fail(core::FailureKind::invalid_input,
                      "capture: the run has no network targets to capture");
  }
  std::vector<std::string> interfaces = request.interfaces;
  if (interfaces.empty()) {
    if (unresolved) {
      interfaces = {"any"};
    } else if (routed.empty()) {
      return core::fail(core::FailureKind::network,
                        "capture: no route to any target, nothing to capture");
    } else {
      interfaces.assign(routed.begin(), routed.end());
    }
  }

  auto state = std::make_unique<CaptureSession::State>();
  state->request = request;
  state->filter = capture_filter(targets, resolvers);

  auto open_all = [&](const std::vector<std::string>& names) -> core::Result<void> {
    state->sources.clear();
    for (const auto& name : names) {
      auto handle =
          PcapHandle::open_live(LiveCaptureOptions{name, request.snaplen, request.buffer_bytes});
      if (!handle) return core::fail(handle.error());
      if (auto f = handle->set_filter(state->filter); !f) return f;
      using Source = CaptureSession::State::Source;
      auto source =
          std::make_unique<Source>(Source{name, std::move(*handle), std::nullopt, state.get()});
      source->link = link_type_from_dlt(source->handle.datalink());
      state->sources.push_back(std::move(source));
    }
    return {};
  };
  if (auto opened = open_all(interfaces); !opened) return core::fail(opened.error());
  // One pcap file holds one link type: interfaces that frame differently are captured together
  // on "any" instead (Linux cooked v2, which Wireshark reads).
  const int first_dlt = state->sources.front()->handle.datalink();
  const bool mixed = std::any_of(state->sources.begin(), state->sources.end(),
                                 [&](const auto& s) { return s->handle.datalink() != first_dlt; });
  if (mixed) {
    interfaces = {"any"};
    if (auto opened = open_all(interfaces); !opened) return core::fail(opened.error());
  }
  state->interfaces = interfaces;

  if (!request.file.empty()) {
    auto dumper = PcapDumper::open(state->sources.front()->handle, request.file);
    if (!dumper) return core::fail(dumper.error());
    state->dumper.emplace(std::move(*dumper));
  }
  state->stop_fd.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!state->stop_fd) {
    return core::fail(core::FailureKind::io, "capture: cannot create an eventfd",
                      std::strerror(errno));
  }
  auto* raw = state.get();
  try {
    state->reader = std::thread([raw] { raw->run(); });
  } catch (const std::system_error& e) {
    return core::fail(core::FailureKind::io, "capture: cannot start the reader thread", e.what());
  }
  return std::unique_ptr<CaptureSession>(new CaptureSession(std::move(state)));
}

std::size_t attach_evidence(std::vector<core::ProbeResult>& results, CaptureSession& session) {
  return attach_evidence(results, session.analyse());
}

std::vector<std::string> nameservers_in(std::string_view resolv_conf) {
  std::vector<std::string> out;
  std::istringstream lines{std::string(resolv_conf)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string keyword, address;
    if (!(words >> keyword >> address) || keyword != "nameserver") continue;
    // A scoped IPv6 nameserver ("fe80::1%eth0") cannot be put in a filter; the scope is dropped.
    if (const auto percent = address.find('%'); percent != std::string::npos) {
      address.resize(percent);
    }
    if (IpAddress::parse(address)) out.push_back(address);
  }
  return out;
}

CaptureRequest capture_request_for(std::span<const ProbeSpec> plan) {
  CaptureRequest request;
  std::set<std::pair<std::string, std::uint16_t>> seen_endpoints;
  std::set<std::string> seen_resolvers;
  std::set<std::string> read_confs;
  auto add_resolver = [&](const std::string& r) {
    if (seen_resolvers.insert(r).second) request.resolvers.push_back(r);
  };
  for (const auto& spec : plan) {
    if (spec.target.port != 0 &&
        seen_endpoints.insert({spec.target.host, spec.target.port}).second) {
      CaptureEndpoint e;
      e.host = spec.target.host;
      e.port = spec.target.port;
      request.endpoints.push_back(std::move(e));
    }
    if (const auto* dns = std::get_if<dns::DnsOptions>(&spec.options)) {
      for (const auto& r : dns->reference_resolvers) add_resolver(r);
      if (dns->use_system_resolver && read_confs.insert(dns->resolv_conf).second) {
        std::ifstream in(dns->resolv_conf);
        std::stringstream text;
        text << in.rdbuf();
        for (const auto& r : nameservers_in(text.str())) add_resolver(r);
      }
    }
  }
  return request;
}

}  // namespace gwprobe::probes::capture
