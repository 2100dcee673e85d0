// Relay benchmarks, all measured in one run on loopback and printed (no pass/fail):
//  1. 1-byte WebSocket round trip through `gwprobe relay` vs a direct TLS WebSocket echo
//     (p50, p99, added latency);
//  2. a 100 MB stream through the relay vs direct TLS (throughput ratio);
//  3. 10,000 idle listener control channels (relay RSS per listener).
// The relay is the real binary in its own process (its RSS is what we measure); the direct echo
// server runs in this process on its own thread. Every phase is bounded in count and time.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/url.hpp"
#include "gateway/protocol/messages.hpp"
#include "gateway/protocol/sas.hpp"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace protocol = gwprobe::gateway::protocol;

constexpr int kWarmupRoundTrips = 200;
constexpr int kRoundTrips = 5000;
constexpr int kLatencyBatches = 10;
constexpr int kStreamRepetitions = 3;
constexpr std::size_t kStreamBytes = 100u << 20;
constexpr std::size_t kStreamChunk = 64u << 10;
constexpr int kIdleListeners = 10000;
constexpr int kConnectsInFlight = 200;
constexpr auto kIdlePhaseLimit = 180s;
constexpr auto kRelayStartLimit = 10s;
constexpr auto kSettle = 6s;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  std::string out = s.str();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// --- the relay under test: the real binary in a child process ---------------------------------
struct RelayProcess {
  pid_t pid = -1;
  std::uint16_t port = 0;
  std::filesystem::path log;

  bool start(const std::string& binary, const std::filesystem::path& dir) {
    log = dir / "relay.log";
    pid = ::fork();
    if (pid == 0) {
      FILE* err = std::freopen(log.c_str(), "w", stderr);
      (void)err;
      const std::string d = dir.string();
      execl(binary.c_str(), binary.c_str(), "relay", "--dir", d.c_str(), "--listen", "127.0.0.1:0",
            "--max-pending-accepts", "1000", static_cast<char*>(nullptr));
      _exit(127);
    }
    const auto end = Clock::now() + kRelayStartLimit;
    while (Clock::now() < end) {
      const std::string text = slurp(log);
      const auto at = text.find("\"port\":");
      if (text.find("relay_listening") != std::string::npos && at != std::string::npos) {
        port = static_cast<std::uint16_t>(std::stoi(text.substr(at + 7)));
        return true;
      }
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
  ~RelayProcess() { stop(); }
};

// --- sync TLS WebSocket client -------------------------------------------------------------------
class WsClient {
 public:
  WsClient(net::io_context& ioc, ssl::context& tls) : ws_(ioc, tls) {}
  bool open(std::uint16_t port, const std::string& target, const std::string& token) {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                         ec);
    if (ec) return false;
    beast::get_lowest_layer(ws_).set_option(tcp::no_delay(true));
    SSL_set_tlsext_host_name(ws_.next_layer().native_handle(), "localhost");
    ws_.next_layer().handshake(ssl::stream_base::client, ec);
    if (ec) return false;
    ws_.read_message_max(0);
    ws_.auto_fragment(false);  // one frame per message, as browsers and the npm ws library send
    ws_.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
      if (!token.empty()) req.set("ServiceBusAuthorization", token);
    }));
    ws_.handshake("localhost", target, ec);
    return !ec;
  }
  websocket::stream<beast::ssl_stream<tcp::socket>>& ws() { return ws_; }

 private:
  websocket::stream<beast::ssl_stream<tcp::socket>> ws_;
};

/// Echo, or sink: a text message "sink N" makes the peer read N bytes and answer "done".
template <class Ws>
void serve_echo(Ws& ws) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  while (true) {
    ws.read(buffer, ec);
    if (ec) return;
    if (ws.got_text() && buffer.size() > 5 &&
        beast::buffers_to_string(buffer.data()).rfind("sink ", 0) == 0) {
      const std::size_t want = std::stoull(beast::buffers_to_string(buffer.data()).substr(5));
      buffer.consume(buffer.size());
      std::size_t got = 0;
      while (got < want) {
        const std::size_t n = ws.read_some(buffer, kStreamChunk, ec);
        if (ec) return;
        got += n;
        buffer.consume(buffer.size());
      }
      ws.text(true);
      ws.write(net::buffer(std::string("done")), ec);
      if (ec) return;
      continue;
    }
    ws.text(ws.got_text());
    ws.write(buffer.data(), ec);
    if (ec) return;
    buffer.consume(buffer.size());
  }
}

// --- direct TLS WebSocket echo server (the baseline) ---------------------------------------------
class DirectEchoServer {
 public:
  explicit DirectEchoServer(ssl::context& tls)
      : tls_(tls), acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {}
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void serve_one_at_a_time() {
    thread_ = std::thread([this] {
      while (!stop_) {
        tcp::socket socket(ioc_);
        beast::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec || stop_) return;
        socket.set_option(tcp::no_delay(true));
        websocket::stream<beast::ssl_stream<tcp::socket>> ws(std::move(socket), tls_);
        ws.next_layer().handshake(ssl::stream_base::server, ec);
        if (ec) continue;
        ws.read_message_max(0);
        ws.auto_fragment(false);
        ws.accept(ec);
        if (ec) continue;
        serve_echo(ws);
      }
    });
  }
  ~DirectEchoServer() {
    stop_ = true;
    beast::error_code ec;
    // Wake the blocking accept with one last connection.
    tcp::socket poke(ioc_);
    poke.connect(acceptor_.local_endpoint(), ec);
    if (thread_.joinable()) thread_.join();
  }

 private:
  net::io_context ioc_;
  ssl::context& tls_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

// --- an echo listener at the relay ---------------------------------------------------------------
class EchoListener {
 public:
  EchoListener(ssl::context& tls, std::uint16_t port, const std::string& path,
               const std::string& key)
      : tls_(tls), port_(port), control_(ioc_, tls) {
    const std::string token = protocol::create_sas_token(
        "http://localhost/" + path, "gateway", gwprobe::core::Secret(key), unix_now() + 3600);
    ok_ = control_.open(port, "/$hc/" + path + "?sb-hc-action=listen", token);
    if (ok_) thread_ = std::thread([this] { loop(); });
  }
  ~EchoListener() {
    beast::error_code ec;
    beast::get_lowest_layer(control_.ws()).shutdown(tcp::socket::shutdown_both, ec);
    if (thread_.joinable()) thread_.join();
    for (auto& t : echo_threads_) t.join();
  }
  bool ok() const { return ok_; }

 private:
  void loop() {
    beast::flat_buffer buffer;
    beast::error_code ec;
    while (true) {
      control_.ws().read(buffer, ec);
      if (ec) return;
      auto message = protocol::parse_control_message(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
      if (!message) continue;
      const auto* accept = std::get_if<protocol::AcceptCommand>(&*message);
      if (accept == nullptr) continue;
      auto url = gwprobe::core::parse_url(accept->address);
      if (!url) continue;
      echo_threads_.emplace_back([this, target = url->path] {
        net::io_context ioc;
        WsClient rendezvous(ioc, tls_);
        if (rendezvous.open(port_, target, {})) serve_echo(rendezvous.ws());
      });
    }
  }
  ssl::context& tls_;
  std::uint16_t port_;
  net::io_context ioc_;
  WsClient control_;
  bool ok_ = false;
  std::thread thread_;
  std::vector<std::thread> echo_threads_;
};

struct Latency {
  double p50_us = 0;
  double p99_us = 0;
};

/// Appends `count` 1-byte round-trip times (µs) to `samples`; false on any failure.
bool round_trips(WsClient& client, int count, std::vector<double>* samples) {
  auto& ws = client.ws();
  ws.binary(true);
  beast::flat_buffer buffer;
  beast::error_code ec;
  const char byte = 'x';
  for (int i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    ws.write(net::buffer(&byte, 1), ec);
    if (ec) return false;
    ws.read(buffer, ec);
    if (ec || buffer.size() != 1) return false;
    buffer.consume(buffer.size());
    if (samples != nullptr) {
      samples->push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
  }
  return true;
}

Latency percentiles(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2], samples[samples.size() * 99 / 100]};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Seconds to push kStreamBytes and hear "done"; negative on failure.
double measure_stream(WsClient& client) {
  auto& ws = client.ws();
  beast::error_code ec;
  ws.text(true);
  ws.write(net::buffer("sink " + std::to_string(kStreamBytes)), ec);
  if (ec) return -1;
  const std::string chunk(kStreamChunk, 's');
  ws.binary(true);
  const auto t0 = Clock::now();
  for (std::size_t sent = 0; sent < kStreamBytes; sent += kStreamChunk) {
    ws.write(net::buffer(chunk), ec);
    if (ec) return -1;
  }
  beast::flat_buffer buffer;
  ws.read(buffer, ec);
  if (ec || beast::buffers_to_string(buffer.data()) != "done") return -1;
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// --- 10,000 idle listeners: async clients, a bounded number of handshakes in flight ------------
class IdleListeners {
 public:
  IdleListeners(ssl::context& tls, std::uint16_t port, std::string token, int count)
      : tls_(tls), port_(port), token_(std::move(token)), count_(count) {}

  int connect_all(std::chrono::seconds limit) {
    for (int i = 0; i < std::min(kConnectsInFlight, count_); ++i) launch();
    const auto end = Clock::now() + limit;
    while (online_ + failed_ < count_ && Clock::now() < end) ioc_.run_for(100ms);
    return online_;
  }
  int failed() const { return failed_; }
  void close_all() {
    for (auto& c : conns_) beast::get_lowest_layer(*c).close();
    ioc_.run_for(500ms);
    conns_.clear();
  }
  /// Keep answering the relay's pings while the caller measures.
  void pump(std::chrono::milliseconds d) { ioc_.run_for(d); }

 private:
  using Ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
  void launch() {
    if (started_ >= count_) return;
    ++started_;
    auto ws = std::make_shared<Ws>(ioc_, tls_);
    conns_.push_back(ws);
    beast::get_lowest_layer(*ws).expires_after(30s);
    beast::get_lowest_layer(*ws).async_connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), [this, ws](beast::error_code ec) {
          if (ec) return fail();
          SSL_set_tlsext_host_name(ws->next_layer().native_handle(), "localhost");
          ws->next_layer().async_handshake(ssl::stream_base::client, [this,
                                                                      ws](beast::error_code ec2) {
            if (ec2) return fail();
            beast::get_lowest_layer(*ws).expires_never();
            ws->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
            ws->set_option(websocket::stream_base::decorator([this](websocket::request_type& req) {
              req.set("ServiceBusAuthorization", token_);
            }));
            ws->async_handshake("localhost", "/$hc/idle?sb-hc-action=listen",
                                [this, ws](beast::error_code ec3) {
                                  if (ec3) return fail();
                                  ++online_;
                                  read_forever(ws);
                                  launch();
                                });
          });
        });
  }
  void read_forever(const std::shared_ptr<Ws>& ws) {
    auto buffer = std::make_shared<beast::flat_buffer>();
    ws->async_read(*buffer, [this, ws, buffer](beast::error_code ec, std::size_t) {
      if (!ec) read_forever(ws);
    });
  }
  void fail() {
    ++failed_;
    launch();
  }

  net::io_context ioc_;
  ssl::context& tls_;
  std::uint16_t port_;
  std::string token_;
  int count_;
  int started_ = 0;
  int online_ = 0;
  int failed_ = 0;
  std::vector<std::shared_ptr<Ws>> conns_;
};

std::string https_get(ssl::context& tls, std::uint16_t port, const std::string& target) {
  net::io_context ioc;
  beast::ssl_stream<tcp::socket> stream(ioc, tls);
  beast::error_code ec;
  beast::get_lowest_layer(stream).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                          ec);
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  if (!ec) stream.handshake(ssl::stream_base::client, ec);
  if (ec) return {};
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "localhost");
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res, ec);
  return res.body();
}

int listeners_online(ssl::context& tls, std::uint16_t port, const std::string& cluster) {
  const std::string metrics = https_get(tls, port, "/$metrics");
  const std::string key = "gwprobe_relay_listeners_online{cluster=\"" + cluster + "\"} ";
  const auto at = metrics.find(key);
  return at == std::string::npos ? 0 : std::stoi(metrics.substr(at + key.size()));
}

bool raise_fd_limit(rlim_t want) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_max < want) {
    rlimit raised{want, want};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return true;  // root may raise the hard limit
  }
  lim.rlim_cur = std::min<rlim_t>(std::max(lim.rlim_cur, want), lim.rlim_max);
  setrlimit(RLIMIT_NOFILE, &lim);
  getrlimit(RLIMIT_NOFILE, &lim);
  return lim.rlim_cur >= want;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string binary = argc > 1 ? argv[1] : GWPROBE_BIN;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("gwprobe-relay-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  if (std::system((binary + " relay init " + dir.string() + " >/dev/null").c_str()) != 0) {
    std::fprintf(stderr, "relay_bench: '%s relay init' failed\n", binary.c_str());
    return 1;
  }
  const rlim_t fds_needed = kIdleListeners + 512;
  const bool fds_ok = raise_fd_limit(fds_needed);  // before fork: the relay inherits it
  RelayProcess relay;
  if (!relay.start(binary, dir)) {
    std::fprintf(stderr, "relay_bench: the relay did not start; log:\n%s\n",
                 slurp(relay.log).c_str());
    return 1;
  }
  const std::string gateway_key = slurp(dir / "gateway.key");
  const std::string client_key = slurp(dir / "client.key");

  ssl::context client_tls(ssl::context::tls_client);
  client_tls.load_verify_file((dir / "ca.pem").string());
  client_tls.set_verify_mode(ssl::verify_peer);
  ssl::context server_tls(ssl::context::tls_server);
  server_tls.use_certificate_chain_file((dir / "server.pem").string());
  server_tls.use_private_key_file((dir / "server.key").string(), ssl::context::pem);

  std::printf(
      "gwprobe relay benchmarks (loopback, relay = separate process, 1 event-loop thread)\n");
  DirectEchoServer direct(server_tls);
  direct.serve_one_at_a_time();
  EchoListener listener(client_tls, relay.port, "bench", gateway_key);
  if (!listener.ok()) {
    std::fprintf(stderr, "relay_bench: the echo listener could not connect\n");
    return 1;
  }
  const std::string send_token = protocol::create_sas_token(
      "http://localhost/bench", "client", gwprobe::core::Secret(client_key), unix_now() + 3600);
  net::io_context ioc;

  // 1. latency: direct and relay batches alternate, so machine noise hits both alike.
  std::vector<double> direct_samples;
  std::vector<double> relay_samples;
  bool latency_ok = false;
  {
    WsClient d(ioc, client_tls);
    WsClient r(ioc, client_tls);
    latency_ok = d.open(direct.port(), "/", {}) &&
                 r.open(relay.port, "/$hc/bench?sb-hc-action=connect", send_token) &&
                 round_trips(d, kWarmupRoundTrips, nullptr) &&
                 round_trips(r, kWarmupRoundTrips, nullptr);
    for (int batch = 0; latency_ok && batch < kLatencyBatches; ++batch) {
      latency_ok = round_trips(d, kRoundTrips / kLatencyBatches, &direct_samples) &&
                   round_trips(r, kRoundTrips / kLatencyBatches, &relay_samples);
    }
  }
  std::printf(
      "\n1-byte round trip (%d samples per path after %d warm-up, %d alternating batches)\n",
      kRoundTrips, kWarmupRoundTrips, kLatencyBatches);
  if (latency_ok) {
    const auto dl = percentiles(direct_samples);
    const auto rl = percentiles(relay_samples);
    std::printf("  direct TLS WebSocket echo : p50 %8.1f us   p99 %8.1f us\n", dl.p50_us,
                dl.p99_us);
    std::printf("  through gwprobe relay     : p50 %8.1f us   p99 %8.1f us\n", rl.p50_us,
                rl.p99_us);
    std::printf(
        "  added by the relay        : p50 %+8.1f us   p99 %+8.1f us   (goals: p50 <= 200 us, "
        "p99 <= 1000 us)\n",
        rl.p50_us - dl.p50_us, rl.p99_us - dl.p99_us);
  } else {
    std::printf("  FAILED to measure\n");
  }

  // 2. throughput: alternating repetitions, medians compared.
  std::vector<double> direct_s;
  std::vector<double> relay_s;
  {
    WsClient d(ioc, client_tls);
    WsClient r(ioc, client_tls);
    const bool open = d.open(direct.port(), "/", {}) &&
                      r.open(relay.port, "/$hc/bench?sb-hc-action=connect", send_token);
    for (int rep = 0; open && rep < kStreamRepetitions; ++rep) {
      const double ds = measure_stream(d);
      const double rs = measure_stream(r);
      if (ds <= 0 || rs <= 0) break;
      direct_s.push_back(ds);
      relay_s.push_back(rs);
    }
  }
  const double mb = static_cast<double>(kStreamBytes) / (1 << 20);
  std::printf("\n%.0f MB stream in %zu kB messages (median of %d alternating runs)\n", mb,
              kStreamChunk >> 10, kStreamRepetitions);
  if (static_cast<int>(direct_s.size()) == kStreamRepetitions) {
    const double dm = median(direct_s);
    const double rm = median(relay_s);
    std::printf("  direct TLS     : %8.1f MB/s (%.2f s)\n", mb / dm, dm);
    std::printf("  through relay  : %8.1f MB/s (%.2f s)\n", mb / rm, rm);
    std::printf("  ratio          : %8.1f %%   (goal >= 50 %%)\n", 100.0 * dm / rm);
  } else {
    std::printf("  FAILED to measure\n");
  }

  // 3. idle listeners
  std::printf("\n%d idle listener control channels (fd soft limit %s)\n", kIdleListeners,
              fds_ok ? "raised" : "too low: fewer listeners");
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  const int count =
      fds_ok ? kIdleListeners
             : static_cast<int>(std::max<long>(0, static_cast<long>(lim.rlim_cur) - 512));
  const long before = rss_kb(relay.pid);
  const std::string idle_token = protocol::create_sas_token(
      "http://localhost/idle", "gateway", gwprobe::core::Secret(gateway_key), unix_now() + 3600);
  IdleListeners idle(client_tls, relay.port, idle_token, count);
  const auto t0 = Clock::now();
  const int online =
      idle.connect_all(std::chrono::duration_cast<std::chrono::seconds>(kIdlePhaseLimit));
  const double connect_s = std::chrono::duration<double>(Clock::now() - t0).count();
  idle.pump(1000ms);
  const int seen = listeners_online(client_tls, relay.port, "idle");
  const long after_burst = rss_kb(relay.pid);
  idle.pump(kSettle);  // the relay returns handshake garbage to the OS every few seconds
  const long after = rss_kb(relay.pid);
  std::printf("  connected %d (failed %d) in %.1f s; relay reports %d online\n", online,
              idle.failed(), connect_s, seen);
  if (online > 0 && before > 0 && after > 0) {
    std::printf("  relay RSS: %.1f MB before, %.1f MB 1 s after the burst, %.1f MB settled\n",
                before / 1024.0, after_burst / 1024.0, after / 1024.0);
    std::printf("  -> %.1f KB per idle listener   (goal <= 20 KB)\n",
                static_cast<double>(after - before) / online);
  }
  idle.close_all();
  relay.stop();
  std::filesystem::remove_all(dir);
  return 0;
}
