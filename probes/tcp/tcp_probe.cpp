// TCP connect probe: every resolved address connected in parallel, one poll() over all sockets
// and the cancel token, bounded by the probe's deadline.
#include "probes/tcp/tcp_probe.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <system_error>
#include <vector>

#include "core/duration.hpp"
#include "probes/resolve.hpp"
#include "probes/tcp/tcp_errors.hpp"

namespace gwprobe::probes::tcp {

using core::Diagnosis;
using core::Status;
using Clock = std::chrono::steady_clock;

namespace {

/// One address being connected.
struct Attempt {
  enum class State { pending, connected, failed };
  IpAddress address;
  std::string peer;  ///< "10.0.0.1:443"
  /// "10.0.0.2:40312": the source the SYN left from, so a packet capture can tell this attempt
  /// from others to the same peer (empty when connect() failed before sending).
  std::string local;
  core::UniqueFd fd;
  State state = State::pending;
  int error = 0;
  Clock::duration took{};
};

/// Everything connect_all() learned; the winner's socket stays in its Attempt.
struct ConnectOutcome {
  std::vector<Attempt> attempts;
  int winner = -1;  ///< index of the first address that connected
  bool cancelled = false;
  bool local_failure = false;  ///< poll() itself failed
  Clock::duration elapsed{};
};

Status status_of(Diagnosis d) {
  if (d == Diagnosis::ok) return Status::pass;
  if (d == Diagnosis::probe_cancelled || d == Diagnosis::probe_error) return Status::error;
  return Status::fail;
}

void finish(Attempt& attempt, int error, Clock::time_point started) {
  attempt.error = error;
  attempt.took = Clock::now() - started;
  attempt.state = error == 0 ? Attempt::State::connected : Attempt::State::failed;
  if (error != 0) attempt.fd.reset();
}

/// "ip:port" a socket is bound to, or "" if unknown.
std::string local_endpoint_of(int fd) {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return {};
  const auto address = IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&local));
  if (!address) return {};
  const auto port = address->is_v6() ? reinterpret_cast<const sockaddr_in6*>(&local)->sin6_port
                                     : reinterpret_cast<const sockaddr_in*>(&local)->sin_port;
  return address->with_port(ntohs(port));
}

void start(Attempt& attempt, std::uint16_t port, Clock::time_point started) {
  attempt.fd.reset(
      ::socket(attempt.address.af(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!attempt.fd) return finish(attempt, errno, started);
  sockaddr_storage address{};
  const socklen_t length = attempt.address.to_sockaddr(port, address);
  const int rc = ::connect(attempt.fd.get(), reinterpret_cast<const sockaddr*>(&address), length);
  const int error = rc == 0 ? 0 : errno;
  if (error == 0 || error == EINPROGRESS) attempt.local = local_endpoint_of(attempt.fd.get());
  if (error == 0) return finish(attempt, 0, started);  // loopback may connect at once
  if (error != EINPROGRESS) finish(attempt, error, started);
}

/// Connects to every address at once; returns when one connected (if `first_suffices`), all
/// finished, the deadline passed or the token was cancelled.
void connect_all(ConnectOutcome& out, std::uint16_t port, bool first_suffices,
                 const ProbeContext& context) {
  const auto started = Clock::now();
  for (auto& attempt : out.attempts) start(attempt, port, started);
  std::vector<pollfd> fds;
  std::vector<std::size_t> index;
  fds.reserve(out.attempts.size() + 1);
  index.reserve(out.attempts.size() + 1);
  for (;;) {
    for (std::size_t i = 0; i < out.attempts.size() && out.winner < 0; ++i) {
      if (out.attempts[i].state == Attempt::State::connected) out.winner = static_cast<int>(i);
    }
    fds.clear();
    index.clear();
    fds.push_back(pollfd{context.cancel.fd(), POLLIN, 0});
    index.push_back(0);
    for (std::size_t i = 0; i < out.attempts.size(); ++i) {
      if (out.attempts[i].state != Attempt::State::pending) continue;
      fds.push_back(pollfd{out.attempts[i].fd.get(), POLLOUT, 0});
      index.push_back(i);
    }
    if (fds.size() == 1 || (first_suffices && out.winner >= 0)) break;
    if (context.cancel.cancelled()) {
      out.cancelled = true;
      break;
    }
    if (context.deadline.expired()) break;
    const int ready = ::poll(fds.data(), fds.size(), context.deadline.remaining_ms());
    if (ready < 0) {
      if (errno == EINTR) continue;
      out.local_failure = true;
      break;
    }
    for (std::size_t k = 1; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      auto& attempt = out.attempts[index[k]];
      int error = 0;
      socklen_t length = sizeof error;
      if (::getsockopt(attempt.fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
      // Writable with no error pending is a completed handshake; POLLHUP/POLLERR with SO_ERROR
      // still 0 cannot be a connection, so name it as a reset.
      if (error == 0 && (fds[k].revents & (POLLERR | POLLHUP)) != 0) error = ECONNRESET;
      finish(attempt, error, started);
    }
  }
  out.elapsed = Clock::now() - started;
}

/// How much a failure tells about the path, to choose the diagnosis when addresses fail
/// differently: an active answer (RST, ICMP, a local rule) names the blocker more clearly than
/// silence, and "no route / no address for this family" (typically IPv6 on an IPv4-only host)
/// says least.
int informativeness(Diagnosis diagnosis, int error) {
  switch (diagnosis) {
    case Diagnosis::tcp_refused:
      return 4;
    case Diagnosis::tcp_unreachable:
      return (error == ENETUNREACH || error == EADDRNOTAVAIL || error == EAFNOSUPPORT ||
              error == ENETDOWN)
                 ? 1
                 : 3;
    case Diagnosis::tcp_filtered:
      return 2;
    default:
      return 0;
  }
}

std::string describe_error(int error) {
  const auto mapped = from_errno(error);
  std::string label;
  switch (mapped.diagnosis) {
    case Diagnosis::tcp_refused:
      label = "refused";
      break;
    case Diagnosis::tcp_unreachable:
      label = "unreachable";
      break;
    case Diagnosis::tcp_filtered:
      label = "filtered";
      break;
    default:
      label = "local error";
      break;
  }
  std::string detail = mapped.name == "errno"
                           ? std::error_code(error, std::generic_category()).message()
                           : std::string(mapped.meaning);
  return label + " (" + std::string(mapped.name) + ": " + detail + ")";
}

/// Per-address outcome, for facts and messages.
std::string describe(const Attempt& attempt, const ConnectOutcome& out) {
  switch (attempt.state) {
    case Attempt::State::connected:
      return "connected in " + core::format_duration(attempt.took);
    case Attempt::State::failed:
      return describe_error(attempt.error);
    case Attempt::State::pending:
      break;
  }
  if (out.cancelled) return "cancelled";
  if (out.local_failure) return "not finished (poll() failed)";
  if (out.winner >= 0) return "not awaited (another address connected first)";
  return "filtered (no answer within " + core::format_duration(out.elapsed) + ")";
}

std::string join_failures(const ConnectOutcome& out) {
  std::string text;
  for (const auto& attempt : out.attempts) {
    if (attempt.state == Attempt::State::connected) continue;
    if (attempt.state == Attempt::State::pending && out.winner >= 0) continue;
    if (!text.empty()) text += "; ";
    text += attempt.peer + " " + describe(attempt, out);
  }
  return text;
}

/// connect_tcp's work, returning the outcome too so run_tcp_probe can word its message.
TcpConnection connect_and_record(const core::Target& target, const TcpOptions& options,
                                 const ProbeContext& context, core::ProbeResult& into,
                                 ConnectOutcome& out) {
  const auto fail_with = [&into](Diagnosis diagnosis, std::string message) {
    into.status = status_of(diagnosis);
    into.diagnosis = diagnosis;
    into.message = std::move(message);
    return TcpConnection{};
  };
  if (target.port == 0) {
    return fail_with(Diagnosis::probe_error, "no port given for " + target.host);
  }

  const auto resolve_started = Clock::now();
  const Resolution resolution =
      context.addresses != nullptr
          ? context.addresses->resolve(target.host, context.deadline, context.cancel)
          : resolve_host(target.host, ResolverConfig{}, context.deadline, context.cancel);
  if (resolution.source != AnswerSource::literal) {
    into.set_phase(core::phase::resolve, Clock::now() - resolve_started);
  }
  if (!resolution.ok()) {
    std::string message = "cannot resolve " + target.host + ": " + resolution.error;
    if (!resolution.server.empty()) message += " (" + resolution.server + ")";
    return fail_with(resolution.diagnosis, std::move(message));
  }

  std::vector<std::string> shown;
  for (const auto& address : resolution.addresses) {
    if (options.family == AddressFamily::ipv4 && address.is_v6()) continue;
    if (options.family == AddressFamily::ipv6 && !address.is_v6()) continue;
    Attempt attempt;
    attempt.address = address;
    attempt.peer = address.with_port(target.port);
    out.attempts.push_back(std::move(attempt));
    shown.push_back(address.to_string());
  }
  if (resolution.source != AnswerSource::literal) into.set_fact("addresses", shown);
  if (out.attempts.empty()) {
    return fail_with(Diagnosis::dns_nodata,
                     target.host + " has no " +
                         (options.family == AddressFamily::ipv6 ? "IPv6 (AAAA)" : "IPv4 (A)") +
                         " address to connect to");
  }

  connect_all(out, target.port, options.any_address_suffices, context);
  into.set_phase(core::phase::connect, out.winner >= 0
                                           ? out.attempts[static_cast<std::size_t>(out.winner)].took
                                           : out.elapsed);
  std::vector<std::string> locals;
  for (const auto& attempt : out.attempts) {
    into.set_fact("connect " + attempt.peer, describe(attempt, out));
    if (!attempt.local.empty()) locals.push_back(attempt.local);
  }
  // Read by capture::attach_evidence to find exactly these connections in a packet capture.
  if (!locals.empty()) into.set_fact("local_endpoint", std::move(locals));

  if (out.cancelled) {
    return fail_with(Diagnosis::probe_cancelled,
                     "cancelled while connecting to " + target.to_string());
  }
  // A pending attempt at this point was never answered: filtered (or cut off by a poll failure).
  const auto diagnosis_of = [&out](const Attempt& attempt) {
    if (attempt.state == Attempt::State::failed) return from_errno(attempt.error).diagnosis;
    return out.local_failure ? Diagnosis::probe_error : Diagnosis::tcp_filtered;
  };
  bool all_connected = true;
  Diagnosis diagnosis = Diagnosis::probe_error;
  int best_rank = -1;
  for (const auto& attempt : out.attempts) {
    if (attempt.state == Attempt::State::connected) continue;
    all_connected = false;
    const Diagnosis candidate = diagnosis_of(attempt);
    const int rank = informativeness(candidate, attempt.error);
    if (rank > best_rank) {
      best_rank = rank;
      diagnosis = candidate;
    }
  }
  const bool passed = options.any_address_suffices ? out.winner >= 0 : all_connected;
  if (!passed) {
    const bool one_literal = out.attempts.size() == 1 && resolution.source == AnswerSource::literal;
    std::string message =
        one_literal ? std::string()
                    : (options.any_address_suffices
                           ? "no address of " + target.to_string() + " connected: "
                           : "not every address of " + target.to_string() + " connected: ");
    return fail_with(diagnosis, message + join_failures(out));
  }

  const auto& won = out.attempts[static_cast<std::size_t>(out.winner)];
  into.set_fact("connected_to", won.peer);
  TcpConnection connection;
  connection.peer = won.peer;
  connection.fd = std::move(out.attempts[static_cast<std::size_t>(out.winner)].fd);
  return connection;
}

core::ProbeResult internal_error() noexcept {
  core::ProbeResult failed;  // status error, PROBE_ERROR by default
  try {
    failed.message = "internal error in the TCP probe (out of memory?)";
  } catch (...) {
  }
  return failed;
}

}  // namespace

TcpConnection connect_tcp(const core::Target& target, const TcpOptions& options,
                          const ProbeContext& context, core::ProbeResult& into) noexcept {
  try {
    ConnectOutcome outcome;
    return connect_and_record(target, options, context, into, outcome);
  } catch (...) {
    into.status = Status::error;
    into.diagnosis = Diagnosis::probe_error;
    return TcpConnection{};
  }
}

core::ProbeResult run_tcp_probe(const core::Target& target, const TcpOptions& options,
                                const ProbeContext& context) noexcept {
  try {
    core::ProbeResult result;
    result.kind = TcpOptions::kind;
    result.target = target.to_string();
    ConnectOutcome outcome;
    const TcpConnection connection = connect_and_record(target, options, context, result, outcome);
    if (!connection) return result;  // status, diagnosis and message already say why
    result.status = Status::pass;
    result.diagnosis = Diagnosis::ok;
    const auto& won = outcome.attempts[static_cast<std::size_t>(outcome.winner)];
    if (!options.any_address_suffices && outcome.attempts.size() > 1) {
      result.message = "connected to every address of " + target.to_string() + ":";
      for (const auto& attempt : outcome.attempts) {
        result.message += " " + attempt.peer + " in " + core::format_duration(attempt.took) + ";";
      }
      result.message.pop_back();
      return result;
    }
    result.message = "connected to " + connection.peer + " in " + core::format_duration(won.took);
    if (const auto failures = join_failures(outcome); !failures.empty()) {
      result.message += "; " + failures;
    }
    return result;
  } catch (...) {
    return internal_error();
  }
}

}  // namespace gwprobe::probes::tcp
