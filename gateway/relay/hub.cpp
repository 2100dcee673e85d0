// RelayHub: routing, the pending tables, counters and the /status and /metrics renderings.
#include "gateway/relay/hub.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>

#include "gateway/protocol/sas.hpp"

namespace gwprobe::gateway::relay {

namespace {

constexpr std::size_t kDepartedKept = 16;  // offline members remembered per cluster for /status

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string trim_slashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return std::string(s);
}

std::string iso_time(std::chrono::system_clock::time_point t) {
  const auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Prometheus label values escape backslash, quote and newline.
std::string label_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

struct MetricHelp {
  const char* name;
  const char* help;
};
// Every counter the relay keeps, with its help line (the README's metrics table mirrors this).
constexpr MetricHelp kCounters[] = {
    {"connections_total", "TCP connections accepted."},
    {"connections_refused_total",
     "TCP connections closed at once (reason: rate_limited, capacity)."},
    {"handshake_failures_total", "Handshakes answered with an HTTP error (status)."},
    {"auth_failures_total", "SAS token rejections (fault)."},
    {"listener_connects_total", "Listener control channels opened."},
    {"listener_disconnects_total", "Listener control channels closed (reason)."},
    {"sender_connects_total",
     "WebSocket senders (result: accepted, rejected, timeout, no_listener, busy, failed)."},
    {"http_requests_total", "HTTP-mode requests answered (status)."},
    {"token_renewals_total", "renewToken messages (result: ok, rejected)."},
    {"spliced_bytes_total", "Payload bytes relayed between spliced WebSockets."},
    {"rendezvous_failures_total", "Rendezvous handshakes refused (reason)."},
};

}  // namespace

std::string_view to_string(Routing routing) {
  return routing == Routing::failover ? "failover" : "round-robin";
}

RelayHub::RelayHub(Routing routing, double max_load, std::size_t max_pending_per_cluster)
    : routing_(routing), max_load_(max_load), max_pending_per_cluster_(max_pending_per_cluster) {}

std::uint64_t RelayHub::add_member(const std::string& cluster, std::weak_ptr<ListenerLink> link,
                                   MemberInfo info) {
  std::lock_guard lock(mutex_);
  const auto key = lower(trim_slashes(cluster));
  const std::uint64_t id = next_member_++;
  Member m;
  m.id = id;
  m.link = std::move(link);
  m.info = std::move(info);
  m.since = std::chrono::system_clock::now();
  clusters_[key].members.push_back(std::move(m));
  member_cluster_[id] = key;
  return id;
}

void RelayHub::remove_member(std::uint64_t member, std::string_view reason) {
  std::vector<std::shared_ptr<Waiter>> orphans;
  {
    std::lock_guard lock(mutex_);
    const auto mc = member_cluster_.find(member);
    if (mc == member_cluster_.end()) return;
    auto& cluster = clusters_[mc->second];
    auto it = std::find_if(cluster.members.begin(), cluster.members.end(),
                           [&](const Member& m) { return m.id == member; });
    if (it != cluster.members.end()) {
      cluster.departed.push_back(
          Departed{it->info, it->since, std::chrono::system_clock::now(), std::string(reason)});
      if (cluster.departed.size() > kDepartedKept) cluster.departed.pop_front();
      cluster.members.erase(it);
    }
    member_cluster_.erase(mc);
    for (auto p = pending_.begin(); p != pending_.end();) {
      if (p->second.member == member) {
        if (auto w = p->second.waiter.lock()) orphans.push_back(std::move(w));
        auto victim = p++;
        erase_pending_locked(victim);
      } else {
        ++p;
      }
    }
    for (auto r = requests_.begin(); r != requests_.end();) {
      if (r->second.member == member) {
        if (auto w = r->second.waiter.lock()) orphans.push_back(std::move(w));
        r = requests_.erase(r);
      } else {
        ++r;
      }
    }
  }
  for (auto& w : orphans) w->fail(502, "the listener went away");
}

void RelayHub::update_load(std::uint64_t member, double cpu, double memory) {
  std::lock_guard lock(mutex_);
  const auto mc = member_cluster_.find(member);
  if (mc == member_cluster_.end()) return;
  for (auto& m : clusters_[mc->second].members) {
    if (m.id == member) {
      m.cpu = cpu;
      m.memory = memory;
    }
  }
}

std::string RelayHub::cluster_for_locked(std::string_view path) const {
  std::string best;
  bool found = false;
  for (const auto& [key, cluster] : clusters_) {
    if (cluster.members.empty()) continue;
    if (protocol::path_covers(key, path) && (!found || key.size() > best.size())) {
      best = key;
      found = true;
    }
  }
  return found ? best : std::string{};
}

Pick RelayHub::pick(std::string_view path) {
  std::lock_guard lock(mutex_);
  Pick out;
  const std::string key = cluster_for_locked(lower(trim_slashes(path)));
  const auto c = clusters_.find(key);
  if (key.empty() || c == clusters_.end() || c->second.members.empty()) {
    out.fault = PickFault::no_listener;
    return out;
  }
  auto& cluster = c->second;
  std::vector<Member*> eligible;
  for (auto& m : cluster.members) {
    if (m.cpu <= max_load_ && m.memory <= max_load_ && !m.link.expired()) eligible.push_back(&m);
  }
  if (eligible.empty()) {
    out.fault = PickFault::all_busy;
    out.cluster = key;
    return out;
  }
  Member* chosen = nullptr;
  if (routing_ == Routing::failover) {
    // Members are in arrival order, so stable_sort keeps "online longest" first among equals.
    std::stable_sort(eligible.begin(), eligible.end(), [](const Member* a, const Member* b) {
      return a->info.priority < b->info.priority;
    });
    chosen = eligible.front();
  } else {
    chosen = eligible[cluster.next++ % eligible.size()];
  }
  ++chosen->routed;
  ++cluster.routed;
  out.link = chosen->link.lock();
  if (!out.link) {
    out.fault = PickFault::no_listener;
    return out;
  }
  out.member = chosen->id;
  out.cluster = key;
  out.base_url = chosen->info.base_url;
  return out;
}

std::size_t RelayHub::online_members(std::string_view cluster) const {
  std::lock_guard lock(mutex_);
  const auto c = clusters_.find(lower(trim_slashes(cluster)));
  return c == clusters_.end() ? 0 : c->second.members.size();
}

bool RelayHub::add_pending(const std::string& capability, const std::string& cluster,
                           std::uint64_t member, std::weak_ptr<Waiter> waiter,
                           bool counts_as_accept) {
  std::lock_guard lock(mutex_);
  auto& c = clusters_[cluster];
  if (counts_as_accept) {
    if (c.pending_accepts >= max_pending_per_cluster_) return false;
    ++c.pending_accepts;
  }
  pending_[capability] = PendingEntry{cluster, member, std::move(waiter), counts_as_accept};
  return true;
}

void RelayHub::erase_pending_locked(std::unordered_map<std::string, PendingEntry>::iterator it) {
  if (it->second.counts_as_accept) {
    auto c = clusters_.find(it->second.cluster);
    if (c != clusters_.end() && c->second.pending_accepts > 0) --c->second.pending_accepts;
  }
  pending_.erase(it);
}

std::shared_ptr<Waiter> RelayHub::take_pending(std::string_view capability) {
  std::lock_guard lock(mutex_);
  const auto it = pending_.find(std::string(capability));
  if (it == pending_.end()) return nullptr;
  auto waiter = it->second.waiter.lock();
  erase_pending_locked(it);
  return waiter;
}

std::shared_ptr<Waiter> RelayHub::find_pending(std::string_view capability) const {
  std::lock_guard lock(mutex_);
  const auto it = pending_.find(std::string(capability));
  return it == pending_.end() ? nullptr : it->second.waiter.lock();
}

void RelayHub::drop_pending(std::string_view capability) {
  std::lock_guard lock(mutex_);
  const auto it = pending_.find(std::string(capability));
  if (it != pending_.end()) erase_pending_locked(it);
}

void RelayHub::add_request(const std::string& request_id, std::uint64_t member,
                           std::weak_ptr<Waiter> waiter) {
  std::lock_guard lock(mutex_);
  requests_[request_id] = RequestEntry{member, std::move(waiter)};
}

std::shared_ptr<Waiter> RelayHub::find_request(std::string_view request_id) const {
  std::lock_guard lock(mutex_);
  const auto it = requests_.find(std::string(request_id));
  return it == requests_.end() ? nullptr : it->second.waiter.lock();
}

void RelayHub::remove_request(std::string_view request_id) {
  std::lock_guard lock(mutex_);
  requests_.erase(std::string(request_id));
}

void RelayHub::track(std::weak_ptr<Closable> session) {
  std::lock_guard lock(mutex_);
  // Prune dead entries now and then so the list stays proportional to live sessions.
  if (sessions_.size() >= 64 && sessions_.size() % 64 == 0) {
    sessions_.erase(std::remove_if(sessions_.begin(), sessions_.end(),
                                   [](const auto& w) { return w.expired(); }),
                    sessions_.end());
  }
  sessions_.push_back(std::move(session));
}

void RelayHub::shut_down_all() {
  std::vector<std::shared_ptr<Closable>> live;
  {
    std::lock_guard lock(mutex_);
    for (auto& w : sessions_) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
    sessions_.clear();
  }
  for (auto& s : live) s->shut_down();
}

void RelayHub::count(std::string_view name, std::string_view label, std::string_view value,
                     std::uint64_t delta) {
  std::string key = "gwprobe_relay_" + std::string(name);
  if (!label.empty()) key += "{" + std::string(label) + "=\"" + label_escape(value) + "\"}";
  std::lock_guard lock(mutex_);
  counters_[key] += delta;
}

std::uint64_t RelayHub::counter(std::string_view name, std::string_view label,
                                std::string_view value) const {
  std::string key = "gwprobe_relay_" + std::string(name);
  if (!label.empty()) key += "{" + std::string(label) + "=\"" + label_escape(value) + "\"}";
  std::lock_guard lock(mutex_);
  const auto it = counters_.find(key);
  return it == counters_.end() ? 0 : it->second;
}

std::string RelayHub::metrics_text() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, help] : kCounters) {
    const std::string full = std::string("gwprobe_relay_") + name;
    out += "# HELP " + full + " " + help + "\n# TYPE " + full + " counter\n";
    bool any = false;
    for (const auto& [key, value] : counters_) {
      if (key == full || key.rfind(full + "{", 0) == 0) {
        out += key + " " + std::to_string(value) + "\n";
        any = true;
      }
    }
    if (!any) out += full + " 0\n";
  }
  out +=
      "# HELP gwprobe_relay_listeners_online Listener control channels online per cluster.\n"
      "# TYPE gwprobe_relay_listeners_online gauge\n";
  for (const auto& [key, cluster] : clusters_) {
    out += "gwprobe_relay_listeners_online{cluster=\"" + label_escape(key) + "\"} " +
           std::to_string(cluster.members.size()) + "\n";
  }
  out +=
      "# HELP gwprobe_relay_pending_accepts Senders held waiting for a listener's rendezvous.\n"
      "# TYPE gwprobe_relay_pending_accepts gauge\n";
  for (const auto& [key, cluster] : clusters_) {
    out += "gwprobe_relay_pending_accepts{cluster=\"" + label_escape(key) + "\"} " +
           std::to_string(cluster.pending_accepts) + "\n";
  }
  out +=
      "# HELP gwprobe_relay_connections Open connections by kind.\n"
      "# TYPE gwprobe_relay_connections gauge\n";
  static constexpr const char* kKinds[] = {"handshake", "control", "sender", "rendezvous", "http"};
  for (int i = 0; i < static_cast<int>(ConnectionKind::count_); ++i) {
    out += std::string("gwprobe_relay_connections{kind=\"") + kKinds[i] + "\"} " +
           std::to_string(connections_[i].load()) + "\n";
  }
  const auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - started_)
          .count();
  out +=
      "# HELP gwprobe_relay_uptime_seconds Seconds since the relay started.\n"
      "# TYPE gwprobe_relay_uptime_seconds gauge\ngwprobe_relay_uptime_seconds " +
      std::to_string(uptime) + "\n";
  return out;
}

std::string RelayHub::status_json() const {
  using json = nlohmann::ordered_json;
  json root;
  std::lock_guard lock(mutex_);
  root["schema"] = "gwprobe.relay-status/v1";
  root["started_at"] = iso_time(started_);
  root["routing"] = to_string(routing_);
  root["max_load"] = max_load_;
  json clusters = json::array();
  for (const auto& [key, cluster] : clusters_) {
    json c;
    c["path"] = key;
    c["routed"] = cluster.routed;
    c["pending_accepts"] = cluster.pending_accepts;
    json online = json::array();
    for (const auto& m : cluster.members) {
      online.push_back({{"id", m.info.listener_id},
                        {"remote", m.info.remote},
                        {"priority", m.info.priority},
                        {"rule", m.info.rule},
                        {"online_since", iso_time(m.since)},
                        {"cpu", m.cpu},
                        {"memory", m.memory},
                        {"busy", m.cpu > max_load_ || m.memory > max_load_},
                        {"routed", m.routed}});
    }
    json offline = json::array();
    for (auto it = cluster.departed.rbegin(); it != cluster.departed.rend(); ++it) {
      offline.push_back({{"id", it->info.listener_id},
                         {"remote", it->info.remote},
                         {"online_since", iso_time(it->since)},
                         {"offline_since", iso_time(it->until)},
                         {"reason", it->reason}});
    }
    c["online"] = std::move(online);
    c["offline"] = std::move(offline);
    clusters.push_back(std::move(c));
  }
  root["clusters"] = std::move(clusters);
  json conns;
  static constexpr const char* kKinds[] = {"handshake", "control", "sender", "rendezvous", "http"};
  for (int i = 0; i < static_cast<int>(ConnectionKind::count_); ++i)
    conns[kKinds[i]] = connections_[i].load();
  root["connections"] = std::move(conns);
  json counters = json::object();
  for (const auto& [key, value] : counters_)
    counters[key.substr(std::string("gwprobe_relay_").size())] = value;
  root["counters"] = std::move(counters);
  return root.dump(2);
}

std::string RelayHub::status_html() const {
  const auto doc = nlohmann::json::parse(status_json());
  std::string out =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>gwprobe relay status</title>"
      "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:"
      "1.5em}"
      "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.on{color:#070}.off{color:#a00}"
      "</style></head><body><h1>gwprobe relay</h1>";
  out += "<p>Started " + html_escape(doc["started_at"].get<std::string>()) + ", routing <b>" +
         html_escape(doc["routing"].get<std::string>()) + "</b>, busy above load " +
         std::to_string(doc["max_load"].get<double>()).substr(0, 4) + ".</p>";
  out += "<h2>Connections</h2><table><tr>";
  for (const auto& [k, v] : doc["connections"].items()) out += "<th>" + html_escape(k) + "</th>";
  out += "</tr><tr>";
  for (const auto& [k, v] : doc["connections"].items()) out += "<td>" + v.dump() + "</td>";
  out += "</tr></table><h2>Clusters</h2>";
  if (doc["clusters"].empty()) out += "<p>No listener has connected yet.</p>";
  for (const auto& c : doc["clusters"]) {
    out += "<h3>/" + html_escape(c["path"].get<std::string>()) +
           "</h3><table><tr><th>state</th>"
           "<th>listener id</th><th>remote</th><th>priority</th><th>cpu</th><th>memory</th>"
           "<th>routed</th><th>since</th></tr>";
    for (const auto& m : c["online"]) {
      out += std::string("<tr><td class=\"on\">") +
             (m["busy"].get<bool>() ? "online (busy)" : "online") + "</td><td>" +
             html_escape(m["id"].get<std::string>()) + "</td><td>" +
             html_escape(m["remote"].get<std::string>()) + "</td><td>" + m["priority"].dump() +
             "</td><td>" + m["cpu"].dump() + "</td><td>" + m["memory"].dump() + "</td><td>" +
             m["routed"].dump() + "</td><td>" + html_escape(m["online_since"].get<std::string>()) +
             "</td></tr>";
    }
    for (const auto& m : c["offline"]) {
      out += "<tr><td class=\"off\">offline: " + html_escape(m["reason"].get<std::string>()) +
             "</td><td>" + html_escape(m["id"].get<std::string>()) + "</td><td>" +
             html_escape(m["remote"].get<std::string>()) +
             "</td><td></td><td></td><td></td><td></td><td>" +
             html_escape(m["offline_since"].get<std::string>()) + "</td></tr>";
    }
    out += "</table>";
  }
  out += "<h2>Queries and errors</h2><table><tr><th>counter</th><th>value</th></tr>";
  for (const auto& [k, v] : doc["counters"].items()) {
    out += "<tr><td>" + html_escape(k) + "</td><td>" + v.dump() + "</td></tr>";
  }
  out += "</table></body></html>\n";
  return out;
}

}  // namespace gwprobe::gateway::relay
