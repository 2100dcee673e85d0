// The data-sources file (TOML via toml++): every rejection says file:line:column and what was
// expected, and none quotes a password. Conninfo strings are checked with libpq's own parser.
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>

#include "gateway/datasource/datasource.hpp"
#include "gateway/datasource/libpq.hpp"

namespace gwprobe::gateway::datasource {

namespace {

using namespace std::string_view_literals;

constexpr std::array kDataSourceKeys = {"name"sv, "kind"sv, "path"sv, "conninfo"sv,
                                        "password_sealed"sv};
constexpr std::string_view kSealedPrefix = "gwp-sealed-v1:";
constexpr std::string_view kSealAdvice =
    "put the password sealed in password_sealed (`gwprobe gateway seal`)";

std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "floating-point number";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::array:
      return "array";
    case toml::node_type::table:
      return "table";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

struct ConninfoOptionsFree {
  void operator()(PQconninfoOption* options) const { libpq().conninfoFree(options); }
};

enum class ConninfoCheck { ok, malformed, holds_password };

// libpq's own parser decides, so key=value strings and postgresql:// URIs (user:pass@host or
// ?password=) are judged exactly as a connection would read them. Its error text is dropped:
// for a malformed string it may quote a fragment, and that fragment may be the password.
ConninfoCheck check_conninfo(const std::string& conninfo) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoOptionsFree> options(
      libpq().conninfoParse(conninfo.c_str(), &error));
  if (error != nullptr) libpq().freemem(error);
  if (!options) return ConninfoCheck::malformed;
  for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
    if (std::strcmp(option->keyword, "password") == 0 && option->val != nullptr) {
      return ConninfoCheck::holds_password;
    }
  }
  return ConninfoCheck::ok;
}

/// Reads one parsed document. Methods return false after recording the first error.
class DataSourcesReader {
 public:
  DataSourcesReader(std::string source, std::filesystem::path base_dir)
      : source_(std::move(source)), base_dir_(std::move(base_dir)) {}

  core::Result<std::vector<DataSourceConfig>> read(const toml::table& root) {
    std::vector<DataSourceConfig> out;
    if (!read_all(root, out)) return core::fail(*error_);
    return out;
  }

 private:
  std::string where(const toml::source_position& p) const {
    return source_ + ":" + std::to_string(p.line) + ":" + std::to_string(p.column);
  }

  bool fail_at(const toml::source_position& p, const std::string& what) {
    if (!error_) error_ = core::Error{core::FailureKind::invalid_input, where(p) + ": " + what, {}};
    return false;
  }
  bool fail_at(const toml::node& node, const std::string& what) {
    return fail_at(node.source().begin, what);
  }

  bool read_all(const toml::table& root, std::vector<DataSourceConfig>& out) {
    for (auto&& [key, value] : root) {
      if (key.str() != "datasource") {
        return fail_at(key.source().begin, "unknown key '" + std::string(key.str()) +
                                               "': expected [[datasource]] tables");
      }
    }
    const toml::node* node = root.get("datasource");
    if (node == nullptr) {
      return fail_at(toml::source_position{1, 1},
                     "no [[datasource]] tables: expected at least one");
    }
    const toml::array* array = node->as_array();
    if (array == nullptr || array->empty()) {
      return fail_at(*node, "'datasource': expected an array of tables ([[datasource]])");
    }
    std::map<std::string, std::string> first_seen;  // name -> where
    for (const toml::node& element : *array) {
      const toml::table* table = element.as_table();
      if (table == nullptr) {
        return fail_at(element, "'datasource': expected a table ([[datasource]]), got " +
                                    std::string(type_name(element.type())));
      }
      DataSourceConfig config;
      if (!read_one(*table, config)) return false;
      const toml::node& name_node = *table->get("name");
      const auto [it, inserted] = first_seen.emplace(config.name, where(name_node.source().begin));
      if (!inserted) {
        return fail_at(name_node, "duplicate data source name '" + config.name +
                                      "' (first defined at " + it->second +
                                      "): expected unique names");
      }
      out.push_back(std::move(config));
    }
    return true;
  }

  // A string value, or false with "expected a string" at the value.
  bool read_string(const toml::table& table, std::string_view key, std::string& out,
                   bool* present = nullptr) {
    const toml::node* node = table.get(key);
    if (present) *present = node != nullptr;
    if (node == nullptr) return true;
    const auto* value = node->as_string();
    if (value == nullptr) {
      return fail_at(*node, "'datasource." + std::string(key) + "': expected a string, got " +
                                std::string(type_name(node->type())));
    }
    out = value->get();
    if (out.empty()) {
      return fail_at(*node, "'datasource." + std::string(key) + "': expected a non-empty string");
    }
    return true;
  }

  bool missing(const toml::table& table, std::string_view key, const std::string& why) {
    return fail_at(table,
                   "missing required key '" + std::string(key) + "' in [[datasource]]" + why);
  }

  bool not_for_kind(const toml::table& table, std::string_view key, std::string_view kind) {
    return fail_at(*table.get(key), "'datasource." + std::string(key) +
                                        "' does not apply to kind = \"" + std::string(kind) + "\"");
  }

  bool read_one(const toml::table& table, DataSourceConfig& config) {
    // Keys first, in file order, so a clear-text password is refused before anything else.
    for (auto&& [key, value] : table) {
      if (key.str() == "password") {
        return fail_at(key.source().begin,
                       "a clear-text 'password' is not allowed: " + std::string(kSealAdvice));
      }
      if (std::find(kDataSourceKeys.begin(), kDataSourceKeys.end(), key.str()) ==
          kDataSourceKeys.end()) {
        return fail_at(key.source().begin,
                       "unknown key '" + std::string(key.str()) +
                           "' in [[datasource]]; valid keys: name, kind, path, conninfo, "
                           "password_sealed");
      }
    }
    bool has_name = false;
    bool has_kind = false;
    bool has_path = false;
    bool has_conninfo = false;
    bool has_sealed = false;
    std::string sealed;
    if (!read_string(table, "name", config.name, &has_name) ||
        !read_string(table, "kind", config.kind, &has_kind) ||
        !read_string(table, "path", config.path, &has_path) ||
        !read_string(table, "conninfo", config.conninfo, &has_conninfo)) {
      return false;
    }
    // Not read_string: a mistyped value here may be the clear password, so never quote it.
    if (const toml::node* node = table.get("password_sealed")) {
      has_sealed = true;
      const auto* value = node->as_string();
      if (value == nullptr || value->get().rfind(kSealedPrefix, 0) != 0) {
        return fail_at(*node,
                       "'datasource.password_sealed': expected a value sealed with `gwprobe "
                       "gateway seal` (starting with \"gwp-sealed-v1:\")");
      }
      sealed = value->get();
    }
    if (!has_name) return missing(table, "name", "");
    if (!has_kind) return missing(table, "kind", R"( ("sqlite" or "postgres"))");
    const std::string named = " '" + config.name + "'";
    if (config.kind == "sqlite") {
      if (!has_path) return missing(table, "path", named + " (the SQLite database file)");
      if (has_conninfo) return not_for_kind(table, "conninfo", config.kind);
      if (has_sealed) return not_for_kind(table, "password_sealed", config.kind);
      std::filesystem::path path(config.path);
      if (path.is_relative()) config.path = (base_dir_ / path).lexically_normal().string();
    } else if (config.kind == "postgres") {
      if (!has_conninfo) {
        return missing(table, "conninfo", named + " (a libpq connection string)");
      }
      if (has_path) return not_for_kind(table, "path", config.kind);
      if (const auto& loaded = load_libpq(); !loaded) {
        return fail_at(*table.get("conninfo"),
                       "a postgres source needs libpq: " + loaded.error().describe());
      }
      switch (check_conninfo(config.conninfo)) {
        case ConninfoCheck::ok:
          break;
        case ConninfoCheck::malformed:
          return fail_at(*table.get("conninfo"),
                         "'datasource.conninfo': expected a libpq connection string "
                         "(\"host=... dbname=... user=...\" or a postgresql:// URI)");
        case ConninfoCheck::holds_password:
          return fail_at(
              *table.get("conninfo"),
              "'datasource.conninfo' holds a password: remove it and " + std::string(kSealAdvice));
      }
      if (has_sealed) config.sealed_password = std::move(sealed);
    } else {
      return fail_at(*table.get("kind"), "'datasource.kind': unknown kind '" + config.kind +
                                             R"(': expected "sqlite" or "postgres")");
    }
    return true;
  }

  std::string source_;
  std::filesystem::path base_dir_;
  std::optional<core::Error> error_;
};

}  // namespace

core::Result<std::vector<DataSourceConfig>> parse_datasources(std::string_view toml_text,
                                                              std::string_view source_name) {
  const std::string source(source_name);
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view(source));
  } catch (const toml::parse_error& error) {
    const auto& begin = error.source().begin;
    return core::fail(core::FailureKind::invalid_input,
                      source + ":" + std::to_string(begin.line) + ":" +
                          std::to_string(begin.column) +
                          ": malformed TOML: " + std::string(error.description()));
  }
  DataSourcesReader reader(source, std::filesystem::path(source).parent_path());
  return reader.read(root);
}

core::Result<std::vector<DataSourceConfig>> load_datasources(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    if (error == ENOENT) {
      return core::fail(core::FailureKind::not_found,
                        "data-sources file '" + path + "' does not exist");
    }
    return core::fail(core::FailureKind::io,
                      "cannot read data-sources file '" + path + "': " + std::strerror(error));
  }
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) {
    return core::fail(core::FailureKind::io, "cannot read data-sources file '" + path + "'");
  }
  return parse_datasources(text, path);
}

}  // namespace gwprobe::gateway::datasource
