// Quantizer: turns calibration statistics and a layered QuantConfig into quantization
// parameters for every tensor of a float graph (a QuantizedGraph), which the float
// Simulator runs with fake quantization (libquant/analysis.hpp), which exports to ONNX QDQ
// and which the Compiler lowers by the decisions it records.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libquant/calibrator.hpp"
#include "libquant/export.hpp"
#include "libquant/graph.hpp"
#include "libquant/simulator.hpp"
#include "libquant/target.hpp"
#include "libquant/tensor.hpp"

namespace lq {

// real = scale * (q - zero_point), per tensor or per channel along `axis`.
struct LQ_EXPORT QuantParams {
  DType dtype = DType::kInt8;  // kInt4, kInt8, kUInt8, kInt16 (data, weights); kInt32 (bias)
  std::vector<float> scale;
  std::vector<int32_t> zero_point;
  int axis = -1;  // channel axis when per-channel
  Range range;    // the float range chosen (hull over channels)
  std::string method;  // how the range was chosen: "kl", "weights:max", "bias", "override", ...

  bool per_channel() const { return axis >= 0; }
  int32_t qmin() const;
  int32_t qmax() const;
};


// q = saturate(round_half_to_even(x / scale) + zero_point): ONNX QuantizeLinear exactly.
LQ_EXPORT int32_t quantize_value(float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax);
LQ_EXPORT float dequantize_value(int32_t q, float scale, int32_t zero_point);
// Quantizes then dequantizes a float32 tensor with `params` (per channel along params.axis).
LQ_EXPORT Tensor fake_quantize(const Tensor& data, const QuantParams& params);
// The integer tensor (params.dtype; int4 stored as int8) of a float32 tensor.
LQ_EXPORT Tensor quantize_tensor(const Tensor& data, const QuantParams& params);
// The float32 tensor of integer codes (any integer dtype of quantize_tensor).
LQ_EXPORT Tensor dequantize_tensor(const Tensor& codes, const QuantParams& params);

enum class ScaleKind : uint8_t {
  kFloat,       // any positive float scale
  kPowerOfTwo,  // scale = 2^-radix (Kneron's radix), zero point 0
};

// One level of the quant config. Unset fields fall through to the coarser level:
// node > op type > model.
struct QuantSpec {
  std::optional<bool> quantize;               // false keeps the node in float
  std::optional<DType> activation_dtype;      // kInt8, kUInt8, kInt16
  std::optional<DType> weight_dtype;          // kInt4, kInt8, kInt16
  std::optional<bool> symmetric_activations;
  std::optional<bool> symmetric_weights;
  std::optional<bool> per_channel;            // weights: one scale per output channel
  std::optional<ScaleKind> scale_kind;
  std::optional<RangeMethod> method;          // activations' range method
  std::optional<double> percentile;
  std::optional<double> search_range;
  std::optional<double> outlier_factor;
};

// Every field set: what a node finally gets.
struct ResolvedSpec {
  bool quantize = true;
  DType activation_dtype = DType::kInt8;
  DType weight_dtype = DType::kInt8;
  bool symmetric_activations = false;
  bool symmetric_weights = true;
  bool per_channel = true;
  ScaleKind scale_kind = ScaleKind::kFloat;
  // range.method unless set: percentile for 8-bit activations; 16-bit ones take max.
  RangeOptions range;
  bool method_explicit = false;  // a config level set the method (it then holds for int16 too)
};

// Explicit parameters for one tensor (Kneron's quan_config): a scale (and zero point), or a
// range the scale is derived from.
struct TensorOverride {
  std::optional<float> scale;
  std::optional<int32_t> zero_point;
  std::optional<double> min;
  std::optional<double> max;
};

struct LQ_EXPORT QuantConfig {
  QuantSpec model;
  std::map<std::string, QuantSpec> op_types;  // by op type, e.g. "Conv"
  std::map<std::string, QuantSpec> nodes;     // by node name
  std::map<std::string, TensorOverride> tensors;  // by value name
  std::optional<DType> input_dtype;   // model inputs (kInt8, kUInt8, kInt16)
  std::optional<DType> output_dtype;  // model outputs (kInt8, kUInt8, kInt16)
  bool post_sigmoid = false;          // a Sigmoid producing a model output gets [0, 1]
  int auto_samples = 2;               // kAuto: calibration samples that score candidate ranges
  // kAuto: after choosing each tensor's range by its consumers' error, at most this many
  // whole-model runs refine the choice by the model outputs' error (0: no refinement).
  int auto_evaluations = 400;
  // Mixed precision: at most this share (0..1) of the activation elements become int16, at
  // the nodes whose int16 outputs lower the model outputs' error most per element, each
  // measured alone on auto_samples calibration samples (0: off; needs kept samples).
  double int16_budget = 0.0;
  // The default range choice (quantize_model): when no config level sets a range method and
  // activations are 8-bit, the whole model is quantized with each single range method (max,
  // percentile, kl, mse, mmse) and the one whose worst output SNR on kSelectSamples kept
  // calibration samples is highest is kept. false: percentile, as Quantizer::quantize gives.
  bool select_range = true;
  // Accuracy target (dB, 0: off): quantize_model makes the 8-bit activations that harm the
  // outputs most int16, one at a time within int16_budget (0: 0.25), until the worst output
  // SNR on the kept calibration samples reaches it; the log says whether it was reached.
  double min_snr_db = 0.0;
  static constexpr int kSelectSamples = 4;
  // Empirical bias correction (quantize_model, on the kept calibration samples): the mean
  // error each Conv/Gemm output channel gets from quantization is subtracted from its bias.
  // 0: off, 1: all layers from one measurement, 2: sequential (layer by layer, each measured
  // with the corrections before it).
  int bias_correction = 0;

  // Validates every key and value; errors name the JSON path, the key and what is allowed.
  static QuantConfig from_json(const std::string& text);
  std::string to_json() const;
  ResolvedSpec resolve(const Node& node) const;
  ResolvedSpec resolve_model() const;  // the model level alone (graph inputs)
};

// Where the Quantizer put fewer quantization points than values: the records the Compiler
// lowers by (it derives none of them itself). Values by name.
struct QuantDecisions {
  // Fusion: the output of a Conv, ConvTranspose, Gemm, MatMul, Add, Sub or Mul that has no
  // parameters, read only by a Relu or Clip (roles::fused_activation) -> that activation's
  // output. The pair has one quantization point, after the activation: the Compiler writes
  // the op's result clamped to the activation's bounds into the activation's output.
  std::map<std::string, std::string> fusions;
  // Elementwise chain: an unquantized value computed by elementwise ops (constant operands
  // scalars) from one integer tensor x and read only by elementwise ops -> x (the chain's
  // root). The Compiler lowers the chain's ends as tables of x's codes, computing the inner
  // values in float as fake quantization does. It still keeps on the CPU what its Target
  // says (Target::cpu_ops), and lowers the inner values as nodes of their own when a reader
  // cannot be a table after all; both only where the records allow a chain.
  std::map<std::string, std::string> chains;
};

// The decisions that follow from `params` on `graph`: fusions for every fusable value left
// without parameters, chains for every elementwise value left without parameters whose
// operands come from one integer tensor (through other chain values). The Quantizer records
// them after assigning parameters (QuantizedGraph::decisions).
LQ_EXPORT QuantDecisions derive_decisions(const Graph& graph,
                                          const std::map<std::string, QuantParams>& params);

struct LQ_EXPORT QuantizedGraph {
  Graph graph;                                // the float graph being quantized
  std::map<std::string, QuantParams> params;  // by value name: data, weights and biases
  std::vector<std::string> log;               // decisions a user should hear about
  // Set by the Quantizer. Code that adds or removes parameters afterwards sets it again
  // (derive_decisions); changing scales or widths leaves it valid. A QuantizedGraph built by
  // hand may leave it empty: the Compiler then derives the decisions from `params` itself,
  // on the shape-specialized graph it compiles (what it always did before they were recorded).
  std::optional<QuantDecisions> decisions;

  const QuantParams* find(const std::string& value_name) const;
  // ONNX with QuantizeLinear/DequantizeLinear pairs (com.microsoft domain, which ONNX Runtime
  // runs for int8/uint8/int16/uint16 at any opset), weights stored quantized. Model inputs
  // and outputs keep their names and stay float.
  Graph to_qdq() const;
  // Every tensor: dtype, scale(s), zero point(s), range, method.
  std::string params_json() const;
};

// ---- What the searches above the Quantizer (lib/analysis) use -----------------------------

// Chooses the range of each kAuto tensor among its candidates. lq::quantize_model
// (libquant/analysis.hpp) gives the Quantizer one that scores them by the error at the
// tensor's consumers.
class LQ_EXPORT AutoRangeChooser {
 public:
  virtual ~AutoRangeChooser() = default;
  // An index into `candidates` (one per auto_range_candidates(), each named by its method).
  // `partial`: the parameters assigned so far (every weight, the activations before `value`).
  virtual size_t choose(const Value& value, const std::vector<QuantParams>& candidates,
                        const QuantizedGraph& partial) = 0;
};

// The same range on the int16 grid.
LQ_EXPORT QuantParams as_int16(const QuantParams& params);

// Makes `value` (and the values that share its parameters, parameter_group) int16 in `q`,
// its range chosen again from its statistics in `table` as the Quantizer does for int16:
// the config's method when it sets one explicitly, else max (an 8-bit range clips what
// 16 bit can hold). Ranges that are not statistics (Softmax's [0, 1], overrides) keep
// their range on the int16 grid. Mixed precision uses it.
LQ_EXPORT void widen_to_int16(const QuantConfig& config, const CalibrationTable& table,
                              QuantizedGraph& q, const Value& value);

// The int32 bias of a Conv/ConvTranspose/Gemm at its input's scale x its weight's, from
// their parameters in `q`; nullopt without a constant bias or those parameters, for int16
// products (the bias stays exact) and per-channel scales the bias cannot share.
LQ_EXPORT std::optional<QuantParams> bias_for(const Node& node, const QuantizedGraph& q);

// `v` and the values whose parameters follow it through data movement ("same as input"):
// what changes together when `v`'s parameters do.
LQ_EXPORT std::vector<const Value*> parameter_group(const Value& v, const QuantizedGraph& q);

class LQ_EXPORT Quantizer {
 public:
  // On a target without int16 (Target::named("int8")), every int16 the config asks for
  // falls back to int8, with a line in QuantizedGraph::log for each.
  explicit Quantizer(QuantConfig config, Target target = {});
  // Parameters from the config's decisions alone. A config that asks for a search
  // (RangeMethod::kAuto, QuantConfig::int16_budget) is quantized by lq::quantize_model
  // (libquant/analysis.hpp); here kAuto needs `auto_ranges` and int16_budget is an error
  // naming quantize_model. Throws naming the tensor when calibration statistics are missing.
  QuantizedGraph quantize(const Graph& graph, const CalibrationTable& table,
                          AutoRangeChooser* auto_ranges = nullptr) const;
  // Every activation's range by `method` instead of the config's (kAuto's candidates when
  // the choices are refined on the whole model).
  QuantizedGraph quantize_with_method(const Graph& graph, const CalibrationTable& table,
                                      RangeMethod method) const;
  const QuantConfig& config() const { return config_; }
  const Target& target() const { return target_; }

 private:
  QuantConfig config_;
  Target target_;
};

}  // namespace lq
