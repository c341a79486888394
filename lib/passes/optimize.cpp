#include <fmt/format.h>

#include "passes/passes.hpp"

namespace lq {

std::vector<std::string> optimize(Graph& graph, const OptimizeOptions& options) {
  struct Pass {
    const char* name;
    bool enabled;
    bool (*run)(Graph&);
  };
  const Pass passes[] = {
      {"eliminate_identity", options.eliminate_identity, passes::eliminate_identity},
      {"fold_constants", options.fold_constants, passes::fold_constants},
      {"fold_if", options.fold_if, passes::fold_if},
      {"fuse_batchnorm", options.fuse_batchnorm, passes::fuse_batchnorm},
      {"fuse_conv_affine", options.fuse_conv_affine, passes::fuse_conv_affine},
      {"fuse_hardswish", options.fuse_hardswish, passes::fuse_hardswish},
      {"fuse_pad_pool", options.fuse_pad_pool, passes::fuse_pad_pool},
      {"remove_dead_nodes", options.remove_dead_nodes, passes::remove_dead_nodes},
  };
#ifdef NDEBUG
  const bool verify = options.verify_each_pass;
#else
  const bool verify = true;
#endif
  std::vector<std::string> applied;
  // Each pass can enable another (folding exposes BN fusion), so run to a fixed point.
  constexpr int kMaxRounds = 8;
  for (int round = 0; round < kMaxRounds; ++round) {
    bool changed = false;
    for (const Pass& pass : passes) {
      if (!pass.enabled || !pass.run(graph)) continue;
      changed = true;
      applied.emplace_back(pass.name);
      if (verify) {
        try {
          graph.verify();
        } catch (const Error& e) {
          throw Error(StatusCode::kInternal,
                      fmt::format("pass {} left an invalid graph: {}", pass.name, e.what()));
        }
      }
    }
    if (!changed) break;
  }
  return applied;
}

}  // namespace lq
