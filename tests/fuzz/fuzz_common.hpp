// Shared by the libFuzzer targets: the library promises to throw lq::Error for every bad
// input, so a target catches lq::Error alone; any other exception escaping is a finding
// (libFuzzer reports it as a crash through std::terminate).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "libquant/status.hpp"

namespace lq::fuzz {

inline std::string as_text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

template <typename F>
void expect_only_lq_errors(F&& body) {
  try {
    body();
  } catch (const lq::Error&) {
  }
}

}  // namespace lq::fuzz
