#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "kernel_test_util.hpp"
#include "libquant/analysis.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/quantizer.hpp"

using namespace lq;

namespace {

// x[1,2,4,4] -> Conv(3x2x1x1 + bias) -> Relu -> y
Graph conv_relu_graph(const std::vector<float>& weights) {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{1, {}}, {2, {}}, {4, {}}, {4, {}}}};
  g.add_input(x);
  Value* w = g.add_value("w");
  g.set_initializer(w, Tensor::from_vector<float>({3, 2, 1, 1}, weights));
  Value* b = g.add_value("b");
  g.set_initializer(b, Tensor::from_vector<float>({3}, {0.5f, -0.25f, 0.125f}));
  Value* c = g.add_value("c");
  g.add_node("Conv", {x, w, b}, {c}, "conv");
  Value* y = g.add_value("y");
  g.add_node("Relu", {c}, {y}, "relu");
  g.add_output(y);
  return g;
}

TensorMap random_input(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  Tensor t(DType::kFloat32, {1, 2, 4, 4});
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return {{"x", t}};
}

CalibrationTable calibrate(const Graph& g, int samples = 4) {
  Calibrator calibrator(g);
  for (int s = 0; s < samples; ++s) calibrator.add_sample(random_input(static_cast<uint32_t>(s)));
  return calibrator.table();
}

}  // namespace

TEST_CASE("quantize_value matches the ONNX QuantizeLinear formula", "[quantization]") {
  // Ties go to even, then the zero point is added, then saturation.
  REQUIRE(quantize_value(0.5f, 1.0f, 0, -128, 127) == 0);
  REQUIRE(quantize_value(1.5f, 1.0f, 0, -128, 127) == 2);
  REQUIRE(quantize_value(-2.5f, 1.0f, 0, -128, 127) == -2);
  REQUIRE(quantize_value(2.5f, 1.0f, 10, -128, 127) == 12);
  REQUIRE(quantize_value(1000.0f, 1.0f, 0, -128, 127) == 127);
  REQUIRE(quantize_value(-1000.0f, 0.5f, 3, 0, 255) == 0);
  REQUIRE(quantize_value(NAN, 1.0f, 5, 0, 255) == 5);
  // Exhaustively over a grid: the result is the nearest code within range.
  const float scale = 0.037f;
  for (int i = -20000; i <= 20000; ++i) {
    const float x = static_cast<float>(i) * 0.001f;
    const int32_t q = quantize_value(x, scale, -3, -128, 127);
    const double exact = static_cast<double>(x / scale) - 3;  // float division, as ONNX
    const double nearest = std::clamp(std::nearbyint(static_cast<double>(x / scale)) - 3, -128.0, 127.0);
    REQUIRE(q == static_cast<int32_t>(nearest));
    if (q > -128 && q < 127) REQUIRE(std::fabs(q - exact) <= 0.5);
  }
  REQUIRE(dequantize_value(-3, 0.25f, 1) == -1.0f);
}

TEST_CASE("int4 and int16 limits and fake quantization edges", "[quantization]") {
  REQUIRE(dtype_qmin(DType::kInt4) == -8);
  REQUIRE(dtype_qmax(DType::kInt4) == 7);
  REQUIRE(dtype_qmin(DType::kInt16) == -32768);
  REQUIRE(dtype_qmax(DType::kInt16) == 32767);
  REQUIRE_THROWS_WITH(dtype_qmin(DType::kFloat32), Catch::Contains("not a quantized integer type"));
  QuantParams p;
  p.dtype = DType::kInt4;
  p.scale = {0.5f};
  p.zero_point = {0};
  const Tensor x = Tensor::from_vector<float>({5}, {-10.0f, -4.0f, 0.26f, 3.5f, 10.0f});
  REQUIRE(fake_quantize(x, p).to_doubles() == std::vector<double>{-4.0, -4.0, 0.5, 3.5, 3.5});
  const Tensor q = quantize_tensor(x, p);
  REQUIRE(q.dtype() == DType::kInt4);
  REQUIRE(q.to_int64s() == std::vector<int64_t>{-8, -8, 1, 7, 7});
  p.dtype = DType::kInt16;
  p.scale = {1.0f / 1024};
  const Tensor big = Tensor::from_vector<float>({3}, {40.0f, -40.0f, 1.0f / 2048});
  REQUIRE(quantize_tensor(big, p).to_int64s() == std::vector<int64_t>{32767, -32768, 0});
}

TEST_CASE("per-channel weights get one scale per output channel, a zero channel stays zero", "[quantization]") {
  // Channel 1 is all zeros.
  const Graph g = conv_relu_graph({1.0f, -0.5f, 0.0f, 0.0f, 0.25f, 0.125f});
  const QuantizedGraph q = Quantizer(QuantConfig{}).quantize(g, calibrate(g));
  const QuantParams& w = q.params.at("w");
  REQUIRE(w.axis == 0);
  REQUIRE(w.dtype == DType::kInt8);
  REQUIRE(w.scale.size() == 3);
  REQUIRE(w.scale[0] == Approx(1.0 / 127));
  REQUIRE(w.scale[2] == Approx(0.25 / 127));
  REQUIRE(std::isfinite(w.scale[1]));
  REQUIRE(w.scale[1] > 0);
  const Tensor wq = fake_quantize(*g.value("w").initializer(), w);
  REQUIRE(wq.to_doubles()[2] == 0.0);
  REQUIRE(wq.to_doubles()[3] == 0.0);
  // Bias: int32 at input scale x weight scale, per channel.
  const QuantParams& b = q.params.at("b");
  REQUIRE(b.dtype == DType::kInt32);
  const QuantParams& x = q.params.at("x");
  for (size_t c = 0; c < 3; ++c) REQUIRE(b.scale[c] == Approx(x.scale[0] * w.scale[c]));
  // Per-tensor when asked.
  QuantConfig per_tensor;
  per_tensor.model.per_channel = false;
  const QuantizedGraph qt = Quantizer(per_tensor).quantize(g, calibrate(g));
  REQUIRE(qt.params.at("w").axis == -1);
  REQUIRE(qt.params.at("w").scale.size() == 1);
}

TEST_CASE("config levels: node beats op type beats model", "[quantization][config]") {
  const QuantConfig config = QuantConfig::from_json(R"({
    "model": {"activation": "int8", "method": "max"},
    "op_types": {"Relu": {"activation": "int16", "method": "percentile", "percentile": 0.99}},
    "nodes": {"relu": {"method": "mse"}}
  })");
  const Graph g = conv_relu_graph({1, 2, 3, 4, 5, 6});
  const ResolvedSpec conv = config.resolve(*g.find_node("conv"));
  const ResolvedSpec relu = config.resolve(*g.find_node("relu"));
  REQUIRE(conv.activation_dtype == DType::kInt8);
  REQUIRE(conv.range.method == RangeMethod::kMax);
  REQUIRE(relu.activation_dtype == DType::kInt16);        // from op type
  REQUIRE(relu.range.method == RangeMethod::kMSE);         // node wins
  REQUIRE(relu.range.percentile == Approx(0.99));          // op type still fills in
  REQUIRE(relu.range.bits == 16);
  // Round trip through JSON keeps the meaning.
  const QuantConfig again = QuantConfig::from_json(config.to_json());
  REQUIRE(again.resolve(*g.find_node("relu")).range.method == RangeMethod::kMSE);
}

TEST_CASE("config validation names the path, the key and the choices", "[quantization][config]") {
  REQUIRE_THROWS_WITH(QuantConfig::from_json(R"({"model": {"activaton": "int8"}})"),
                      Catch::Contains("/model/activaton") && Catch::Contains("did you mean 'activation'"));
  REQUIRE_THROWS_WITH(QuantConfig::from_json(R"({"op_types": {"Conv": {"weight": "int9"}}})"),
                      Catch::Contains("/op_types/Conv/weight") && Catch::Contains("int4, int8, int16"));
  REQUIRE_THROWS_WITH(QuantConfig::from_json(R"({"model": {"method": "entropy"}})"),
                      Catch::Contains("/model/method") && Catch::Contains("kl"));
  REQUIRE_THROWS_WITH(QuantConfig::from_json(R"({"model": {"percentile": 2}})"),
                      Catch::Contains("/model/percentile") && Catch::Contains("[0.5, 1]"));
  REQUIRE_THROWS_WITH(QuantConfig::from_json(R"({"tensors": {"x": {"scale": -1}}})"),
                      Catch::Contains("/tensors/x/scale") && Catch::Contains("positive"));
  REQUIRE_THROWS_WITH(QuantConfig::from_json(R"({"tensors": {"x": {"min": 1}}})"),
                      Catch::Contains("/tensors/x") && Catch::Contains("min and max"));
  REQUIRE_THROWS_WITH(QuantConfig::from_json("{not json"), Catch::Contains("not valid JSON"));
  REQUIRE_THROWS_WITH(QuantConfig::from_json(R"({"outputs": "int8"})"),
                      Catch::Contains("did you mean 'output'"));
  REQUIRE_THROWS_WITH(QuantConfig::from_json(R"({"int16_budget": 1.5})"),
                      Catch::Contains("/int16_budget") && Catch::Contains("[0, 1]"));
  REQUIRE(QuantConfig::from_json(QuantConfig::from_json(R"({"int16_budget": 0.25})").to_json()).int16_budget == 0.25);
}

TEST_CASE("explicit tensor overrides win over calibration", "[quantization][config]") {
  const Graph g = conv_relu_graph({1, 2, 3, 4, 5, 6});
  const QuantConfig config = QuantConfig::from_json(R"({
    "tensors": {"x": {"scale": 0.0625, "zero_point": 3}, "y": {"min": 0, "max": 12.75}}
  })");
  const QuantizedGraph q = Quantizer(config).quantize(g, calibrate(g));
  REQUIRE(q.params.at("x").scale[0] == 0.0625f);
  REQUIRE(q.params.at("x").zero_point[0] == 3);
  REQUIRE(q.params.at("x").method == "override");
  REQUIRE(q.params.at("y").scale[0] == Approx(12.75 / 255));
  REQUIRE(q.params.at("y").zero_point[0] == -128);
  QuantConfig unknown = QuantConfig::from_json(R"({"tensors": {"nope": {"scale": 1}}})");
  REQUIRE_THROWS_WITH(Quantizer(unknown).quantize(g, calibrate(g)), Catch::Contains("/tensors/nope"));
}

TEST_CASE("power-of-two scales, int16 spreading and post_sigmoid", "[quantization]") {
  const Graph g = conv_relu_graph({1, 2, 3, 4, 5, 6});
  QuantConfig radix;
  radix.model.scale_kind = ScaleKind::kPowerOfTwo;
  const QuantizedGraph q = Quantizer(radix).quantize(g, calibrate(g));
  for (const auto& [name, p] : q.params) {
    if (p.dtype == DType::kInt32) continue;
    for (float s : p.scale) {
      INFO(name << " scale " << s);
      REQUIRE(std::exp2(std::round(std::log2(s))) == s);
    }
    REQUIRE(p.zero_point[0] == 0);
  }
  // With an int8 Neg before it, the Conv at int16 pulls the Neg's output to int16 too, and
  // says so; the Conv output has no quantization point of its own (its Relu is fused).
  Graph chain = conv_relu_graph({1, 2, 3, 4, 5, 6});
  Value* negated = chain.add_value("n");
  chain.add_node("Neg", {&chain.value("x")}, {negated}, "neg");
  chain.set_input(chain.find_node("conv"), 0, negated);
  chain.topological_sort();
  const QuantConfig wide = QuantConfig::from_json(
      R"({"nodes": {"conv": {"activation": "int16"}, "relu": {"activation": "int16"}}})");
  const QuantizedGraph w = Quantizer(wide).quantize(chain, calibrate(chain));
  REQUIRE(w.params.at("x").dtype == DType::kInt8);
  REQUIRE(w.params.at("n").dtype == DType::kInt16);
  REQUIRE(w.params.at("y").dtype == DType::kInt16);
  REQUIRE(w.params.count("c") == 0);
  REQUIRE(std::any_of(w.log.begin(), w.log.end(), [](const std::string& s) {
    return s.find("\"n\" (from Neg node \"neg\") becomes int16") != std::string::npos;
  }));
  // An int8-only target: the same request falls back to int8, and the log says where.
  const QuantizedGraph narrow = Quantizer(wide, Target::named("int8")).quantize(chain, calibrate(chain));
  for (const char* name : {"x", "n", "y"}) REQUIRE(narrow.params.at(name).dtype == DType::kInt8);
  REQUIRE(std::any_of(narrow.log.begin(), narrow.log.end(), [](const std::string& s) {
    return s.find("node \"conv\"'s activations falls back to int8") != std::string::npos;
  }));
  REQUIRE_THROWS_WITH(Target::named("npu"), Catch::Contains("generic, int8"));
}

TEST_CASE("fake-quant Simulator stays close to float and exactly on the quantization grid", "[quantization]") {
  const Graph g = conv_relu_graph({1.0f, -0.5f, 0.3f, 0.7f, 0.25f, 0.125f});
  const QuantizedGraph q = Quantizer(QuantConfig{}).quantize(g, calibrate(g, 8));
  const TensorMap input = random_input(100);
  const Tensor want = Simulator(g).run(input).at("y");
  const Tensor got = fake_quant_simulator(q).run(input).at("y");
  const QuantParams& y = q.params.at("y");
  const auto a = want.to_doubles(), b = got.to_doubles();
  for (size_t i = 0; i < a.size(); ++i) {
    // Each output is a code of y's grid...
    const double code = b[i] / y.scale[0] + y.zero_point[0];
    REQUIRE(std::fabs(code - std::nearbyint(code)) < 1e-3);
    // ...and within a few steps of float (input, weight and output rounding).
    REQUIRE(std::fabs(a[i] - b[i]) <= 4 * y.scale[0]);
  }
}

TEST_CASE("QDQ export keeps names and matches fake quantization in our Simulator", "[quantization][qdq]") {
  const Graph g = conv_relu_graph({1.0f, -0.5f, 0.3f, 0.7f, 0.25f, 0.125f});
  const QuantizedGraph q = Quantizer(QuantConfig{}).quantize(g, calibrate(g));
  const Graph qdq = q.to_qdq();
  REQUIRE(qdq.inputs()[0]->name() == "x");
  REQUIRE(qdq.outputs()[0]->name() == "y");
  REQUIRE(qdq.opset("com.microsoft") == 1);
  int quantize_nodes = 0, dequantize_nodes = 0;
  for (const Node* n : qdq.nodes()) {
    quantize_nodes += n->op_type() == "QuantizeLinear";
    dequantize_nodes += n->op_type() == "DequantizeLinear";
  }
  REQUIRE(quantize_nodes == 2);     // x, y (the Conv output c is fused with its Relu)
  REQUIRE(dequantize_nodes == 4);   // those two + w + b
  const Value* stored = qdq.find_value("w_quantized");
  REQUIRE(stored != nullptr);
  REQUIRE(stored->initializer()->dtype() == DType::kInt8);
  // The export serializes and imports again.
  const std::string bytes = serialize_onnx(qdq);
  const Graph back = parse_onnx(bytes.data(), bytes.size());
  REQUIRE(back.num_nodes() == qdq.num_nodes());
}

TEST_CASE("fake_quantize equals quantize then dequantize, element by element", "[quantization]") {
  std::mt19937 rng(9);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  Tensor x(DType::kFloat32, {2, 3, 5, 7});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = dist(rng);
  x.data<float>()[0] = NAN;
  x.data<float>()[1] = INFINITY;
  x.data<float>()[2] = 0.125f;  // a tie at scale 0.25
  for (DType dtype : {DType::kInt4, DType::kInt8, DType::kUInt8, DType::kInt16, DType::kInt32}) {
    for (int axis : {-1, 1}) {
      QuantParams p;
      p.dtype = dtype;
      p.axis = axis;
      const size_t n = axis < 0 ? 1 : 3;
      for (size_t c = 0; c < n; ++c) {
        p.scale.push_back(0.25f / static_cast<float>(c + 1));
        p.zero_point.push_back(dtype == DType::kUInt8 ? 100 : static_cast<int32_t>(c));
      }
      const Tensor got = fake_quantize(x, p);
      const Tensor codes = quantize_tensor(x, p);
      int64_t inner = 5 * 7;
      for (int64_t i = 0; i < x.numel(); ++i) {
        const size_t c = axis < 0 ? 0 : static_cast<size_t>((i / inner) % 3);
        const float want = dequantize_value(static_cast<int32_t>(codes.to_int64s()[static_cast<size_t>(i)]),
                                            p.scale[c], p.zero_point[c]);
        INFO(dtype_name(dtype) << " axis " << axis << " element " << i);
        REQUIRE(got.data<float>()[i] == want);
      }
    }
  }
}

TEST_CASE("a range is clipped to where its readers do not saturate, and nowhere else",
          "[quantization]") {
  // x -> Conv -> c -> HardSigmoid (alpha 0.25, beta 0.5: constant outside [-2, 2]) -> y;
  // x -> Conv -> d -> HardSigmoid and Identity -> outputs: d has another reader, not clipped.
  Graph g = conv_relu_graph({4, -4, 3, 3, -2, 5});
  Node* relu = g.nodes().back();
  g.remove_node(relu);
  Value* c = g.find_value("c");
  Value* y = g.find_value("y");
  Node* hs = g.add_node("HardSigmoid", {c}, {y}, "hs");
  Attribute alpha, beta;
  alpha.type = beta.type = AttrType::kFloat;
  alpha.f = 0.25f;
  beta.f = 0.5f;
  hs->set_attr("alpha", alpha);
  hs->set_attr("beta", beta);
  Value* c2 = g.add_value("c2");
  g.add_node("Conv", {g.find_value("x"), g.find_value("w"), g.find_value("b")}, {c2}, "conv2");
  Value* y2 = g.add_value("y2");
  g.add_node("HardSigmoid", {c2}, {y2}, "hs2");
  g.add_output(y2);
  g.add_output(c2);
  const CalibrationTable table = calibrate(g);
  REQUIRE(table.at("c").max > 5.0);  // the data reach far beyond the HardSigmoid's domain
  REQUIRE(table.at("c").min < -5.0);
  for (RangeMethod method : {RangeMethod::kMax, RangeMethod::kMSE}) {
    QuantConfig config;
    config.model.method = method;
    const QuantizedGraph q = Quantizer(config).quantize(g, table);
    const QuantParams& p = *q.find("c");
    // [-2, 2] and a margin of 1 % of it on each side.
    REQUIRE(p.range.min == Approx(-2.04));
    REQUIRE(p.range.max == Approx(2.04));
    // The saturation points are representable, and clipping changes no output.
    REQUIRE(dequantize_value(p.qmin(), p.scale[0], p.zero_point[0]) <= -2.0);
    REQUIRE(dequantize_value(p.qmax(), p.scale[0], p.zero_point[0]) >= 2.0);
    REQUIRE(q.find("c2")->range.max > 5.0);  // also a model output: kept whole
    // Clipping only makes y more accurate than the calibrated range, set as an override.
    QuantConfig wide = config;
    wide.tensors["c"].min = table.at("c").min;
    wide.tensors["c"].max = table.at("c").max;
    const QuantizedGraph unclipped = Quantizer(wide).quantize(g, table);
    REQUIRE(unclipped.find("c")->range.max > 5.0);
    double clipped_error = 0.0, unclipped_error = 0.0;
    for (uint32_t seed = 9; seed < 12; ++seed) {
      const TensorMap feeds = random_input(seed);
      const Tensor ref = Simulator(q.graph).run(feeds).at("y");
      const Tensor a = fake_quant_simulator(q).run(feeds).at("y");
      const Tensor b = fake_quant_simulator(unclipped).run(feeds).at("y");
      for (int64_t i = 0; i < ref.numel(); ++i) {
        clipped_error += std::pow(a.data<float>()[i] - ref.data<float>()[i], 2);
        unclipped_error += std::pow(b.data<float>()[i] - ref.data<float>()[i], 2);
      }
    }
    REQUIRE(clipped_error < 0.5 * unclipped_error);
  }
}

TEST_CASE("config names are checked against the model, with the nearest name", "[quantization][config]") {
  const Graph g = conv_relu_graph({1, 2, 3, 4, 5, 6});
  const CalibrationTable table = calibrate(g);
  const auto quantize = [&](const char* json) { return Quantizer(QuantConfig::from_json(json)).quantize(g, table); };
  REQUIRE_THROWS_WITH(quantize(R"({"nodes": {"rleu": {"activation": "int16"}}})"),
                      Catch::Contains("/nodes/rleu") && Catch::Contains("no node \"rleu\"") &&
                          Catch::Contains("did you mean \"relu\""));
  REQUIRE_THROWS_WITH(quantize(R"({"op_types": {"Cnov": {"activation": "int16"}}})"),
                      Catch::Contains("/op_types/Cnov") && Catch::Contains("did you mean \"Conv\""));
  REQUIRE_THROWS_WITH(quantize(R"({"tensors": {"yy": {"min": -1, "max": 1}}})"),
                      Catch::Contains("/tensors/yy") && Catch::Contains("did you mean \"y\""));
  try {
    quantize(R"({"nodes": {"rleu": {}}})");
  } catch (const Error& e) {
    REQUIRE(e.code() == StatusCode::kNotFound);
  }
  // Names the model has pass, weights included.
  REQUIRE_NOTHROW(quantize(R"({"nodes": {"relu": {"activation": "int16"}}, "op_types": {"Conv": {}},
                               "tensors": {"y": {"min": 0, "max": 1}, "x": {"min": -2, "max": 2}}})"));
}

TEST_CASE("quant config: a number too large for JSON is an lq error (fuzz regression)", "[quantization][config]") {
  REQUIRE_THROWS_AS(QuantConfig::from_json("5e055555"), Error);
  REQUIRE_THROWS_WITH(QuantConfig::from_json(R"({"int16_budget": 1e999})"), Catch::Contains("not valid JSON"));
}

TEST_CASE("the default range method follows the bit width, an explicit method holds for int16",
          "[quantization][config]") {
  const Graph g = conv_relu_graph({0.5f, -1.0f, 0.25f, 0.75f, -0.5f, 1.0f});
  Calibrator calibrator(g);
  for (int s = 0; s < 64; ++s) {
    TensorMap in = random_input(static_cast<uint32_t>(s));
    if (s == 2) in.at("x").data<float>()[5] = 50.0f;  // one outlier: percentile clips it
    calibrator.add_sample(in);
  }
  const CalibrationTable table = calibrator.table();
  const double x_max = table.at("x").max;
  REQUIRE(x_max == 50.0);

  QuantConfig int8;
  const QuantizedGraph q8 = Quantizer(int8).quantize(g, table);
  REQUIRE(q8.find("x")->method == "percentile");
  REQUIRE(q8.find("x")->range.max < 10.0);

  QuantConfig int16;
  int16.model.activation_dtype = DType::kInt16;
  const QuantizedGraph q16 = Quantizer(int16).quantize(g, table);
  REQUIRE(q16.find("x")->dtype == DType::kInt16);
  REQUIRE(q16.find("x")->method == "max");
  REQUIRE(q16.find("x")->range.max == Approx(x_max));

  QuantConfig explicit16 = int16;
  explicit16.model.method = RangeMethod::kPercentile;
  REQUIRE(Quantizer(explicit16).quantize(g, table).find("x")->method == "percentile");

  // The Conv reads int16: the model input it reads becomes int16 with the range of its
  // statistics, not the 8-bit percentile range on a finer grid.
  QuantConfig spread;
  spread.nodes["conv"].activation_dtype = DType::kInt16;
  const QuantizedGraph qs = Quantizer(spread).quantize(g, table);
  REQUIRE(qs.find("x")->dtype == DType::kInt16);
  REQUIRE(qs.find("x")->range.max == Approx(x_max));

  // Mixed precision widens the same way.
  QuantizedGraph qm = Quantizer(int8).quantize(g, table);
  widen_to_int16(int8, table, qm, *qm.graph.find_value("x"));
  REQUIRE(qm.find("x")->dtype == DType::kInt16);
  REQUIRE(qm.find("x")->range.max == Approx(x_max));
}
