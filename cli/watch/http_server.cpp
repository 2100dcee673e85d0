// The HTTP server: strict request parsing, an acceptor thread and a fixed pool of workers, each
// wait bounded by the I/O timeout and woken by stop().
#include "cli/watch/http_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "core/deadline.hpp"

namespace gwprobe::cli::watch {
namespace {

/// How long the acceptor waits before retrying when the process is out of descriptors
/// (EMFILE): the listening socket stays readable, so retrying at once would spin.
constexpr std::chrono::milliseconds kAcceptBackoff{100};
constexpr int kListenBacklog = 64;

bool is_token_char(char c) {
  if (std::isalnum(static_cast<unsigned char>(c)) != 0) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

HttpError bad(std::string message) {
  return HttpError{400, std::move(message), {}};
}

/// Waits for `events` on fd, the stop token or the deadline. False on stop or timeout.
bool wait_for(int fd, short events, const core::Deadline& deadline, const core::CancelToken& stop) {
  for (;;) {
    if (stop.cancelled()) return false;
    const int timeout_ms = deadline.remaining_ms();
    if (timeout_ms == 0) return false;
    pollfd fds[2] = {{fd, events, 0}, {stop.fd(), POLLIN, 0}};
    const int rc = ::poll(fds, 2, timeout_ms);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (fds[1].revents != 0) return false;
    if (fds[0].revents != 0) return true;
  }
}

/// Sends all of `data` within the deadline; false when the peer went away or stalled.
bool send_all(int fd, std::string_view data, const core::Deadline& deadline,
              const core::CancelToken& stop) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_for(fd, POLLOUT, deadline, stop)) return false;
      continue;
    }
    return false;
  }
  return true;
}

HttpResponse error_response(const HttpError& error) {
  HttpResponse r;
  r.status = error.status;
  r.body = error.message + "\n";
  r.headers = error.headers;
  return r;
}

}  // namespace

std::optional<std::string> HttpRequest::query_value(std::string_view key) const {
  for (const auto& [k, v] : query) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;  // truncated escape
    unsigned value = 0;
    const auto* first = text.data() + i + 1;
    const auto [end, ec] = std::from_chars(first, first + 2, value, 16);
    if (ec != std::errc() || end != first + 2) return std::nullopt;
    if (value == 0) return std::nullopt;
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

std::variant<HttpRequest, HttpError> parse_request_head(std::string_view head) {
  // Lines end in CRLF; a bare LF is tolerated (RFC 9112 section 2.2).
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    const auto lf = head.find('\n');
    std::string_view line = head.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // the end of the head
    lines.push_back(line);
    if (lf == std::string_view::npos) break;
    head.remove_prefix(lf + 1);
  }
  if (lines.empty()) return bad("empty request");

  const std::string_view request_line = lines.front();
  const auto sp1 = request_line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || request_line.find(' ', sp2 + 1) != std::string_view::npos) {
    return bad("malformed request line");
  }
  const auto method = request_line.substr(0, sp1);
  const auto target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto version = request_line.substr(sp2 + 1);
  if (!is_token(method)) return bad("malformed method");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    if (version.substr(0, 5) == "HTTP/") return HttpError{505, "only HTTP/1.0 and 1.1", {}};
    return bad("malformed HTTP version");
  }
  if (target.empty() || target.front() != '/') {
    return bad("the request target must be a path starting with '/'");
  }
  for (const char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return bad("the request target has a character that must be percent-encoded");
    }
  }
  if (method != "GET" && method != "HEAD") {
    return HttpError{405, "only GET and HEAD", {{"Allow", "GET, HEAD"}}};
  }

  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto line = lines[i];
    if (line.front() == ' ' || line.front() == '\t') return bad("folded header lines");
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
      return bad("malformed header line");
    }
    const std::string name = lower(line.substr(0, colon));
    const auto value = trim(line.substr(colon + 1));
    if (name == "transfer-encoding" || (name == "content-length" && value != "0")) {
      return bad("request bodies are not accepted");
    }
  }

  HttpRequest request;
  request.method = std::string(method);
  request.target = std::string(target);
  const auto question = target.find('?');
  auto path = percent_decode(target.substr(0, question));
  if (!path) return bad("bad percent-encoding in the path");
  request.path = std::move(*path);
  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    const auto hash = query.find('#');
    if (hash != std::string_view::npos) query = query.substr(0, hash);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const auto pair = query.substr(0, amp);
      if (!pair.empty()) {
        const auto eq = pair.find('=');
        auto key = percent_decode(pair.substr(0, eq));
        auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
        if (!key || !value) return bad("bad percent-encoding in the query");
        request.query.emplace_back(std::move(*key), std::move(*value));
      }
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  return request;
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string serialize_response(const HttpResponse& response, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                    std::string(reason_phrase(response.status)) + "\r\n";
  out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  out += "Connection: close\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  if (!head_only) out += response.body;
  return out;
}

core::Result<ListenAddress> parse_listen_address(std::string_view text) {
  const auto invalid = [&] {
    return core::fail(core::FailureKind::invalid_input,
                      "--listen: bad address '" + std::string(text) +
                          "': expected IP:PORT, e.g. 127.0.0.1:9469, [::1]:9469 or :9469");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return invalid();
  std::string host(text.substr(0, colon));
  const auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return invalid();
  }
  ListenAddress out;
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.address);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6->sin6_addr) != 1) {
      return invalid();
    }
    out.length = sizeof(sockaddr_in6);
    return out;
  }
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.address);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) != 1) return invalid();
  out.length = sizeof(sockaddr_in);
  return out;
}

std::string format_address(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
  }
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
  ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

core::Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpServerOptions& options,
                                                            Handler handler) {
  if (options.workers == 0 || options.io_timeout.count() <= 0 || options.max_request_head == 0) {
    return core::fail(core::FailureKind::invalid_input,
                      "HTTP server: workers, timeout and head limit must be positive");
  }
  auto address = parse_listen_address(options.listen);
  if (!address) return core::fail(address.error());
  std::unique_ptr<HttpServer> server(new HttpServer(options, std::move(handler)));
  server->listener_.reset(
      ::socket(address->address.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!server->listener_) {
    return core::fail(core::FailureKind::io,
                      std::string("cannot create a socket: ") + std::strerror(errno));
  }
  const int one = 1;
  ::setsockopt(server->listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(server->listener_.get(), reinterpret_cast<const sockaddr*>(&address->address),
             address->length) != 0 ||
      ::listen(server->listener_.get(), kListenBacklog) != 0) {
    return core::fail(core::FailureKind::io,
                      "--listen: cannot listen on " + options.listen + ": " + std::strerror(errno));
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(server->listener_.get(), reinterpret_cast<sockaddr*>(&bound), &length);
  server->address_ = format_address(bound);

  server->workers_.reserve(options.workers);
  for (std::size_t i = 0; i < options.workers; ++i) {
    server->workers_.emplace_back([s = server.get()] { s->work_loop(); });
  }
  server->acceptor_ = std::thread([s = server.get()] { s->accept_loop(); });
  return server;
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  stopping_.cancel();
  ready_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  std::lock_guard lock(mutex_);
  waiting_.clear();
}

void HttpServer::accept_loop() {
  static const std::string busy = serialize_response(
      HttpResponse{
          503, "text/plain; charset=utf-8", "busy: too many connections\n", {{"Retry-After", "1"}}},
      false);
  for (;;) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stopping_.fd(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (stopping_.cancelled()) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    for (;;) {
      core::UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
      if (!fd) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          stopping_.wait_for(kAcceptBackoff);
        }
        break;  // EAGAIN (drained) or a connection that died before we took it
      }
      std::unique_lock lock(mutex_);
      if (waiting_.size() >= options_.queue) {
        lock.unlock();
        rejected_.fetch_add(1);
        // Best effort on a fresh socket: the small reply fits the send buffer.
        [[maybe_unused]] const auto sent =
            ::send(fd.get(), busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        continue;
      }
      waiting_.push_back(std::move(fd));
      lock.unlock();
      ready_.notify_one();
    }
  }
}

void HttpServer::work_loop() {
  for (;;) {
    core::UniqueFd fd;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopped_ || !waiting_.empty(); });
      if (stopped_) return;
      fd = std::move(waiting_.front());
      waiting_.pop_front();
      busy_.fetch_add(1);
    }
    serve(fd.get());
    busy_.fetch_sub(1);
  }
}

void HttpServer::serve(int fd) {
  const auto deadline = core::Deadline::after(options_.io_timeout);
  std::string head;
  char buffer[2048];
  std::size_t end = std::string::npos;
  while (end == std::string::npos) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      // The blank line may straddle two reads: look back three bytes.
      const std::size_t scan_from = head.size() < 3 ? 0 : head.size() - 3;
      head.append(buffer, static_cast<std::size_t>(n));
      end = std::min(head.find("\r\n\r\n", scan_from), head.find("\n\n", scan_from));
      if (end == std::string::npos && head.size() > options_.max_request_head) {
        const auto reply = serialize_response(
            error_response({431,
                            "the request head is larger than " +
                                std::to_string(options_.max_request_head) + " bytes",
                            {}}),
            false);
        send_all(fd, reply, deadline, stopping_);
        return;
      }
      continue;
    }
    if (n == 0) return;  // the client gave up
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return;
    if (!wait_for(fd, POLLIN, deadline, stopping_)) {
      if (!head.empty() && !stopping_.cancelled()) {
        send_all(
            fd,
            serialize_response(error_response({408, "request not completed in time", {}}), false),
            core::Deadline::after(options_.io_timeout), stopping_);
      }
      return;
    }
  }
  if (end > options_.max_request_head) {
    send_all(fd,
             serialize_response(error_response({431, "the request head is too large", {}}), false),
             deadline, stopping_);
    return;
  }
  auto parsed = parse_request_head(std::string_view(head).substr(0, end));
  HttpResponse response;
  bool head_only = false;
  if (const auto* error = std::get_if<HttpError>(&parsed)) {
    response = error_response(*error);
  } else {
    const auto& request = std::get<HttpRequest>(parsed);
    head_only = request.method == "HEAD";
    try {
      response = handler_(request);
    } catch (const std::exception& e) {
      response = error_response({500, std::string("internal error: ") + e.what(), {}});
    } catch (...) {
      response = error_response({500, "internal error", {}});
    }
  }
  send_all(fd, serialize_response(response, head_only), core::Deadline::after(options_.io_timeout),
           stopping_);
}

}  // namespace gwprobe::cli::watch
