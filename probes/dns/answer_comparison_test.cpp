#include "probes/dns/answer_comparison.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

namespace gwprobe::probes::dns {
namespace {
using core::Diagnosis;

Resolution addresses(std::initializer_list<const char*> list, std::vector<std::string> chain = {},
                     std::string server = "10.1.1.1:53") {
  Resolution r;
  for (const char* text : list) r.addresses.push_back(*IpAddress::parse(text));
  r.cname_chain = std::move(chain);
  r.server = std::move(server);
  return r;
}

Resolution failed(Diagnosis d, std::string error, std::string server = "10.1.1.1:53") {
  Resolution r;
  r.diagnosis = d;
  r.error = std::move(error);
  r.server = std::move(server);
  return r;
}

ResolverAnswer system(Resolution r) {
  return {"system resolver", std::move(r)};
}
ResolverAnswer reference(Resolution r, std::string server = "1.1.1.1:53") {
  r.server = std::move(server);
  return {"reference", std::move(r)};
}

DnsJudgement judge(std::vector<ResolverAnswer> answers, bool private_expected = false) {
  return judge_answers(answers, private_expected);
}

TEST(JudgeAnswers, MismatchWhenTheSystemSaysNxdomainAndAReferenceAnswersPublic) {
  const auto j = judge({system(failed(Diagnosis::dns_nxdomain, "NXDOMAIN (no such name)")),
                        reference(addresses({"40.1.2.3"}))});
  EXPECT_EQ(j.diagnosis, Diagnosis::dns_mismatch);
  EXPECT_EQ(j.message,
            "resolvers disagree: system resolver 10.1.1.1:53: NXDOMAIN (no such name); "
            "reference 1.1.1.1:53: 40.1.2.3");
}

TEST(JudgeAnswers, MismatchWhenTheSystemAnswersPrivateAndAReferencePublic) {
  const auto j = judge({system(addresses({"10.20.0.4"}, {"ns.privatelink.servicebus.windows.net"})),
                        reference(addresses({"40.1.2.3"}, {"ns.privatelink.servicebus.windows.net",
                                                           "ns-sb2-prod.cloudapp.net"}))});
  EXPECT_EQ(j.diagnosis, Diagnosis::dns_mismatch);
  EXPECT_NE(j.message.find("10.20.0.4 (RFC 1918 private)"), std::string::npos) << j.message;
}

TEST(JudgeAnswers, PrivateVersusPublicIsFineWhenPrivateAnswersAreExpected) {
  const auto j =
      judge({system(addresses({"10.20.0.4"})), reference(addresses({"40.1.2.3"}))}, true);
  EXPECT_EQ(j.diagnosis, Diagnosis::ok);
}

TEST(JudgeAnswers, MismatchWhenAReferenceSaysNxdomainForAPublicSystemAnswer) {
  const auto j = judge({system(addresses({"40.1.2.3"})),
                        reference(failed(Diagnosis::dns_nxdomain, "NXDOMAIN (no such name)"))});
  EXPECT_EQ(j.diagnosis, Diagnosis::dns_mismatch);
}

TEST(JudgeAnswers, MismatchWhenCnameChainsShareNoName) {
  const auto j = judge({system(addresses({"40.9.9.9"}, {"proxy.corp.example"})),
                        reference(addresses({"40.1.2.3"}, {"login.mso.msidentity.com"}))});
  EXPECT_EQ(j.diagnosis, Diagnosis::dns_mismatch);
  EXPECT_NE(j.message.find("CNAME targets differ"), std::string::npos) << j.message;
}

TEST(JudgeAnswers, AHostsFilePinAgainstAnAliasedPublicNameIsAMismatch) {
  Resolution pinned = addresses({"40.9.9.9"});
  pinned.source = AnswerSource::hosts_file;
  pinned.server = "/etc/hosts";
  const auto j = judge({system(pinned), reference(addresses({"40.1.2.3"}, {"edge.example.net"}))});
  EXPECT_EQ(j.diagnosis, Diagnosis::dns_mismatch);
  EXPECT_NE(j.message.find("system resolver (hosts file /etc/hosts): 40.9.9.9"), std::string::npos)
      << j.message;
}

TEST(JudgeAnswers, GeoDnsDifferencesBetweenPublicAnswersAreAFactNotAMismatch) {
  const auto j = judge(
      {system(addresses({"40.1.2.3"}, {"login.mso.msidentity.com", "eu.edge.example.net"})),
       reference(addresses({"20.7.7.7"}, {"login.mso.msidentity.com", "us.edge.example.net"}))});
  EXPECT_EQ(j.diagnosis, Diagnosis::ok);
  EXPECT_TRUE(j.geo_difference);
  EXPECT_NE(j.message.find("geo-DNS"), std::string::npos);

  const auto no_chains =
      judge({system(addresses({"40.1.2.3"})), reference(addresses({"20.7.7.7"}))});
  EXPECT_EQ(no_chains.diagnosis, Diagnosis::ok);
  EXPECT_TRUE(no_chains.geo_difference);
}

TEST(JudgeAnswers, AnUnreachableReferenceIsNotADisagreement) {
  const auto j =
      judge({system(addresses({"40.1.2.3"})),
             reference(failed(Diagnosis::dns_timeout, "timeout (no answer to any try)"))});
  EXPECT_EQ(j.diagnosis, Diagnosis::ok);
  EXPECT_NE(j.message.find("(not compared)"), std::string::npos) << j.message;
}

TEST(JudgeAnswers, AnUnavailableSystemResolverKeepsItsOwnCode) {
  for (auto d : {Diagnosis::dns_timeout, Diagnosis::dns_servfail, Diagnosis::dns_refused}) {
    const auto j = judge({system(failed(d, "failed")), reference(addresses({"40.1.2.3"}))});
    EXPECT_EQ(j.diagnosis, d) << core::to_code(d);
    EXPECT_NE(j.message.find("reference 1.1.1.1:53: 40.1.2.3"), std::string::npos);
  }
}

TEST(JudgeAnswers, AgreeingNegativeAnswersKeepTheSystemCode) {
  const auto j = judge({system(failed(Diagnosis::dns_nxdomain, "NXDOMAIN (no such name)")),
                        reference(failed(Diagnosis::dns_nodata, "NODATA"))});
  EXPECT_EQ(j.diagnosis, Diagnosis::dns_nxdomain);
}

TEST(JudgeAnswers, APrivateAnswerWithoutDisagreementIsPrivateAnswer) {
  for (const char* sinkhole : {"0.0.0.0", "127.0.0.1", "100.64.1.1", "169.254.1.1", "fd00::1"}) {
    const auto j = judge({system(addresses({sinkhole}))});
    EXPECT_EQ(j.diagnosis, Diagnosis::dns_private_answer) << sinkhole;
    EXPECT_EQ(j.message.rfind("private answer: system resolver 10.1.1.1:53: ", 0), 0u) << j.message;
  }
  EXPECT_EQ(judge({system(addresses({"10.0.0.1"}))}, true).diagnosis, Diagnosis::ok);
}

TEST(JudgeAnswers, AMixOfPublicAndPrivateAddressesCountsAsPrivate) {
  EXPECT_EQ(judge({system(addresses({"40.1.2.3", "10.0.0.1"}))}).diagnosis,
            Diagnosis::dns_private_answer);
}

TEST(JudgeAnswers, WithoutASystemResolverTheFirstReferenceIsPrimary) {
  const auto j = judge({reference(addresses({"40.1.2.3"}), "1.1.1.1:53"),
                        reference(failed(Diagnosis::dns_nxdomain, "NXDOMAIN"), "8.8.8.8:53")});
  EXPECT_EQ(j.diagnosis, Diagnosis::dns_mismatch);
  EXPECT_EQ(j.message.rfind("resolvers disagree: reference 1.1.1.1:53: 40.1.2.3; ", 0), 0u);
}

TEST(JudgeAnswers, CancellationWinsAndNoResolversIsAnError) {
  EXPECT_EQ(judge({system(addresses({"40.1.2.3"})),
                   reference(failed(Diagnosis::probe_cancelled, "cancelled"))})
                .diagnosis,
            Diagnosis::probe_cancelled);
  EXPECT_EQ(judge({}).diagnosis, Diagnosis::probe_error);
}

TEST(ResolverAnswerSummary, ShowsAddressesRangesChainAndElidesLongLists) {
  ResolverAnswer answer{"system resolver",
                        addresses({"10.0.0.1", "40.0.0.1", "40.0.0.2", "40.0.0.3", "40.0.0.4",
                                   "40.0.0.5", "40.0.0.6", "40.0.0.7"},
                                  {"a.example", "b.example"})};
  EXPECT_EQ(answer.summary(),
            "10.0.0.1 (RFC 1918 private), 40.0.0.1, 40.0.0.2, 40.0.0.3, 40.0.0.4, 40.0.0.5 "
            "+2 more (CNAME a.example -> b.example)");
  EXPECT_EQ(answer.label(), "system resolver 10.1.1.1:53");
}

}  // namespace
}  // namespace gwprobe::probes::dns
