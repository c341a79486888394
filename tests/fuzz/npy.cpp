#include "fuzz_common.hpp"
#include "libquant/tensor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lq::fuzz::expect_only_lq_errors([&] {
    lq::Tensor t = lq::parse_npy(data, size);
    // What parse_npy returns must be as large as its shape says.
    if (t.numel() > 0) {
      volatile uint8_t last = static_cast<const uint8_t*>(t.raw())[t.nbytes() - 1];
      (void)last;
    }
  });
  return 0;
}
