// Input files: reading, positions, and locating a JSON value in its text for error messages.
#include "rules/bgp/source_text.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include <fmt/format.h>

namespace gwprobe::rules::bgp {

core::Result<SourceText> read_source_text(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) {
      return core::fail(core::FailureKind::not_found, fmt::format("{}: no such file", path));
    }
    return core::fail(core::FailureKind::io,
                      fmt::format("{}: cannot open: {}", path, std::strerror(err)));
  }
  SourceText source{path, {}};
  std::vector<char> buffer(64 * 1024);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    source.text.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
    if (source.text.size() > max_bytes) {
      return core::fail(
          core::FailureKind::invalid_input,
          fmt::format("{}: larger than {} bytes; not an input gwprobe reads", path, max_bytes));
    }
  }
  if (in.bad()) {
    return core::fail(core::FailureKind::io, fmt::format("{}: read error", path));
  }
  return source;
}

TextPosition position_at(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  TextPosition pos;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
  }
  return pos;
}

std::string where(const SourceText& source, std::size_t offset) {
  const auto pos = position_at(source.text, offset);
  return fmt::format("{}:{}:{}", source.name, pos.line, pos.column);
}

namespace {

// Walks JSON text that nlohmann already accepted, to find where a value starts. Only used on
// error paths, so simplicity beats speed; depth is capped so hostile nesting cannot recurse
// without bound.
class JsonLocator {
 public:
  explicit JsonLocator(std::string_view text) : text_(text) {}

  std::optional<std::size_t> find(const std::vector<std::string>& tokens, std::size_t k,
                                  int depth = 0) {
    skip_ws();
    if (k == tokens.size()) return pos_;
    if (depth > kMaxDepth || pos_ >= text_.size()) return std::nullopt;
    if (text_[pos_] == '{') {
      ++pos_;
      for (;;) {
        skip_ws();
        if (pos_ >= text_.size() || text_[pos_] == '}') return std::nullopt;
        std::string key;
        if (!read_string(&key)) return std::nullopt;
        skip_ws();
        if (pos_ >= text_.size() || text_[pos_] != ':') return std::nullopt;
        ++pos_;
        if (key == tokens[k]) return find(tokens, k + 1, depth + 1);
        if (!skip_value(depth + 1)) return std::nullopt;
        skip_ws();
        if (pos_ < text_.size() && text_[pos_] == ',') ++pos_;
      }
    }
    if (text_[pos_] == '[') {
      ++pos_;
      const auto& token = tokens[k];
      if (token.empty() || !std::all_of(token.begin(), token.end(), ::isdigit)) {
        return std::nullopt;
      }
      const std::size_t wanted = std::stoul(token);
      for (std::size_t index = 0;; ++index) {
        skip_ws();
        if (pos_ >= text_.size() || text_[pos_] == ']') return std::nullopt;
        if (index == wanted) return find(tokens, k + 1, depth + 1);
        if (!skip_value(depth + 1)) return std::nullopt;
        skip_ws();
        if (pos_ < text_.size() && text_[pos_] == ',') ++pos_;
      }
    }
    return std::nullopt;
  }

 private:
  static constexpr int kMaxDepth = 512;

  void skip_ws() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  // Reads a string token; escapes other than \uXXXX are decoded (keys in our inputs are ASCII).
  bool read_string(std::string* out) {
    if (pos_ >= text_.size() || text_[pos_] != '"') return false;
    ++pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (c == '\\' && pos_ < text_.size()) {
        const char e = text_[pos_++];
        switch (e) {
          case 'n':
            out->push_back('\n');
            break;
          case 't':
            out->push_back('\t');
            break;
          case 'r':
            out->push_back('\r');
            break;
          case 'b':
            out->push_back('\b');
            break;
          case 'f':
            out->push_back('\f');
            break;
          case 'u':
            out->append("\\u");
            break;
          default:
            out->push_back(e);
            break;
        }
      } else {
        out->push_back(c);
      }
    }
    return false;
  }

  bool skip_value(int depth) {
    skip_ws();
    if (depth > kMaxDepth || pos_ >= text_.size()) return false;
    const char c = text_[pos_];
    if (c == '"') {
      std::string ignored;
      return read_string(&ignored);
    }
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      for (;;) {
        skip_ws();
        if (pos_ >= text_.size()) return false;
        if (text_[pos_] == close) {
          ++pos_;
          return true;
        }
        if (c == '{') {
          std::string ignored;
          if (!read_string(&ignored)) return false;
          skip_ws();
          if (pos_ >= text_.size() || text_[pos_] != ':') return false;
          ++pos_;
        }
        if (!skip_value(depth + 1)) return false;
        skip_ws();
        if (pos_ < text_.size() && text_[pos_] == ',') ++pos_;
      }
    }
    while (pos_ < text_.size() && std::strchr(",]} \t\r\n", text_[pos_]) == nullptr) ++pos_;
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

std::vector<std::string> pointer_tokens(const nlohmann::json::json_pointer& pointer) {
  std::vector<std::string> tokens;
  const std::string text = pointer.to_string();
  std::size_t start = 1;
  while (start <= text.size() && !text.empty()) {
    const std::size_t slash = text.find('/', start);
    std::string token =
        text.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    std::string unescaped;
    for (std::size_t i = 0; i < token.size(); ++i) {
      if (token[i] == '~' && i + 1 < token.size()) {
        unescaped.push_back(token[i + 1] == '1' ? '/' : '~');
        ++i;
      } else {
        unescaped.push_back(token[i]);
      }
    }
    tokens.push_back(std::move(unescaped));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return tokens;
}

}  // namespace

std::optional<std::size_t> offset_of(std::string_view json_text,
                                     const nlohmann::json::json_pointer& pointer) {
  JsonLocator locator(json_text);
  return locator.find(pointer_tokens(pointer), 0);
}

std::string where(const SourceText& source, const nlohmann::json::json_pointer& pointer) {
  if (const auto offset = offset_of(source.text, pointer)) return where(source, *offset);
  return fmt::format("{} (at {})", source.name, pointer.to_string());
}

core::Result<nlohmann::json> parse_json(const SourceText& source) {
  try {
    return nlohmann::json::parse(source.text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based and points just past the offending character.
    const std::size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    std::string what = e.what();
    // nlohmann's text is "[json.exception.parse_error.101] parse error at line 1, column 2:
    // syntax error while parsing value - invalid literal; last read: 'x'"; keep the reason only.
    if (const auto colon = what.find(": "); colon != std::string::npos) {
      what = what.substr(colon + 2);
    }
    return core::fail(core::FailureKind::invalid_input,
                      fmt::format("{}: invalid JSON: {}", where(source, offset), what));
  }
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

const nlohmann::json* find_key(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  if (const auto it = object.find(std::string(key)); it != object.end()) return &*it;
  const std::string lower = to_lower(key);
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (to_lower(it.key()) == lower) return &it.value();
  }
  return nullptr;
}

}  // namespace gwprobe::rules::bgp
