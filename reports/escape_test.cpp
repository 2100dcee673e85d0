// Table tests for the escape helpers, and a seeded fuzz pass: whatever bytes come in, what goes
// out is valid for its format.
#include "reports/escape.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace gwprobe::reports {
namespace {

using namespace std::string_literals;
const std::string kFffd = "\xEF\xBF\xBD";

struct Case {
  std::string input;
  std::string expected;
};

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(ValidUtf8, KeepsWellFormedTextAndReplacesEachIllFormedSequence) {
  const Case cases[] = {
      {"plain ascii", "plain ascii"},
      {"naïve Straße 東京 😀", "naïve Straße 東京 😀"},
      {"\xff", kFffd},
      {"a\xc0\xaf"
       "b",
       "a" + repeat(kFffd, 2) + "b"},          // overlong "/"
      {"\xed\xa0\x80", repeat(kFffd, 3)},      // UTF-16 surrogate
      {"\xf4\x90\x80\x80", repeat(kFffd, 4)},  // above U+10FFFF
      {"\xe2\x82", kFffd},                     // truncated at the end
      {"\xe2\x82x", kFffd + "x"},              // truncated in the middle
      {"\x80\x80", repeat(kFffd, 2)},          // stray continuation bytes
      {"a\0b"s, "a\0b"s},                      // NUL is valid UTF-8
  };
  for (const auto& c : cases) EXPECT_EQ(valid_utf8(c.input), c.expected) << c.input;
}

TEST(PlainText, NeutralisesTerminalEscapesBidiOverridesAndControls) {
  const Case cases[] = {
      {"\x1b[31mred\x1b[0m", kFffd + "[31mred" + kFffd + "[0m"},
      {"bell\x07", "bell" + kFffd},
      {"\xc2\x9b"
       "2J",
       kFffd + "2J"},  // C1 CSI
      {"del\x7f", "del" + kFffd},
      {"abc\xe2\x80\xae"
       "def",
       "abc" + kFffd + "def"},  // RIGHT-TO-LEFT OVERRIDE
      {"a\0b"s, "a" + kFffd + "b"},
      {"a\tb", "a b"},
      {"l1\r\nl2\nl3\rl4", "l1 l2 l3 l4"},
  };
  for (const auto& c : cases) EXPECT_EQ(plain_text(c.input), c.expected) << c.input;
}

TEST(PlainText, KeepsLineBreaksWhenAskedAndNormalisesThemToLf) {
  EXPECT_EQ(plain_text("l1\r\nl2\nl3\rl4", true), "l1\nl2\nl3\nl4");
}

TEST(JsonQuote, EscapesQuotesBackslashesAndControlsAndRoundTrips) {
  const std::string hostile = "\"q\" \\ \n \x01 \xff </script>";
  const std::string quoted = json_quote(hostile);
  EXPECT_EQ(quoted, "\"\\\"q\\\" \\\\ \\n \\u0001 " + kFffd + " </script>\"");
  EXPECT_EQ(nlohmann::json::parse(quoted).get<std::string>(), valid_utf8(hostile));
}

TEST(XmlText, EscapesMarkupAndTheCdataTerminatorAndDropsForbiddenCharacters) {
  const Case cases[] = {
      {"<a href='x'>&</a> ]]>", "&lt;a href='x'&gt;&amp;&lt;/a&gt; ]]&gt;"},
      {"\x01\x0b\x0c", repeat(kFffd, 3)},
      {"\xef\xbf\xbe\xef\xbf\xbf", repeat(kFffd, 2)},  // U+FFFE, U+FFFF are not XML characters
      {"line1\nline2", "line1\nline2"},
      {"\"quoted\"", "\"quoted\""},
  };
  for (const auto& c : cases) EXPECT_EQ(xml_text(c.input), c.expected) << c.input;
}

TEST(XmlAttribute, EscapesQuotesAndKeepsLineBreaksAsReferences) {
  EXPECT_EQ(xml_attribute("\"'<>&\nx"), "&quot;&apos;&lt;&gt;&amp;&#10;x");
}

TEST(MarkdownText, EscapesWhatMarkdownWouldInterpretAndLeavesOrdinaryTextReadable) {
  const Case cases[] = {
      {"a|b", "a\\|b"},
      {"line1\nline2", "line1<br>line2"},
      {"<script>alert(1)</script>", "\\<script\\>alert(1)\\</script\\>"},
      {"# title", "\\# title"},
      {"- item", "\\- item"},
      {"1. item", "1\\. item"},
      {"10.0.0.53 answered", "10.0.0.53 answered"},
      {"tls_version HTTPS_PROXY", "tls_version HTTPS_PROXY"},
      {"_em_ and *strong*", "\\_em\\_ and \\*strong\\*"},
      {"[link](http://x)", "\\[link\\](http://x)"},
      {"R&D ~~gone~~", "R\\&D \\~\\~gone\\~\\~"},
      {"`code` \\", "\\`code\\` \\\\"},
      {"\x1b[2J", kFffd + "\\[2J"},
  };
  for (const auto& c : cases) EXPECT_EQ(markdown_text(c.input), c.expected) << c.input;
}

TEST(MarkdownCode, PicksAFenceLongerThanAnyBacktickRunInside) {
  EXPECT_EQ(markdown_code("x", false), "`x`");
  EXPECT_EQ(markdown_code("a`b", false), "``a`b``");
  EXPECT_EQ(markdown_code("`a", false), "`` `a ``");
  EXPECT_EQ(markdown_code("l1\nl2", false), "`l1 l2`");
  EXPECT_EQ(markdown_code("", true), "");
}

TEST(MarkdownCode, FallsBackToEscapedTextForPipesInsideTables) {
  EXPECT_EQ(markdown_code("a|b", true), "a\\|b");
  EXPECT_EQ(markdown_code("a\\|b", true), "a\\\\\\|b");
  EXPECT_EQ(markdown_code("a|b", false), "`a|b`");
}

TEST(PrometheusLabelValue, EscapesBackslashQuoteAndNewlineAndReplacesOtherControls) {
  EXPECT_EQ(prometheus_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(prometheus_label_value("\xff\x1b"), kFffd + kFffd);
}

TEST(PrometheusHelp, EscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(prometheus_help("a\\b\nc\""), "a\\\\b\\nc\"");
}

TEST(HtmlEscape, EscapesEveryMarkupCharacterForTextAndAttributes) {
  EXPECT_EQ(html_escape("</script><img onerror=\"x\">&'"),
            "&lt;/script&gt;&lt;img onerror=&quot;x&quot;&gt;&amp;&#39;");
  EXPECT_EQ(html_escape("\x1b\xe2\x80\xae"), kFffd + kFffd);
}

TEST(DisplayWidth, CountsWideCharactersTwiceAndCombiningMarksNotAtAll) {
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("東京"), 4u);
  EXPECT_EQ(display_width("e\xcc\x81"), 1u);  // e + COMBINING ACUTE ACCENT
  EXPECT_EQ(display_width("😀"), 2u);
  EXPECT_EQ(display_width("850 µs"), 6u);
}

TEST(Truncate, CutsAtTheEndOrInTheMiddleWithoutSplittingCharacters) {
  EXPECT_EQ(truncate_to_width("abc", 3), "abc");
  EXPECT_EQ(truncate_to_width("abcdef", 4), "abc…");
  EXPECT_EQ(truncate_to_width("東京abc", 3), "東…");
  EXPECT_EQ(truncate_middle("abcdefghij", 5), "ab…ij");
  EXPECT_EQ(truncate_middle("host.example:9350", 17), "host.example:9350");
  EXPECT_EQ(truncate_middle("東京東京東京", 7), "東…京");
}

/// Seeded random byte strings, biased towards the bytes that matter (markup, escapes, UTF-8
/// lead and continuation bytes): every helper must still produce valid output for its format.
class EscapeFuzz : public ::testing::Test {
 protected:
  std::vector<std::string> inputs() {
    std::mt19937 rng(20240514);  // fixed: failures reproduce
    const std::string interesting = "<>&\"'|`*_[]\\\n\r\t\x1b\x07\x7f]]>#-";
    std::vector<std::string> out;
    for (int n = 0; n < 2000; ++n) {
      std::string s;
      const int len = static_cast<int>(rng() % 24);
      for (int i = 0; i < len; ++i) {
        const unsigned pick = rng() % 4;
        if (pick == 0) {
          s += interesting[rng() % interesting.size()];
        } else if (pick == 1) {
          s += static_cast<char>(0x80 + rng() % 0x80);  // UTF-8 lead/continuation territory
        } else {
          s += static_cast<char>(rng() % 0x80);
        }
      }
      out.push_back(s);
    }
    return out;
  }
};

/// Input bytes in hex, so a failing fuzz case can be read and turned into a table row.
std::string hex(const std::string& s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += "\\x";
    out += kDigits[u >> 4];
    out += kDigits[u & 15];
  }
  return out;
}

bool has_control(const std::string& s, std::string_view allowed) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 || u == 0x7f) && allowed.find(c) == std::string_view::npos) return true;
  }
  return false;
}

TEST_F(EscapeFuzz, EveryHelperProducesValidUtf8WithoutRawControls) {
  for (const auto& in : inputs()) {
    for (const std::string& out :
         {plain_text(in), xml_attribute(in), markdown_text(in), markdown_code(in, true),
          prometheus_label_value(in), prometheus_help(in)}) {
      ASSERT_EQ(valid_utf8(out), out) << hex(in);
      ASSERT_FALSE(has_control(out, "")) << hex(in) << " -> " << hex(out);
    }
    for (const std::string& out : {xml_text(in), html_escape(in)}) {  // line breaks are text
      ASSERT_EQ(valid_utf8(out), out) << hex(in);
      ASSERT_FALSE(has_control(out, "\n")) << hex(in) << " -> " << hex(out);
    }
  }
}

TEST_F(EscapeFuzz, MarkupNeverSurvivesEscaping) {
  for (const auto& in : inputs()) {
    const std::string xml = xml_text(in), html = html_escape(in), attr = xml_attribute(in);
    ASSERT_EQ(xml.find('<'), std::string::npos) << hex(in);
    ASSERT_EQ(xml.find("]]>"), std::string::npos) << hex(in);
    ASSERT_EQ(html.find_first_of("<>\"'"), std::string::npos) << hex(in);
    ASSERT_EQ(attr.find_first_of("<\"'"), std::string::npos) << hex(in);
    ASSERT_NO_THROW(nlohmann::json::parse(json_quote(in))) << hex(in);
  }
}

TEST_F(EscapeFuzz, TableAndLabelSeparatorsAreAlwaysEscaped) {
  auto unescaped = [](const std::string& s, char c) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != c) continue;
      std::size_t backslashes = 0;
      for (std::size_t j = i; j > 0 && s[j - 1] == '\\'; --j) ++backslashes;
      if (backslashes % 2 == 0) return true;
    }
    return false;
  };
  for (const auto& in : inputs()) {
    ASSERT_FALSE(unescaped(markdown_text(in), '|')) << hex(in) << " -> " << markdown_text(in);
    ASSERT_FALSE(unescaped(markdown_code(in, true), '|')) << hex(in);
    ASSERT_FALSE(unescaped(prometheus_label_value(in), '"')) << hex(in);
  }
}

}  // namespace
}  // namespace gwprobe::reports
