// The relay on loopback (port 0) driven by a small synchronous Beast client: every handshake
// error, WebSocket echo through a rendezvous, HTTP mode inline and over rendezvous in both
// directions, renewToken, token expiry, routing, load threshold, ping eviction, pending-accept
// timeout, the failed-handshake storm, and a log that never holds a secret.
#include <sys/socket.h>

#include <gtest/gtest.h>
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
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "core/url.hpp"
#include "gateway/protocol/hc_url.hpp"
#include "gateway/protocol/messages.hpp"
#include "gateway/protocol/sas.hpp"
#include "gateway/relay/demo_pki.hpp"
#include "gateway/relay/relay_server.hpp"

namespace gwprobe::gateway::relay {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

constexpr const char* kListenKey = "listen-key-for-tests-0123456789";
constexpr const char* kSendKey = "send-key-for-tests-9876543210";
constexpr auto kClientTimeout = 20s;  // watchdog per client connection: no test may hang

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Polls `condition` until it holds or `limit` passes (behaviour checks, not speed checks).
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

/// Shuts a socket down from another thread if a blocking test operation outlives its limit.
class Watchdog {
 public:
  Watchdog(int fd, std::chrono::milliseconds limit)
      : thread_([this, fd, limit] {
          std::unique_lock lock(mutex_);
          if (!cv_.wait_for(lock, limit, [this] { return done_; })) ::shutdown(fd, SHUT_RDWR);
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

/// One TLS WebSocket client connection (sync).
class WsClient {
 public:
  WsClient(ssl::context& tls, std::uint16_t port, const std::string& local_ip = "127.0.0.1")
      : ws_(ioc_, tls) {
    auto& socket = beast::get_lowest_layer(ws_);
    socket.open(tcp::v4());
    socket.bind(tcp::endpoint(net::ip::make_address(local_ip), 0));
    beast::error_code ec;
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    connected_ = !ec;
    if (connected_) watchdog_.emplace(socket.native_handle(), kClientTimeout);
  }

  /// Upgrades; returns 101 or the HTTP status the relay answered with (0: transport error).
  int handshake(const std::string& target,
                const std::vector<std::pair<std::string, std::string>>& headers = {},
                bool offer_deflate = false) {
    if (!connected_) return 0;
    beast::error_code ec;
    SSL_set_tlsext_host_name(ws_.next_layer().native_handle(), "localhost");
    ws_.next_layer().handshake(ssl::stream_base::client, ec);
    if (ec) return 0;
    websocket::permessage_deflate deflate;
    deflate.client_enable = offer_deflate;
    ws_.set_option(deflate);
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [k, v] : headers) req.set(k, v);
    }));
    // The async form fills the response even when the upgrade is declined; the sync one does
    // not (Boost 1.74), and the declined status is what these tests are about.
    response_.result(0);
    ws_.async_handshake(response_, "localhost", target, [&ec](beast::error_code e) { ec = e; });
    ioc_.restart();
    ioc_.run();
    if (!ec) return 101;
    return response_.result_int() != 0 ? static_cast<int>(response_.result_int()) : 0;
  }

  void send_text(const std::string& text) {
    ws_.text(true);
    ws_.write(net::buffer(text));
  }
  void send_binary(const std::string& data) {
    ws_.binary(true);
    ws_.write(net::buffer(data));
  }
  /// Next message; nullopt when the connection ended (close code in close_code()).
  std::optional<std::string> read(bool* binary = nullptr) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    ws_.read(buffer, ec);
    if (ec) {
      ended_ = ec;
      return std::nullopt;
    }
    if (binary != nullptr) *binary = ws_.got_binary();
    return beast::buffers_to_string(buffer.data());
  }
  int close_code() const { return static_cast<int>(ws_.reason().code); }
  void close() {
    beast::error_code ec;
    ws_.close(websocket::close_code::normal, ec);
  }
  /// Ends the connection from another thread (the stream itself is not thread-safe; the OS
  /// socket is): a blocked read on the owning thread then fails.
  void abort() { ::shutdown(beast::get_lowest_layer(ws_).native_handle(), SHUT_RDWR); }
  const websocket::response_type& response() const { return response_; }

 private:
  net::io_context ioc_;
  websocket::stream<beast::ssl_stream<tcp::socket>> ws_;
  websocket::response_type response_;
  bool connected_ = false;
  std::optional<Watchdog> watchdog_;
  beast::error_code ended_;
};

/// One HTTPS request (sync) with a fresh connection.
http::response<http::string_body> https_request(
    ssl::context& tls, std::uint16_t port, http::verb method, const std::string& target,
    std::string body, const std::vector<std::pair<std::string, std::string>>& headers) {
  net::io_context ioc;
  beast::ssl_stream<tcp::socket> stream(ioc, tls);
  http::response<http::string_body> res;
  beast::error_code ec;
  beast::get_lowest_layer(stream).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                                          ec);
  if (ec) return res;
  Watchdog dog(beast::get_lowest_layer(stream).native_handle(), kClientTimeout);
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  stream.handshake(ssl::stream_base::client, ec);
  if (ec) return res;
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "localhost");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = std::move(body);
  req.keep_alive(false);
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) return res;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  http::read(stream, buffer, parser, ec);
  if (!ec) res = parser.release();
  return res;
}

std::string listen_token(const std::string& path, std::int64_t ttl = 3600,
                         const char* rule = "gateway", const char* key = kListenKey) {
  return protocol::create_sas_token("http://localhost/" + path, rule, core::Secret(key),
                                    unix_now() + ttl);
}
std::string send_token(const std::string& path, std::int64_t ttl = 3600) {
  return protocol::create_sas_token("http://localhost/" + path, "client", core::Secret(kSendKey),
                                    unix_now() + ttl);
}

/// What a test listener does with the messages it gets.
struct ListenerBehaviour {
  bool answer_accepts = true;            ///< open the rendezvous and echo
  std::string reject_status;             ///< when set, reject accepts with this sb-hc-statusCode
  bool ignore_everything = false;        ///< read but never act (pending-accept timeout)
  std::size_t inline_limit = 64 * 1024;  ///< respond over a rendezvous above this
};

/// A listener in a background thread: control channel, accept -> echo rendezvous, request ->
/// response echoing "method target body" (or a large body when asked for /big).
class TestListener {
 public:
  TestListener(ssl::context& tls, std::uint16_t port, std::string path, std::string query = {},
               ListenerBehaviour behaviour = {})
      : tls_(tls), port_(port), path_(std::move(path)), behaviour_(behaviour), control_(tls, port) {
    status_ = control_.handshake("/$hc/" + path_ + "?sb-hc-action=listen" + query,
                                 {{"ServiceBusAuthorization", listen_token(path_)}});
    if (status_ == 101) thread_ = std::thread([this] { loop(); });
  }
  ~TestListener() {
    control_.abort();  // the listener thread owns the stream
    if (thread_.joinable()) thread_.join();
    for (auto& t : echo_threads_) t.join();
  }
  int status() const { return status_; }
  int accepts() const { return accepts_; }
  int requests() const { return requests_; }
  int close_code() const { return closed_code_; }
  bool ended() const { return ended_; }
  std::string last_accept_json() {
    std::lock_guard lock(mutex_);
    return last_accept_;
  }

 private:
  void loop() {
    while (true) {
      bool binary = false;
      auto message = control_.read(&binary);
      if (!message) {
        closed_code_ = control_.close_code();
        ended_ = true;
        return;
      }
      if (behaviour_.ignore_everything) continue;
      auto parsed = protocol::parse_control_message(*message);
      if (!parsed) continue;
      if (auto* accept = std::get_if<protocol::AcceptCommand>(&*parsed)) {
        ++accepts_;
        {
          std::lock_guard lock(mutex_);
          last_accept_ = *message;
        }
        on_accept(*accept);
      } else if (auto* request = std::get_if<protocol::RequestCommand>(&*parsed)) {
        ++requests_;
        std::optional<std::string> body;
        if (request->body) body = control_.read();
        on_request(*request, body.value_or(""));
      }
    }
  }

  std::string target_of(const std::string& address) {
    auto url = core::parse_url(address);
    return url ? url->path : std::string("/");
  }

  void on_accept(const protocol::AcceptCommand& accept) {
    if (!behaviour_.answer_accepts) return;
    std::string target = target_of(accept.address);
    if (!behaviour_.reject_status.empty()) {
      target = protocol::append_query(target, "sb-hc-statusCode", behaviour_.reject_status);
      target = protocol::append_query(target, "sb-hc-statusDescription", "not today");
      WsClient rendezvous(tls_, port_);
      reject_handshake_status_ = rendezvous.handshake(target);
      return;
    }
    std::vector<std::pair<std::string, std::string>> headers;
    if (const auto* proto =
            protocol::find_header(accept.connect_headers, "Sec-WebSocket-Protocol")) {
      headers.emplace_back("Sec-WebSocket-Protocol", proto->substr(0, proto->find(',')));
    }
    auto rendezvous = std::make_shared<WsClient>(tls_, port_);
    if (rendezvous->handshake(target, headers) != 101) return;
    echo_threads_.emplace_back([rendezvous] {
      while (true) {
        bool binary = false;
        auto m = rendezvous->read(&binary);
        if (!m) return;
        if (binary) {
          rendezvous->send_binary(*m);
        } else {
          rendezvous->send_text(*m);
        }
      }
    });
  }

  void on_request(const protocol::RequestCommand& request, const std::string& inline_body) {
    std::string body = inline_body;
    protocol::RequestCommand full = request;
    std::shared_ptr<WsClient> rendezvous;
    if (request.address_only()) {
      rendezvous = std::make_shared<WsClient>(tls_, port_);
      if (rendezvous->handshake(target_of(request.address)) != 101) return;
      auto json = rendezvous->read();
      if (!json) return;
      auto parsed = protocol::parse_control_message(*json);
      if (!parsed) return;
      full = std::get<protocol::RequestCommand>(*parsed);
      if (full.body) body = rendezvous->read().value_or("");
    }
    protocol::ResponseCommand response;
    response.request_id = full.id;
    response.status_code = 200;
    response.status_description = "OK";
    std::string out;
    if (full.request_target && full.request_target->find("/big") != std::string::npos) {
      out = std::string(200000, 'r');
    } else {
      out = full.method.value_or("?") + " " + full.request_target.value_or("?") + " " +
            std::to_string(body.size()) + " " + body.substr(0, 32);
    }
    response.response_headers = {{"content-type", "text/plain"}, {"x-listener", path_}};
    response.body = true;
    if (!rendezvous && out.size() > behaviour_.inline_limit) {
      rendezvous = std::make_shared<WsClient>(tls_, port_);
      if (rendezvous->handshake(target_of(full.address)) != 101) return;
    }
    WsClient* channel = rendezvous ? rendezvous.get() : &control_;
    channel->send_text(protocol::serialize(response));
    channel->send_binary(out);
    if (rendezvous) rendezvous->read();  // the relay closes the rendezvous after the response
  }

  ssl::context& tls_;
  std::uint16_t port_;
  std::string path_;
  ListenerBehaviour behaviour_;
  WsClient control_;
  int status_ = 0;
  std::thread thread_;
  std::vector<std::thread> echo_threads_;
  std::atomic<int> accepts_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> closed_code_{0};
  std::atomic<bool> ended_{false};
  std::mutex mutex_;
  std::string last_accept_;

 public:
  std::atomic<int> reject_handshake_status_{0};
};

/// A relay on 127.0.0.1:0 with a fresh PKI and two rules, serving on a background thread, and
/// a client TLS context that trusts only its CA.
class RelayFixture : public ::testing::Test {
 protected:
  void start(std::function<void(RelayConfig&)> tweak = {}) {
    dir_ = std::filesystem::temp_directory_path() /
           ("gwprobe-relay-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    auto pki = make_demo_pki("localhost");
    ASSERT_TRUE(pki) << pki.error().message;
    std::ofstream(dir_ / "cert.pem") << pki->server_cert_pem;
    std::ofstream(dir_ / "key.pem") << pki->server_key_pem;
    RelayConfig config;
    config.port = 0;
    config.cert_file = (dir_ / "cert.pem").string();
    config.key_file = (dir_ / "key.pem").string();
    ASSERT_TRUE(config.keys.add(
        {"gateway", core::Secret(kListenKey), protocol::rights_of(protocol::Right::listen)}));
    ASSERT_TRUE(config.keys.add(
        {"client", core::Secret(kSendKey), protocol::rights_of(protocol::Right::send)}));
    config.shutdown_grace = 2s;
    if (tweak) tweak(config);
    auto log = std::make_shared<JsonLog>([this](std::string_view line) {
      std::lock_guard lock(log_mutex_);
      log_ += line;
    });
    auto server = RelayServer::create(std::move(config), log);
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    port_ = server_->port();
    thread_ = std::thread([this] { server_->run(); });
    tls_.set_verify_mode(ssl::verify_peer);
    tls_.add_certificate_authority(net::buffer(pki->ca_cert_pem));
  }

  void TearDown() override {
    if (server_) {
      server_->shut_down();
      thread_.join();
      // No test may leave a secret in the log: keys, signatures, tokens.
      const std::string log = log_text();
      EXPECT_EQ(log.find(kListenKey), std::string::npos);
      EXPECT_EQ(log.find(kSendKey), std::string::npos);
      EXPECT_EQ(log.find("SharedAccessSignature"), std::string::npos);
      EXPECT_EQ(log.find("sig="), std::string::npos);
      EXPECT_EQ(log.find("sb-hc-token"), std::string::npos);
      EXPECT_EQ(log.find("sb-hc-id="), std::string::npos);  // capability ids are credentials too
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string log_text() {
    std::lock_guard lock(log_mutex_);
    return log_;
  }

  int connect_status(const std::string& path, WsClient& client, const std::string& query = {},
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("ServiceBusAuthorization", send_token(path));
    return client.handshake("/$hc/" + path + "?sb-hc-action=connect" + query, headers);
  }

  std::filesystem::path dir_;
  std::unique_ptr<RelayServer> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  ssl::context tls_{ssl::context::tls_client};
  std::mutex log_mutex_;
  std::string log_;
  static inline int counter_ = 0;
};

TEST_F(RelayFixture, ListenHandshakeErrorsCarryTheDocumentedStatusCodes) {
  start();
  struct Case {
    std::string target;
    std::string token;
    int status;
  };
  const std::int64_t now = unix_now();
  const std::vector<Case> cases = {
      {"/$hc/db?sb-hc-action=listen", "", 401},
      {"/$hc/db?sb-hc-action=listen", "Bearer nope", 401},
      {"/$hc/db?sb-hc-action=listen", listen_token("db", 3600, "gateway", "wrong-key"), 401},
      {"/$hc/db?sb-hc-action=listen", listen_token("db", 3600, "nobody"), 401},
      {"/$hc/db?sb-hc-action=listen",
       protocol::create_sas_token("http://localhost/db", "gateway", core::Secret(kListenKey),
                                  now - 5),
       401},
      {"/$hc/db?sb-hc-action=listen", listen_token("other"), 403},
      {"/$hc/db?sb-hc-action=listen", send_token("db"), 403},
      {"/$hc/db?sb-hc-action=dance", listen_token("db"), 400},
      {"/$hc/db", listen_token("db"), 400},
      {"/$hc/?sb-hc-action=listen", listen_token("db"), 400},
      {"/$hc/db?sb-hc-action=accept", "", 400},
      {"/$hc/db?sb-hc-action=accept&sb-hc-id=forged.1.abc", "", 403},
      {"/$hc/"
       "db?sb-hc-action=request&sb-hc-id=00000000000000000000000000000000.ffffffffff."
       "00000000000000000000000000000000",
       "", 403},
  };
  for (const auto& c : cases) {
    WsClient client(tls_, port_);
    std::vector<std::pair<std::string, std::string>> headers;
    if (!c.token.empty()) headers.emplace_back("ServiceBusAuthorization", c.token);
    EXPECT_EQ(client.handshake(c.target, headers), c.status) << c.target;
  }
  // The token may also come in sb-hc-token (URL-encoded).
  WsClient by_query(tls_, port_);
  EXPECT_EQ(by_query.handshake("/$hc/db?sb-hc-action=listen&sb-hc-token=" +
                               core::percent_encode(listen_token("db"))),
            101);
  EXPECT_GE(server_->hub().counter("auth_failures_total", "fault", "bad_signature"), 1u);
}

TEST_F(RelayFixture, APlainHttpsGetOnAnHcPathIsABadRequest) {
  start();
  auto res = https_request(tls_, port_, http::verb::get, "/$hc/db?sb-hc-action=listen", "", {});
  EXPECT_EQ(res.result_int(), 400u);
}

TEST_F(RelayFixture, ASenderWithNoListenerGets404) {
  start();
  WsClient sender(tls_, port_);
  EXPECT_EQ(connect_status("nobody-home", sender), 404);
}

TEST_F(RelayFixture, AListenerIsOnlineTheMomentItsHandshakeReturns) {
  start();
  // Registered as the 101 is built, before it is written: a sender that follows the listener's
  // handshake (an agent's first query, a test) must never find the path empty.
  for (int i = 0; i < 30; ++i) {
    const std::string path = "prompt" + std::to_string(i);
    TestListener listener(tls_, port_, path);
    ASSERT_EQ(listener.status(), 101);
    ASSERT_EQ(server_->hub().online_members(path), 1u) << "attempt " << i;
  }
  // And a listener whose handshake is refused is never registered.
  WsClient refused(tls_, port_);
  EXPECT_EQ(refused.handshake("/$hc/nobody?sb-hc-action=listen",
                              {{"ServiceBusAuthorization", send_token("nobody")}}),
            403);
  EXPECT_EQ(server_->hub().online_members("nobody"), 0u);
}

TEST_F(RelayFixture, ASenderIsSplicedToAListenerAndEchoesTextAndBinary) {
  start();
  TestListener listener(tls_, port_, "echo");
  ASSERT_EQ(listener.status(), 101);
  WsClient sender(tls_, port_);
  ASSERT_EQ(connect_status("echo", sender, "&app=1",
                           {{"Sec-WebSocket-Protocol", "gwp.v1, gwp.v0"}, {"X-App", "yes"}}),
            101);
  EXPECT_EQ(sender.response()[http::field::sec_websocket_protocol], "gwp.v1");
  sender.send_text("hello");
  bool binary = true;
  EXPECT_EQ(sender.read(&binary), "hello");
  EXPECT_FALSE(binary);
  const std::string blob(300000, '\x07');
  sender.send_binary(blob);
  EXPECT_EQ(sender.read(&binary), blob);
  EXPECT_TRUE(binary);
  sender.send_binary("x");
  EXPECT_EQ(sender.read(), "x");
  // The accept carried the sender's headers but not its token.
  const auto accept = listener.last_accept_json();
  EXPECT_NE(accept.find("X-App"), std::string::npos);
  EXPECT_NE(accept.find("Sec-WebSocket-Key"), std::string::npos);
  EXPECT_EQ(accept.find("SharedAccessSignature"), std::string::npos);
  sender.close();
  EXPECT_TRUE(eventually(
      [&] { return server_->hub().counter("sender_connects_total", "result", "accepted") == 1; }));
}

TEST_F(RelayFixture, PermessageDeflateIsDeclinedWhenASenderOffersIt) {
  start();
  TestListener listener(tls_, port_, "echo");
  WsClient deflating(tls_, port_);
  std::vector<std::pair<std::string, std::string>> headers{
      {"ServiceBusAuthorization", send_token("echo")}};
  ASSERT_EQ(deflating.handshake("/$hc/echo?sb-hc-action=connect", headers, true), 101);
  EXPECT_EQ(deflating.response()[http::field::sec_websocket_extensions], "");
  deflating.send_text("compressible compressible compressible");
  EXPECT_EQ(deflating.read(), "compressible compressible compressible");
}

TEST_F(RelayFixture, AListenerRejectionReachesTheSenderAsItsStatusAndTheListenerGets410) {
  start();
  ListenerBehaviour reject;
  reject.reject_status = "403";
  TestListener listener(tls_, port_, "picky", {}, reject);
  WsClient sender(tls_, port_);
  EXPECT_EQ(connect_status("picky", sender), 403);
  EXPECT_TRUE(eventually([&] { return listener.reject_handshake_status_ == 410; }));
}

TEST_F(RelayFixture, ASenderHeldPastTheAcceptTimeoutGets504) {
  start([](RelayConfig& c) { c.limits.accept_timeout = 300ms; });
  ListenerBehaviour silent;
  silent.ignore_everything = true;
  TestListener listener(tls_, port_, "slow", {}, silent);
  WsClient sender(tls_, port_);
  EXPECT_EQ(connect_status("slow", sender), 504);
  EXPECT_EQ(server_->hub().counter("sender_connects_total", "result", "timeout"), 1u);
}

TEST_F(RelayFixture, AnAcceptAddressIsSingleUse) {
  start([](RelayConfig& c) { c.limits.accept_timeout = 500ms; });
  ListenerBehaviour silent;
  silent.ignore_everything = true;
  // Grab the accept by reading the control channel directly.
  WsClient control(tls_, port_);
  ASSERT_EQ(control.handshake("/$hc/once?sb-hc-action=listen",
                              {{"ServiceBusAuthorization", listen_token("once")}}),
            101);
  std::thread sender_thread([&] {
    WsClient sender(tls_, port_);
    connect_status("once", sender);
  });
  auto message = control.read();
  ASSERT_TRUE(message);
  auto accept = std::get<protocol::AcceptCommand>(*protocol::parse_control_message(*message));
  const auto target = core::parse_url(accept.address)->path;
  WsClient first(tls_, port_);
  EXPECT_EQ(first.handshake(target), 101);
  WsClient second(tls_, port_);
  EXPECT_EQ(second.handshake(target), 403);
  first.close();
  sender_thread.join();
}

TEST_F(RelayFixture, HttpModeCarriesSmallRequestsInlineWithHeadersFiltered) {
  start();
  TestListener listener(tls_, port_, "api");
  auto res = https_request(tls_, port_, http::verb::post,
                           "/api/query?x=1&sb-hc-token=" + core::percent_encode(send_token("api")),
                           "small body", {{"content-type", "text/plain"}});
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "POST /api/query?x=1 10 small body");
  EXPECT_EQ(res["x-listener"], "api");
  EXPECT_EQ(res[http::field::via], "1.1 gwprobe-relay");
  // Token in the Authorization header works in HTTP mode too.
  auto again = https_request(tls_, port_, http::verb::get, "/api/ping", "",
                             {{"Authorization", send_token("api")}});
  EXPECT_EQ(again.result_int(), 200u);
  EXPECT_EQ(again.body(), "GET /api/ping 0 ");
}

TEST_F(RelayFixture, HttpModeUsesARendezvousForLargeBodiesInBothDirections) {
  start();
  TestListener listener(tls_, port_, "api");
  const std::string big(150000, 'q');
  auto up = https_request(tls_, port_, http::verb::post, "/api/upload", big,
                          {{"ServiceBusAuthorization", send_token("api")}});
  EXPECT_EQ(up.result_int(), 200u);
  EXPECT_EQ(up.body(), "POST /api/upload 150000 " + std::string(32, 'q'));
  auto down = https_request(tls_, port_, http::verb::get, "/api/big", "",
                            {{"ServiceBusAuthorization", send_token("api")}});
  EXPECT_EQ(down.result_int(), 200u);
  EXPECT_EQ(down.body(), std::string(200000, 'r'));
}

TEST_F(RelayFixture, HttpModeKeepsAliveAndAnswersExpect100Continue) {
  start();
  TestListener listener(tls_, port_, "api");
  net::io_context ioc;
  beast::ssl_stream<tcp::socket> stream(ioc, tls_);
  beast::get_lowest_layer(stream).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  Watchdog dog(beast::get_lowest_layer(stream).native_handle(), kClientTimeout);
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  stream.handshake(ssl::stream_base::client);
  const std::string token = send_token("api");
  beast::flat_buffer buffer;
  // 1: header with Expect, wait for 100 Continue, then the body.
  const std::string body(5000, 'e');
  const std::string head =
      "POST /api/first HTTP/1.1\r\nHost: localhost\r\nServiceBusAuthorization: " + token +
      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n\r\n";
  net::write(stream, net::buffer(head));
  http::response<http::empty_body> interim;
  http::read(stream, buffer, interim);
  EXPECT_EQ(interim.result_int(), 100u);
  net::write(stream, net::buffer(body));
  http::response<http::string_body> first;
  http::read(stream, buffer, first);
  EXPECT_EQ(first.result_int(), 200u);
  EXPECT_EQ(first.body(), "POST /api/first 5000 " + std::string(32, 'e'));
  EXPECT_TRUE(first.keep_alive());
  // 2: a second request on the same connection.
  http::request<http::string_body> req{http::verb::get, "/api/second", 11};
  req.set(http::field::host, "localhost");
  req.set("ServiceBusAuthorization", token);
  http::write(stream, req);
  http::response<http::string_body> second;
  http::read(stream, buffer, second);
  EXPECT_EQ(second.result_int(), 200u);
  EXPECT_EQ(second.body(), "GET /api/second 0 ");
  EXPECT_EQ(listener.requests(), 2);
}

TEST_F(RelayFixture, HttpModeAnswers502WithoutAListenerAnd401WithoutAToken) {
  start();
  auto none = https_request(tls_, port_, http::verb::get, "/ghost", "",
                            {{"ServiceBusAuthorization", send_token("ghost")}});
  EXPECT_EQ(none.result_int(), 502u);
  auto anonymous = https_request(tls_, port_, http::verb::get, "/ghost", "", {});
  EXPECT_EQ(anonymous.result_int(), 401u);
}

TEST_F(RelayFixture, HttpModeTimesOutWith504WhenTheListenerNeverAnswers) {
  start([](RelayConfig& c) { c.limits.http_response_timeout = 300ms; });
  ListenerBehaviour silent;
  silent.ignore_everything = true;
  TestListener listener(tls_, port_, "mute", {}, silent);
  auto res = https_request(tls_, port_, http::verb::get, "/mute", "",
                           {{"ServiceBusAuthorization", send_token("mute")}});
  EXPECT_EQ(res.result_int(), 504u);
}

TEST_F(RelayFixture, AGoodRenewTokenKeepsTheListenerPastItsFirstExpiry) {
  start();
  WsClient control(tls_, port_);
  ASSERT_EQ(control.handshake("/$hc/renew?sb-hc-action=listen",
                              {{"ServiceBusAuthorization", listen_token("renew", 2)}}),
            101);
  control.send_text(protocol::serialize(protocol::RenewTokenCommand{listen_token("renew", 3600)}));
  EXPECT_TRUE(eventually(
      [&] { return server_->hub().counter("token_renewals_total", "result", "ok") == 1; }));
  std::this_thread::sleep_for(3s);  // past the first token's expiry
  EXPECT_EQ(server_->hub().online_members("renew"), 1u);
}

TEST_F(RelayFixture, ABadRenewTokenClosesTheControlChannelWith1008) {
  start();
  WsClient control(tls_, port_);
  ASSERT_EQ(control.handshake("/$hc/renew?sb-hc-action=listen",
                              {{"ServiceBusAuthorization", listen_token("renew")}}),
            101);
  control.send_text(protocol::serialize(
      protocol::RenewTokenCommand{listen_token("renew", 3600, "gateway", "bad-key")}));
  EXPECT_FALSE(control.read());
  EXPECT_EQ(control.close_code(), 1008);
  EXPECT_TRUE(eventually([&] { return server_->hub().online_members("renew") == 0; }));
}

TEST_F(RelayFixture, TokenExpiryClosesTheControlChannelWith1008) {
  start();
  WsClient control(tls_, port_);
  ASSERT_EQ(control.handshake("/$hc/short?sb-hc-action=listen",
                              {{"ServiceBusAuthorization", listen_token("short", 1)}}),
            101);
  EXPECT_FALSE(control.read());
  EXPECT_EQ(control.close_code(), 1008);
  EXPECT_TRUE(eventually([&] {
    return server_->hub().counter("listener_disconnects_total", "reason", "token_expired") == 1;
  }));
}

TEST_F(RelayFixture, RoundRobinSpreadsSendersOverListeners) {
  start();
  TestListener a(tls_, port_, "rr");
  TestListener b(tls_, port_, "rr");
  for (int i = 0; i < 4; ++i) {
    WsClient sender(tls_, port_);
    ASSERT_EQ(connect_status("rr", sender), 101);
    sender.send_text("ping");
    EXPECT_EQ(sender.read(), "ping");
    sender.close();
  }
  EXPECT_EQ(a.accepts(), 2);
  EXPECT_EQ(b.accepts(), 2);
}

TEST_F(RelayFixture, FailoverSendsEverythingToTheBestPriorityAndMovesOnWhenItLeaves) {
  start([](RelayConfig& c) { c.routing = Routing::failover; });
  TestListener backup(tls_, port_, "fo", "&gwprobe-priority=5");
  auto primary = std::make_unique<TestListener>(tls_, port_, "fo", "&gwprobe-priority=1");
  for (int i = 0; i < 3; ++i) {
    WsClient sender(tls_, port_);
    ASSERT_EQ(connect_status("fo", sender), 101);
    sender.close();
  }
  EXPECT_EQ(primary->accepts(), 3);
  EXPECT_EQ(backup.accepts(), 0);
  primary.reset();
  ASSERT_TRUE(eventually([&] { return server_->hub().online_members("fo") == 1; }));
  WsClient sender(tls_, port_);
  EXPECT_EQ(connect_status("fo", sender), 101);
  EXPECT_EQ(backup.accepts(), 1);
}

TEST_F(RelayFixture, MembersOverTheLoadThresholdAreSkipped) {
  start([](RelayConfig& c) { c.max_load = 0.8; });
  // A busy listener reports its load, then idles (reads nothing more).
  WsClient busy(tls_, port_);
  ASSERT_EQ(busy.handshake("/$hc/load?sb-hc-action=listen",
                           {{"ServiceBusAuthorization", listen_token("load")}}),
            101);
  busy.send_text(protocol::serialize(protocol::LoadReportCommand{0.95, 0.2}));
  auto idle = std::make_unique<TestListener>(tls_, port_, "load");
  ASSERT_TRUE(eventually(
      [&] { return server_->hub().status_json().find("\"busy\": true") != std::string::npos; }));
  for (int i = 0; i < 3; ++i) {
    WsClient sender(tls_, port_);
    EXPECT_EQ(connect_status("load", sender), 101);
    sender.close();
  }
  EXPECT_EQ(idle->accepts(), 3);
  // When every member is busy the sender hears 503.
  idle.reset();
  ASSERT_TRUE(eventually([&] { return server_->hub().online_members("load") == 1; }));
  WsClient refused(tls_, port_);
  EXPECT_EQ(connect_status("load", refused), 503);
}

TEST_F(RelayFixture, AListenerThatStopsAnsweringPingsIsEvictedWhileAHealthyOneStays) {
  start([](RelayConfig& c) {
    c.ping_interval = 100ms;
    c.max_missed_pongs = 2;
  });
  WsClient deaf(tls_, port_);  // never reads, so never answers a ping
  ASSERT_EQ(deaf.handshake("/$hc/pp?sb-hc-action=listen",
                           {{"ServiceBusAuthorization", listen_token("pp")}}),
            101);
  TestListener healthy(tls_, port_, "pp");
  ASSERT_TRUE(eventually([&] { return server_->hub().online_members("pp") == 2; }));
  EXPECT_TRUE(eventually([&] { return server_->hub().online_members("pp") == 1; }));
  EXPECT_EQ(server_->hub().counter("listener_disconnects_total", "reason", "ping_timeout"), 1u);
  std::this_thread::sleep_for(500ms);  // several more ping rounds
  EXPECT_EQ(server_->hub().online_members("pp"), 1u);
  WsClient sender(tls_, port_);
  EXPECT_EQ(connect_status("pp", sender), 101);
}

TEST_F(RelayFixture, AStormOfBadHandshakesIsBlockedWhileAGoodListenerStillGetsThrough) {
  start([](RelayConfig& c) {
    c.limits.auth_failures_allowed = 10;
    c.limits.auth_failure_window = 10s;
    c.limits.auth_block_duration = 30s;
  });
  std::atomic<int> attempts{0};
  std::atomic<int> refused_before_tls{0};
  std::atomic<bool> stop{false};
  // The storm comes from 127.0.0.2, bounded to 400 attempts and 15 s.
  std::thread storm([&] {
    const auto end = std::chrono::steady_clock::now() + 15s;
    while (!stop && attempts < 400 && std::chrono::steady_clock::now() < end) {
      WsClient bad(tls_, port_, "127.0.0.2");
      if (bad.handshake("/$hc/storm?sb-hc-action=listen",
                        {{"ServiceBusAuthorization",
                          "SharedAccessSignature sr=x&sig=y&se=1&skn=gateway"}}) == 0) {
        ++refused_before_tls;
      }
      ++attempts;
    }
  });
  ASSERT_TRUE(eventually([&] { return attempts >= 100; }, 15s));
  TestListener good(tls_, port_, "storm");
  EXPECT_EQ(good.status(), 101);
  WsClient sender(tls_, port_);
  EXPECT_EQ(connect_status("storm", sender), 101);
  sender.send_text("still here");
  EXPECT_EQ(sender.read(), "still here");
  stop = true;
  storm.join();
  EXPECT_GT(refused_before_tls.load(), 50);
  EXPECT_GE(server_->hub().counter("connections_refused_total", "reason", "rate_limited"), 50u);
  EXPECT_LE(server_->hub().counter("auth_failures_total", "fault", "bad_signature") +
                server_->hub().counter("auth_failures_total", "fault", "expired"),
            12u);
}

TEST_F(RelayFixture, MetricsAndStatusAreServedOnTheTlsPort) {
  start();
  TestListener listener(tls_, port_, "watched");
  auto metrics = https_request(tls_, port_, http::verb::get, "/$metrics", "", {});
  EXPECT_EQ(metrics.result_int(), 200u);
  EXPECT_NE(metrics.body().find("gwprobe_relay_listeners_online{cluster=\"watched\"} 1"),
            std::string::npos);
  auto json = https_request(tls_, port_, http::verb::get, "/$status?format=json", "", {});
  EXPECT_EQ(json.result_int(), 200u);
  EXPECT_NE(json.body().find("\"path\": \"watched\""), std::string::npos);
  auto html = https_request(tls_, port_, http::verb::get, "/$status", "", {});
  EXPECT_NE(html.body().find("<h3>/watched</h3>"), std::string::npos);
}

TEST_F(RelayFixture, ShutdownClosesListenersWithGoingAway) {
  start();
  WsClient control(tls_, port_);
  ASSERT_EQ(control.handshake("/$hc/bye?sb-hc-action=listen",
                              {{"ServiceBusAuthorization", listen_token("bye")}}),
            101);
  ASSERT_TRUE(eventually([&] { return server_->hub().online_members("bye") == 1; }));
  server_->shut_down();
  EXPECT_FALSE(control.read());
  EXPECT_EQ(control.close_code(), 1001);
  thread_.join();
  server_->shut_down();  // TearDown's call must be harmless after the loop ended
  thread_ = std::thread([] {});
}

TEST_F(RelayFixture, SeveralEventLoopThreadsServeSplicesAndHttpModeTogether) {
  // Sessions live on their own strands; with two threads the hub and cross-strand hand-offs
  // (rendezvous, responses) really run concurrently (run this under the tsan preset).
  start([](RelayConfig& c) { c.threads = 2; });
  TestListener ws_listener(tls_, port_, "mt-ws");
  TestListener http_listener(tls_, port_, "mt-http");
  std::thread http_client([&] {
    for (int i = 0; i < 5; ++i) {
      auto res = https_request(tls_, port_, http::verb::post, "/mt-http/q",
                               std::string(i == 4 ? 100000 : 10, 'b'),
                               {{"ServiceBusAuthorization", send_token("mt-http")}});
      EXPECT_EQ(res.result_int(), 200u);
    }
  });
  for (int i = 0; i < 5; ++i) {
    WsClient sender(tls_, port_);
    ASSERT_EQ(connect_status("mt-ws", sender), 101);
    sender.send_binary(std::string(70000, 'm'));
    EXPECT_EQ(sender.read(), std::string(70000, 'm'));
    sender.close();
  }
  http_client.join();
  EXPECT_EQ(ws_listener.accepts(), 5);
  EXPECT_EQ(http_listener.requests(), 5);
}

TEST(RelayServerCreate, FailsClearlyOnAMissingCertificateOrNoRules) {
  RelayConfig config;
  config.port = 0;
  config.cert_file = "/nonexistent/cert.pem";
  config.key_file = "/nonexistent/key.pem";
  auto no_rules = RelayServer::create(config, std::make_shared<JsonLog>([](std::string_view) {}));
  ASSERT_FALSE(no_rules);
  EXPECT_EQ(no_rules.error().message, "the relay needs at least one SAS rule");
  ASSERT_TRUE(
      config.keys.add({"a", core::Secret("k"), protocol::rights_of(protocol::Right::send)}));
  auto no_cert = RelayServer::create(config, std::make_shared<JsonLog>([](std::string_view) {}));
  ASSERT_FALSE(no_cert);
  EXPECT_EQ(no_cert.error().message.rfind("cannot load certificate '/nonexistent/cert.pem'", 0),
            0u);
}

}  // namespace
}  // namespace gwprobe::gateway::relay
