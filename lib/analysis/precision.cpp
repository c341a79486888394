// Precision analysis: every quantized tensor of the fixed-point program against the float
// model (cumulative error), the tensor quantized alone (isolated error), its range, and
// optionally each tensor's effect on the model outputs (sensitivity); suggestions from them.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "libquant/analysis.hpp"

namespace lq {

namespace {

namespace fs = std::filesystem;

// Signal, noise and cross products of measured values against float ones.
struct ErrorSums {
  double signal = 0.0, noise = 0.0, dot = 0.0, measured = 0.0, max_abs = 0.0;

  // Eight float lanes per block of 1024 values (a loop the compiler vectorizes), summed
  // into doubles after each block.
  void add(const float* want, const float* got, int64_t n) {
    add_with(want, n, [got](int64_t i) { return got[i]; });
  }
  // `got(i)` computes the measured value of element i (fused into the same loop).
  template <typename Got>
  void add_with(const float* want, int64_t n, Got got) {
    constexpr int kLanes = 8;
    constexpr int64_t kBlock = 1024;
    for (int64_t start = 0; start < n; start += kBlock) {
      const int64_t end = std::min(n, start + kBlock);
      float s[kLanes] = {}, e[kLanes] = {}, d[kLanes] = {}, m[kLanes] = {}, mx[kLanes] = {};
      int64_t i = start;
      for (; i + kLanes <= end; i += kLanes) {
        for (int l = 0; l < kLanes; ++l) {
          const float w = want[i + l], g = got(i + l), diff = g - w;
          s[l] += w * w;
          e[l] += diff * diff;
          d[l] += w * g;
          m[l] += g * g;
          mx[l] = std::max(mx[l], std::abs(diff));
        }
      }
      for (; i < end; ++i) {
        const float w = want[i], g = got(i), diff = g - w;
        s[0] += w * w;
        e[0] += diff * diff;
        d[0] += w * g;
        m[0] += g * g;
        mx[0] = std::max(mx[0], std::abs(diff));
      }
      for (int l = 0; l < kLanes; ++l) {
        signal += s[l];
        noise += e[l];
        dot += d[l];
        measured += m[l];
        max_abs = std::max(max_abs, static_cast<double>(mx[l]));
      }
    }
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

void add_values(TensorAnalysis& t, Accumulator& acc, const Tensor& data, int bins) {
  const float* x = data.data<float>();
  const int64_t n = data.numel();
  if (t.params.per_channel() || t.params.dtype == DType::kInt32) {
    const Tensor fake = fake_quantize(data, t.params);
    acc.isolated.add(x, fake.data<float>(), n);
  } else {
    // fake_quantize's arithmetic (clamped quotient, round half to even by the 1.5 * 2^23
    // trick) into a reused buffer: no allocation per tensor and sample.
    constexpr float kRound = 12582912.0f;
    const float scale = t.params.scale.at(0);
    const auto zero_point = static_cast<float>(t.params.zero_point.at(0));
    const float qlo = static_cast<float>(t.params.qmin()) - zero_point;
    const float qhi = static_cast<float>(t.params.qmax()) - zero_point;
    acc.isolated.add_with(x, n, [=](int64_t i) {
      float v = x[i] / scale;
      v = v < qlo ? qlo : (v > qhi ? qhi : v);
      const float q = (v + kRound) - kRound;
      return (q == q ? q : 0.0f) * scale;
    });
  }
  if (t.histogram.empty()) {
    auto lo = static_cast<float>(t.params.range.min), hi = static_cast<float>(t.params.range.max);
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min(lo, x[i]);
      hi = std::max(hi, x[i]);
    }
    if (hi <= lo) hi = lo + 1e-6;
    t.histogram_min = lo;
    t.histogram_max = hi;
    t.histogram.assign(static_cast<size_t>(bins), 0);
  }
  const auto lo = static_cast<float>(t.histogram_min);
  const auto per_bin = static_cast<float>(bins / (t.histogram_max - t.histogram_min));
  const auto last = static_cast<float>(bins - 1);
  const auto clip_lo = static_cast<float>(t.params.range.min), clip_hi = static_cast<float>(t.params.range.max);
  // Bins and clipping in a loop the compiler vectorizes, then the counts.
  thread_local std::vector<int32_t> bin_of;
  bin_of.resize(static_cast<size_t>(n));
  int32_t* b = bin_of.data();
  int64_t clipped = 0;
  for (int64_t i = 0; i < n; ++i) {
    b[i] = static_cast<int32_t>(std::min(std::max((x[i] - lo) * per_bin, 0.0f), last));
    clipped += (x[i] < clip_lo) | (x[i] > clip_hi);
  }
  // Four interleaved count arrays: runs of values in one bin do not wait on each other.
  std::vector<int32_t> counts(4 * static_cast<size_t>(bins), 0);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    ++counts[static_cast<size_t>(b[i])];
    ++counts[static_cast<size_t>(bins + b[i + 1])];
    ++counts[static_cast<size_t>(2 * bins + b[i + 2])];
    ++counts[static_cast<size_t>(3 * bins + b[i + 3])];
  }
  for (; i < n; ++i) ++counts[static_cast<size_t>(b[i])];
  for (size_t k = 0; k < t.histogram.size(); ++k) {
    t.histogram[k] += static_cast<int64_t>(counts[k]) + counts[bins + k] + counts[2 * bins + k] + counts[3 * bins + k];
  }
  acc.clipped += clipped;
  acc.count += n;
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

void suggest(PrecisionReport& r) {
  std::vector<const TensorAnalysis*> acts;
  for (const TensorAnalysis& t : r.tensors) {
    if (!t.weight) acts.push_back(&t);
  }
  const bool measured = std::any_of(acts.begin(), acts.end(), [](auto* t) { return t->int16_gain_db.has_value(); });
  if (measured) {
    std::vector<const TensorAnalysis*> by_gain = acts;
    std::sort(by_gain.begin(), by_gain.end(),
              [](auto* a, auto* b) { return a->int16_gain_db.value_or(0) > b->int16_gain_db.value_or(0); });
    for (size_t i = 0; i < by_gain.size() && i < 5; ++i) {
      const TensorAnalysis& t = *by_gain[i];
      if (t.int16_gain_db.value_or(0) < 0.1 || t.params.dtype == DType::kInt16) continue;
      r.suggestions.push_back(fmt::format(
          "{}: {:.1f} dB isolated; int16 raises the model output {:+.1f} dB for {} of MACs "
          "(config: \"nodes\": {{\"{}\": {{\"activation\": \"int16\"}}}})",
          subject(t), t.isolated.snr_db, *t.int16_gain_db,
          pct(r.total_macs ? static_cast<double>(t.macs) / r.total_macs : 0.0), t.node));
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
      r.suggestions.push_back(fmt::format(
          "{}; its {} range [{:.3g}, {:.3g}] clips {} of the values: try a wider range (\"method\": \"mse\" or "
          "\"max\" for this node)", where, t.params.method, t.params.range.min, t.params.range.max, pct(t.clipped_share)));
    } else if (t.params.dtype != DType::kInt16 && !measured) {
      r.suggestions.push_back(fmt::format("{}; rounding dominates: int16 for this node ({} of MACs{}) "
                                          "(run with --sensitivity to measure the gain)",
                                          where, pct(r.total_macs ? static_cast<double>(t.macs) / r.total_macs : 0.0),
                                          t.macs ? "" : ", an elementwise op"));
    }
  }
  for (const TensorAnalysis& t : r.tensors) {
    if (!t.weight) continue;
    if (!t.params.per_channel() && t.channel_spread > 20.0) {
      r.suggestions.push_back(fmt::format(
          "`{}` weight `{}`: channel ranges differ {:.0f}x under one scale ({:.1f} dB isolated): use per-channel "
          "weights (--per-channel)", t.node, t.tensor, t.channel_spread, t.isolated.snr_db));
    } else if (t.isolated.snr_db < 20.0 && t.params.dtype != DType::kInt16) {
      r.suggestions.push_back(fmt::format("`{}` weight `{}`: {:.1f} dB isolated{}: int16 weights for this node",
                                          t.node, t.tensor, t.isolated.snr_db,
                                          t.params.per_channel() ? fmt::format(" (per-channel, spread {:.0f}x)", t.channel_spread) : ""));
    }
  }
}

void sensitivity(PrecisionReport& r, const QuantizedGraph& q, const std::vector<TensorMap>& all,
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
  for (TensorAnalysis& t : r.tensors) {
    if (t.weight) continue;
    t.sensitivity_snr_db = min_output_snr(run_with({{t.tensor, t.params}}));
    if (t.params.dtype == DType::kInt16) {
      t.int16_gain_db = 0.0;
      continue;
    }
    std::map<std::string, QuantParams> params = q.params;
    params[t.tensor] = as_int16(t.params);
    t.int16_gain_db = min_output_snr(run_with(params)) - base;
  }
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
    auto keep = [&](const Value& value, const Tensor& data) {
      const bool wanted = index.count(value.name()) || value.is_graph_output() || dump;
      if (wanted && data.dtype() == DType::kFloat32) floats[value.name()] = copy_float(data);
    };
    for (const auto& [name, data] : samples[s]) {
      if (const Value* v = q.graph.find_value(name)) keep(*v, data);
    }
    reference.run(samples[s], keep);
    for (auto& [name, data] : floats) {
      const auto it = index.find(name);
      if (it == index.end()) continue;
      TensorAnalysis& t = r.tensors[it->second];
      t.elements = data.numel();
      add_values(t, acc[it->second], data, o.histogram_bins);
    }
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
          const int8_t* c = data.data<int8_t>();
          sums.add_with(want, data.numel(), [=](int64_t i) { return (static_cast<float>(c[i]) - zero_point) * scale; });
        } else if (data.dtype() == DType::kUInt8) {
          const uint8_t* c = data.data<uint8_t>();
          sums.add_with(want, data.numel(), [=](int64_t i) { return (static_cast<float>(c[i]) - zero_point) * scale; });
        } else if (data.dtype() == DType::kInt16) {
          const int16_t* c = data.data<int16_t>();
          sums.add_with(want, data.numel(), [=](int64_t i) { return (static_cast<float>(c[i]) - zero_point) * scale; });
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
  if (o.sensitivity) sensitivity(r, q, samples, o);
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

std::vector<fs::path> npy_files(const std::string& input, const std::string& dir) {
  if (!fs::is_directory(dir)) {
    throw Error(StatusCode::kNotFound, fmt::format("input \"{}\": '{}' is not a folder", input, dir));
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".npy") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw Error(StatusCode::kInvalidArgument, fmt::format("input \"{}\": '{}' holds no .npy files", input, dir));
  return files;
}

}  // namespace

PrecisionReport analyze_quant_dir(const std::string& quant_dir, const std::map<std::string, std::string>& data_dirs,
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
  const std::vector<ProgramTensorInfo> inputs = program.inputs();
  for (const auto& [name, path] : data_dirs) {
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
    const std::vector<fs::path> files = npy_files(in.name, d->second);
    if (!samples.empty() && samples.size() != files.size()) {
      throw Error(StatusCode::kInvalidArgument, fmt::format("input \"{}\": '{}' holds {} samples, the other inputs {}",
                                                            in.name, d->second, files.size(), samples.size()));
    }
    samples.resize(files.size());
    for (size_t s = 0; s < files.size(); ++s) {
      Tensor t = load_npy(files[s].string());
      // A sample without the batch dimension, as calibration accepts it.
      if (!in.shape.empty() && in.shape[0] == 1 && Shape(in.shape.begin() + 1, in.shape.end()) == t.shape()) {
        t = t.reshaped(in.shape);
      }
      if (t.shape() != in.shape) {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("input \"{}\": '{}' has shape {}, model.lqm expects {}", in.name, files[s].string(),
                                shape_str(t.shape()), shape_str(in.shape)));
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
