// HTML report: a self-contained page (no script, nothing fetched), one row per check, one waterfall
// per endpoint; and, when Chromium is installed, the page as a browser really parses and draws it.
#include <gtest/gtest.h>

#include <regex>

#include "reports/report_writer.hpp"
#include "reports/testdata/test_support.hpp"
#include "tests/fixtures/subprocess.hpp"

namespace gwprobe::reports {
namespace {

std::string html(const core::RunReport& report) {
  return render_report(ReportFormat::html, report);
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

/// The <section> of the endpoint whose heading is `title`.
std::string section(const std::string& page, const std::string& title) {
  const auto start = page.find("<h2><span>" + title + "</span>");
  if (start == std::string::npos) return {};
  return page.substr(start, page.find("</section>", start) - start);
}

TEST(HtmlReport, IsOneSelfContainedPageThatLoadsAndRunsNothing) {
  for (const auto& report : {testdata::sample_report(), testdata::hostile_report()}) {
    const std::string page = html(report);
    EXPECT_EQ(page.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0), 0u);
    EXPECT_NE(page.find("content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\""),
              std::string::npos);
    EXPECT_EQ(page.find("<script"), std::string::npos);
    EXPECT_EQ(page.find(" src="), std::string::npos);
    EXPECT_EQ(page.find("url("), std::string::npos);
    EXPECT_EQ(page.find("@import"), std::string::npos);
    const std::regex href(R"re(href="([^"]*)")re");
    for (auto it = std::sregex_iterator(page.begin(), page.end(), href);
         it != std::sregex_iterator(); ++it) {
      EXPECT_TRUE(std::regex_match((*it)[1].str(), std::regex("#check-[0-9]+"))) << (*it)[1];
    }
  }
}

TEST(HtmlReport, ShowsTheVerdictInTheBannerAndTheTitle) {
  const std::string page = html(testdata::sample_report());
  EXPECT_NE(page.find("<title>gwprobe: NOT READY · contoso</title>"), std::string::npos);
  EXPECT_NE(page.find("<header class=\"banner not_ready\">\n<div><div class=\"verdict\">NOT "
                      "READY</div><div class=\"tally\">4 failed · 2 warnings · 1 error · 6 "
                      "passed · 1 skipped</div>"),
            std::string::npos);
  EXPECT_NE(html(testdata::ready_report()).find("<header class=\"banner ready\">"),
            std::string::npos);
}

TEST(HtmlReport, HasOneRowPerCheckAndOneWaterfallPerEndpoint) {
  const std::string page = html(testdata::sample_report());
  EXPECT_EQ(count(page, "<tr class=\"check "), 14u);
  EXPECT_EQ(count(page, "<svg class=\"waterfall\""), 5u);
  EXPECT_EQ(count(page, "<section class=\"card endpoint\">"), 5u);
  EXPECT_NE(page.find("<tr class=\"check fail\" id=\"check-2\" data-status=\"fail\">"),
            std::string::npos);
}

TEST(HtmlReport, DrawsPhasesInConnectionOrderOnTheEndpointsTimeAxis) {
  const std::string login = section(html(testdata::sample_report()), "login.microsoftonline.com");
  ASSERT_FALSE(login.empty());
  const auto connect = login.find("<rect class=\"ph-connect\" x=\"310.0\"");
  const auto tls = login.find("<rect class=\"ph-tls\"");
  ASSERT_NE(connect, std::string::npos);
  ASSERT_NE(tls, std::string::npos);
  EXPECT_LT(connect, tls);
  EXPECT_NE(login.find("<title>tls: 43 ms</title>"), std::string::npos);
  EXPECT_NE(login.find(">80 ms</text>"), std::string::npos);  // a 1-2-5 axis up to 80 ms
  const std::string relay = section(html(testdata::sample_report()), "*.servicebus.windows.net");
  EXPECT_NE(relay.find(">4 min</text>"), std::string::npos);  // the idle check sets minutes
  EXPECT_NE(relay.find("<rect class=\"rest-fail\""), std::string::npos);
}

TEST(HtmlReport, ShowsFindingsWithAdviceAndLinksToTheirChecks) {
  const std::string page = html(testdata::sample_report());
  EXPECT_NE(page.find("<div class=\"finding fail\"><div><span class=\"code mono\">TLS_INTERCEPTED"
                      "</span>TLS inspection by &quot;Contoso TLS Inspection CA&quot; re-signs "
                      "login.microsoftonline.com</div><p class=\"advice\"><b>What to change:</b> "
                      "Exclude"),
            std::string::npos);
  EXPECT_NE(page.find("<a href=\"#check-2\"><code>tls:login.microsoftonline.com:443</code></a>"),
            std::string::npos);
}

TEST(HtmlReport, KeepsFactsInCollapsedDetails) {
  const std::string login = section(html(testdata::sample_report()), "login.microsoftonline.com");
  EXPECT_NE(login.find("<details class=\"facts\"><summary>Facts (8)</summary>"), std::string::npos);
  EXPECT_NE(login.find("<code>203.0.113.10</code><br><code>203.0.113.11</code>"),
            std::string::npos);
}

TEST(HtmlReport, EscapesHostileTextEverywhere) {
  const std::string page = html(testdata::hostile_report());
  EXPECT_NE(page.find("&lt;/script&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
                      "&lt;b&gt;bold&lt;/b&gt;"),
            std::string::npos);
  EXPECT_EQ(page.find("<b>bold"), std::string::npos);
  EXPECT_EQ(page.find('\x1b'), std::string::npos);
}

TEST(HtmlReport, SaysWhenNothingRan) {
  const std::string page = html(testdata::empty_report());
  EXPECT_NE(page.find("No checks were run."), std::string::npos);
  EXPECT_NE(page.find("<b>Interrupted:</b>"), std::string::npos);
  EXPECT_EQ(page.find("<svg"), std::string::npos);
}

/// Renders the sample report in headless Chromium: the DOM it builds and the picture it draws.
/// Chromium gets a fresh profile and HOME, no DNS (every name maps to NOTFOUND) and a dead
/// loopback proxy, so nothing it might try to fetch leaves the machine.
class HtmlInChromium : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = testdata::find_tool("/usr/bin/chromium");
    if (chromium_.empty()) {
      GTEST_SKIP() << "SKIPPED LOUDLY: /usr/bin/chromium is not installed (Debian package "
                      "chromium; scripts/setup.sh installs it), so the HTML report was not "
                      "rendered in a browser in this run";
    }
    page_ = dir_.file("report.html");
    testdata::write_file(page_, html(testdata::sample_report()));
  }

  testing::ProcessResult run(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {chromium_,
                                     "--headless",
                                     "--no-sandbox",
                                     "--disable-gpu",
                                     "--disable-quic",
                                     "--no-first-run",
                                     "--disable-background-networking",
                                     "--disable-component-update",
                                     "--disable-sync",
                                     "--disable-extensions",
                                     "--disable-breakpad",
                                     "--host-resolver-rules=MAP * ~NOTFOUND",
                                     "--proxy-server=127.0.0.1:9",
                                     "--user-data-dir=" + dir_.file("profile"),
                                     "--window-size=1200,1600"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("file://" + page_);
    testing::ProcessOptions options;
    options.timeout = std::chrono::seconds(90);
    options.env = {{"HOME", dir_.path().string()},
                   {"XDG_CONFIG_HOME", dir_.file("config")},
                   {"XDG_CACHE_HOME", dir_.file("cache")}};
    return testing::run_process(argv, options);
  }

  std::string chromium_;
  testdata::TempDir dir_;
  std::string page_;
};

TEST_F(HtmlInChromium, BuildsTheExpectedDom) {
  const auto r = run({"--dump-dom"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(r.timed_out);
  const std::string& dom = r.out;
  EXPECT_NE(dom.find("<div class=\"verdict\">NOT READY</div>"), std::string::npos) << dom;
  EXPECT_EQ(count(dom, "<tr class=\"check "), 14u);
  EXPECT_EQ(count(dom, "<svg class=\"waterfall\""), 5u);
  EXPECT_EQ(count(dom, "<rect class=\"ph-"), 19u);    // one per recorded phase
  EXPECT_EQ(dom.find("<script"), std::string::npos);  // the hostile text stayed text
  EXPECT_NE(dom.find("&lt;/script&gt;&lt;script&gt;"), std::string::npos);
}

TEST_F(HtmlInChromium, DrawsANonTrivialScreenshot) {
  const std::string png = dir_.file("report.png");
  const auto r = run({"--screenshot=" + png});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string data = testdata::read_file(png);
  ASSERT_GT(data.size(), 24u) << "no screenshot written: " << r.err;
  EXPECT_EQ(data.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto be32 = [&](std::size_t at) {
    return (static_cast<unsigned>(static_cast<unsigned char>(data[at])) << 24) |
           (static_cast<unsigned>(static_cast<unsigned char>(data[at + 1])) << 16) |
           (static_cast<unsigned>(static_cast<unsigned char>(data[at + 2])) << 8) |
           static_cast<unsigned>(static_cast<unsigned char>(data[at + 3]));
  };
  EXPECT_EQ(data.substr(12, 4), "IHDR");
  EXPECT_EQ(be32(16), 1200u);
  EXPECT_EQ(be32(20), 1600u);
  // A blank 1200x1600 page compresses to a few kilobytes; the banner, tables and charts do not.
  EXPECT_GT(data.size(), 50'000u);
}

}  // namespace
}  // namespace gwprobe::reports
