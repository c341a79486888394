// Calibration pictures (PNG, JPEG, BMP) decoded from memory, resized and normalized; the
// first byte picks the preprocessing.
#include "fuzz_common.hpp"
#include "libquant/calibrator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  lq::ImagePreprocess pre;
  const uint8_t mode = data[0];
  pre.resize = static_cast<lq::ResizeMode>(mode % 3);
  pre.color = (mode >> 2) & 1 ? lq::ColorOrder::kGray : lq::ColorOrder::kRGB;
  pre.layout = (mode >> 3) & 1 ? lq::Layout::kNHWC : lq::Layout::kNCHW;
  pre.height = 1 + ((mode >> 4) & 3) * 7;
  pre.width = 1 + ((mode >> 6) & 3) * 11;
  lq::fuzz::expect_only_lq_errors([&] { lq::decode_image(data + 1, size - 1, pre, "fuzz input"); });
  return 0;
}
