// QuantConfig JSON, then its round trip: what from_json accepts, to_json writes and
// from_json accepts again.
#include "fuzz_common.hpp"
#include "libquant/quantizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lq::fuzz::expect_only_lq_errors([&] {
    lq::QuantConfig config = lq::QuantConfig::from_json(lq::fuzz::as_text(data, size));
    lq::QuantConfig again = lq::QuantConfig::from_json(config.to_json());
    (void)again;
  });
  return 0;
}
