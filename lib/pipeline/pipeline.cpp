// Pipeline: the stages in order, timed, with the artifacts and a JSON report.
#include "libquant/pipeline.hpp"
#include "libquant/analysis.hpp"
#include "graph/nearest_name.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include <unistd.h>

namespace lq {

namespace {

namespace fs = std::filesystem;

void check_artifacts(const PipelineOptions& o) {
  const std::vector<std::string>& names = PipelineOptions::artifact_names();
  for (const std::string& artifact : o.artifacts) {
    if (std::find(names.begin(), names.end(), artifact) == names.end()) {
      std::string known;
      for (const std::string& k : names) known += (known.empty() ? "" : ", ") + k;
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("pipeline config /output/artifacts: unknown artifact '{}'; use {}", artifact, known));
    }
  }
}

// The write stage's files go to temporaries beside their targets and are renamed into place
// together once every one is written: a run that fails (in any stage, or while writing)
// leaves the previous run's artifacts as they were. Temporaries left by a failure are removed.
class StagedFiles {
 public:
  explicit StagedFiles(fs::path dir) : dir_(std::move(dir)) {}
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;
  ~StagedFiles() {
    for (const auto& file : pending_) {
      std::error_code ignored;
      fs::remove(file.first, ignored);
    }
  }

  void write(const std::string& name, const std::function<void(const std::string&)>& writer) {
    const fs::path temp = dir_ / fmt::format(".{}.tmp-{}", name, static_cast<long>(::getpid()));
    pending_.emplace_back(temp, dir_ / name);
    writer(temp.string());
  }

  // Renames every file into place; returns their final paths.
  std::vector<std::string> commit() {
    std::vector<std::string> done;
    for (const auto& [temp, target] : pending_) {
      std::error_code error;
      fs::rename(temp, target, error);
      if (error) {
        throw Error(StatusCode::kIoError, fmt::format("cannot move '{}' to '{}': {}", temp.string(),
                                                      target.string(), error.message()));
      }
      done.push_back(target.string());
    }
    pending_.clear();
    return done;
  }

 private:
  fs::path dir_;
  std::vector<std::pair<fs::path, fs::path>> pending_;
};

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
    } catch (const std::filesystem::filesystem_error& e) {
      throw Error(StatusCode::kIoError, fmt::format("{} stage: {}", stage, e.what()));
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    result_.times.push_back({stage, elapsed.count()});
  }

 private:
  PipelineResult& result_;
  const StageCallback& on_stage_;
};

// The model's only input given both without its name and with it: the shape may come from
// one and the calibration data from the other.
void merge_unnamed(const std::string& name, const PipelineInput& from, PipelineInput& to) {
  if (from.range) to.range = from.range;
  if (from.shape) {
    if (to.shape && *to.shape != *from.shape) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("pipeline config /input: input \"{}\" is given two shapes, {} and {} "
                              "(once without its name)", name, shape_str(*to.shape), shape_str(*from.shape)));
    }
    to.shape = from.shape;
  }
  if (!from.calibration.empty()) {
    if (!to.calibration.empty()) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("pipeline config /input: input \"{}\" is given calibration data twice "
                              "(once without its name); give it once", name));
    }
    to.calibration = from.calibration;
    to.images = from.images;
    to.preprocess = from.preprocess;
  }
  if (from.format) to.format = from.format;
}

// The inputs by their model names: "" is the model's only input.
std::map<std::string, PipelineInput> named_inputs(const PipelineOptions& o, const Graph& graph) {
  std::string names;
  for (const Value* i : graph.inputs()) names += (names.empty() ? "\"" : ", \"") + i->name() + "\"";
  std::map<std::string, PipelineInput> inputs;
  for (const auto& [given, in] : o.inputs) {
    std::string name = given;
    if (name.empty()) {
      if (graph.inputs().size() != 1) {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("pipeline config /input: an input without a name stands for the "
                                "model's only input, but the model has {} inputs ({}); name each",
                                graph.inputs().size(), names));
      }
      name = graph.inputs().front()->name();
    }
    const Value* v = graph.find_value(name);
    if (!v || !v->is_graph_input()) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("pipeline config /input/{}: the model has no input of that name; its "
                              "inputs are {}", name, names));
    }
    const auto [it, fresh] = inputs.emplace(name, in);
    if (!fresh) merge_unnamed(name, in, it->second);
  }
  return inputs;
}

// The range method skip needs no data: random inputs in each input's declared range
// ([-1, 1] if none) stand in, in the inputs' shapes, which must be static.
void calibrate_on_random_inputs(const Graph& graph, const std::map<std::string, PipelineInput>& inputs,
                                Calibrator& calibrator) {
  for (const Value* in : graph.inputs()) {
    if (!in->type().is_static()) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("pipeline config /input/{}/shape: input \"{}\" has dynamic shape {}; "
                              "with the range method skip and no calibration data, random inputs "
                              "stand in and need its shape (lquant quantize: --input-shape {}=...)",
                              in->name(), in->name(), in->type().str(), in->name()));
    }
  }
  std::map<std::string, Range> ranges;
  for (const auto& [name, in] : inputs) {
    if (in.range) ranges[name] = *in.range;
  }
  add_random_samples(calibrator, graph, ranges);
}

// The statistics files of a sharded calibration, merged, checked against the graph they are
// for (the same model, optimized and shaped as here).
CalibrationTable merged_statistics(const std::vector<std::string>& paths, const Graph& graph) {
  CalibrationTable table = CalibrationTable::merge_files(paths);
  const std::string expected = calibration_fingerprint(graph);
  if (table.model_fingerprint != expected) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("calibration statistics '{}' were gathered on another model or other input "
                            "shapes (fingerprint {}, this model {}): calibrate with the same model, "
                            "outputs and input shapes",
                            paths.front(), table.model_fingerprint, expected));
  }
  return table;
}

// The op types the config adds to the target's CPU list (compiler.cpu_ops) must occur in the
// model: a misspelt one would keep nothing on the CPU without a word.
void check_cpu_ops(const Target& target, const Graph& graph) {
  std::set<std::string> profile;
  try {
    profile = Target::named(target.name()).cpu_ops();
  } catch (const Error&) {
    return;  // a profile not in the registry: its own CPU op types are unknown here
  }
  std::set<std::string> model_ops;
  for (const Node* node : graph.nodes()) model_ops.insert(node->op_type());
  for (const std::string& op : target.cpu_ops()) {
    if (profile.count(op) || model_ops.count(op)) continue;
    const std::string nearest = nearest_name(op, std::vector<std::string>(model_ops.begin(), model_ops.end()));
    throw Error(StatusCode::kNotFound,
                fmt::format("pipeline config /compiler/cpu_ops: the model has no node of op type \"{}\"{}",
                            op, nearest.empty() ? "" : fmt::format("; did you mean \"{}\"?", nearest)));
  }
}

std::string report(const PipelineOptions& o, const PipelineResult& r) {
  nlohmann::json j;
  j["model"] = o.model;
  j["calibration_samples"] = r.calibration_samples;
  if (r.random_calibration) {
    j["not_for_accuracy"] =
        "range method skip without calibration data: activation ranges and SNRs come from random inputs";
  }
  j["output_snr_db"] = r.output_snr_db;
  j["fixed_output_snr_db"] = r.fixed_snr_db;
  j["program"] = {{"target", o.target.name()},
                  {"instructions", r.program.instruction_count()},
                  {"cpu_instructions", r.program.cpu_instruction_count()},
                  {"peak_activation_bytes", r.program.peak_activation_bytes()},
                  {"weight_bytes", r.program.weight_bytes()}};
  for (const StageTime& t : r.times) j["stage_seconds"][t.stage] = t.seconds;
  // Written last, once every other artifact is staged: the stages before it all completed.
  j["completed_stages"] = nlohmann::json::array();
  for (const StageTime& t : r.times) j["completed_stages"].push_back(t.stage);
  j["artifacts"] = r.artifacts;
  j["quantized_tensors"] = r.quantized.params.size();
  j["log"] = r.quantized.log;
  j["removed_nodes"] = nlohmann::json::parse(removed_nodes_json(r.removed_nodes));
  return j.dump(2);
}

}  // namespace

const std::vector<std::string>& PipelineOptions::artifact_names() {
  static const std::vector<std::string> names = {"float",  "qdq",     "params",          "quant_config",
                                                 "config", "program", "program_summary", "report"};
  return names;
}

Pipeline::Pipeline(PipelineOptions options) : options_(std::move(options)) {}

PipelineResult Pipeline::run(const StageCallback& on_stage) const {
  const PipelineOptions& o = options_;
  check_artifacts(o);
  PipelineResult result;
  StageTimer stage(result, on_stage);

  stage.run("load", [&] {
    result.float_graph = load_onnx(o.model);
    if (!o.outputs.empty()) cut_outputs(result.float_graph, o.outputs);
    if (!o.remove_output_nodes.empty()) remove_output_nodes(result.float_graph, o.remove_output_nodes);
    if (!o.remove_nodes.op_types.empty() || !o.remove_nodes.node_names.empty()) {
      result.removed_nodes = remove_boundary_nodes(result.float_graph, o.remove_nodes);
    }
    if (!o.extra_outputs.empty()) add_outputs(result.float_graph, o.extra_outputs);
  });
  Graph& graph = result.float_graph;
  const std::map<std::string, PipelineInput> inputs = named_inputs(o, graph);
  std::vector<std::string> pixel_values;  // raw pixels of folded input formats: [0, 255]
  stage.run("optimize", [&] {
    std::map<std::string, Shape> shapes;
    for (const auto& [name, in] : inputs) {
      if (in.shape) shapes[name] = *in.shape;
    }
    if (o.batch) {
      for (const Value* v : graph.inputs()) {
        Shape shape;
        if (shapes.count(v->name())) {
          shape = shapes[v->name()];
        } else {
          const TensorType& type = v->type();
          for (size_t d = 0; d < type.dims.size(); ++d) {
            if (d > 0 && !type.dims[d].known()) {
              throw Error(StatusCode::kInvalidArgument,
                          fmt::format("pipeline config /model/batch: input \"{}\" has dynamic shape {}; give its "
                                      "shape too (lquant: --input-shape {}=...)", v->name(), type.str(), v->name()));
            }
            shape.push_back(type.dims[d].value);
          }
        }
        if (shape.empty()) continue;  // a scalar has no batch
        shape[0] = *o.batch;
        shapes[v->name()] = shape;
      }
    }
    if (!shapes.empty()) propagate_shapes(graph, shapes, o.calibration.threads);
    optimize(graph);
    for (const auto& [name, in] : inputs) {
      if (!in.format) continue;
      for (const std::string& v : fuse_input_format(graph, name, *in.format)) pixel_values.push_back(v);
    }
  });

  CalibrationOptions calib_options = o.calibration;
  const int auto_samples = o.quantization.auto_samples;
  calib_options.keep_samples = std::max(calib_options.keep_samples, static_cast<size_t>(auto_samples));
  CalibrationTable table;
  stage.run("calibrate", [&] {
    if (!o.stats.empty()) {
      table = merged_statistics(o.stats, graph);
    } else {
      Calibrator calibrator(graph, calib_options);
      std::map<std::string, CalibrationSource> sources;
      for (const auto& [name, in] : inputs) {
        if (in.calibration.empty()) continue;
        sources[name] = CalibrationSource{in.calibration, in.images, in.preprocess};
        if (in.format) {
          sources[name].preprocess.format = in.format->runtime;
          sources[name].preprocess.range = in.format->range;
          sources[name].preprocess.layout = in.format->runtime_layout;
        }
      }
      if (sources.empty() && o.quantization.resolve_model().range.method == RangeMethod::kSkip) {
        calibrate_on_random_inputs(graph, inputs, calibrator);
        result.random_calibration = true;
      } else {
        calibrator.add_sources(sources);
      }
      table = calibrator.table();
    }
    if (!o.stats_out.empty()) {
      table.save(o.stats_out);
      result.artifacts.push_back(o.stats_out);
    }
  });
  std::vector<TensorMap> kept_samples;
  for (const KeptSample& k : table.kept) kept_samples.push_back(k.inputs);
  result.calibration_samples = table.samples;
  result.evaluation_samples = kept_samples.size();
  result.evaluation_inputs = kept_samples;
  if (o.calibrate_only) return result;

  stage.run("quantize", [&] {
    QuantConfig quantization = o.quantization;
    // Pixels are codes of their own values (scale 1): int16 and uint8 with zero point 0, int8
    // with -128. Where the zero point must be 0 (power-of-two scales, symmetric int8), scale 2:
    // [0, 254] exactly for even values, 255 saturating to 254.
    const ResolvedSpec model_spec = quantization.resolve_model();
    DType pixel_dtype = model_spec.activation_dtype;
    if (pixel_dtype == DType::kInt16 && !o.target.int16_activations()) pixel_dtype = DType::kInt8;
    const bool zero_point_0 = model_spec.scale_kind == ScaleKind::kPowerOfTwo || o.target.power_of_two_scales() ||
                              model_spec.symmetric_activations;
    TensorOverride pixels{1.0f, 0, {}, {}};
    if (pixel_dtype == DType::kInt8) pixels = zero_point_0 ? TensorOverride{2.0f, 0, {}, {}} : TensorOverride{1.0f, -128, {}, {}};
    for (const std::string& v : pixel_values) quantization.tensors.emplace(v, pixels);
    // The conversion's Conv 1x1 (colour matrix x scale): int16 weights, so that only its int8
    // output rounds, as the unfused program's input does (int8 on targets without int16).
    for (const Node* node : graph.nodes()) {
      if (node->op_type() != "Conv" || !node->input(0)) continue;
      if (std::find(pixel_values.begin(), pixel_values.end(), node->input(0)->name()) == pixel_values.end()) continue;
      QuantSpec& spec = quantization.nodes[node->name()];
      if (!spec.weight_dtype) spec.weight_dtype = DType::kInt16;
    }
    result.quantized = quantize_model(Quantizer(quantization, o.target), graph, table, kept_samples, o.progress);
  });
  stage.run("compile", [&] {
    check_cpu_ops(o.target, graph);
    CompileOptions compile;
    compile.target = o.target;
    compile.mode = o.compile_mode;
    compile.balance_factor = o.balance_factor;
    if (o.progress) compile.progress = [&](int64_t done, int64_t total) { o.progress("compile", done, total); };
    for (const Value* in : graph.inputs()) {
      if (!in->type().is_static() && !kept_samples.empty() && kept_samples.front().count(in->name())) {
        compile.input_shapes[in->name()] = kept_samples.front().at(in->name()).shape();
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
    for (const TensorMap& sample : kept_samples) {
      want.push_back(reference.run(sample));
      fake_out.push_back(fake.run(sample));
      fixed_out.push_back(fixed.run_float(sample));
    }
    result.output_snr_db = snr_db(want, fake_out);
    result.fixed_snr_db = snr_db(want, fixed_out);
  });
  if (o.analyze) {
    stage.run("analyze", [&] {
      result.analysis_dir = !o.analysis_dir.empty() ? o.analysis_dir : (fs::path(o.output_dir) / "analysis").string();
      AnalysisOptions options = o.analysis;
      options.threads = std::max(options.threads, o.threads);
      options.target = o.target;  // integer checks recompile for the program's target
      if (options.dump_sample && *options.dump_sample >= kept_samples.size()) {
        throw Error(StatusCode::kInvalidArgument, fmt::format("analyze dump sample {}: {} samples were kept (0..{})",
                                                              *options.dump_sample, kept_samples.size(),
                                                              kept_samples.size() ? kept_samples.size() - 1 : 0));
      }
      if (!options.progress) options.progress = o.progress;
      result.analysis = analyze_precision(result.quantized, result.program, kept_samples, options);
      result.analysis->write(result.analysis_dir);
      result.artifacts.push_back((fs::path(result.analysis_dir) / "report.html").string());
    });
  }
  stage.run("write", [&] {
    fs::create_directories(o.output_dir);
    const fs::path dir(o.output_dir);
    const std::map<std::string, std::pair<std::string, std::function<void(const std::string&)>>> writers = {
        {"float", {"model.float.onnx", [&](const std::string& p) { save_onnx(graph, p); }}},
        {"qdq", {"model.qdq.onnx", [&](const std::string& p) { save_onnx(result.quantized.to_qdq(), p); }}},
        {"params", {"quant_params.json", [&](const std::string& p) { write_text(p, result.quantized.params_json()); }}},
        {"quant_config", {"quant_config.json", [&](const std::string& p) { write_text(p, o.quantization.to_json()); }}},
        {"config", {"config.json", [&](const std::string& p) { write_text(p, o.to_json()); }}},
        {"program", {"model.lqm", [&](const std::string& p) { result.program.save(p); }}},
        {"program_summary", {"program.json", [&](const std::string& p) { write_text(p, result.program.summary_json()); }}},
    };
    StagedFiles staged(dir);
    for (const std::string& artifact : o.artifacts) {
      const auto writer = writers.find(artifact);
      if (writer == writers.end()) continue;  // the report, which comes last
      staged.write(writer->second.first, writer->second.second);
    }
    // The report lists what the run completed: every stage, and every artifact with itself.
    for (const std::string& artifact : o.artifacts) {
      if (writers.count(artifact)) result.artifacts.push_back((dir / writers.at(artifact).first).string());
    }
    if (wants(o, "report")) result.artifacts.push_back((dir / "report.json").string());
    result.report_json = report(o, result);
    if (wants(o, "report")) staged.write("report.json", [&](const std::string& p) { write_text(p, result.report_json); });
    staged.commit();
  });
  return result;
}

}  // namespace lq
