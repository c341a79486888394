// lib/analysis/bias_correction.cpp: empirical bias correction zeroes the mean output error of
// each corrected channel on the calibration samples.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <random>

#include "libquant/analysis.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/quantizer.hpp"
#include "net_test_util.hpp"

using namespace lq;

namespace {

// Positive inputs (mean far from 0), so that the weights' rounding errors add up to a
// systematic error per output channel.
TensorMap positive_input(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(0.5f, 2.0f);
  Tensor t(DType::kFloat32, {1, 3, 4, 4});
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return {{"x", t}};
}

// x[1,3,4,4] -> Conv c1 (+b1) -> Relu r1 -> Conv c2 (+b2) -> Relu y
Graph two_conv_graph() {
  test::NetBuilder b({1, 3, 4, 4});
  Value* c1 = b.node("Conv", {b.x, b.constant("w1", {2, 3, 1, 1}, {0.31f, 0.773f, -0.413f, 1.0f, 0.0571f, 0.229f}),
                              b.constant("b1", {2}, {0.1f, -0.2f})}, "c1");
  Value* r1 = b.node("Relu", {c1}, "r1");
  Value* c2 = b.node("Conv", {r1, b.constant("w2", {2, 2, 1, 1}, {0.613f, -0.287f, 0.9f, 0.0433f}),
                              b.constant("b2", {2}, {0.05f, 0.3f})}, "c2");
  b.g.add_output(b.node("Relu", {c2}, "y"));
  return std::move(b.g);
}

// Per channel of `name`: the mean of (fake quantization of q) - (float model g), over samples.
std::vector<double> mean_error(const QuantizedGraph& q, const Graph& g, const std::vector<TensorMap>& samples,
                               const std::string& name) {
  std::vector<double> sum(2, 0.0);
  double count = 0.0;
  const Simulator fake = fake_quant_simulator(q);
  const Simulator reference(g);
  for (const TensorMap& s : samples) {
    Tensor got, want;
    fake.run(s, [&](const Value& v, const Tensor& t) {
      if (v.name() == name) got = t;
    });
    reference.run(s, [&](const Value& v, const Tensor& t) {
      if (v.name() == name) want = t;
    });
    for (int64_t i = 0; i < want.numel(); ++i) sum[static_cast<size_t>(i / 16)] += got.data<float>()[i] - want.data<float>()[i];
    count += 16.0;
  }
  for (double& v : sum) v /= count;
  return sum;
}

}  // namespace

TEST_CASE("bias correction zeroes each channel's mean output error on the calibration samples",
          "[analysis][bias_correction]") {
  const Graph g = two_conv_graph();
  CalibrationOptions options;
  options.keep_samples = 8;
  auto calibrator = std::make_unique<Calibrator>(g, options);
  for (uint32_t s = 0; s < 8; ++s) calibrator->add_sample(positive_input(s));
  const std::vector<TensorMap>& kept = calibrator->kept_samples();
  QuantConfig config;
  config.model.method = RangeMethod::kMax;
  const QuantizedGraph plain = quantize_model(Quantizer(config), g, calibrator->table(), kept);
  // The Conv outputs are not quantized (each Relu is fused after its Conv): their error is
  // the weights' and inputs' alone.
  REQUIRE(plain.find("c1") == nullptr);
  const std::vector<double> before = mean_error(plain, g, kept, "c1");
  REQUIRE(std::max(std::fabs(before[0]), std::fabs(before[1])) > 1e-3);

  // The tolerance: one step of the int32 bias grid (input scale x weight scale).
  auto step = [](const QuantizedGraph& q, const char* bias) {
    const QuantParams* p = q.find(bias);
    REQUIRE(p != nullptr);
    return static_cast<double>(*std::max_element(p->scale.begin(), p->scale.end()));
  };
  config.bias_correction = 2;  // sequential
  const QuantizedGraph sequential = quantize_model(Quantizer(config), g, calibrator->table(), kept);
  for (const char* c : {"c1", "c2"}) {
    const std::vector<double> after = mean_error(sequential, g, kept, c);
    const double tolerance = step(sequential, c[1] == '1' ? "b1" : "b2") + 1e-6;
    for (double e : after) REQUIRE(std::fabs(e) <= tolerance);
  }
  REQUIRE_THAT(sequential.log.back(), Catch::Contains("bias correction (sequential): the mean output error of 2 Conv/Gemm"));

  // One pass: the first layer's is zeroed too; the second was measured before the first's
  // correction, so sequential is at least as close there.
  config.bias_correction = 1;
  const QuantizedGraph one_pass = quantize_model(Quantizer(config), g, calibrator->table(), kept);
  for (double e : mean_error(one_pass, g, kept, "c1")) REQUIRE(std::fabs(e) <= step(one_pass, "b1") + 1e-6);
  const std::vector<double> seq2 = mean_error(sequential, g, kept, "c2");
  const std::vector<double> one2 = mean_error(one_pass, g, kept, "c2");
  REQUIRE(std::fabs(seq2[0]) + std::fabs(seq2[1]) <= std::fabs(one2[0]) + std::fabs(one2[1]) + 1e-6);
  // The float graph the parameters refer to carries the corrected biases; the user's is untouched.
  REQUIRE(one_pass.graph.find_value("b1")->initializer()->data<float>()[0] !=
          g.find_value("b1")->initializer()->data<float>()[0]);
  REQUIRE(g.find_value("b1")->initializer()->data<float>()[0] == 0.1f);
  REQUIRE(QuantConfig::from_json(config.to_json()).bias_correction == 1);
  REQUIRE_THROWS_WITH(quantize_model(Quantizer(config), g, calibrator->table()), Catch::Contains("keep_samples"));
}
