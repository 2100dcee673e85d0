// libpcap, opened on first use (core/shared_library.hpp: it pulls D-Bus and systemd into every
// process otherwise); PcapHandle and PcapDumper, RAII for its handles; and from_pcap(), the one
// place libpcap's status codes become gwprobe errors. Internal to probes/capture (includes pcap.h).
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace gwprobe::probes::capture {

/// The libpcap functions gwprobe uses, named as in libpcap without the pcap_ prefix.
struct LibpcapApi {
  decltype(&::pcap_activate) activate = nullptr;
  decltype(&::pcap_close) close = nullptr;
  decltype(&::pcap_compile) compile = nullptr;
  decltype(&::pcap_create) create = nullptr;
  decltype(&::pcap_datalink) datalink = nullptr;
  decltype(&::pcap_dispatch) dispatch = nullptr;
  decltype(&::pcap_dump) dump = nullptr;
  decltype(&::pcap_dump_close) dump_close = nullptr;
  decltype(&::pcap_dump_file) dump_file = nullptr;
  decltype(&::pcap_dump_flush) dump_flush = nullptr;
  decltype(&::pcap_dump_ftell64) dump_ftell64 = nullptr;
  decltype(&::pcap_dump_open) dump_open = nullptr;
  decltype(&::pcap_freecode) freecode = nullptr;
  decltype(&::pcap_get_selectable_fd) get_selectable_fd = nullptr;
  decltype(&::pcap_geterr) geterr = nullptr;
  decltype(&::pcap_open_dead) open_dead = nullptr;
  decltype(&::pcap_open_offline) open_offline = nullptr;
  decltype(&::pcap_set_buffer_size) set_buffer_size = nullptr;
  decltype(&::pcap_set_datalink) set_datalink = nullptr;
  decltype(&::pcap_set_immediate_mode) set_immediate_mode = nullptr;
  decltype(&::pcap_set_promisc) set_promisc = nullptr;
  decltype(&::pcap_set_snaplen) set_snaplen = nullptr;
  decltype(&::pcap_setfilter) setfilter = nullptr;
  decltype(&::pcap_setnonblock) setnonblock = nullptr;
  decltype(&::pcap_stats) stats = nullptr;
};

/// Opens libpcap once per process (thread-safe): the table, or why it cannot be used (not
/// installed, too old), the same answer on every call. PcapHandle's constructors call it.
const core::Result<const LibpcapApi*>& load_libpcap();

/// The table load_libpcap() returned; only call after it succeeded (aborts otherwise).
const LibpcapApi& libpcap();

/// Maps a libpcap status (pcap_activate(), pcap_setfilter(), pcap_dispatch(): PCAP_ERROR_*,
/// PCAP_WARNING_*) to an Error. `detail` is libpcap's own text (pcap_geterr / errbuf), kept as
/// the cause. PCAP_ERROR_PERM_DENIED becomes FailureKind::auth with the privilege advice.
core::Error from_pcap(int code, std::string_view detail = {});

/// How to open a live capture.
struct LiveCaptureOptions {
  std::string interface;       ///< "lo", "eth0", or "any"
  int snaplen = 65535;         ///< bytes kept per packet
  int buffer_bytes = 4 << 20;  ///< kernel ring size
};

/// Owns a pcap_t. Move-only; closes on destruction.
class PcapHandle {
 public:
  /// pcap_create + immediate mode (without it TPACKET_V3 holds packets for a block timeout, and a
  /// capture stopped soon after a failure can come back empty) + snaplen + buffer +
  /// pcap_activate + non-blocking mode (the reader polls the selectable fd).
  static core::Result<PcapHandle> open_live(const LiveCaptureOptions& options);
  /// A handle with no interface, to compile filters or to write a file (pcap_open_dead).
  static core::Result<PcapHandle> open_dead(int dlt, int snaplen);
  /// A saved capture file, for reading it back.
  static core::Result<PcapHandle> open_offline(const std::filesystem::path& file);
  // Each fails with load_libpcap()'s error (kind unsupported) when libpcap cannot be opened.

  pcap_t* get() const noexcept { return handle_.get(); }
  int datalink() const noexcept;
  /// For poll(); -1 when the platform has none.
  int selectable_fd() const noexcept;
  /// Compiles and installs a BPF filter; invalid_input with libpcap's text on a syntax error.
  core::Result<void> set_filter(std::string_view expression);
  /// Compiles a filter without installing it (to validate one).
  core::Result<void> check_filter(std::string_view expression) const;
  /// Packets the kernel dropped because the reader fell behind (pcap_stats), 0 if unknown.
  std::uint64_t kernel_drops() const noexcept;

 private:
  struct Close {
    void operator()(pcap_t* p) const noexcept { libpcap().close(p); }
  };
  explicit PcapHandle(pcap_t* p) : handle_(p) {}
  std::unique_ptr<pcap_t, Close> handle_;
};

/// Owns a pcap_dumper_t: a pcap file Wireshark and tcpdump read.
class PcapDumper {
 public:
  /// Creates (or truncates) `file` with the link type and snap length of `handle`.
  static core::Result<PcapDumper> open(const PcapHandle& handle, const std::filesystem::path& file);

  void write(const pcap_pkthdr& header, const std::uint8_t* bytes) noexcept;
  /// Bytes in the file so far, buffered ones included.
  std::int64_t position() const noexcept;
  /// Flushes and closes; reports a write error (disk full) that stdio kept until now.
  core::Result<void> close();

 private:
  struct Close {
    void operator()(pcap_dumper_t* d) const noexcept { libpcap().dump_close(d); }
  };
  explicit PcapDumper(pcap_dumper_t* d) : dumper_(d) {}
  std::unique_ptr<pcap_dumper_t, Close> dumper_;
};

}  // namespace gwprobe::probes::capture
