// Pipeline: the stages in order, timed, with the artifacts and a JSON report.
#include "libquant/pipeline.hpp"
#include "libquant/analysis.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace lq {

namespace {

namespace fs = std::filesystem;

bool wants(const PipelineOptions& o, const std::string& artifact) {
  return std::find(o.artifacts.begin(), o.artifacts.end(), artifact) != o.artifacts.end();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream file(path);
  file << text << "\n";
  if (!file) throw Error(StatusCode::kIoError, fmt::format("cannot write '{}'", path.string()));
}

class StageTimer {
 public:
  StageTimer(PipelineResult& result, const StageCallback& on_stage) : result_(result), on_stage_(on_stage) {}
  template <typename Fn>
  void run(const std::string& stage, Fn&& fn) {
    if (on_stage_) on_stage_(stage);
    const auto start = std::chrono::steady_clock::now();
    try {
      fn();
    } catch (const Error& e) {
      throw Error(e.code(), fmt::format("{} stage: {}", stage, e.what()));
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    result_.times.push_back({stage, elapsed.count()});
  }

 private:
  PipelineResult& result_;
  const StageCallback& on_stage_;
};

std::string report(const PipelineOptions& o, const PipelineResult& r) {
  nlohmann::json j;
  j["model"] = o.model;
  j["calibration_samples"] = r.calibration_samples;
  j["output_snr_db"] = r.output_snr_db;
  j["fixed_output_snr_db"] = r.fixed_snr_db;
  j["program"] = {{"target", o.target.name},
                  {"instructions", r.program.instruction_count()},
                  {"cpu_instructions", r.program.cpu_instruction_count()},
                  {"peak_activation_bytes", r.program.peak_activation_bytes()},
                  {"weight_bytes", r.program.weight_bytes()}};
  for (const StageTime& t : r.times) j["stage_seconds"][t.stage] = t.seconds;
  j["artifacts"] = r.artifacts;
  j["quantized_tensors"] = r.quantized.params.size();
  j["log"] = r.quantized.log;
  return j.dump(2);
}

}  // namespace

Pipeline::Pipeline(PipelineOptions options) : options_(std::move(options)) {}

PipelineResult Pipeline::run(const StageCallback& on_stage) const {
  const PipelineOptions& o = options_;
  PipelineResult result;
  StageTimer stage(result, on_stage);

  stage.run("load", [&] {
    result.float_graph = load_onnx(o.model);
    if (!o.outputs.empty()) cut_outputs(result.float_graph, o.outputs);
    if (!o.remove_output_nodes.empty()) remove_output_nodes(result.float_graph, o.remove_output_nodes);
  });
  Graph& graph = result.float_graph;
  for (const auto& [name, in] : o.inputs) {
    const Value* v = graph.find_value(name);
    if (!v || !v->is_graph_input()) {
      std::string names;
      for (const Value* i : graph.inputs()) names += (names.empty() ? "\"" : ", \"") + i->name() + "\"";
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("pipeline config /input/{}: the model has no input of that name; its "
                              "inputs are {}", name, names));
    }
  }
  stage.run("optimize", [&] {
    std::map<std::string, Shape> shapes;
    for (const auto& [name, in] : o.inputs) {
      if (in.shape) shapes[name] = *in.shape;
    }
    if (!shapes.empty()) propagate_shapes(graph, shapes, o.calibration.threads);
    optimize(graph);
  });

  CalibrationOptions calib_options = o.calibration;
  const int auto_samples = o.quantization.auto_samples;
  calib_options.keep_samples = std::max(calib_options.keep_samples, static_cast<size_t>(auto_samples));
  Calibrator calibrator(graph, calib_options);
  stage.run("calibrate", [&] {
    std::map<std::string, CalibrationSource> sources;
    for (const auto& [name, in] : o.inputs) {
      if (in.calibration.empty()) continue;
      sources[name] = CalibrationSource{in.calibration, in.images, in.preprocess};
    }
    calibrator.add_sources(sources);
  });
  result.calibration_samples = calibrator.table().samples;

  stage.run("quantize", [&] {
    result.quantized = quantize_model(Quantizer(o.quantization, o.target), graph, calibrator.table(),
                                      calibrator.kept_samples());
  });
  stage.run("compile", [&] {
    CompileOptions compile;
    compile.target = o.target;
    for (const Value* in : graph.inputs()) {
      const std::vector<TensorMap>& kept = calibrator.kept_samples();
      if (!in->type().is_static() && !kept.empty() && kept.front().count(in->name())) {
        compile.input_shapes[in->name()] = kept.front().at(in->name()).shape();
      }
    }
    result.program = Compiler(compile).compile(result.quantized);
  });
  stage.run("evaluate", [&] {
    SimulatorOptions options;
    options.threads = o.threads;
    const Simulator reference(graph, options);
    const Simulator fake = fake_quant_simulator(result.quantized, options);
    const FixedSimulator fixed(result.program, {o.threads});
    std::vector<TensorMap> want, fake_out, fixed_out;
    for (const TensorMap& sample : calibrator.kept_samples()) {
      want.push_back(reference.run(sample));
      fake_out.push_back(fake.run(sample));
      fixed_out.push_back(fixed.run_float(sample));
    }
    result.output_snr_db = snr_db(want, fake_out);
    result.fixed_snr_db = snr_db(want, fixed_out);
  });
  stage.run("write", [&] {
    fs::create_directories(o.output_dir);
    const fs::path dir(o.output_dir);
    auto written = [&](const fs::path& p) { result.artifacts.push_back(p.string()); };
    if (wants(o, "float")) {
      save_onnx(graph, (dir / "model.float.onnx").string());
      written(dir / "model.float.onnx");
    }
    if (wants(o, "qdq")) {
      save_onnx(result.quantized.to_qdq(), (dir / "model.qdq.onnx").string());
      written(dir / "model.qdq.onnx");
    }
    if (wants(o, "params")) {
      write_text(dir / "quant_params.json", result.quantized.params_json());
      written(dir / "quant_params.json");
    }
    if (wants(o, "config")) {
      write_text(dir / "config.json", o.to_json());
      written(dir / "config.json");
    }
    if (wants(o, "program")) {
      result.program.save((dir / "model.lqm").string());
      written(dir / "model.lqm");
    }
    if (wants(o, "program_summary")) {
      write_text(dir / "program.json", result.program.summary_json());
      written(dir / "program.json");
    }
  });
  result.report_json = report(o, result);
  if (wants(o, "report")) {
    const fs::path path = fs::path(o.output_dir) / "report.json";
    write_text(path, result.report_json);
    result.artifacts.push_back(path.string());
  }
  return result;
}

}  // namespace lq
