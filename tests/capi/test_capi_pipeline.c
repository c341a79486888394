/* The C ABI: the pipeline, from a config text or set option by option, its callbacks and its
 * results. */
#define _POSIX_C_SOURCE 200809L

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "test_capi.h"

/* Stage names heard by a callback, each followed by a comma. */
struct stage_log {
  char names[256];
};

static void record_stage(const char* stage, void* user_data) {
  struct stage_log* log = (struct stage_log*)user_data;
  const size_t used = strlen(log->names);
  snprintf(log->names + used, sizeof log->names - used, "%s,", stage);
}

/* The test model as model.onnx and 4 .npy samples of x and s (x_npy/, s_npy/) in the work
 * directory. */
static int write_pipeline_files(void) {
  return write_file(work_path("model.onnx"), kTestModel, kTestModelSize) && write_sample_files(4);
}

static lq_pipeline_run_options run_options(struct stage_log* stages, struct progress_log* progress,
                                           struct log_lines* log) {
  lq_pipeline_run_options options;
  lq_pipeline_run_options_init(&options);
  memset(stages, 0, sizeof *stages);
  memset(progress, 0, sizeof *progress);
  memset(log, 0, sizeof *log);
  options.stage = record_stage;
  options.stage_user_data = stages;
  options.progress = record_progress;
  options.progress_user_data = progress;
  options.log = record_log;
  options.log_user_data = log;
  return options;
}

static const char kYamlConfig[] =
    "model: {path: model.onnx}\n"
    "input:\n"
    "  x: {calibration: x_npy}\n"
    "  s: {calibration: s_npy}\n"
    "calibration: {method: max}\n"
    "output: {dir: out_yaml}\n";

static const char kJsonConfig[] =
    "{\"model\": {\"path\": \"model.onnx\"},"
    " \"input\": {\"x\": {\"calibration\": \"x_npy\"}, \"s\": {\"calibration\": \"s_npy\"}},"
    " \"calibration\": {\"method\": \"max\"},"
    " \"output\": {\"dir\": \"out_json\", \"artifacts\": [\"params\", \"report\"]}}";

/* `name` under the work directory, in the caller's buffer (work_path's is reused). */
static const char* path_in(char* buffer, size_t size, const char* name) {
  snprintf(buffer, size, "%s", work_path(name));
  return buffer;
}

/* Whether `path` ends with `suffix`. */
static int ends_with(const char* path, const char* suffix) {
  const size_t length = strlen(path), suffix_length = strlen(suffix);
  return path && length >= suffix_length && strcmp(path + length - suffix_length, suffix) == 0;
}

/* A YAML config, run with every callback: the stages in order, what the result holds. */
static void test_pipeline_from_yaml(void) {
  lq_pipeline* pipeline = NULL;
  lq_pipeline_result* result = NULL;
  lq_graph* graph = NULL;
  lq_quantized_graph* qgraph = NULL;
  lq_program* program = NULL;
  lq_fixed_simulator* fixed = NULL;
  lq_buffer* buffer = NULL;
  struct stage_log stages;
  struct progress_log progress;
  struct log_lines log;
  struct sample sample;
  struct fixed_outputs outputs;
  lq_pipeline_run_options options = run_options(&stages, &progress, &log);
  uint64_t calibration_samples = 0, evaluation_samples = 0;
  size_t count = 0, i;
  const char* name = NULL;
  const char* path = NULL;
  double fake_db = 0.0, fixed_db = 0.0;

  CHECK(write_pipeline_files());
  CHECK_OK(lq_pipeline_create_from_yaml(kYamlConfig, g_work_dir, &pipeline));
  CHECK_OK(lq_pipeline_run(pipeline, &options, &result));
  CHECK(strcmp(stages.names, "load,optimize,calibrate,quantize,compile,evaluate,write,") == 0);
  CHECK(progress.calls == 4 && progress.last_done == 4 && progress.last_total == 4);
  /* Without step_progress in the options nothing else is heard; with it, the compile's nodes. */
  {
    struct step_log steps;
    lq_pipeline_result* again = NULL;
    memset(&steps, 0, sizeof steps);
    options.step_progress = record_step;
    options.step_progress_user_data = &steps;
    CHECK_OK(lq_pipeline_run(pipeline, &options, &again));
    CHECK(strcmp(steps.steps, "compile,") == 0);
    CHECK(steps.bad == 0 && steps.calls >= 2 && steps.last_done == steps.last_total);
    lq_pipeline_result_release(again);
    options.step_progress = NULL;
    options.step_progress_user_data = NULL;
  }
  /* The log: the quantizer's decisions, then the CPU nodes (the Shape node). */
  CHECK(strstr(log.text, "CPU node Shape \"shape\": no integer kernel for Shape\n") != NULL);

  CHECK_OK(lq_pipeline_result_calibration_samples(result, &calibration_samples,
                                                  &evaluation_samples));
  CHECK(calibration_samples == 4 && evaluation_samples == 4);
  /* y is the only float32 output (y_shape is int64). */
  CHECK_OK(lq_pipeline_result_output_count(result, &count));
  CHECK(count == 1);
  CHECK_OK(lq_pipeline_result_output_name(result, 0, &name));
  CHECK(name != NULL && strcmp(name, "y") == 0);
  CHECK_OK(lq_pipeline_result_output_snr_db(result, 0, &fake_db, &fixed_db));
  CHECK(fake_db > 25.0 && fixed_db > 25.0 && fixed_db > fake_db - 6.0);

  /* Every default artifact, report.json last. */
  CHECK_OK(lq_pipeline_result_artifact_count(result, &count));
  CHECK(count == 7);
  CHECK_OK(lq_pipeline_result_artifact_path(result, 0, &path));
  CHECK(path != NULL && ends_with(path, "/out_yaml/model.float.onnx"));
  CHECK_OK(lq_pipeline_result_artifact_path(result, 4, &path));
  CHECK(path != NULL && ends_with(path, "/out_yaml/model.lqm"));
  CHECK_OK(lq_pipeline_result_artifact_path(result, 6, &path));
  CHECK(path != NULL && ends_with(path, "/out_yaml/report.json"));
  CHECK_OK(lq_pipeline_result_report_json(result, &buffer));
  CHECK(buffer_contains(buffer, "\"calibration_samples\": 4"));
  CHECK(buffer_contains(buffer, "\"fixed_output_snr_db\""));
  CHECK(buffer_contains(buffer, "\"quantize\":"));
  lq_buffer_release(buffer);
  buffer = NULL;

  /* The handles outlive the result. */
  CHECK_OK(lq_pipeline_result_float_graph(result, &graph));
  CHECK_OK(lq_pipeline_result_quantized_graph(result, &qgraph));
  CHECK_OK(lq_pipeline_result_program(result, &program));
  lq_pipeline_result_release(result);
  result = NULL;
  CHECK_OK(lq_graph_input_count(graph, &count));
  CHECK(count == 2);
  CHECK_OK(lq_quantized_graph_params_json(qgraph, &buffer));
  CHECK(buffer_contains(buffer, "\"y\""));
  lq_buffer_release(buffer);
  buffer = NULL;
  CHECK_OK(lq_program_output_count(program, &count));
  CHECK(count == 2);
  CHECK_OK(lq_fixed_simulator_create(program, NULL, &fixed));
  make_sample(&sample, 10); /* the first calibration sample (write_sample_files) */
  sample.s[0] = 0.25f;
  sample.s[1] = -0.25f;
  run_fixed(fixed, &sample, &outputs);
  CHECK(y_matches(outputs.y_float, sample.x, sample.s, 1, 0.15f));
  CHECK(outputs.y_shape[0] == 1 && outputs.y_shape[1] == 2);

  /* A run fails with a status naming the stage; the pipeline can be fixed and run again. */
  CHECK_OK(lq_pipeline_set_output_dir(pipeline, work_path("out_yaml2")));
  for (i = 0; i < 2; ++i) {
    lq_pipeline_result* again = NULL;
    lq_calibration_sources* sources = NULL;
    CHECK_OK(lq_calibration_sources_create(&sources));
    CHECK_OK(lq_calibration_sources_add_npy(sources, "x", work_path(i == 0 ? "empty" : "x_npy")));
    CHECK_OK(lq_pipeline_set_calibration_sources(pipeline, sources));
    lq_calibration_sources_release(sources);
    if (i == 0) {
      memset(&log, 0, sizeof log);
      CHECK_ERROR(lq_pipeline_run(pipeline, &options, &again), LQ_INVALID_ARGUMENT,
                  "lq_pipeline_run: calibrate stage: ");
      CHECK(again == NULL && log.count == 0);
    } else {
      CHECK_OK(lq_pipeline_run(pipeline, NULL, &again));
      CHECK(again != NULL);
    }
    lq_pipeline_result_release(again);
  }
  lq_fixed_simulator_release(fixed);
  lq_program_release(program);
  lq_quantized_graph_release(qgraph);
  lq_graph_release(graph);
  lq_pipeline_release(pipeline);
}

/* The same job from JSON; the options as JSON read back; config errors. */
static void test_pipeline_from_json(void) {
  lq_pipeline* pipeline = NULL;
  lq_pipeline* again = NULL;
  lq_pipeline_result* result = NULL;
  lq_buffer* options = NULL;
  lq_buffer* options_again = NULL;
  size_t count = 0;
  const char* path = NULL;

  CHECK(write_pipeline_files());
  CHECK_OK(lq_pipeline_create_from_json(kJsonConfig, g_work_dir, &pipeline));
  CHECK_OK(lq_pipeline_options_json(pipeline, &options));
  CHECK(buffer_contains(options, "\"histogram_bins\": 2048"));
  CHECK(buffer_contains(options, "\"method\": \"max\""));
  CHECK(buffer_contains(options, "/x_npy\""));
  CHECK_OK(lq_pipeline_create_from_json((const char*)lq_buffer_data(options), NULL, &again));
  CHECK_OK(lq_pipeline_options_json(again, &options_again));
  CHECK(lq_buffer_size(options) == lq_buffer_size(options_again) &&
        memcmp(lq_buffer_data(options), lq_buffer_data(options_again), lq_buffer_size(options)) ==
            0);
  lq_buffer_release(options_again);
  lq_buffer_release(options);
  lq_pipeline_release(again);

  CHECK_OK(lq_pipeline_run(pipeline, NULL, &result));
  CHECK_OK(lq_pipeline_result_artifact_count(result, &count));
  CHECK(count == 2);
  CHECK_OK(lq_pipeline_result_artifact_path(result, 0, &path));
  CHECK(path != NULL && ends_with(path, "/out_json/quant_params.json"));
  lq_pipeline_result_release(result);
  lq_pipeline_release(pipeline);
  pipeline = NULL;

  CHECK_ERROR(lq_pipeline_create_from_json("{\"model\": {\"path\": \"m.onnx\"}, \"output\": "
                                           "{\"dir\": \"o\"}, \"quantisation\": {}}",
                                           NULL, &pipeline),
              LQ_INVALID_ARGUMENT, "did you mean 'quantization'");
  CHECK_ERROR(lq_pipeline_create_from_json("{\"model\": ", NULL, &pipeline), LQ_INVALID_ARGUMENT,
              "not valid JSON");
  CHECK_ERROR(lq_pipeline_create_from_yaml("model: [unclosed", NULL, &pipeline),
              LQ_INVALID_ARGUMENT, "not valid YAML");
  CHECK_ERROR(lq_pipeline_create_from_yaml("output: {dir: o}", NULL, &pipeline),
              LQ_INVALID_ARGUMENT, "'model' group is required");
  CHECK_ERROR(lq_pipeline_create_from_json(NULL, NULL, &pipeline), LQ_INVALID_ARGUMENT,
              "json is NULL");
  CHECK_ERROR(lq_pipeline_create_from_yaml(NULL, NULL, &pipeline), LQ_INVALID_ARGUMENT,
              "yaml is NULL");
  CHECK_ERROR(lq_pipeline_create_from_yaml(kYamlConfig, NULL, NULL), LQ_INVALID_ARGUMENT,
              "out is NULL");
  CHECK(pipeline == NULL);
}

/* Options set one by one: sources, quantizer, target, threads, artifacts, input shape. */
static void test_pipeline_setters(void) {
  char model[1024], out[1024];
  lq_pipeline* pipeline = NULL;
  lq_pipeline_result* result = NULL;
  lq_calibration_sources* sources = NULL;
  lq_quantizer* quantizer = NULL;
  lq_graph* graph = NULL;
  lq_buffer* buffer = NULL;
  struct stage_log stages;
  struct progress_log progress;
  struct log_lines log;
  lq_pipeline_run_options options = run_options(&stages, &progress, &log);
  static const char* const kArtifacts[] = {"qdq", "quant_config", "program"};
  static const char* const kBadArtifacts[] = {"qdq", "lqm"};
  const int64_t shape[] = {1, 3, 4, 4};
  const int64_t bad_shape[] = {1, 0, 4, 4};
  int64_t dims[4] = {0, 0, 0, 0};
  size_t count = 0, rank = 0;
  const char* path = NULL;

  CHECK(write_pipeline_files());
  CHECK_OK(lq_pipeline_create(path_in(model, sizeof model, "model.onnx"),
                              path_in(out, sizeof out, "out_set"), &pipeline));
  CHECK_OK(lq_calibration_sources_create(&sources));
  CHECK_OK(lq_calibration_sources_add_npy(sources, "x", work_path("x_npy")));
  CHECK_OK(lq_calibration_sources_add_npy(sources, "s", work_path("s_npy")));
  CHECK_OK(lq_pipeline_set_calibration_sources(pipeline, sources));
  CHECK_OK(lq_quantizer_create(&quantizer));
  CHECK_OK(lq_quantizer_set_method(quantizer, "max"));
  CHECK_OK(lq_quantizer_set_bits(quantizer, 16, 8));
  CHECK_OK(lq_pipeline_set_quantizer(pipeline, quantizer));
  CHECK_OK(lq_pipeline_set_target(pipeline, "int8"));
  CHECK_OK(lq_pipeline_set_threads(pipeline, 2, 2));
  CHECK_OK(lq_pipeline_set_threads(pipeline, 0, 1)); /* 0 keeps the calibration's 2 */
  CHECK_OK(lq_pipeline_set_artifacts(pipeline, kArtifacts, 3));
  CHECK_OK(lq_pipeline_set_input_shape(pipeline, "x", shape, 4));
  CHECK_OK(lq_pipeline_options_json(pipeline, &buffer));
  CHECK(buffer_contains(buffer, "\"target\": \"int8\""));
  CHECK(buffer_contains(buffer, "\"activation\": \"int16\""));
  CHECK(buffer_contains(buffer, "\"threads\": 2"));
  CHECK(buffer_contains(buffer, "\"shape\": ["));
  lq_buffer_release(buffer);
  buffer = NULL;

  CHECK_OK(lq_pipeline_run(pipeline, &options, &result));
  /* int16 activations fall back to int8 on the int8 target, and the log says so. */
  CHECK(strstr(log.text, "target \"int8\" has no int16: ") != NULL);
  CHECK_OK(lq_pipeline_result_artifact_count(result, &count));
  CHECK(count == 3);
  CHECK_OK(lq_pipeline_result_artifact_path(result, 0, &path));
  CHECK(path != NULL && ends_with(path, "/out_set/model.qdq.onnx"));
  CHECK_OK(lq_pipeline_result_artifact_path(result, 1, &path));
  CHECK(path != NULL && ends_with(path, "/out_set/quant_config.json"));
  CHECK_OK(lq_pipeline_result_artifact_path(result, 2, &path));
  CHECK(path != NULL && ends_with(path, "/out_set/model.lqm"));
  /* The input shape made every shape static. */
  CHECK_OK(lq_pipeline_result_float_graph(result, &graph));
  CHECK_OK(lq_graph_input_shape(graph, 0, dims, 4, &rank));
  CHECK(rank == 4 && dims[0] == 1 && dims[1] == 3);
  lq_graph_release(graph);
  lq_pipeline_result_release(result);
  result = NULL;

  /* Bad settings change nothing. */
  CHECK_ERROR(lq_pipeline_set_artifacts(pipeline, kBadArtifacts, 2), LQ_INVALID_ARGUMENT,
              "artifacts[1] is \"lqm\"; use one of \"float\", \"qdq\"");
  CHECK_ERROR(lq_pipeline_set_artifacts(pipeline, NULL, 2), LQ_INVALID_ARGUMENT,
              "artifacts is NULL");
  CHECK_ERROR(lq_pipeline_set_input_shape(pipeline, "x", bad_shape, 4), LQ_INVALID_ARGUMENT,
              "shape[1] (input \"x\") is 0; every dimension is >= 1");
  CHECK_ERROR(lq_pipeline_set_input_shape(pipeline, "x", NULL, 4), LQ_INVALID_ARGUMENT,
              "shape is NULL");
  CHECK_ERROR(lq_pipeline_set_input_shape(pipeline, NULL, shape, 4), LQ_INVALID_ARGUMENT,
              "input_name is NULL");
  CHECK_ERROR(lq_pipeline_set_target(pipeline, "npu9"), LQ_INVALID_ARGUMENT,
              "unknown target \"npu9\"");
  CHECK_ERROR(lq_pipeline_set_threads(pipeline, -1, 1), LQ_INVALID_ARGUMENT,
              "calibration_threads is -1");
  CHECK_ERROR(lq_pipeline_set_output_dir(pipeline, ""), LQ_INVALID_ARGUMENT,
              "output_dir is empty");
  CHECK_ERROR(lq_pipeline_set_output_dir(pipeline, NULL), LQ_INVALID_ARGUMENT,
              "output_dir is NULL");
  CHECK_ERROR(lq_pipeline_set_quantizer(pipeline, NULL), LQ_INVALID_ARGUMENT,
              "quantizer is NULL");
  CHECK_ERROR(lq_pipeline_set_calibration_sources(pipeline, NULL), LQ_INVALID_ARGUMENT,
              "sources is NULL");
  CHECK_OK(lq_pipeline_options_json(pipeline, &buffer));
  CHECK(buffer_contains(buffer, "\"target\": \"int8\""));
  CHECK(buffer_contains(buffer, "\"qdq\",") && !buffer_contains(buffer, "\"lqm\""));
  lq_buffer_release(buffer);

  /* No artifacts at all. */
  CHECK_OK(lq_pipeline_set_artifacts(pipeline, NULL, 0));
  CHECK_OK(lq_pipeline_run(pipeline, NULL, &result));
  CHECK_OK(lq_pipeline_result_artifact_count(result, &count));
  CHECK(count == 0);
  CHECK_ERROR(lq_pipeline_result_artifact_path(result, 0, &path), LQ_INVALID_ARGUMENT,
              "index 0 is out of range: the result has 0 artifacts");
  CHECK(path == NULL);
  lq_pipeline_result_release(result);
  lq_pipeline_release(pipeline);
  pipeline = NULL;

  CHECK_ERROR(lq_pipeline_create(NULL, "o", &pipeline), LQ_INVALID_ARGUMENT,
              "model_path is NULL");
  CHECK_ERROR(lq_pipeline_create("m.onnx", "", &pipeline), LQ_INVALID_ARGUMENT,
              "output_dir is empty");
  CHECK(pipeline == NULL);
  lq_quantizer_release(quantizer);
  lq_calibration_sources_release(sources);
}

/* The range method skip needs no data: random inputs of the inputs' shapes stand in. */
static void test_pipeline_skip(void) {
  char model[1024], out[1024];
  lq_pipeline* pipeline = NULL;
  lq_pipeline_result* result = NULL;
  lq_quantizer* quantizer = NULL;
  static const char* const kArtifacts[] = {"params"};
  const int64_t shape_x[] = {1, 3, 4, 4};
  uint64_t calibration_samples = 0, evaluation_samples = 0;
  double fake_db = 0.0, fixed_db = 0.0;

  CHECK(write_pipeline_files());
  CHECK_OK(lq_pipeline_create(path_in(model, sizeof model, "model.onnx"),
                              path_in(out, sizeof out, "out_skip"), &pipeline));
  CHECK_OK(lq_quantizer_create(&quantizer));
  CHECK_OK(lq_quantizer_set_method(quantizer, "skip"));
  CHECK_OK(lq_pipeline_set_quantizer(pipeline, quantizer));
  CHECK_OK(lq_pipeline_set_artifacts(pipeline, kArtifacts, 1));
  /* x is [N,3,4,4]: random samples need its shape. */
  CHECK_ERROR(lq_pipeline_run(pipeline, NULL, &result), LQ_INVALID_ARGUMENT,
              "calibrate stage: pipeline config /input/x/shape: input \"x\" has dynamic shape "
              "float32[N,3,4,4]");
  CHECK(result == NULL);
  CHECK_OK(lq_pipeline_set_input_shape(pipeline, "", shape_x, 4)); /* "": the only input? no */
  CHECK_ERROR(lq_pipeline_run(pipeline, NULL, &result), LQ_INVALID_ARGUMENT,
              "the model has 2 inputs (\"x\", \"s\"); name each");
  lq_pipeline_release(pipeline);
  pipeline = NULL;
  CHECK_OK(lq_pipeline_create(path_in(model, sizeof model, "model.onnx"),
                              path_in(out, sizeof out, "out_skip"), &pipeline));
  CHECK_OK(lq_pipeline_set_quantizer(pipeline, quantizer));
  CHECK_OK(lq_pipeline_set_artifacts(pipeline, kArtifacts, 1));
  CHECK_OK(lq_pipeline_set_input_shape(pipeline, "x", shape_x, 4));
  CHECK_OK(lq_pipeline_run(pipeline, NULL, &result));
  CHECK_OK(lq_pipeline_result_calibration_samples(result, &calibration_samples,
                                                  &evaluation_samples));
  CHECK(calibration_samples == 4 && evaluation_samples == 4);
  CHECK_OK(lq_pipeline_result_output_snr_db(result, 0, &fake_db, &fixed_db));
  CHECK(fake_db > 20.0 && fixed_db > 20.0);
  lq_pipeline_result_release(result);
  lq_pipeline_release(pipeline);
  lq_quantizer_release(quantizer);
}

/* Run options of every size from the first version's; NULL and released handles; results
 * asked out of range. */
static void test_pipeline_misuse(void) {
  char model[1024], out[1024];
  lq_pipeline* pipeline = NULL;
  lq_pipeline_result* result = NULL;
  lq_buffer* buffer = NULL;
  lq_graph* graph = NULL;
  lq_quantized_graph* qgraph = NULL;
  lq_program* program = NULL;
  lq_pipeline_run_options options;
  uint64_t calibration_samples = 7, evaluation_samples = 7;
  size_t count = 7;
  const char* name = "y";
  double fake_db = 1.0, fixed_db = 1.0;
  static const char* const kArtifacts[] = {"report"};

  CHECK(write_pipeline_files());
  CHECK_OK(lq_pipeline_create_from_yaml(kYamlConfig, g_work_dir, &pipeline));
  CHECK_OK(lq_pipeline_set_artifacts(pipeline, kArtifacts, 1));
  lq_pipeline_run_options_init(&options);
  options.struct_size = offsetof(lq_pipeline_run_options, log_user_data) + sizeof(void*);
  CHECK_OK(lq_pipeline_run(pipeline, &options, &result)); /* the first version's size */
  lq_pipeline_result_release(result);
  result = NULL;
  options.struct_size = 8;
  CHECK_ERROR(lq_pipeline_run(pipeline, &options, &result), LQ_INVALID_ARGUMENT,
              "options->struct_size is 8, smaller than the first version of "
              "lq_pipeline_run_options");
  options.struct_size = sizeof options + 8;
  CHECK_ERROR(lq_pipeline_run(pipeline, &options, &result), LQ_INVALID_ARGUMENT,
              "larger than this library's lq_pipeline_run_options");
  CHECK(result == NULL);
  CHECK_ERROR(lq_pipeline_run(pipeline, NULL, NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  CHECK_OK(lq_pipeline_run(pipeline, NULL, &result));

  /* Out of range and NULL out parameters. */
  CHECK_ERROR(lq_pipeline_result_output_name(result, 1, &name), LQ_INVALID_ARGUMENT,
              "index 1 is out of range: the result has 1 float32 outputs");
  CHECK(name == NULL);
  CHECK_ERROR(lq_pipeline_result_output_snr_db(result, 3, &fake_db, &fixed_db),
              LQ_INVALID_ARGUMENT, "index 3 is out of range");
  CHECK(fake_db == 0.0 && fixed_db == 0.0);
  CHECK_ERROR(lq_pipeline_result_output_snr_db(result, 0, NULL, &fixed_db), LQ_INVALID_ARGUMENT,
              "fake_quant_db is NULL");
  CHECK_ERROR(lq_pipeline_result_output_count(result, NULL), LQ_INVALID_ARGUMENT,
              "count is NULL");
  CHECK_ERROR(lq_pipeline_result_calibration_samples(result, &calibration_samples, NULL),
              LQ_INVALID_ARGUMENT, "evaluation_samples is NULL");
  CHECK_ERROR(lq_pipeline_result_report_json(result, NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  CHECK_ERROR(lq_pipeline_result_program(result, NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  lq_pipeline_result_release(result);
  result = NULL;
  lq_pipeline_release(pipeline);
  pipeline = NULL;

  /* A missing model fails in the load stage. */
  CHECK_OK(lq_pipeline_create(path_in(model, sizeof model, "no-such-model.onnx"),
                              path_in(out, sizeof out, "out_none"), &pipeline));
  CHECK_ERROR(lq_pipeline_run(pipeline, NULL, &result), LQ_NOT_FOUND,
              "lq_pipeline_run: load stage: cannot open model file");
  CHECK(result == NULL);
  lq_pipeline_release(pipeline);

  /* NULL handles name the parameter. */
  CHECK_ERROR(lq_pipeline_run(NULL, NULL, &result), LQ_INVALID_ARGUMENT,
              "lq_pipeline_run: pipeline is NULL");
  CHECK_ERROR(lq_pipeline_options_json(NULL, &buffer), LQ_INVALID_ARGUMENT, "pipeline is NULL");
  CHECK_ERROR(lq_pipeline_set_target(NULL, "int8"), LQ_INVALID_ARGUMENT, "pipeline is NULL");
  CHECK_ERROR(lq_pipeline_result_calibration_samples(NULL, &calibration_samples,
                                                     &evaluation_samples),
              LQ_INVALID_ARGUMENT, "result is NULL");
  CHECK(calibration_samples == 0 && evaluation_samples == 0);
  CHECK_ERROR(lq_pipeline_result_output_count(NULL, &count), LQ_INVALID_ARGUMENT,
              "result is NULL");
  CHECK(count == 0);
  CHECK_ERROR(lq_pipeline_result_artifact_count(NULL, &count), LQ_INVALID_ARGUMENT,
              "result is NULL");
  CHECK_ERROR(lq_pipeline_result_report_json(NULL, &buffer), LQ_INVALID_ARGUMENT,
              "result is NULL");
  CHECK_ERROR(lq_pipeline_result_float_graph(NULL, &graph), LQ_INVALID_ARGUMENT,
              "result is NULL");
  CHECK_ERROR(lq_pipeline_result_quantized_graph(NULL, &qgraph), LQ_INVALID_ARGUMENT,
              "result is NULL");
  CHECK_ERROR(lq_pipeline_result_program(NULL, &program), LQ_INVALID_ARGUMENT, "result is NULL");
  CHECK(buffer == NULL && graph == NULL && qgraph == NULL && program == NULL);

  /* Use after release (best effort: the memory is freed). */
  if (!g_under_memory_checker) {
    CHECK_OK(lq_pipeline_create(path_in(model, sizeof model, "model.onnx"),
                              path_in(out, sizeof out, "out_none"), &pipeline));
    lq_pipeline_release(pipeline);
    CHECK_ERROR(lq_pipeline_set_target(pipeline, "int8"), LQ_INVALID_ARGUMENT,
                "pipeline is not a live lq_pipeline handle (it was released)");
    lq_pipeline_release(pipeline); /* a second release is ignored */
  }
}

/* Whether two files hold the same bytes (and exist). */
static int same_bytes(const char* a, const char* b) {
  FILE* fa = fopen(a, "rb");
  FILE* fb = fopen(b, "rb");
  int same = fa && fb, ca, cb;
  while (same) {
    ca = fgetc(fa);
    cb = fgetc(fb);
    same = ca == cb;
    if (ca == EOF || cb == EOF) break;
  }
  if (fa) fclose(fa);
  if (fb) fclose(fb);
  return same;
}

/* An LMDB calibration set at `db_path` (one file) holding the `count` files NN.npy of `folder`
 * under the work directory, keyed by file name. */
static int write_lmdb_copy(const char* folder, int count, const char* db_path) {
  MDB_env* env = NULL;
  MDB_txn* txn = NULL;
  MDB_dbi dbi;
  char name[64], path[1024], bytes[4096];
  int i, ok = mdb_env_create(&env) == 0 && mdb_env_open(env, db_path, MDB_NOSUBDIR, 0644) == 0 &&
              mdb_txn_begin(env, NULL, 0, &txn) == 0 && mdb_dbi_open(txn, NULL, 0, &dbi) == 0;
  for (i = count - 1; ok && i >= 0; --i) { /* in reverse: the reader follows the key order */
    FILE* file;
    MDB_val key, value;
    snprintf(name, sizeof name, "%02d.npy", i);
    snprintf(path, sizeof path, "%s/%s/%s", g_work_dir, folder, name);
    file = fopen(path, "rb");
    value.mv_size = file ? fread(bytes, 1, sizeof bytes, file) : 0;
    if (file) fclose(file);
    value.mv_data = bytes;
    key.mv_size = strlen(name);
    key.mv_data = name;
    ok = value.mv_size > 0 && mdb_put(txn, dbi, &key, &value, 0) == 0;
  }
  ok = txn && (ok ? mdb_txn_commit(txn) == 0 : (mdb_txn_abort(txn), 0)) && ok;
  if (env) mdb_env_close(env);
  return ok;
}

static lq_pipeline* shard_pipeline(const char* output_dir) {
  char model[1024], out[1024];
  lq_pipeline* pipeline = NULL;
  lq_calibration_sources* sources = NULL;
  static const char* const kArtifacts[] = {"params", "program"};
  CHECK_OK(lq_pipeline_create(path_in(model, sizeof model, "model.onnx"),
                              path_in(out, sizeof out, output_dir), &pipeline));
  CHECK_OK(lq_calibration_sources_create(&sources));
  CHECK_OK(lq_calibration_sources_add_npy(sources, "x", work_path("x_npy")));
  CHECK_OK(lq_calibration_sources_add_npy(sources, "s", work_path("s_npy")));
  CHECK_OK(lq_pipeline_set_calibration_sources(pipeline, sources));
  CHECK_OK(lq_pipeline_set_artifacts(pipeline, kArtifacts, 2));
  lq_calibration_sources_release(sources);
  return pipeline;
}

/* Two shards calibrated apart, merged, quantized from the merged statistics: the parameters
 * and the program equal one pipeline's over all samples, byte for byte; so do the shards'
 * files given directly. */
static void test_pipeline_shards(void) {
  char stats[2][1024], merged[1024], a[1024], b[1024];
  const char* paths[2];
  lq_pipeline* pipeline = NULL;
  lq_pipeline_result* result = NULL;
  uint64_t calibration_samples = 0, evaluation_samples = 0;
  int shard;

  CHECK(write_pipeline_files());
  pipeline = shard_pipeline("out_one_process");
  CHECK_OK(lq_pipeline_run(pipeline, NULL, &result));
  lq_pipeline_result_release(result);
  lq_pipeline_release(pipeline);

  for (shard = 0; shard < 2; ++shard) {
    snprintf(stats[shard], sizeof stats[shard], "%s/shard%d.json", g_work_dir, shard);
    pipeline = shard_pipeline("out_shard_unused");
    CHECK_OK(lq_pipeline_set_calibration_shard(pipeline, shard, 2));
    CHECK_OK(lq_pipeline_set_stats_output(pipeline, stats[shard]));
    CHECK_OK(lq_pipeline_set_calibrate_only(pipeline, 1));
    CHECK_OK(lq_pipeline_run(pipeline, NULL, &result));
    CHECK_OK(lq_pipeline_result_calibration_samples(result, &calibration_samples, &evaluation_samples));
    CHECK(calibration_samples == 2);
    lq_pipeline_result_release(result);
    lq_pipeline_release(pipeline);
  }
  paths[0] = stats[1];
  paths[1] = stats[0];
  path_in(merged, sizeof merged, "shards_merged.json");
  CHECK_OK(lq_calibration_stats_merge(paths, 2, merged));

  pipeline = shard_pipeline("out_merged");
  paths[0] = merged;
  CHECK_OK(lq_pipeline_set_stats_inputs(pipeline, paths, 1));
  CHECK_OK(lq_pipeline_run(pipeline, NULL, &result));
  CHECK_OK(lq_pipeline_result_calibration_samples(result, &calibration_samples, &evaluation_samples));
  CHECK(calibration_samples == 4);
  lq_pipeline_result_release(result);
  CHECK(same_bytes(path_in(a, sizeof a, "out_one_process/quant_params.json"),
                   path_in(b, sizeof b, "out_merged/quant_params.json")));
  CHECK(same_bytes(path_in(a, sizeof a, "out_one_process/model.lqm"),
                   path_in(b, sizeof b, "out_merged/model.lqm")));
  /* The shards' files directly, and no files: calibrate again. */
  paths[0] = stats[0];
  paths[1] = stats[1];
  CHECK_OK(lq_pipeline_set_stats_inputs(pipeline, paths, 2));
  CHECK_OK(lq_pipeline_set_output_dir(pipeline, path_in(a, sizeof a, "out_shard_files")));
  CHECK_OK(lq_pipeline_run(pipeline, NULL, &result));
  lq_pipeline_result_release(result);
  CHECK(same_bytes(path_in(a, sizeof a, "out_one_process/model.lqm"),
                   path_in(b, sizeof b, "out_shard_files/model.lqm")));
  CHECK_OK(lq_pipeline_set_stats_inputs(pipeline, NULL, 0));
  CHECK_OK(lq_pipeline_set_stats_output(pipeline, NULL));
  CHECK_OK(lq_pipeline_set_calibrate_only(pipeline, 0));
  lq_pipeline_release(pipeline);

  /* x's samples from an LMDB set instead of the folder: the same program. */
  path_in(a, sizeof a, "x_samples.lmdb");
  remove(a);
  CHECK(write_lmdb_copy("x_npy", 4, a));
  pipeline = shard_pipeline("out_lmdb");
  {
    lq_calibration_sources* sources = NULL;
    CHECK_OK(lq_calibration_sources_create(&sources));
    CHECK_OK(lq_calibration_sources_add_npy(sources, "x", a));
    CHECK_OK(lq_pipeline_set_calibration_sources(pipeline, sources));
    lq_calibration_sources_release(sources);
  }
  CHECK_OK(lq_pipeline_run(pipeline, NULL, &result));
  lq_pipeline_result_release(result);
  CHECK(same_bytes(path_in(a, sizeof a, "out_one_process/model.lqm"),
                   path_in(b, sizeof b, "out_lmdb/model.lqm")));

  CHECK_ERROR(lq_pipeline_set_calibration_shard(pipeline, 2, 2), LQ_INVALID_ARGUMENT,
              "shard 2 of 2: use 0 <= index < count");
  CHECK_ERROR(lq_pipeline_set_calibration_shard(pipeline, 0, 0), LQ_INVALID_ARGUMENT, "shard 0 of 0");
  CHECK_ERROR(lq_pipeline_set_calibration_shard(NULL, 0, 1), LQ_INVALID_ARGUMENT, "pipeline is NULL");
  CHECK_ERROR(lq_pipeline_set_stats_output(NULL, merged), LQ_INVALID_ARGUMENT, "pipeline is NULL");
  CHECK_ERROR(lq_pipeline_set_calibrate_only(NULL, 1), LQ_INVALID_ARGUMENT, "pipeline is NULL");
  CHECK_ERROR(lq_pipeline_set_stats_inputs(pipeline, NULL, 1), LQ_INVALID_ARGUMENT, "paths is NULL");
  paths[1] = "";
  CHECK_ERROR(lq_pipeline_set_stats_inputs(pipeline, paths, 2), LQ_INVALID_ARGUMENT,
              "paths[1] is NULL or empty");
  lq_pipeline_release(pipeline);
}

/* The precision report of a pipeline result and of the folder the pipeline wrote. */
static void test_pipeline_analyze(void) {
  static const char kConfig[] =
      "{\"model\": {\"path\": \"model.onnx\"},"
      " \"input\": {\"x\": {\"calibration\": \"x_npy\"}, \"s\": {\"calibration\": \"s_npy\"}},"
      " \"output\": {\"dir\": \"out_analyze\", \"artifacts\": [\"float\", \"params\", \"program\"]}}";
  const char* names[] = {"x", "s"};
  char x_dir[1024], s_dir[1024], quant_dir[1024], out[1024];
  const char* dirs[] = {path_in(x_dir, sizeof x_dir, "x_npy"), path_in(s_dir, sizeof s_dir, "s_npy")};
  lq_pipeline* pipeline = NULL;
  lq_pipeline_result* result = NULL;
  lq_buffer* json = NULL;
  lq_analyze_options options;
  FILE* html = NULL;

  CHECK(write_pipeline_files());
  CHECK_OK(lq_pipeline_create_from_json(kConfig, g_work_dir, &pipeline));
  CHECK_OK(lq_pipeline_run(pipeline, NULL, &result));
  CHECK_OK(lq_analyze(result, NULL, NULL, NULL, 0, work_path("analysis_result"), NULL, &json));
  CHECK(buffer_contains(json, "\"schema\": \"libquant.precision_report\""));
  CHECK(buffer_contains(json, "\"version\": 1"));
  lq_buffer_release(json);
  json = NULL;

  lq_analyze_options_init(&options);
  options.dump_sample = 1;
  options.threads = 2;
  path_in(quant_dir, sizeof quant_dir, "out_analyze");
  CHECK_OK(lq_analyze(NULL, quant_dir, names, dirs, 2, path_in(out, sizeof out, "analysis_dir"), &options, NULL));
  html = fopen(work_path("analysis_dir/report.html"), "rb");
  CHECK(html != NULL);
  if (html) fclose(html);

  CHECK_ERROR(lq_analyze(result, quant_dir, names, dirs, 2, out, NULL, &json), LQ_INVALID_ARGUMENT, "not both");
  CHECK(json == NULL);
  CHECK_ERROR(lq_analyze(result, NULL, NULL, NULL, 0, NULL, NULL, NULL), LQ_INVALID_ARGUMENT, "output_dir is NULL");
  CHECK_ERROR(lq_analyze(NULL, quant_dir, names, dirs, 1, out, NULL, NULL), LQ_INVALID_ARGUMENT,
              "model input \"s\" has no data folder");
  CHECK_ERROR(lq_analyze(NULL, work_path("no_such_dir"), names, dirs, 2, out, NULL, NULL), LQ_NOT_FOUND,
              "model.float.onnx' is missing");
  options.threads = 0;
  CHECK_ERROR(lq_analyze(result, NULL, NULL, NULL, 0, out, &options, NULL), LQ_INVALID_ARGUMENT,
              "options->threads is 0");
  options.threads = 1;
  options.dump_sample = 99;
  CHECK_ERROR(lq_analyze(result, NULL, NULL, NULL, 0, out, &options, NULL), LQ_INVALID_ARGUMENT,
              "the result kept 4 samples");
  lq_pipeline_result_release(result);
  lq_pipeline_release(pipeline);
}

/* A file's bytes contain `needle`. */
static int file_contains(const char* path, const char* needle) {
  char text[1 << 16];
  size_t used = 0;
  FILE* f = fopen(path, "rb");
  if (!f) return 0;
  used = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[used] = 0;
  return strstr(text, needle) != NULL;
}

/* The analyze stage switched on with lq_pipeline_set_analyze, and by the config's key. */
static void test_pipeline_analyze_stage(void) {
  static const char kConfig[] =
      "{\"model\": {\"path\": \"model.onnx\"},"
      " \"input\": {\"x\": {\"calibration\": \"x_npy\"}, \"s\": {\"calibration\": \"s_npy\"}},"
      " \"output\": {\"dir\": \"out_stage\", \"artifacts\": [\"program\"]}}";
  static const char kConfigWithKey[] =
      "{\"model\": {\"path\": \"model.onnx\"},"
      " \"input\": {\"x\": {\"calibration\": \"x_npy\"}, \"s\": {\"calibration\": \"s_npy\"}},"
      " \"output\": {\"dir\": \"out_stage_key\", \"artifacts\": [\"program\"]},"
      " \"analyze\": {\"dir\": \"report_key\", \"sensitivity\": true}}";
  lq_pipeline* pipeline = NULL;
  lq_pipeline_result* result = NULL;
  lq_pipeline_run_options run;
  lq_analyze_options options;
  struct stage_log log;
  const char* path = NULL;
  size_t count = 0;
  char dir[1024];

  CHECK(write_pipeline_files());
  CHECK_OK(lq_pipeline_create_from_json(kConfig, g_work_dir, &pipeline));
  lq_pipeline_run_options_init(&run);
  run.stage = record_stage;
  run.stage_user_data = &log;
  /* Off by default: no analyze stage, no report. */
  memset(&log, 0, sizeof log);
  CHECK_OK(lq_pipeline_run(pipeline, &run, &result));
  CHECK(strstr(log.names, "analyze") == NULL);
  CHECK_OK(lq_pipeline_result_artifact_count(result, &count));
  CHECK(count == 1); /* model.lqm */
  lq_pipeline_result_release(result);

  lq_analyze_options_init(&options);
  options.sensitivity = 1;
  options.dump_sample = 0;
  CHECK_OK(lq_pipeline_set_analyze(pipeline, 1, &options, path_in(dir, sizeof dir, "report_setter")));
  memset(&log, 0, sizeof log);
  CHECK_OK(lq_pipeline_run(pipeline, &run, &result));
  CHECK(strstr(log.names, "evaluate,analyze,write,") != NULL);
  CHECK_OK(lq_pipeline_result_artifact_count(result, &count));
  CHECK(count == 2); /* report.html, model.lqm */
  CHECK_OK(lq_pipeline_result_artifact_path(result, 0, &path));
  CHECK(path != NULL && ends_with(path, "/report_setter/report.html"));
  CHECK(file_contains(work_path("report_setter/report.json"), "\"int16_gain_db\""));
  CHECK(file_contains(work_path("report_setter/dumps/float/y.npy"), "NUMPY"));
  lq_pipeline_result_release(result);
  /* The options JSON carries the switch, and reads back. */
  {
    lq_buffer* json = NULL;
    CHECK_OK(lq_pipeline_options_json(pipeline, &json));
    CHECK(buffer_contains(json, "\"analyze\": {"));
    CHECK(buffer_contains(json, "\"enabled\": true"));
    CHECK(buffer_contains(json, "\"dump\": 0"));
    lq_buffer_release(json);
  }
  /* Off again; a dump sample the run does not keep fails the analyze stage by name. */
  CHECK_OK(lq_pipeline_set_analyze(pipeline, 0, NULL, NULL));
  memset(&log, 0, sizeof log);
  CHECK_OK(lq_pipeline_run(pipeline, &run, &result));
  CHECK(strstr(log.names, "analyze") == NULL);
  lq_pipeline_result_release(result);
  options.dump_sample = 9;
  CHECK_OK(lq_pipeline_set_analyze(pipeline, 1, &options, NULL));
  CHECK_ERROR(lq_pipeline_run(pipeline, NULL, &result), LQ_INVALID_ARGUMENT, "analyze stage: analyze dump sample 9");
  options.threads = 0;
  CHECK_ERROR(lq_pipeline_set_analyze(pipeline, 1, &options, NULL), LQ_INVALID_ARGUMENT, "options->threads is 0");
  CHECK_ERROR(lq_pipeline_set_analyze(NULL, 1, NULL, NULL), LQ_INVALID_ARGUMENT, "pipeline is NULL");
  lq_pipeline_release(pipeline);

  /* The config's analyze group; an unknown key in it is an error naming it. */
  CHECK_OK(lq_pipeline_create_from_json(kConfigWithKey, g_work_dir, &pipeline));
  CHECK_OK(lq_pipeline_run(pipeline, NULL, &result));
  CHECK(file_contains(work_path("report_key/report.json"), "\"int16_gain_db\""));
  lq_pipeline_result_release(result);
  lq_pipeline_release(pipeline);
  CHECK_ERROR(lq_pipeline_create_from_json("{\"model\": {\"path\": \"m.onnx\"}, \"output\": {\"dir\": \"o\"},"
                                           " \"analyze\": {\"sensitivty\": true}}", NULL, &pipeline),
              LQ_INVALID_ARGUMENT, "sensitivity");
}

/* Textbook BT.601 full-range decoding of a 4x4 nv12 frame into the model's x (NCHW rgb),
 * normalized with `mean` and `scale`: the float input the program's folded conversion stands
 * for. */
static void decode_nv12(const unsigned char* nv12, const float* mean, const float* scale, float* x) {
  int row, col, k;
  for (row = 0; row < 4; ++row) {
    for (col = 0; col < 4; ++col) {
      const unsigned char* uv = nv12 + 16 + (row / 2) * 4 + (col / 2) * 2;
      const double luma = nv12[row * 4 + col], u = uv[0] - 128.0, v = uv[1] - 128.0;
      const double rgb[3] = {luma + 1.402 * v, luma - 0.344136 * u - 0.714136 * v, luma + 1.772 * u};
      for (k = 0; k < 3; ++k) x[k * 16 + row * 4 + col] = (float)((rgb[k] - mean[k]) * scale[k]);
    }
  }
}

/* An nv12 input folded into the program: calibrated on pictures (converted to nv12 raw), the
 * program takes a uint8 nv12 buffer and matches the float model on the decoded, normalized
 * frame. */
static void test_pipeline_input_format(void) {
  static const float kMean[3] = {128.0f, 128.0f, 128.0f};
  static const float kScale[3] = {1.0f / 64, 1.0f / 64, 1.0f / 64};
  static const int64_t kNv12Shape[3] = {1, 6, 4};
  lq_pipeline* pipeline = NULL;
  lq_pipeline_result* result = NULL;
  lq_program* program = NULL;
  lq_fixed_simulator* fixed = NULL;
  lq_calibration_sources* sources = NULL;
  lq_image_preprocess preprocess;
  unsigned char nv12[24];
  char model_path[1024], out_path[1024];
  float x[48], y[32];
  const float s[2] = {0.25f, -0.25f};
  int64_t y_dims[4] = {0, 0, 0, 0};
  lq_tensor_view inputs[2];
  lq_output_view output;
  int i;

  CHECK(write_pipeline_files());
  CHECK_OK(lq_pipeline_create(path_in(model_path, sizeof model_path, "model.onnx"),
                              path_in(out_path, sizeof out_path, "out_nv12"), &pipeline));
  lq_image_preprocess_init(&preprocess);
  preprocess.height = 4;
  preprocess.width = 4;
  CHECK_OK(lq_calibration_sources_create(&sources));
  CHECK_OK(lq_calibration_sources_add_images(sources, "x", work_path("x_img"), &preprocess));
  CHECK_OK(lq_calibration_sources_add_npy(sources, "s", work_path("s_npy")));
  CHECK_OK(lq_pipeline_set_calibration_sources(pipeline, sources));
  lq_calibration_sources_release(sources);
  CHECK_ERROR(lq_pipeline_set_input_format(pipeline, "x", "nv21", NULL, kMean, kScale, 3),
              LQ_INVALID_ARGUMENT, "one of featuremap, rgb, bgr, gray, yuv444, nv12");
  CHECK_ERROR(lq_pipeline_set_input_format(pipeline, "x", "nv12:planar", NULL, kMean, kScale, 3),
              LQ_INVALID_ARGUMENT, "'planar' is not nhwc, nchw, video or full");
  /* The folded conversion needs the input's static shape (x is [N,3,4,4]). */
  CHECK_OK(lq_pipeline_set_input_format(pipeline, "x", "nv12", "rgb", kMean, kScale, 3));
  CHECK_ERROR(lq_pipeline_run(pipeline, NULL, &result), LQ_INVALID_ARGUMENT, "give its shape to fold the nv12");
  CHECK_OK(lq_pipeline_set_input_shape(pipeline, "x", kShapeX, 4));
  /* gray from nv12 is not a combination hb_compile allows: the run says so. */
  CHECK_OK(lq_pipeline_set_input_format(pipeline, "x", "nv12", "gray", kMean, kScale, 1));
  CHECK_ERROR(lq_pipeline_run(pipeline, NULL, &result), LQ_INVALID_ARGUMENT, "trained on gray cannot take nv12");
  CHECK_OK(lq_pipeline_set_input_format(pipeline, "x", "nv12", "rgb", kMean, kScale, 3));
  CHECK_OK(lq_pipeline_run(pipeline, NULL, &result));
  CHECK_OK(lq_pipeline_result_program(result, &program));
  CHECK_OK(lq_fixed_simulator_create(program, NULL, &fixed));

  /* A frame like the calibration pictures (near-grey ramps from 105 to 220): a luma ramp with
   * a slight tint per 2x2 block. */
  for (i = 0; i < 16; ++i) nv12[i] = (unsigned char)(115 + i * 6);
  for (i = 0; i < 8; i += 2) {
    nv12[16 + i] = (unsigned char)(123 + i);
    nv12[17 + i] = (unsigned char)(133 - i);
  }
  decode_nv12(nv12, kMean, kScale, x);
  inputs[0] = make_view("x", LQ_UINT8, kNv12Shape, 3, nv12, sizeof nv12);
  inputs[1] = make_view("s", LQ_FLOAT32, kShapeS, 4, (void*)s, sizeof s);
  output = make_output("y", y, sizeof y, y_dims, 4);
  CHECK_OK(lq_fixed_simulator_run(fixed, LQ_FIXED_OUTPUT_DEQUANTIZED, inputs, 2, &output, 1));
  CHECK(y_dims[0] == 1 && y_dims[1] == 2 && y_dims[2] == 4 && y_dims[3] == 4);
  CHECK(y_matches(y, x, s, 1, 0.04f));
  /* A float32 x of the model's shape is no longer the program's input. */
  inputs[0] = make_view("x", LQ_FLOAT32, kShapeX, 4, x, sizeof x);
  CHECK_ERROR(lq_fixed_simulator_run(fixed, LQ_FIXED_OUTPUT_DEQUANTIZED, inputs, 2, &output, 1),
              LQ_INVALID_ARGUMENT, "the program was compiled for [1,6,4]");

  lq_fixed_simulator_release(fixed);
  lq_program_release(program);
  lq_pipeline_result_release(result);
  lq_pipeline_release(pipeline);
}

void test_pipeline(void) {
  test_pipeline_input_format();
  test_pipeline_shards();
  test_pipeline_analyze();
  test_pipeline_analyze_stage();
  test_pipeline_from_yaml();
  test_pipeline_from_json();
  test_pipeline_setters();
  test_pipeline_skip();
  test_pipeline_misuse();
}
