// A small HTTP/1.1 server for watch's endpoints (GET and HEAD only, one request per connection,
// bounded everywhere): poll() on plain sockets instead of Boost.Beast. The endpoints answer a
// scrape every few seconds, so a fixed pool of blocking workers is plenty; it keeps the daemon's
// footprint small (the benchmark's RSS goal is 20 MB), its shutdown a single CancelToken, and
// spares the build another 30 s / 600 MB Beast translation unit. Requests are parsed strictly
// by the pure functions below, which the tests drive directly.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "core/cancel.hpp"
#include "core/result.hpp"
#include "core/unique_fd.hpp"

namespace gwprobe::cli::watch {

struct HttpRequest {
  std::string method;  ///< "GET" or "HEAD"
  std::string target;  ///< as sent: "/probe?check=tcp%3Ahost%3A443"
  std::string path;    ///< percent-decoded path: "/probe"
  std::vector<std::pair<std::string, std::string>> query;  ///< percent-decoded, in order

  /// The first value of a query parameter, or nullopt.
  std::optional<std::string> query_value(std::string_view key) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
};

/// A request the server answers with an error status instead of calling the handler.
struct HttpError {
  int status = 400;
  std::string message;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Parses a request head (request line and header lines, up to the empty line, which may be
/// missing). Only GET and HEAD in origin form over HTTP/1.0 or 1.1, without a body:
/// 400 malformed, 405 another method (with Allow), 505 another version.
std::variant<HttpRequest, HttpError> parse_request_head(std::string_view head);

/// Decodes %XX escapes ('+' stays '+': check ids never contain spaces). nullopt for a bad or
/// truncated escape or a decoded NUL.
std::optional<std::string> percent_decode(std::string_view text);

/// "OK", "Not Found", ... for the statuses the server uses.
std::string_view reason_phrase(int status) noexcept;

/// The bytes of a response: status line, Content-Type, Content-Length, Connection: close,
/// Cache-Control: no-store, extra headers, then the body unless `head_only`.
std::string serialize_response(const HttpResponse& response, bool head_only);

/// A numeric listen address. Accepted: "127.0.0.1:9469", "[::1]:9469", "localhost:9469" (=
/// 127.0.0.1; no name is ever looked up), ":9469" (every IPv4 interface).
struct ListenAddress {
  sockaddr_storage address{};
  socklen_t length = 0;
};
core::Result<ListenAddress> parse_listen_address(std::string_view text);

/// "127.0.0.1:9469" or "[::1]:9469" for a bound socket address.
std::string format_address(const sockaddr_storage& address);

struct HttpServerOptions {
  std::string listen = "127.0.0.1:9469";
  std::size_t workers = 8;  ///< connections served at once
  std::size_t queue = 64;   ///< accepted connections waiting for a worker; beyond: 503
  /// Limit for reading a request and for writing its response (a stalled client is dropped).
  std::chrono::milliseconds io_timeout{10'000};
  std::size_t max_request_head = 8192;  ///< beyond: 431
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  /// Binds, listens and starts the acceptor and the workers. invalid_input for a bad address
  /// or options, io when the address cannot be bound (in use, not local, no permission).
  static core::Result<std::unique_ptr<HttpServer>> start(const HttpServerOptions& options,
                                                         Handler handler);

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  /// Stops accepting, abandons connections waiting or in progress (their I/O wakes at once;
  /// a handler already running finishes first) and joins every thread. Idempotent.
  void stop();

  /// The bound address, with the real port when 0 was asked for.
  const std::string& address() const { return address_; }
  /// Connections a worker is serving right now (for tests and metrics).
  std::size_t busy_workers() const { return busy_.load(); }
  /// Connections turned away with 503 because every worker and queue slot was taken.
  std::uint64_t rejected_connections() const { return rejected_.load(); }

 private:
  HttpServer(HttpServerOptions options, Handler handler);
  void accept_loop();
  void work_loop();
  void serve(int fd);

  HttpServerOptions options_;
  Handler handler_;
  core::UniqueFd listener_;
  std::string address_;
  core::CancelToken stopping_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<core::UniqueFd> waiting_;
  bool stopped_ = false;
  std::atomic<std::size_t> busy_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

}  // namespace gwprobe::cli::watch
