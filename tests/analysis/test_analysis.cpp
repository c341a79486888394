// lib/analysis: fake-quant evaluation, the kAuto search and mixed precision, and the
// contract between them and the Quantizer (Quantizer::quantize leaves searches to
// quantize_model).
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "libquant/analysis.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/compiler.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"
#include "net_test_util.hpp"

using namespace lq;

namespace {

TensorMap random_input(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  Tensor t(DType::kFloat32, {1, 2, 4, 4});
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return {{"x", t}};
}

// x[1,2,4,4] -> Relu -> y
Graph relu_graph() {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{1, {}}, {2, {}}, {4, {}}, {4, {}}}};
  g.add_input(x);
  Value* y = g.add_value("y");
  g.add_node("Relu", {x}, {y}, "relu");
  g.add_output(y);
  return g;
}

// Picks the candidate of one method, recording what it was offered.
class FixedChooser final : public AutoRangeChooser {
 public:
  explicit FixedChooser(std::string method) : method_(std::move(method)) {}
  size_t choose(const Value& value, const std::vector<QuantParams>& candidates,
                const QuantizedGraph& partial) override {
    asked.push_back(value.name());
    offered.clear();
    for (const QuantParams& c : candidates) offered.push_back(c.method);
    if (value.name() == "y") x_before_y = partial.find("x") != nullptr;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (candidates[i].method == method_) return i;
    }
    return 0;
  }
  std::vector<std::string> asked;
  std::vector<std::string> offered;
  bool x_before_y = false;  // `partial` holds the activations assigned before

 private:
  std::string method_;
};

}  // namespace

TEST_CASE("snr_db and relative_error accumulate signal and noise power", "[analysis]") {
  const Tensor want = Tensor::from_vector<float>({2}, {1.0f, 1.0f});
  const Tensor got = Tensor::from_vector<float>({2}, {1.0f, 0.0f});
  REQUIRE(relative_error(got, want) == Approx(0.5));
  REQUIRE(relative_error(want, want) == 0.0);
  // Two samples: signal 2 + 2, noise 1 + 0 -> 10 log10(4) dB.
  const std::map<std::string, double> snr = snr_db({{{"y", want}}, {{"y", want}}}, {{{"y", got}}, {{"y", want}}});
  REQUIRE(snr.at("y") == Approx(10.0 * std::log10(4.0)));
  // Integer outputs are not measured.
  const Tensor codes = Tensor::from_vector<int64_t>({2}, {1, 2});
  REQUIRE(snr_db({{{"i", codes}}}, {{{"i", codes}}}).empty());
  REQUIRE(relative_error(codes, codes) == 0.0);
}

TEST_CASE("Quantizer::quantize leaves the searches to quantize_model", "[analysis]") {
  const Graph g = relu_graph();
  CalibrationOptions options;
  options.keep_samples = 2;
  Calibrator calibrator(g, options);
  for (uint32_t s = 0; s < 3; ++s) calibrator.add_sample(random_input(s));

  QuantConfig automatic;
  automatic.model.method = RangeMethod::kAuto;
  REQUIRE_THROWS_WITH(Quantizer(automatic).quantize(g, calibrator.table()),
                      Catch::Contains("range method auto for \"x\"") && Catch::Contains("lq::quantize_model"));
  QuantConfig budget;
  budget.int16_budget = 0.5;
  REQUIRE_THROWS_WITH(Quantizer(budget).quantize(g, calibrator.table()), Catch::Contains("lq::quantize_model"));
  REQUIRE_THROWS_WITH(Quantizer(budget).quantize_with_method(g, calibrator.table(), RangeMethod::kMax),
                      Catch::Contains("lq::quantize_model"));

  // A chooser of the caller's: offered one candidate per method, in order, and obeyed.
  FixedChooser chooser("kl");
  const QuantizedGraph chosen = Quantizer(automatic).quantize(g, calibrator.table(), &chooser);
  REQUIRE(chooser.asked == std::vector<std::string>{"x", "y"});
  std::vector<std::string> methods;
  for (const RangeMethod& m : auto_range_candidates()) methods.push_back(range_method_name(m));
  REQUIRE(chooser.offered == methods);
  REQUIRE(chooser.x_before_y);
  REQUIRE(chosen.find("x")->method == "auto:kl");
  QuantConfig kl;
  kl.model.method = RangeMethod::kKL;
  REQUIRE(chosen.find("x")->scale == Quantizer(kl).quantize(g, calibrator.table()).find("x")->scale);
  QuantizedGraph forced = Quantizer(automatic).quantize_with_method(g, calibrator.table(), RangeMethod::kKL);
  QuantizedGraph by_kl = Quantizer(kl).quantize(g, calibrator.table());
  forced.log.clear();  // the forced run does not report what it clipped
  by_kl.log.clear();
  REQUIRE(forced.params_json() == by_kl.params_json());

  // Without a search to run, quantize_model is the Quantizer.
  QuantConfig plain;
  plain.model.method = RangeMethod::kMSE;
  const QuantizedGraph direct = Quantizer(plain).quantize(g, calibrator.table());
  const QuantizedGraph model = quantize_model(Quantizer(plain), g, calibrator.table(), calibrator.kept_samples());
  REQUIRE(model.params_json() == direct.params_json());
  REQUIRE(model.log == direct.log);
  REQUIRE(model.decisions.has_value());
}

TEST_CASE("auto picks, per tensor, the range with the least error at its consumers", "[quantization][auto]") {
  // x (Laplace-like with outliers) -> Relu -> y: x's consumer is the Relu, so negative
  // values do not matter and the best range differs from the tensor's own MSE optimum.
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{1, {}}, {4096, {}}}};
  g.add_input(x);
  Value* y = g.add_value("y");
  g.add_node("Relu", {x}, {y}, "relu");
  g.add_output(y);
  std::mt19937 rng(5);
  std::exponential_distribution<float> expo(1.0f);
  Tensor data(DType::kFloat32, {1, 4096});
  for (int64_t i = 0; i < data.numel(); ++i) data.data<float>()[i] = (i % 2 ? 1.0f : -3.0f) * expo(rng);
  data.data<float>()[7] = 40.0f;  // an outlier
  CalibrationOptions options;
  options.keep_samples = 1;
  Calibrator calibrator(g, options);
  calibrator.add_sample({{"x", data}});

  auto relu_error = [&](const QuantParams& p) {
    const Tensor q = fake_quantize(data, p);
    double noise = 0, signal = 0;
    for (int64_t i = 0; i < data.numel(); ++i) {
      const double want = std::max(0.0f, data.data<float>()[i]);
      const double got = std::max(0.0f, q.data<float>()[i]);
      noise += (want - got) * (want - got);
      signal += want * want;
    }
    return noise / signal;
  };
  double best = INFINITY;
  for (const char* method : {"max", "percentile", "kl", "mse", "mmse"}) {
    QuantConfig fixed;
    fixed.model.method = parse_range_method(method);
    const QuantizedGraph q = Quantizer(fixed).quantize(g, calibrator.table());
    best = std::min(best, relu_error(q.params.at("x")));
  }
  QuantConfig automatic;
  automatic.model.method = RangeMethod::kAuto;
  const QuantizedGraph q = quantize_model(Quantizer(automatic), g, calibrator.table(), calibrator.kept_samples());
  REQUIRE(q.params.at("x").method.rfind("auto:", 0) == 0);
  REQUIRE(relu_error(q.params.at("x")) == Approx(best).epsilon(1e-9));
  REQUIRE_THROWS_WITH(quantize_model(Quantizer(automatic), g, calibrator.table()),
                      Catch::Contains("keep some"));
}

using test::sensitive_graph;

TEST_CASE("mixed precision: the most sensitive activations per element become int16, within the budget",
          "[quantization][mixed]") {
  const Graph g = sensitive_graph();
  CalibrationOptions options;
  options.keep_samples = 2;
  Calibrator calibrator(g, options);
  for (uint32_t s = 0; s < 4; ++s) calibrator.add_sample(random_input(s));
  QuantConfig config;
  config.model.method = RangeMethod::kMax;
  const QuantizedGraph int8 = quantize_model(Quantizer(config), g, calibrator.table(), calibrator.kept_samples());
  for (const char* v : {"c1", "c2", "t", "y"}) REQUIRE(int8.find(v)->dtype == DType::kInt8);

  // Budget 0.34 of the 144 activation elements (c1 48, c2, t and y 32 each): c1 alone.
  config.int16_budget = 0.34;
  const QuantizedGraph mixed = quantize_model(Quantizer(config), g, calibrator.table(), calibrator.kept_samples());
  REQUIRE(mixed.find("c1")->dtype == DType::kInt16);
  REQUIRE(mixed.find("c1")->range.max == Approx(int8.find("c1")->range.max));  // same range, finer grid
  for (const char* v : {"c2", "t", "y"}) REQUIRE(mixed.find(v)->dtype == DType::kInt8);
  REQUIRE(mixed.find("x")->dtype == DType::kInt8);  // model inputs and outputs keep their widths
  // The compiled program mixes int16 and int8 tensors and agrees with fake quantization.
  const Program program = Compiler().compile(mixed);
  REQUIRE(program.cpu_instruction_count() == 0);
  for (uint32_t seed = 30; seed < 33; ++seed) {
    const TensorMap feeds = random_input(seed);
    const auto got = FixedSimulator(program).run(feeds).at("y").to_int64s();
    const auto want = quantize_tensor(fake_quant_simulator(mixed).run(feeds).at("y"), *mixed.find("y")).to_int64s();
    for (size_t i = 0; i < got.size(); ++i) REQUIRE(std::abs(got[i] - want[i]) <= 1);
  }
  const std::string log = [&] {
    std::string all;
    for (const std::string& line : mixed.log) all += line + "\n";
    return all;
  }();
  REQUIRE_THAT(log, Catch::Contains("mixed precision: \"c1\" becomes int16"));
  REQUIRE_THAT(log, Catch::Contains("mixed precision: 1 tensors int16, 33.3 % of 144 activation elements"));

  // The output error drops well below int8's on data the search did not see.
  const std::vector<TensorMap> held_out = {random_input(20), random_input(21)};
  const double snr8 = output_snr_db(int8, held_out).at("y");
  const double snr_mixed = output_snr_db(mixed, held_out).at("y");
  REQUIRE(snr_mixed > snr8 + 10.0);

  // The whole budget: every candidate that helps; none: the int8 result.
  config.int16_budget = 1.0;
  const QuantizedGraph all = quantize_model(Quantizer(config), g, calibrator.table(), calibrator.kept_samples());
  REQUIRE(all.find("c1")->dtype == DType::kInt16);
  REQUIRE(all.find("y")->dtype == DType::kInt8);
  REQUIRE(output_snr_db(all, held_out).at("y") >= snr_mixed - 0.5);

  // A target without int16 ignores the budget, saying so; without kept samples it is an error.
  config.int16_budget = 0.34;
  const QuantizedGraph on_int8 =
      quantize_model(Quantizer(config, Target::named("int8")), g, calibrator.table(), calibrator.kept_samples());
  REQUIRE(on_int8.find("c1")->dtype == DType::kInt8);
  REQUIRE_THAT(on_int8.log.back(), Catch::Contains("has no int16: int16_budget 0.34 is ignored"));
  REQUIRE_THROWS_WITH(quantize_model(Quantizer(config), g, calibrator.table()), Catch::Contains("keep_samples"));
}
