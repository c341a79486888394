// Calibration pictures (PNG, JPEG, BMP) decoded from memory, resized and normalized; the
// first byte picks the preprocessing.
#include <stb_image.h>

#include "fuzz_common.hpp"
#include "libquant/calibrator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // decode_image refuses more than 2^26 pixels (tests/calibration covers that); between that
  // and what libFuzzer's memory limit allows, a header alone would make each run allocate
  // hundreds of MB, so such inputs are skipped here.
  int width = 0, height = 0, channels = 0;
  if (size > 1 && stbi_info_from_memory(data + 1, static_cast<int>(size - 1), &width, &height, &channels) &&
      static_cast<int64_t>(width) * height > (int64_t{1} << 22)) {
    return 0;
  }
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
