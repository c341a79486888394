// Precision analysis: every quantized tensor of the fixed-point program against the float
// model (cumulative error), the tensor quantized alone (isolated error), its range, and
// optionally each tensor's effect on the model outputs (sensitivity); suggestions from them.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analysis/searches.hpp"
#include "graph/roles.hpp"
#include "libquant/analysis.hpp"
#include "libquant/compiler.hpp"

namespace lq {

namespace {

namespace fs = std::filesystem;

// The per-element loops below go over every value of every sample twice (float and fixed):
// an AVX2 clone, chosen at load time, runs them on machines that have it. The clones do the
// same arithmetic in the same order (no FMA contraction under -std=c++17), so the figures
// do not depend on the machine.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define LQ_NO_VECTOR_CLONES 1
#endif
#endif
#if defined(__x86_64__) && defined(__GNUC__) && defined(__linux__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__) && !defined(LQ_NO_VECTOR_CLONES)
#define LQ_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#define LQ_INLINE inline __attribute__((always_inline))
#else
#define LQ_VECTOR_CLONES
#define LQ_INLINE inline
#endif

// Signal, noise and cross products of measured values against float ones.
struct ErrorSums {
  double signal = 0.0, noise = 0.0, dot = 0.0, measured = 0.0, max_abs = 0.0;

  static constexpr int64_t kBlock = 1024;

  // Blocks of 1024 values in eight float lanes (GCC/Clang vector types: SIMD on every
  // target), summed into doubles after each block.
  LQ_INLINE void add(const float* want, const float* got, int64_t n) {
    for (int64_t start = 0; start < n; start += kBlock) add_block(want + start, got + start, std::min(kBlock, n - start));
  }
  // `got(i)` computes the measured value of element i, a block at a time into a buffer.
  template <typename Got>
  LQ_INLINE void add_with(const float* want, int64_t n, Got got) {
    alignas(32) float buffer[kBlock];
    for (int64_t start = 0; start < n; start += kBlock) {
      const int64_t m = std::min(kBlock, n - start);
      for (int64_t i = 0; i < m; ++i) buffer[i] = got(start + i);
      add_block(want + start, buffer, m);
    }
  }
  LQ_INLINE void add_block(const float* want, const float* got, int64_t m) {
    typedef float v8 __attribute__((vector_size(32)));
    v8 s = {}, e = {}, d = {}, g2 = {}, mx = {};
    int64_t i = 0;
    for (; i + 8 <= m; i += 8) {
      v8 w, g;
      std::memcpy(&w, want + i, sizeof w);
      std::memcpy(&g, got + i, sizeof g);
      const v8 diff = g - w;
      const v8 neg = -diff;
      const v8 a = diff < 0 ? neg : diff;
      s += w * w;
      e += diff * diff;
      d += w * g;
      g2 += g * g;
      mx = a > mx ? a : mx;
    }
    float tail_max = 0.0f;
    double ts = 0, te = 0, td = 0, tg = 0;
    for (; i < m; ++i) {
      const float w = want[i], g = got[i], diff = g - w;
      ts += w * w;
      te += diff * diff;
      td += w * g;
      tg += g * g;
      tail_max = std::max(tail_max, std::abs(diff));
    }
    for (int l = 0; l < 8; ++l) {
      signal += s[l];
      noise += e[l];
      dot += d[l];
      measured += g2[l];
      max_abs = std::max(max_abs, static_cast<double>(mx[l]));
    }
    signal += ts;
    noise += te;
    dot += td;
    measured += tg;
    max_abs = std::max(max_abs, static_cast<double>(tail_max));
  }
  ErrorFigures figures() const {
    ErrorFigures f;
    f.snr_db = 10.0 * std::log10(std::max(signal, 1e-30) / std::max(noise, 1e-30));
    f.cosine = signal > 0 && measured > 0 ? dot / std::sqrt(signal * measured) : (noise == 0 ? 1.0 : 0.0);
    f.max_abs = max_abs;
    f.relative = noise / std::max(signal, 1e-30);
    return f;
  }
};

struct Accumulator {
  ErrorSums cumulative, isolated;
  bool seen_fixed = false;
  int64_t clipped = 0, count = 0;
};

double min_output_snr(const std::map<std::string, double>& snr) {
  double worst = std::numeric_limits<double>::infinity();
  for (const auto& [name, s] : snr) worst = std::min(worst, s);
  return std::isfinite(worst) ? worst : 0.0;
}

// The node a tensor belongs to: its producer, or for a weight the first node reading it.
const Node* owner(const Value& v) {
  if (v.producer()) return v.producer();
  return v.uses().empty() ? nullptr : v.uses().front().node;
}

std::vector<float>& scratch() {
  thread_local std::vector<float> buffer;
  return buffer;
}

// A float32 copy without zero-filling it first.
Tensor copy_float(const Tensor& data) {
  std::shared_ptr<float[]> storage(new float[static_cast<size_t>(std::max<int64_t>(data.numel(), 1))]);
  std::copy(data.data<float>(), data.data<float>() + data.numel(), storage.get());
  return Tensor::from_storage(DType::kFloat32, data.shape(), std::shared_ptr<void>(storage, storage.get()));
}

// The real values of a program tensor into `out`: codes dequantized, float32 copied.
template <typename T>
void dequantize_into(const T* codes, int64_t n, const QuantParams& p, float* out) {
  const float scale = p.scale.at(0);
  const auto zero_point = static_cast<float>(p.zero_point.at(0));
  for (int64_t i = 0; i < n; ++i) out[i] = (static_cast<float>(codes[i]) - zero_point) * scale;
}

// false when the tensor is neither float32 nor per-tensor int8 / uint8 / int16 codes.
bool real_values(const ProgramTensorInfo& info, const Tensor& data, std::vector<float>& out) {
  const int64_t n = data.numel();
  out.resize(static_cast<size_t>(n));
  if (!info.quantized) {
    if (data.dtype() != DType::kFloat32) return false;
    std::copy(data.data<float>(), data.data<float>() + n, out.data());
    return true;
  }
  if (info.quant.per_channel()) {
    const Tensor real = dequantize_tensor(data, info.quant);
    std::copy(real.data<float>(), real.data<float>() + n, out.data());
    return true;
  }
  switch (data.dtype()) {
    case DType::kInt8: dequantize_into(data.data<int8_t>(), n, info.quant, out.data()); return true;
    case DType::kUInt8: dequantize_into(data.data<uint8_t>(), n, info.quant, out.data()); return true;
    case DType::kInt16: dequantize_into(data.data<int16_t>(), n, info.quant, out.data()); return true;
    default: {
      const Tensor real = dequantize_tensor(data, info.quant);
      if (real.dtype() != DType::kFloat32) return false;
      std::copy(real.data<float>(), real.data<float>() + n, out.data());
      return true;
    }
  }
}

// One pass over the float values of a tensor, block by block while the block is in L1:
// the isolated error (the tensor fake-quantized alone), its histogram bins and the clipped
// share. The first sample fixes the histogram's extent (a min/max pass of its own).
LQ_VECTOR_CLONES void add_values(TensorAnalysis& t, Accumulator& acc, const Tensor& data, int bins) {
  const float* x = data.data<float>();
  const int64_t n = data.numel();
  if (t.histogram.empty()) {
    auto lo = static_cast<float>(t.params.range.min), hi = static_cast<float>(t.params.range.max);
    float los[8], his[8];
    std::fill(los, los + 8, lo);
    std::fill(his, his + 8, hi);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      for (int l = 0; l < 8; ++l) {
        los[l] = x[i + l] < los[l] ? x[i + l] : los[l];
        his[l] = x[i + l] > his[l] ? x[i + l] : his[l];
      }
    }
    for (; i < n; ++i) {
      lo = std::min(lo, x[i]);
      hi = std::max(hi, x[i]);
    }
    lo = std::min(lo, *std::min_element(los, los + 8));
    hi = std::max(hi, *std::max_element(his, his + 8));
    if (hi <= lo) hi = lo + 1e-6;
    t.histogram_min = lo;
    t.histogram_max = hi;
    t.histogram.assign(static_cast<size_t>(bins), 0);
  }
  const bool generic = t.params.per_channel() || t.params.dtype == DType::kInt32;
  if (generic) {
    const Tensor fake = fake_quantize(data, t.params);
    acc.isolated.add(x, fake.data<float>(), n);
  }
  // fake_quantize's arithmetic (clamped quotient, round half to even by the 1.5 * 2^23
  // trick), fused into the error loop: no allocation per tensor and sample.
  constexpr float kRound = 12582912.0f;
  const float scale = generic ? 1.0f : t.params.scale.at(0);
  const auto zero_point = generic ? 0.0f : static_cast<float>(t.params.zero_point.at(0));
  const float qlo = static_cast<float>(t.params.qmin()) - zero_point;
  const float qhi = static_cast<float>(t.params.qmax()) - zero_point;
  const auto lo = static_cast<float>(t.histogram_min);
  const auto per_bin = static_cast<float>(bins / (t.histogram_max - t.histogram_min));
  const auto last = static_cast<float>(bins - 1);
  const auto clip_lo = static_cast<float>(t.params.range.min), clip_hi = static_cast<float>(t.params.range.max);
  constexpr int64_t kBlock = 1024;
  int32_t b[kBlock];
  // Four interleaved count arrays: runs of values in one bin do not wait on each other.
  std::vector<int32_t> counts(4 * static_cast<size_t>(bins), 0);
  int64_t clipped = 0;
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t m = std::min(kBlock, n - start);
    const float* xb = x + start;
    if (!generic) {
      acc.isolated.add_with(xb, m, [=](int64_t i) {
        float v = xb[i] / scale;
        v = v < qlo ? qlo : (v > qhi ? qhi : v);
        const float q = (v + kRound) - kRound;
        return (q == q ? q : 0.0f) * scale;
      });
    }
    // Bins and clipping in a loop the compiler vectorizes, then the counts.
    int32_t block_clipped = 0;
    for (int64_t i = 0; i < m; ++i) {
      b[i] = static_cast<int32_t>(std::min(std::max((xb[i] - lo) * per_bin, 0.0f), last));
      block_clipped += (xb[i] < clip_lo) | (xb[i] > clip_hi);
    }
    clipped += block_clipped;
    int64_t i = 0;
    for (; i + 4 <= m; i += 4) {
      ++counts[static_cast<size_t>(b[i])];
      ++counts[static_cast<size_t>(bins + b[i + 1])];
      ++counts[static_cast<size_t>(2 * bins + b[i + 2])];
      ++counts[static_cast<size_t>(3 * bins + b[i + 3])];
    }
    for (; i < m; ++i) ++counts[static_cast<size_t>(b[i])];
  }
  for (size_t k = 0; k < t.histogram.size(); ++k) {
    t.histogram[k] += static_cast<int64_t>(counts[k]) + counts[bins + k] + counts[2 * bins + k] + counts[3 * bins + k];
  }
  acc.clipped += clipped;
  acc.count += n;
}

// The fixed program's codes dequantized against the float values, fused.
template <typename T>
LQ_INLINE void add_codes(ErrorSums& sums, const float* want, const T* codes, int64_t n, float zero_point, float scale) {
  sums.add_with(want, n, [=](int64_t i) { return (static_cast<float>(codes[i]) - zero_point) * scale; });
}
LQ_VECTOR_CLONES void add_codes_int8(ErrorSums& sums, const float* want, const int8_t* codes, int64_t n, float zero_point,
                                     float scale) {
  add_codes(sums, want, codes, n, zero_point, scale);
}
LQ_VECTOR_CLONES void add_codes_uint8(ErrorSums& sums, const float* want, const uint8_t* codes, int64_t n,
                                      float zero_point, float scale) {
  add_codes(sums, want, codes, n, zero_point, scale);
}
LQ_VECTOR_CLONES void add_codes_int16(ErrorSums& sums, const float* want, const int16_t* codes, int64_t n,
                                      float zero_point, float scale) {
  add_codes(sums, want, codes, n, zero_point, scale);
}

double channel_spread(const Tensor& w, const QuantParams& p) {
  const int axis = p.axis >= 0 ? p.axis : 0;
  if (w.rank() == 0 || axis >= static_cast<int>(w.rank())) return 1.0;
  const int64_t channels = w.dim(axis);
  int64_t inner = 1;
  for (size_t d = axis + 1; d < w.rank(); ++d) inner *= w.dim(d);
  std::vector<double> range(static_cast<size_t>(channels), 0.0);
  const float* x = w.data<float>();
  for (int64_t i = 0; i < w.numel(); ++i) {
    double& r = range[static_cast<size_t>((i / inner) % channels)];
    r = std::max(r, static_cast<double>(std::abs(x[i])));
  }
  const double hi = *std::max_element(range.begin(), range.end());
  double lo = hi;
  for (double r : range) {
    if (r > 0) lo = std::min(lo, r);
  }
  return lo > 0 ? hi / lo : 1.0;
}

std::string pct(double share) { return fmt::format("{:.3g} %", 100.0 * share); }

std::string subject(const TensorAnalysis& t) {
  return t.node.empty() ? fmt::format("model input `{}`", t.tensor) : fmt::format("`{}` output `{}`", t.node, t.tensor);
}

// Quant configs (QuantConfig::from_json's keys) that apply a suggestion.
std::string node_config(const std::string& node, const nlohmann::json& spec) {
  return nlohmann::json{{"nodes", {{node, spec}}}}.dump();
}
// int16 for an activation: its producer's "activation", or "input" for a model input.
std::string int16_config(const TensorAnalysis& t) {
  return t.node.empty() ? nlohmann::json{{"input", "int16"}}.dump() : node_config(t.node, {{"activation", "int16"}});
}

void add_suggestion(PrecisionReport& r, const std::string& text, const std::string& config) {
  r.suggestions.push_back(config.empty() ? text : fmt::format("{} (config: {})", text, config));
  r.suggestion_configs.push_back(config);
}

void suggest(PrecisionReport& r) {
  std::vector<const TensorAnalysis*> acts;
  for (const TensorAnalysis& t : r.tensors) {
    if (!t.weight) acts.push_back(&t);
  }
  const bool measured = std::any_of(acts.begin(), acts.end(), [](auto* t) { return t->int16_gain_db.has_value(); });
  if (measured) {
    // The integer program's figure where it was measured, else the fake-quantized one.
    auto gain = [](const TensorAnalysis* t) { return t->int16_gain_integer_db.value_or(t->int16_gain_db.value_or(0)); };
    std::vector<const TensorAnalysis*> by_gain = acts;
    std::stable_sort(by_gain.begin(), by_gain.end(), [&](auto* a, auto* b) {
      if (a->int16_gain_integer_db.has_value() != b->int16_gain_integer_db.has_value()) return a->int16_gain_integer_db.has_value();
      return gain(a) > gain(b);
    });
    for (size_t i = 0; i < by_gain.size() && i < 5; ++i) {
      const TensorAnalysis& t = *by_gain[i];
      if (gain(&t) < 0.1 || t.params.dtype == DType::kInt16) continue;
      add_suggestion(r,
                     fmt::format("{}: {:.1f} dB isolated; int16 raises the model output {:+.1f} dB ({}) for {} of MACs",
                                 subject(t), t.isolated.snr_db, gain(&t),
                                 t.int16_gain_integer_db ? "measured on the integer program" : "fake-quantized",
                                 pct(r.total_macs ? static_cast<double>(t.macs) / r.total_macs : 0.0)),
                     int16_config(t));
    }
  }
  // Values clipped where their readers saturate look bad against their unclipped float
  // values and cost nothing downstream: their readers' figures tell.
  std::vector<const TensorAnalysis*> by_isolated;
  for (const TensorAnalysis* t : acts) {
    if (!(t->readers_saturate && t->clipped_share > 0.005)) by_isolated.push_back(t);
  }
  std::sort(by_isolated.begin(), by_isolated.end(),
            [](auto* a, auto* b) { return a->isolated.snr_db < b->isolated.snr_db; });
  for (size_t i = 0; i < by_isolated.size() && i < 5; ++i) {
    const TensorAnalysis& t = *by_isolated[i];
    if (t.isolated.snr_db > 30.0) break;
    const std::string where = fmt::format("{}: {:.1f} dB isolated{}", subject(t),
                                          t.isolated.snr_db,
                                          t.cumulative ? fmt::format(", {:.1f} dB cumulative", t.cumulative->snr_db) : "");
    if (t.clipped_share > 0.005) {
      // A node's range by the max method; a model input (no node) by the extent seen.
      const std::string config =
          t.node.empty()
              ? nlohmann::json{{"tensors", {{t.tensor, {{"min", t.histogram_min}, {"max", t.histogram_max}}}}}}.dump()
              : node_config(t.node, {{"method", "max"}});
      add_suggestion(r,
                     fmt::format("{}; its {} range [{:.3g}, {:.3g}] clips {} of the values: try a wider range", where,
                                 t.params.method, t.params.range.min, t.params.range.max, pct(t.clipped_share)),
                     config);
    } else if (t.params.dtype != DType::kInt16 && !measured) {
      add_suggestion(r,
                     fmt::format("{}; rounding dominates: int16 for this node ({} of MACs{}; run with --sensitivity "
                                 "to measure the gain)",
                                 where, pct(r.total_macs ? static_cast<double>(t.macs) / r.total_macs : 0.0),
                                 t.macs ? "" : ", an elementwise op"),
                     int16_config(t));
    }
  }
  for (const TensorAnalysis& t : r.tensors) {
    if (!t.weight || t.node.empty()) continue;
    if (!t.params.per_channel() && t.channel_spread > 20.0) {
      add_suggestion(r,
                     fmt::format("`{}` weight `{}`: channel ranges differ {:.0f}x under one scale ({:.1f} dB isolated): "
                                 "use per-channel weights",
                                 t.node, t.tensor, t.channel_spread, t.isolated.snr_db),
                     node_config(t.node, {{"per_channel", true}}));
    } else if (t.isolated.snr_db < 20.0 && t.params.dtype != DType::kInt16) {
      add_suggestion(r,
                     fmt::format("`{}` weight `{}`: {:.1f} dB isolated{}: int16 weights for this node", t.node, t.tensor,
                                 t.isolated.snr_db,
                                 t.params.per_channel() ? fmt::format(" (per-channel, spread {:.0f}x)", t.channel_spread) : ""),
                     node_config(t.node, {{"weight", "int16"}}));
    }
  }
}

// The program `q` compiles to with `tensor` (and the values sharing its parameters) int16,
// biases following their inputs' scales, as mixed precision makes it.
Program with_int16(const QuantizedGraph& q, const Program& program, const std::string& tensor, const AnalysisOptions& o) {
  QuantizedGraph probe;
  probe.graph = q.graph.clone();
  probe.params = q.params;
  for (const Value* member : parameter_group(probe.graph.value(tensor), probe)) {
    probe.params[member->name()] = as_int16(probe.params.at(member->name()));
  }
  analysis::refresh_biases(probe);
  probe.decisions = derive_decisions(probe.graph, probe.params);
  CompileOptions compile;
  compile.target = o.target;
  for (const ProgramTensorInfo& in : program.inputs()) compile.input_shapes[in.name] = in.shape;
  return Compiler(compile).compile(probe);
}

// Sensitivity on the fake-quantized model: per activation, the outputs with only it
// quantized, and with everything quantized and it int16. The integer program cannot run
// "all else float" (its kernels take integer inputs: a program with one quantized tensor is
// the float model with that tensor rounded, which is what fake quantization computes), so
// that figure stays fake-quantized; the int16 gain of the strongest candidates is then
// measured again on recompiled integer programs (integer_checks).
void sensitivity(PrecisionReport& r, const QuantizedGraph& q, const Program& program, const std::vector<TensorMap>& all,
                 const AnalysisOptions& o) {
  const std::vector<TensorMap> samples(all.begin(), all.begin() + std::min(all.size(), o.sensitivity_samples));
  SimulatorOptions so;
  so.threads = o.threads;
  const Simulator reference(q.graph, so);
  std::vector<TensorMap> want;
  for (const TensorMap& s : samples) want.push_back(reference.run(s));
  auto run_with = [&](const std::map<std::string, QuantParams>& params) {
    SimulatorOptions options = so;
    options.transform = [&params](const Value& value, const Tensor& data) {
      const auto p = params.find(value.name());
      return p == params.end() || data.dtype() != DType::kFloat32 ? data : fake_quantize(data, p->second);
    };
    const Simulator sim(q.graph, options);
    std::vector<TensorMap> got;
    for (const TensorMap& s : samples) got.push_back(sim.run(s));
    return snr_db(want, got);
  };
  r.fake_quant_output_snr_db = run_with(q.params);
  const double base = min_output_snr(r.fake_quant_output_snr_db);
  std::vector<TensorAnalysis*> candidates;
  const auto activations = std::count_if(r.tensors.begin(), r.tensors.end(),
                                         [](const TensorAnalysis& t) { return !t.weight; });
  int64_t measured = 0;
  for (TensorAnalysis& t : r.tensors) {
    if (t.weight) continue;
    if (o.progress) o.progress("sensitivity", measured++, activations);
    t.sensitivity_snr_db = min_output_snr(run_with({{t.tensor, t.params}}));
    if (t.params.dtype == DType::kInt16) {
      t.int16_gain_db = 0.0;
      continue;
    }
    std::map<std::string, QuantParams> params = q.params;
    for (const Value* member : parameter_group(q.graph.value(t.tensor), q)) {
      params[member->name()] = as_int16(params.at(member->name()));
    }
    t.int16_gain_db = min_output_snr(run_with(params)) - base;
    if (*t.int16_gain_db > 0.0 && t.params.method != "same as input") candidates.push_back(&t);
  }
  if (candidates.empty() || o.integer_checks == 0) return;
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](auto* a, auto* b) { return *a->int16_gain_db > *b->int16_gain_db; });
  auto fixed_snr = [&](const Program& p) {
    const FixedSimulator fixed(p, {o.threads});
    std::vector<TensorMap> got;
    for (const TensorMap& s : samples) got.push_back(fixed.run_float(s));
    return min_output_snr(snr_db(want, got));
  };
  const double fixed_base = fixed_snr(program);
  for (size_t i = 0; i < candidates.size() && i < o.integer_checks; ++i) {
    TensorAnalysis& t = *candidates[i];
    try {
      const Program wide = with_int16(q, program, t.tensor, o);
      if (wide.serialize() == program.serialize()) {
        // The compiler keeps this value at no width of its own (inside a fused group or a
        // chain lowered as one table): int16 there changes nothing in the program.
        t.int16_gain_integer_db = 0.0;
        r.notes.push_back(fmt::format("int16 for \"{}\" compiles to the same integer program (the value is not "
                                      "stored on its own there)", t.tensor));
        continue;
      }
      t.int16_gain_integer_db = fixed_snr(wide) - fixed_base;
    } catch (const Error& e) {
      // A program that does not compile with it int16 (the target has no int16 kernel
      // there): the fake-quantized figure stands, and the report says why.
      r.notes.push_back(fmt::format("int16 for \"{}\" not measured on the integer program: {}", t.tensor, e.what()));
    }
  }
  if (o.progress) o.progress("sensitivity", activations, activations);
}

void check_samples(const Program& program, const std::vector<TensorMap>& samples) {
  if (samples.empty()) throw Error(StatusCode::kInvalidArgument, "precision analysis: no samples");
  for (size_t s = 0; s < samples.size(); ++s) {
    for (const ProgramTensorInfo& in : program.inputs()) {
      const auto it = samples[s].find(in.name);
      if (it == samples[s].end()) {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("precision analysis: sample {} has no data for input \"{}\"", s, in.name));
      }
      if (it->second.shape() != in.shape) {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("precision analysis: sample {} of input \"{}\" has shape {}, the program "
                                "was compiled for {}", s, in.name, shape_str(it->second.shape()), shape_str(in.shape)));
      }
    }
  }
}

}  // namespace

PrecisionReport analyze_precision(const QuantizedGraph& q, const Program& program,
                                  const std::vector<TensorMap>& samples, const AnalysisOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  check_samples(program, samples);
  PrecisionReport r;
  r.model = q.graph.name();
  r.samples = samples.size();
  r.estimate_json = estimate_program(program, o.target).to_json();
  std::map<std::string, int64_t> macs;
  for (const LayerInfo& layer : program.layers()) {
    macs[layer.node] += layer.macs;
    r.total_macs += layer.macs;
  }
  // Tensors in graph order: inputs, then each node's inputs (weights) and outputs.
  std::map<std::string, size_t> index;
  auto add = [&](const Value* v) {
    const QuantParams* p = q.find(v->name());
    if (!p || index.count(v->name()) || p->dtype == DType::kInt32) return;
    if (v->is_constant() && (!v->initializer() || v->initializer()->dtype() != DType::kFloat32)) return;
    TensorAnalysis t;
    t.tensor = v->name();
    t.weight = v->is_constant();
    t.params = *p;
    if (v->is_graph_input()) {
      t.op_type = "Input";  // no node: the program quantizes it as it reads it
    } else if (const Node* n = owner(*v)) {
      t.node = n->name();
      t.op_type = n->op_type();
      t.macs = macs.count(n->name()) ? macs.at(n->name()) : 0;
      // A fused activation's output carries its producer's MACs.
      const Value* in = n->input(0);
      if (!t.weight && t.macs == 0 && in && in->producer() && !q.find(in->name()) && macs.count(in->producer()->name())) {
        t.macs = macs.at(in->producer()->name());
      }
    }
    t.readers_saturate = !t.weight && !v->uses().empty() &&
                         std::all_of(v->uses().begin(), v->uses().end(), [](const Use& u) {
                           const std::string& op = u.node->op_type();
                           return op == "HardSigmoid" || op == "Clip" || op == "Relu" || op == "HardSwish";
                         });
    index[t.tensor] = r.tensors.size();
    r.tensors.push_back(std::move(t));
  };
  for (const Value* in : q.graph.inputs()) add(in);
  for (const Node* n : q.graph.nodes()) {
    for (const Value* in : n->inputs()) {
      if (in && in->is_constant()) add(in);
    }
    for (const Value* out : n->outputs()) add(out);
  }
  std::vector<Accumulator> acc(r.tensors.size());
  for (size_t i = 0; i < r.tensors.size(); ++i) {
    TensorAnalysis& t = r.tensors[i];
    if (!t.weight) continue;
    const Tensor& w = *q.graph.value(t.tensor).initializer();
    add_values(t, acc[i], w, o.histogram_bins);
    t.elements = w.numel();
    t.channel_spread = channel_spread(w, t.params);
  }

  SimulatorOptions so;
  so.threads = o.threads;
  const Simulator reference(q.graph, so);
  const FixedSimulator fixed(program, {o.threads});
  std::map<std::string, ErrorSums> outputs;
  for (size_t s = 0; s < samples.size(); ++s) {
    const bool dump = o.dump_sample && *o.dump_sample == s;
    TensorMap floats;
    // Each float tensor is measured as the Simulator computes it (still in cache) and kept
    // for the fixed run's comparison: by reference when it owns its buffer (the Simulator
    // never writes a computed tensor again), else copied.
    auto keep = [&](const Value& value, const Tensor& data) {
      const auto it = index.find(value.name());
      const bool wanted = it != index.end() || value.is_graph_output() || dump;
      if (!wanted || data.dtype() != DType::kFloat32) return;
      if (it != index.end()) {
        TensorAnalysis& t = r.tensors[it->second];
        t.elements = data.numel();
        add_values(t, acc[it->second], data, o.histogram_bins);
      }
      floats[value.name()] = data.owns_data() ? data : copy_float(data);
    };
    for (const auto& [name, data] : samples[s]) {
      if (const Value* v = q.graph.find_value(name)) keep(*v, data);
    }
    reference.run(samples[s], keep);
    auto compare = [&](const ProgramTensorInfo& info, const Tensor& data) {
      const auto f = floats.find(info.name);
      const bool wanted = index.count(info.name) || dump;
      if (f == floats.end() || !wanted) return;
      if (data.numel() != f->second.numel()) return;
      const auto it = index.find(info.name);
      if (!dump && it != index.end() && info.quantized && !info.quant.per_channel()) {
        // The common case fused: codes dequantized inside the error loop.
        const float scale = info.quant.scale.at(0);
        const auto zero_point = static_cast<float>(info.quant.zero_point.at(0));
        ErrorSums& sums = acc[it->second].cumulative;
        const float* want = f->second.data<float>();
        bool done = true;
        if (data.dtype() == DType::kInt8) {
          add_codes_int8(sums, want, data.data<int8_t>(), data.numel(), zero_point, scale);
        } else if (data.dtype() == DType::kUInt8) {
          add_codes_uint8(sums, want, data.data<uint8_t>(), data.numel(), zero_point, scale);
        } else if (data.dtype() == DType::kInt16) {
          add_codes_int16(sums, want, data.data<int16_t>(), data.numel(), zero_point, scale);
        } else {
          done = false;
        }
        if (done) {
          acc[it->second].seen_fixed = true;
          return;
        }
      }
      std::vector<float>& real = scratch();
      if (!real_values(info, data, real)) return;
      if (dump) r.dump_fixed[info.name] = Tensor::from_vector<float>(data.shape(), real);
      if (it == index.end()) return;
      acc[it->second].cumulative.add(f->second.data<float>(), real.data(), data.numel());
      acc[it->second].seen_fixed = true;
    };
    const TensorMap got = fixed.run_float(samples[s], compare);
    for (const auto& [name, data] : got) {
      const auto f = floats.find(name);
      if (f == floats.end() || data.dtype() != DType::kFloat32 || data.numel() != f->second.numel()) continue;
      outputs[name].add(f->second.data<float>(), data.data<float>(), data.numel());
      if (dump) r.dump_fixed[name] = data.clone();
    }
    if (dump) r.dump_float = std::move(floats);
    if (o.progress) o.progress("analysis", static_cast<int64_t>(s) + 1, static_cast<int64_t>(samples.size()));
  }
  for (size_t i = 0; i < r.tensors.size(); ++i) {
    TensorAnalysis& t = r.tensors[i];
    t.isolated = acc[i].isolated.figures();
    if (acc[i].seen_fixed) t.cumulative = acc[i].cumulative.figures();
    // The program quantizes a float model input with its parameters, as fake quantization does.
    if (t.op_type == "Input") t.cumulative = t.isolated;
    t.clipped_share = acc[i].count ? static_cast<double>(acc[i].clipped) / acc[i].count : 0.0;
  }
  for (const auto& [name, sums] : outputs) r.outputs[name] = sums.figures();
  if (o.sensitivity) sensitivity(r, q, program, samples, o);
  suggest(r);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

QuantizedGraph parse_quant_params(Graph graph, const std::string& text, const std::string& context) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(StatusCode::kInvalidModel, fmt::format("{}: not JSON ({})", context, e.what()));
  }
  if (!root.is_object() || !root.contains("tensors") || !root["tensors"].is_object()) {
    throw Error(StatusCode::kInvalidModel, fmt::format("{}: no \"tensors\" object (not written by lquant quantize?)", context));
  }
  QuantizedGraph q;
  const std::vector<DType> dtypes = {DType::kInt4, DType::kInt8, DType::kUInt8, DType::kInt16, DType::kInt32};
  for (const auto& [name, t] : root["tensors"].items()) {
    if (!graph.find_value(name)) {
      throw Error(StatusCode::kInvalidModel,
                  fmt::format("{}: tensor \"{}\" is not in the model (are the parameters from another model?)", context, name));
    }
    try {
      QuantParams p;
      const std::string dtype = t.at("dtype").get<std::string>();
      const auto d = std::find_if(dtypes.begin(), dtypes.end(), [&](DType x) { return dtype == dtype_name(x); });
      if (d == dtypes.end()) throw Error(StatusCode::kInvalidModel, fmt::format("unknown dtype '{}'", dtype));
      p.dtype = *d;
      p.scale = t.at("scale").get<std::vector<float>>();
      p.zero_point = t.at("zero_point").get<std::vector<int32_t>>();
      p.axis = t.at("axis").get<int>();
      p.range = {t.at("min").get<double>(), t.at("max").get<double>()};
      p.method = t.at("method").get<std::string>();
      q.params[name] = std::move(p);
    } catch (const std::exception& e) {
      throw Error(StatusCode::kInvalidModel, fmt::format("{}: tensor \"{}\": {}", context, name, e.what()));
    }
  }
  if (root.contains("log") && root["log"].is_array()) q.log = root["log"].get<std::vector<std::string>>();
  q.graph = std::move(graph);
  q.decisions = derive_decisions(q.graph, q.params);
  return q;
}

namespace {

std::string read_file(const fs::path& path, const std::string& what) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(StatusCode::kNotFound, fmt::format("{}: cannot read '{}'", what, path.string()));
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

bool is_picture(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

// The source's sample files: folders' .npy files (or pictures) sorted by name, files as given.
std::vector<fs::path> sample_files(const std::string& input, const CalibrationSource& source) {
  const char* kind = source.images ? "pictures (.png, .jpg, .jpeg, .bmp)" : ".npy files";
  std::vector<fs::path> files;
  for (const std::string& path : source.paths) {
    if (!fs::exists(path)) throw Error(StatusCode::kNotFound, fmt::format("input \"{}\": '{}' does not exist", input, path));
    if (!fs::is_directory(path)) {
      files.emplace_back(path);
      continue;
    }
    std::vector<fs::path> listed;
    for (const auto& entry : fs::directory_iterator(path)) {
      if (!entry.is_regular_file()) continue;
      if (source.images ? is_picture(entry.path()) : entry.path().extension() == ".npy") listed.push_back(entry.path());
    }
    if (listed.empty()) {
      throw Error(StatusCode::kInvalidArgument, fmt::format("input \"{}\": '{}' holds no {}{}", input, path, kind,
                                                            source.images ? "" : " (pictures need --images)"));
    }
    std::sort(listed.begin(), listed.end());
    files.insert(files.end(), listed.begin(), listed.end());
  }
  if (files.empty()) throw Error(StatusCode::kInvalidArgument, fmt::format("input \"{}\": no sample files given", input));
  return files;
}

Tensor load_sample(const std::string& input, const fs::path& file, const CalibrationSource& source) {
  try {
    return source.images ? load_image(file.string(), source.preprocess) : load_npy(file.string());
  } catch (const Error& e) {
    const std::string what = e.what();
    // Name the file and the input once.
    throw Error(e.code(), what.find(file.string()) != std::string::npos
                              ? fmt::format("input \"{}\": {}", input, what)
                              : fmt::format("input \"{}\": '{}': {}", input, file.string(), what));
  }
}

}  // namespace

PrecisionReport analyze_quant_dir(const std::string& quant_dir, const std::map<std::string, std::string>& data_dirs,
                                  const std::string& out_dir, const AnalysisOptions& options) {
  std::map<std::string, CalibrationSource> sources;
  for (const auto& [name, dir] : data_dirs) sources[name].paths = {dir};
  return analyze_quant_dir(quant_dir, sources, out_dir, options);
}

PrecisionReport analyze_quant_dir(const std::string& quant_dir, const std::map<std::string, CalibrationSource>& data_dirs,
                                  const std::string& out_dir, const AnalysisOptions& options) {
  const fs::path dir(quant_dir);
  for (const char* name : {"model.float.onnx", "quant_params.json", "model.lqm"}) {
    if (!fs::exists(dir / name)) {
      throw Error(StatusCode::kNotFound,
                  fmt::format("'{}' is missing (write QUANT_DIR with lquant quantize)", (dir / name).string()));
    }
  }
  Graph graph = load_onnx((dir / "model.float.onnx").string());
  const std::string params_path = (dir / "quant_params.json").string();
  const QuantizedGraph q = parse_quant_params(std::move(graph), read_file(params_path, "quant parameters"), params_path);
  const Program program = Program::load((dir / "model.lqm").string());
  for (const ProgramTensorInfo& in : program.inputs()) {
    if (!q.graph.find_value(in.name)) {
      throw Error(StatusCode::kInvalidModel,
                  fmt::format("'{}' has input \"{}\", which model.float.onnx has not: the files are from different models",
                              (dir / "model.lqm").string(), in.name));
    }
  }
  for (const ProgramTensorInfo& out : program.outputs()) {
    if (!q.graph.find_value(out.name)) {
      throw Error(StatusCode::kInvalidModel,
                  fmt::format("'{}' has output \"{}\", which model.float.onnx has not: the files are from different models",
                              (dir / "model.lqm").string(), out.name));
    }
  }
  const std::vector<ProgramTensorInfo> inputs = program.inputs();
  for (const auto& [name, source] : data_dirs) {
    const std::string path = source.paths.empty() ? "" : source.paths.front();
    const bool known = name.empty() ? inputs.size() == 1
                                    : std::any_of(inputs.begin(), inputs.end(),
                                                  [&name = name](const ProgramTensorInfo& in) { return in.name == name; });
    if (!known) throw Error(StatusCode::kInvalidArgument, fmt::format("--data {}={}: the model has no input \"{}\"", name, path, name));
  }
  std::vector<TensorMap> samples;
  for (const ProgramTensorInfo& in : inputs) {
    auto d = data_dirs.find(in.name);
    if (d == data_dirs.end() && inputs.size() == 1) d = data_dirs.find("");
    if (d == data_dirs.end()) {
      throw Error(StatusCode::kInvalidArgument, fmt::format("model input \"{}\" has no data folder (--data {}=DIR)", in.name, in.name));
    }
    const CalibrationSource& source = d->second;
    const std::vector<fs::path> files = sample_files(in.name, source);
    if (!samples.empty() && samples.size() != files.size()) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("input \"{}\": '{}' holds {} samples, the other inputs {}", in.name,
                              source.paths.empty() ? "" : source.paths.front(), files.size(), samples.size()));
    }
    samples.resize(files.size());
    for (size_t s = 0; s < files.size(); ++s) {
      Tensor t = load_sample(in.name, files[s], source);
      if (t.dtype() != DType::kFloat32) {
        if (!dtype_is_float(t.dtype())) {
          throw Error(StatusCode::kInvalidArgument, fmt::format("input \"{}\": '{}' holds {} values; the model takes float32",
                                                                in.name, files[s].string(), dtype_name(t.dtype())));
        }
        t = t.cast(DType::kFloat32);
      }
      // A sample without the batch dimension, as calibration accepts it.
      if (!in.shape.empty() && in.shape[0] == 1 && Shape(in.shape.begin() + 1, in.shape.end()) == t.shape()) {
        t = t.reshaped(in.shape);
      }
      if (t.shape() != in.shape) {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("input \"{}\": '{}' has shape {}, model.lqm expects {}{}", in.name, files[s].string(),
                                shape_str(t.shape()), shape_str(in.shape),
                                source.images ? " (check the picture options: --image-size, --resize, --color)" : ""));
      }
      samples[s][in.name] = std::move(t);
    }
  }
  if (options.dump_sample && *options.dump_sample >= samples.size()) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("--dump {}: there are {} samples (0..{})", *options.dump_sample, samples.size(), samples.size() - 1));
  }
  PrecisionReport report = analyze_precision(q, program, samples, options);
  report.write(out_dir);
  return report;
}

}  // namespace lq
