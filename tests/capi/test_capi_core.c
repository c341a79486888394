/* The C ABI: Version, status, dtypes, NULL everywhere, use after release. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_capi.h"

static void test_version_and_status(void) {
  lq_graph* graph = (lq_graph*)&g_passed; /* must be reset to NULL on entry */
  lq_status* status;
  CHECK(strcmp(lq_version(), LQ_EXPECTED_VERSION) == 0);
  CHECK(lq_api_version() == LQ_API_VERSION);

  CHECK(lq_status_code(NULL) == LQ_OK);
  CHECK(strcmp(lq_status_message(NULL), "") == 0);
  lq_status_release(NULL);

  status = lq_graph_load(NULL, &graph);
  CHECK(status != NULL);
  CHECK(graph == NULL);
  CHECK(lq_status_code(status) == LQ_INVALID_ARGUMENT);
  CHECK(strcmp(lq_status_message(status), "lq_graph_load: path is NULL") == 0);
  lq_status_release(status);
}

static void test_dtypes(void) {
  CHECK(lq_dtype_size(LQ_FLOAT32) == 4);
  CHECK(lq_dtype_size(LQ_FLOAT16) == 2);
  CHECK(lq_dtype_size(LQ_FLOAT64) == 8);
  CHECK(lq_dtype_size(LQ_INT4) == 1);
  CHECK(lq_dtype_size(LQ_INT8) == 1);
  CHECK(lq_dtype_size(LQ_UINT8) == 1);
  CHECK(lq_dtype_size(LQ_INT16) == 2);
  CHECK(lq_dtype_size(LQ_UINT16) == 2);
  CHECK(lq_dtype_size(LQ_INT32) == 4);
  CHECK(lq_dtype_size(LQ_UINT32) == 4);
  CHECK(lq_dtype_size(LQ_INT64) == 8);
  CHECK(lq_dtype_size(LQ_UINT64) == 8);
  CHECK(lq_dtype_size(LQ_BOOL) == 1);
  CHECK(lq_dtype_size(LQ_DTYPE_UNDEFINED) == 0);
  CHECK(lq_dtype_size((lq_dtype)99) == 0);
  CHECK(strcmp(lq_dtype_name(LQ_FLOAT32), "float32") == 0);
  CHECK(strcmp(lq_dtype_name(LQ_INT4), "int4") == 0);
  CHECK(strcmp(lq_dtype_name(LQ_UINT64), "uint64") == 0);
  CHECK(strcmp(lq_dtype_name(LQ_BOOL), "bool") == 0);
  CHECK(strcmp(lq_dtype_name((lq_dtype)-1), "unknown") == 0);
}

static void test_null_handles(void) {
  size_t count = 7;
  uint64_t samples = 7;
  lq_buffer* buffer = NULL;
  lq_simulator* simulator = NULL;
  lq_calibrator* calibrator = NULL;
  lq_quantized_graph* qgraph = NULL;
  lq_program* program = NULL;
  lq_fixed_simulator* fixed = NULL;
  const char* name = "x";
  uint64_t bytes = 7;
  lq_graph* graph = load_test_graph();

  /* Every release accepts NULL; every accessor answers NULL or 0. */
  lq_buffer_release(NULL);
  lq_tensor_release(NULL);
  lq_graph_release(NULL);
  lq_simulator_release(NULL);
  lq_calibrator_release(NULL);
  lq_calibration_sources_release(NULL);
  lq_quantizer_release(NULL);
  lq_quantized_graph_release(NULL);
  lq_program_release(NULL);
  lq_fixed_simulator_release(NULL);
  lq_pipeline_release(NULL);
  lq_pipeline_result_release(NULL);
  CHECK(lq_buffer_data(NULL) == NULL);
  CHECK(lq_buffer_size(NULL) == 0);
  CHECK(lq_tensor_name(NULL) == NULL);
  CHECK(lq_tensor_dtype(NULL) == LQ_DTYPE_UNDEFINED);
  CHECK(lq_tensor_rank(NULL) == 0);
  CHECK(lq_tensor_shape(NULL) == NULL);
  CHECK(lq_tensor_data(NULL) == NULL);
  CHECK(lq_tensor_byte_size(NULL) == 0);

  /* NULL handles name the parameter. */
  CHECK_ERROR(lq_graph_optimize(NULL), LQ_INVALID_ARGUMENT, "lq_graph_optimize: graph is NULL");
  CHECK_ERROR(lq_graph_input_count(NULL, &count), LQ_INVALID_ARGUMENT, "graph is NULL");
  CHECK(count == 0);
  CHECK_ERROR(lq_graph_serialize(NULL, &buffer), LQ_INVALID_ARGUMENT, "graph is NULL");
  CHECK_ERROR(lq_simulator_create(NULL, NULL, &simulator), LQ_INVALID_ARGUMENT, "graph is NULL");
  CHECK_ERROR(lq_simulator_run(NULL, NULL, 0, NULL, 0), LQ_INVALID_ARGUMENT,
              "lq_simulator_run: simulator is NULL");
  CHECK_ERROR(lq_calibrator_create(NULL, NULL, &calibrator), LQ_INVALID_ARGUMENT, "graph is NULL");
  CHECK_ERROR(lq_calibrator_add_sample(NULL, NULL, 0), LQ_INVALID_ARGUMENT, "calibrator is NULL");
  CHECK_ERROR(lq_calibrator_add_sources(NULL, NULL), LQ_INVALID_ARGUMENT, "calibrator is NULL");
  CHECK_ERROR(lq_calibrator_sample_count(NULL, &samples), LQ_INVALID_ARGUMENT,
              "calibrator is NULL");
  CHECK(samples == 0);
  CHECK_ERROR(lq_calibrator_table_json(NULL, &buffer), LQ_INVALID_ARGUMENT, "calibrator is NULL");
  CHECK_ERROR(lq_calibration_sources_add_npy(NULL, "x", "a.npy"), LQ_INVALID_ARGUMENT,
              "sources is NULL");
  CHECK_ERROR(lq_calibration_sources_add_images(NULL, "x", "a.png", NULL), LQ_INVALID_ARGUMENT,
              "sources is NULL");
  CHECK_ERROR(lq_quantizer_set_method(NULL, "max"), LQ_INVALID_ARGUMENT, "quantizer is NULL");
  CHECK_ERROR(lq_quantizer_set_bits(NULL, 8, 8), LQ_INVALID_ARGUMENT, "quantizer is NULL");
  CHECK_ERROR(lq_quantizer_set_per_channel(NULL, 1), LQ_INVALID_ARGUMENT, "quantizer is NULL");
  CHECK_ERROR(lq_quantizer_config_json(NULL, &buffer), LQ_INVALID_ARGUMENT, "quantizer is NULL");
  CHECK_ERROR(lq_quantizer_quantize(NULL, graph, NULL, &qgraph), LQ_INVALID_ARGUMENT,
              "quantizer is NULL");
  CHECK_ERROR(lq_quantized_graph_save_qdq(NULL, "q.onnx"), LQ_INVALID_ARGUMENT, "qgraph is NULL");
  CHECK_ERROR(lq_quantized_graph_serialize_qdq(NULL, &buffer), LQ_INVALID_ARGUMENT,
              "qgraph is NULL");
  CHECK_ERROR(lq_quantized_graph_params_json(NULL, &buffer), LQ_INVALID_ARGUMENT, "qgraph is NULL");
  CHECK_ERROR(lq_simulator_create_fake_quant(NULL, NULL, &simulator), LQ_INVALID_ARGUMENT,
              "qgraph is NULL");
  CHECK_ERROR(lq_compile(NULL, NULL, &program), LQ_INVALID_ARGUMENT, "lq_compile: qgraph is NULL");
  CHECK_ERROR(lq_program_save(NULL, "m.lqm"), LQ_INVALID_ARGUMENT, "program is NULL");
  CHECK_ERROR(lq_program_serialize(NULL, &buffer), LQ_INVALID_ARGUMENT, "program is NULL");
  CHECK_ERROR(lq_program_summary_json(NULL, &buffer), LQ_INVALID_ARGUMENT, "program is NULL");
  CHECK_ERROR(lq_program_peak_activation_bytes(NULL, &bytes), LQ_INVALID_ARGUMENT,
              "program is NULL");
  CHECK_ERROR(lq_program_weight_bytes(NULL, &bytes), LQ_INVALID_ARGUMENT, "program is NULL");
  CHECK(bytes == 0);
  CHECK_ERROR(lq_program_input_count(NULL, &count), LQ_INVALID_ARGUMENT, "program is NULL");
  CHECK_ERROR(lq_program_output_name(NULL, 0, &name), LQ_INVALID_ARGUMENT, "program is NULL");
  CHECK(name == NULL);
  CHECK_ERROR(lq_fixed_simulator_create(NULL, NULL, &fixed), LQ_INVALID_ARGUMENT,
              "lq_fixed_simulator_create: program is NULL");
  CHECK_ERROR(lq_fixed_simulator_run(NULL, LQ_FIXED_OUTPUT_RAW, NULL, 0, NULL, 0),
              LQ_INVALID_ARGUMENT, "lq_fixed_simulator_run: simulator is NULL");
  CHECK_ERROR(
      lq_fixed_simulator_run_to_tensors(NULL, LQ_FIXED_OUTPUT_RAW, NULL, 0, NULL, 0, &count),
      LQ_INVALID_ARGUMENT, "simulator is NULL");
  CHECK(buffer == NULL && simulator == NULL && calibrator == NULL && qgraph == NULL);
  CHECK(program == NULL && fixed == NULL && count == 0);

  /* NULL output pointers too. */
  CHECK_ERROR(lq_graph_load_from_memory(kTestModel, kTestModelSize, NULL), LQ_INVALID_ARGUMENT,
              "out is NULL");
  CHECK_ERROR(lq_graph_serialize(graph, NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  CHECK_ERROR(lq_graph_save(graph, NULL), LQ_INVALID_ARGUMENT, "path is NULL");
  CHECK_ERROR(lq_simulator_create(graph, NULL, NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  CHECK_ERROR(lq_calibrator_create(graph, NULL, NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  CHECK_ERROR(lq_calibration_sources_create(NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  CHECK_ERROR(lq_quantizer_create(NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  CHECK_ERROR(lq_quantizer_create_from_json("{}", NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  CHECK_ERROR(lq_quantizer_create_from_json(NULL, NULL), LQ_INVALID_ARGUMENT, "json is NULL");
  lq_graph_release(graph);
}

static void test_use_after_release(void) {
  lq_graph* graph = load_test_graph();
  lq_quantizer* quantizer = NULL;
  lq_program* program = NULL;
  size_t count = 5;
  lq_graph_release(graph);
  CHECK_ERROR(lq_graph_input_count(graph, &count), LQ_INVALID_ARGUMENT,
              "graph is not a live lq_graph handle (it was released)");
  CHECK(count == 0);
  lq_graph_release(graph); /* a second release is ignored */
  CHECK_OK(lq_quantizer_create(&quantizer));
  lq_quantizer_release(quantizer);
  CHECK_ERROR(lq_quantizer_set_per_channel(quantizer, 1), LQ_INVALID_ARGUMENT, "was released");
  program = compiled_test_program();
  lq_program_release(program);
  CHECK_ERROR(lq_program_output_count(program, &count), LQ_INVALID_ARGUMENT,
              "program is not a live lq_program handle (it was released)");
}

/* .npy files: what lq_npy_save writes, lq_npy_load reads back; bad files are statuses. */
static void test_npy(void) {
  const int64_t shape[] = {2, 3};
  float values[6] = {1.5f, -2.0f, 0.0f, 3.25f, -0.5f, 7.0f};
  int16_t codes[3] = {-300, 0, 300};
  const int64_t code_shape[] = {3};
  lq_tensor_view view = make_view("ignored", LQ_FLOAT32, shape, 2, values, sizeof values);
  lq_tensor* tensor = NULL;

  CHECK_OK(lq_npy_save(&view, work_path("values.npy")));
  CHECK_OK(lq_npy_load(work_path("values.npy"), &tensor));
  CHECK(strcmp(lq_tensor_name(tensor), "") == 0);
  CHECK(lq_tensor_dtype(tensor) == LQ_FLOAT32 && lq_tensor_rank(tensor) == 2);
  CHECK(lq_tensor_shape(tensor)[0] == 2 && lq_tensor_shape(tensor)[1] == 3);
  CHECK(lq_tensor_byte_size(tensor) == sizeof values &&
        memcmp(lq_tensor_data(tensor), values, sizeof values) == 0);
  lq_tensor_release(tensor);
  tensor = NULL;
  /* What the test writes by hand reads too; other dtypes round-trip. */
  CHECK(write_npy(work_path("by_hand.npy"), values, shape, 2));
  CHECK_OK(lq_npy_load(work_path("by_hand.npy"), &tensor));
  CHECK(lq_tensor_byte_size(tensor) == sizeof values &&
        memcmp(lq_tensor_data(tensor), values, sizeof values) == 0);
  lq_tensor_release(tensor);
  tensor = NULL;
  view = make_view("codes", LQ_INT16, code_shape, 1, codes, sizeof codes);
  CHECK_OK(lq_npy_save(&view, work_path("codes.npy")));
  CHECK_OK(lq_npy_load(work_path("codes.npy"), &tensor));
  CHECK(lq_tensor_dtype(tensor) == LQ_INT16 && lq_tensor_rank(tensor) == 1);
  CHECK(memcmp(lq_tensor_data(tensor), codes, sizeof codes) == 0);
  lq_tensor_release(tensor);
  tensor = NULL;

  CHECK_ERROR(lq_npy_load(work_path("no-such.npy"), &tensor), LQ_NOT_FOUND,
              "cannot open .npy file");
  CHECK(write_file(work_path("garbage.npy"), "not an npy file", 15));
  CHECK_ERROR(lq_npy_load(work_path("garbage.npy"), &tensor), LQ_INVALID_ARGUMENT, "garbage.npy");
  CHECK(tensor == NULL);
  view.byte_size = 4;
  CHECK_ERROR(lq_npy_save(&view, work_path("codes.npy")), LQ_INVALID_ARGUMENT,
              "byte_size is 4, but int16[3] holds 6 bytes");
  view.byte_size = sizeof codes;
  view.struct_size = 8;
  CHECK_ERROR(lq_npy_save(&view, work_path("codes.npy")), LQ_INVALID_ARGUMENT,
              "tensor->struct_size is 8");
  view.struct_size = sizeof view;
  CHECK_ERROR(lq_npy_save(&view, work_path("no-such-dir/codes.npy")), LQ_IO_ERROR,
              "cannot write .npy file");
  CHECK_ERROR(lq_npy_save(NULL, work_path("codes.npy")), LQ_INVALID_ARGUMENT, "tensor is NULL");
  CHECK_ERROR(lq_npy_save(&view, NULL), LQ_INVALID_ARGUMENT, "path is NULL");
  CHECK_ERROR(lq_npy_load(NULL, &tensor), LQ_INVALID_ARGUMENT, "path is NULL");
  CHECK_ERROR(lq_npy_load(work_path("codes.npy"), NULL), LQ_INVALID_ARGUMENT, "out is NULL");
}

void test_core(void) {
  test_version_and_status();
  test_dtypes();
  test_null_handles();
  test_npy();
  if (!g_under_memory_checker) test_use_after_release();
}
