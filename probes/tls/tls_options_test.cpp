// TLS options: version parsing and the up-front validation the CLI and profile loader use.
#include "probes/tls/tls_options.hpp"

#include <gtest/gtest.h>

namespace gwprobe::probes::tls {
namespace {

TEST(ParseMinVersion, AcceptsTheSpellingsPeopleUse) {
  for (const char* t : {"1.2", "TLSv1.2", "tls1.2", "TLS1.2"}) {
    auto v = parse_min_version(t);
    ASSERT_TRUE(v) << t;
    EXPECT_EQ(*v, MinVersion::tls1_2);
  }
  for (const char* t : {"1.3", "TLSv1.3"}) {
    auto v = parse_min_version(t);
    ASSERT_TRUE(v) << t;
    EXPECT_EQ(*v, MinVersion::tls1_3);
  }
  EXPECT_EQ(to_string(MinVersion::tls1_3), "1.3");
}

TEST(ParseMinVersion, RejectsVersionsTheGatewayCannotUse) {
  for (const char* t : {"1.1", "1.0", "", "2", "ssl3"}) {
    auto v = parse_min_version(t);
    ASSERT_FALSE(v) << t;
    EXPECT_EQ(v.error().kind, core::FailureKind::invalid_input);
    EXPECT_EQ(v.error().message,
              std::string("TLS minimum version '") + t + "': expected 1.2 or 1.3");
  }
}

TEST(ValidateTlsOptions, AcceptsTheDefaultsAndAPublicCloudProfile) {
  EXPECT_TRUE(validate(TlsOptions{}));
  TlsOptions o;
  o.expected_root_sha1 = {"DF3C24F9BFD666761B268073FE06D1CC8D4F82A4",
                          "73:a5:e6:4a:3b:ff:83:16:ff:0e:dc:cc:61:8a:90:6e:4e:ae:4d:74"};
  o.expected_root_sha256 = {"CB3CCBB76031E5E0138F8DD39A23F9DE47FFC35E43C1144CEA27D46A5AB1CB5F"};
  o.spki_pins = {"sha256//i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY="};
  o.servername = "relay.test";
  EXPECT_TRUE(validate(o));
}

TEST(ValidateTlsOptions, RejectsEachBadValueWithAOneLineReason) {
  struct Row {
    const char* name;
    TlsOptions options;
    const char* message;
  };
  std::vector<Row> rows;
  {
    TlsOptions o;
    o.expected_root_sha1 = {"1234"};
    rows.push_back(
        {"short sha1", o, "fingerprint '1234': expected a SHA-1 of 40 hex digits, got 4"});
  }
  {
    TlsOptions o;
    o.expected_root_sha256 = {"DF3C24F9BFD666761B268073FE06D1CC8D4F82A4"};
    rows.push_back({"sha1 given as sha256", o,
                    "fingerprint 'DF3C24F9BFD666761B268073FE06D1CC8D4F82A4': expected a SHA-256 "
                    "of 64 hex digits, got 40"});
  }
  {
    TlsOptions o;
    o.spki_pins = {"not-a-pin"};
    rows.push_back({"bad pin", o,
                    "SPKI pin 'not-a-pin': expected the base64 (44 characters) or hex (64 "
                    "digits) SHA-256 of a SubjectPublicKeyInfo"});
  }
  {
    TlsOptions o;
    o.expiry_warning_days = -1;
    rows.push_back({"negative warning", o, "expiry_warning_days -1: expected 0 to 3650"});
  }
  {
    TlsOptions o;
    o.servername = "bad name!";
    rows.push_back({"bad servername", o, "server name 'bad name!': expected a DNS name or an IP"});
  }
  {
    TlsOptions o;
    o.alpn = {""};
    rows.push_back({"empty alpn", o, "ALPN protocol '': expected 1 to 255 bytes"});
  }
  {
    TlsOptions o;
    o.use_system_store = false;
    rows.push_back({"trusts nothing", o,
                    "TLS options trust nothing: the system store is off and no CA file is given"});
  }
  for (const auto& r : rows) {
    auto v = validate(r.options);
    ASSERT_FALSE(v) << r.name;
    EXPECT_EQ(v.error().kind, core::FailureKind::invalid_input) << r.name;
    EXPECT_EQ(v.error().message, r.message) << r.name;
  }
}

}  // namespace
}  // namespace gwprobe::probes::tls
