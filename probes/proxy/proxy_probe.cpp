// The proxy probe: a CONNECT tunnel, and optionally the direct path in parallel for comparison.
#include "probes/proxy/proxy_probe.hpp"

#include <exception>
#include <optional>
#include <string>
#include <thread>

#include "core/duration.hpp"
#include "probes/proxy/tunnel.hpp"
#include "probes/tcp/tcp_probe.hpp"

namespace gwprobe::probes::proxy {

namespace {

using core::Diagnosis;
using core::Status;

/// The direct attempt of compare_direct: its own result, so its phases and facts do not mix
/// with the tunnel's.
struct DirectAttempt {
  core::ProbeResult result;
  bool connected = false;

  void run(const core::Target& target, const tcp::TcpOptions& options,
           const ProbeContext& context) noexcept {
    const auto connection = tcp::connect_tcp(target, options, context, result);
    connected = static_cast<bool>(connection);
    if (connected) {  // connect_tcp leaves a success unjudged: its callers carry on
      result.status = Status::pass;
      result.diagnosis = Diagnosis::ok;
    }
  }

  /// "open (10.0.0.1:443 in 2 ms)" / "TCP_FILTERED: no answer ..."
  std::string describe() const {
    if (connected) {
      const auto* took = [&]() -> const core::Phase* {
        for (const auto& p : result.phases) {
          if (p.name == core::phase::connect) return &p;
        }
        return nullptr;
      }();
      return "open (connected to " + result.fact_text("connected_to") +
             (took != nullptr ? " in " + core::format_duration(took->duration) : std::string()) +
             ")";
    }
    return std::string(core::to_code(result.diagnosis)) + ": " + result.message;
  }

  /// Short wording for the message: "works", "filtered", "refused"...
  std::string short_label() const {
    if (connected) return "works too";
    switch (result.diagnosis) {
      case Diagnosis::tcp_filtered:
        return "filtered";
      case Diagnosis::tcp_refused:
        return "refused";
      case Diagnosis::tcp_unreachable:
        return "unreachable";
      case Diagnosis::probe_cancelled:
        return "not finished (cancelled)";
      default:
        return "fails (" + std::string(core::to_code(result.diagnosis)) + ")";
    }
  }
};

core::ProbeResult probe(const core::Target& target, const ProxyOptions& options,
                        const ProbeContext& context) {
  core::ProbeResult result;
  result.kind = std::string(ProxyOptions::kind);
  result.target = target.to_string();

  std::optional<DirectAttempt> direct;
  if (options.compare_direct) direct.emplace();
  bool tunnelled = false;
  core::SteadyClock::duration took{};
  {
    // Joined on every way out of this block, exceptions included.
    std::jthread direct_thread;
    if (direct) {
      try {
        direct_thread = std::jthread([&] { direct->run(target, options.direct, context); });
      } catch (const std::exception&) {
        // No thread to spare: the direct attempt runs after the tunnel instead.
      }
    }
    const auto started = core::SteadyClock::now();
    auto stream = open_tunnel(target, options.proxy, context, result);
    took = core::SteadyClock::now() - started;
    tunnelled = stream != nullptr;
    stream.reset();  // the tunnel is proven; close it
    if (direct && !direct_thread.joinable()) direct->run(target, options.direct, context);
  }

  const std::string via = target.to_string() + " through " + options.proxy.url.redacted();
  if (tunnelled) {
    result.status = Status::pass;
    result.diagnosis = Diagnosis::ok;
    result.message = "CONNECT " + via + ": " + result.fact_text(fact::proxy_status) + " in " +
                     core::format_duration(took);
  }
  if (direct) {
    result.set_fact("direct_path", direct->describe());
    result.set_fact("direct_diagnosis", std::string(core::to_code(direct->result.diagnosis)));
    if (tunnelled) {
      result.message += direct->connected ? "; the direct path works too"
                                          : "; direct path " + direct->short_label() +
                                                " (the proxy is the way out)";
    } else if (direct->connected && result.diagnosis != Diagnosis::probe_cancelled) {
      result.message +=
          "; the direct path works (bypassing the proxy for " + target.host + " would also work)";
    } else if (result.diagnosis != Diagnosis::probe_cancelled) {
      result.message += "; direct path " + direct->short_label() + " too";
    }
  }
  return result;
}

}  // namespace

core::ProbeResult run_proxy_probe(const core::Target& target, const ProxyOptions& options,
                                  const ProbeContext& context) noexcept {
  try {
    return probe(target, options, context);
  } catch (...) {
    core::ProbeResult failed;  // status error, PROBE_ERROR
    try {
      failed.message = "internal error in the proxy probe";
    } catch (...) {
    }
    return failed;
  }
}

}  // namespace gwprobe::probes::proxy
