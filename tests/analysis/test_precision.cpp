// lib/analysis precision report: per-tensor figures against independent computations,
// quant_params.json read back, suggestions, sensitivity, and the files written.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "quantization/config_check.hpp"

#include "kernel_test_util.hpp"
#include "libquant/analysis.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/compiler.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"

using namespace lq;

namespace {

namespace fs = std::filesystem;

// x[1,3,6,6] -> Conv(w[4,3,3,3], b[4], pads 1) -> c -> Relu -> y; the weights' channels
// differ 8x in magnitude.
Graph conv_relu() {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{1, {}}, {3, {}}, {6, {}}, {6, {}}}};
  g.add_input(x);
  std::vector<float> w = test::random_floats(4 * 27, 7, -1.0f, 1.0f);
  for (size_t i = 0; i < w.size(); ++i) w[i] *= static_cast<float>(1 << (i / 27));
  Value* wv = g.add_value("w");
  g.set_initializer(wv, Tensor::from_vector<float>({4, 3, 3, 3}, w));
  Value* bv = g.add_value("b");
  g.set_initializer(bv, Tensor::from_vector<float>({4}, {0.5f, -0.25f, 1.0f, 0.0f}));
  Value* c = g.add_value("c");
  g.add_node("Conv", {x, wv, bv}, {c}, "conv")->set_attr("pads", test::attr_ints({1, 1, 1, 1}));
  Value* y = g.add_value("y");
  g.add_node("Relu", {c}, {y}, "relu");
  g.add_output(y);
  return g;
}

std::vector<TensorMap> samples(size_t n) {
  std::vector<TensorMap> out;
  for (size_t s = 0; s < n; ++s) {
    out.push_back({{"x", Tensor::from_vector<float>({1, 3, 6, 6}, test::random_floats(108, 100 + s, -2.0f, 2.0f))}});
  }
  return out;
}

struct Quantized {
  QuantizedGraph q;
  Program program;
};

Quantized quantize(const Graph& g, QuantConfig config = {}) {
  Calibrator calibrator(g);
  for (const TensorMap& s : samples(4)) calibrator.add_sample(s);
  Quantized out;
  out.q = Quantizer(config).quantize(g, calibrator.table());
  out.q.graph = g.clone();
  out.program = Compiler().compile(out.q);
  return out;
}

const TensorAnalysis& entry(const PrecisionReport& r, const std::string& tensor) {
  for (const TensorAnalysis& t : r.tensors) {
    if (t.tensor == tensor) return t;
  }
  FAIL("no entry for " << tensor);
  throw;
}

double snr(const std::vector<float>& want, const std::vector<float>& got) {
  double s = 0, n = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    s += double(want[i]) * want[i];
    n += double(got[i] - want[i]) * (got[i] - want[i]);
  }
  return 10 * std::log10(s / n);
}

double min_output(const std::map<std::string, double>& snr) {
  double worst = 1e9;
  for (const auto& [name, s] : snr) worst = std::min(worst, s);
  return worst;
}

}  // namespace

TEST_CASE("precision analysis: cumulative error is the fixed program's tensors against float", "[analysis][report]") {
  const Graph g = conv_relu();
  const Quantized qz = quantize(g);
  const std::vector<TensorMap> data = samples(3);
  const PrecisionReport r = analyze_precision(qz.q, qz.program, data);
  REQUIRE(r.samples == 3);
  const TensorAnalysis& y = entry(r, "y");
  REQUIRE_FALSE(y.weight);
  REQUIRE(y.node == "relu");
  REQUIRE(y.macs == 4 * 27 * 36);  // the fused Conv's
  REQUIRE(y.cumulative.has_value());
  // Independently: the program's dequantized output against the float Simulator's.
  const Simulator reference(qz.q.graph);
  const FixedSimulator fixed(qz.program);
  std::vector<float> want, got;
  for (const TensorMap& s : data) {
    const Tensor w = reference.run(s).at("y"), q = fixed.run_float(s).at("y");
    want.insert(want.end(), w.data<float>(), w.data<float>() + w.numel());
    got.insert(got.end(), q.data<float>(), q.data<float>() + q.numel());
  }
  REQUIRE(y.cumulative->snr_db == Approx(snr(want, got)).epsilon(1e-4));
  REQUIRE(r.outputs.at("y").snr_db == Approx(y.cumulative->snr_db).epsilon(1e-6));
  REQUIRE(y.cumulative->cosine > 0.99);
  REQUIRE(y.cumulative->cosine <= 1.0 + 1e-9);
}

TEST_CASE("precision analysis: the report carries the program's cost estimate on the analysis target", "[analysis][report]") {
  const Graph g = conv_relu();
  const Quantized qz = quantize(g);
  AnalysisOptions options;
  options.target = Target::named("small-npu");
  const PrecisionReport r = analyze_precision(qz.q, qz.program, samples(2), options);
  const nlohmann::json j = nlohmann::json::parse(r.to_json());
  REQUIRE(j.contains("estimate"));
  REQUIRE(j["estimate"]["target"] == "small-npu");
  // The conv_relu net's one Conv, counted by hand: 4 output channels x 36 pixels x 27 taps.
  REQUIRE(j["estimate"]["macs"].get<int64_t>() == 4 * 27 * 36);
  REQUIRE(j["estimate"]["latency_ms"].get<double>() > 0.0);
  // The same object `lquant estimate --json` prints for this program and target.
  REQUIRE(j["estimate"] == nlohmann::json::parse(estimate_program(qz.program, options.target).to_json()));
  REQUIRE(r.to_html().find("Estimate on") != std::string::npos);
}

TEST_CASE("precision analysis: isolated error, histogram and clipping of one tensor", "[analysis][report]") {
  const Graph g = conv_relu();
  QuantConfig config;
  config.tensors["x"].min = -1.0;  // clips the inputs drawn from [-2, 2]
  config.tensors["x"].max = 1.0;
  const Quantized qz = quantize(g, config);
  const std::vector<TensorMap> data = samples(2);
  const PrecisionReport r = analyze_precision(qz.q, qz.program, data);
  const TensorAnalysis& x = entry(r, "x");
  const QuantParams& p = *qz.q.find("x");
  std::vector<float> want, got;
  int64_t outside = 0;
  for (const TensorMap& s : data) {
    const Tensor& in = s.at("x");
    const Tensor fake = fake_quantize(in, p);
    for (int64_t i = 0; i < in.numel(); ++i) {
      want.push_back(in.data<float>()[i]);
      got.push_back(fake.data<float>()[i]);
      outside += want.back() < p.range.min || want.back() > p.range.max;
    }
  }
  REQUIRE(x.isolated.snr_db == Approx(snr(want, got)).epsilon(1e-4));
  REQUIRE(x.clipped_share == Approx(double(outside) / want.size()));
  REQUIRE(x.clipped_share > 0.3);
  int64_t counted = 0;
  for (int64_t c : x.histogram) counted += c;
  REQUIRE(counted == static_cast<int64_t>(want.size()));
  REQUIRE(x.histogram_min <= p.range.min);
  REQUIRE(x.histogram_max >= p.range.max);
  const bool named = std::any_of(r.suggestions.begin(), r.suggestions.end(), [](const std::string& s) {
    return s.find("model input `x`") != std::string::npos && s.find("clips") != std::string::npos;
  });
  REQUIRE(named);
}

TEST_CASE("precision analysis: weights get isolated error and the channel ranges' spread", "[analysis][report]") {
  const Graph g = conv_relu();
  QuantConfig per_tensor;
  per_tensor.model.per_channel = false;
  const Quantized qz = quantize(g, per_tensor);
  const PrecisionReport r = analyze_precision(qz.q, qz.program, samples(1));
  const TensorAnalysis& w = entry(r, "w");
  REQUIRE(w.weight);
  REQUIRE(w.node == "conv");
  REQUIRE_FALSE(w.cumulative.has_value());
  const Tensor& data = *g.value("w").initializer();
  std::vector<double> range(4, 0.0);
  for (int64_t i = 0; i < data.numel(); ++i) range[i / 27] = std::max(range[i / 27], double(std::abs(data.data<float>()[i])));
  REQUIRE(w.channel_spread == Approx(*std::max_element(range.begin(), range.end()) /
                                     *std::min_element(range.begin(), range.end())));
  REQUIRE(w.channel_spread > 4.0);
  // No entry for the int32 bias.
  for (const TensorAnalysis& t : r.tensors) REQUIRE(t.tensor != "b");
}

TEST_CASE("precision analysis: sensitivity measures the outputs with one tensor quantized or int16", "[analysis][report]") {
  const Graph g = conv_relu();
  const Quantized qz = quantize(g);
  AnalysisOptions options;
  options.sensitivity = true;
  const PrecisionReport r = analyze_precision(qz.q, qz.program, samples(2), options);
  REQUIRE(r.fake_quant_output_snr_db.count("y"));
  const TensorAnalysis& y = entry(r, "y");
  REQUIRE(y.sensitivity_snr_db.has_value());
  // The output's own rounding is part of the model's error: int16 there gains.
  REQUIRE(*y.int16_gain_db > 1.0);
  REQUIRE(*y.sensitivity_snr_db > min_output(r.fake_quant_output_snr_db));
  REQUIRE(entry(r, "x").sensitivity_snr_db.has_value());
  REQUIRE_FALSE(entry(r, "w").sensitivity_snr_db.has_value());
  const auto int16_line = std::find_if(r.suggestions.begin(), r.suggestions.end(), [](const std::string& s) {
    return s.find("int16 raises the model output") != std::string::npos;
  });
  REQUIRE(int16_line != r.suggestions.end());
  // The config it proposes is a valid quant config asking int16 for that node.
  const size_t at = static_cast<size_t>(int16_line - r.suggestions.begin());
  const QuantConfig proposed = QuantConfig::from_json(r.suggestion_configs.at(at));
  REQUIRE(proposed.nodes.size() == 1);
  REQUIRE(proposed.nodes.begin()->second.activation_dtype == DType::kInt16);
}

TEST_CASE("precision analysis: the int16 gain is measured again on the recompiled integer program", "[analysis][report]") {
  const Graph g = conv_relu();
  const Quantized qz = quantize(g);
  const std::vector<TensorMap> data = samples(2);
  AnalysisOptions options;
  options.sensitivity = true;
  const PrecisionReport r = analyze_precision(qz.q, qz.program, data, options);
  REQUIRE(r.notes.empty());
  const TensorAnalysis& y = entry(r, "y");
  REQUIRE(y.int16_gain_integer_db.has_value());
  // Independently: the program compiled with y int16 (its range on the int16 grid) against
  // the int8 program, both run by the fixed-point Simulator against float.
  QuantizedGraph wide;
  wide.graph = g.clone();
  wide.params = qz.q.params;
  wide.params["y"] = as_int16(wide.params.at("y"));
  wide.decisions = derive_decisions(wide.graph, wide.params);
  const Program wide_program = Compiler().compile(wide);
  const Simulator reference(g);
  auto fixed_snr = [&](const Program& p) {
    const FixedSimulator fixed(p);
    std::vector<float> want, got;
    for (const TensorMap& s : data) {
      const Tensor w = reference.run(s).at("y"), q = fixed.run_float(s).at("y");
      want.insert(want.end(), w.data<float>(), w.data<float>() + w.numel());
      got.insert(got.end(), q.data<float>(), q.data<float>() + q.numel());
    }
    return snr(want, got);
  };
  REQUIRE(*y.int16_gain_integer_db == Approx(fixed_snr(wide_program) - fixed_snr(qz.program)).margin(1e-6));
  REQUIRE(*y.int16_gain_integer_db > 1.0);
  // The suggestion quotes the integer figure.
  const bool quoted = std::any_of(r.suggestions.begin(), r.suggestions.end(), [&](const std::string& s) {
    return s.find("`relu` output `y`") != std::string::npos && s.find("measured on the integer program") != std::string::npos &&
           s.find(fmt::format("{:+.1f} dB", *y.int16_gain_integer_db)) != std::string::npos;
  });
  REQUIRE(quoted);
  options.integer_checks = 0;
  REQUIRE_FALSE(entry(analyze_precision(qz.q, qz.program, data, options), "y").int16_gain_integer_db.has_value());
}

TEST_CASE("precision analysis: every suggested config is one the quant config loader and the model accept", "[analysis][report]") {
  // Graphs and configs that bring out each kind of suggestion: int16 activations (measured
  // and not), a clipped model input, a clipped node output, per-channel and int16 weights.
  Graph spread = conv_relu();
  {
    Tensor w = spread.value("w").initializer()->clone();
    for (int64_t i = 27; i < w.numel(); ++i) w.data<float>()[i] *= 40.0f;  // channel 0 is 40x smaller
    spread.set_initializer(spread.find_value("w"), w);
  }
  QuantConfig clip_x, per_tensor, clip_c;
  clip_x.tensors["x"].min = -1.0;
  clip_x.tensors["x"].max = 1.0;
  per_tensor.model.per_channel = false;
  clip_c.tensors["y"].min = 0.0;
  clip_c.tensors["y"].max = 0.5;
  AnalysisOptions measured;
  measured.sensitivity = true;
  struct Case {
    const Graph* graph;
    QuantConfig config;
    AnalysisOptions options;
  };
  const Graph plain = conv_relu();
  const std::vector<Case> cases = {{&plain, {}, {}}, {&plain, {}, measured}, {&plain, clip_x, {}},
                                   {&spread, per_tensor, {}}, {&plain, clip_c, {}}, {&plain, clip_x, measured}};
  std::set<std::string> keys;
  size_t checked = 0;
  for (const Case& c : cases) {
    const Quantized qz = quantize(*c.graph, c.config);
    const PrecisionReport r = analyze_precision(qz.q, qz.program, samples(2), c.options);
    REQUIRE(r.suggestion_configs.size() == r.suggestions.size());
    for (size_t i = 0; i < r.suggestions.size(); ++i) {
      const std::string& text = r.suggestion_configs[i];
      if (text.empty()) continue;
      INFO(r.suggestions[i]);
      // The text quotes the config; the loader reads it and the model has every name in it.
      REQUIRE(r.suggestions[i].find("(config: " + text + ")") != std::string::npos);
      const QuantConfig proposed = QuantConfig::from_json(text);
      REQUIRE_NOTHROW(check_config_against(proposed, *c.graph));
      // Applied (over the config the model was quantized with), it does what it says.
      nlohmann::json merged = nlohmann::json::parse(c.config.to_json());
      merged.merge_patch(nlohmann::json::parse(text));
      const QuantizedGraph applied = Quantizer(QuantConfig::from_json(merged.dump())).quantize(*c.graph, [&] {
        Calibrator calibrator(*c.graph);
        for (const TensorMap& s : samples(4)) calibrator.add_sample(s);
        return calibrator.table();
      }());
      const nlohmann::json j = nlohmann::json::parse(text);
      for (const auto& item : j.items()) keys.insert(item.key());
      if (j.contains("nodes")) {
        const std::string node = j["nodes"].begin().key();
        const nlohmann::json& spec = j["nodes"].begin().value();
        for (const auto& item : spec.items()) keys.insert("nodes/" + item.key());
        const Node* n = nullptr;
        for (const Node* candidate : c.graph->nodes()) n = candidate->name() == node ? candidate : n;
        REQUIRE(n != nullptr);
        if (spec.contains("activation")) REQUIRE(applied.find(n->output(0)->name())->dtype == DType::kInt16);
        if (spec.contains("weight")) REQUIRE(applied.find(n->input(1)->name())->dtype == DType::kInt16);
        if (spec.contains("per_channel")) REQUIRE(applied.find(n->input(1)->name())->per_channel());
      }
      if (j.contains("input")) REQUIRE(applied.find("x")->dtype == DType::kInt16);
      if (j.contains("tensors")) {
        const QuantParams& x = *applied.find("x");
        REQUIRE(x.range.min < -1.5);
        REQUIRE(x.range.max > 1.5);
      }
      ++checked;
    }
  }
  REQUIRE(checked >= 5);
  // Every kind of config a suggestion makes was among them.
  for (const char* key : {"nodes", "nodes/activation", "nodes/per_channel", "nodes/method", "input", "tensors"}) {
    INFO(key);
    REQUIRE(keys.count(key));
  }
}

TEST_CASE("parse_quant_params reads params_json back onto the float graph", "[analysis][report]") {
  const Graph g = conv_relu();
  const Quantized qz = quantize(g);
  const QuantizedGraph back = parse_quant_params(g.clone(), qz.q.params_json());
  REQUIRE(back.params.size() == qz.q.params.size());
  for (const auto& [name, p] : qz.q.params) {
    const QuantParams& b = back.params.at(name);
    REQUIRE(b.dtype == p.dtype);
    REQUIRE(b.scale == p.scale);
    REQUIRE(b.zero_point == p.zero_point);
    REQUIRE(b.axis == p.axis);
    REQUIRE(b.method == p.method);
  }
  // The same program compiles from it.
  REQUIRE(Compiler().compile(back).serialize() == qz.program.serialize());
  Graph other = conv_relu();
  other.rename_value(other.find_value("w"), "w2");
  REQUIRE_THROWS_WITH(parse_quant_params(std::move(other), qz.q.params_json(), "Q/quant_params.json"),
                      Catch::Contains("Q/quant_params.json") && Catch::Contains("\"w\" is not in the model"));
}

TEST_CASE("precision report: versioned JSON, self-contained HTML, written through a temporary folder", "[analysis][report]") {
  const Graph g = conv_relu();
  const Quantized qz = quantize(g);
  AnalysisOptions options;
  options.dump_sample = 1;
  const PrecisionReport r = analyze_precision(qz.q, qz.program, samples(2), options);
  const nlohmann::json j = nlohmann::json::parse(r.to_json());
  REQUIRE(j.at("schema") == "libquant.precision_report");
  REQUIRE(j.at("version") == 1);
  REQUIRE(j.at("tensors").size() == r.tensors.size());
  REQUIRE(j.at("outputs").contains("y"));
  const std::string html = r.to_html();
  REQUIRE(html.find("@DATA@") == std::string::npos);
  REQUIRE(html.find("report-rendered") != std::string::npos);
  REQUIRE(html.find("http") == html.find("http://www.w3.org/2000/svg"));  // no fetched resource
  const fs::path dir = fs::temp_directory_path() / ("lq_report_" + std::to_string(std::random_device()()));
  r.write((dir / "out").string());
  REQUIRE(fs::file_size(dir / "out" / "report.json") > 100);
  REQUIRE(fs::file_size(dir / "out" / "report.html") > 1000);
  REQUIRE(fs::exists(dir / "out" / "dumps" / "float" / "y.npy"));
  REQUIRE(fs::exists(dir / "out" / "dumps" / "fixed" / "y.npy"));
  REQUIRE(fs::exists(dir / "out" / "dumps" / "float" / "c.npy"));
  REQUIRE(load_npy((dir / "out" / "dumps" / "float" / "y.npy").string()).shape() == Shape{1, 4, 6, 6});
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) entries += e.path().filename() != "out";
  REQUIRE(entries == 0);  // no staging folder left
  fs::remove_all(dir);
}

TEST_CASE("precision analysis rejects samples that do not fit the program", "[analysis][report]") {
  const Graph g = conv_relu();
  const Quantized qz = quantize(g);
  REQUIRE_THROWS_WITH(analyze_precision(qz.q, qz.program, {}), Catch::Contains("no samples"));
  TensorMap wrong = {{"x", Tensor(DType::kFloat32, {1, 3, 5, 6})}};
  REQUIRE_THROWS_WITH(analyze_precision(qz.q, qz.program, {wrong}),
                      Catch::Contains("\"x\"") && Catch::Contains("[1,3,5,6]") && Catch::Contains("[1,3,6,6]"));
}

namespace {

// What `lquant quantize --out DIR` writes for conv_relu (the files analyze reads).
fs::path write_quant_dir(const fs::path& dir, const Quantized& qz) {
  fs::create_directories(dir);
  save_onnx(qz.q.graph, (dir / "model.float.onnx").string());
  std::ofstream(dir / "quant_params.json") << qz.q.params_json();
  qz.program.save((dir / "model.lqm").string());
  return dir;
}

// A 24-bit BMP of width x height, pixel (r, c) of channel k = (seed + 37 r + 11 c + 90 k) mod 256.
void write_bmp(const fs::path& path, int width, int height, int seed) {
  const int row = (width * 3 + 3) / 4 * 4;
  const int size = 54 + row * height;
  std::vector<uint8_t> b(static_cast<size_t>(size), 0);
  auto u32 = [&](int at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[static_cast<size_t>(at + i)] = static_cast<uint8_t>(v >> (8 * i));
  };
  b[0] = 'B';
  b[1] = 'M';
  u32(2, static_cast<uint32_t>(size));
  u32(10, 54);
  u32(14, 40);
  u32(18, static_cast<uint32_t>(width));
  u32(22, static_cast<uint32_t>(height));
  b[26] = 1;
  b[28] = 24;
  for (int r = 0; r < height; ++r) {
    for (int c = 0; c < width; ++c) {
      const size_t at = 54 + static_cast<size_t>((height - 1 - r) * row + c * 3);
      for (int k = 0; k < 3; ++k) b[at + 2 - k] = static_cast<uint8_t>((seed + 37 * r + 11 * c + 90 * k) % 256);  // BGR
    }
  }
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), size);
}

// Nothing of `out` (nor a staging folder beside it) exists.
bool nothing_written(const fs::path& out) {
  if (fs::exists(out)) return false;
  for (const auto& e : fs::directory_iterator(out.parent_path())) {
    if (e.path().filename().string().find(".partial-") != std::string::npos) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("analyze_quant_dir reads pictures with calibration's preprocessing", "[analysis][report]") {
  const fs::path dir = fs::temp_directory_path() / ("lq_analyze_pictures_" + std::to_string(std::random_device()()));
  const Quantized qz = quantize(conv_relu());
  const fs::path q = write_quant_dir(dir / "q", qz);
  fs::create_directories(dir / "pictures");
  for (int i = 0; i < 3; ++i) write_bmp(dir / "pictures" / fmt::format("{}.bmp", i), 9, 7, 40 * i);
  CalibrationSource source;
  source.paths = {(dir / "pictures").string()};
  source.images = true;
  source.preprocess.height = 6;
  source.preprocess.width = 6;
  source.preprocess.color = ColorOrder::kBGR;
  source.preprocess.mean = {127.5f, 127.5f, 127.5f};
  source.preprocess.scale = {1 / 64.0f, 1 / 64.0f, 1 / 64.0f};
  const PrecisionReport r = analyze_quant_dir(q.string(), {{"x", source}}, (dir / "out").string());
  // The same as the pictures loaded by load_image and analyzed directly.
  std::vector<TensorMap> pictures;
  for (int i = 0; i < 3; ++i) pictures.push_back({{"x", load_image((dir / "pictures" / fmt::format("{}.bmp", i)).string(), source.preprocess)}});
  const PrecisionReport direct = analyze_precision(qz.q, qz.program, pictures);
  REQUIRE(r.samples == 3);
  REQUIRE(r.outputs.at("y").snr_db == Approx(direct.outputs.at("y").snr_db).epsilon(1e-9));
  REQUIRE(entry(r, "x").isolated.snr_db == Approx(entry(direct, "x").isolated.snr_db).epsilon(1e-9));
  REQUIRE(fs::exists(dir / "out" / "report.html"));
  // Pictures of the wrong size name the file, the input and the picture options.
  source.preprocess.height = 5;
  REQUIRE_THROWS_WITH(analyze_quant_dir(q.string(), {{"x", source}}, (dir / "bad").string()),
                      Catch::Contains("input \"x\"") && Catch::Contains((dir / "pictures" / "0.bmp").string()) &&
                          Catch::Contains("[1,3,5,6]") && Catch::Contains("[1,3,6,6]") && Catch::Contains("--image-size"));
  REQUIRE(nothing_written(dir / "bad"));
  // A folder of .npy files is no folder of pictures.
  fs::create_directories(dir / "npy");
  save_npy(samples(1)[0].at("x"), (dir / "npy" / "0.npy").string());
  source.paths = {(dir / "npy").string()};
  REQUIRE_THROWS_WITH(analyze_quant_dir(q.string(), {{"x", source}}, (dir / "bad").string()),
                      Catch::Contains("input \"x\"") && Catch::Contains("holds no pictures"));
  // A file that is not a picture names itself.
  std::ofstream(dir / "pictures" / "3.png") << "not a png";
  source.paths = {(dir / "pictures").string()};
  source.preprocess.height = 6;
  REQUIRE_THROWS_WITH(analyze_quant_dir(q.string(), {{"x", source}}, (dir / "bad").string()),
                      Catch::Contains("input \"x\"") && Catch::Contains("3.png"));
  REQUIRE(nothing_written(dir / "bad"));
  fs::remove_all(dir);
}

TEST_CASE("analyze_quant_dir: bad input names the file and the input and writes nothing", "[analysis][report][errors]") {
  const fs::path dir = fs::temp_directory_path() / ("lq_analyze_errors_" + std::to_string(std::random_device()()));
  const Quantized qz = quantize(conv_relu());
  const fs::path q = write_quant_dir(dir / "q", qz);
  const fs::path out = dir / "out";
  auto folder = [&](const std::string& name, const std::vector<Tensor>& tensors) {
    fs::create_directories(dir / name);
    for (size_t i = 0; i < tensors.size(); ++i) save_npy(tensors[i], (dir / name / fmt::format("{}.npy", i)).string());
    return (dir / name).string();
  };
  const std::string good = folder("good", {samples(2)[0].at("x"), samples(2)[1].at("x")});
  auto analyze = [&](const fs::path& quant_dir, const std::map<std::string, std::string>& data) {
    return analyze_quant_dir(quant_dir.string(), data, out.string());
  };
  // Each case fails, names what it should, and leaves nothing behind.
  auto fails = [&](const fs::path& quant_dir, const std::map<std::string, std::string>& data, const std::string& a,
                   const std::string& b) {
    INFO(a << " / " << b);
    REQUIRE_THROWS_WITH(analyze(quant_dir, data), Catch::Contains(a) && Catch::Contains(b));
    REQUIRE(nothing_written(out));
  };
  fails(q, {{"x", folder("wrong", {Tensor(DType::kFloat32, {1, 3, 5, 6})})}}, (dir / "wrong" / "0.npy").string(),
        "has shape [1,3,5,6], model.lqm expects [1,3,6,6]");
  fails(q, {{"x", folder("empty", {})}}, "input \"x\"", "'" + (dir / "empty").string() + "' holds no .npy files");
  fails(q, {{"x", (dir / "absent").string()}}, "input \"x\"", "does not exist");
  fails(q, {{"x", folder("ints", {Tensor(DType::kInt32, {1, 3, 6, 6})})}}, (dir / "ints" / "0.npy").string(), "int32");
  fails(q, {{"z", good}}, "--data z=", "the model has no input \"z\"");
  // QUANT_DIR with a file missing, or files of different models.
  for (const char* file : {"model.float.onnx", "quant_params.json", "model.lqm"}) {
    const fs::path partial = dir / fmt::format("missing_{}", file);
    fs::create_directories(partial);
    for (const char* other : {"model.float.onnx", "quant_params.json", "model.lqm"}) {
      if (std::string(other) != file) fs::copy_file(q / other, partial / other);
    }
    fails(partial, {{"x", good}}, (partial / file).string(), "is missing");
  }
  Graph renamed = conv_relu();
  renamed.rename_value(renamed.find_value("y"), "probs");
  renamed.rename_value(renamed.find_value("w"), "w2");
  const Quantized other = quantize(renamed);
  const fs::path params_other = dir / "params_other";
  write_quant_dir(params_other, qz);
  std::ofstream(params_other / "quant_params.json") << other.q.params_json();
  fails(params_other, {{"x", good}}, (params_other / "quant_params.json").string(), "is not in the model");
  const fs::path program_other = dir / "program_other";
  write_quant_dir(program_other, qz);
  other.program.save((program_other / "model.lqm").string());
  fails(program_other, {{"x", good}}, (program_other / "model.lqm").string(), "from different models");
  // A previous report stays as it was when a new run fails.
  analyze(q, {{"x", good}});
  const auto before = fs::last_write_time(out / "report.json");
  REQUIRE_THROWS(analyze(q, {{"x", (dir / "wrong").string()}}));
  REQUIRE(fs::last_write_time(out / "report.json") == before);
  fs::remove_all(dir);
}
