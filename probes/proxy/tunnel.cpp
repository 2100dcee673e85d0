// open_tunnel: libcurl's multi interface drives the CONNECT (auth rounds included) while poll()
// also watches the cancel token; the finished tunnel becomes a ByteStream.
#include "probes/proxy/tunnel.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "core/version.hpp"
#include "probes/proxy/curl_errors.hpp"
#include "probes/proxy/curl_handles.hpp"
#include "probes/resolve.hpp"

namespace gwprobe::probes::proxy {

namespace {

using core::Diagnosis;
using core::Status;

/// The longest single curl_multi_wait when the deadline is "never": the loop re-checks the
/// deadline and the cancel token (which also wakes the wait) after each.
constexpr int kMaxWaitMs = 1000;

/// One HTTP response the proxy sent on the way (auth rounds make several).
struct ProxyResponse {
  std::string status_line;
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased

  std::string header(std::string_view name) const {
    std::string joined;
    for (const auto& [k, v] : headers) {
      if (k != name) continue;
      if (!joined.empty()) joined += ", ";
      joined += v;
    }
    return joined;
  }
};

/// Collects what curl passes to the header callback: the proxy's answers to CONNECT.
struct HeaderLog {
  std::vector<ProxyResponse> responses;
};

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

extern "C" std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  const std::size_t n = size * count;
  // No exception may cross back into libcurl.
  try {
    auto* log = static_cast<HeaderLog*>(user);
    const std::string line = trim(std::string_view(data, n));
    if (line.rfind("HTTP/", 0) == 0) {
      ProxyResponse r;
      r.status_line = line;
      const auto space = line.find(' ');
      if (space != std::string::npos) r.status = std::strtol(line.c_str() + space + 1, nullptr, 10);
      log->responses.push_back(std::move(r));
    } else if (const auto colon = line.find(':');
               colon != std::string::npos && !log->responses.empty()) {
      log->responses.back().headers.emplace_back(lower(line.substr(0, colon)),
                                                 trim(std::string_view(line).substr(colon + 1)));
    }
  } catch (...) {
    return 0;  // makes curl fail the transfer (CURLE_WRITE_ERROR) rather than lose headers
  }
  return n;
}

long curl_auth_bits(ProxyAuth auth) {
  switch (auth) {
    case ProxyAuth::basic:
      return static_cast<long>(CURLAUTH_BASIC);
    case ProxyAuth::ntlm:
      return static_cast<long>(CURLAUTH_NTLM);
    case ProxyAuth::negotiate:
      return static_cast<long>(CURLAUTH_NEGOTIATE);
    case ProxyAuth::any:
      break;
  }
  return static_cast<long>(CURLAUTH_ANY);
}

/// Schemes named in Proxy-Authenticate headers, in the order offered: "Negotiate, NTLM, Basic".
std::string offered_schemes(const HeaderLog& log) {
  std::vector<std::string> schemes;
  for (const auto& r : log.responses) {
    for (const auto& [name, value] : r.headers) {
      if (name != "proxy-authenticate") continue;
      const std::string scheme = value.substr(0, value.find(' '));
      if (!scheme.empty() && std::find(schemes.begin(), schemes.end(), scheme) == schemes.end()) {
        schemes.push_back(scheme);
      }
    }
  }
  std::string out;
  for (const auto& s : schemes) out += (out.empty() ? "" : ", ") + s;
  return out;
}

/// The scheme libcurl used: its preference order over what was offered and allowed (curl
/// offers no getter for it in 7.88).
std::string scheme_used(long offered_bits, long allowed_bits, bool had_credentials,
                        bool challenged) {
  if (!had_credentials) return "none";
  if (!challenged) return (allowed_bits & CURLAUTH_BASIC) != 0 ? "Basic" : "none";
  const long usable = offered_bits & allowed_bits;
  if ((usable & CURLAUTH_NEGOTIATE) != 0) return "Negotiate";
  if ((usable & CURLAUTH_DIGEST) != 0) return "Digest";
  if ((usable & CURLAUTH_NTLM) != 0) return "NTLM";
  if ((usable & CURLAUTH_BASIC) != 0) return "Basic";
  return "none";
}

/// "host:port:addr1,addr2" for CURLOPT_RESOLVE (IPv6 addresses in brackets).
std::string resolve_entry(const std::string& host, std::uint16_t port,
                          const std::vector<IpAddress>& addresses) {
  std::string entry = host + ":" + std::to_string(port) + ":";
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    if (i > 0) entry += ",";
    entry += addresses[i].is_v6() ? "[" + addresses[i].to_string() + "]" : addresses[i].to_string();
  }
  return entry;
}

Resolution resolve(const std::string& host, const ProbeContext& context) {
  return context.addresses != nullptr
             ? context.addresses->resolve(host, context.deadline, context.cancel)
             : resolve_host(host, ResolverConfig{}, context.deadline, context.cancel);
}

void fail_into(core::ProbeResult& into, Diagnosis diagnosis, std::string message) {
  into.diagnosis = diagnosis;
  into.status = diagnosis == Diagnosis::probe_cancelled || diagnosis == Diagnosis::probe_error
                    ? Status::error
                    : Status::fail;
  into.message = std::move(message);
}

/// A tunnel through an https:// proxy: libcurl owns the TLS session to the proxy, so the bytes
/// of the tunnel go through curl_easy_send/recv. The transfer stays attached to its multi handle
/// (the connection lives in that handle's cache).
class CurlTunnelStream final : public tls::ByteStream {
 public:
  CurlTunnelStream(CurlTransfer transfer, int fd) noexcept
      : transfer_(std::move(transfer)), fd_(fd) {}

  tls::IoResult read_some(std::span<std::byte> into) noexcept override {
    std::size_t n = 0;
    const CURLcode rc = libcurl().easy_recv(transfer_.easy(), into.data(), into.size(), &n);
    if (rc == CURLE_OK) {
      return n > 0 ? tls::IoResult{tls::IoStatus::ok, n, 0} : tls::IoResult{tls::IoStatus::closed};
    }
    if (rc == CURLE_AGAIN) return tls::IoResult{tls::IoStatus::would_block};
    return tls::IoResult{tls::IoStatus::error, 0, os_errno_or(ECONNRESET)};
  }

  tls::IoResult write_some(std::span<const std::byte> from) noexcept override {
    std::size_t n = 0;
    const CURLcode rc = libcurl().easy_send(transfer_.easy(), from.data(), from.size(), &n);
    if (rc == CURLE_OK) return tls::IoResult{tls::IoStatus::ok, n, 0};
    if (rc == CURLE_AGAIN) return tls::IoResult{tls::IoStatus::would_block};
    return tls::IoResult{tls::IoStatus::error, 0, os_errno_or(EPIPE)};
  }

  int poll_fd() const noexcept override { return fd_; }

 private:
  int os_errno_or(int fallback) const noexcept {
    long e = 0;
    libcurl().easy_getinfo(transfer_.easy(), CURLINFO_OS_ERRNO, &e);
    return e != 0 ? static_cast<int>(e) : fallback;
  }

  CurlTransfer transfer_;
  int fd_;
};

/// Runs the transfer until curl is done, the deadline passes or the token is cancelled.
void drive(CURLM* multi, const ProbeContext& context, CurlOutcome& outcome) {
  for (;;) {
    int running = 0;
    if (libcurl().multi_perform(multi, &running) != CURLM_OK) break;
    if (running == 0) break;
    if (context.cancel.cancelled()) {
      outcome.cancelled = true;
      break;
    }
    if (context.deadline.expired()) {
      outcome.timed_out = true;
      break;
    }
    curl_waitfd cancel_fd{context.cancel.fd(), CURL_WAIT_POLLIN, 0};
    int ready = 0;
    // curl_multi_wait also returns when curl's own timers need attention.
    if (libcurl().multi_wait(multi, &cancel_fd, 1, context.deadline.remaining_ms(kMaxWaitMs),
                             &ready) != CURLM_OK) {
      break;
    }
  }
  int queued = 0;
  while (CURLMsg* msg = libcurl().multi_info_read(multi, &queued)) {
    if (msg->msg == CURLMSG_DONE) outcome.code = msg->data.result;
  }
  if (outcome.timed_out && outcome.code == CURLE_OK) outcome.code = CURLE_OPERATION_TIMEDOUT;
}

std::unique_ptr<tls::ByteStream> tunnel(const core::Target& target, const ProxyEndpoint& proxy,
                                        const ProbeContext& context, core::ProbeResult& into) {
  const std::string proxy_label = proxy.url.redacted();
  into.set_fact(fact::proxy, proxy_label);
  if (!proxy.source.empty()) into.set_fact(fact::proxy_source, proxy.source);
  const std::string where = " (proxy " + proxy_label + ", tunnel to " + target.to_string() + ")";

  // The proxy's name goes through gwprobe's resolver (and its cache), never curl's.
  std::vector<std::string> pinned;
  const auto resolve_started = core::SteadyClock::now();
  if (!core::is_ip_literal(proxy.url.host)) {
    const auto resolution = resolve(proxy.url.host, context);
    into.set_phase(core::phase::resolve, core::SteadyClock::now() - resolve_started);
    if (!resolution.ok()) {
      const bool cancelled = resolution.diagnosis == Diagnosis::probe_cancelled;
      fail_into(
          into, cancelled ? Diagnosis::probe_cancelled : Diagnosis::proxy_unreachable,
          "cannot resolve the proxy's host " + proxy.url.host + ": " + resolution.error + where);
      return nullptr;
    }
    std::vector<std::string> shown;
    for (const auto& a : resolution.addresses) shown.push_back(a.to_string());
    into.set_fact(fact::proxy_addresses, shown);
    pinned.push_back(resolve_entry(proxy.url.host, proxy.url.port, resolution.addresses));
  }
  // SOCKS4 and SOCKS5 (without 'h'/'a') send an address, so the client resolves the target.
  if ((proxy.url.scheme == "socks4" || proxy.url.scheme == "socks5") &&
      !core::is_ip_literal(target.host)) {
    const auto resolution = resolve(target.host, context);
    if (!resolution.ok()) {
      fail_into(into, resolution.diagnosis,
                "cannot resolve " + target.host + " (a " + proxy.url.scheme +
                    " proxy needs the address): " + resolution.error);
      return nullptr;
    }
    pinned.push_back(resolve_entry(target.host, target.port, resolution.addresses));
  }

  if (const auto& loaded = load_libcurl(); !loaded) {
    fail_into(into, Diagnosis::probe_error, loaded.error().describe() + where);
    return nullptr;
  }
  CurlTransfer transfer;
  if (!transfer.create()) {
    fail_into(into, Diagnosis::probe_error, "cannot initialise libcurl" + where);
    return nullptr;
  }
  CURL* easy = transfer.easy();
  CurlSlist resolve_list;
  for (const auto& entry : pinned) {
    curl_slist* appended = libcurl().slist_append(resolve_list.get(), entry.c_str());
    if (appended == nullptr) {
      fail_into(into, Diagnosis::probe_error, "out of memory" + where);
      return nullptr;
    }
    [[maybe_unused]] auto* previous = resolve_list.release();  // the list is now `appended`
    resolve_list.reset(appended);
  }

  HeaderLog headers;
  char error_buffer[CURL_ERROR_SIZE] = {};
  const std::string url = "http://" + target.to_string() + "/";
  const std::string proxy_origin = proxy.url.origin();
  const std::string user_agent = std::string("gwprobe/") + core::kVersion;
  const long timeout_ms = std::max(1, context.deadline.remaining_ms(INT_MAX));
  libcurl().easy_setopt(easy, CURLOPT_URL, url.c_str());
  libcurl().easy_setopt(easy, CURLOPT_PROXY, proxy_origin.c_str());
  libcurl().easy_setopt(easy, CURLOPT_HTTPPROXYTUNNEL, 1L);
  libcurl().easy_setopt(easy, CURLOPT_CONNECT_ONLY, 1L);
  libcurl().easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  libcurl().easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http");
  libcurl().easy_setopt(easy, CURLOPT_USERAGENT, user_agent.c_str());
  libcurl().easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  libcurl().easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
  libcurl().easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  libcurl().easy_setopt(easy, CURLOPT_HEADERDATA, &headers);
  libcurl().easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
  if (resolve_list) libcurl().easy_setopt(easy, CURLOPT_RESOLVE, resolve_list.get());
  if (!proxy.ca_file.empty())
    libcurl().easy_setopt(easy, CURLOPT_PROXY_CAINFO, proxy.ca_file.c_str());
  const long allowed = curl_auth_bits(proxy.auth);
  libcurl().easy_setopt(easy, CURLOPT_PROXYAUTH, allowed);
  if (proxy.has_credentials()) {
    // The one place the password leaves its Secret: straight into libcurl (verbose and debug
    // output stay off, so curl never prints it either).
    libcurl().easy_setopt(easy, CURLOPT_PROXYUSERNAME, proxy.url.user.c_str());
    libcurl().easy_setopt(easy, CURLOPT_PROXYPASSWORD, proxy.url.password.reveal().c_str());
  } else if (proxy.auth == ProxyAuth::negotiate) {
    // Negotiate without a user name means the current Kerberos ticket (curl's ":" convention).
    libcurl().easy_setopt(easy, CURLOPT_PROXYUSERPWD, ":");
  }
  if (!transfer.attach()) {
    fail_into(into, Diagnosis::probe_error, "cannot start the libcurl transfer" + where);
    return nullptr;
  }

  CurlOutcome outcome;
  outcome.had_credentials = proxy.has_credentials();
  outcome.https_proxy = proxy.is_https();
  drive(transfer.multi(), context, outcome);
  error_buffer[CURL_ERROR_SIZE - 1] = '\0';
  outcome.error_text = error_buffer;
  long request_size = 0;
  long offered = 0;
  curl_off_t connect_us = 0;
  curl_off_t total_us = 0;
  libcurl().easy_getinfo(easy, CURLINFO_HTTP_CONNECTCODE, &outcome.connect_code);
  libcurl().easy_getinfo(easy, CURLINFO_PROXY_ERROR, &outcome.proxy_error);
  long os_errno = 0;
  libcurl().easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
  outcome.os_errno = static_cast<int>(os_errno);
  // A CONNECT request went out only once TCP (and TLS, for https://) to the proxy was up.
  libcurl().easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_size);
  outcome.connected_to_proxy = request_size > 0 || !headers.responses.empty();
  libcurl().easy_getinfo(easy, CURLINFO_PROXYAUTH_AVAIL, &offered);
  libcurl().easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connect_us);
  libcurl().easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
  if (connect_us > 0) into.set_phase(core::phase::connect, std::chrono::microseconds(connect_us));
  into.set_phase(core::phase::proxy, std::chrono::microseconds(std::max<curl_off_t>(
                                         0, total_us - std::max<curl_off_t>(connect_us, 0))));

  if (!headers.responses.empty()) {
    const auto& last = headers.responses.back();
    into.set_fact(fact::proxy_status, last.status_line);
    into.set_fact(fact::http_status, static_cast<std::int64_t>(last.status));
    for (const auto& [key, header] :
         {std::pair{fact::proxy_server, "server"}, std::pair{fact::proxy_via, "via"},
          std::pair{fact::proxy_error, "x-squid-error"}}) {
      if (const auto value = last.header(header); !value.empty()) into.set_fact(key, value);
    }
  }
  const std::string schemes = offered_schemes(headers);
  if (!schemes.empty()) into.set_fact(fact::proxy_auth, schemes);

  const CurlFailure mapped = from_curl(outcome);
  if (mapped.diagnosis != Diagnosis::ok) {
    fail_into(into, mapped.diagnosis, mapped.reason + where);
    return nullptr;
  }
  bool challenged = false;
  for (const auto& r : headers.responses) challenged = challenged || r.status == 407;
  into.set_fact(fact::proxy_auth_used,
                scheme_used(offered, allowed, outcome.had_credentials, challenged));

  curl_socket_t socket = CURL_SOCKET_BAD;
  if (libcurl().easy_getinfo(easy, CURLINFO_ACTIVESOCKET, &socket) != CURLE_OK ||
      socket == CURL_SOCKET_BAD) {
    fail_into(into, Diagnosis::probe_error, "libcurl reported no tunnel socket" + where);
    return nullptr;
  }
  if (proxy.is_https()) {
    return std::make_unique<CurlTunnelStream>(std::move(transfer), socket);
  }
  // Plain (http://, SOCKS) tunnels: a socket of our own. curl closes its descriptor with the
  // transfer; the duplicate keeps the connection (close() of one of two sends no FIN).
  core::UniqueFd own(::fcntl(socket, F_DUPFD_CLOEXEC, 0));
  if (!own) {
    fail_into(into, Diagnosis::probe_error,
              "cannot take over the tunnel socket: " + std::string(std::strerror(errno)) + where);
    return nullptr;
  }
  return std::make_unique<tls::SocketStream>(std::move(own));
}

}  // namespace

std::unique_ptr<tls::ByteStream> open_tunnel(const core::Target& target, const ProxyEndpoint& proxy,
                                             const ProbeContext& context,
                                             core::ProbeResult& into) noexcept {
  try {
    return tunnel(target, proxy, context, into);
  } catch (...) {
    try {
      fail_into(into, Diagnosis::probe_error, "internal error while opening the proxy tunnel");
    } catch (...) {
      into.status = Status::error;
      into.diagnosis = Diagnosis::probe_error;
    }
    return nullptr;
  }
}

}  // namespace gwprobe::probes::proxy
