// JSON mapping of the Hybrid Connections control messages.
#include "gateway/protocol/messages.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

namespace gwprobe::gateway::protocol {

namespace {

using core::FailureKind;
using json = nlohmann::ordered_json;

core::Unexpected bad(const std::string& what) {
  return core::fail(FailureKind::protocol, "control message: " + what);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string> string_field(const json& obj, const char* name) {
  const auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// Header values should be strings; numbers and booleans are stringified, arrays (multi-valued
// headers) become one value per element, anything else is dropped.
core::Result<Headers> headers_field(const json& obj, const char* name) {
  Headers out;
  const auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_object()) return bad(std::string("'") + name + "' must be an object");
  for (const auto& [k, v] : it->items()) {
    if (v.is_string()) {
      out.emplace_back(k, v.get<std::string>());
    } else if (v.is_number() || v.is_boolean()) {
      out.emplace_back(k, v.dump());
    } else if (v.is_array()) {
      for (const auto& e : v) {
        if (e.is_string()) out.emplace_back(k, e.get<std::string>());
      }
    }
  }
  return out;
}

json headers_json(const Headers& headers) {
  json obj = json::object();
  for (const auto& [k, v] : headers) {
    auto it = obj.find(k);
    if (it == obj.end()) {
      obj[k] = v;
    } else {
      // JSON objects cannot repeat a name: join values as HTTP allows (RFC 9110 5.3).
      *it = it->get<std::string>() + ", " + v;
    }
  }
  return obj;
}

std::optional<RemoteEndpoint> endpoint_field(const json& obj) {
  const auto it = obj.find("remoteEndpoint");
  if (it == obj.end() || !it->is_object()) return std::nullopt;
  RemoteEndpoint ep;
  ep.address = string_field(*it, "address").value_or("");
  const auto port = it->find("port");
  if (port != it->end() && port->is_number_unsigned() && port->get<std::uint64_t>() <= 65535) {
    ep.port = static_cast<std::uint16_t>(port->get<std::uint64_t>());
  }
  return ep;
}

bool bool_field(const json& obj, const char* name) {
  const auto it = obj.find(name);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

json endpoint_json(const RemoteEndpoint& ep) {
  return json{{"address", ep.address}, {"port", ep.port}};
}

core::Result<ControlMessage> parse_accept(const json& body) {
  AcceptCommand cmd;
  auto address = string_field(body, "address");
  auto id = string_field(body, "id");
  if (!address || !id) return bad("'accept' needs string 'address' and 'id'");
  cmd.address = std::move(*address);
  cmd.id = std::move(*id);
  auto headers = headers_field(body, "connectHeaders");
  if (!headers) return core::fail(headers.error());
  cmd.connect_headers = std::move(*headers);
  cmd.remote_endpoint = endpoint_field(body);
  return ControlMessage{std::move(cmd)};
}

core::Result<ControlMessage> parse_request(const json& body) {
  RequestCommand cmd;
  cmd.address = string_field(body, "address").value_or("");
  cmd.id = string_field(body, "id").value_or("");
  cmd.request_target = string_field(body, "requestTarget");
  cmd.method = string_field(body, "method");
  if (cmd.id.empty()) return bad("'request' needs a string 'id'");
  if (cmd.address_only() && cmd.address.empty()) {
    return bad("address-only 'request' needs an 'address'");
  }
  auto headers = headers_field(body, "requestHeaders");
  if (!headers) return core::fail(headers.error());
  cmd.request_headers = std::move(*headers);
  cmd.remote_endpoint = endpoint_field(body);
  cmd.body = bool_field(body, "body");
  return ControlMessage{std::move(cmd)};
}

core::Result<ControlMessage> parse_response(const json& body) {
  ResponseCommand cmd;
  auto id = string_field(body, "requestId");
  if (!id) return bad("'response' needs a string 'requestId'");
  cmd.request_id = std::move(*id);
  const auto status = body.find("statusCode");
  if (status == body.end()) return bad("'response' needs 'statusCode'");
  if (status->is_number_integer()) {
    const auto code = status->get<std::int64_t>();
    if (code < 100 || code > 599) return bad("'statusCode' out of range 100..599");
    cmd.status_code = static_cast<int>(code);
  } else if (status->is_string()) {
    auto code = parse_status_code(status->get<std::string>());
    if (!code) return core::fail(code.error());
    cmd.status_code = *code;
  } else {
    return bad("'statusCode' must be a number or a string");
  }
  cmd.status_description = string_field(body, "statusDescription").value_or("");
  auto headers = headers_field(body, "responseHeaders");
  if (!headers) return core::fail(headers.error());
  cmd.response_headers = std::move(*headers);
  cmd.body = bool_field(body, "body");
  return ControlMessage{std::move(cmd)};
}

core::Result<ControlMessage> parse_load(const json& body) {
  LoadReportCommand cmd;
  for (auto [name, target] : {std::pair{"cpu", &cmd.cpu}, std::pair{"memory", &cmd.memory}}) {
    const auto it = body.find(name);
    if (it == body.end()) continue;
    if (!it->is_number()) return bad(std::string("'gwprobeLoad.") + name + "' must be a number");
    const double v = it->get<double>();
    if (!(v >= 0.0 && v <= 1.0)) {
      return bad(std::string("'gwprobeLoad.") + name + "' must be between 0 and 1");
    }
    *target = v;
  }
  return ControlMessage{cmd};
}

struct Serializer {
  json operator()(const AcceptCommand& c) const {
    json body{
        {"address", c.address}, {"id", c.id}, {"connectHeaders", headers_json(c.connect_headers)}};
    if (c.remote_endpoint) body["remoteEndpoint"] = endpoint_json(*c.remote_endpoint);
    return json{{"accept", body}};
  }
  json operator()(const RequestCommand& c) const {
    json body{{"address", c.address}, {"id", c.id}};
    if (c.request_target) body["requestTarget"] = *c.request_target;
    if (c.method) {
      body["method"] = *c.method;
      body["requestHeaders"] = headers_json(c.request_headers);
      body["body"] = c.body;
    }
    if (c.remote_endpoint) body["remoteEndpoint"] = endpoint_json(*c.remote_endpoint);
    return json{{"request", body}};
  }
  json operator()(const ResponseCommand& c) const {
    json body{{"requestId", c.request_id}, {"statusCode", c.status_code}};
    if (!c.status_description.empty()) body["statusDescription"] = c.status_description;
    body["responseHeaders"] = headers_json(c.response_headers);
    body["body"] = c.body;
    return json{{"response", body}};
  }
  json operator()(const RenewTokenCommand& c) const {
    return json{{"renewToken", {{"token", c.token}}}};
  }
  json operator()(const LoadReportCommand& c) const {
    return json{{"gwprobeLoad", {{"cpu", c.cpu}, {"memory", c.memory}}}};
  }
  json operator()(const UnknownCommand& c) const { return json{{c.name, json::object()}}; }
};

}  // namespace

const std::string* find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return &v;
  }
  return nullptr;
}

core::Result<int> parse_status_code(std::string_view text) {
  int code = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), code);
  if (ec != std::errc{} || end != text.data() + text.size() || code < 100 || code > 599) {
    return bad("'statusCode' must be a number 100..599");
  }
  return code;
}

core::Result<ControlMessage> parse_control_message(std::string_view text) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error&) {
    return bad("not valid JSON");
  }
  if (!root.is_object() || root.size() != 1) return bad("expected an object with one command key");
  const auto first = root.begin();
  const std::string name = first.key();
  const json& body = first.value();
  if (!body.is_object()) return bad("'" + name + "' must hold an object");
  if (name == "accept") return parse_accept(body);
  if (name == "request") return parse_request(body);
  if (name == "response") return parse_response(body);
  if (name == "renewToken") {
    auto token = string_field(body, "token");
    if (!token || token->empty()) return bad("'renewToken' needs a string 'token'");
    return ControlMessage{RenewTokenCommand{std::move(*token)}};
  }
  if (name == "gwprobeLoad") return parse_load(body);
  return ControlMessage{UnknownCommand{name}};
}

std::string serialize(const ControlMessage& message) {
  return std::visit(Serializer{}, message).dump();
}

}  // namespace gwprobe::gateway::protocol
