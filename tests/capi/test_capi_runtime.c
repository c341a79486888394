/* The C ABI: The fixed-point simulator. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_capi.h"

/* The codes of `x` with the program input's scale and zero point (ONNX QuantizeLinear). */
static void quantize_input(const float* x, size_t count, float scale, int32_t zero_point,
                           int8_t* codes) {
  size_t i;
  for (i = 0; i < count; ++i) {
    float q = nearbyintf(x[i] / scale) + (float)zero_point; /* ties to even */
    codes[i] = (int8_t)(q < -128.0f ? -128.0f : (q > 127.0f ? 127.0f : q));
  }
}

static void test_fixed_simulator(void) {
  lq_program* program = compiled_test_program();
  lq_fixed_simulator* simulator = NULL;
  lq_fixed_simulator* single = NULL;
  lq_fixed_simulator_options options;
  struct sample sample;
  struct fixed_outputs fixed, again;
  lq_tensor* tensors[2] = {NULL, NULL};
  size_t count = 0;
  int quantized = 0, i, exact = 1, differs = 0;
  float scale = 0.0f;
  int32_t zero_point = 0;
  int8_t x_codes[48], s_codes[2];
  lq_tensor_view coded[2];

  lq_fixed_simulator_options_init(&options);
  options.threads = 2;
  CHECK_OK(lq_fixed_simulator_create(program, &options, &simulator));
  CHECK_OK(lq_fixed_simulator_create(program, NULL, &single));
  CHECK_OK(lq_program_output_quantization(program, 0, &quantized, &scale, &zero_point));
  CHECK(quantized == 1);

  make_sample(&sample, 5);
  run_fixed(simulator, &sample, &fixed);
  /* Dequantized is (q - zero_point) * scale of the raw codes, exactly. */
  for (i = 0; i < 32; ++i) {
    exact &= fixed.y_float[i] == (float)(fixed.y_codes[i] - zero_point) * scale;
    differs |= fixed.y_codes[i] != fixed.y_codes[0];
  }
  CHECK(exact && differs);
  /* Close to float: 8 bits over about [-2, 4], one requantization more than fake quant. */
  CHECK(y_matches(fixed.y_float, sample.x, sample.s, 1, 0.15f));
  CHECK(fixed.y_shape[0] == 1 && fixed.y_shape[1] == 2 && fixed.y_shape[2] == 4 &&
        fixed.y_shape[3] == 4);
  /* Any thread count gives the same outputs. */
  run_fixed(single, &sample, &again);
  CHECK(same_fixed_outputs(&fixed, &again));

  /* Inputs already quantized give what the simulator's own quantization gives. */
  CHECK_OK(lq_program_input_quantization(program, 0, &quantized, &scale, &zero_point));
  quantize_input(sample.x, 48, scale, zero_point, x_codes);
  CHECK_OK(lq_program_input_quantization(program, 1, &quantized, &scale, &zero_point));
  quantize_input(sample.s, 2, scale, zero_point, s_codes);
  coded[0] = make_view("x", LQ_INT8, kShapeX, 4, x_codes, sizeof x_codes);
  coded[1] = make_view("s", LQ_INT8, kShapeS, 4, s_codes, sizeof s_codes);
  CHECK_OK(lq_fixed_simulator_run_to_tensors(simulator, LQ_FIXED_OUTPUT_RAW, coded, 2, tensors, 2,
                                             &count));
  CHECK(count == 2 && strcmp(lq_tensor_name(tensors[0]), "y") == 0);
  CHECK(lq_tensor_dtype(tensors[0]) == LQ_INT8 && lq_tensor_byte_size(tensors[0]) == 32);
  CHECK(lq_tensor_data(tensors[0]) &&
        memcmp(lq_tensor_data(tensors[0]), fixed.y_codes, sizeof fixed.y_codes) == 0);
  CHECK(strcmp(lq_tensor_name(tensors[1]), "y_shape") == 0);
  CHECK(lq_tensor_dtype(tensors[1]) == LQ_INT64);
  lq_tensor_release(tensors[0]);
  lq_tensor_release(tensors[1]);
  CHECK_OK(lq_fixed_simulator_run_to_tensors(simulator, LQ_FIXED_OUTPUT_DEQUANTIZED, sample.views,
                                             2, tensors, 2, &count));
  CHECK(lq_tensor_dtype(tensors[0]) == LQ_FLOAT32 && lq_tensor_byte_size(tensors[0]) == 128);
  CHECK(lq_tensor_data(tensors[0]) &&
        memcmp(lq_tensor_data(tensors[0]), fixed.y_float, sizeof fixed.y_float) == 0);
  CHECK(lq_tensor_data(tensors[1]) &&
        memcmp(lq_tensor_data(tensors[1]), fixed.y_shape, sizeof fixed.y_shape) == 0);
  lq_tensor_release(tensors[0]);
  lq_tensor_release(tensors[1]);
  tensors[0] = tensors[1] = NULL;

  /* The simulator keeps the program. */
  lq_program_release(program);
  run_fixed(simulator, &sample, &again);
  CHECK(same_fixed_outputs(&fixed, &again));
  lq_fixed_simulator_release(single);
  lq_fixed_simulator_release(simulator);
}

static void test_fixed_simulator_misuse(void) {
  lq_program* program = compiled_test_program();
  lq_fixed_simulator* simulator = NULL;
  lq_fixed_simulator_options options;
  struct sample sample;
  lq_tensor_view inputs[3];
  lq_output_view output;
  lq_tensor* tensors[2] = {NULL, NULL};
  size_t count = 9;
  int8_t y_codes[32], y_small[8];
  float y[32];
  int64_t y_dims[4];
  int32_t as_int[48];
  const int64_t batch2[] = {2, 3, 4, 4};
  float x2[96];

  lq_fixed_simulator_options_init(&options);
  options.struct_size = 4;
  CHECK_ERROR(lq_fixed_simulator_create(program, &options, &simulator), LQ_INVALID_ARGUMENT,
              "options->struct_size is 4, smaller than the first version of "
              "lq_fixed_simulator_options");
  options.struct_size = sizeof options + 8;
  CHECK_ERROR(lq_fixed_simulator_create(program, &options, &simulator), LQ_INVALID_ARGUMENT,
              "larger than this library's lq_fixed_simulator_options");
  lq_fixed_simulator_options_init(&options);
  options.threads = -2;
  CHECK_ERROR(lq_fixed_simulator_create(program, &options, &simulator), LQ_INVALID_ARGUMENT,
              "options->threads is -2");
  CHECK_ERROR(lq_fixed_simulator_create(program, NULL, NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  CHECK(simulator == NULL);
  options.threads = 0; /* means 1 */
  CHECK_OK(lq_fixed_simulator_create(program, &options, &simulator));

  make_sample(&sample, 3);
  output = make_output("y", y_codes, sizeof y_codes, y_dims, 4);
#define RUN_WITH(views, count) \
  lq_fixed_simulator_run(simulator, LQ_FIXED_OUTPUT_RAW, (views), (count), &output, 1)
  CHECK_ERROR(lq_fixed_simulator_run(simulator, (lq_fixed_output)7, sample.views, 2, &output, 1),
              LQ_INVALID_ARGUMENT,
              "output_kind is 7; use LQ_FIXED_OUTPUT_RAW or LQ_FIXED_OUTPUT_DEQUANTIZED");
  CHECK_ERROR(RUN_WITH(NULL, 2), LQ_INVALID_ARGUMENT, "inputs is NULL");
  inputs[0] = sample.views[0];
  inputs[1] = sample.views[1];
  inputs[0].byte_size = 10;
  CHECK_ERROR(RUN_WITH(inputs, 2), LQ_INVALID_ARGUMENT,
              "inputs[0] (\"x\"): byte_size is 10, but float32[1,3,4,4] holds 192 bytes");
  inputs[0] = make_view("x", LQ_INT32, kShapeX, 4, as_int, sizeof as_int);
  CHECK_ERROR(RUN_WITH(inputs, 2), LQ_INVALID_ARGUMENT,
              "input \"x\" has dtype int32, expected int8 or float32");
  fill_input(x2, 96, 1);
  inputs[0] = make_view("x", LQ_FLOAT32, batch2, 4, x2, sizeof x2);
  CHECK_ERROR(RUN_WITH(inputs, 2), LQ_INVALID_ARGUMENT,
              "input \"x\" has shape [2,3,4,4], the program was compiled for [1,3,4,4]");
  inputs[0] = sample.views[0];
  CHECK_ERROR(RUN_WITH(inputs, 1), LQ_INVALID_ARGUMENT,
              "program input \"s\" (int8[1,2,1,1]) was not given");
  inputs[2] = sample.views[1];
  inputs[2].name = "t";
  CHECK_ERROR(RUN_WITH(inputs, 3), LQ_INVALID_ARGUMENT, "\"t\" is not an input of the program");
  inputs[2].name = "s";
  CHECK_ERROR(RUN_WITH(inputs, 3), LQ_INVALID_ARGUMENT, "inputs[2]: input \"s\" is given twice");
#undef RUN_WITH

  /* Output views: raw y needs 32 bytes, dequantized 128. */
  output = make_output("z", y_codes, sizeof y_codes, y_dims, 4);
  CHECK_ERROR(
      lq_fixed_simulator_run(simulator, LQ_FIXED_OUTPUT_RAW, sample.views, 2, &output, 1),
      LQ_INVALID_ARGUMENT,
      "outputs[0].name \"z\" is not an output of the program; its outputs are \"y\", \"y_shape\"");
  output = make_output("y", y_small, sizeof y_small, y_dims, 4);
  CHECK_ERROR(lq_fixed_simulator_run(simulator, LQ_FIXED_OUTPUT_RAW, sample.views, 2, &output, 1),
              LQ_INVALID_ARGUMENT,
              "outputs[0] (\"y\"): the output int8[1,2,4,4] needs 32 bytes but "
              "byte_size is 8");
  CHECK(output.bytes_needed == 32 && output.dtype == LQ_INT8 && output.rank == 4);
  output = make_output("y", y_codes, sizeof y_codes, y_dims, 4);
  CHECK_ERROR(
      lq_fixed_simulator_run(simulator, LQ_FIXED_OUTPUT_DEQUANTIZED, sample.views, 2, &output, 1),
      LQ_INVALID_ARGUMENT, "the output float32[1,2,4,4] needs 128 bytes but byte_size is 32");
  CHECK(output.bytes_needed == 128 && output.dtype == LQ_FLOAT32);
  output = make_output("y", y, sizeof y, y_dims, 2);
  CHECK_ERROR(
      lq_fixed_simulator_run(simulator, LQ_FIXED_OUTPUT_DEQUANTIZED, sample.views, 2, &output, 1),
      LQ_INVALID_ARGUMENT, "has rank 4 but shape_capacity is 2");
  output = make_output("y", y, sizeof y, y_dims, 4);
  output.struct_size = 2;
  CHECK_ERROR(lq_fixed_simulator_run(simulator, LQ_FIXED_OUTPUT_RAW, sample.views, 2, &output, 1),
              LQ_INVALID_ARGUMENT, "outputs[0].struct_size is 2");
  CHECK_ERROR(lq_fixed_simulator_run(simulator, LQ_FIXED_OUTPUT_RAW, sample.views, 2, NULL, 1),
              LQ_INVALID_ARGUMENT, "outputs is NULL");
  CHECK_OK(lq_fixed_simulator_run(simulator, LQ_FIXED_OUTPUT_RAW, sample.views, 2, NULL, 0));

  /* run_to_tensors. */
  CHECK_ERROR(lq_fixed_simulator_run_to_tensors(simulator, LQ_FIXED_OUTPUT_RAW, sample.views, 2,
                                                tensors, 1, &count),
              LQ_INVALID_ARGUMENT, "output_capacity is 1 but the program has 2 outputs");
  CHECK(count == 2 && tensors[0] == NULL);
  CHECK_ERROR(lq_fixed_simulator_run_to_tensors(simulator, LQ_FIXED_OUTPUT_RAW, sample.views, 2,
                                                NULL, 2, &count),
              LQ_INVALID_ARGUMENT, "outputs is NULL");
  CHECK_ERROR(lq_fixed_simulator_run_to_tensors(simulator, LQ_FIXED_OUTPUT_RAW, sample.views, 2,
                                                tensors, 2, NULL),
              LQ_INVALID_ARGUMENT, "output_count is NULL");
  CHECK_ERROR(lq_fixed_simulator_run_to_tensors(simulator, (lq_fixed_output)-1, sample.views, 2,
                                                tensors, 2, &count),
              LQ_INVALID_ARGUMENT, "output_kind is -1");
  CHECK_ERROR(lq_fixed_simulator_run_to_tensors(simulator, LQ_FIXED_OUTPUT_RAW, sample.views, 1,
                                                tensors, 2, &count),
              LQ_INVALID_ARGUMENT, "program input \"s\"");
  CHECK(tensors[0] == NULL && tensors[1] == NULL);
  lq_fixed_simulator_release(simulator);
  lq_program_release(program);
}

/* What an observer heard: the tensors by name, and y's codes and real values. */
struct observed {
  int calls;
  int quantized;
  char names[256];
  int8_t y_codes[32];
  float y_real[32];
};

static void record_tensor(const lq_tensor* codes, const lq_tensor* real, void* user_data) {
  struct observed* seen = (struct observed*)user_data;
  const size_t used = strlen(seen->names);
  ++seen->calls;
  seen->quantized += real != NULL;
  snprintf(seen->names + used, sizeof seen->names - used, "%s,", lq_tensor_name(codes));
  if (strcmp(lq_tensor_name(codes), "y") == 0 && real &&
      lq_tensor_byte_size(codes) == sizeof seen->y_codes &&
      lq_tensor_byte_size(real) == sizeof seen->y_real) {
    memcpy(seen->y_codes, lq_tensor_data(codes), sizeof seen->y_codes);
    memcpy(seen->y_real, lq_tensor_data(real), sizeof seen->y_real);
  }
}

/* Every tensor the program computes, as `lquant run --dump-layers` writes them. */
static void test_fixed_simulator_observed(void) {
  lq_program* program = compiled_test_program();
  lq_fixed_simulator* simulator = NULL;
  lq_tensor* tensors[2] = {NULL, NULL};
  struct sample sample;
  struct fixed_outputs expected;
  struct observed seen;
  size_t count = 0;
  memset(&seen, 0, sizeof seen);
  make_sample(&sample, 4);
  CHECK_OK(lq_fixed_simulator_create(program, NULL, &simulator));
  run_fixed(simulator, &sample, &expected);

  CHECK_OK(lq_fixed_simulator_run_observed(simulator, LQ_FIXED_OUTPUT_RAW, sample.views, 2,
                                           record_tensor, &seen, tensors, 2, &count));
  CHECK(count == 2 && tensors[0] != NULL && tensors[1] != NULL);
  CHECK(lq_tensor_dtype(tensors[0]) == LQ_INT8 &&
        memcmp(lq_tensor_data(tensors[0]), expected.y_codes, sizeof expected.y_codes) == 0);
  /* The program's instructions write y (Conv, Relu and Add fused or not) and y_shape. */
  CHECK(seen.calls >= 2 && seen.quantized >= 1);
  CHECK(strstr(seen.names, "y,") != NULL && strstr(seen.names, "y_shape,") != NULL);
  CHECK(memcmp(seen.y_codes, expected.y_codes, sizeof seen.y_codes) == 0);
  CHECK(memcmp(seen.y_real, expected.y_float, sizeof seen.y_real) == 0);
  lq_tensor_release(tensors[0]);
  lq_tensor_release(tensors[1]);

  /* No observer: a plain run; too little room: the run does not start, nothing is heard. */
  CHECK_OK(lq_fixed_simulator_run_observed(simulator, LQ_FIXED_OUTPUT_DEQUANTIZED, sample.views, 2,
                                           NULL, NULL, tensors, 2, &count));
  CHECK(lq_tensor_dtype(tensors[0]) == LQ_FLOAT32 &&
        memcmp(lq_tensor_data(tensors[0]), expected.y_float, sizeof expected.y_float) == 0);
  lq_tensor_release(tensors[0]);
  lq_tensor_release(tensors[1]);
  seen.calls = 0;
  CHECK_ERROR(lq_fixed_simulator_run_observed(simulator, LQ_FIXED_OUTPUT_RAW, sample.views, 2,
                                              record_tensor, &seen, tensors, 1, &count),
              LQ_INVALID_ARGUMENT, "output_capacity is 1 but the program has 2 outputs");
  CHECK(seen.calls == 0 && count == 2 && tensors[0] == NULL);
  CHECK_ERROR(lq_fixed_simulator_run_observed(NULL, LQ_FIXED_OUTPUT_RAW, sample.views, 2,
                                              record_tensor, &seen, tensors, 2, &count),
              LQ_INVALID_ARGUMENT, "lq_fixed_simulator_run_observed: simulator is NULL");
  CHECK_ERROR(lq_fixed_simulator_run_observed(simulator, (lq_fixed_output)7, sample.views, 2,
                                              record_tensor, &seen, tensors, 2, &count),
              LQ_INVALID_ARGUMENT, "output_kind is 7");
  CHECK(seen.calls == 0);
  lq_fixed_simulator_release(simulator);
  lq_program_release(program);
}

void test_runtime(void) {
  test_fixed_simulator();
  test_fixed_simulator_misuse();
  test_fixed_simulator_observed();
}
