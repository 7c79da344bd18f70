// The project-wide error convention: functions that can fail return Result<T>;
// context is added on the way up with Error::wrap, exceptions only at the edges.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace berth {

// Codes mirror gRPC's so that service adapters can map them one-to-one.
enum class ErrorCode {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
};

std::string_view error_code_name(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message, int sys_errno = 0)
      : code_(code), errno_(sys_errno), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  // The errno that caused the error, or 0.
  int sys_errno() const { return errno_; }
  // The message including all context, plus strerror(errno) when set.
  std::string what() const;
  const std::string& message() const { return message_; }

  // Prefixes context: "mount /proc: permission denied".
  template <typename... Args>
  Error wrap(fmt::format_string<Args...> fmt_str, Args&&... args) && {
    message_ = fmt::format(fmt_str, std::forward<Args>(args)...) + ": " + message_;
    return std::move(*this);
  }
  template <typename... Args>
  Error wrap(fmt::format_string<Args...> fmt_str, Args&&... args) const& {
    Error copy = *this;
    return std::move(copy).wrap(fmt_str, std::forward<Args>(args)...);
  }

 private:
  ErrorCode code_;
  int errno_;
  std::string message_;
};

// Builds an Error from the current errno, with a formatted message.
template <typename... Args>
Error sys_error(fmt::format_string<Args...> fmt_str, Args&&... args) {
  int saved = errno;
  ErrorCode code = ErrorCode::kInternal;
  switch (saved) {
    case ENOENT: code = ErrorCode::kNotFound; break;
    case EEXIST: code = ErrorCode::kAlreadyExists; break;
    case EACCES:
    case EPERM: code = ErrorCode::kPermissionDenied; break;
    case EINVAL: code = ErrorCode::kInvalidArgument; break;
    case ENOSPC:
    case ENOMEM:
    case EMFILE: code = ErrorCode::kResourceExhausted; break;
    case ETIMEDOUT: code = ErrorCode::kDeadlineExceeded; break;
    default: break;
  }
  return Error(code, fmt::format(fmt_str, std::forward<Args>(args)...), saved);
}

template <typename... Args>
Error make_error(ErrorCode code, fmt::format_string<Args...> fmt_str, Args&&... args) {
  return Error(code, fmt::format(fmt_str, std::forward<Args>(args)...));
}

// Result<T>: a value or an Error. Result<void> carries only success or an Error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), has_error_(true) {}  // NOLINT

  bool ok() const { return !has_error_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_{ErrorCode::kOk, ""};
  bool has_error_ = false;
};

using Status = Result<void>;

inline Status ok_status() { return {}; }

}  // namespace berth

// Returns early with the error of a failed Result / Status expression.
#define BERTH_TRY(expr)                                \
  do {                                                 \
    auto berth_try_result_ = (expr);                   \
    if (!berth_try_result_.ok()) {                     \
      return std::move(berth_try_result_).error();     \
    }                                                  \
  } while (0)

#define BERTH_CONCAT_INNER_(a, b) a##b
#define BERTH_CONCAT_(a, b) BERTH_CONCAT_INNER_(a, b)

// BERTH_ASSIGN_OR_RETURN(auto fd, open_thing()); — declares or assigns lhs.
#define BERTH_ASSIGN_OR_RETURN(lhs, expr) \
  BERTH_ASSIGN_OR_RETURN_IMPL_(BERTH_CONCAT_(berth_result_, __LINE__), lhs, expr)
#define BERTH_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) {                                   \
    return std::move(tmp).error();                   \
  }                                                  \
  lhs = std::move(tmp).value()
