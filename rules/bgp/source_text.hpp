// Input files of the BGP and firewall checks: read with a size limit, positions reported as
// file:line:column, JSON parsed with the position of the first error.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace gwprobe::rules::bgp {

/// Route filters, route dumps, rulesets and service-tag files are small; anything larger is not
/// one of them (the public Service Tags file is about 4 MB).
inline constexpr std::size_t kMaxInputBytes = std::size_t{64} * 1024 * 1024;

/// A text and the name it is reported under (the path, or "<stdin>", or a test's label).
struct SourceText {
  std::string name;
  std::string text;
};

/// Reads a whole file. not_found when it does not exist, io when it cannot be read,
/// invalid_input when it is larger than `max_bytes`.
core::Result<SourceText> read_source_text(const std::string& path,
                                          std::size_t max_bytes = kMaxInputBytes);

struct TextPosition {
  int line = 1;    ///< 1-based
  int column = 1;  ///< 1-based, in bytes
};

/// Line and column of a byte offset (clamped to the text).
TextPosition position_at(std::string_view text, std::size_t offset);

/// "name:line:column" for a byte offset.
std::string where(const SourceText& source, std::size_t offset);

/// "name:line:column" of the JSON value at `pointer`, or "name (at /json/pointer)" when the
/// pointer does not lead to a value in the text.
std::string where(const SourceText& source, const nlohmann::json::json_pointer& pointer);

/// Byte offset where the value at `pointer` starts in `json_text`, if it exists.
std::optional<std::size_t> offset_of(std::string_view json_text,
                                     const nlohmann::json::json_pointer& pointer);

/// Parses JSON; a syntax error is invalid_input "name:line:column: invalid JSON: <what>".
core::Result<nlohmann::json> parse_json(const SourceText& source);

/// Lower-case ASCII copy.
std::string to_lower(std::string_view text);

/// `text` without leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view text);

/// The value of `key` in `object` compared case-insensitively (az CLI prints camelCase,
/// PowerShell PascalCase), or nullptr.
const nlohmann::json* find_key(const nlohmann::json& object, std::string_view key);

}  // namespace gwprobe::rules::bgp
