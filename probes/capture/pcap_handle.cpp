// libpcap wrappers and its error mapping.
#include "probes/capture/pcap_handle.hpp"

#include <cstdio>
#include <utility>

#include "core/shared_library.hpp"

namespace gwprobe::probes::capture {

namespace {

using core::FailureKind;

struct PcapCode {
  int code;
  FailureKind kind;
  std::string_view name;
  std::string_view message;
};

// One row per libpcap status (pcap/pcap.h, libpcap 1.10).
constexpr PcapCode kCodes[] = {
    {PCAP_ERROR, FailureKind::io, "PCAP_ERROR", "packet capture failed"},
    {PCAP_ERROR_BREAK, FailureKind::cancelled, "PCAP_ERROR_BREAK", "packet capture interrupted"},
    {PCAP_ERROR_NOT_ACTIVATED, FailureKind::internal, "PCAP_ERROR_NOT_ACTIVATED",
     "capture handle used before activation"},
    {PCAP_ERROR_ACTIVATED, FailureKind::internal, "PCAP_ERROR_ACTIVATED",
     "capture handle configured after activation"},
    {PCAP_ERROR_NO_SUCH_DEVICE, FailureKind::not_found, "PCAP_ERROR_NO_SUCH_DEVICE",
     "no such network interface to capture on"},
    {PCAP_ERROR_RFMON_NOTSUP, FailureKind::unsupported, "PCAP_ERROR_RFMON_NOTSUP",
     "monitor mode is not supported on this interface"},
    {PCAP_ERROR_NOT_RFMON, FailureKind::unsupported, "PCAP_ERROR_NOT_RFMON",
     "the operation needs monitor mode"},
    {PCAP_ERROR_PERM_DENIED, FailureKind::auth, "PCAP_ERROR_PERM_DENIED",
     "packet capture needs root or the CAP_NET_RAW capability (for example: sudo setcap "
     "cap_net_raw+ep gwprobe); continuing without capture"},
    {PCAP_ERROR_IFACE_NOT_UP, FailureKind::network, "PCAP_ERROR_IFACE_NOT_UP",
     "the network interface is down"},
    {PCAP_ERROR_CANTSET_TSTAMP_TYPE, FailureKind::unsupported, "PCAP_ERROR_CANTSET_TSTAMP_TYPE",
     "the interface does not support the requested time stamp type"},
    {PCAP_ERROR_PROMISC_PERM_DENIED, FailureKind::auth, "PCAP_ERROR_PROMISC_PERM_DENIED",
     "promiscuous capture is not permitted"},
    {PCAP_ERROR_TSTAMP_PRECISION_NOTSUP, FailureKind::unsupported,
     "PCAP_ERROR_TSTAMP_PRECISION_NOTSUP", "the requested time stamp precision is not supported"},
    {PCAP_WARNING, FailureKind::unsupported, "PCAP_WARNING", "packet capture warning"},
    {PCAP_WARNING_PROMISC_NOTSUP, FailureKind::unsupported, "PCAP_WARNING_PROMISC_NOTSUP",
     "promiscuous mode is not supported on this interface"},
    {PCAP_WARNING_TSTAMP_TYPE_NOTSUP, FailureKind::unsupported, "PCAP_WARNING_TSTAMP_TYPE_NOTSUP",
     "the requested time stamp type is not supported"},
};

/// Frees a compiled BPF program however the function returns.
struct BpfProgram {
  bpf_program program{};
  ~BpfProgram() { libpcap().freecode(&program); }
};

core::Result<void> compile(pcap_t* p, std::string_view expression, BpfProgram& into) {
  const std::string text(expression);
  if (libpcap().compile(p, &into.program, text.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    return core::fail(FailureKind::invalid_input, "invalid capture filter \"" + text + "\"",
                      libpcap().geterr(p));
  }
  return {};
}

core::Result<const LibpcapApi*> open_libpcap() {
  static LibpcapApi api;
  core::SharedLibrary lib(GWPROBE_LIBPCAP_SONAME, "libpcap0.8");
  lib.bind(api.activate, "pcap_activate");
  lib.bind(api.close, "pcap_close");
  lib.bind(api.compile, "pcap_compile");
  lib.bind(api.create, "pcap_create");
  lib.bind(api.datalink, "pcap_datalink");
  lib.bind(api.dispatch, "pcap_dispatch");
  lib.bind(api.dump, "pcap_dump");
  lib.bind(api.dump_close, "pcap_dump_close");
  lib.bind(api.dump_file, "pcap_dump_file");
  lib.bind(api.dump_flush, "pcap_dump_flush");
  lib.bind(api.dump_ftell64, "pcap_dump_ftell64");
  lib.bind(api.dump_open, "pcap_dump_open");
  lib.bind(api.freecode, "pcap_freecode");
  lib.bind(api.get_selectable_fd, "pcap_get_selectable_fd");
  lib.bind(api.geterr, "pcap_geterr");
  lib.bind(api.open_dead, "pcap_open_dead");
  lib.bind(api.open_offline, "pcap_open_offline");
  lib.bind(api.set_buffer_size, "pcap_set_buffer_size");
  lib.bind(api.set_datalink, "pcap_set_datalink");
  lib.bind(api.set_immediate_mode, "pcap_set_immediate_mode");
  lib.bind(api.set_promisc, "pcap_set_promisc");
  lib.bind(api.set_snaplen, "pcap_set_snaplen");
  lib.bind(api.setfilter, "pcap_setfilter");
  lib.bind(api.setnonblock, "pcap_setnonblock");
  lib.bind(api.stats, "pcap_stats");
  if (auto error = lib.error()) return core::fail(std::move(*error));
  return &api;
}

}  // namespace

const core::Result<const LibpcapApi*>& load_libpcap() {
  return core::load_once<LibpcapApi, open_libpcap>();
}

const LibpcapApi& libpcap() {
  return core::loaded_table<LibpcapApi, open_libpcap>();
}

core::Error from_pcap(int code, std::string_view detail) {
  for (const auto& row : kCodes) {
    if (row.code != code) continue;
    std::string cause(row.name);
    if (!detail.empty()) cause += ": " + std::string(detail);
    return core::Error{row.kind, std::string(row.message), std::move(cause)};
  }
  std::string cause = "libpcap status " + std::to_string(code);
  if (!detail.empty()) cause += ": " + std::string(detail);
  return core::Error{FailureKind::internal, "unexpected libpcap status", std::move(cause)};
}

core::Result<PcapHandle> PcapHandle::open_live(const LiveCaptureOptions& options) {
  if (const auto& loaded = load_libpcap(); !loaded) return core::fail(loaded.error());
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* raw = libpcap().create(options.interface.c_str(), errbuf);
  if (raw == nullptr) return core::fail(from_pcap(PCAP_ERROR, errbuf));
  PcapHandle handle(raw);
  // Settings made before activation only fail on an activated handle, which this is not.
  libpcap().set_snaplen(raw, options.snaplen);
  libpcap().set_immediate_mode(raw, 1);
  libpcap().set_buffer_size(raw, options.buffer_bytes);
  libpcap().set_promisc(raw, 0);
  const int status = libpcap().activate(raw);
  if (status < 0) {
    // For generic errors libpcap's text is the only information; for coded ones it may be empty.
    auto error = from_pcap(status, libpcap().geterr(raw));
    if (status != PCAP_ERROR_PERM_DENIED) error.message += " (interface " + options.interface + ")";
    return core::fail(std::move(error));
  }
  if (options.interface == "any") {
    // Cooked v2 records the interface of each packet (v1, the default, does not); older
    // kernels or libpcaps without it keep v1, which the analysis reads too.
    libpcap().set_datalink(raw, DLT_LINUX_SLL2);
  }
  if (libpcap().setnonblock(raw, 1, errbuf) != 0) return core::fail(from_pcap(PCAP_ERROR, errbuf));
  return handle;
}

core::Result<PcapHandle> PcapHandle::open_dead(int dlt, int snaplen) {
  if (const auto& loaded = load_libpcap(); !loaded) return core::fail(loaded.error());
  pcap_t* raw = libpcap().open_dead(dlt, snaplen);
  if (raw == nullptr) return core::fail(from_pcap(PCAP_ERROR, "pcap_open_dead failed"));
  return PcapHandle(raw);
}

core::Result<PcapHandle> PcapHandle::open_offline(const std::filesystem::path& file) {
  if (const auto& loaded = load_libpcap(); !loaded) return core::fail(loaded.error());
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* raw = libpcap().open_offline(file.c_str(), errbuf);
  if (raw == nullptr) {
    auto error = from_pcap(PCAP_ERROR, errbuf);
    error.message = "cannot read capture file " + file.string();
    return core::fail(std::move(error));
  }
  return PcapHandle(raw);
}

int PcapHandle::datalink() const noexcept {
  return libpcap().datalink(handle_.get());
}

int PcapHandle::selectable_fd() const noexcept {
  return libpcap().get_selectable_fd(handle_.get());
}

core::Result<void> PcapHandle::set_filter(std::string_view expression) {
  BpfProgram program;
  if (auto compiled = compile(handle_.get(), expression, program); !compiled) return compiled;
  if (libpcap().setfilter(handle_.get(), &program.program) != 0) {
    return core::fail(from_pcap(PCAP_ERROR, libpcap().geterr(handle_.get())));
  }
  return {};
}

core::Result<void> PcapHandle::check_filter(std::string_view expression) const {
  BpfProgram program;
  return compile(handle_.get(), expression, program);
}

std::uint64_t PcapHandle::kernel_drops() const noexcept {
  pcap_stat stats{};
  if (libpcap().stats(handle_.get(), &stats) != 0) return 0;
  return std::uint64_t{stats.ps_drop} + std::uint64_t{stats.ps_ifdrop};
}

core::Result<PcapDumper> PcapDumper::open(const PcapHandle& handle,
                                          const std::filesystem::path& file) {
  pcap_dumper_t* raw = libpcap().dump_open(handle.get(), file.c_str());
  if (raw == nullptr) {
    auto error = from_pcap(PCAP_ERROR, libpcap().geterr(handle.get()));
    error.message = "cannot write the capture file " + file.string();
    return core::fail(std::move(error));
  }
  return PcapDumper(raw);
}

void PcapDumper::write(const pcap_pkthdr& header, const std::uint8_t* bytes) noexcept {
  libpcap().dump(reinterpret_cast<u_char*>(dumper_.get()), &header, bytes);
}

std::int64_t PcapDumper::position() const noexcept {
  return libpcap().dump_ftell64(dumper_.get());
}

core::Result<void> PcapDumper::close() {
  if (!dumper_) return {};
  const bool flushed =
      libpcap().dump_flush(dumper_.get()) == 0 && !std::ferror(libpcap().dump_file(dumper_.get()));
  dumper_.reset();
  if (!flushed) {
    return core::fail(FailureKind::io, "writing the capture file failed (disk full?)",
                      "pcap_dump_flush");
  }
  return {};
}

}  // namespace gwprobe::probes::capture
