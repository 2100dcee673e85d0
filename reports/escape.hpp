// Escaping for every report format: whatever a peer or a probe put into a string, the output stays
// valid for its format and cannot smuggle markup, terminal control sequences or bidi spoofing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gwprobe::reports {

/// The text as valid UTF-8: every byte that is not part of a well-formed sequence (stray
/// continuation bytes, truncated sequences, overlong forms, surrogates, > U+10FFFF) becomes
/// U+FFFD. Everything else passes through unchanged.
std::string valid_utf8(std::string_view text);

/// Text that is safe to print on a terminal or paste into chat: valid UTF-8; control characters
/// (C0, DEL, C1 — so no ANSI escape sequence survives) and bidi overrides (Trojan-Source style
/// reordering) become U+FFFD; tabs become a space; newlines become a space unless
/// `keep_newlines` (then CR LF and CR become LF).
std::string plain_text(std::string_view text, bool keep_newlines = false);

/// A JSON string literal, quotes included (nlohmann's escaping of valid_utf8(text)).
std::string json_quote(std::string_view text);

/// XML character data: `& < >` escaped (so `]]>` cannot appear), characters XML 1.0 forbids
/// (most C0 controls, U+FFFE, U+FFFF) and C1/bidi controls become U+FFFD; newlines kept.
std::string xml_text(std::string_view text);
/// An XML attribute value for a "..." attribute: as xml_text plus `"` and `'`, and tab, CR and
/// LF as character references so that attribute normalisation does not eat them.
std::string xml_attribute(std::string_view text);

/// Inline Markdown text (GitHub, Azure DevOps; reads as plain text in ServiceNow): one line, safe
/// in a table cell and in a list item. Markdown punctuation is backslash-escaped (`\ ` * _ [ ] <
/// > | ~ &`; an underscore inside a word is left alone, CommonMark never reads it as emphasis),
/// a leading `#`, `+`, `-`, `=` or "1. " cannot start a block, newlines become `<br>`.
std::string markdown_text(std::string_view text);
/// An inline code span around the text (fence longer than any backtick run inside, newlines as
/// spaces). With `in_table`, text containing `|` comes back as markdown_text() instead: GFM
/// splits table cells before it reads code spans. Empty text gives an empty string.
std::string markdown_code(std::string_view text, bool in_table);

/// A Prometheus text-format (0.0.4) label value, without the quotes: `\` `"` and newline escaped,
/// other control characters replaced, valid UTF-8.
std::string prometheus_label_value(std::string_view text);
/// A Prometheus HELP docstring: `\` and newline escaped, valid UTF-8.
std::string prometheus_help(std::string_view text);

/// HTML text or attribute value (double- or single-quoted): `& < > " '` as entities, control and
/// bidi characters replaced, valid UTF-8. Safe inside elements, attributes and SVG text.
std::string html_escape(std::string_view text);

/// Columns a terminal uses for the (valid UTF-8) text: 2 for East Asian wide and emoji, 0 for
/// combining marks, 1 otherwise.
std::size_t display_width(std::string_view text);

/// The longest prefix of plain one-line text that fits `width` columns, with "…" appended when
/// anything was cut. Never splits a UTF-8 sequence.
std::string truncate_to_width(std::string_view text, std::size_t width);
/// The same, but cut in the middle ("contoso-relay.serv…windows.net:9350"), for names whose end
/// (a port, a path) matters as much as their start.
std::string truncate_middle(std::string_view text, std::size_t width);

}  // namespace gwprobe::reports
