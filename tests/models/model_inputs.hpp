// Deterministic inputs for the PP-OCR models, NCHW float32 with 3 channels.
#pragma once

#include <cstdint>

#include "libquant/graph.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/tensor.hpp"

namespace lq::test {

// Uniform values in [-1, 1), the models' normalized range, from a fixed seed. The same
// on every platform (no std:: distributions, whose output is implementation-defined).
Tensor random_image(int64_t height, int64_t width, uint32_t seed);

// A synthetic page: lines of dark, glyph-like strokes on a light, slightly uneven
// background, quantized to 8 bits and normalized like PP-OCR: (x / 255 - 0.5) / 0.5.
// Inputs of at most 64 rows hold one centred line (rec, cls); taller ones a block of lines.
Tensor text_image(int64_t height, int64_t width, uint32_t seed);

// `graph` (one input) quantized with MSE ranges, per-channel weights, activations of `bits`,
// weights of `weights` (default: `bits`), model outputs of `outputs` (default: `bits`),
// calibrated on text pages of seeds 1..3 (the model tests' inputs are 97..99).
QuantizedGraph quantize_on_text_pages(const Graph& graph, int64_t height, int64_t width, DType bits,
                                      DType weights = DType::kUndefined, DType outputs = DType::kUndefined,
                                      const Target& target = Target());

}  // namespace lq::test
