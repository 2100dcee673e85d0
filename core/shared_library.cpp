// Opening libraries on first use (see shared_library.hpp).
#include "core/shared_library.hpp"

#include <dlfcn.h>

#include <utility>

namespace gwprobe::core {

SharedLibrary::SharedLibrary(std::string soname, std::string package)
    : soname_(std::move(soname)), package_(std::move(package)) {
  // RTLD_LOCAL: the library's symbols do not leak into later lookups; RTLD_NOW: a broken
  // library fails here, not at the first call of a function that cannot be resolved.
  handle_ = ::dlopen(soname_.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) {
    const char* what = ::dlerror();
    failure_ = what != nullptr ? what : "dlopen failed";
  }
}

void* SharedLibrary::lookup(const char* symbol) noexcept {
  if (handle_ == nullptr) return nullptr;
  ::dlerror();  // clear
  void* found = ::dlsym(handle_, symbol);
  if (found == nullptr && failure_.empty()) {
    const char* what = ::dlerror();
    failure_ = what != nullptr ? what : std::string(symbol) + ": undefined symbol";
  }
  return found;
}

std::optional<Error> SharedLibrary::error() const {
  if (failure_.empty()) return std::nullopt;
  if (handle_ == nullptr) {
    return Error{FailureKind::unsupported,
                 "cannot load " + soname_ + " (install the " + package_ + " package)", failure_};
  }
  return Error{
      FailureKind::unsupported,
      soname_ + " is too old or not the expected library (install the " + package_ + " package)",
      failure_};
}

}  // namespace gwprobe::core
