// Escaping for every report format, built on one strict UTF-8 decoder.
#include "reports/escape.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace gwprobe::reports {
namespace {

constexpr char32_t kReplacement = 0xFFFD;
constexpr std::string_view kReplacementUtf8 = "\xEF\xBF\xBD";

struct CodePoint {
  char32_t value = 0;
  std::size_t length = 1;  ///< bytes consumed
  bool valid = true;
};

bool continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

/// Decodes the sequence at `i`. An ill-formed sequence is consumed as its maximal subpart (the
/// valid prefix of a sequence, or one byte), which Unicode recommends replacing by one U+FFFD.
CodePoint decode_at(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1, true};
  std::size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  char32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // no overlong forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return {kReplacement, 1, false};
  }
  for (std::size_t k = 1; k <= need; ++k) {
    if (i + k >= s.size()) return {kReplacement, k, false};
    const auto b = static_cast<unsigned char>(s[i + k]);
    const bool ok = k == 1 ? (b >= lo && b <= hi) : continuation(b);
    if (!ok) return {kReplacement, k, false};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, need + 1, true};
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// Calls on(cp, bytes) for every code point; ill-formed input arrives as U+FFFD.
template <class OnCodePoint>
void for_each_code_point(std::string_view text, OnCodePoint on) {
  std::size_t i = 0;
  while (i < text.size()) {
    const CodePoint cp = decode_at(text, i);
    on(cp.value, cp.valid ? text.substr(i, cp.length) : kReplacementUtf8);
    i += cp.length;
  }
}

bool is_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/// Characters that reorder the text around them when displayed (CVE-2021-42574).
bool is_bidi_control(char32_t cp) {
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

bool in(char32_t cp, char32_t lo, char32_t hi) {
  return cp >= lo && cp <= hi;
}

std::size_t code_point_width(char32_t cp) {
  if (is_control(cp)) return 0;
  if (in(cp, 0x0300, 0x036F) || in(cp, 0x1AB0, 0x1AFF) || in(cp, 0x1DC0, 0x1DFF) ||
      in(cp, 0x200B, 0x200D) || in(cp, 0x20D0, 0x20FF) || in(cp, 0xFE00, 0xFE0F) ||
      in(cp, 0xFE20, 0xFE2F)) {
    return 0;
  }
  if (in(cp, 0x1100, 0x115F) || in(cp, 0x2E80, 0x303E) || in(cp, 0x3041, 0x33FF) ||
      in(cp, 0x3400, 0x4DBF) || in(cp, 0x4E00, 0x9FFF) || in(cp, 0xA000, 0xA4CF) ||
      in(cp, 0xAC00, 0xD7A3) || in(cp, 0xF900, 0xFAFF) || in(cp, 0xFE30, 0xFE4F) ||
      in(cp, 0xFF00, 0xFF60) || in(cp, 0xFFE0, 0xFFE6) || in(cp, 0x1F300, 0x1F64F) ||
      in(cp, 0x1F900, 0x1F9FF) || in(cp, 0x20000, 0x3FFFD)) {
    return 2;
  }
  return 1;
}

}  // namespace

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for_each_code_point(text, [&](char32_t, std::string_view bytes) { out += bytes; });
  return out;
}

std::string plain_text(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  bool after_cr = false;
  for_each_code_point(text, [&](char32_t cp, std::string_view bytes) {
    const bool was_cr = after_cr;
    after_cr = cp == '\r';
    if (cp == '\n' && was_cr) return;  // CR LF is one line break, already written
    if (cp == '\n' || cp == '\r') {
      out += keep_newlines ? '\n' : ' ';
    } else if (cp == '\t') {
      out += ' ';
    } else if (is_control(cp) || is_bidi_control(cp)) {
      append_utf8(out, kReplacement);
    } else {
      out += bytes;
    }
  });
  return out;
}

std::string json_quote(std::string_view text) {
  return nlohmann::json(valid_utf8(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {
std::string xml_escape(std::string_view text, bool attribute) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for_each_code_point(plain_text(text, true), [&](char32_t cp, std::string_view bytes) {
    switch (cp) {
      case '&':
        out += "&amp;";
        return;
      case '<':
        out += "&lt;";
        return;
      case '>':
        out += "&gt;";
        return;
      case '"':
        out += attribute ? "&quot;" : "\"";
        return;
      case '\'':
        out += attribute ? "&apos;" : "'";
        return;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        return;
      case 0xFFFE:
      case 0xFFFF:
        append_utf8(out, kReplacement);
        return;
      default:
        out += bytes;
    }
  });
  return out;
}
}  // namespace

std::string xml_text(std::string_view text) {
  return xml_escape(text, false);
}

std::string xml_attribute(std::string_view text) {
  return xml_escape(text, true);
}

namespace {
bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (static_cast<unsigned char>(c) >= 0x80);
}
}  // namespace

std::string markdown_text(std::string_view text) {
  const std::string clean = plain_text(text, true);
  std::string out;
  out.reserve(clean.size() + clean.size() / 4);
  // A leading "#", "+", "-", "=" or "12. " / "12) " would start a heading, list or setext line.
  std::size_t digits = 0;
  while (digits < clean.size() && clean[digits] >= '0' && clean[digits] <= '9') ++digits;
  std::size_t block_marker = std::string::npos;
  if (digits > 0 && digits <= 9 && digits < clean.size() &&
      (clean[digits] == '.' || clean[digits] == ')') &&
      (digits + 1 == clean.size() || clean[digits + 1] == ' ')) {
    block_marker = digits;
  } else if (!clean.empty() && std::string_view("#+-=").find(clean[0]) != std::string_view::npos) {
    block_marker = 0;
  }
  for (std::size_t i = 0; i < clean.size(); ++i) {
    const char c = clean[i];
    if (c == '\n') {
      out += "<br>";
      continue;
    }
    // An underscore between two word characters never starts emphasis (snake_case stays
    // readable where Markdown is not rendered); anywhere else it might.
    const bool intraword_underscore = c == '_' && i > 0 && i + 1 < clean.size() &&
                                      is_word_char(clean[i - 1]) && is_word_char(clean[i + 1]);
    if (i == block_marker || (!intraword_underscore &&
                              std::string_view("\\`*_[]<>|~&").find(c) != std::string_view::npos)) {
      out += '\\';
    }
    out += c;
  }
  return out;
}

std::string markdown_code(std::string_view text, bool in_table) {
  std::string content = plain_text(text, false);
  if (content.empty()) return {};
  std::size_t longest = 0, run = 0;
  for (const char c : content) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  // A GFM table splits cells before it parses code spans, reading "\\" and "\|" as pairs; a
  // pipe inside code cannot be escaped faithfully when a backslash precedes it, so such text is
  // written as escaped plain text instead.
  if (in_table && content.find('|') != std::string::npos) return markdown_text(content);
  // CommonMark strips one space on each side when both are present, so pad when the content
  // touches a backtick or is itself padded.
  const bool pad = content.front() == '`' || content.back() == '`' ||
                   (content.front() == ' ' && content.back() == ' ');
  const std::string fence(longest + 1, '`');
  return fence + (pad ? " " : "") + content + (pad ? " " : "") + fence;
}

std::string prometheus_label_value(std::string_view text) {
  std::string out;
  for (const char c : plain_text(text, true)) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string prometheus_help(std::string_view text) {
  std::string out;
  for (const char c : plain_text(text, true)) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  const std::string clean = plain_text(text, true);
  out.reserve(clean.size() + clean.size() / 8);
  for (const char c : clean) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for_each_code_point(text, [&](char32_t cp, std::string_view) { width += code_point_width(cp); });
  return width;
}

std::string truncate_to_width(std::string_view text, std::size_t width) {
  if (display_width(text) <= width) return std::string(text);
  std::string out;
  if (width == 0) return out;
  std::size_t used = 0;
  bool full = false;
  for_each_code_point(text, [&](char32_t cp, std::string_view bytes) {
    const std::size_t w = code_point_width(cp);
    if (full || used + w > width - 1) {
      full = true;
      return;
    }
    used += w;
    out += bytes;
  });
  return out + "…";
}

std::string truncate_middle(std::string_view text, std::size_t width) {
  if (display_width(text) <= width) return std::string(text);
  if (width < 3) return truncate_to_width(text, width);
  std::vector<std::pair<std::string_view, std::size_t>> points;  // bytes, columns
  for_each_code_point(text, [&](char32_t cp, std::string_view bytes) {
    points.emplace_back(bytes, code_point_width(cp));
  });
  const std::size_t budget = width - 1;  // the ellipsis takes one column
  const std::size_t tail_budget = budget / 2;
  const std::size_t head_budget = budget - tail_budget;
  std::string head, tail;
  std::size_t used = 0, i = 0;
  for (; i < points.size() && used + points[i].second <= head_budget; ++i) {
    head += points[i].first;
    used += points[i].second;
  }
  std::size_t j = points.size(), tail_used = 0;
  while (j > i && tail_used + points[j - 1].second <= tail_budget) {
    --j;
    tail_used += points[j].second;
  }
  for (std::size_t k = j; k < points.size(); ++k) tail += points[k].first;
  return head + "…" + tail;
}

}  // namespace gwprobe::reports
