/* The C ABI: Compiling to a program, and the .lqm format. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_capi.h"

static void test_compile(void) {
  lq_quantized_graph* qgraph = quantized_test_graph();
  lq_program* program = NULL;
  lq_input_shape shapes[3];
  lq_compile_options options = batch1_options(&shapes[0]);
  lq_buffer* json = NULL;
  struct log_lines log;
  size_t count = 0, rank = 0;
  const char* name = NULL;
  lq_dtype dtype = LQ_DTYPE_UNDEFINED;
  int64_t dims[4] = {0, 0, 0, 0};
  int quantized = -1;
  float scale = -1.0f;
  int32_t zero_point = -1;
  uint64_t bytes = 0;
  const int64_t negative[] = {1, -3, 4, 4};
  const int64_t wrong[] = {1, 3, 4, 5};
  memset(&log, 0, sizeof log);

  /* x's batch is dynamic: a program needs it. */
  CHECK_ERROR(lq_compile(qgraph, NULL, &program), LQ_INVALID_ARGUMENT,
              "model input \"x\" has dynamic shape float32[N,3,4,4]: give its size in "
              "options->input_shapes");
  options.log = record_log;
  options.log_user_data = &log;
  CHECK_OK(lq_compile(qgraph, &options, &program));
  CHECK(log.count == 1 && strstr(log.text, "CPU node Shape \"shape\": ") != NULL);
  /* The program needs nothing it was compiled from. */
  lq_quantized_graph_release(qgraph);

  CHECK_OK(lq_program_input_count(program, &count));
  CHECK(count == 2);
  CHECK_OK(lq_program_input_name(program, 0, &name));
  CHECK(name && strcmp(name, "x") == 0);
  CHECK_OK(lq_program_input_name(program, 1, &name));
  CHECK(name && strcmp(name, "s") == 0);
  CHECK_OK(lq_program_input_dtype(program, 0, &dtype));
  CHECK(dtype == LQ_INT8);
  CHECK_OK(lq_program_input_shape(program, 0, NULL, 0, &rank));
  CHECK(rank == 4);
  CHECK_OK(lq_program_input_shape(program, 0, dims, 4, &rank));
  CHECK(dims[0] == 1 && dims[1] == 3 && dims[2] == 4 && dims[3] == 4);
  CHECK_OK(lq_program_input_quantization(program, 0, &quantized, &scale, &zero_point));
  /* max over about [-2, 2] in 8 bits. */
  CHECK(quantized == 1 && scale > 0.005f && scale < 0.05f);
  CHECK(zero_point >= -128 && zero_point <= 127);

  CHECK_OK(lq_program_output_count(program, &count));
  CHECK(count == 2);
  CHECK_OK(lq_program_output_name(program, 0, &name));
  CHECK(name && strcmp(name, "y") == 0);
  CHECK_OK(lq_program_output_dtype(program, 0, &dtype));
  CHECK(dtype == LQ_INT8);
  CHECK_OK(lq_program_output_shape(program, 0, dims, 4, &rank));
  CHECK(rank == 4 && dims[0] == 1 && dims[1] == 2 && dims[2] == 4 && dims[3] == 4);
  CHECK_OK(lq_program_output_quantization(program, 0, &quantized, &scale, &zero_point));
  CHECK(quantized == 1 && scale > 0.0f);
  /* The Shape's output is int64 and not quantized. */
  CHECK_OK(lq_program_output_name(program, 1, &name));
  CHECK(name && strcmp(name, "y_shape") == 0);
  CHECK_OK(lq_program_output_dtype(program, 1, &dtype));
  CHECK(dtype == LQ_INT64);
  CHECK_OK(lq_program_output_shape(program, 1, dims, 4, &rank));
  CHECK(rank == 1 && dims[0] == 4);
  CHECK_OK(lq_program_output_quantization(program, 1, &quantized, &scale, &zero_point));
  CHECK(quantized == 0 && scale == 0.0f && zero_point == 0);

  CHECK_OK(lq_program_peak_activation_bytes(program, &bytes));
  CHECK(bytes >= 48 + 32); /* x and y (int8) are live together */
  CHECK_OK(lq_program_weight_bytes(program, &bytes));
  CHECK(bytes >= 6 + 2 * 4); /* int8 weights and int32 biases, at least */

  /* The per-layer report. */
  CHECK_OK(lq_program_summary_json(program, &json));
  CHECK(buffer_contains(json, "\"layers\": ["));
  CHECK(buffer_contains(json, "\"node\": \"conv\""));
  CHECK(buffer_contains(json, "\"kernel\": \"Conv\""));
  CHECK(buffer_contains(json, "\"kernel\": \"CPU\""));
  CHECK(buffer_contains(json, "\"cpu_reason\": "));
  CHECK(buffer_contains(json, "\"target\": \"generic\""));
  lq_buffer_release(json);
  json = NULL;

  /* Misuse of the accessors. */
  CHECK_ERROR(lq_program_input_name(program, 2, &name), LQ_INVALID_ARGUMENT,
              "index 2 is out of range: the program has 2 inputs");
  CHECK(name == NULL);
  CHECK_ERROR(lq_program_output_dtype(program, 9, &dtype), LQ_INVALID_ARGUMENT,
              "index 9 is out of range: the program has 2 outputs");
  CHECK(dtype == LQ_DTYPE_UNDEFINED);
  CHECK_ERROR(lq_program_output_shape(program, 0, dims, 3, &rank), LQ_INVALID_ARGUMENT,
              "\"y\" has rank 4 but capacity is 3");
  CHECK_ERROR(lq_program_input_shape(program, 0, NULL, 4, &rank), LQ_INVALID_ARGUMENT,
              "dims is NULL");
  CHECK_ERROR(lq_program_output_shape(program, 0, dims, 4, NULL), LQ_INVALID_ARGUMENT,
              "rank is NULL");
  CHECK_ERROR(lq_program_input_quantization(program, 5, &quantized, &scale, &zero_point),
              LQ_INVALID_ARGUMENT, "index 5 is out of range");
  CHECK(quantized == 0 && scale == 0.0f && zero_point == 0);
  CHECK_ERROR(lq_program_output_quantization(program, 0, &quantized, NULL, &zero_point),
              LQ_INVALID_ARGUMENT, "scale is NULL");
  CHECK_ERROR(lq_program_input_quantization(program, 0, NULL, &scale, &zero_point),
              LQ_INVALID_ARGUMENT, "quantized is NULL");
  CHECK_ERROR(lq_program_input_quantization(program, 0, &quantized, &scale, NULL),
              LQ_INVALID_ARGUMENT, "zero_point is NULL");
  CHECK_ERROR(lq_program_input_count(program, NULL), LQ_INVALID_ARGUMENT, "count is NULL");
  CHECK_ERROR(lq_program_output_count(program, NULL), LQ_INVALID_ARGUMENT, "count is NULL");
  CHECK_ERROR(lq_program_output_name(program, 0, NULL), LQ_INVALID_ARGUMENT, "name is NULL");
  CHECK_ERROR(lq_program_input_dtype(program, 0, NULL), LQ_INVALID_ARGUMENT, "dtype is NULL");
  CHECK_ERROR(lq_program_summary_json(program, NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  CHECK_ERROR(lq_program_weight_bytes(program, NULL), LQ_INVALID_ARGUMENT, "bytes is NULL");
  CHECK_ERROR(lq_program_peak_activation_bytes(program, NULL), LQ_INVALID_ARGUMENT,
              "bytes is NULL");
  lq_program_release(program);
  program = NULL;

  /* Misuse of the options. */
  qgraph = quantized_test_graph();
  options = batch1_options(&shapes[0]);
  options.target = "int8";
  CHECK_OK(lq_compile(qgraph, &options, &program));
  CHECK_OK(lq_program_summary_json(program, &json));
  CHECK(buffer_contains(json, "\"target\": \"int8\""));
  lq_buffer_release(json);
  lq_program_release(program);
  program = NULL;
  options.target = "npu";
  CHECK_ERROR(lq_compile(qgraph, &options, &program), LQ_INVALID_ARGUMENT,
              "unknown target \"npu\": expected one of generic, int8");
  options = batch1_options(&shapes[0]);
  options.struct_size = 4;
  CHECK_ERROR(lq_compile(qgraph, &options, &program), LQ_INVALID_ARGUMENT,
              "options->struct_size is 4, smaller than the first version of lq_compile_options");
  options.struct_size = sizeof options + 8;
  CHECK_ERROR(lq_compile(qgraph, &options, &program), LQ_INVALID_ARGUMENT,
              "larger than this library's lq_compile_options");
  options = batch1_options(&shapes[0]);
  shapes[0].struct_size = 8;
  CHECK_ERROR(lq_compile(qgraph, &options, &program), LQ_INVALID_ARGUMENT,
              "options->input_shapes[0].struct_size is 8, smaller than the first version of "
              "lq_input_shape");
  options = batch1_options(&shapes[0]);
  shapes[1] = shapes[0];
  shapes[1].struct_size = sizeof(lq_input_shape) - 8;
  options.input_shape_count = 2;
  CHECK_ERROR(lq_compile(qgraph, &options, &program), LQ_INVALID_ARGUMENT,
              "every element of an array has the same size");
  shapes[1] = shapes[0];
  CHECK_ERROR(lq_compile(qgraph, &options, &program), LQ_INVALID_ARGUMENT,
              "options->input_shapes[1]: input \"x\" is given twice");
  shapes[1].name = NULL;
  CHECK_ERROR(lq_compile(qgraph, &options, &program), LQ_INVALID_ARGUMENT,
              "options->input_shapes[1].name is NULL");
  shapes[1] = shapes[0];
  shapes[1].name = "s";
  shapes[1].shape = NULL;
  CHECK_ERROR(lq_compile(qgraph, &options, &program), LQ_INVALID_ARGUMENT,
              "options->input_shapes[1].shape is NULL");
  shapes[1].name = "nope";
  shapes[1].shape = kShapeS;
  CHECK_ERROR(lq_compile(qgraph, &options, &program), LQ_NOT_FOUND,
              "input shape given for \"nope\", which is not a model input");
  options.input_shape_count = 1;
  shapes[0].shape = negative;
  CHECK_ERROR(lq_compile(qgraph, &options, &program), LQ_INVALID_ARGUMENT,
              "options->input_shapes[0].shape[1] (input \"x\") is -3");
  shapes[0].shape = wrong;
  CHECK_ERROR(lq_compile(qgraph, &options, &program), LQ_INVALID_ARGUMENT,
              "input \"x\": shape [1,3,4,5] does not fit the declared float32[N,3,4,4]");
  options.input_shapes = NULL;
  CHECK_ERROR(lq_compile(qgraph, &options, &program), LQ_INVALID_ARGUMENT,
              "options->input_shapes is NULL");
  options = batch1_options(&shapes[0]);
  CHECK_ERROR(lq_compile(qgraph, &options, NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  CHECK_ERROR(lq_compile(NULL, &options, &program), LQ_INVALID_ARGUMENT, "qgraph is NULL");
  CHECK(program == NULL);
  lq_quantized_graph_release(qgraph);
}

static void test_program_files(void) {
  lq_program* program = compiled_test_program();
  lq_program* loaded = NULL;
  lq_program* parsed = NULL;
  lq_fixed_simulator* simulator = NULL;
  lq_buffer* bytes = NULL;
  lq_buffer* again = NULL;
  struct sample sample;
  struct fixed_outputs compiled, from_file, from_memory;
  unsigned char* damaged;
  size_t size;
  static const char kGarbage[] = "this is not a program";

  make_sample(&sample, 7);
  CHECK_OK(lq_fixed_simulator_create(program, NULL, &simulator));
  run_fixed(simulator, &sample, &compiled);
  lq_fixed_simulator_release(simulator);
  simulator = NULL;

  /* Save and load. */
  CHECK_OK(lq_program_save(program, work_path("model.lqm")));
  CHECK_OK(lq_program_load(work_path("model.lqm"), &loaded));
  CHECK_OK(lq_fixed_simulator_create(loaded, NULL, &simulator));
  run_fixed(simulator, &sample, &from_file);
  CHECK(same_fixed_outputs(&compiled, &from_file));
  lq_fixed_simulator_release(simulator);
  simulator = NULL;

  /* Serialize and parse; the bytes are those of the file, and stable. */
  CHECK_OK(lq_program_serialize(program, &bytes));
  CHECK(lq_buffer_size(bytes) > 24);
  CHECK_OK(lq_program_parse(lq_buffer_data(bytes), lq_buffer_size(bytes), &parsed));
  CHECK_OK(lq_fixed_simulator_create(parsed, NULL, &simulator));
  run_fixed(simulator, &sample, &from_memory);
  CHECK(same_fixed_outputs(&compiled, &from_memory));
  lq_fixed_simulator_release(simulator);
  CHECK_OK(lq_program_serialize(loaded, &again));
  CHECK(lq_buffer_size(again) == lq_buffer_size(bytes) &&
        memcmp(lq_buffer_data(again), lq_buffer_data(bytes), lq_buffer_size(bytes)) == 0);
  lq_buffer_release(again);
  lq_program_release(parsed);
  parsed = NULL;
  lq_program_release(loaded);
  loaded = NULL;

  /* Damaged bytes: statuses with what is wrong, never a crash or an exception. */
  size = lq_buffer_size(bytes);
  damaged = (unsigned char*)malloc(size);
  CHECK(damaged != NULL);
  if (damaged) {
    memcpy(damaged, lq_buffer_data(bytes), size);
    CHECK_ERROR(lq_program_parse(damaged, size / 2, &parsed), LQ_INVALID_MODEL, "truncated");
    CHECK_ERROR(lq_program_parse(damaged, 10, &parsed), LQ_INVALID_MODEL, "truncated");
    damaged[size - 3] ^= 0x5a;
    CHECK_ERROR(lq_program_parse(damaged, size, &parsed), LQ_INVALID_MODEL, "CRC-32");
    CHECK(write_file(work_path("damaged.lqm"), damaged, size));
    CHECK_ERROR(lq_program_load(work_path("damaged.lqm"), &parsed), LQ_INVALID_MODEL,
                "damaged.lqm: corrupt");
    free(damaged);
  }
  CHECK_ERROR(lq_program_parse(kGarbage, sizeof kGarbage, &parsed), LQ_INVALID_MODEL,
              "not a libquant program (.lqm) file");
  CHECK_ERROR(lq_program_parse(kGarbage, 0, &parsed), LQ_INVALID_MODEL, "it is empty");
  CHECK(write_file(work_path("empty.lqm"), "", 0));
  CHECK_ERROR(lq_program_load(work_path("empty.lqm"), &parsed), LQ_INVALID_MODEL,
              "empty.lqm: not a libquant program (.lqm) file: it is empty");
  CHECK(write_file(work_path("garbage.lqm"), kGarbage, sizeof kGarbage));
  CHECK_ERROR(lq_program_load(work_path("garbage.lqm"), &parsed), LQ_INVALID_MODEL,
              "does not start with the .lqm magic number");
  CHECK_ERROR(lq_program_load(work_path("no-such-program.lqm"), &parsed), LQ_NOT_FOUND,
              "cannot open .lqm file");
  CHECK_ERROR(lq_program_save(program, work_path("no-such-dir/model.lqm")), LQ_IO_ERROR,
              "no-such-dir");
  CHECK_ERROR(lq_program_parse(NULL, 10, &parsed), LQ_INVALID_ARGUMENT, "data is NULL");
  CHECK_ERROR(lq_program_parse(lq_buffer_data(bytes), lq_buffer_size(bytes), NULL),
              LQ_INVALID_ARGUMENT, "out is NULL");
  CHECK_ERROR(lq_program_load(NULL, &parsed), LQ_INVALID_ARGUMENT, "path is NULL");
  CHECK_ERROR(lq_program_load(work_path("model.lqm"), NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  CHECK_ERROR(lq_program_save(program, NULL), LQ_INVALID_ARGUMENT, "path is NULL");
  CHECK_ERROR(lq_program_serialize(program, NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  CHECK(parsed == NULL);
  lq_buffer_release(bytes);
  lq_program_release(program);
}

/* lquant check and estimate from C: the test model's placement (the Shape node on the CPU)
 * and its MACs (Conv 1x1, 3 -> 2 channels, 4x4 pixels: 2 * 3 * 16 = 96). */
static void test_check_and_estimate(void) {
  lq_graph* graph = load_test_graph();
  const char* names[] = {"x"};
  const int64_t* shapes[] = {kShapeX};
  const size_t ranks[] = {4};
  lq_target_query query;
  lq_buffer* json = NULL;
  int64_t npu = -1, cpu = -1, unsupported = -1, macs = 0;
  double latency = 0.0, latency_two_cores = 0.0;

  CHECK_OK(lq_graph_propagate_shapes(graph, names, shapes, ranks, 1));
  CHECK_OK(lq_check_deployment(graph, NULL, &json, &npu, &cpu, &unsupported));
  CHECK(cpu == 1 && unsupported == 0 && npu >= 2);
  CHECK(buffer_contains(json, "\"Shape\""));
  CHECK(buffer_contains(json, "no integer kernel for Shape"));
  lq_buffer_release(json);
  json = NULL;

  lq_target_query_init(&query);
  query.target = "small-npu";
  query.mode = "latency";
  CHECK_OK(lq_estimate(graph, &query, &json, &macs, &latency));
  CHECK(macs == 96);
  CHECK(latency > 0.0);
  CHECK(buffer_contains(json, "\"mode\": \"latency\""));
  CHECK(buffer_contains(json, "\"target\": \"small-npu\""));
  lq_buffer_release(json);
  json = NULL;
  query.cores = 2;
  CHECK_OK(lq_estimate(graph, &query, NULL, &macs, &latency_two_cores));
  CHECK(macs == 96 && latency_two_cores > 0.0 && latency_two_cores <= latency);

  query.balance_factor = -1.0;
  CHECK_ERROR(lq_estimate(graph, &query, NULL, NULL, NULL), LQ_INVALID_ARGUMENT, "balance_factor is -1");
  query.balance_factor = 0.5;
  query.mode = "balance";
  CHECK_OK(lq_estimate(graph, &query, &json, NULL, NULL));
  CHECK(buffer_contains(json, "\"balance_factor\": 0.5"));
  lq_buffer_release(json);
  json = NULL;
  query.target = "npu9";
  CHECK_ERROR(lq_check_deployment(graph, &query, NULL, NULL, NULL, NULL), LQ_INVALID_ARGUMENT,
              "unknown target \"npu9\": expected one of generic, int8, pow2-npu, small-npu");
  query.target = NULL;
  query.mode = "fast";
  CHECK_ERROR(lq_estimate(graph, &query, NULL, NULL, NULL), LQ_INVALID_ARGUMENT, "latency");
  query.mode = NULL;
  query.activation_bits = 7;
  CHECK_ERROR(lq_estimate(graph, &query, NULL, NULL, NULL), LQ_INVALID_ARGUMENT, "activation_bits is 7");
  CHECK_ERROR(lq_check_deployment(NULL, NULL, NULL, NULL, NULL, NULL), LQ_INVALID_ARGUMENT, "graph is NULL");
  lq_graph_release(graph);
}

void test_compiler(void) {
  test_check_and_estimate();
  test_compile();
  test_program_files();
}
