// ONNX import, then what runs the model's own ops on its constants: constant folding
// (optimize) and shape propagation (the float Simulator on zeros). Hostile shape-computing
// ops (ConstantOfShape, Expand, Tile, Range, Pad, Resize) must be refused by the resource
// limits, set small here (1 MiB per tensor, 8 MiB per model; 16 MiB let a chain of ConstantOfShape nodes
// run past the 20 s timeout in the -O0 fuzz build) so that every input runs fast.
#include "fuzz_common.hpp"
#include "libquant/graph.hpp"
#include "libquant/simulator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool limited = [] {
    lq::ResourceLimits limits;
    limits.max_tensor_bytes = int64_t{1} << 20;
    limits.max_model_bytes = int64_t{8} << 20;
    lq::set_default_resource_limits(limits);
    return true;
  }();
  (void)limited;
  lq::fuzz::expect_only_lq_errors([&] {
    lq::Graph graph = lq::parse_onnx(data, size);
    lq::optimize(graph);
    for (const lq::Value* in : graph.inputs()) {
      if (!in->type().is_static()) return;  // shape propagation needs every input's shape
    }
    lq::propagate_shapes(graph, {});
  });
  return 0;
}
