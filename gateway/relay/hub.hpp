// RelayHub: the relay's shared state. Clusters (one per path) of listener members, routing,
// the pending-rendezvous table, counters for /metrics and the data for /status. It holds only
// non-owning references to sessions and never calls into a session while holding its lock, so
// no session write ever happens under it (Beast chat-multi shape). No Asio in here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/relay/relay_config.hpp"

namespace gwprobe::gateway::relay {

/// A listener's control channel as the hub sees it.
class ListenerLink {
 public:
  virtual ~ListenerLink() = default;
  /// Queues a text control message and, when `body` is set, a binary message right after it
  /// (hyco-https needs them adjacent). Thread-safe; false when the queue is full or closing.
  virtual bool offer(std::string json, std::shared_ptr<const std::string> body) = 0;
};

/// Something waiting on a listener: a held WebSocket sender or an HTTP-mode request.
class Waiter {
 public:
  virtual ~Waiter() = default;
  /// Fail it with an HTTP status (listener gone: 502; shutdown: 503). Thread-safe.
  virtual void fail(int http_status, std::string reason) = 0;
};

/// Anything the hub must be able to close at shutdown.
class Closable {
 public:
  virtual ~Closable() = default;
  virtual void shut_down() = 0;  ///< thread-safe; starts a graceful close
};

/// What a listener told us when it connected.
struct MemberInfo {
  std::string listener_id;  ///< sb-hc-id, or a relay-made GUID
  std::string remote;       ///< "address:port"
  std::string base_url;     ///< "wss://host[:port]" as the listener reached us (for addresses)
  int priority = 0;         ///< failover order, lower first (gwprobe-priority)
  std::string rule;         ///< the SAS rule it authenticated with
};

enum class PickFault { none, no_listener, all_busy };

struct Pick {
  PickFault fault = PickFault::none;
  std::shared_ptr<ListenerLink> link;
  std::uint64_t member = 0;
  std::string cluster;   ///< the registered path that matched
  std::string base_url;  ///< of the chosen member
};

/// Kinds of live connection, for gauges.
enum class ConnectionKind { handshake, control, sender, rendezvous, http, count_ };

class RelayHub {
 public:
  RelayHub(Routing routing, double max_load, std::size_t max_pending_per_cluster);

  // --- members -------------------------------------------------------------------------------
  std::uint64_t add_member(const std::string& cluster, std::weak_ptr<ListenerLink> link,
                           MemberInfo info);
  /// Removes a member and fails every waiter routed to it (502).
  void remove_member(std::uint64_t member, std::string_view reason);
  void update_load(std::uint64_t member, double cpu, double memory);
  /// The cluster serving `path` (longest registered prefix on a segment boundary) and one of
  /// its eligible members per the routing policy.
  Pick pick(std::string_view path);
  std::size_t online_members(std::string_view cluster) const;

  // --- rendezvous and requests -----------------------------------------------------------------
  /// Registers a waiter under a capability id (accept or request rendezvous) routed to
  /// `member`. False when the cluster already has its maximum of pending accepts.
  bool add_pending(const std::string& capability, const std::string& cluster, std::uint64_t member,
                   std::weak_ptr<Waiter> waiter, bool counts_as_accept);
  /// Removes and returns the waiter (nullptr when gone or unknown).
  std::shared_ptr<Waiter> take_pending(std::string_view capability);
  /// Looks up without removing (a request rendezvous may deliver the response later).
  std::shared_ptr<Waiter> find_pending(std::string_view capability) const;
  void drop_pending(std::string_view capability);
  /// HTTP-mode requests by request id, so a `response` on a control channel finds its sender.
  void add_request(const std::string& request_id, std::uint64_t member,
                   std::weak_ptr<Waiter> waiter);
  std::shared_ptr<Waiter> find_request(std::string_view request_id) const;
  void remove_request(std::string_view request_id);

  // --- lifetime ----------------------------------------------------------------------------------
  void track(std::weak_ptr<Closable> session);
  /// Calls shut_down() on every live session (outside the lock).
  void shut_down_all();
  void connection_opened(ConnectionKind kind) { ++connections_[static_cast<int>(kind)]; }
  void connection_closed(ConnectionKind kind) { --connections_[static_cast<int>(kind)]; }
  std::int64_t connections(ConnectionKind kind) const {
    return connections_[static_cast<int>(kind)];
  }

  // --- counters, /metrics, /status ---------------------------------------------------------------
  /// Adds to a labelled counter, e.g. count("http_requests_total", "status", "200").
  void count(std::string_view name, std::string_view label = {}, std::string_view value = {},
             std::uint64_t delta = 1);
  std::uint64_t counter(std::string_view name, std::string_view label = {},
                        std::string_view value = {}) const;
  /// Prometheus text exposition format 0.0.4.
  std::string metrics_text() const;
  /// JSON document for /status?format=json.
  std::string status_json() const;
  /// Self-contained HTML page for /status.
  std::string status_html() const;

 private:
  struct Member {
    std::uint64_t id = 0;
    std::weak_ptr<ListenerLink> link;
    MemberInfo info;
    double cpu = 0;
    double memory = 0;
    std::chrono::system_clock::time_point since;
    std::uint64_t routed = 0;
  };
  struct Departed {
    MemberInfo info;
    std::chrono::system_clock::time_point since;
    std::chrono::system_clock::time_point until;
    std::string reason;
  };
  struct Cluster {
    std::vector<Member> members;    // in arrival order
    std::deque<Departed> departed;  // most recent last, bounded
    std::size_t next = 0;           // round-robin cursor
    std::size_t pending_accepts = 0;
    std::uint64_t routed = 0;
  };
  struct PendingEntry {
    std::string cluster;
    std::uint64_t member = 0;
    std::weak_ptr<Waiter> waiter;
    bool counts_as_accept = false;
  };
  struct RequestEntry {
    std::uint64_t member = 0;
    std::weak_ptr<Waiter> waiter;
  };

  void erase_pending_locked(std::unordered_map<std::string, PendingEntry>::iterator it);
  std::string cluster_for_locked(std::string_view path) const;

  const Routing routing_;
  const double max_load_;
  const std::size_t max_pending_per_cluster_;
  mutable std::mutex mutex_;
  std::map<std::string, Cluster> clusters_;  // key: lower-case path
  std::unordered_map<std::uint64_t, std::string> member_cluster_;
  std::unordered_map<std::string, PendingEntry> pending_;
  std::unordered_map<std::string, RequestEntry> requests_;
  std::vector<std::weak_ptr<Closable>> sessions_;
  std::uint64_t next_member_ = 1;
  std::map<std::string, std::uint64_t> counters_;  // "name{label=\"value\"}" -> count
  std::atomic<std::int64_t> connections_[static_cast<int>(ConnectionKind::count_)] = {};
  const std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
};

}  // namespace gwprobe::gateway::relay
