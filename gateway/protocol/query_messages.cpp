// JSON mapping of the query frames and the row digest that proves a result arrived whole.
#include "gateway/protocol/query_messages.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "gateway/protocol/crypto.hpp"

namespace gwprobe::gateway::protocol {

namespace {

using core::FailureKind;
using json = nlohmann::ordered_json;

constexpr std::string_view kRequestKey = "gwprobeQuery";
constexpr std::string_view kColumnsKey = "columns";
constexpr std::string_view kRowsKey = "rows";
constexpr std::string_view kTrailerKey = "trailer";
constexpr std::string_view kErrorKey = "queryError";

core::Unexpected bad(const std::string& what) {
  return core::fail(FailureKind::protocol, "query message: " + what);
}

core::Result<std::string> required_string(const json& obj, const char* name,
                                          std::string_view message) {
  const auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) {
    return bad("'" + std::string(message) + "' needs a string '" + name + "'");
  }
  return it->get<std::string>();
}

std::string optional_string(const json& obj, const char* name) {
  const auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

core::Result<Row> parse_row(const json& values) {
  if (!values.is_array()) return bad("a row must be an array");
  Row row;
  row.reserve(values.size());
  for (const auto& v : values) {
    if (v.is_null()) {
      row.emplace_back(std::nullopt);
    } else if (v.is_string()) {
      row.emplace_back(v.get<std::string>());
    } else {
      return bad("a value must be null or a string");
    }
  }
  return row;
}

json row_json(const Row& row) {
  json out = json::array();
  for (const auto& v : row) {
    if (v) {
      out.push_back(*v);
    } else {
      out.push_back(nullptr);
    }
  }
  return out;
}

core::Result<QueryMessage> parse_body(std::string_view key, const json& body) {
  if (!body.is_object()) return bad("'" + std::string(key) + "' must be an object");
  auto id = required_string(body, "id", key);
  if (!id) return core::fail(id.error());
  if (key == kRequestKey) {
    QueryRequest r;
    r.id = std::move(*id);
    auto sql = required_string(body, "sql", key);
    if (!sql) return core::fail(sql.error());
    r.sql = std::move(*sql);
    r.datasource = optional_string(body, "datasource");
    if (const auto it = body.find("credentials"); it != body.end() && !it->is_null()) {
      if (!it->is_string()) return bad("'credentials' must be a string");
      r.sealed_credentials = it->get<std::string>();
    }
    return QueryMessage{std::move(r)};
  }
  if (key == kColumnsKey) {
    QueryColumns c;
    c.id = std::move(*id);
    const auto it = body.find("names");
    if (it == body.end() || !it->is_array()) return bad("'columns' needs an array 'names'");
    for (const auto& n : *it) {
      if (!n.is_string()) return bad("column names must be strings");
      c.names.push_back(n.get<std::string>());
    }
    return QueryMessage{std::move(c)};
  }
  if (key == kRowsKey) {
    QueryRows r;
    r.id = std::move(*id);
    const auto it = body.find("values");
    if (it == body.end() || !it->is_array()) return bad("'rows' needs an array 'values'");
    r.rows.reserve(it->size());
    for (const auto& values : *it) {
      auto row = parse_row(values);
      if (!row) return core::fail(row.error());
      r.rows.push_back(std::move(*row));
    }
    return QueryMessage{std::move(r)};
  }
  if (key == kTrailerKey) {
    QueryTrailer t;
    t.id = std::move(*id);
    const auto rows = body.find("rows");
    if (rows == body.end() || !rows->is_number_unsigned()) {
      return bad("'trailer' needs a non-negative integer 'rows'");
    }
    t.rows = rows->get<std::uint64_t>();
    auto sha = required_string(body, "sha256", key);
    if (!sha) return core::fail(sha.error());
    t.sha256 = std::move(*sha);
    return QueryMessage{std::move(t)};
  }
  // kErrorKey
  QueryError e;
  e.id = std::move(*id);
  const std::string stage = optional_string(body, "stage");
  static constexpr std::array kStages = {QueryStage::request,     QueryStage::datasource,
                                         QueryStage::credentials, QueryStage::database,
                                         QueryStage::busy,        QueryStage::internal};
  bool known = false;
  for (const auto s : kStages) {
    if (to_string(s) == stage) {
      e.stage = s;
      known = true;
    }
  }
  if (!known) return bad("'queryError' has an unknown 'stage' \"" + stage + "\"");
  e.message = optional_string(body, "message");
  return QueryMessage{std::move(e)};
}

struct Serializer {
  json operator()(const QueryRequest& r) const {
    json body{{"id", r.id}, {"datasource", r.datasource}, {"sql", r.sql}};
    if (r.sealed_credentials) body["credentials"] = *r.sealed_credentials;
    return json{{std::string(kRequestKey), std::move(body)}};
  }
  json operator()(const QueryColumns& c) const {
    return json{{std::string(kColumnsKey), json{{"id", c.id}, {"names", c.names}}}};
  }
  json operator()(const QueryRows& r) const {
    json values = json::array();
    for (const auto& row : r.rows) values.push_back(row_json(row));
    return json{{std::string(kRowsKey), json{{"id", r.id}, {"values", std::move(values)}}}};
  }
  json operator()(const QueryTrailer& t) const {
    return json{
        {std::string(kTrailerKey), json{{"id", t.id}, {"rows", t.rows}, {"sha256", t.sha256}}}};
  }
  json operator()(const QueryError& e) const {
    return json{{std::string(kErrorKey),
                 json{{"id", e.id}, {"stage", to_string(e.stage)}, {"message", e.message}}}};
  }
};

std::string dump(const json& j) {
  // Invalid UTF-8 would make nlohmann throw; replace it rather than fail a whole answer.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string_view to_string(QueryStage stage) {
  switch (stage) {
    case QueryStage::request:
      return "request";
    case QueryStage::datasource:
      return "datasource";
    case QueryStage::credentials:
      return "credentials";
    case QueryStage::database:
      return "database";
    case QueryStage::busy:
      return "busy";
    case QueryStage::internal:
      return "internal";
  }
  return "internal";
}

core::Result<QueryMessage> parse_query_message(std::string_view text) {
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad("not valid JSON");
  if (!doc.is_object() || doc.size() != 1) return bad("expected one top-level key");
  // Not a structured binding over items(): its key() refers into a temporary proxy (ASan).
  const auto first = doc.begin();
  const std::string key = first.key();
  const json& body = first.value();
  if (key != kRequestKey && key != kColumnsKey && key != kRowsKey && key != kTrailerKey &&
      key != kErrorKey) {
    return bad("unknown message \"" + key + "\"");
  }
  return parse_body(key, body);
}

std::string serialize(const QueryMessage& message) {
  return dump(std::visit(Serializer{}, message));
}

std::string to_valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07u;
    }
    bool ok = len > 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      ok = (p[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (p[i + k] & 0x3Fu);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are invalid too.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
               (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)) {
      ok = false;
    }
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

std::size_t encoded_size(const Row& row) {
  return dump(row_json(row)).size() + 1;  // + the comma between rows
}

RowDigest::RowDigest() {
  auto* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) std::abort();
  ctx_ = ctx;
}

RowDigest::~RowDigest() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}

void RowDigest::add(const Row& row) {
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  for (const auto& v : row) {
    if (!v) {
      EVP_DigestUpdate(ctx, "N", 1);
      continue;
    }
    std::array<unsigned char, 9> head{};
    head[0] = 'S';
    std::uint64_t len = v->size();
    for (int k = 8; k >= 1; --k) {
      head[static_cast<std::size_t>(k)] = static_cast<unsigned char>(len & 0xFFu);
      len >>= 8;
    }
    EVP_DigestUpdate(ctx, head.data(), head.size());
    EVP_DigestUpdate(ctx, v->data(), v->size());
  }
  EVP_DigestUpdate(ctx, "\n", 1);
  ++rows_;
}

std::string RowDigest::hex() const {
  auto* copy = EVP_MD_CTX_new();
  if (copy == nullptr || EVP_MD_CTX_copy_ex(copy, static_cast<EVP_MD_CTX*>(ctx_)) != 1) {
    std::abort();
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(copy, out.data(), &len);
  EVP_MD_CTX_free(copy);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(out.data()), len));
}

}  // namespace gwprobe::gateway::protocol
