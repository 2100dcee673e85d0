// URL parsing for proxy and relay URLs.
#include "core/url.hpp"

#include <algorithm>
#include <cctype>

#include "core/target.hpp"

namespace gwprobe::core {

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::uint16_t default_port_for(std::string_view scheme) {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  if (scheme.substr(0, 5) == "socks") return 1080;
  return 0;
}

Result<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) return fail(FailureKind::invalid_input, "malformed percent-escape");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string percent_encode(std::string_view text, bool upper) {
  static constexpr char kUpper[] = "0123456789ABCDEF";
  static constexpr char kLower[] = "0123456789abcdef";
  const char* digits = upper ? kUpper : kLower;
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

Result<Url> parse_url(std::string_view text, std::string_view default_scheme) {
  // Never echo the input: it may hold a password. Say which part is wrong instead.
  auto bad = [](const std::string& why) {
    return fail(FailureKind::invalid_input, "bad URL: " + why);
  };
  Url url;
  std::string_view rest = text;
  const auto scheme_end = rest.find("://");
  if (scheme_end == std::string_view::npos) {
    if (default_scheme.empty()) return bad("expected SCHEME://HOST[:PORT][/PATH]");
    url.scheme = std::string(default_scheme);
  } else {
    url.scheme = lower(rest.substr(0, scheme_end));
    if (url.scheme.empty() ||
        !std::all_of(url.scheme.begin(), url.scheme.end(), [](unsigned char c) {
          return std::isalnum(c) || c == '+' || c == '-' || c == '.';
        })) {
      return bad("malformed scheme");
    }
    rest.remove_prefix(scheme_end + 3);
  }
  const auto path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  if (path_start != std::string_view::npos) {
    std::string_view path = rest.substr(path_start);
    if (const auto hash = path.find('#'); hash != std::string_view::npos)
      path = path.substr(0, hash);
    url.path = path.front() == '/' ? std::string(path) : "/" + std::string(path);
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    if (!user) return bad("malformed user name escape");
    url.user = *user;
    if (colon != std::string_view::npos) {
      auto password = percent_decode(userinfo.substr(colon + 1));
      if (!password) return bad("malformed password escape");
      url.password = Secret(std::move(*password));
    }
  }
  if (authority.empty()) return bad("missing host");
  auto target = parse_target(authority, default_port_for(url.scheme), false);
  if (!target) {
    // parse_target says "bad target 'AUTHORITY': WHY"; keep WHY (the authority has no userinfo).
    const std::string& message = target.error().message;
    const auto why = message.find("': ");
    return bad(why == std::string::npos ? message : message.substr(why + 3));
  }
  url.host = target->host;
  url.port = target->port;
  url.explicit_port = authority.find(':') != std::string_view::npos &&
                      (authority.front() != '[' || authority.find("]:") != std::string_view::npos);
  if (url.port == 0)
    return bad("no port given and no default port for scheme '" + url.scheme + "'");
  return url;
}

std::string Url::origin() const {
  Target t{host, port};
  return scheme + "://" + t.to_string();
}

std::string Url::redacted() const {
  std::string out = scheme + "://";
  if (has_credentials()) {
    out += percent_encode(user);
    if (!password.empty()) out += ":***";
    out += "@";
  }
  out += Target{host, port}.to_string();
  if (path != "/") out += path;
  return out;
}

}  // namespace gwprobe::core
