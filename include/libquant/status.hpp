// Errors of the C++ API. Every fallible call throws lq::Error; the C ABI turns it
// into an lq_status. Messages say what went wrong, where, and what to do.
#pragma once

#include <stdexcept>
#include <string>

#include "libquant/export.hpp"

namespace lq {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,  // the caller passed something wrong (shape, dtype, name)
  kNotFound = 2,         // a file, input or node that does not exist
  kUnsupported = 3,      // valid ONNX that libquant does not implement
  kInvalidModel = 4,     // a corrupt, truncated or inconsistent model
  kIoError = 5,          // reading or writing a file failed
  kFailedPrecondition = 6,  // stages called out of order
  kInternal = 7,         // a bug in libquant
  kResourceExhausted = 8,  // a file or model asks for more memory than the limits allow
};

LQ_EXPORT const char* status_code_name(StatusCode code) noexcept;

class LQ_EXPORT Error : public std::runtime_error {
 public:
  Error(StatusCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  StatusCode code() const noexcept { return code_; }

 private:
  StatusCode code_;
};

}  // namespace lq
