// The C ABI of lq::Pipeline: options from a config text or set one by one, a run with its
// callbacks, and what the run produced.
#include <algorithm>

#include "capi_internal.hpp"

namespace {

using namespace lq::capi;

lq_pipeline* new_pipeline(lq::PipelineOptions options) {
  auto* pipeline = new lq_pipeline;
  pipeline->options = std::move(options);
  return pipeline;
}

std::string base_dir_of(const char* base_dir) { return base_dir ? base_dir : ""; }

struct RunRequest {
  lq::StageCallback on_stage;
  lq::ProgressCallback progress;
  lq_log_fn log = nullptr;
  void* log_user_data = nullptr;
  lq::StepProgress step_progress;
};

RunRequest run_request(const lq_pipeline_run_options* given) {
  lq_pipeline_run_options defaults;
  lq_pipeline_run_options_init(&defaults);  // NULL means the header's defaults
  const lq_pipeline_run_options* options = given ? given : &defaults;
  check_options(*options, LQ_FIRST_VERSION_SIZE(lq_pipeline_run_options, log_user_data),
                "lq_pipeline_run_options", "options->struct_size");
  RunRequest request;
  if (lq_stage_fn stage = options->stage) {
    void* user_data = options->stage_user_data;
    request.on_stage = [stage, user_data](const std::string& name) {
      stage(name.c_str(), user_data);
    };
  }
  if (lq_progress_fn progress = options->progress) {
    void* user_data = options->progress_user_data;
    request.progress = [progress, user_data](int64_t done, int64_t total) {
      progress(done, total, user_data);
    };
  }
  request.log = options->log;
  request.log_user_data = options->log_user_data;
  if (options->struct_size >= LQ_FIRST_VERSION_SIZE(lq_pipeline_run_options, step_progress_user_data)) {
    request.step_progress = step_progress(options->step_progress, options->step_progress_user_data);
  }
  return request;
}

std::unique_ptr<lq_pipeline_result> result_handle(lq::PipelineResult r) {
  auto result = std::make_unique<lq_pipeline_result>();
  result->float_graph = std::make_shared<const lq::Graph>(std::move(r.float_graph));
  result->quantized = std::make_shared<const lq::QuantizedGraph>(std::move(r.quantized));
  result->program = std::move(r.program);
  result->calibration_samples = r.calibration_samples;
  result->evaluation_samples = r.evaluation_samples;
  for (const auto& [name, snr] : r.output_snr_db) {
    result->output_names.push_back(name);
    result->fake_quant_snr_db.push_back(snr);
    const auto fixed = r.fixed_snr_db.find(name);
    result->fixed_snr_db.push_back(fixed != r.fixed_snr_db.end() ? fixed->second : 0.0);
  }
  result->artifacts = std::move(r.artifacts);
  result->report_json = std::move(r.report_json);
  result->evaluation_inputs = std::move(r.evaluation_inputs);
  return result;
}

void check_index(size_t index, size_t count, const char* kind) {
  if (index >= count) {
    invalid_argument(
        fmt::format("index {} is out of range: the result has {} {}", index, count, kind));
  }
}

lq_status* count_of(const char* function, const lq_pipeline_result* result, size_t* count,
                    size_t (*size_of)(const lq_pipeline_result&)) {
  clear(count);
  return guard(function, [&] {
    const lq_pipeline_result& r = live(result, "result");
    require(count, "count");
    *count = size_of(r);
  });
}

// lq_analyze_options checked (struct_size, threads, dump_sample) and as the C++ options.
lq::AnalysisOptions analysis_options(const lq_analyze_options& options) {
  check_options(options, LQ_FIRST_VERSION_SIZE(lq_analyze_options, threads), "lq_analyze_options",
                "options->struct_size");
  if (options.threads < 1) invalid_argument(fmt::format("options->threads is {}, must be >= 1", options.threads));
  if (options.dump_sample < -1) invalid_argument(fmt::format("options->dump_sample is {}, use -1 for none", options.dump_sample));
  lq::AnalysisOptions analysis;
  analysis.sensitivity = options.sensitivity != 0;
  analysis.threads = options.threads;
  if (options.dump_sample >= 0) analysis.dump_sample = static_cast<size_t>(options.dump_sample);
  if (options.struct_size >= LQ_FIRST_VERSION_SIZE(lq_analyze_options, progress_user_data)) {
    analysis.progress = step_progress(options.progress, options.progress_user_data);
  }
  return analysis;
}

}  // namespace

extern "C" {

lq_status* lq_pipeline_create_from_json(const char* json, const char* base_dir, lq_pipeline** out) {
  clear(out);
  return guard(__func__, [&] {
    require(json, "json");
    require(out, "out");
    *out = new_pipeline(lq::PipelineOptions::from_json(json, base_dir_of(base_dir)));
  });
}

lq_status* lq_pipeline_create_from_yaml(const char* yaml, const char* base_dir, lq_pipeline** out) {
  clear(out);
  return guard(__func__, [&] {
    require(yaml, "yaml");
    require(out, "out");
    *out = new_pipeline(lq::PipelineOptions::from_yaml(yaml, base_dir_of(base_dir)));
  });
}

lq_status* lq_pipeline_create(const char* model_path, const char* output_dir, lq_pipeline** out) {
  clear(out);
  return guard(__func__, [&] {
    require(model_path, "model_path");
    require(output_dir, "output_dir");
    require(out, "out");
    if (!*output_dir) invalid_argument("output_dir is empty; name the directory artifacts go to");
    lq::PipelineOptions options;
    options.model = model_path;
    options.output_dir = output_dir;
    options.calibration.keep_samples = 8;  // as a config's default
    *out = new_pipeline(std::move(options));
  });
}

lq_status* lq_pipeline_options_json(const lq_pipeline* pipeline, lq_buffer** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_pipeline& p = live(pipeline, "pipeline");
    require(out, "out");
    *out = new_buffer(p.options.to_json());
  });
}

lq_status* lq_pipeline_set_calibration_sources(lq_pipeline* pipeline,
                                               const lq_calibration_sources* sources) {
  return guard(__func__, [&] {
    lq_pipeline& p = live(pipeline, "pipeline");
    const lq_calibration_sources& s = live(sources, "sources");
    for (const auto& [name, source] : s.by_input) {
      lq::PipelineInput& input = p.options.inputs[name];
      input.calibration = source.paths;
      input.images = source.images;
      input.preprocess = source.preprocess;
    }
  });
}

lq_status* lq_pipeline_set_input_shape(lq_pipeline* pipeline, const char* input_name,
                                       const int64_t* shape, size_t rank) {
  return guard(__func__, [&] {
    lq_pipeline& p = live(pipeline, "pipeline");
    require(input_name, "input_name");
    if (rank > 0) require(shape, "shape");
    const lq::Shape dims(shape, shape + rank);
    for (size_t d = 0; d < rank; ++d) {
      if (dims[d] < 1) {
        invalid_argument(fmt::format("shape[{}] (input \"{}\") is {}; every dimension is >= 1", d,
                                     input_name, dims[d]));
      }
    }
    p.options.inputs[input_name].shape = dims;
  });
}

lq_status* lq_pipeline_set_input_format(lq_pipeline* pipeline, const char* input_name, const char* format,
                                        const char* train_format, const float* mean, const float* scale,
                                        size_t channels) {
  return guard(__func__, [&] {
    lq_pipeline& p = live(pipeline, "pipeline");
    require(input_name, "input_name");
    require(format, "format");
    if (channels > 0) {
      require(mean, "mean");
      require(scale, "scale");
    }
    lq::InputFormat f;
    std::vector<std::string> parts(1);
    for (const char* c = format; *c; ++c) {
      if (*c == ':') parts.emplace_back();
      else parts.back() += *c;
    }
    f.runtime = lq::parse_pixel_format(parts.front());
    for (size_t i = 1; i < parts.size(); ++i) {
      if (parts[i] == "nhwc" || parts[i] == "nchw") f.runtime_layout = parts[i] == "nhwc" ? lq::Layout::kNHWC : lq::Layout::kNCHW;
      else if (parts[i] == "video" || parts[i] == "full") f.range = parts[i] == "video" ? lq::YuvRange::kVideo : lq::YuvRange::kFull;
      else invalid_argument(fmt::format("format \"{}\": '{}' is not nhwc, nchw, video or full", format, parts[i]));
    }
    if (train_format) f.train = lq::parse_pixel_format(train_format);
    f.mean.assign(mean, mean + channels);
    f.scale.assign(scale, scale + channels);
    if (f.runtime == lq::PixelFormat::kFeatureMap) {
      p.options.inputs[input_name].format.reset();
    } else {
      p.options.inputs[input_name].format = f;
    }
  });
}

lq_status* lq_pipeline_set_quantizer(lq_pipeline* pipeline, const lq_quantizer* quantizer) {
  return guard(__func__, [&] {
    lq_pipeline& p = live(pipeline, "pipeline");
    p.options.quantization = live(quantizer, "quantizer").config;
  });
}

lq_status* lq_pipeline_set_target(lq_pipeline* pipeline, const char* target) {
  return guard(__func__, [&] {
    lq_pipeline& p = live(pipeline, "pipeline");
    require(target, "target");
    lq::Target named = lq::Target::from_name_or_file(target);
    for (const std::string& op : p.options.target.cpu_ops()) named.keep_on_cpu(op);
    p.options.target = std::move(named);
  });
}

lq_status* lq_pipeline_set_threads(lq_pipeline* pipeline, int calibration_threads,
                                   int simulator_threads) {
  return guard(__func__, [&] {
    lq_pipeline& p = live(pipeline, "pipeline");
    if (calibration_threads < 0 || simulator_threads < 0) {
      invalid_argument(fmt::format(
          "calibration_threads is {} and simulator_threads {}; use 1 or more (0 keeps a setting)",
          calibration_threads, simulator_threads));
    }
    if (calibration_threads > 0) p.options.calibration.threads = calibration_threads;
    if (simulator_threads > 0) p.options.threads = simulator_threads;
  });
}

lq_status* lq_pipeline_set_artifacts(lq_pipeline* pipeline, const char* const* artifacts,
                                     size_t count) {
  return guard(__func__, [&] {
    lq_pipeline& p = live(pipeline, "pipeline");
    if (count > 0) require(artifacts, "artifacts");
    const std::vector<std::string>& known = lq::PipelineOptions::artifact_names();
    std::vector<std::string> chosen;
    for (size_t i = 0; i < count; ++i) {
      require(artifacts[i], fmt::format("artifacts[{}]", i).c_str());
      if (std::find(known.begin(), known.end(), artifacts[i]) == known.end()) {
        std::string names;
        for (const std::string& k : known) names += (names.empty() ? "\"" : ", \"") + k + "\"";
        invalid_argument(
            fmt::format("artifacts[{}] is \"{}\"; use one of {}", i, artifacts[i], names));
      }
      chosen.emplace_back(artifacts[i]);
    }
    p.options.artifacts = std::move(chosen);
  });
}

lq_status* lq_pipeline_set_output_dir(lq_pipeline* pipeline, const char* output_dir) {
  return guard(__func__, [&] {
    lq_pipeline& p = live(pipeline, "pipeline");
    require(output_dir, "output_dir");
    if (!*output_dir) invalid_argument("output_dir is empty; name the directory artifacts go to");
    p.options.output_dir = output_dir;
  });
}

lq_status* lq_pipeline_set_calibration_shard(lq_pipeline* pipeline, int index, int count) {
  return guard(__func__, [&] {
    lq_pipeline& p = live(pipeline, "pipeline");
    if (count < 1 || index < 0 || index >= count) {
      invalid_argument(fmt::format("shard {} of {}: use 0 <= index < count", index, count));
    }
    p.options.calibration.shard_index = index;
    p.options.calibration.shard_count = count;
  });
}

lq_status* lq_pipeline_set_stats_output(lq_pipeline* pipeline, const char* path) {
  return guard(__func__, [&] {
    lq_pipeline& p = live(pipeline, "pipeline");
    p.options.stats_out = path ? path : "";
  });
}

lq_status* lq_pipeline_set_calibrate_only(lq_pipeline* pipeline, int calibrate_only) {
  return guard(__func__, [&] { live(pipeline, "pipeline").options.calibrate_only = calibrate_only != 0; });
}

lq_status* lq_pipeline_set_stats_inputs(lq_pipeline* pipeline, const char* const* paths, size_t count) {
  return guard(__func__, [&] {
    lq_pipeline& p = live(pipeline, "pipeline");
    if (count > 0) require(paths, "paths");
    std::vector<std::string> stats;
    for (size_t i = 0; i < count; ++i) {
      if (!paths[i] || !*paths[i]) invalid_argument(fmt::format("paths[{}] is NULL or empty", i));
      stats.emplace_back(paths[i]);
    }
    p.options.stats = std::move(stats);
  });
}

lq_status* lq_pipeline_run(const lq_pipeline* pipeline, const lq_pipeline_run_options* options,
                           lq_pipeline_result** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_pipeline& p = live(pipeline, "pipeline");
    require(out, "out");
    const RunRequest request = run_request(options);
    lq::PipelineOptions run_options = p.options;
    run_options.calibration.progress = request.progress;
    if (request.step_progress) run_options.progress = request.step_progress;
    auto result = result_handle(lq::Pipeline(std::move(run_options)).run(request.on_stage));
    send_log(request.log, request.log_user_data, result->quantized->log);
    send_log(request.log, request.log_user_data, cpu_node_lines(result->program));
    *out = result.release();
  });
}

void lq_pipeline_release(lq_pipeline* pipeline) { release(pipeline); }

lq_status* lq_pipeline_result_calibration_samples(const lq_pipeline_result* result,
                                                  uint64_t* calibration_samples,
                                                  uint64_t* evaluation_samples) {
  clear(calibration_samples);
  clear(evaluation_samples);
  return guard(__func__, [&] {
    const lq_pipeline_result& r = live(result, "result");
    require(calibration_samples, "calibration_samples");
    require(evaluation_samples, "evaluation_samples");
    *calibration_samples = r.calibration_samples;
    *evaluation_samples = r.evaluation_samples;
  });
}

lq_status* lq_pipeline_result_output_count(const lq_pipeline_result* result, size_t* count) {
  return count_of(__func__, result, count,
                  [](const lq_pipeline_result& r) { return r.output_names.size(); });
}

lq_status* lq_pipeline_result_output_name(const lq_pipeline_result* result, size_t index,
                                          const char** name) {
  clear(name);
  return guard(__func__, [&] {
    const lq_pipeline_result& r = live(result, "result");
    require(name, "name");
    check_index(index, r.output_names.size(), "float32 outputs");
    *name = r.output_names[index].c_str();
  });
}

lq_status* lq_pipeline_result_output_snr_db(const lq_pipeline_result* result, size_t index,
                                            double* fake_quant_db, double* fixed_db) {
  clear(fake_quant_db);
  clear(fixed_db);
  return guard(__func__, [&] {
    const lq_pipeline_result& r = live(result, "result");
    require(fake_quant_db, "fake_quant_db");
    require(fixed_db, "fixed_db");
    check_index(index, r.output_names.size(), "float32 outputs");
    *fake_quant_db = r.fake_quant_snr_db[index];
    *fixed_db = r.fixed_snr_db[index];
  });
}

lq_status* lq_pipeline_result_artifact_count(const lq_pipeline_result* result, size_t* count) {
  return count_of(__func__, result, count,
                  [](const lq_pipeline_result& r) { return r.artifacts.size(); });
}

lq_status* lq_pipeline_result_artifact_path(const lq_pipeline_result* result, size_t index,
                                            const char** path) {
  clear(path);
  return guard(__func__, [&] {
    const lq_pipeline_result& r = live(result, "result");
    require(path, "path");
    check_index(index, r.artifacts.size(), "artifacts");
    *path = r.artifacts[index].c_str();
  });
}

lq_status* lq_pipeline_result_report_json(const lq_pipeline_result* result, lq_buffer** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_pipeline_result& r = live(result, "result");
    require(out, "out");
    *out = new_buffer(r.report_json);
  });
}

lq_status* lq_pipeline_result_float_graph(const lq_pipeline_result* result, lq_graph** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_pipeline_result& r = live(result, "result");
    require(out, "out");
    auto graph = std::make_unique<lq_graph>();
    graph->graph = r.float_graph;
    *out = graph.release();
  });
}

lq_status* lq_pipeline_result_quantized_graph(const lq_pipeline_result* result,
                                              lq_quantized_graph** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_pipeline_result& r = live(result, "result");
    require(out, "out");
    auto qgraph = std::make_unique<lq_quantized_graph>();
    qgraph->qgraph = r.quantized;
    *out = qgraph.release();
  });
}

lq_status* lq_pipeline_result_program(const lq_pipeline_result* result, lq_program** out) {
  clear(out);
  return guard(__func__, [&] {
    const lq_pipeline_result& r = live(result, "result");
    require(out, "out");
    *out = new lq_program(r.program);
  });
}

void lq_pipeline_result_release(lq_pipeline_result* result) { release(result); }

lq_status* lq_analyze(const lq_pipeline_result* result, const char* quant_dir, const char* const* input_names,
                      const char* const* data_dirs, size_t data_count, const char* output_dir,
                      const lq_analyze_options* given, lq_buffer** report_json) {
  clear(report_json);
  return guard(__func__, [&] {
    lq_analyze_options defaults;
    lq_analyze_options_init(&defaults);
    const lq_analyze_options* options = given ? given : &defaults;
    lq::AnalysisOptions analysis = analysis_options(*options);
    require(output_dir, "output_dir");
    if (!*output_dir) invalid_argument("output_dir is empty");
    lq::PrecisionReport report;
    if (result) {
      const lq_pipeline_result& r = live(result, "result");
      if (quant_dir || data_count) invalid_argument("give either result or quant_dir with data folders, not both");
      if (r.evaluation_inputs.empty()) {
        failed_precondition("result kept no calibration samples to analyze on (calibration keep_samples is 0)");
      }
      if (analysis.dump_sample && *analysis.dump_sample >= r.evaluation_inputs.size()) {
        invalid_argument(fmt::format("options->dump_sample is {}, the result kept {} samples", options->dump_sample,
                                     r.evaluation_inputs.size()));
      }
      report = lq::analyze_precision(*r.quantized, r.program, r.evaluation_inputs, analysis);
      report.write(output_dir);
    } else {
      require(quant_dir, "quant_dir (with result NULL)");
      if (data_count == 0) invalid_argument("data_count is 0: give a folder of .npy samples per model input");
      require(data_dirs, "data_dirs");
      std::map<std::string, std::string> folders;
      for (size_t i = 0; i < data_count; ++i) {
        if (!data_dirs[i]) invalid_argument(fmt::format("data_dirs[{}] is NULL", i));
        const std::string name = input_names && input_names[i] ? input_names[i] : "";
        if (!folders.emplace(name, data_dirs[i]).second) {
          invalid_argument(fmt::format("input_names[{}]: input \"{}\" is given twice", i, name));
        }
      }
      report = lq::analyze_quant_dir(quant_dir, folders, output_dir, analysis);
    }
    if (report_json) *report_json = new_buffer(report.to_json());
  });
}

lq_status* lq_pipeline_set_analyze(lq_pipeline* pipeline, int enable, const lq_analyze_options* given,
                                   const char* analysis_dir) {
  return guard(__func__, [&] {
    lq_pipeline& p = live(pipeline, "pipeline");
    lq_analyze_options defaults;
    lq_analyze_options_init(&defaults);
    const lq::AnalysisOptions analysis = analysis_options(given ? *given : defaults);
    p.options.analyze = enable != 0;
    p.options.analysis.sensitivity = analysis.sensitivity;
    p.options.analysis.threads = analysis.threads;
    p.options.analysis.dump_sample = analysis.dump_sample;
    p.options.analysis_dir = analysis_dir ? analysis_dir : "";
  });
}

}  // extern "C"
