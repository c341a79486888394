// Calibration statistics files (what `lquant calibrate` writes and merge-stats reads).
#include "fuzz_common.hpp"
#include "libquant/calibrator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lq::fuzz::expect_only_lq_errors([&] {
    lq::CalibrationTable table = lq::CalibrationTable::parse(lq::fuzz::as_text(data, size));
    (void)table;
  });
  return 0;
}
