// .lqm load as a file arrives: the header (magic, version, length, CRC-32) checks first.
#include "fuzz_common.hpp"
#include "libquant/compiler.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lq::fuzz::expect_only_lq_errors([&] { lq::Program::parse(data, size); });
  return 0;
}
