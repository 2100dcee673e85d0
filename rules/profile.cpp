// Profile helpers that need no TOML: embedded lookup, file loading, --probe-host, ${VAR}.
// (The TOML parser itself lives in profile_toml.cpp, the one file that includes toml++.)
#include "rules/profile.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

#include "core/target.hpp"
#include "rules/embedded_profiles.hpp"

namespace gwprobe::rules {

namespace {

/// Profiles are hand-written text of a few kB; anything this large is the wrong file.
constexpr std::size_t kMaxProfileBytes = 1024 * 1024;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && lower(a) == lower(b);
}

bool looks_like_path(std::string_view name_or_path) {
  return name_or_path.find('/') != std::string_view::npos ||
         (name_or_path.size() >= 5 && name_or_path.substr(name_or_path.size() - 5) == ".toml");
}

std::string embedded_list() {
  std::string out;
  for (const auto& name : embedded_profile_names()) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

core::Result<std::string> read_profile_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const auto kind = err == ENOENT ? core::FailureKind::not_found : core::FailureKind::io;
    return core::fail(kind, "cannot read profile '" + path + "': " + std::strerror(err));
  }
  std::string text;
  char buffer[8192];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxProfileBytes) {
      return core::fail(core::FailureKind::invalid_input,
                        "profile '" + path + "' is larger than 1 MiB: expected a TOML profile");
    }
  }
  if (in.bad()) {
    return core::fail(core::FailureKind::io, "cannot read profile '" + path + "': read error");
  }
  return text;
}

bool is_variable_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

}  // namespace

std::string SourcePosition::to_string() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string_view to_string(Requirement requirement) noexcept {
  switch (requirement) {
    case Requirement::required:
      return "required";
    case Requirement::optional:
      return "optional";
    case Requirement::tcp_mode:
      return "tcp-mode";
  }
  return "required";
}

bool Endpoint::is_required(bool https_mode) const {
  switch (requirement) {
    case Requirement::required:
      return true;
    case Requirement::optional:
      return false;
    case Requirement::tcp_mode:
      return !https_mode;
  }
  return true;
}

std::vector<std::string> embedded_profile_names() {
  std::vector<std::string> names;
  for (const auto& profile : embedded_profiles()) names.emplace_back(profile.name);
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<std::string_view> embedded_profile_text(std::string_view name) {
  for (const auto& profile : embedded_profiles()) {
    if (profile.name == name) return profile.text;
  }
  return std::nullopt;
}

core::Result<Profile> load_profile(std::string_view name_or_path) {
  if (looks_like_path(name_or_path)) {
    const std::string path(name_or_path);
    auto text = read_profile_file(path);
    if (!text) return core::fail(text.error());
    return parse_profile(*text, path);
  }
  const auto text = embedded_profile_text(name_or_path);
  if (!text) {
    return core::fail(core::FailureKind::not_found,
                      "unknown profile '" + std::string(name_or_path) + "': expected one of " +
                          embedded_list() + ", or a path to a .toml file");
  }
  // Embedded profiles report positions as "public.toml:12:5" and resolve relative paths against
  // the current directory (the name has no directory part).
  auto profile = parse_profile(*text, std::string(name_or_path) + ".toml");
  if (profile) profile->source = "embedded";
  return profile;
}

core::Result<void> override_probe_host(Profile& profile, std::string_view assignment) {
  const std::string shown(assignment);
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == assignment.size()) {
    return core::fail(core::FailureKind::invalid_input,
                      "bad --probe-host '" + shown +
                          "': expected PATTERN=HOST, e.g. "
                          "'*.servicebus.windows.net=mygateway.servicebus.windows.net'");
  }
  const std::string_view pattern = assignment.substr(0, eq);
  const std::string host = lower(assignment.substr(eq + 1));
  if (!core::is_valid_hostname(host) && !core::is_ip_literal(host)) {
    return core::fail(core::FailureKind::invalid_input,
                      "bad --probe-host '" + shown + "': '" +
                          std::string(assignment.substr(eq + 1)) +
                          "' is neither a host name nor an IP address");
  }
  bool matched = false;
  for (auto& endpoint : profile.endpoints) {
    if (iequals(endpoint.host, pattern) || iequals(endpoint.name, pattern)) {
      endpoint.probe_host = host;
      endpoint.probe_host_is_example = false;
      matched = true;
    }
  }
  if (matched) return {};
  std::set<std::string> wildcards;
  for (const auto& endpoint : profile.endpoints) {
    if (endpoint.host.rfind("*.", 0) == 0) wildcards.insert(endpoint.host);
  }
  std::string hint;
  for (const auto& w : wildcards) hint += (hint.empty() ? "" : ", ") + w;
  return core::fail(core::FailureKind::invalid_input,
                    "bad --probe-host '" + shown + "': no endpoint of profile '" + profile.name +
                        "' has the host or name '" + std::string(pattern) + "'" +
                        (hint.empty() ? std::string() : "; its wildcard hosts are: " + hint));
}

core::Result<std::string> expand_variables(std::string_view text, const EnvLookup& lookup) {
  const EnvLookup& get = lookup ? lookup : EnvLookup([](std::string_view name) {
    const char* value = std::getenv(std::string(name).c_str());
    return value ? std::optional<std::string>(value) : std::nullopt;
  });
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$' || i + 1 >= text.size() || text[i + 1] != '{') {
      out += text[i++];
      continue;
    }
    const auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return core::fail(core::FailureKind::invalid_input,
                        "unterminated '${' in '" + std::string(text) + "': expected ${NAME}");
    }
    const std::string_view inner = text.substr(i + 2, close - i - 2);
    const auto dash = inner.find(":-");
    const std::string_view name = inner.substr(0, dash);
    if (!is_variable_name(name)) {
      return core::fail(core::FailureKind::invalid_input,
                        "bad variable name '" + std::string(name) + "' in '" + std::string(text) +
                            "': expected letters, digits and '_'");
    }
    const auto value = get(name);
    if (value && !value->empty()) {
      out += *value;
    } else if (dash != std::string_view::npos) {
      out += inner.substr(dash + 2);
    } else {
      return core::fail(core::FailureKind::invalid_input,
                        "environment variable '" + std::string(name) +
                            "' is not set (or empty) and has no default (write ${" +
                            std::string(name) + ":-default})");
    }
    i = close + 1;
  }
  return out;
}

}  // namespace gwprobe::rules
