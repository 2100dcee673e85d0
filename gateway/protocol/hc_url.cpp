// Request-target parsing and header filtering for the relay.
#include "gateway/protocol/hc_url.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/url.hpp"

namespace gwprobe::gateway::protocol {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

core::Unexpected bad(const std::string& what) {
  return core::fail(core::FailureKind::invalid_input, what);
}

bool is_relay_auth(std::string_view name, bool authorization_was_token) {
  return iequals(name, "ServiceBusAuthorization") ||
         (authorization_was_token && iequals(name, "Authorization"));
}

}  // namespace

std::string_view to_string(HcAction action) {
  switch (action) {
    case HcAction::none:
      return "none";
    case HcAction::listen:
      return "listen";
    case HcAction::connect:
      return "connect";
    case HcAction::accept:
      return "accept";
    case HcAction::request:
      return "request";
  }
  return "none";
}

std::string strip_hc_parameters(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, q));
  std::string_view rest = target.substr(q + 1);
  char sep = '?';
  while (true) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (!pair.empty() && !istarts_with(pair, "sb-hc-")) {
      out += sep;
      out += pair;
      sep = '&';
    }
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return out;
}

core::Result<HcTarget> parse_hc_target(std::string_view target) {
  if (target.empty() || target.front() != '/') return bad("request target must start with '/'");
  HcTarget out;
  const auto q = target.find('?');
  auto path = core::percent_decode(target.substr(0, q));
  if (!path) return bad("malformed percent-escape in the path");
  std::string_view p = *path;
  if (istarts_with(p, "/$hc/") || iequals(p, "/$hc")) {
    out.hc = true;
    p.remove_prefix(std::min<std::size_t>(p.size(), 5));
  }
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  out.path = std::string(p);
  if (out.hc && out.path.empty()) return bad("no Hybrid Connection path after /$hc/");

  std::string action;
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
      const auto eq = pair.find('=');
      const std::string_view name = pair.substr(0, eq);
      const std::string_view raw =
          eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      std::optional<std::string>* slot = nullptr;
      std::string* plain = nullptr;
      if (iequals(name, "sb-hc-action")) {
        plain = &action;
      } else if (iequals(name, "sb-hc-id")) {
        slot = &out.id;
      } else if (iequals(name, "sb-hc-token")) {
        slot = &out.token;
      } else if (iequals(name, "sb-hc-statusCode")) {
        slot = &out.status_code;
      } else if (iequals(name, "sb-hc-statusDescription")) {
        slot = &out.status_description;
      } else if (iequals(name, "gwprobe-priority")) {
        slot = &out.priority;
      } else {
        continue;  // application arguments pass through untouched
      }
      auto value = core::percent_decode(raw);
      if (!value)
        return bad("malformed percent-escape in query parameter '" + std::string(name) + "'");
      if (plain != nullptr) {
        *plain = std::move(*value);
      } else {
        *slot = std::move(*value);
      }
    }
  }
  if (out.hc) {
    if (action.empty()) return bad("missing sb-hc-action");
    if (iequals(action, "listen")) {
      out.action = HcAction::listen;
    } else if (iequals(action, "connect")) {
      out.action = HcAction::connect;
    } else if (iequals(action, "accept")) {
      out.action = HcAction::accept;
    } else if (iequals(action, "request")) {
      out.action = HcAction::request;
    } else {
      return bad("unknown sb-hc-action (expected listen, connect, accept or request)");
    }
  }
  out.request_target = strip_hc_parameters(target);
  return out;
}

bool is_hop_by_hop_header(std::string_view name) {
  static constexpr std::array<std::string_view, 10> kHopByHop = {
      "Connection",        "Content-Length", "Host",  "TE",         "Trailer",
      "Transfer-Encoding", "Upgrade",        "Close", "Keep-Alive", "Proxy-Connection"};
  return std::any_of(kHopByHop.begin(), kHopByHop.end(),
                     [&](std::string_view h) { return iequals(h, name); });
}

Headers filter_request_headers(const Headers& headers, bool authorization_was_token) {
  Headers out;
  for (const auto& [k, v] : headers) {
    if (is_hop_by_hop_header(k) || is_relay_auth(k, authorization_was_token)) continue;
    out.emplace_back(k, v);
  }
  return out;
}

Headers filter_connect_headers(const Headers& headers, bool authorization_was_token) {
  Headers out;
  for (const auto& [k, v] : headers) {
    if (is_relay_auth(k, authorization_was_token)) continue;
    out.emplace_back(k, v);
  }
  return out;
}

Headers filter_response_headers(const Headers& headers) {
  Headers out;
  for (const auto& [k, v] : headers) {
    if (is_hop_by_hop_header(k)) continue;
    out.emplace_back(k, v);
  }
  return out;
}

std::string hc_url(std::string_view origin, std::string_view path, HcAction action,
                   std::string_view id) {
  std::string url(origin);
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/$hc";
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty()) {
    const auto slash = path.find('/');
    url += "/" + core::percent_encode(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  }
  url += "?sb-hc-action=";
  url += to_string(action);
  if (!id.empty()) url = append_query(std::move(url), "sb-hc-id", id);
  return url;
}

std::string append_query(std::string url, std::string_view name, std::string_view value) {
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += name;
  url += '=';
  url += core::percent_encode(value);
  return url;
}

}  // namespace gwprobe::gateway::protocol
