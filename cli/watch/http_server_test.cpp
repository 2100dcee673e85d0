// The HTTP server: request parsing as tables, then a live server on 127.0.0.1 port 0 driven by
// a raw-socket client (well-formed, malformed, oversized, stalled and surplus connections).
#include "cli/watch/http_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "core/unique_fd.hpp"
#include "tests/fixtures/http_client.hpp"

namespace gwprobe::cli::watch {
namespace {
using namespace std::chrono_literals;

HttpRequest as_request(const std::variant<HttpRequest, HttpError>& parsed) {
  if (const auto* error = std::get_if<HttpError>(&parsed)) {
    ADD_FAILURE() << error->status << " " << error->message;
    return {};
  }
  return std::get<HttpRequest>(parsed);
}

TEST(HttpRequestHead, ParsesMethodPathAndDecodedQuery) {
  const auto r = as_request(parse_request_head(
      "GET /probe?check=tcp%3Aa.example%3A443&format=json&flag HTTP/1.1\r\nHost: x\r\n"
      "User-Agent: Prometheus/2.42\r\n\r\n"));
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/probe");
  EXPECT_EQ(r.target, "/probe?check=tcp%3Aa.example%3A443&format=json&flag");
  EXPECT_EQ(r.query_value("check"), "tcp:a.example:443");
  EXPECT_EQ(r.query_value("format"), "json");
  EXPECT_EQ(r.query_value("flag"), "");
  EXPECT_EQ(r.query_value("missing"), std::nullopt);
}

TEST(HttpRequestHead, AcceptsHeadHttp10BareLineFeedsAndAnUnterminatedHead) {
  EXPECT_EQ(as_request(parse_request_head("HEAD /metrics HTTP/1.0\n\n")).method, "HEAD");
  EXPECT_EQ(as_request(parse_request_head("GET /healthz HTTP/1.1")).path, "/healthz");
  EXPECT_EQ(
      as_request(parse_request_head("GET /p?check=a+b HTTP/1.1\r\n\r\n")).query_value("check"),
      "a+b");
}

struct BadHead {
  const char* head;
  int status;
  const char* why;
};

TEST(HttpRequestHead, RejectsWhatItCannotServeWithTheRightStatus) {
  const BadHead bad[] = {
      {"", 400, "empty"},
      {"GET\r\n\r\n", 400, "no target"},
      {"GET /metrics\r\n\r\n", 400, "no version"},
      {"GET  /metrics HTTP/1.1\r\n\r\n", 400, "double space"},
      {"GET /a b HTTP/1.1\r\n\r\n", 400, "space in target"},
      {"GET /metrics HTTP/2.0\r\n\r\n", 505, "HTTP/2 over plain text"},
      {"GET /metrics SPDY/3\r\n\r\n", 400, "not HTTP"},
      {"POST /metrics HTTP/1.1\r\n\r\n", 405, "POST"},
      {"DELETE / HTTP/1.1\r\n\r\n", 405, "DELETE"},
      {"G(T / HTTP/1.1\r\n\r\n", 400, "bad method token"},
      {"GET http://evil.example/ HTTP/1.1\r\n\r\n", 400, "absolute form (proxy request)"},
      {"GET * HTTP/1.1\r\n\r\n", 400, "asterisk form"},
      {"GET /%zz HTTP/1.1\r\n\r\n", 400, "bad escape in path"},
      {"GET /p?check=%4 HTTP/1.1\r\n\r\n", 400, "truncated escape"},
      {"GET /p?check=a%00b HTTP/1.1\r\n\r\n", 400, "NUL"},
      {"GET /\x7f HTTP/1.1\r\n\r\n", 400, "DEL in target"},
      {"GET / HTTP/1.1\r\nHost x\r\n\r\n", 400, "header without colon"},
      {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, "obs-fold"},
      {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, "space in header name"},
      {"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", 400, "a body"},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "a chunked body"},
  };
  for (const auto& b : bad) {
    const auto parsed = parse_request_head(b.head);
    const auto* error = std::get_if<HttpError>(&parsed);
    ASSERT_NE(error, nullptr) << b.why;
    EXPECT_EQ(error->status, b.status) << b.why;
    EXPECT_FALSE(error->message.empty()) << b.why;
  }
  const auto post = parse_request_head("POST / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(std::get<HttpError>(post).headers.size(), 1u);
  EXPECT_EQ(std::get<HttpError>(post).headers[0].first, "Allow");
}

TEST(HttpResponse, CarriesLengthTypeAndCloseAndLeavesTheBodyOutForHead) {
  HttpResponse r;
  r.status = 404;
  r.body = "nope\n";
  r.headers.emplace_back("Retry-After", "1");
  const auto full = serialize_response(r, false);
  EXPECT_EQ(full.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
  EXPECT_NE(full.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_NE(full.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(full.find("Retry-After: 1\r\n"), std::string::npos);
  EXPECT_EQ(full.substr(full.size() - 9), "\r\n\r\nnope\n");
  const auto head = serialize_response(r, true);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  EXPECT_NE(head.find("Content-Length: 5\r\n"), std::string::npos);
}

TEST(ListenAddress, AcceptsNumericAddressesOnly) {
  EXPECT_EQ(format_address(parse_listen_address("127.0.0.1:9469").value().address),
            "127.0.0.1:9469");
  EXPECT_EQ(format_address(parse_listen_address("[::1]:80").value().address), "[::1]:80");
  EXPECT_EQ(format_address(parse_listen_address("localhost:9469").value().address),
            "127.0.0.1:9469");
  EXPECT_EQ(format_address(parse_listen_address(":9469").value().address), "0.0.0.0:9469");
  for (const char* bad :
       {"", "9469", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:9x",
        "gateway.example:9469", "::1:9469", "[::1:9469", "[127.0.0.1]:9469", "256.1.1.1:80"}) {
    const auto parsed = parse_listen_address(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_NE(parsed.error().message.find("expected IP:PORT"), std::string::npos);
  }
}

/// A live server whose handler echoes the request; `gate` lets a test hold handlers open.
class LiveServer : public ::testing::Test {
 protected:
  void start(HttpServerOptions options) {
    options.listen = "127.0.0.1:0";
    auto server = HttpServer::start(options, [this](const HttpRequest& r) {
      std::unique_lock lock(mutex_);
      ++handled_;
      changed_.notify_all();
      changed_.wait(lock, [this] { return open_; });
      HttpResponse response;
      response.body = r.method + " " + r.path + " check=" + r.query_value("check").value_or("-");
      return response;
    });
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = std::move(*server);
    port_ = testing::split_host_port(server_->address()).second;
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    release();
    if (server_) server_->stop();
  }
  void hold() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  void release() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool wait_handled(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return handled_ >= n; });
  }
  /// A connected client socket that has sent nothing.
  core::UniqueFd idle_client() const {
    core::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  }

  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  int handled_ = 0;
  bool open_ = true;
};

TEST_F(LiveServer, AnswersGetAndHeadAndReportsTheBoundPort) {
  start({});
  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(port_));
  const auto get = testing::http_get("127.0.0.1", port_, "/probe?check=tcp%3Ax%3A1");
  EXPECT_EQ(get.status, 200) << get.error << get.raw;
  EXPECT_EQ(get.body, "GET /probe check=tcp:x:1");
  EXPECT_EQ(get.headers.at("content-length"), std::to_string(get.body.size()));
  const auto head = testing::http_get("127.0.0.1", port_, "/metrics", "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.headers.at("content-length"), "21");  // "HEAD /metrics check=-", not sent
}

TEST_F(LiveServer, TurnsAwayMalformedAndOversizedRequestsWithoutCallingTheHandler) {
  HttpServerOptions options;
  options.max_request_head = 512;
  start(options);
  EXPECT_EQ(testing::http_exchange("127.0.0.1", port_, "BREW /pot HTTP/1.1\r\n\r\n").status, 405);
  EXPECT_EQ(testing::http_exchange("127.0.0.1", port_, "hello\r\n\r\n").status, 400);
  const std::string huge = "GET / HTTP/1.1\r\nX-Filler: " + std::string(4096, 'a') + "\r\n\r\n";
  EXPECT_EQ(testing::http_exchange("127.0.0.1", port_, huge).status, 431);
  std::lock_guard lock(mutex_);
  EXPECT_EQ(handled_, 0);
}

TEST_F(LiveServer, DropsAClientThatNeverFinishesItsRequest) {
  HttpServerOptions options;
  options.io_timeout = 300ms;
  start(options);
  const auto reply =
      testing::http_exchange("127.0.0.1", port_, "GET /metrics HTTP/1.1\r\nHost: x\r\n", 20s);
  EXPECT_EQ(reply.status, 408) << reply.error;
  EXPECT_TRUE(reply.error.empty()) << "the server must close the connection itself";
  // And the worker is free again.
  EXPECT_EQ(testing::http_get("127.0.0.1", port_, "/healthz").status, 200);
}

TEST_F(LiveServer, AnswersBusyWhenEveryWorkerAndQueueSlotIsTaken) {
  HttpServerOptions options;
  options.workers = 1;
  options.queue = 1;
  start(options);
  hold();
  std::thread first([this] { testing::http_get("127.0.0.1", port_, "/one"); });
  ASSERT_TRUE(wait_handled(1));  // the only worker is inside the handler
  EXPECT_EQ(server_->busy_workers(), 1u);
  const auto queued = idle_client();  // takes the one queue slot
  // Wait until the acceptor has queued it, then one more connection is one too many.
  testing::HttpReply busy;
  for (int attempt = 0; attempt < 200 && busy.status != 503; ++attempt) {
    busy = testing::http_get("127.0.0.1", port_, "/three", "GET", 5s);
  }
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.headers["retry-after"], "1");
  EXPECT_GE(server_->rejected_connections(), 1u);
  release();
  first.join();
}

TEST_F(LiveServer, StopWakesWorkersWaitingOnIdleClientsAtOnce) {
  HttpServerOptions options;
  options.io_timeout = std::chrono::hours(1);
  start(options);
  const auto a = idle_client();
  const auto b = idle_client();
  ASSERT_TRUE([&] {
    for (int i = 0; i < 1000 && server_->busy_workers() < 2; ++i) std::this_thread::sleep_for(5ms);
    return server_->busy_workers() == 2;
  }());
  const auto began = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 30s);  // a bound, not a speed target
  EXPECT_EQ(server_->busy_workers(), 0u);
  server_->stop();  // idempotent
}

TEST(HttpServer, ReportsAnAddressInUseAsAnIoErrorNamingIt) {
  auto first =
      HttpServer::start({"127.0.0.1:0"}, [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_TRUE(first.has_value());
  HttpServerOptions again;
  again.listen = (*first)->address();
  auto second = HttpServer::start(again, [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().kind, core::FailureKind::io);
  EXPECT_NE(second.error().message.find(again.listen), std::string::npos);
  EXPECT_NE(second.error().message.find("Address already in use"), std::string::npos);
}

}  // namespace
}  // namespace gwprobe::cli::watch
