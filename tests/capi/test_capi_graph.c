/* The C ABI: Graphs: queries, load and save, optimize and shapes. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_capi.h"

static void test_graph_queries(void) {
  lq_graph* graph = load_test_graph();
  size_t count = 0, rank = 0;
  const char* name = NULL;
  lq_dtype dtype = LQ_DTYPE_UNDEFINED;
  int64_t dims[4] = {0, 0, 0, 0};

  CHECK_OK(lq_graph_input_count(graph, &count));
  CHECK(count == 2);
  CHECK_OK(lq_graph_input_name(graph, 0, &name));
  CHECK(name && strcmp(name, "x") == 0);
  CHECK_OK(lq_graph_input_name(graph, 1, &name));
  CHECK(name && strcmp(name, "s") == 0);
  CHECK_OK(lq_graph_input_dtype(graph, 0, &dtype));
  CHECK(dtype == LQ_FLOAT32);
  CHECK_OK(lq_graph_input_shape(graph, 0, NULL, 0, &rank));
  CHECK(rank == 4);
  CHECK_OK(lq_graph_input_shape(graph, 0, dims, 4, &rank));
  CHECK(dims[0] == -1 && dims[1] == 3 && dims[2] == 4 && dims[3] == 4);
  CHECK_OK(lq_graph_input_shape(graph, 1, dims, 4, &rank));
  CHECK(rank == 4 && dims[0] == 1 && dims[1] == 2 && dims[2] == 1 && dims[3] == 1);

  CHECK_OK(lq_graph_output_count(graph, &count));
  CHECK(count == 2);
  CHECK_OK(lq_graph_output_name(graph, 0, &name));
  CHECK(name && strcmp(name, "y") == 0);
  CHECK_OK(lq_graph_output_name(graph, 1, &name));
  CHECK(name && strcmp(name, "y_shape") == 0);
  CHECK_OK(lq_graph_output_dtype(graph, 0, &dtype));
  CHECK(dtype == LQ_FLOAT32);
  CHECK_OK(lq_graph_output_dtype(graph, 1, &dtype));
  CHECK(dtype == LQ_INT64);
  CHECK_OK(lq_graph_output_shape(graph, 0, dims, 4, &rank));
  CHECK(rank == 4 && dims[0] == -1 && dims[1] == 2 && dims[2] == 4 && dims[3] == 4);
  CHECK_OK(lq_graph_output_shape(graph, 1, dims, 4, &rank));
  CHECK(rank == 1 && dims[0] == 4);

  /* Misuse: indexes, capacities and NULL outputs. */
  CHECK_ERROR(lq_graph_input_name(graph, 2, &name), LQ_INVALID_ARGUMENT,
              "index 2 is out of range: the model has 2 inputs");
  CHECK(name == NULL);
  CHECK_ERROR(lq_graph_output_dtype(graph, 5, &dtype), LQ_INVALID_ARGUMENT,
              "index 5 is out of range: the model has 2 outputs");
  CHECK(dtype == LQ_DTYPE_UNDEFINED);
  CHECK_ERROR(lq_graph_input_shape(graph, 0, dims, 3, &rank), LQ_INVALID_ARGUMENT,
              "\"x\" has rank 4 but capacity is 3");
  CHECK_ERROR(lq_graph_output_shape(graph, 0, NULL, 4, &rank), LQ_INVALID_ARGUMENT, "dims is NULL");
  CHECK_ERROR(lq_graph_input_shape(graph, 0, dims, 4, NULL), LQ_INVALID_ARGUMENT, "rank is NULL");
  CHECK_ERROR(lq_graph_input_count(graph, NULL), LQ_INVALID_ARGUMENT, "count is NULL");
  CHECK_ERROR(lq_graph_output_count(graph, NULL), LQ_INVALID_ARGUMENT, "count is NULL");
  CHECK_ERROR(lq_graph_output_name(graph, 0, NULL), LQ_INVALID_ARGUMENT, "name is NULL");
  CHECK_ERROR(lq_graph_input_dtype(graph, 0, NULL), LQ_INVALID_ARGUMENT, "dtype is NULL");
  lq_graph_release(graph);
}

static void test_graph_load_save(void) {
  lq_graph* graph = load_test_graph();
  lq_graph* again = NULL;
  lq_buffer* bytes = NULL;
  size_t count = 0;
  static const char kGarbage[] = "this is not an ONNX model";

  CHECK_OK(lq_graph_serialize(graph, &bytes));
  CHECK(lq_buffer_size(bytes) > 100 && lq_buffer_data(bytes) != NULL);
  CHECK_OK(lq_graph_load_from_memory(lq_buffer_data(bytes), lq_buffer_size(bytes), &again));
  CHECK_OK(lq_graph_output_count(again, &count));
  CHECK(count == 2);
  lq_graph_release(again);
  again = NULL;
  lq_buffer_release(bytes);

  CHECK_OK(lq_graph_save(graph, work_path("model.onnx")));
  CHECK_OK(lq_graph_load(work_path("model.onnx"), &again));
  CHECK_OK(lq_graph_input_count(again, &count));
  CHECK(count == 2);
  lq_graph_release(again);
  again = NULL;

  CHECK_ERROR(lq_graph_load(work_path("no-such-model.onnx"), &again), LQ_NOT_FOUND,
              "no-such-model.onnx");
  CHECK_ERROR(lq_graph_save(graph, work_path("no-such-dir/model.onnx")), LQ_IO_ERROR,
              "no-such-dir");
  CHECK_ERROR(lq_graph_load_from_memory(kGarbage, sizeof kGarbage, &again), LQ_INVALID_MODEL, NULL);
  CHECK_ERROR(lq_graph_load_from_memory(kTestModel, kTestModelSize / 2, &again),
              LQ_INVALID_MODEL, NULL);
  CHECK_ERROR(lq_graph_load_from_memory(NULL, 10, &again), LQ_INVALID_ARGUMENT, "data is NULL");
  CHECK(again == NULL);
  lq_graph_release(graph);
}

static void test_graph_optimize_and_shapes(void) {
  lq_graph* graph = load_test_graph();
  lq_buffer* before = NULL;
  lq_buffer* after = NULL;
  int64_t dims[4] = {0, 0, 0, 0};
  size_t rank = 0;
  const char* names[] = {"x"};
  const int64_t batch2[] = {2, 3, 4, 4};
  const int64_t bad[] = {2, -3, 4, 4};
  const int64_t* shapes[] = {batch2};
  const int64_t* bad_shapes[] = {bad};
  const size_t ranks[] = {4};
  const char* twice_names[] = {"x", "x"};
  const int64_t* twice_shapes[] = {batch2, batch2};
  const size_t twice_ranks[] = {4, 4};
  const char* unknown[] = {"nope"};
  const int64_t huge[] = {(int64_t)1 << 40, 3, 4, 4}; /* 200 TB of zeros to run on */
  const int64_t* huge_shapes[] = {huge};

  CHECK_OK(lq_graph_serialize(graph, &before));
  CHECK_OK(lq_graph_optimize(graph));
  CHECK_OK(lq_graph_serialize(graph, &after));
  /* The Identity node is gone. */
  CHECK(lq_buffer_size(after) < lq_buffer_size(before));
  CHECK(buffer_contains(before, "Identity"));
  CHECK(!buffer_contains(after, "Identity"));
  lq_buffer_release(before);
  lq_buffer_release(after);

  /* Refused before allocating, naming the input, the size and the limit. */
  CHECK_ERROR(lq_graph_propagate_shapes(graph, names, huge_shapes, ranks, 1), LQ_OUT_OF_MEMORY,
              "model input \"x\": a float32 tensor of shape [1099511627776,3,4,4] needs "
              "211106232532992 bytes, more than the limit of 8589934592 bytes");
  {
    /* The process-wide limits, set and read back; the shape that fits by default no more. */
    lq_resource_limits limits;
    lq_resource_limits small;
    lq_resource_limits old_size;
    lq_resource_limits_init(&limits);
    CHECK_OK(lq_get_resource_limits(&limits));
    CHECK(limits.max_tensor_bytes == (int64_t)8 << 30);
    CHECK(limits.max_model_bytes == (int64_t)16 << 30);
    lq_resource_limits_init(&small);
    small.max_tensor_bytes = 700; /* [2,3,4,4] floats are 384 bytes, the output too */
    small.max_model_bytes = 1 << 20;
    CHECK_OK(lq_set_resource_limits(&small));
    CHECK_OK(lq_get_resource_limits(&limits));
    CHECK(limits.max_tensor_bytes == 700 && limits.max_model_bytes == 1 << 20);
    {
      const int64_t batch4[] = {4, 3, 4, 4};
      const int64_t* batch4_shapes[] = {batch4};
      CHECK_ERROR(lq_graph_propagate_shapes(graph, names, batch4_shapes, ranks, 1),
                  LQ_OUT_OF_MEMORY, "needs 768 bytes, more than the limit of 700 bytes");
    }
    small.max_tensor_bytes = 0;
    CHECK_ERROR(lq_set_resource_limits(&small), LQ_INVALID_ARGUMENT, "must be > 0 bytes");
    CHECK_ERROR(lq_set_resource_limits(NULL), LQ_INVALID_ARGUMENT, "limits is NULL");
    old_size = small;
    old_size.struct_size = sizeof(size_t);
    CHECK_ERROR(lq_set_resource_limits(&old_size), LQ_INVALID_ARGUMENT, "limits->struct_size");
    CHECK_ERROR(lq_get_resource_limits(&old_size), LQ_INVALID_ARGUMENT, "limits->struct_size");
    lq_resource_limits_init(&limits);
    CHECK_OK(lq_set_resource_limits(&limits)); /* the defaults again */
  }
  CHECK_OK(lq_graph_propagate_shapes(graph, names, shapes, ranks, 1));
  CHECK_OK(lq_graph_output_shape(graph, 0, dims, 4, &rank));
  CHECK(rank == 4 && dims[0] == 2 && dims[1] == 2 && dims[2] == 4 && dims[3] == 4);
  CHECK_OK(lq_graph_input_shape(graph, 0, dims, 4, &rank));
  CHECK(dims[0] == 2);

  CHECK_ERROR(lq_graph_propagate_shapes(graph, names, bad_shapes, ranks, 1), LQ_INVALID_ARGUMENT,
              "shapes[0][1] (input \"x\") is -3");
  CHECK_ERROR(lq_graph_propagate_shapes(graph, twice_names, twice_shapes, twice_ranks, 2),
              LQ_INVALID_ARGUMENT, "given twice");
  CHECK_ERROR(lq_graph_propagate_shapes(graph, unknown, shapes, ranks, 1), LQ_INVALID_ARGUMENT,
              "nope");
  CHECK_ERROR(lq_graph_propagate_shapes(graph, NULL, shapes, ranks, 1), LQ_INVALID_ARGUMENT,
              "input_names is NULL");
  CHECK_ERROR(lq_graph_propagate_shapes(graph, names, NULL, ranks, 1), LQ_INVALID_ARGUMENT,
              "shapes is NULL");
  CHECK_ERROR(lq_graph_propagate_shapes(graph, names, shapes, NULL, 1), LQ_INVALID_ARGUMENT,
              "ranks is NULL");
  CHECK_ERROR(lq_graph_propagate_shapes(NULL, names, shapes, ranks, 1), LQ_INVALID_ARGUMENT,
              "graph is NULL");
  /* A failed change leaves the graph as it was. */
  CHECK_OK(lq_graph_output_shape(graph, 0, dims, 4, &rank));
  CHECK(dims[0] == 2);
  lq_graph_release(graph);
}

void test_graph(void) {
  test_graph_queries();
  test_graph_load_save();
  test_graph_optimize_and_shapes();
}
