/* The C ABI: Quant configs, the quantizer and its log. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_capi.h"

static void test_quant_config(void) {
  lq_quantizer* quantizer = NULL;
  lq_buffer* json = NULL;

  CHECK_OK(lq_quantizer_create(&quantizer));
  CHECK_OK(lq_quantizer_set_method(quantizer, "kl"));
  CHECK_OK(lq_quantizer_set_bits(quantizer, 16, 4));
  CHECK_OK(lq_quantizer_set_per_channel(quantizer, 0));
  CHECK_OK(lq_quantizer_config_json(quantizer, &json));
  CHECK(buffer_contains(json, "\"method\": \"kl\""));
  CHECK(buffer_contains(json, "\"activation\": \"int16\""));
  CHECK(buffer_contains(json, "\"weight\": \"int4\""));
  CHECK(buffer_contains(json, "\"per_channel\": false"));
  lq_buffer_release(json);
  json = NULL;

  /* 0 keeps a bit width; a bad one changes neither. */
  CHECK_OK(lq_quantizer_set_bits(quantizer, 0, 8));
  CHECK_ERROR(lq_quantizer_set_bits(quantizer, 8, 3), LQ_INVALID_ARGUMENT,
              "weight_bits is 3; use 4, 8 or 16");
  CHECK_ERROR(lq_quantizer_set_bits(quantizer, 7, 0), LQ_INVALID_ARGUMENT,
              "activation_bits is 7; use 8 or 16");
  CHECK_OK(lq_quantizer_config_json(quantizer, &json));
  CHECK(buffer_contains(json, "\"activation\": \"int16\""));
  CHECK(buffer_contains(json, "\"weight\": \"int8\""));
  lq_buffer_release(json);

  CHECK_ERROR(lq_quantizer_set_method(quantizer, "kll"), LQ_INVALID_ARGUMENT,
              "unknown range method \"kll\"; valid methods:");
  CHECK_ERROR(lq_quantizer_set_method(quantizer, NULL), LQ_INVALID_ARGUMENT, "method is NULL");
  CHECK_ERROR(lq_quantizer_config_json(quantizer, NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  lq_quantizer_release(quantizer);
  quantizer = NULL;

  CHECK_OK(lq_quantizer_create_from_json(
      "{\"model\": {\"method\": \"max\", \"weight\": \"int8\"}, \"op_types\": {\"Conv\": "
      "{\"per_channel\": false}}}",
      &quantizer));
  CHECK_OK(lq_quantizer_config_json(quantizer, &json));
  CHECK(buffer_contains(json, "\"Conv\": {") && buffer_contains(json, "\"per_channel\": false"));
  lq_buffer_release(json);
  lq_quantizer_release(quantizer);
  quantizer = NULL;

  CHECK_ERROR(lq_quantizer_create_from_json("{\"model\": {\"methd\": \"max\"}}", &quantizer),
              LQ_INVALID_ARGUMENT,
              "quant config /model/methd: unknown key 'methd'; did you mean 'method'?");
  CHECK_ERROR(lq_quantizer_create_from_json("{\"model\": {\"weight\": \"int3\"}}", &quantizer),
              LQ_INVALID_ARGUMENT, "/model/weight");
  CHECK_ERROR(lq_quantizer_create_from_json("{\"model\": ", &quantizer), LQ_INVALID_ARGUMENT,
              "not valid JSON");
  CHECK(quantizer == NULL);
}

static void test_quantize(void) {
  lq_graph* graph = load_test_graph();
  lq_calibrator* calibrator = calibrated(graph, 6);
  lq_quantizer* quantizer = NULL;
  lq_quantized_graph* qgraph = NULL;
  lq_simulator* fake = NULL;
  lq_simulator* exact = NULL;
  lq_buffer* json = NULL;
  lq_buffer* qdq = NULL;
  lq_graph* reloaded = NULL;
  struct sample sample;
  float y_fake[32], y_float[32];
  int64_t dims[4];
  lq_output_view output;
  int i, differs = 0;

  CHECK_OK(lq_quantizer_create(&quantizer));
  CHECK_OK(lq_quantizer_set_method(quantizer, "max"));
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph));
  CHECK_OK(lq_quantized_graph_params_json(qgraph, &json));
  CHECK(buffer_contains(json, "\"w\": {"));
  CHECK(buffer_contains(json, "\"weights:max\""));
  CHECK(buffer_contains(json, "\"y\": {"));
  lq_buffer_release(json);

  CHECK_OK(lq_quantized_graph_serialize_qdq(qgraph, &qdq));
  CHECK(buffer_contains(qdq, "QuantizeLinear") && buffer_contains(qdq, "DequantizeLinear"));
  CHECK_OK(lq_graph_load_from_memory(lq_buffer_data(qdq), lq_buffer_size(qdq), &reloaded));
  lq_graph_release(reloaded);
  lq_buffer_release(qdq);
  CHECK_OK(lq_quantized_graph_save_qdq(qgraph, work_path("model.qdq.onnx")));
  CHECK_ERROR(lq_quantized_graph_save_qdq(qgraph, work_path("no-such-dir/q.onnx")), LQ_IO_ERROR,
              "no-such-dir");
  CHECK_ERROR(lq_quantized_graph_save_qdq(qgraph, NULL), LQ_INVALID_ARGUMENT, "path is NULL");
  CHECK_ERROR(lq_quantized_graph_serialize_qdq(qgraph, NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  CHECK_ERROR(lq_quantized_graph_params_json(qgraph, NULL), LQ_INVALID_ARGUMENT, "out is NULL");

  /* Fake quantization: close to float (8-bit over about [-2, 4]), but not equal. */
  CHECK_OK(lq_simulator_create_fake_quant(qgraph, NULL, &fake));
  CHECK_OK(lq_simulator_create(graph, NULL, &exact));
  CHECK_ERROR(lq_simulator_create_fake_quant(qgraph, NULL, NULL), LQ_INVALID_ARGUMENT,
              "out is NULL");
  /* Both simulators keep what they were built on. */
  lq_quantized_graph_release(qgraph);
  lq_graph_release(graph);
  make_sample(&sample, 5);
  output = make_output("y", y_fake, sizeof y_fake, dims, 4);
  CHECK_OK(lq_simulator_run(fake, sample.views, 2, &output, 1));
  output = make_output("y", y_float, sizeof y_float, dims, 4);
  CHECK_OK(lq_simulator_run(exact, sample.views, 2, &output, 1));
  CHECK(y_matches(y_float, sample.x, sample.s, 1, 1e-6f));
  CHECK(y_matches(y_fake, sample.x, sample.s, 1, 0.1f));
  for (i = 0; i < 32; ++i) differs |= y_fake[i] != y_float[i];
  CHECK(differs);
  lq_simulator_release(fake);
  lq_simulator_release(exact);
  lq_quantizer_release(quantizer);
  lq_calibrator_release(calibrator);
}

static void test_quantize_out_of_order(void) {
  lq_graph* graph = load_test_graph();
  lq_graph* other = load_test_graph();
  lq_calibrator* empty = NULL;
  lq_calibrator* calibrator = calibrated(graph, 2);
  lq_quantizer* quantizer = NULL;
  lq_quantized_graph* qgraph = NULL;
  lq_calibrator_options options;

  CHECK_OK(lq_quantizer_create(&quantizer));
  CHECK_OK(lq_calibrator_create(graph, NULL, &empty));
  CHECK_ERROR(lq_quantizer_quantize(quantizer, graph, empty, &qgraph), LQ_FAILED_PRECONDITION,
              "the calibrator has seen no samples");
  CHECK_ERROR(lq_quantizer_quantize(quantizer, other, calibrator, &qgraph), LQ_FAILED_PRECONDITION,
              "the calibrator was created from another graph");
  CHECK_ERROR(lq_quantizer_quantize(quantizer, graph, NULL, &qgraph), LQ_INVALID_ARGUMENT,
              "calibrator is NULL");
  CHECK_ERROR(lq_quantizer_quantize(quantizer, NULL, calibrator, &qgraph), LQ_INVALID_ARGUMENT,
              "graph is NULL");
  CHECK_ERROR(lq_quantizer_quantize(quantizer, graph, calibrator, NULL), LQ_INVALID_ARGUMENT,
              "out is NULL");
  /* The range method "auto" scores on kept samples. */
  CHECK_OK(lq_quantizer_set_method(quantizer, "auto"));
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph));
  lq_quantized_graph_release(qgraph);
  qgraph = NULL;
  lq_calibrator_release(calibrator);
  lq_calibrator_options_init(&options);
  options.keep_samples = 0;
  CHECK_OK(lq_calibrator_create(graph, &options, &calibrator));
  {
    struct sample sample;
    make_sample(&sample, 1);
    CHECK_OK(lq_calibrator_add_sample(calibrator, sample.views, 2));
  }
  CHECK_ERROR(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph), LQ_FAILED_PRECONDITION,
              "scores candidates on calibration samples; keep some");
  /* Changing the graph after calibration. */
  CHECK_OK(lq_quantizer_set_method(quantizer, "max"));
  CHECK_OK(lq_graph_optimize(graph));
  CHECK_ERROR(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph), LQ_FAILED_PRECONDITION,
              "create the calibrator from the graph as it is now");
  CHECK(qgraph == NULL);
  lq_calibrator_release(calibrator);
  lq_calibrator_release(empty);
  lq_quantizer_release(quantizer);
  lq_graph_release(other);
  lq_graph_release(graph);
}

static void test_default_config(void) {
  lq_buffer* defaults = NULL;
  lq_buffer* round_trip = NULL;
  lq_quantizer* quantizer = NULL;

  /* Every model-level default is spelled out ... */
  CHECK_OK(lq_quantizer_default_config_json(&defaults));
  CHECK(buffer_contains(defaults, "\"method\": \"percentile\""));
  CHECK(buffer_contains(defaults, "\"activation\": \"int8\""));
  CHECK(buffer_contains(defaults, "\"weight\": \"int8\""));
  CHECK(buffer_contains(defaults, "\"per_channel\": true"));
  CHECK(buffer_contains(defaults, "\"percentile\": 0.999"));
  /* ... in a config lq_quantizer_create_from_json reads back unchanged. */
  CHECK_OK(lq_quantizer_create_from_json((const char*)lq_buffer_data(defaults), &quantizer));
  CHECK_OK(lq_quantizer_config_json(quantizer, &round_trip));
  CHECK(lq_buffer_size(defaults) == lq_buffer_size(round_trip) &&
        memcmp(lq_buffer_data(defaults), lq_buffer_data(round_trip), lq_buffer_size(defaults)) ==
            0);
  CHECK_ERROR(lq_quantizer_default_config_json(NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  lq_quantizer_release(quantizer);
  lq_buffer_release(round_trip);
  lq_buffer_release(defaults);
}

static void test_quantizer_log(void) {
  lq_graph* graph = load_test_graph();
  lq_calibrator* calibrator = calibrated(graph, 3);
  lq_quantizer* quantizer = NULL;
  lq_quantized_graph* qgraph = NULL;
  lq_program* program = NULL;
  lq_input_shape shape;
  lq_compile_options options = batch1_options(&shape);
  struct log_lines quantizer_log, compiler_log;
  memset(&quantizer_log, 0, sizeof quantizer_log);
  memset(&compiler_log, 0, sizeof compiler_log);

  /* The quantizer tells which node it keeps in float ... */
  CHECK_OK(lq_quantizer_create_from_json(
      "{\"model\": {\"method\": \"max\"}, \"nodes\": {\"relu\": {\"quantize\": false}}}",
      &quantizer));
  CHECK_OK(lq_quantizer_set_log_callback(quantizer, record_log, &quantizer_log));
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph));
  CHECK(quantizer_log.count >= 1);
  CHECK(strstr(quantizer_log.text, "Relu node \"relu\" stays in float (quantize: false)") != NULL);

  /* ... and the compiler puts it on the CPU, with the Add reading its float output and the
   * Shape node. */
  options.log = record_log;
  options.log_user_data = &compiler_log;
  CHECK_OK(lq_compile(qgraph, &options, &program));
  CHECK(strstr(compiler_log.text,
               "CPU node Relu \"relu\": output \"r\" is not quantized\n") != NULL);
  CHECK(strstr(compiler_log.text, "CPU node Add \"add\": ") != NULL);
  CHECK(strstr(compiler_log.text, "CPU node Shape \"shape\": no integer kernel for Shape\n") !=
        NULL);
  CHECK(compiler_log.count == 3);
  lq_quantized_graph_release(qgraph);
  qgraph = NULL;

  /* A NULL callback turns the log off; a failed quantization logs nothing. */
  CHECK_OK(lq_quantizer_set_log_callback(quantizer, NULL, NULL));
  quantizer_log.count = 0;
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph));
  CHECK(quantizer_log.count == 0);
  CHECK_ERROR(lq_quantizer_set_log_callback(NULL, record_log, NULL), LQ_INVALID_ARGUMENT,
              "quantizer is NULL");
  lq_program_release(program);
  lq_quantized_graph_release(qgraph);
  lq_quantizer_release(quantizer);
  lq_calibrator_release(calibrator);
  lq_graph_release(graph);
}

/* The range method skip needs no calibrator: random inputs in the declared ranges, flagged
 * not for accuracy in the log; the result compiles. */
static void test_quantize_without_data(void) {
  lq_graph* graph = load_test_graph();
  lq_quantizer* quantizer = NULL;
  lq_quantizer* misnamed = NULL;
  lq_quantized_graph* qgraph = NULL;
  lq_quantized_graph* wide = NULL;
  lq_buffer* params = NULL;
  lq_buffer* wide_params = NULL;
  lq_program* program = NULL;
  lq_input_shape shape;
  lq_compile_options options = batch1_options(&shape);
  const char* names[] = {"x"};
  const int64_t batch1[] = {1, 3, 4, 4};
  const int64_t* shapes[] = {batch1};
  const size_t ranks[] = {4};
  struct log_lines log;
  memset(&log, 0, sizeof log);

  CHECK_OK(lq_quantizer_create(&quantizer));
  CHECK_OK(lq_quantizer_set_method(quantizer, "max"));
  CHECK_ERROR(lq_quantizer_quantize(quantizer, graph, NULL, &qgraph), LQ_INVALID_ARGUMENT,
              "calibrator is NULL: quantizing without calibration data needs the range method \"skip\"");
  CHECK_OK(lq_quantizer_set_method(quantizer, "skip"));
  /* x is [N,3,4,4]: random inputs need a static shape. */
  CHECK_ERROR(lq_quantizer_quantize(quantizer, graph, NULL, &qgraph), LQ_INVALID_ARGUMENT,
              "input \"x\" has dynamic shape");
  CHECK_OK(lq_graph_propagate_shapes(graph, names, shapes, ranks, 1));
  CHECK_OK(lq_quantizer_set_log_callback(quantizer, record_log, &log));
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, NULL, &wide));
  CHECK(log.count >= 1);
  CHECK(strstr(log.text, "range method skip without calibration data") != NULL);
  CHECK(strstr(log.text, "not for accuracy") != NULL);
  CHECK_OK(lq_quantized_graph_params_json(wide, &wide_params));

  /* A declared range changes the inputs' ranges (x in [0, 4] instead of [-1, 1]). */
  CHECK_OK(lq_quantizer_set_input_range(quantizer, "x", 0.0, 4.0));
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, NULL, &qgraph));
  CHECK_OK(lq_quantized_graph_params_json(qgraph, &params));
  CHECK(lq_buffer_size(params) != lq_buffer_size(wide_params) ||
        memcmp(lq_buffer_data(params), lq_buffer_data(wide_params), lq_buffer_size(params)) != 0);
  CHECK_OK(lq_compile(qgraph, &options, &program));

  CHECK_ERROR(lq_quantizer_set_input_range(quantizer, "x", 2.0, 1.0), LQ_INVALID_ARGUMENT,
              "range [2, 1] must be finite with min < max");
  CHECK_ERROR(lq_quantizer_set_input_range(quantizer, NULL, 0.0, 1.0), LQ_INVALID_ARGUMENT,
              "input is NULL");
  CHECK_ERROR(lq_quantizer_set_input_range(NULL, "x", 0.0, 1.0), LQ_INVALID_ARGUMENT,
              "quantizer is NULL");
  CHECK_OK(lq_quantizer_create(&misnamed));
  CHECK_OK(lq_quantizer_set_method(misnamed, "skip"));
  CHECK_OK(lq_quantizer_set_input_range(misnamed, "xx", 0.0, 1.0));
  lq_quantized_graph_release(qgraph);
  qgraph = NULL;
  CHECK_ERROR(lq_quantizer_quantize(misnamed, graph, NULL, &qgraph), LQ_INVALID_ARGUMENT,
              "input range for \"xx\": the model has no such input; did you mean \"x\"?");
  lq_program_release(program);
  lq_buffer_release(params);
  lq_buffer_release(wide_params);
  lq_quantized_graph_release(qgraph);
  lq_quantized_graph_release(wide);
  lq_quantizer_release(misnamed);
  lq_quantizer_release(quantizer);
  lq_graph_release(graph);
}

/* The target decides what int16 becomes: on "int8" it falls back to int8, with a log line. */
static void test_quantizer_target(void) {
  lq_graph* graph = load_test_graph();
  lq_calibrator* calibrator = calibrated(graph, 3);
  lq_quantizer* quantizer = NULL;
  lq_quantized_graph* qgraph = NULL;
  lq_buffer* params = NULL;
  struct log_lines log;
  memset(&log, 0, sizeof log);

  CHECK_OK(lq_quantizer_create(&quantizer));
  CHECK_OK(lq_quantizer_set_method(quantizer, "max"));
  CHECK_OK(lq_quantizer_set_bits(quantizer, 16, 16));
  CHECK_OK(lq_quantizer_set_log_callback(quantizer, record_log, &log));
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph));
  CHECK_OK(lq_quantized_graph_params_json(qgraph, &params));
  CHECK(buffer_contains(params, "\"int16\""));
  CHECK(strstr(log.text, "falls back to int8") == NULL);
  lq_buffer_release(params);
  params = NULL;
  lq_quantized_graph_release(qgraph);
  qgraph = NULL;

  CHECK_OK(lq_quantizer_set_target(quantizer, "int8"));
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph));
  CHECK_OK(lq_quantized_graph_params_json(qgraph, &params));
  CHECK(!buffer_contains(params, "\"int16\""));
  CHECK(strstr(log.text, "target \"int8\" has no int16: ") != NULL);
  CHECK(strstr(log.text, "falls back to int8") != NULL);
  lq_buffer_release(params);
  lq_quantized_graph_release(qgraph);
  qgraph = NULL;

  /* A bad name keeps the target. */
  CHECK_ERROR(lq_quantizer_set_target(quantizer, "npu9"), LQ_INVALID_ARGUMENT,
              "unknown target \"npu9\": expected one of generic, int8");
  CHECK_ERROR(lq_quantizer_set_target(quantizer, NULL), LQ_INVALID_ARGUMENT, "target is NULL");
  CHECK_ERROR(lq_quantizer_set_target(NULL, "int8"), LQ_INVALID_ARGUMENT, "quantizer is NULL");
  log.count = 0;
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph));
  CHECK(log.count > 0);
  lq_quantized_graph_release(qgraph);
  qgraph = NULL;
  CHECK_OK(lq_quantizer_set_target(quantizer, "generic"));
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph));
  CHECK_OK(lq_quantized_graph_params_json(qgraph, &params));
  CHECK(buffer_contains(params, "\"int16\""));
  lq_buffer_release(params);
  lq_quantized_graph_release(qgraph);
  lq_quantizer_release(quantizer);
  lq_calibrator_release(calibrator);
  lq_graph_release(graph);
}

static void test_quantizer_progress(void) {
  lq_graph* graph = load_test_graph();
  lq_calibrator* calibrator = calibrated(graph, 2);
  lq_quantizer* quantizer = NULL;
  lq_quantized_graph* qgraph = NULL;
  struct step_log log;

  memset(&log, 0, sizeof log);
  CHECK_OK(lq_quantizer_create(&quantizer));
  CHECK_ERROR(lq_quantizer_set_progress_callback(NULL, record_step, &log), LQ_INVALID_ARGUMENT,
              "quantizer is NULL");
  CHECK_OK(lq_quantizer_set_progress_callback(quantizer, record_step, &log));
  /* max has no search: nothing to report. */
  CHECK_OK(lq_quantizer_set_method(quantizer, "max"));
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph));
  lq_quantized_graph_release(qgraph);
  CHECK(log.calls == 0);
  /* auto: its per-tensor choice, then its whole-model search, each ending at its total. */
  CHECK_OK(lq_quantizer_set_method(quantizer, "auto"));
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph));
  lq_quantized_graph_release(qgraph);
  CHECK(strcmp(log.steps, "auto ranges,auto search,") == 0);
  CHECK(log.bad == 0);
  CHECK(log.calls >= 3);
  CHECK(log.last_done == log.last_total);
  /* NULL stops the reports. */
  memset(&log, 0, sizeof log);
  CHECK_OK(lq_quantizer_set_progress_callback(quantizer, NULL, NULL));
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph));
  lq_quantized_graph_release(qgraph);
  CHECK(log.calls == 0);
  lq_quantizer_release(quantizer);
  lq_calibrator_release(calibrator);
  lq_graph_release(graph);
}

/* The accuracy target: met (the log says so) or not, and bad values named. */
static void test_quantizer_min_snr(void) {
  lq_graph* graph = load_test_graph();
  lq_calibrator* calibrator = calibrated(graph, 3);
  lq_quantizer* quantizer = NULL;
  lq_quantized_graph* qgraph = NULL;
  struct log_lines log;
  memset(&log, 0, sizeof log);
  CHECK_OK(lq_quantizer_create(&quantizer));
  CHECK_OK(lq_quantizer_set_min_snr(quantizer, 200.0, 0.5));
  CHECK_OK(lq_quantizer_set_log_callback(quantizer, record_log, &log));
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph));
  CHECK(strstr(log.text, "min_snr 200.0 dB: ") != NULL);
  CHECK(strstr(log.text, "within 50 % of the activation elements") != NULL ||
        strstr(log.text, "met as quantized") != NULL);
  lq_quantized_graph_release(qgraph);
  qgraph = NULL;
  memset(&log, 0, sizeof log);
  CHECK_OK(lq_quantizer_set_min_snr(quantizer, 1.0, 0.0));
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph));
  CHECK(strstr(log.text, "min_snr 1.0 dB: met as quantized") != NULL);
  CHECK_ERROR(lq_quantizer_set_min_snr(quantizer, -1.0, 0.0), LQ_INVALID_ARGUMENT, "min_snr_db is -1");
  CHECK_ERROR(lq_quantizer_set_min_snr(quantizer, 30.0, 2.0), LQ_INVALID_ARGUMENT, "int16_budget is 2");
  CHECK_ERROR(lq_quantizer_set_min_snr(NULL, 30.0, 0.0), LQ_INVALID_ARGUMENT, "quantizer is NULL");
  lq_quantized_graph_release(qgraph);
  lq_quantizer_release(quantizer);
  lq_calibrator_release(calibrator);
  lq_graph_release(graph);
}

void test_quantization(void) {
  test_quant_config();
  test_quantize();
  test_quantize_out_of_order();
  test_default_config();
  test_quantizer_log();
  test_quantize_without_data();
  test_quantizer_target();
  test_quantizer_progress();
  test_quantizer_min_snr();
}
