// ONNX import with ONNX's and libquant's shape inference, then the graph's own verifier.
#include "fuzz_common.hpp"
#include "libquant/graph.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lq::fuzz::expect_only_lq_errors([&] {
    lq::Graph graph = lq::parse_onnx(data, size);
    graph.verify();
  });
  return 0;
}
