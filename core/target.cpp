// Target parsing: strict, so that a typo is an error at the command line, not a DNS failure later.
#include "core/target.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace gwprobe::core {

bool is_ip_literal(std::string_view host) {
  if (host.empty() || host.size() > 64) return false;
  std::string s(host);
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool is_valid_hostname(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);  // absolute form
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  char prev = '.';
  for (char c : host) {
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
      // '_' is not RFC 1123 but appears in real records (SRV-like names); accept it.
      if (label == 0 && c == '-') return false;
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  return label > 0 && prev != '-';
}

Result<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value == 0 || value > 65535) {
    return fail(FailureKind::invalid_input,
                "bad port '" + std::string(text) + "': expected a number from 1 to 65535");
  }
  return static_cast<std::uint16_t>(value);
}

std::string Target::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  if (port == 0) return host;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Target> parse_target(std::string_view text, std::optional<std::uint16_t> default_port,
                            bool port_required) {
  const std::string shown(text);
  if (text.empty()) return fail(FailureKind::invalid_input, "empty target: expected HOST[:PORT]");
  std::string_view host = text;
  std::optional<std::string_view> port_text;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      return fail(FailureKind::invalid_input, "bad target '" + shown + "': missing ']'");
    }
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return fail(FailureKind::invalid_input,
                    "bad target '" + shown + "': expected ':PORT' after ']'");
      }
      port_text = rest.substr(1);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  // More than one ':' without brackets: a bare IPv6 literal.

  Target target;
  target.host = std::string(host);
  std::transform(target.host.begin(), target.host.end(), target.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!is_ip_literal(target.host) && !is_valid_hostname(target.host)) {
    return fail(FailureKind::invalid_input, "bad target '" + shown + "': '" + std::string(host) +
                                                "' is neither a host name nor an IP address");
  }
  if (text.front() == '[' && target.host.find(':') == std::string::npos) {
    return fail(FailureKind::invalid_input,
                "bad target '" + shown + "': brackets are only for IPv6 addresses");
  }
  if (port_text) {
    auto port = parse_port(*port_text);
    if (!port)
      return fail(FailureKind::invalid_input,
                  "bad target '" + shown + "': " + port.error().message);
    target.port = *port;
  } else if (default_port) {
    target.port = *default_port;
  } else if (port_required) {
    return fail(FailureKind::invalid_input, "bad target '" + shown + "': expected HOST:PORT");
  }
  return target;
}

}  // namespace gwprobe::core
