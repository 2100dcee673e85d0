// Gateway benchmark, measured in one run on loopback and printed (no pass/fail):
//  1. gateway idle RSS: 4 `gwprobe gateway run` processes connected to one `gwprobe relay`,
//     measured after 5 s of idle;
//  2. 1,000 concurrent queries (`select * from sample limit 100` over the sample SQLite
//     database) across those 4 gateways through the relay: wall time, p50/p99 per query, and
//     how many were answered, refused as busy, or failed otherwise.
// Relay and gateways are the real binary in child processes; the senders are threads here
// using the probes' WebSocket client (open_websocket + WebSocketGroup). Bounded in count and time.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gateway/protocol/query_messages.hpp"
#include "gateway/protocol/sas.hpp"
#include "probes/probe.hpp"
#include "probes/websocket/websocket_probe.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace protocol = gwprobe::gateway::protocol;
namespace ws = gwprobe::probes::websocket;

constexpr int kGateways = 4;
constexpr int kQueries = 1000;
constexpr const char* kWorkersPerGateway = "16";
constexpr const char* kHcPath = "bench";
constexpr auto kStartLimit = 20s;
constexpr auto kIdle = 5s;
constexpr auto kQueryLimit = 120s;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  std::string out = s.str();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

/// A child whose stderr goes to `log`; SIGTERM and reaped on destruction.
struct Child {
  pid_t pid = -1;
  std::filesystem::path log;

  bool start(const std::vector<std::string>& argv, const std::filesystem::path& log_file) {
    log = log_file;
    pid = ::fork();
    if (pid == 0) {
      FILE* err = std::freopen(log.c_str(), "w", stderr);
      (void)err;
      for (const char* v :
           {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"}) {
        ::unsetenv(v);
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      _exit(127);
    }
    return pid > 0;
  }
  bool wait_for(const std::string& text, std::chrono::milliseconds limit) const {
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
      if (slurp(log).find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  void stop() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      int status = 0;
      ::waitpid(pid, &status, 0);
      pid = -1;
    }
  }
  ~Child() { stop(); }
};

enum class Outcome { answered, busy, failed };

struct QueryResult {
  Outcome outcome = Outcome::failed;
  double ms = 0;
  std::string why;
};

QueryResult run_query(std::uint16_t port, const std::string& url, const std::string& ca,
                      const gwprobe::core::Secret& client_key, int n) {
  QueryResult result;
  const auto start = Clock::now();
  ws::WebSocketOptions options;
  options.path = std::string("/$hc/") + kHcPath + "?sb-hc-action=connect";
  options.tls.use_system_store = false;
  options.tls.ca_file = ca;
  options.tls.expiry_warning_days = 0;
  const auto resource = protocol::sas_resource_uri(url, protocol::SdkStyle::node).value();
  options.token = [&]() -> gwprobe::core::Result<ws::RelayToken> {
    const auto expiry = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch() + 1h)
                            .count();
    return ws::RelayToken{
        gwprobe::core::Secret(protocol::create_sas_token(resource, "client", client_key, expiry)),
        "bench"};
  };
  gwprobe::probes::ProbeContext context;
  context.deadline = gwprobe::core::Deadline::after(kQueryLimit);
  ws::WebSocketGroup group;
  gwprobe::core::ProbeResult into;
  const auto id =
      ws::open_websocket(gwprobe::core::Target{"127.0.0.1", port}, options, context, group, into);
  if (!id) {
    result.why = std::string(gwprobe::core::to_code(into.diagnosis)) + " " +
                 into.fact_text(ws::fact::http_status);
    return result;
  }
  group.watch(*id);
  group.send_text(
      *id, protocol::serialize(protocol::QueryRequest{
               "b" + std::to_string(n), "", "select * from sample limit 100", std::nullopt}));
  bool done = false;
  while (!done && !context.deadline.expired()) {
    for (const auto& e : group.wait(context.deadline.when(), gwprobe::core::CancelToken{})) {
      if (e.kind == ws::ConnectionEvent::Kind::ended) {
        result.why = "ended before the trailer";
        done = true;
      }
      if (e.kind != ws::ConnectionEvent::Kind::message) continue;
      auto m = protocol::parse_query_message(e.detail);
      if (!m) continue;
      if (std::holds_alternative<protocol::QueryTrailer>(*m)) {
        result.outcome = Outcome::answered;
        done = true;
      } else if (auto* err = std::get_if<protocol::QueryError>(&*m)) {
        result.outcome = err->stage == protocol::QueryStage::busy ? Outcome::busy : Outcome::failed;
        result.why = err->message;
        done = true;
      }
    }
  }
  if (!done) result.why = "no answer in time";
  group.close(*id);
  result.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return result;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

}  // namespace

int main() {
  const std::string binary = GWPROBE_BIN;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("gwprobe-gateway-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto relay_dir = dir / "relay";
  const auto db = dir / "sample.db";
  if (std::system((binary + " relay init " + relay_dir.string() + " >/dev/null").c_str()) != 0 ||
      std::system((binary + " gateway sample-db --out " + db.string() + " >/dev/null").c_str()) !=
          0) {
    std::printf("gateway bench: SKIPPED (relay init or sample-db failed)\n");
    return 0;
  }
  Child relay;
  relay.start({binary, "relay", "--dir", relay_dir.string(), "--listen", "127.0.0.1:0",
               "--max-pending-accepts", "2000"},
              dir / "relay.log");
  if (!relay.wait_for("relay_listening", kStartLimit)) {
    std::printf("gateway bench: relay did not start\n");
    return 1;
  }
  const auto relay_log = slurp(relay.log);
  const auto at = relay_log.find("\"port\":");
  const auto port = static_cast<std::uint16_t>(std::stoi(relay_log.substr(at + 7)));
  const std::string url = "wss://127.0.0.1:" + std::to_string(port) + "/$hc/" + kHcPath;

  std::vector<Child> gateways(kGateways);
  for (int i = 0; i < kGateways; ++i) {
    gateways[i].start(
        {binary, "gateway", "run", "--relay", url, "--key-name", "gateway", "--key-file",
         (relay_dir / "gateway.key").string(), "--ca-file", (relay_dir / "ca.pem").string(),
         "--datasource-sqlite", db.string(), "--workers", kWorkersPerGateway},
        dir / ("gateway-" + std::to_string(i) + ".log"));
  }
  for (auto& g : gateways) {
    if (!g.wait_for("gateway_connected", kStartLimit)) {
      std::printf("gateway bench: a gateway did not connect\n%s\n", slurp(g.log).c_str());
      return 1;
    }
  }
  std::this_thread::sleep_for(kIdle);
  long idle_total = 0;
  for (const auto& g : gateways) idle_total += rss_kb(g.pid);
  std::printf("gateway idle RSS (connected, %lld s idle): %.1f MiB per gateway (mean of %d)\n",
              static_cast<long long>(kIdle.count()), idle_total / 1024.0 / kGateways, kGateways);

  const gwprobe::core::Secret client_key(slurp(relay_dir / "client.key"));
  const auto ca = (relay_dir / "ca.pem").string();
  std::vector<QueryResult> results(kQueries);
  std::vector<std::thread> senders;
  std::atomic<bool> go{false};
  senders.reserve(kQueries);
  for (int i = 0; i < kQueries; ++i) {
    senders.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      results[i] = run_query(port, url, ca, client_key, i);
    });
  }
  const auto start = Clock::now();
  go = true;
  for (auto& t : senders) t.join();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> answered_ms;
  int busy = 0;
  int failed = 0;
  std::string first_failure;
  for (const auto& r : results) {
    if (r.outcome == Outcome::answered) answered_ms.push_back(r.ms);
    if (r.outcome == Outcome::busy) ++busy;
    if (r.outcome == Outcome::failed) {
      ++failed;
      if (first_failure.empty()) first_failure = r.why;
    }
  }
  long loaded_total = 0;
  for (const auto& g : gateways) loaded_total += rss_kb(g.pid);
  std::printf(
      "gateway: %d concurrent queries (100 rows each) across %d gateways (--workers %s) through "
      "one relay\n"
      "  answered %zu, busy %d, other errors %d%s%s\n"
      "  wall %.2f s (%.0f queries/s); per answered query p50 %.1f ms, p99 %.1f ms\n"
      "  gateway RSS after the burst: %.1f MiB per gateway (mean)\n",
      kQueries, kGateways, kWorkersPerGateway, answered_ms.size(), busy, failed,
      failed ? ", first: " : "", first_failure.c_str(), wall, kQueries / wall,
      percentile(answered_ms, 0.5), percentile(answered_ms, 0.99),
      loaded_total / 1024.0 / kGateways);
  for (auto& g : gateways) g.stop();
  relay.stop();
  std::filesystem::remove_all(dir);
  return 0;
}
