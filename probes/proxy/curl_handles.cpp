// libcurl opened on first use, and its handles (see curl_handles.hpp).
#include "probes/proxy/curl_handles.hpp"

#include <utility>

#include "core/shared_library.hpp"

namespace gwprobe::probes::proxy {
namespace {

core::Result<const CurlApi*> open_libcurl() {
  static CurlApi api;
  core::SharedLibrary lib(GWPROBE_LIBCURL_SONAME, "libcurl4");
  lib.bind(api.global_init, "curl_global_init");
  lib.bind(api.easy_init, "curl_easy_init");
  lib.bind(api.easy_cleanup, "curl_easy_cleanup");
  lib.bind(api.easy_setopt, "curl_easy_setopt");
  lib.bind(api.easy_getinfo, "curl_easy_getinfo");
  lib.bind(api.easy_send, "curl_easy_send");
  lib.bind(api.easy_recv, "curl_easy_recv");
  lib.bind(api.multi_init, "curl_multi_init");
  lib.bind(api.multi_cleanup, "curl_multi_cleanup");
  lib.bind(api.multi_add_handle, "curl_multi_add_handle");
  lib.bind(api.multi_remove_handle, "curl_multi_remove_handle");
  lib.bind(api.multi_perform, "curl_multi_perform");
  lib.bind(api.multi_wait, "curl_multi_wait");
  lib.bind(api.multi_info_read, "curl_multi_info_read");
  lib.bind(api.slist_append, "curl_slist_append");
  lib.bind(api.slist_free_all, "curl_slist_free_all");
  if (auto error = lib.error()) return core::fail(std::move(*error));
  if (const CURLcode rc = api.global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
    return core::fail(core::FailureKind::internal, "libcurl failed to initialise",
                      "curl_global_init: CURLcode " + std::to_string(static_cast<int>(rc)));
  }
  return &api;
}

}  // namespace

const core::Result<const CurlApi*>& load_libcurl() {
  return core::load_once<CurlApi, open_libcurl>();
}

const CurlApi& libcurl() {
  return core::loaded_table<CurlApi, open_libcurl>();
}

CurlTransfer& CurlTransfer::operator=(CurlTransfer&& other) noexcept {
  if (this != &other) {
    reset();
    multi_ = std::move(other.multi_);
    easy_ = std::move(other.easy_);
    attached_ = std::exchange(other.attached_, false);
  }
  return *this;
}

bool CurlTransfer::create() {
  reset();
  if (!load_libcurl()) return false;
  multi_.reset(libcurl().multi_init());
  easy_.reset(libcurl().easy_init());
  return multi_ && easy_;
}

bool CurlTransfer::attach() {
  if (!multi_ || !easy_ || attached_) return false;
  attached_ = libcurl().multi_add_handle(multi_.get(), easy_.get()) == CURLM_OK;
  return attached_;
}

void CurlTransfer::reset() noexcept {
  if (attached_ && multi_ && easy_) libcurl().multi_remove_handle(multi_.get(), easy_.get());
  attached_ = false;
  easy_.reset();
  multi_.reset();
}

}  // namespace gwprobe::probes::proxy
