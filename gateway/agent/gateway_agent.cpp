// GatewayAgent: the control loop on the calling thread (one WebSocketGroup per control
// connection) queues accepts for a pool of rendezvous threads (started on demand), each serving one
// rendezvous at a time with its own group, so no WebSocket is ever touched by two threads.
// Query slots bound the queries; the pool and the accept queue are bounded too.
#include "gateway/agent/gateway_agent.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "core/url.hpp"
#include "gateway/agent/load_sampler.hpp"
#include "gateway/protocol/messages.hpp"
#include "gateway/protocol/sas.hpp"
#include "probes/probe.hpp"
#include "probes/websocket/websocket_probe.hpp"

namespace gwprobe::gateway::agent {

namespace {

namespace ws = probes::websocket;
using core::SteadyClock;
using std::chrono::milliseconds;

/// Answer frames a rendezvous may have queued before the worker producing them waits.
constexpr std::size_t kMaxQueuedFrames = 4;
/// Accepts waiting for a rendezvous thread.
constexpr std::size_t kMaxQueuedAccepts = 4096;

std::int64_t ms_since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start).count();
}

/// "/$hc/db?sb-hc-action=accept&sb-hc-id=..." from a full rendezvous address.
std::optional<std::string> path_and_query(const std::string& address) {
  const auto scheme = address.find("://");
  if (scheme == std::string::npos) return std::nullopt;
  const auto slash = address.find('/', scheme + 3);
  if (slash == std::string::npos) return std::nullopt;
  return address.substr(slash);
}

/// Frames into one rendezvous WebSocket, at most kMaxQueuedFrames ahead of the socket.
class RendezvousSink : public FrameSink {
 public:
  RendezvousSink(ws::WebSocketGroup& group, std::size_t id, const core::CancelToken& abort,
                 core::Deadline deadline)
      : group_(group), id_(id), abort_(abort), deadline_(deadline) {}

  core::Result<void> send(std::string frame) override {
    if (!group_.is_open(id_)) return gone();
    group_.send_text(id_, frame);
    return drain_to(kMaxQueuedFrames);
  }

  /// Waits until at most `limit` frames are unsent. A client that closes right after the last
  /// frame went out (it read the trailer) is not a failure.
  core::Result<void> drain_to(std::size_t limit) {
    while (group_.pending_sends(id_) > limit) {
      if (!group_.is_open(id_)) return gone();
      if (abort_.cancelled()) {
        return core::fail(core::FailureKind::cancelled, "the gateway is stopping");
      }
      if (deadline_.expired()) {
        return core::fail(core::FailureKind::timeout, "the client stopped reading");
      }
      const auto until = std::min(deadline_.when(), SteadyClock::now() + std::chrono::seconds(1));
      group_.drain(id_, limit, until, abort_);  // an end shows in is_open() above
    }
    return {};
  }

 private:
  static core::Result<void> gone() {
    return core::fail(core::FailureKind::network, "the client went away");
  }

  ws::WebSocketGroup& group_;
  std::size_t id_;
  core::CancelToken abort_;
  core::Deadline deadline_;
};

}  // namespace

core::Result<void> validate(const GatewayAgentOptions& o) {
  auto url = core::parse_url(o.relay_url);
  if (!url || (url->scheme != "wss" && url->scheme != "ws")) {
    return core::fail(core::FailureKind::invalid_input,
                      "--relay: expected wss://HOST[:PORT]/$hc/PATH, got '" +
                          (url ? url->redacted() : o.relay_url) + "'");
  }
  if (url->has_credentials()) {
    return core::fail(core::FailureKind::invalid_input,
                      "--relay: the URL must not hold a user or password (use --key-file)");
  }
  if (url->path.rfind("/$hc/", 0) != 0 || url->path.size() <= 5 ||
      url->path.find_first_of("?#") != std::string::npos) {
    return core::fail(core::FailureKind::invalid_input,
                      "--relay: the path must be /$hc/PATH without a query, e.g. "
                      "wss://relay.example:9443/$hc/gwprobe-demo");
  }
  if (o.key_name.empty()) {
    return core::fail(core::FailureKind::invalid_input, "--key-name: the SAS rule name is empty");
  }
  if (o.key.empty()) {
    return core::fail(core::FailureKind::invalid_input, "--key-file: the key is empty");
  }
  if (!o.datasources || o.datasources->empty()) {
    return core::fail(core::FailureKind::invalid_input, "no data source configured");
  }
  if (o.workers < 1 || o.workers > 1024) {
    return core::fail(core::FailureKind::invalid_input, "--workers: expected 1..1024");
  }
  if (o.token_ttl < std::chrono::seconds(10)) {
    return core::fail(core::FailureKind::invalid_input, "the token lifetime must be >= 10 s");
  }
  return {};
}

struct GatewayAgent::Impl {
  GatewayAgentOptions options;
  std::shared_ptr<relay::JsonLog> log;
  core::Url url;
  core::Target target;
  std::string listen_path;  ///< "/$hc/PATH?sb-hc-action=listen"
  std::string resource;     ///< the token audience
  QuerySlots slots;
  /// Cuts running rendezvous when the stop grace is over.
  core::CancelToken abort;

  /// Accepted rendezvous (their path and query) waiting for a rendezvous thread. Bounded:
  /// beyond it an accept is dropped (logged), and the relay answers that sender 504 in time.
  std::mutex queue_mutex;
  std::condition_variable queue_changed;
  std::deque<std::string> queue;
  std::size_t busy_threads = 0;   ///< threads serving a rendezvous (under queue_mutex)
  std::size_t idle_threads = 0;   ///< threads waiting for an accept (under queue_mutex)
  bool closing = false;           ///< no more accepts are taken from the queue
  std::vector<std::thread> pool;  ///< grows on demand up to pool_size() (under queue_mutex)

  Impl(GatewayAgentOptions o, std::shared_ptr<relay::JsonLog> l)
      : options(std::move(o)), log(std::move(l)), slots(options.workers) {}

  ws::WebSocketOptions websocket_options(std::string path, bool with_token) const {
    ws::WebSocketOptions w;
    w.path = std::move(path);
    w.use_tls = url.scheme == "wss";
    w.tls.ca_file = options.ca_file;
    w.tls.expiry_warning_days = 0;
    w.proxy = options.proxy;
    if (with_token) {
      w.token = [this]() -> core::Result<ws::RelayToken> {
        return ws::RelayToken{mint_token(), "SAS rule " + options.key_name};
      };
    }
    return w;
  }

  core::Secret mint_token() const {
    const auto expiry = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch() + options.token_ttl)
                            .count();
    return core::Secret(
        protocol::create_sas_token(resource, options.key_name, options.key, expiry));
  }

  probes::ProbeContext context(core::Deadline deadline, const core::CancelToken& cancel) const {
    probes::ProbeContext c;
    c.deadline = deadline;
    c.cancel = cancel;
    return c;
  }

  /// Rendezvous threads: more than the query slots, since most of a rendezvous is the TLS
  /// handshake and waiting for the request, and a query beyond the slots still needs a thread
  /// to be told "busy".
  std::size_t pool_size() const { return std::max<std::size_t>(32, options.workers * 4); }

  /// Called with queue_mutex held after an accept was queued: a thread is started only when no
  /// idle one can take it, so an idle gateway holds no rendezvous threads (and their stacks and
  /// malloc arenas) at all; once started, a thread stays for the next burst.
  void grow_pool_locked() {
    if (!closing && idle_threads < queue.size() && pool.size() < pool_size()) {
      pool.emplace_back([this] { rendezvous_thread(); });
    }
  }

  void rendezvous_thread() {
    for (;;) {
      std::string path;
      {
        std::unique_lock lock(queue_mutex);
        ++idle_threads;
        queue_changed.wait(lock, [&] { return closing || !queue.empty(); });
        --idle_threads;
        if (closing) return;
        path = std::move(queue.front());
        queue.pop_front();
        ++busy_threads;
      }
      try {
        serve_rendezvous(path);
      } catch (const std::exception& e) {
        log->error("query_failed", {{"stage", "internal"}, {"message", e.what()}});
      }
      std::lock_guard lock(queue_mutex);
      --busy_threads;
      queue_changed.notify_all();
    }
  }

  /// Stops taking accepts; waits up to `grace` for running rendezvous, then cuts them.
  void stop_pool(std::chrono::milliseconds grace) {
    {
      std::unique_lock lock(queue_mutex);
      closing = true;
      const auto dropped = queue.size();
      queue.clear();
      queue_changed.notify_all();
      if (dropped > 0) {
        log->info("accepts_dropped", {{"reason", "stopping"}, {"count", dropped}});
      }
      queue_changed.wait_for(lock, grace, [&] { return busy_threads == 0; });
    }
    abort.cancel();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(queue_mutex);
      threads.swap(pool);
    }
    for (auto& t : threads) t.join();
  }

  /// One rendezvous, on its own thread: open it, read the request, serve it, close.
  void serve_rendezvous(const std::string& path) {
    const auto started = SteadyClock::now();
    ws::WebSocketGroup group;
    core::ProbeResult opened;
    const auto id = ws::open_websocket(
        target, websocket_options(path, false),
        context(core::Deadline::after(options.connect_timeout), abort), group, opened);
    if (!id) {
      // The message would quote the rendezvous address (a capability): log the diagnosis only.
      log->warn("query_failed", {{"stage", "rendezvous"},
                                 {"message", "cannot open the rendezvous: " +
                                                 std::string(core::to_code(opened.diagnosis))}});
      return;
    }
    group.watch(*id);
    const auto request_by = core::Deadline::after(options.request_timeout);
    std::optional<std::string> request;
    while (!request && group.is_open(*id) && !request_by.expired() && !abort.cancelled()) {
      for (auto& e : group.wait(request_by.when(), abort)) {
        if (e.kind == ws::ConnectionEvent::Kind::message && !request) request = std::move(e.detail);
      }
    }
    if (!request) {
      log->info("query_failed",
                {{"stage", "request"},
                 {"message", group.is_open(*id) ? "no query request arrived in time"
                                                : "the client left before sending a query"}});
      group.close(*id);
      return;
    }
    const auto deadline = core::Deadline::after(options.query_timeout);
    RendezvousSink sink(group, *id, abort, deadline);
    const auto outcome =
        serve_query(*request, *options.datasources, options.open_sealed, slots, sink, deadline);
    if (outcome.stage != "client") (void)sink.drain_to(0);
    if (outcome.ok) {
      log->info("query_done", {{"id", outcome.id},
                               {"datasource", outcome.datasource},
                               {"rows", outcome.rows},
                               {"ms", ms_since(started)}});
    } else {
      log->info("query_failed", {{"id", outcome.id},
                                 {"datasource", outcome.datasource},
                                 {"stage", outcome.stage},
                                 {"message", outcome.message},
                                 {"rows", outcome.rows},
                                 {"ms", ms_since(started)}});
    }
    group.close(*id);
    // Let the close frame go out (loopback: a millisecond), bounded.
    const auto close_by = SteadyClock::now() + std::chrono::seconds(1);
    while (group.is_open(*id) && SteadyClock::now() < close_by) {
      (void)group.wait(SteadyClock::now() + milliseconds(10), abort);
    }
  }

  void on_accept(const protocol::AcceptCommand& accept) {
    auto path = path_and_query(accept.address);
    if (!path) {
      log->warn("accept_ignored", {{"reason", "the accept address is not a URL"}});
      return;
    }
    std::lock_guard lock(queue_mutex);
    if (queue.size() >= kMaxQueuedAccepts) {
      log->warn("accept_dropped",
                {{"reason", "too many accepts waiting"}, {"waiting", queue.size()}});
      return;
    }
    queue.push_back(std::move(*path));
    grow_pool_locked();
    queue_changed.notify_one();
  }

  /// One control connection, from open to loss. Returns why it ended.
  std::string hold_control(ws::WebSocketGroup& group, std::size_t id,
                           const core::CancelToken& stop) {
    group.watch(id);
    LoadSampler load;
    const auto renew_every = std::chrono::duration_cast<milliseconds>(options.token_ttl) * 4 / 5;
    auto next_renew = SteadyClock::now() + renew_every;
    auto next_load = SteadyClock::now();
    for (;;) {
      const auto now = SteadyClock::now();
      if (now >= next_load) {
        group.send_text(id, protocol::serialize(protocol::ControlMessage{load.sample()}));
        next_load = now + options.load_interval;
      }
      if (now >= next_renew) {
        // The one place the token is revealed outside the upgrade: into the wire message.
        group.send_text(id, protocol::serialize(protocol::ControlMessage{
                                protocol::RenewTokenCommand{mint_token().reveal()}}));
        next_renew = now + renew_every;
        log->info("token_renewed", {{"rule", options.key_name}});
      }
      const auto until = std::min(next_load, next_renew);
      for (const auto& e : group.wait(until, stop)) {
        if (e.kind == ws::ConnectionEvent::Kind::ended) {
          std::string reason = std::string(ws::to_string(e.end.kind));
          if (e.close_code != 0) {
            reason += " " + std::to_string(e.close_code);
            if (!e.close_reason.empty()) reason += " (" + e.close_reason + ")";
          }
          return reason;
        }
        if (e.kind != ws::ConnectionEvent::Kind::message) continue;
        auto message = protocol::parse_control_message(e.detail);
        if (!message) {
          log->warn("control_message_ignored", {{"reason", message.error().message}});
          continue;
        }
        if (const auto* accept = std::get_if<protocol::AcceptCommand>(&*message)) {
          on_accept(*accept);
        } else {
          log->debug("control_message_ignored", {{"reason", "not an accept"}});
        }
      }
      if (stop.cancelled()) {
        group.close(id);
        const auto close_by = SteadyClock::now() + std::chrono::seconds(1);
        while (group.is_open(id) && SteadyClock::now() < close_by) {
          (void)group.wait(SteadyClock::now() + milliseconds(10), core::CancelToken{});
        }
        return "stopping";
      }
    }
  }

  void run(const core::CancelToken& stop) {
    ReconnectSchedule schedule(options.reconnect, {});
    const std::string where = url.origin() + url.path;
    while (!stop.cancelled()) {
      ws::WebSocketGroup group;
      core::ProbeResult result;
      const auto started = SteadyClock::now();
      const auto id = ws::open_websocket(
          target, websocket_options(listen_path, true),
          context(core::Deadline::after(options.connect_timeout), stop), group, result);
      if (stop.cancelled()) break;
      if (!id) {
        const auto status = result.fact_text(ws::fact::http_status);
        milliseconds delay{};
        if (status == "401" || status == "403") {
          delay = schedule.auth_refused_delay();
          log->error("gateway_auth_failed",
                     {{"relay", where},
                      {"status", status},
                      {"rule", options.key_name},
                      {"message",
                       "the relay refused the Listen key: check --key-name and "
                       "--key-file against the relay's keys file"},
                      {"retry_ms", static_cast<std::int64_t>(delay.count())}});
        } else {
          delay = schedule.next_delay();
          log->warn("gateway_connect_failed",
                    {{"relay", where},
                     {"diagnosis", core::to_code(result.diagnosis)},
                     {"reason", result.message},
                     {"retry_ms", static_cast<std::int64_t>(delay.count())}});
        }
        if (stop.wait_for(delay)) break;
        continue;
      }
      schedule.connected(SteadyClock::now());
      log->info("gateway_connected", {{"relay", where},
                                      {"rule", options.key_name},
                                      {"workers", options.workers},
                                      {"ms", ms_since(started)}});
      const auto reason = hold_control(group, *id, stop);
      schedule.disconnected(SteadyClock::now());
      log->info("gateway_disconnected", {{"relay", where}, {"reason", reason}});
      if (stop.cancelled()) break;
      const auto delay = schedule.next_delay();
      log->info("gateway_reconnecting", {{"retry_ms", static_cast<std::int64_t>(delay.count())}});
      if (stop.wait_for(delay)) break;
    }
    // Graceful: no new accepts; running queries get stop_grace to finish.
    stop_pool(options.stop_grace);
    log->info("gateway_stopped", {});
  }
};

GatewayAgent::GatewayAgent(GatewayAgentOptions options, std::shared_ptr<relay::JsonLog> log)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(log))) {}

GatewayAgent::~GatewayAgent() = default;

core::Result<void> GatewayAgent::run(const core::CancelToken& stop) {
  if (auto ok = validate(impl_->options); !ok) return ok;
  impl_->url = core::parse_url(impl_->options.relay_url).value();
  impl_->target = core::Target{impl_->url.host, impl_->url.port};
  impl_->listen_path = impl_->url.path + "?sb-hc-action=listen";
  auto resource = protocol::sas_resource_uri(impl_->options.relay_url, protocol::SdkStyle::node);
  if (!resource) return core::fail(resource.error());
  impl_->resource = *resource;
  impl_->run(stop);
  return {};
}

}  // namespace gwprobe::gateway::agent
