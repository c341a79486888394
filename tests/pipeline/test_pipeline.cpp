#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>

#include "kernel_test_util.hpp"
#include "libquant/pipeline.hpp"

#include <unistd.h>

using namespace lq;
namespace fs = std::filesystem;

namespace {

// x[1,2,4,4] -> Conv -> Relu -> Softmax(axis 1) -> y, saved as ONNX in `dir`.
void write_model(const fs::path& dir) {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{-1, "N"}, {2, {}}, {4, {}}, {4, {}}}};
  g.add_input(x);
  Value* w = g.add_value("w");
  g.set_initializer(w, Tensor::from_vector<float>({3, 2, 1, 1}, {1.0f, -0.5f, 0.3f, 0.7f, 0.25f, 0.125f}));
  Value* c = g.add_value("c");
  g.add_node("Conv", {x, w}, {c}, "conv");
  Value* r = g.add_value("r");
  g.add_node("Relu", {c}, {r}, "relu");
  Value* y = g.add_value("y");
  g.add_node("Softmax", {r}, {y}, "softmax")->set_attr("axis", test::attr_int(1));
  g.add_output(y);
  save_onnx(g, (dir / "model.onnx").string());
  fs::create_directories(dir / "calib");
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  for (int s = 0; s < 4; ++s) {
    Tensor t(DType::kFloat32, {1, 2, 4, 4});
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
    save_npy(t, (dir / "calib" / ("s" + std::to_string(s) + ".npy")).string());
  }
}

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

size_t entry_count(const PrecisionReport& r) {
  size_t sensitivity = 0;
  for (const TensorAnalysis& t : r.tensors) sensitivity += t.sensitivity_snr_db.has_value();
  return sensitivity;
}

}  // namespace

TEST_CASE("pipeline configs: YAML and JSON share one schema", "[pipeline]") {
  const std::string yaml = R"(
model: {path: model.onnx, remove_output_nodes: [softmax]}
input:
  x: {shape: [1, 2, 4, 4], calibration: calib}
calibration: {method: mse, threads: 2}
quantization: {activation: int16, per_channel: false, nodes: {relu: {activation: int8}}}
compiler: {target: int8, cpu_ops: [Softmax]}
output: {dir: out, artifacts: [qdq, report]}
)";
  const std::string json = R"({
  "model": {"path": "model.onnx", "remove_output_nodes": ["softmax"]},
  "compiler": {"target": "int8", "cpu_ops": ["Softmax"]},
  "input": {"x": {"shape": [1, 2, 4, 4], "calibration": "calib"}},
  "calibration": {"method": "mse", "threads": 2},
  "quantization": {"activation": "int16", "per_channel": false, "nodes": {"relu": {"activation": "int8"}}},
  "output": {"dir": "out", "artifacts": ["qdq", "report"]}})";
  const PipelineOptions a = PipelineOptions::from_yaml(yaml, "/base");
  const PipelineOptions b = PipelineOptions::from_json(json, "/base");
  REQUIRE(a.to_json() == b.to_json());
  REQUIRE(a.model == "/base/model.onnx");
  REQUIRE(a.inputs.at("x").calibration == std::vector<std::string>{"/base/calib"});
  REQUIRE(a.calibration.threads == 2);
  REQUIRE(a.quantization.resolve_model().range.method == RangeMethod::kMSE);
  REQUIRE(a.quantization.resolve_model().activation_dtype == DType::kInt16);
  REQUIRE_FALSE(a.quantization.resolve_model().per_channel);
  REQUIRE(a.artifacts == std::vector<std::string>{"qdq", "report"});
  REQUIRE(b.target.name() == "int8");
  REQUIRE_FALSE(b.target.int16());
  REQUIRE(b.target.cpu_ops() == std::set<std::string>{"Softmax"});
}

TEST_CASE("pipeline config errors name the path and suggest the key", "[pipeline][errors]") {
  const auto yaml = [](const std::string& text) { return PipelineOptions::from_yaml(text); };
  REQUIRE_THROWS_WITH(yaml("model: {path: m.onnx}\noutput: {dir: o}\ncalibraton: {}"),
                      Catch::Contains("/calibraton") && Catch::Contains("did you mean 'calibration'"));
  REQUIRE_THROWS_WITH(yaml("model: {path: m.onnx}\noutput: {dir: o}\ninput: {x: {resize: squash}}"),
                      Catch::Contains("/input/x/resize") && Catch::Contains("stretch, fit-height-pad, none"));
  REQUIRE_THROWS_WITH(yaml("model: {path: m.onnx}\noutput: {dir: o}\nquantization: {activation: int7}"),
                      Catch::Contains("activation") && Catch::Contains("int8, uint8, int16"));
  REQUIRE_THROWS_WITH(yaml("output: {dir: o}"), Catch::Contains("'model' group is required"));
  REQUIRE_THROWS_WITH(yaml("model: {path: m.onnx}\noutput: {dir: o, artifacts: [qdq, lqm2]}"),
                      Catch::Contains("/output/artifacts/1"));
  REQUIRE_THROWS_WITH(yaml("model: {path: m.onnx}\noutput: {dir: o}\ncompiler: {target: npu9}"),
                      Catch::Contains("/compiler/target") && Catch::Contains("generic, int8"));
  REQUIRE_THROWS_WITH(yaml("model: {path: m.onnx}\noutput: {dir: o}\ncompiler: {targets: int8}"),
                      Catch::Contains("did you mean 'target'"));
  REQUIRE_THROWS_WITH(yaml("model: [unclosed"), Catch::Contains("not valid YAML"));
  REQUIRE_THROWS_WITH(PipelineOptions::from_json("{"), Catch::Contains("not valid JSON"));
}

TEST_CASE("Pipeline runs every stage and writes its artifacts", "[pipeline]") {
  const fs::path dir = temp_dir("lq_pipeline_test");
  write_model(dir);
  PipelineOptions o = PipelineOptions::from_yaml(R"(
model: {path: model.onnx, remove_output_nodes: [softmax]}
input:
  x: {shape: [1, 2, 4, 4], calibration: calib}
calibration: {method: percentile}
output: {dir: out}
)", dir.string());
  std::vector<std::string> stages;
  const PipelineResult r = Pipeline(o).run([&](const std::string& s) { stages.push_back(s); });
  REQUIRE(stages == std::vector<std::string>{"load", "optimize", "calibrate", "quantize", "compile",
                                             "evaluate", "write"});
  REQUIRE(r.calibration_samples == 4);
  // The Softmax at the boundary is gone: the Relu output is the model output now.
  REQUIRE(r.float_graph.outputs().at(0)->name() == "r");
  REQUIRE(r.float_graph.inputs().at(0)->type().str() == "float32[1,2,4,4]");
  REQUIRE(r.output_snr_db.at("r") > 30.0);
  // The compiled program is measured too: one integer Conv with the Relu as its clamp,
  // close to fake quantization.
  REQUIRE(r.program.layers().size() == 1);
  REQUIRE(r.program.layers()[0].kernel == "Conv");
  REQUIRE(r.program.cpu_instruction_count() == 0);
  REQUIRE(r.fixed_snr_db.at("r") > r.output_snr_db.at("r") - 3.0);
  for (const char* file : {"model.float.onnx", "model.qdq.onnx", "quant_params.json", "config.json",
                           "model.lqm", "program.json", "report.json"}) {
    INFO(file);
    REQUIRE(fs::exists(dir / "out" / file));
  }
  REQUIRE(FixedSimulator(Program::load((dir / "out" / "model.lqm").string())).program().layers().size() == 1);
  o.inputs["nope"] = PipelineInput{};
  REQUIRE_THROWS_WITH(Pipeline(o).run(), Catch::Contains("/input/nope") && Catch::Contains("\"x\""));
  fs::remove_all(dir);
}

TEST_CASE("cut_outputs and remove_output_nodes reshape the graph's end", "[pipeline][passes]") {
  const fs::path dir = temp_dir("lq_cut_test");
  write_model(dir);
  Graph g = load_onnx((dir / "model.onnx").string());
  Graph cut = g.clone();
  cut_outputs(cut, {"c"});
  REQUIRE(cut.num_nodes() == 1);
  REQUIRE(cut.outputs()[0]->name() == "c");
  REQUIRE_THROWS_WITH(cut_outputs(cut, {"missing"}), Catch::Contains("\"missing\""));
  REQUIRE_THROWS_WITH(remove_output_nodes(g, {"relu"}), Catch::Contains("not at the output boundary"));
  remove_output_nodes(g, {"softmax"});
  REQUIRE(g.outputs()[0]->name() == "r");
  g.verify();
  fs::remove_all(dir);
}

TEST_CASE("Pipeline: skip without data, the unnamed input, artifacts in the order asked", "[pipeline]") {
  const fs::path dir = temp_dir("lq_pipeline_skip_test");
  write_model(dir);
  PipelineOptions o;
  o.model = (dir / "model.onnx").string();
  o.output_dir = (dir / "out").string();
  o.quantization.model.method = RangeMethod::kSkip;
  o.calibration.keep_samples = 8;
  o.artifacts = {"qdq", "quant_config", "float"};
  // x is dynamic ([N,2,4,4]): random inputs need its shape.
  REQUIRE_THROWS_WITH(Pipeline(o).run(), Catch::Contains("/input/x/shape") && Catch::Contains("float32[N,2,4,4]"));
  o.inputs[""].shape = Shape{1, 2, 4, 4};  // "" is the only input, x
  const PipelineResult r = Pipeline(o).run();
  REQUIRE(r.calibration_samples == 4);  // random samples
  REQUIRE(r.evaluation_samples == 4);
  REQUIRE(r.random_calibration);
  REQUIRE_THAT(r.report_json, Catch::Contains("\"not_for_accuracy\"") && Catch::Contains("random inputs"));
  // Random x in [-1, 1] by default; a declared range [0, 4] moves x's range there.
  const Range x_default = r.quantized.params.at("x").range;
  REQUIRE(x_default.min >= -1.0);
  REQUIRE(x_default.max <= 1.0);
  REQUIRE(x_default.max > 0.9);
  o.inputs[""].range = Range{0.0, 4.0};
  const PipelineResult declared = Pipeline(o).run();
  const Range x_declared = declared.quantized.params.at("x").range;
  REQUIRE(x_declared.min >= 0.0);
  REQUIRE(x_declared.max <= 4.0);
  REQUIRE(x_declared.max > 3.5);
  o.inputs[""].range.reset();
  REQUIRE(r.output_snr_db.at("y") > 20.0);
  REQUIRE(r.artifacts == std::vector<std::string>{(dir / "out" / "model.qdq.onnx").string(),
                                                  (dir / "out" / "quant_config.json").string(),
                                                  (dir / "out" / "model.float.onnx").string()});
  std::ifstream written(dir / "out" / "quant_config.json");
  const std::string text((std::istreambuf_iterator<char>(written)), std::istreambuf_iterator<char>());
  REQUIRE(QuantConfig::from_json(text).resolve_model().range.method == RangeMethod::kSkip);

  // The unnamed input's calibration files and the named input's shape are one input's.
  o.quantization.model.method = RangeMethod::kMax;
  o.inputs[""] = PipelineInput{};
  o.inputs[""].calibration = {(dir / "calib").string()};
  o.inputs["x"].shape = Shape{1, 2, 4, 4};
  const PipelineResult with_data = Pipeline(o).run();
  REQUIRE(with_data.calibration_samples == 4);
  REQUIRE_FALSE(with_data.random_calibration);
  REQUIRE_THAT(with_data.report_json, !Catch::Contains("not_for_accuracy"));
  o.inputs[""].shape = Shape{2, 2, 4, 4};
  REQUIRE_THROWS_WITH(Pipeline(o).run(), Catch::Contains("two shapes"));
  o.artifacts = {"qdq", "lqm"};
  REQUIRE_THROWS_WITH(Pipeline(o).run(), Catch::Contains("unknown artifact 'lqm'"));
  fs::remove_all(dir);
}

TEST_CASE("Pipeline: cpu_ops and output names are checked against the model", "[pipeline][errors]") {
  const fs::path dir = temp_dir("lq_pipeline_names_test");
  write_model(dir);
  const auto run = [&](const std::string& extra, const std::string& model = "") {
    const PipelineOptions o = PipelineOptions::from_yaml(
        "model: {path: model.onnx" + model + "}\ninput:\n  x: {shape: [1, 2, 4, 4], calibration: calib}\n"
        "calibration: {method: max}\noutput: {dir: out, artifacts: [report]}\n" + extra,
        dir.string());
    return Pipeline(o).run();
  };
  REQUIRE_THROWS_WITH(run("compiler: {cpu_ops: [Sofmtax]}"),
                      Catch::Contains("/compiler/cpu_ops") && Catch::Contains("\"Sofmtax\"") &&
                          Catch::Contains("did you mean \"Softmax\""));
  REQUIRE(run("compiler: {cpu_ops: [Conv]}").program.cpu_instruction_count() >
          run("").program.cpu_instruction_count());
  REQUIRE_THROWS_WITH(run("", ", outputs: [rr]"), Catch::Contains("did you mean \"r\""));
  REQUIRE_THROWS_WITH(run("", ", remove_output_nodes: [sofmax]"),
                      Catch::Contains("did you mean \"softmax\""));
  REQUIRE_THROWS_WITH(run("quantization: {nodes: {rel: {activation: int16}}}"),
                      Catch::Contains("quantize stage") && Catch::Contains("did you mean \"relu\""));
  fs::remove_all(dir);
}

TEST_CASE("Pipeline: a failed run leaves the previous artifacts intact and names its stage", "[pipeline][errors]") {
  const fs::path dir = temp_dir("lq_pipeline_atomic_test");
  write_model(dir);
  const std::string config = "model: {path: model.onnx}\ninput:\n  x: {shape: [1, 2, 4, 4], calibration: calib}\n"
                             "calibration: {method: max}\noutput: {dir: out}\n";
  const auto read = [](const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  const PipelineResult first = Pipeline(PipelineOptions::from_yaml(config, dir.string())).run();
  REQUIRE(first.report_json.find("\"completed_stages\"") != std::string::npos);
  REQUIRE(first.report_json.find("\"evaluate\"") != std::string::npos);
  const fs::path out = dir / "out";
  std::map<std::string, std::string> before;
  for (const auto& entry : fs::directory_iterator(out)) before[entry.path().filename().string()] = read(entry.path());
  REQUIRE(before.count("model.lqm"));
  REQUIRE(before.count("report.json"));
  const auto unchanged = [&] {
    std::map<std::string, std::string> now;
    for (const auto& entry : fs::directory_iterator(out)) {
      if (entry.is_regular_file()) now[entry.path().filename().string()] = read(entry.path());
    }
    return now == before;
  };
  // A stage before writing fails (quantize: a node name the model lacks, with 16-bit
  // activations, so a completed run would have changed every file).
  REQUIRE_THROWS_WITH(
      Pipeline(PipelineOptions::from_yaml(config + "quantization: {activation: int16, nodes: {rleu: {}}}",
                                          dir.string()))
          .run(),
      Catch::StartsWith("quantize stage"));
  REQUIRE(unchanged());
  // Writing fails half way (program.json cannot be written): nothing is replaced and no
  // temporary is left behind.
  const fs::path blocker = out / (".program.json.tmp-" + std::to_string(::getpid()));
  fs::create_directories(blocker);
  REQUIRE_THROWS_WITH(
      Pipeline(PipelineOptions::from_yaml(config + "quantization: {activation: int16}", dir.string())).run(),
      Catch::StartsWith("write stage"));
  REQUIRE(unchanged());
  fs::remove_all(blocker);
  for (const auto& entry : fs::directory_iterator(out)) {
    INFO(entry.path());
    REQUIRE(before.count(entry.path().filename().string()));
  }
  // A run that completes replaces them.
  Pipeline(PipelineOptions::from_yaml(config + "quantization: {activation: int16}", dir.string())).run();
  REQUIRE(read(out / "model.lqm") != before.at("model.lqm"));
  fs::remove_all(dir);
}

TEST_CASE("pipeline YAML: keys that are not names and deep nesting are lq errors (fuzz regression)", "[pipeline][errors]") {
  REQUIRE_THROWS_WITH(PipelineOptions::from_yaml("model: {[path]: model.onnx}\noutput: {dir: o}\n"),
                      Catch::Contains("line 1") && Catch::Contains("a key must be a name"));
  REQUIRE_THROWS_WITH(PipelineOptions::from_yaml("model: {path: m.onnx, outputs: " + std::string(100, '[') +
                                                 std::string(100, ']') + "}\noutput: {dir: o}\n"),
                      Catch::Contains("nested deeper than 32"));
  REQUIRE_THROWS_WITH(PipelineOptions::from_json("[1e999]"), Catch::Contains("not valid JSON"));
}

TEST_CASE("pipeline YAML: text that is not UTF-8 is an lq error (fuzz regression)", "[pipeline][errors]") {
  REQUIRE_THROWS_WITH(PipelineOptions::from_yaml("model: {path: \"m\xf4.onnx\"}\noutput: {dir: o}\n"),
                      Catch::Contains("line 1") && Catch::Contains("not valid UTF-8"));
  REQUIRE_THROWS_WITH(PipelineOptions::from_yaml("model: {path: m.onnx}\ninput:\n  x: {shape: [1, \xf4]}\noutput: {dir: o}\n"),
                      Catch::Contains("line 3") && Catch::Contains("not valid UTF-8"));
}

TEST_CASE("pipeline config: the analyze group in YAML and JSON, its keys checked, and its stage", "[pipeline][report]") {
  const fs::path dir = temp_dir("lq_pipeline_analyze_test");
  write_model(dir);
  const std::string head = "model: {path: model.onnx}\ninput: {x: {shape: [1, 2, 4, 4], calibration: calib}}\n"
                           "output: {dir: out, artifacts: [program]}\n";
  const PipelineOptions yaml = PipelineOptions::from_yaml(
      head + "analyze: {dir: rep, sensitivity: true, sensitivity_samples: 2, integer_checks: 1, dump: 1, "
             "histogram_bins: 16}\n",
      dir.string());
  REQUIRE(yaml.analyze);
  REQUIRE(yaml.analysis_dir == (dir / "rep").string());
  REQUIRE(yaml.analysis.sensitivity);
  REQUIRE(yaml.analysis.sensitivity_samples == 2);
  REQUIRE(yaml.analysis.integer_checks == 1);
  REQUIRE(yaml.analysis.dump_sample == std::optional<size_t>(1));
  REQUIRE(yaml.analysis.histogram_bins == 16);
  // The same from JSON, and from the options' own JSON (which lists every key).
  const PipelineOptions json = PipelineOptions::from_json(
      R"({"model": {"path": "model.onnx"}, "output": {"dir": "out"},
          "analyze": {"dir": "rep", "sensitivity": true, "sensitivity_samples": 2, "integer_checks": 1, "dump": 1,
                      "histogram_bins": 16}})",
      dir.string());
  const PipelineOptions back = PipelineOptions::from_json(yaml.to_json());
  for (const PipelineOptions* o : {&json, &back}) {
    REQUIRE(o->analyze);
    REQUIRE(o->analysis_dir == yaml.analysis_dir);
    REQUIRE(o->analysis.sensitivity);
    REQUIRE(o->analysis.sensitivity_samples == 2);
    REQUIRE(o->analysis.integer_checks == 1);
    REQUIRE(o->analysis.dump_sample == std::optional<size_t>(1));
    REQUIRE(o->analysis.histogram_bins == 16);
  }
  REQUIRE(PipelineOptions::from_yaml(head + "analyze: true\n").analyze);
  REQUIRE_FALSE(PipelineOptions::from_yaml(head + "analyze: {enabled: false, sensitivity: true}\n").analyze);
  REQUIRE_FALSE(PipelineOptions::from_yaml(head).analyze);
  REQUIRE_FALSE(PipelineOptions::from_json(PipelineOptions::from_yaml(head).to_json()).analyze);
  // Unknown keys and wrong values are errors naming the path.
  REQUIRE_THROWS_WITH(PipelineOptions::from_yaml(head + "analyze: {sensitivty: true}\n"),
                      Catch::Contains("/analyze") && Catch::Contains("sensitivity"));
  REQUIRE_THROWS_WITH(PipelineOptions::from_yaml(head + "analyze: {dump: -1}\n"), Catch::Contains("/analyze/dump"));
  REQUIRE_THROWS_WITH(PipelineOptions::from_yaml(head + "analyze: {integer_checks: 1.5}\n"),
                      Catch::Contains("/analyze/integer_checks"));
  REQUIRE_THROWS_WITH(PipelineOptions::from_yaml(head + "analyze: maybe\n"), Catch::Contains("/analyze"));
  REQUIRE_THROWS_WITH(PipelineOptions::from_json(R"({"model": {"path": "m"}, "output": {"dir": "o"}, "analyse": true})"),
                      Catch::Contains("analyze"));
  // The stage runs after evaluate and writes the report where the group says.
  std::vector<std::string> stages;
  const PipelineResult r = Pipeline(yaml).run([&](const std::string& s) { stages.push_back(s); });
  REQUIRE(stages == std::vector<std::string>{"load", "optimize", "calibrate", "quantize", "compile", "evaluate",
                                             "analyze", "write"});
  REQUIRE(r.analysis.has_value());
  REQUIRE(r.analysis->samples == 4);
  REQUIRE(entry_count(*r.analysis) > 0);
  REQUIRE(fs::exists(dir / "rep" / "report.json"));
  REQUIRE(fs::exists(dir / "rep" / "report.html"));
  REQUIRE(fs::exists(dir / "rep" / "dumps" / "float" / "y.npy"));
  fs::remove_all(dir);
}

TEST_CASE("Pipeline config: boundary surgery, extra outputs, batch, compile mode and cores", "[pipeline]") {
  const fs::path dir = temp_dir("lq_pipeline_surgery_test");
  write_model(dir);
  const PipelineOptions o = PipelineOptions::from_yaml(R"(
model: {path: model.onnx, remove_node_types: [Softmax], extra_outputs: [c], batch: 2}
input:
  x: {calibration: calib}
calibration: {method: max}
compiler: {mode: bandwidth, cores: 3, balance_factor: 0.5}
output: {dir: out, artifacts: [program_summary, report]}
)", dir.string());
  REQUIRE(o.compile_mode == CompileMode::kBandwidth);
  REQUIRE(o.target.profile().cost.cores == 3);
  REQUIRE(o.balance_factor == 0.5);
  // The options survive their own JSON.
  REQUIRE(PipelineOptions::from_json(o.to_json(), dir.string()).to_json() == o.to_json());
  // The calibration samples are batch 1; the batch override makes the model take 2.
  PipelineOptions batch1 = o;
  batch1.batch = 1;
  const PipelineResult r = Pipeline(batch1).run();
  REQUIRE(r.removed_nodes.size() == 1);
  REQUIRE(r.removed_nodes[0].name == "softmax");
  REQUIRE(r.float_graph.outputs().size() == 2);
  REQUIRE(r.float_graph.outputs()[0]->name() == "r");
  REQUIRE(r.float_graph.outputs()[1]->name() == "c");
  REQUIRE_THAT(r.report_json, Catch::Contains("\"removed_nodes\"") && Catch::Contains("\"softmax\""));
  std::ifstream summary(dir / "out" / "program.json");
  const std::string text((std::istreambuf_iterator<char>(summary)), std::istreambuf_iterator<char>());
  REQUIRE_THAT(text, Catch::Contains("\"mode\": \"bandwidth\"") && Catch::Contains("\"cores\": 3"));
  // Batch 2: the float graph takes [2,2,4,4], and batch-1 calibration samples no longer fit.
  REQUIRE_THROWS_WITH(Pipeline(o).run(), Catch::Contains("[1,2,4,4]") && Catch::Contains("[2,2,4,4]"));
  fs::remove_all(dir);
}

TEST_CASE("Pipeline config: an input format folds nv12 and its mean and scale", "[pipeline]") {
  const PipelineOptions o = PipelineOptions::from_yaml(R"(
model: {path: model.onnx}
input:
  x: {shape: [1, 3, 4, 4], format: nv12, yuv_range: bt601_video, color: bgr, mean: [1, 2, 3], scale: 0.5}
output: {dir: out}
)", "/base");
  const InputFormat& f = *o.inputs.at("x").format;
  REQUIRE(f.runtime == PixelFormat::kNV12);
  REQUIRE(f.range == YuvRange::kVideo);
  REQUIRE(f.train == PixelFormat::kBGR);
  REQUIRE(f.mean == std::vector<float>{1, 2, 3});
  REQUIRE(f.scale == std::vector<float>{0.5f, 0.5f, 0.5f});
  REQUIRE(PipelineOptions::from_json(o.to_json(), "/base").to_json() == o.to_json());
  REQUIRE_THROWS_WITH(PipelineOptions::from_yaml("model: {path: m.onnx}\noutput: {dir: o}\ninput: {x: {format: nv21}}"),
                      Catch::Contains("/input/x/format") && Catch::Contains("nv12"));
  REQUIRE_THROWS_WITH(PipelineOptions::from_yaml("model: {path: m.onnx}\noutput: {dir: o}\ncompiler: {mode: fast}"),
                      Catch::Contains("/compiler/mode") && Catch::Contains("latency"));
  REQUIRE_THROWS_WITH(PipelineOptions::from_yaml("model: {path: m.onnx}\noutput: {dir: o}\ncompiler: {balance_factor: -1}"),
                      Catch::Contains("/compiler/balance_factor"));
}
