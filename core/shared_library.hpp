// A shared library opened on first use (dlopen) instead of at start-up. libcurl (the proxy
// tunnel), libpq (PostgreSQL sources) and libpcap (packet capture) are each needed by one
// feature, but linked normally they and the ~40 libraries they pull in (GnuTLS, Kerberos, LDAP,
// D-Bus, systemd...) are mapped into every gwprobe process: about 5 MB of the always-on
// gateway's resident memory, and a missing one stops every command from starting.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>

#include "core/result.hpp"

namespace gwprobe::core {

class SharedLibrary {
 public:
  /// Opens SONAME ("libcurl.so.4") now; PACKAGE names what provides it ("libcurl4"), for the
  /// error. A library that fails to open is reported by error(), not here.
  SharedLibrary(std::string soname, std::string package);

  /// Points INTO at the function SYMBOL; a missing symbol leaves it null and is reported by
  /// error(). FN is the function's own type: `lib.bind(api.easy_init, "curl_easy_init")`.
  template <class Fn>
  void bind(Fn*& into, const char* symbol) noexcept {
    into = reinterpret_cast<Fn*>(lookup(symbol));  // NOLINT: dlsym's documented use
  }

  /// Nothing if the library opened and every bound symbol was found; otherwise an Error (kind
  /// unsupported) naming the library, the package to install and what dlopen/dlsym said.
  std::optional<Error> error() const;

 private:
  void* lookup(const char* symbol) noexcept;

  std::string soname_;
  std::string package_;
  void* handle_ = nullptr;  // never dlclose()d: the functions stay in use until exit
  std::string failure_;     // dlerror() of the first failure
};

/// A library's function table, opened once per process: OPEN (which binds the table with a
/// SharedLibrary, and may initialise the library) runs on the first call, thread-safe, and
/// every call returns its answer. How load_libcurl, load_libpq and load_libpcap keep theirs.
template <class Api, Result<const Api*> (*Open)()>
const Result<const Api*>& load_once() {
  static const Result<const Api*> loaded = Open();
  return loaded;
}

/// The table load_once<Api, Open>() returned. Callers check load_once first (it is how a
/// missing library becomes the feature's error), so a failure here is a bug: it aborts.
template <class Api, Result<const Api*> (*Open)()>
const Api& loaded_table() {
  const auto& loaded = load_once<Api, Open>();
  if (!loaded) std::abort();
  return **loaded;
}

}  // namespace gwprobe::core
