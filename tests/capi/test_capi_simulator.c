/* The C ABI: The float simulator. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_capi.h"

static void test_simulator_run(void) {
  lq_graph* graph = load_test_graph();
  lq_simulator* simulator = NULL;
  lq_simulator_options options;
  struct sample sample;
  float y[32];
  int64_t y_dims[4] = {0, 0, 0, 0}, shape_value[4] = {0, 0, 0, 0}, shape_dims[1] = {0};
  lq_output_view outputs[2];

  lq_simulator_options_init(&options);
  options.threads = 2;
  CHECK_OK(lq_simulator_create(graph, &options, &simulator));
  /* The simulator keeps the graph it was built on. */
  lq_graph_release(graph);

  make_sample(&sample, 1);
  outputs[0] = make_output("y_shape", shape_value, sizeof shape_value, shape_dims, 1);
  outputs[1] = make_output("y", y, sizeof y, y_dims, 4);
  CHECK_OK(lq_simulator_run(simulator, sample.views, 2, outputs, 2));
  CHECK(outputs[1].dtype == LQ_FLOAT32 && outputs[1].rank == 4 && outputs[1].bytes_needed == 128);
  CHECK(y_dims[0] == 1 && y_dims[1] == 2 && y_dims[2] == 4 && y_dims[3] == 4);
  CHECK(y_matches(y, sample.x, sample.s, 1, 1e-6f));
  CHECK(outputs[0].dtype == LQ_INT64 && outputs[0].rank == 1 && outputs[0].bytes_needed == 32);
  CHECK(shape_dims[0] == 4);
  CHECK(shape_value[0] == 1 && shape_value[1] == 2 && shape_value[2] == 4 && shape_value[3] == 4);
  lq_simulator_release(simulator);
}

static void test_simulator_batch_and_tensors(void) {
  lq_graph* graph = load_test_graph();
  lq_simulator* simulator = NULL;
  float x[96], s[2] = {0.5f, -0.5f};
  const int64_t shape_x2[] = {2, 3, 4, 4};
  lq_tensor_view inputs[2];
  lq_tensor* outputs[3] = {NULL, NULL, NULL};
  lq_tensor* too_few[1] = {NULL};
  size_t count = 0;
  const int64_t* shape;
  const int64_t* shape_value;

  CHECK_OK(lq_simulator_create(graph, NULL, &simulator));
  fill_input(x, 96, 3);
  inputs[0] = make_view("s", LQ_FLOAT32, kShapeS, 4, s, sizeof s); /* any order */
  inputs[1] = make_view("x", LQ_FLOAT32, shape_x2, 4, x, sizeof x);
  CHECK_OK(lq_simulator_run_to_tensors(simulator, inputs, 2, outputs, 3, &count));
  CHECK(count == 2 && outputs[2] == NULL);
  CHECK(strcmp(lq_tensor_name(outputs[0]), "y") == 0);
  CHECK(lq_tensor_dtype(outputs[0]) == LQ_FLOAT32);
  CHECK(lq_tensor_rank(outputs[0]) == 4);
  shape = lq_tensor_shape(outputs[0]);
  CHECK(shape && shape[0] == 2 && shape[1] == 2 && shape[2] == 4 && shape[3] == 4);
  CHECK(lq_tensor_byte_size(outputs[0]) == 256);
  CHECK(y_matches((const float*)lq_tensor_data(outputs[0]), x, s, 2, 1e-6f));
  CHECK(strcmp(lq_tensor_name(outputs[1]), "y_shape") == 0);
  CHECK(lq_tensor_dtype(outputs[1]) == LQ_INT64 && lq_tensor_rank(outputs[1]) == 1);
  shape_value = (const int64_t*)lq_tensor_data(outputs[1]);
  CHECK(shape_value && shape_value[0] == 2 && shape_value[3] == 4);
  CHECK(lq_tensor_byte_size(outputs[1]) == 32);
  lq_tensor_release(outputs[0]);
  lq_tensor_release(outputs[1]);

  CHECK_ERROR(lq_simulator_run_to_tensors(simulator, inputs, 2, too_few, 1, &count),
              LQ_INVALID_ARGUMENT, "output_capacity is 1 but the model has 2 outputs");
  CHECK(count == 2 && too_few[0] == NULL);
  CHECK_ERROR(lq_simulator_run_to_tensors(simulator, inputs, 2, NULL, 2, &count),
              LQ_INVALID_ARGUMENT, "outputs is NULL");
  CHECK_ERROR(lq_simulator_run_to_tensors(simulator, inputs, 2, outputs, 2, NULL),
              LQ_INVALID_ARGUMENT, "output_count is NULL");
  CHECK_ERROR(lq_simulator_run_to_tensors(simulator, inputs, 1, outputs, 2, &count),
              LQ_INVALID_ARGUMENT, "input \"x\"");
  CHECK(outputs[0] == NULL && outputs[1] == NULL);
  lq_simulator_release(simulator);
  lq_graph_release(graph);
}

static void test_simulator_misuse(void) {
  lq_graph* graph = load_test_graph();
  lq_simulator* simulator = NULL;
  lq_simulator_options options;
  struct sample sample;
  lq_tensor_view inputs[3];
  float y[32], y_small[8];
  int64_t y_dims[4];
  lq_output_view output;
  const int64_t wrong_shape[] = {1, 3, 4, 5};
  const int64_t negative_shape[] = {1, -3, 4, 4};
  int32_t as_int[48];

  lq_simulator_options_init(&options);
  options.struct_size = sizeof(size_t);
  CHECK_ERROR(lq_simulator_create(graph, &options, &simulator), LQ_INVALID_ARGUMENT,
              "options->struct_size is 8, smaller than the first version of lq_simulator_options");
  options.struct_size = sizeof options + 8;
  CHECK_ERROR(lq_simulator_create(graph, &options, &simulator), LQ_INVALID_ARGUMENT,
              "larger than this library's lq_simulator_options");
  lq_simulator_options_init(&options);
  options.threads = -1;
  CHECK_ERROR(lq_simulator_create(graph, &options, &simulator), LQ_INVALID_ARGUMENT,
              "options->threads is -1");
  CHECK(simulator == NULL);
  lq_simulator_options_init(&options);
  options.reference_only = 1;
  CHECK_OK(lq_simulator_create(graph, &options, &simulator));

  make_sample(&sample, 2);
  output = make_output("y", y, sizeof y, y_dims, 4);
#define RUN_WITH(views, count) lq_simulator_run(simulator, (views), (count), &output, 1)
  CHECK_ERROR(RUN_WITH(NULL, 2), LQ_INVALID_ARGUMENT, "inputs is NULL");

  /* Views' own fields. */
  inputs[0] = sample.views[0];
  inputs[1] = sample.views[1];
  inputs[0].struct_size = 4;
  CHECK_ERROR(RUN_WITH(inputs, 2), LQ_INVALID_ARGUMENT,
              "inputs[0].struct_size is 4, smaller than the first version of lq_tensor_view");
  inputs[0] = sample.views[0];
  inputs[1].struct_size = sizeof(lq_tensor_view) - 8;
  CHECK_ERROR(RUN_WITH(inputs, 2), LQ_INVALID_ARGUMENT,
              "every element of an array has the same size");
  inputs[1] = sample.views[1];
  inputs[0].name = NULL;
  CHECK_ERROR(RUN_WITH(inputs, 2), LQ_INVALID_ARGUMENT, "inputs[0].name is NULL");
  inputs[0] = sample.views[0];
  inputs[0].dtype = (lq_dtype)42;
  CHECK_ERROR(RUN_WITH(inputs, 2), LQ_INVALID_ARGUMENT,
              "inputs[0].dtype is 42, which is no lq_dtype");
  inputs[0] = sample.views[0];
  inputs[0].byte_size = 100;
  CHECK_ERROR(RUN_WITH(inputs, 2), LQ_INVALID_ARGUMENT,
              "inputs[0] (\"x\"): byte_size is 100, but float32[1,3,4,4] holds 192 bytes");
  inputs[0] = sample.views[0];
  inputs[0].shape = negative_shape;
  CHECK_ERROR(RUN_WITH(inputs, 2), LQ_INVALID_ARGUMENT, "inputs[0].shape[1] is -3");
  inputs[0] = sample.views[0];
  inputs[0].shape = NULL;
  CHECK_ERROR(RUN_WITH(inputs, 2), LQ_INVALID_ARGUMENT, "inputs[0].shape is NULL");
  inputs[0] = sample.views[0];
  inputs[0].data = NULL;
  CHECK_ERROR(RUN_WITH(inputs, 2), LQ_INVALID_ARGUMENT, "inputs[0].data is NULL");

  /* Views against the model. */
  inputs[0] = make_view("x", LQ_INT32, kShapeX, 4, as_int, sizeof as_int);
  CHECK_ERROR(RUN_WITH(inputs, 2), LQ_INVALID_ARGUMENT,
              "input \"x\": got dtype int32, the model expects float32");
  inputs[0] = make_view("x", LQ_FLOAT32, wrong_shape, 4, sample.x, 4 * 60);
  CHECK_ERROR(RUN_WITH(inputs, 2), LQ_INVALID_ARGUMENT, "input \"x\": got shape [1,3,4,5]");
  inputs[0] = sample.views[0];
  CHECK_ERROR(RUN_WITH(inputs, 1), LQ_INVALID_ARGUMENT,
              "input \"s\" (float32[1,2,1,1]) was not given");
  inputs[2] = sample.views[1];
  inputs[2].name = "t";
  CHECK_ERROR(RUN_WITH(inputs, 3), LQ_INVALID_ARGUMENT, "\"t\" is not an input of the model");
  inputs[2].name = "s";
  CHECK_ERROR(RUN_WITH(inputs, 3), LQ_INVALID_ARGUMENT, "inputs[2]: input \"s\" is given twice");
#undef RUN_WITH

  /* Output views. */
  output = make_output("z", y, sizeof y, y_dims, 4);
  CHECK_ERROR(
      lq_simulator_run(simulator, sample.views, 2, &output, 1), LQ_INVALID_ARGUMENT,
      "outputs[0].name \"z\" is not an output of the model; its outputs are \"y\", \"y_shape\"");
  output = make_output("y", y_small, sizeof y_small, y_dims, 4);
  CHECK_ERROR(
      lq_simulator_run(simulator, sample.views, 2, &output, 1), LQ_INVALID_ARGUMENT,
      "outputs[0] (\"y\"): the output float32[1,2,4,4] needs 128 bytes but byte_size is 32");
  CHECK(output.bytes_needed == 128 && output.rank == 4 && output.dtype == LQ_FLOAT32);
  output = make_output("y", y, sizeof y, y_dims, 2);
  CHECK_ERROR(lq_simulator_run(simulator, sample.views, 2, &output, 1), LQ_INVALID_ARGUMENT,
              "has rank 4 but shape_capacity is 2");
  output = make_output("y", NULL, sizeof y, y_dims, 4);
  CHECK_ERROR(lq_simulator_run(simulator, sample.views, 2, &output, 1), LQ_INVALID_ARGUMENT,
              "outputs[0].data is NULL");
  output = make_output("y", y, sizeof y, NULL, 4);
  CHECK_ERROR(lq_simulator_run(simulator, sample.views, 2, &output, 1), LQ_INVALID_ARGUMENT,
              "outputs[0].shape is NULL");
  output = make_output(NULL, y, sizeof y, y_dims, 4);
  CHECK_ERROR(lq_simulator_run(simulator, sample.views, 2, &output, 1), LQ_INVALID_ARGUMENT,
              "outputs[0].name is NULL");
  output = make_output("y", y, sizeof y, y_dims, 4);
  output.struct_size = 1;
  CHECK_ERROR(lq_simulator_run(simulator, sample.views, 2, &output, 1), LQ_INVALID_ARGUMENT,
              "outputs[0].struct_size is 1");
  CHECK_ERROR(lq_simulator_run(simulator, sample.views, 2, NULL, 1), LQ_INVALID_ARGUMENT,
              "outputs is NULL");
  /* No output asked for is a valid (if useless) run. */
  CHECK_OK(lq_simulator_run(simulator, sample.views, 2, NULL, 0));
  lq_simulator_release(simulator);
  lq_graph_release(graph);
}

void test_simulator(void) {
  test_simulator_run();
  test_simulator_batch_and_tensors();
  test_simulator_misuse();
}
