// Result<T> and Error: failures as values, with std::expected's member names (C++20 has no
// expected).
#pragma once

#include <cassert>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace gwprobe::core {

/// What sort of failure an Error is. Exit codes and retry decisions are taken from the kind,
/// never from the message text.
enum class FailureKind {
  invalid_input,  ///< the user gave us something malformed (profile, flag, target): exit 2
  not_found,      ///< a named thing does not exist (profile, file, geography)
  io,             ///< local I/O failed (file unreadable, disk full)
  network,        ///< the network said no (refused, unreachable, reset)
  timeout,        ///< the deadline passed first; always this kind, whatever the library said
  cancelled,      ///< Ctrl-C or a caller's CancelToken
  protocol,       ///< the peer spoke, but not what the protocol allows
  auth,           ///< credentials missing, wrong or expired
  unsupported,    ///< this build or platform cannot do it
  internal,       ///< a bug in gwprobe: exit 3
};

std::string_view to_string(FailureKind kind) noexcept;

/// A failure: its kind, a one-line message for people, and the underlying cause (a library's
/// own code and text, e.g. "ARES_ETIMEOUT") for the curious.
struct Error {
  FailureKind kind = FailureKind::internal;
  std::string message;
  std::string cause;

  /// "message (cause)" or just "message".
  std::string describe() const;
};

/// Wraps an Error so that Result<T>'s constructors can tell it from a T.
class Unexpected {
 public:
  explicit Unexpected(Error error) : error_(std::move(error)) {}
  const Error& error() const& noexcept { return error_; }
  Error&& error() && noexcept { return std::move(error_); }

 private:
  Error error_;
};

/// Shorthand: `return core::fail(FailureKind::timeout, "no answer", "ARES_ETIMEOUT");`
inline Unexpected fail(FailureKind kind, std::string message, std::string cause = {}) {
  return Unexpected(Error{kind, std::move(message), std::move(cause)});
}
inline Unexpected fail(Error error) {
  return Unexpected(std::move(error));
}

/// A value or an Error. Reading the wrong alternative is a bug and aborts (in every build type).
template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<T, Error>, "Result<Error> is ambiguous");

 public:
  using value_type = T;

  Result(const T& value) : state_(std::in_place_index<0>, value) {}  // NOLINT: implicit by design
  Result(T&& value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Unexpected failure)
      : state_(std::in_place_index<1>, std::move(failure).error()) {}  // NOLINT
  template <class U, class = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                              !std::is_same_v<std::decay_t<U>, Result> &&
                                              !std::is_same_v<std::decay_t<U>, Unexpected> &&
                                              !std::is_same_v<std::decay_t<U>, T>>>
  Result(U&& value) : state_(std::in_place_index<0>, T(std::forward<U>(value))) {}  // NOLINT

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & {
    check(true);
    return std::get<0>(state_);
  }
  const T& value() const& {
    check(true);
    return std::get<0>(state_);
  }
  T&& value() && {
    check(true);
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    check(false);
    return std::get<1>(state_);
  }
  Error&& error() && {
    check(false);
    return std::get<1>(std::move(state_));
  }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(state_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void check(bool want_value) const {
    if (has_value() != want_value) std::abort();
  }
  std::variant<T, Error> state_;
};

/// Success with nothing to say, or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected failure) : error_(std::move(failure).error()), ok_(false) {}  // NOLINT

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  void value() const {
    if (!ok_) std::abort();
  }
  const Error& error() const& {
    if (ok_) std::abort();
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace gwprobe::core
