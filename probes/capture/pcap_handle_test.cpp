#include "probes/capture/pcap_handle.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "probes/capture/packet.hpp"
#include "probes/capture/packet_builder.hpp"

namespace gwprobe::probes::capture {
namespace {

using core::FailureKind;
using ::testing::HasSubstr;

TEST(FromPcap, MapsEveryLibpcapStatusToAKindAndKeepsTheNameAndTextAsTheCause) {
  struct Row {
    int code;
    FailureKind kind;
    const char* name;
  };
  const Row rows[] = {
      {PCAP_ERROR, FailureKind::io, "PCAP_ERROR"},
      {PCAP_ERROR_BREAK, FailureKind::cancelled, "PCAP_ERROR_BREAK"},
      {PCAP_ERROR_NOT_ACTIVATED, FailureKind::internal, "PCAP_ERROR_NOT_ACTIVATED"},
      {PCAP_ERROR_ACTIVATED, FailureKind::internal, "PCAP_ERROR_ACTIVATED"},
      {PCAP_ERROR_NO_SUCH_DEVICE, FailureKind::not_found, "PCAP_ERROR_NO_SUCH_DEVICE"},
      {PCAP_ERROR_RFMON_NOTSUP, FailureKind::unsupported, "PCAP_ERROR_RFMON_NOTSUP"},
      {PCAP_ERROR_NOT_RFMON, FailureKind::unsupported, "PCAP_ERROR_NOT_RFMON"},
      {PCAP_ERROR_PERM_DENIED, FailureKind::auth, "PCAP_ERROR_PERM_DENIED"},
      {PCAP_ERROR_IFACE_NOT_UP, FailureKind::network, "PCAP_ERROR_IFACE_NOT_UP"},
      {PCAP_ERROR_CANTSET_TSTAMP_TYPE, FailureKind::unsupported, "PCAP_ERROR_CANTSET_TSTAMP_TYPE"},
      {PCAP_ERROR_PROMISC_PERM_DENIED, FailureKind::auth, "PCAP_ERROR_PROMISC_PERM_DENIED"},
      {PCAP_ERROR_TSTAMP_PRECISION_NOTSUP, FailureKind::unsupported,
       "PCAP_ERROR_TSTAMP_PRECISION_NOTSUP"},
      {PCAP_WARNING, FailureKind::unsupported, "PCAP_WARNING"},
      {PCAP_WARNING_PROMISC_NOTSUP, FailureKind::unsupported, "PCAP_WARNING_PROMISC_NOTSUP"},
      {PCAP_WARNING_TSTAMP_TYPE_NOTSUP, FailureKind::unsupported,
       "PCAP_WARNING_TSTAMP_TYPE_NOTSUP"},
  };
  for (const auto& row : rows) {
    const auto e = from_pcap(row.code, "socket: Operation not permitted");
    EXPECT_EQ(e.kind, row.kind) << row.name;
    EXPECT_EQ(e.cause, std::string(row.name) + ": socket: Operation not permitted");
    EXPECT_FALSE(e.message.empty()) << row.name;
    EXPECT_EQ(e.message.find('\n'), std::string::npos) << row.name;
  }
  const auto unknown = from_pcap(-99);
  EXPECT_EQ(unknown.kind, FailureKind::internal);
  EXPECT_EQ(unknown.cause, "libpcap status -99");
}

TEST(FromPcap, PermissionDeniedSaysWhatPrivilegeIsMissingAndThatTheRunGoesOn) {
  const auto e = from_pcap(PCAP_ERROR_PERM_DENIED);
  EXPECT_THAT(e.message, HasSubstr("root or the CAP_NET_RAW capability"));
  EXPECT_THAT(e.message, HasSubstr("continuing without capture"));
  EXPECT_EQ(e.cause, "PCAP_ERROR_PERM_DENIED");
}

TEST(PcapHandle, RejectsAnInvalidFilterWithLibpcapsReason) {
  auto dead = PcapHandle::open_dead(dlt_of(LinkType::ethernet), 65535);
  ASSERT_TRUE(dead);
  EXPECT_TRUE(dead->check_filter("tcp port 443"));
  auto bad = dead->check_filter("tcp port seventy");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, FailureKind::invalid_input);
  EXPECT_THAT(bad.error().message, HasSubstr("invalid capture filter"));
  EXPECT_FALSE(bad.error().cause.empty());
}

TEST(PcapDumper, WritesAFileThatLibpcapReadsBackWithTheSameFrames) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("gwprobe-pcap-dumper-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "out.pcap";
  auto dead = PcapHandle::open_dead(dlt_of(LinkType::linux_sll2), 65535);
  ASSERT_TRUE(dead);
  auto dumper = PcapDumper::open(*dead, file);
  ASSERT_TRUE(dumper) << dumper.error().describe();
  const auto syn =
      build::frame(LinkType::linux_sll2,
                   build::tcp_packet(*Endpoint::parse("10.0.0.1:1"), *Endpoint::parse("10.0.0.2:2"),
                                     {.flags = tcp_flag::syn}));
  for (int i = 0; i < 3; ++i) {
    pcap_pkthdr header{};
    header.ts.tv_sec = 1000 + i;
    header.caplen = header.len = static_cast<bpf_u_int32>(syn.size());
    dumper->write(header, syn.data());
  }
  EXPECT_EQ(dumper->position(), 24 + 3 * (16 + static_cast<std::int64_t>(syn.size())));
  ASSERT_TRUE(dumper->close());

  auto reader = PcapHandle::open_offline(file);
  ASSERT_TRUE(reader) << reader.error().describe();
  EXPECT_EQ(link_type_from_dlt(reader->datalink()), LinkType::linux_sll2);
  int count = 0;
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(reader->get(), &header, &data) == 1) {
    ++count;
    auto d = decode_packet(LinkType::linux_sll2, {data, header->caplen});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->tcp->destination_port, 2);
  }
  EXPECT_EQ(count, 3);
  std::filesystem::remove_all(dir);
}

TEST(PcapDumper, AnUnwritablePathIsAnIoErrorNamingThePath) {
  auto dead = PcapHandle::open_dead(dlt_of(LinkType::ethernet), 65535);
  ASSERT_TRUE(dead);
  auto dumper = PcapDumper::open(*dead, "/nonexistent-dir/x.pcap");
  ASSERT_FALSE(dumper);
  EXPECT_EQ(dumper.error().kind, FailureKind::io);
  EXPECT_THAT(dumper.error().message, HasSubstr("/nonexistent-dir/x.pcap"));
}

}  // namespace
}  // namespace gwprobe::probes::capture
