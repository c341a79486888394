// Pipeline configs: the first byte picks JSON or YAML, the rest is the text.
#include "fuzz_common.hpp"
#include "libquant/pipeline.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool yaml = data[0] & 1;
  const std::string text = lq::fuzz::as_text(data + 1, size - 1);
  lq::fuzz::expect_only_lq_errors([&] {
    lq::PipelineOptions options = yaml ? lq::PipelineOptions::from_yaml(text, "/nonexistent")
                                       : lq::PipelineOptions::from_json(text, "/nonexistent");
    (void)options;
  });
  return 0;
}
