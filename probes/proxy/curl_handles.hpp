// libcurl, opened on first use (core/shared_library.hpp): the table of the functions gwprobe
// calls, RAII owners for its handles (easy, multi, header lists), and the one-time global init.
// Nothing else lives here.
#pragma once

#include <curl/curl.h>

#include <memory>

#include "core/result.hpp"

namespace gwprobe::probes::proxy {

/// The libcurl functions gwprobe uses, bound from libcurl.so.4 at first use.
struct CurlApi {
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;  // variadic, called as declared
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_send) easy_send = nullptr;
  decltype(&::curl_easy_recv) easy_recv = nullptr;
  decltype(&::curl_multi_init) multi_init = nullptr;
  decltype(&::curl_multi_cleanup) multi_cleanup = nullptr;
  decltype(&::curl_multi_add_handle) multi_add_handle = nullptr;
  decltype(&::curl_multi_remove_handle) multi_remove_handle = nullptr;
  decltype(&::curl_multi_perform) multi_perform = nullptr;
  decltype(&::curl_multi_wait) multi_wait = nullptr;
  decltype(&::curl_multi_info_read) multi_info_read = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
};

/// Opens libcurl and runs curl_global_init, exactly once per process and thread-safe (probes
/// create handles from many runner threads). The table, or why libcurl cannot be used (not
/// installed, too old, init failed): the same answer on every call.
const core::Result<const CurlApi*>& load_libcurl();

/// The table load_libcurl() returned; only call after it succeeded (aborts otherwise).
const CurlApi& libcurl();

struct CurlEasyDeleter {
  void operator()(CURL* p) const noexcept { libcurl().easy_cleanup(p); }
};
struct CurlMultiDeleter {
  void operator()(CURLM* p) const noexcept { libcurl().multi_cleanup(p); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* p) const noexcept { libcurl().slist_free_all(p); }
};

using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

/// An easy handle attached to its own multi handle. With CURLOPT_CONNECT_ONLY the connection
/// lives in the multi handle's connection cache: the easy handle must stay attached, and the
/// multi handle alive, for as long as curl_easy_send/recv use the tunnel. Destruction detaches
/// the easy handle, then frees both, in that order.
class CurlTransfer {
 public:
  CurlTransfer() = default;
  CurlTransfer(CurlTransfer&& other) noexcept = default;
  CurlTransfer& operator=(CurlTransfer&& other) noexcept;
  CurlTransfer(const CurlTransfer&) = delete;
  CurlTransfer& operator=(const CurlTransfer&) = delete;
  ~CurlTransfer() { reset(); }

  /// Creates both handles (after a successful load_libcurl()); false on failure (out of memory).
  bool create();
  /// Adds the easy handle (options set) to the multi handle: the transfer starts with the next
  /// curl_multi_perform. False on failure.
  bool attach();
  CURL* easy() const noexcept { return easy_.get(); }
  CURLM* multi() const noexcept { return multi_.get(); }
  explicit operator bool() const noexcept { return easy_ && multi_; }
  void reset() noexcept;

 private:
  CurlMulti multi_;  // declared first: destroyed after the easy handle
  CurlEasy easy_;
  bool attached_ = false;
};

}  // namespace gwprobe::probes::proxy
