// A QuantConfig checked against the graph it quantizes: every node, op type and tensor it
// names must be there, so a misspelt name is an error, not a setting silently ignored.
#pragma once

#include "libquant/graph.hpp"
#include "libquant/quantizer.hpp"

namespace lq {

// Throws kNotFound naming the first node, op type or tensor of `config` that `graph` does not
// have, with the nearest name it does have. The Quantizer calls it on the graph it gets.
void check_config_against(const QuantConfig& config, const Graph& graph);

}  // namespace lq
