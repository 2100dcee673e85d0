// RAII owners for libcurl's handles (easy, multi, header lists) and the one-time global init.
// Nothing else lives here.
#pragma once

#include <curl/curl.h>

#include <memory>

namespace gwprobe::probes::proxy {

struct CurlEasyDeleter {
  void operator()(CURL* p) const noexcept { curl_easy_cleanup(p); }
};
struct CurlMultiDeleter {
  void operator()(CURLM* p) const noexcept { curl_multi_cleanup(p); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* p) const noexcept { curl_slist_free_all(p); }
};

using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

/// curl_global_init exactly once per process, before the first handle (it is not thread-safe
/// by itself, and probes create handles from many runner threads). False if it failed.
bool ensure_curl_initialized() noexcept;

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

  /// Creates both handles; false on failure (out of memory).
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
