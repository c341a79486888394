// lib/analysis/select_range.cpp: the default range choice among the single methods
// (QuantConfig::select_range) and the accuracy target (QuantConfig::min_snr_db).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

#include "libquant/analysis.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/quantizer.hpp"
#include "net_test_util.hpp"

using namespace lq;

namespace {

// Heavy-tailed data (a few large values), so that the methods' ranges differ.
TensorMap tailed_input(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  Tensor t(DType::kFloat32, {1, 2, 4, 4});
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float v = dist(rng);
    t.data<float>()[i] = i % 13 == 0 ? 12.0f * v : v;
  }
  return {{"x", t}};
}

// x -> Conv c1 (large gains) -> Conv c2 -> Add(c2, Conv t(x)) -> y
Graph select_graph() { return test::sensitive_graph(); }

std::unique_ptr<Calibrator> calibrated(const Graph& g) {
  CalibrationOptions options;
  options.keep_samples = 8;
  auto calibrator = std::make_unique<Calibrator>(g, options);
  for (uint32_t s = 0; s < 12; ++s) calibrator->add_sample(tailed_input(s));
  return calibrator;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string all;
  for (const std::string& line : lines) all += line + "\n";
  return all;
}

// Same parameters for every tensor (the logs may differ).
bool same_params(const QuantizedGraph& a, const QuantizedGraph& b) {
  if (a.params.size() != b.params.size()) return false;
  for (const auto& [name, p] : a.params) {
    const QuantParams* q = b.find(name);
    if (!q || q->dtype != p.dtype || q->scale != p.scale || q->zero_point != p.zero_point || q->method != p.method) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("select_range keeps the single range method of the best output SNR on the first samples",
          "[analysis][select]") {
  const Graph g = select_graph();
  const auto owner = calibrated(g);
  const Calibrator& calibrator = *owner;
  const std::vector<TensorMap>& kept = calibrator.kept_samples();
  const std::vector<TensorMap> scoring(kept.begin(), kept.begin() + QuantConfig::kSelectSamples);

  // Each single method on its own, scored the same way.
  std::string best;
  double best_snr = -INFINITY;
  std::vector<double> snrs;
  std::vector<RangeMethod> order = {RangeMethod::kPercentile, RangeMethod::kMax, RangeMethod::kKL,
                                    RangeMethod::kMSE, RangeMethod::kMMSE};
  for (const RangeMethod& m : order) {
    QuantConfig c;
    c.model.method = m;
    const double snr = output_snr_db(Quantizer(c).quantize(g, calibrator.table()), scoring).at("y");
    snrs.push_back(snr);
    if (snr > best_snr) {
      best_snr = snr;
      best = range_method_name(m);
    }
  }
  // The data makes the choice matter: the methods differ by more than a dB.
  REQUIRE(*std::max_element(snrs.begin(), snrs.end()) > *std::min_element(snrs.begin(), snrs.end()) + 1.0);

  const QuantizedGraph chosen = quantize_model(Quantizer(QuantConfig{}), g, calibrator.table(), kept);
  QuantConfig by_best;
  by_best.model.method = parse_range_method(best);
  const QuantizedGraph direct = Quantizer(by_best).quantize(g, calibrator.table());
  REQUIRE(same_params(chosen, direct));
  REQUIRE(output_snr_db(chosen, scoring).at("y") == Approx(best_snr));
  REQUIRE_THAT(joined(chosen.log), Catch::Contains("range method " + best + " for every activation"));

  // A method set, select_range off, 16-bit activations or no samples: no selection.
  QuantConfig off;
  off.select_range = false;
  REQUIRE(quantize_model(Quantizer(off), g, calibrator.table(), kept).params_json() ==
          Quantizer(QuantConfig{}).quantize(g, calibrator.table()).params_json());
  QuantConfig node_method;
  node_method.nodes["c1"].method = RangeMethod::kMax;
  REQUIRE(quantize_model(Quantizer(node_method), g, calibrator.table(), kept).params_json() ==
          Quantizer(node_method).quantize(g, calibrator.table()).params_json());
  QuantConfig wide;
  wide.model.activation_dtype = DType::kInt16;
  wide.model.weight_dtype = DType::kInt16;
  REQUIRE(quantize_model(Quantizer(wide), g, calibrator.table(), kept).params_json() ==
          Quantizer(wide).quantize(g, calibrator.table()).params_json());
  REQUIRE(quantize_model(Quantizer(QuantConfig{}), g, calibrator.table()).params_json() ==
          Quantizer(QuantConfig{}).quantize(g, calibrator.table()).params_json());
  // The config key round-trips.
  REQUIRE_FALSE(QuantConfig::from_json(off.to_json()).select_range);
  REQUIRE(QuantConfig::from_json(QuantConfig{}.to_json()).select_range);
}

TEST_CASE("min_snr spends int16 on the most harmful activations until the target is met", "[analysis][select]") {
  const Graph g = select_graph();
  const auto owner = calibrated(g);
  const Calibrator& calibrator = *owner;
  const std::vector<TensorMap>& kept = calibrator.kept_samples();
  QuantConfig base;
  base.model.method = RangeMethod::kMax;
  const QuantizedGraph int8 = quantize_model(Quantizer(base), g, calibrator.table(), kept);
  const double snr8 = output_snr_db(int8, kept).at("y");
  QuantConfig everything = base;
  everything.int16_budget = 1.0;
  const QuantizedGraph full = quantize_model(Quantizer(everything), g, calibrator.table(), kept);
  const double snr_full = output_snr_db(full, kept).at("y");
  REQUIRE(snr_full > snr8 + 6.0);

  // A target between the two: met, on the kept samples, and said so.
  QuantConfig target = base;
  target.min_snr_db = snr8 + 3.0;
  target.int16_budget = 1.0;
  const QuantizedGraph met = quantize_model(Quantizer(target), g, calibrator.table(), kept);
  REQUIRE(output_snr_db(met, kept).at("y") >= target.min_snr_db);
  REQUIRE_THAT(joined(met.log), Catch::Contains("dB: reached"));
  int wide_met = 0, wide_full = 0;
  for (const auto& [name, p] : met.params) wide_met += p.dtype == DType::kInt16;
  for (const auto& [name, p] : full.params) wide_full += p.dtype == DType::kInt16;
  REQUIRE(wide_met >= 1);
  REQUIRE(wide_met <= wide_full);

  // Already met: nothing changes.
  target.min_snr_db = std::max(1.0, snr8 - 3.0);
  const QuantizedGraph as_is = quantize_model(Quantizer(target), g, calibrator.table(), kept);
  REQUIRE(same_params(as_is, int8));
  REQUIRE_THAT(joined(as_is.log), Catch::Contains("met as quantized"));

  // Out of reach: the best it found, and a plain statement.
  target.min_snr_db = 200.0;
  const QuantizedGraph unreachable = quantize_model(Quantizer(target), g, calibrator.table(), kept);
  REQUIRE_THAT(joined(unreachable.log), Catch::Contains("dB: NOT reached") && Catch::Contains("raise int16_budget"));
  REQUIRE(output_snr_db(unreachable, kept).at("y") >= snr_full - 0.5);

  // No int16 on the target, or no kept samples.
  target.min_snr_db = snr8 + 3.0;
  const QuantizedGraph on_int8 = quantize_model(Quantizer(target, Target::named("int8")), g, calibrator.table(), kept);
  REQUIRE_THAT(joined(on_int8.log), Catch::Contains("has no int16 to spend"));
  REQUIRE_THROWS_WITH(quantize_model(Quantizer(target), g, calibrator.table()), Catch::Contains("keep_samples"));
  REQUIRE(QuantConfig::from_json(target.to_json()).min_snr_db == target.min_snr_db);
}
