#include "kernels/float/kernel.hpp"

namespace lq::kernels {

void cast(KernelContext& ctx);
void cast_like(KernelContext& ctx);
void concat(KernelContext& ctx);
void constant(KernelContext& ctx);
void constant_of_shape(KernelContext& ctx);
void depth_to_space(KernelContext& ctx);
void dropout(KernelContext& ctx);
void expand(KernelContext& ctx);
void flatten(KernelContext& ctx);
void gather(KernelContext& ctx);
void gather_elements(KernelContext& ctx);
void gather_nd(KernelContext& ctx);
void identity(KernelContext& ctx);
void non_zero(KernelContext& ctx);
void one_hot(KernelContext& ctx);
void pad(KernelContext& ctx);
void range(KernelContext& ctx);
void reshape(KernelContext& ctx);
void resize(KernelContext& ctx);
void scatter(KernelContext& ctx);
void scatter_elements(KernelContext& ctx);
void scatter_nd(KernelContext& ctx);
void shape(KernelContext& ctx);
void size(KernelContext& ctx);
void slice(KernelContext& ctx);
void space_to_depth(KernelContext& ctx);
void split(KernelContext& ctx);
void squeeze(KernelContext& ctx);
void tile(KernelContext& ctx);
void top_k(KernelContext& ctx);
void transpose(KernelContext& ctx);
void trilu(KernelContext& ctx);
void unsqueeze(KernelContext& ctx);
void upsample(KernelContext& ctx);
void if_op(KernelContext& ctx);
void loop(KernelContext& ctx);

void register_tensor_kernels(KernelRegistry& registry) {
  registry.add("Cast", cast);
  registry.add("CastLike", cast_like);
  registry.add("Concat", concat);
  registry.add("Constant", constant);
  registry.add("ConstantOfShape", constant_of_shape);
  registry.add("DepthToSpace", depth_to_space);
  registry.add("Dropout", dropout);
  registry.add("Expand", expand);
  registry.add("Flatten", flatten);
  registry.add("Gather", gather);
  registry.add("GatherElements", gather_elements);
  registry.add("GatherND", gather_nd);
  registry.add("Identity", identity);
  registry.add("NonZero", non_zero);
  registry.add("OneHot", one_hot);
  registry.add("Pad", pad);
  registry.add("Range", range);
  registry.add("Reshape", reshape);
  registry.add("Resize", resize);
  registry.add("Scatter", scatter);
  registry.add("ScatterElements", scatter_elements);
  registry.add("ScatterND", scatter_nd);
  registry.add("Shape", shape);
  registry.add("Size", size);
  registry.add("Slice", slice);
  registry.add("SpaceToDepth", space_to_depth);
  registry.add("Split", split);
  registry.add("Squeeze", squeeze);
  registry.add("Tile", tile);
  registry.add("TopK", top_k);
  registry.add("Transpose", transpose);
  registry.add("Trilu", trilu);
  registry.add("Unsqueeze", unsqueeze);
  registry.add("Upsample", upsample);
  registry.add("If", if_op);
  registry.add("Loop", loop);
}

}  // namespace lq::kernels
