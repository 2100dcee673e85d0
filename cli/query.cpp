// `gwprobe query --relay URL --key-name N --key-file F [--datasource N] [--ca-file F]
// [--gateway-public-key F --credentials-file F] [--proxy ...] [--timeout D]
// [--format table|json|csv] SQL`: a query through the relay to a gateway agent; prints the rows
// and "N rows, sha256 verified", or the diagnosis with its advice (exit 1).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/interrupt.hpp"
#include "cli/query_flags.hpp"
#include "core/diagnosis.hpp"
#include "core/duration.hpp"
#include "reports/escape.hpp"
#include "rules/diagnosis.hpp"

namespace gwprobe::cli {
namespace {

namespace protocol = gateway::protocol;

struct QueryCommandOptions {
  QueryFlags flags;
  std::string sql;
  std::string timeout = "30s";
  std::string format = "table";
  std::size_t max_rows = 1000;
};

void print(const std::string& text, std::FILE* to = stdout) {
  std::fwrite(text.data(), 1, text.size(), to);
}

/// The cell as a terminal shows it: NULL for SQL NULL, control characters neutralised.
std::string cell(const protocol::Value& value) {
  return value ? reports::plain_text(*value) : std::string("NULL");
}

std::string table_of(const gateway::client::QueryOutcome& outcome) {
  std::vector<std::size_t> width;
  for (const auto& name : outcome.columns) width.push_back(reports::plain_text(name).size());
  for (const auto& row : outcome.rows) {
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], cell(row[i]).size());
    }
  }
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out += " | ";
      out += cells[i];
      if (i + 1 < cells.size())
        out += std::string(width[i] - std::min(width[i], cells[i].size()), ' ');
    }
    return out + "\n";
  };
  std::vector<std::string> header;
  for (const auto& name : outcome.columns) header.push_back(reports::plain_text(name));
  std::string out = line(header);
  std::string rule;
  for (std::size_t i = 0; i < width.size(); ++i) {
    if (i > 0) rule += "-+-";
    rule += std::string(width[i], '-');
  }
  out += rule + "\n";
  for (const auto& row : outcome.rows) {
    std::vector<std::string> cells;
    cells.reserve(row.size());
    for (const auto& v : row) cells.push_back(cell(v));
    out += line(cells);
  }
  return out;
}

/// RFC 4180: fields with a comma, quote or line break are quoted; NULL is an empty field, the
/// empty string a quoted one ("").
std::string csv_field(const protocol::Value& value) {
  if (!value) return {};
  const auto& text = *value;
  if (!text.empty() && text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_of(const gateway::client::QueryOutcome& outcome) {
  std::string out;
  for (std::size_t i = 0; i < outcome.columns.size(); ++i) {
    out += (i > 0 ? "," : "") + csv_field(outcome.columns[i]);
  }
  out += "\r\n";
  for (const auto& row : outcome.rows) {
    for (std::size_t i = 0; i < row.size(); ++i) out += (i > 0 ? "," : "") + csv_field(row[i]);
    out += "\r\n";
  }
  return out;
}

std::string json_of(const gateway::client::QueryOutcome& outcome) {
  std::string out = "{\"columns\":[";
  for (std::size_t i = 0; i < outcome.columns.size(); ++i) {
    out += (i > 0 ? "," : "") + reports::json_quote(outcome.columns[i]);
  }
  out += "],\"rows\":[";
  for (std::size_t r = 0; r < outcome.rows.size(); ++r) {
    out += r > 0 ? ",[" : "[";
    const auto& row = outcome.rows[r];
    for (std::size_t i = 0; i < row.size(); ++i) {
      out += (i > 0 ? "," : "") + (row[i] ? reports::json_quote(*row[i]) : std::string("null"));
    }
    out += "]";
  }
  out += "],\"row_count\":" + std::to_string(outcome.row_count) +
         ",\"sha256\":" + reports::json_quote(outcome.sha256) + ",\"verified\":true}\n";
  return out;
}

int run_query(const QueryCommandOptions& options) {
  if (options.format != "table" && options.format != "json" && options.format != "csv") {
    usage_error("--format: expected table, json or csv, not '" + options.format + "'");
  }
  auto timeout = core::parse_duration(options.timeout);
  if (!timeout) usage_error("--timeout: " + timeout.error().message);
  if (timeout->count() == 0) usage_error("--timeout: must be more than 0");
  if (options.sql.empty()) usage_error("SQL: the query is empty");
  auto query = query_options(options.flags, options.sql);
  query.keep_rows = options.max_rows;

  probes::ProbeContext context;
  context.deadline = core::Deadline::after(*timeout);
  InterruptScope interrupt(context.cancel);
  const auto outcome = gateway::client::send_query(query, context);
  const auto& result = outcome.result;
  if (result.diagnosis == core::Diagnosis::probe_cancelled) {
    print("gwprobe: interrupted\n", stderr);
    return exit_code::interrupted;
  }
  if (result.status != core::Status::pass) {
    // The advice reads the relay settings the way a profile would hold them.
    rules::Profile adhoc;
    adhoc.name = "query";
    adhoc.relay.url = options.flags.relay;
    adhoc.relay.send_key_name = options.flags.key_name;
    adhoc.relay.send_key_file = options.flags.key_file;
    adhoc.relay.datasource = options.flags.datasource;
    adhoc.relay.query = options.sql;
    print("gwprobe: " + std::string(core::to_code(result.diagnosis)) + ": " +
              reports::plain_text(result.message) + "\n",
          stderr);
    const auto advice = rules::advice_for(result, adhoc);
    if (!advice.empty()) print("  advice: " + advice + "\n", stderr);
    return exit_code::not_ready;
  }

  std::string summary = std::to_string(outcome.row_count) +
                        (outcome.row_count == 1 ? " row" : " rows") + ", sha256 verified";
  if (outcome.rows.size() < outcome.row_count) {
    summary += " (showing the first " + std::to_string(outcome.rows.size()) + ": --max-rows)";
  }
  if (options.format == "json") {
    print(json_of(outcome));
    print(summary + "\n", stderr);
  } else if (options.format == "csv") {
    print(csv_of(outcome));
    print(summary + "\n", stderr);
  } else {
    print(table_of(outcome));
    print(summary + "\n");
  }
  return exit_code::ready;
}

void setup_query(CLI::App& root, Action& action) {
  auto* sub = root.add_subcommand(
      "query", "Send a query through the relay to a gateway and print the verified rows");
  auto options = std::make_shared<QueryCommandOptions>();
  add_query_flags(*sub, options->flags, "--relay");
  sub->add_option("sql", options->sql, "The query (SQL) to run on the gateway's data source")
      ->required();
  sub->add_option("--timeout", options->timeout, "Deadline for the whole query")
      ->capture_default_str();
  sub->add_option("--format,-f", options->format, "table, json or csv")->capture_default_str();
  sub->add_option("--max-rows", options->max_rows,
                  "Print at most this many rows (all are still counted and verified)")
      ->capture_default_str();
  sub->callback([options, &action] { action = [options] { return run_query(*options); }; });
}

const bool registered = register_command({"query", 25, setup_query});

}  // namespace
}  // namespace gwprobe::cli
