/* The shared part of the C ABI tests (test_capi.h). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test_capi.h"

int g_passed;
int g_failed;

void check(int ok, const char* what, const char* file, int line) {
  if (ok) {
    ++g_passed;
    return;
  }
  ++g_failed;
  fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
}

void check_status(lq_status* status, lq_code code, const char* needle, const char* what,
                  const char* file, int line) {
  const char* message = lq_status_message(status);
  const int ok = lq_status_code(status) == code && (!needle || strstr(message, needle) != NULL);
  if (!ok) {
    fprintf(stderr, "%s:%d: got code %d \"%s\"; expected code %d with \"%s\"\n", file, line,
            (int)lq_status_code(status), message, (int)code, needle ? needle : "");
  }
  check(ok, what, file, line);
  lq_status_release(status);
}

const unsigned char kTestModel[] = {
    0x08, 0x08, 0x12, 0x04, 0x63, 0x61, 0x70, 0x69, 0x3a, 0xb2, 0x02, 0x0a, 0x18, 0x0a, 0x01, 0x78,
    0x0a, 0x01, 0x77, 0x0a, 0x01, 0x62, 0x12, 0x01, 0x63, 0x1a, 0x04, 0x63, 0x6f, 0x6e, 0x76, 0x22,
    0x04, 0x43, 0x6f, 0x6e, 0x76, 0x0a, 0x1a, 0x0a, 0x01, 0x63, 0x12, 0x01, 0x69, 0x1a, 0x08, 0x69,
    0x64, 0x65, 0x6e, 0x74, 0x69, 0x74, 0x79, 0x22, 0x08, 0x49, 0x64, 0x65, 0x6e, 0x74, 0x69, 0x74,
    0x79, 0x0a, 0x12, 0x0a, 0x01, 0x69, 0x12, 0x01, 0x72, 0x1a, 0x04, 0x72, 0x65, 0x6c, 0x75, 0x22,
    0x04, 0x52, 0x65, 0x6c, 0x75, 0x0a, 0x13, 0x0a, 0x01, 0x72, 0x0a, 0x01, 0x73, 0x12, 0x01, 0x79,
    0x1a, 0x03, 0x61, 0x64, 0x64, 0x22, 0x03, 0x41, 0x64, 0x64, 0x0a, 0x1a, 0x0a, 0x01, 0x79, 0x12,
    0x07, 0x79, 0x5f, 0x73, 0x68, 0x61, 0x70, 0x65, 0x1a, 0x05, 0x73, 0x68, 0x61, 0x70, 0x65, 0x22,
    0x05, 0x53, 0x68, 0x61, 0x70, 0x65, 0x12, 0x09, 0x63, 0x61, 0x70, 0x69, 0x5f, 0x74, 0x65, 0x73,
    0x74, 0x2a, 0x27, 0x08, 0x02, 0x08, 0x03, 0x08, 0x01, 0x08, 0x01, 0x10, 0x01, 0x22, 0x18, 0x00,
    0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0xbf, 0x00, 0x00, 0x00, 0x3f, 0x00,
    0x00, 0x00, 0x3f, 0x00, 0x00, 0x00, 0x3f, 0x42, 0x01, 0x77, 0x2a, 0x11, 0x08, 0x02, 0x10, 0x01,
    0x22, 0x08, 0x00, 0x00, 0x80, 0x3e, 0x00, 0x00, 0x80, 0xbf, 0x42, 0x01, 0x62, 0x5a, 0x1c, 0x0a,
    0x01, 0x78, 0x12, 0x17, 0x0a, 0x15, 0x08, 0x01, 0x12, 0x11, 0x0a, 0x03, 0x12, 0x01, 0x4e, 0x0a,
    0x02, 0x08, 0x03, 0x0a, 0x02, 0x08, 0x04, 0x0a, 0x02, 0x08, 0x04, 0x5a, 0x1b, 0x0a, 0x01, 0x73,
    0x12, 0x16, 0x0a, 0x14, 0x08, 0x01, 0x12, 0x10, 0x0a, 0x02, 0x08, 0x01, 0x0a, 0x02, 0x08, 0x02,
    0x0a, 0x02, 0x08, 0x01, 0x0a, 0x02, 0x08, 0x01, 0x62, 0x1c, 0x0a, 0x01, 0x79, 0x12, 0x17, 0x0a,
    0x15, 0x08, 0x01, 0x12, 0x11, 0x0a, 0x03, 0x12, 0x01, 0x4e, 0x0a, 0x02, 0x08, 0x02, 0x0a, 0x02,
    0x08, 0x04, 0x0a, 0x02, 0x08, 0x04, 0x62, 0x15, 0x0a, 0x07, 0x79, 0x5f, 0x73, 0x68, 0x61, 0x70,
    0x65, 0x12, 0x0a, 0x0a, 0x08, 0x08, 0x07, 0x12, 0x04, 0x0a, 0x02, 0x08, 0x04, 0x42, 0x04, 0x0a,
    0x00, 0x10, 0x0d,
};

const size_t kTestModelSize = sizeof kTestModel;

float expected_y(const float* x, const float* s, int n, int channel, int pixel) {
  const float* xn = x + n * 48;
  const float x0 = xn[pixel], x1 = xn[16 + pixel], x2 = xn[32 + pixel];
  const float c = channel == 0 ? x0 - x2 + 0.25f : 0.5f * (x0 + x1 + x2) - 1.0f;
  return (c > 0.0f ? c : 0.0f) + s[channel];
}

void fill_input(float* data, size_t count, int seed) {
  size_t i;
  for (i = 0; i < count; ++i)
    data[i] = (float)((int)((i * 7 + (size_t)seed * 13) % 41) - 20) / 10.0f;
}

lq_graph* load_test_graph(void) {
  lq_graph* graph = NULL;
  CHECK_OK(lq_graph_load_from_memory(kTestModel, kTestModelSize, &graph));
  return graph;
}

lq_tensor_view make_view(const char* name, lq_dtype dtype, const int64_t* shape, size_t rank,
                                void* data, size_t byte_size) {
  lq_tensor_view view;
  lq_tensor_view_init(&view);
  view.name = name;
  view.dtype = dtype;
  view.shape = shape;
  view.rank = rank;
  view.data = data;
  view.byte_size = byte_size;
  return view;
}

lq_output_view make_output(const char* name, void* data, size_t byte_size, int64_t* shape,
                                  size_t shape_capacity) {
  lq_output_view view;
  lq_output_view_init(&view);
  view.name = name;
  view.data = data;
  view.byte_size = byte_size;
  view.shape = shape;
  view.shape_capacity = shape_capacity;
  return view;
}

const int64_t kShapeX[] = {1, 3, 4, 4};

const int64_t kShapeS[] = {1, 2, 1, 1};

void make_sample(struct sample* sample, int seed) {
  fill_input(sample->x, 48, seed);
  sample->s[0] = 0.5f;
  sample->s[1] = -0.5f;
  sample->views[0] = make_view("x", LQ_FLOAT32, kShapeX, 4, sample->x, sizeof sample->x);
  sample->views[1] = make_view("s", LQ_FLOAT32, kShapeS, 4, sample->s, sizeof sample->s);
}

char g_work_dir[512];
int g_under_memory_checker;

const char* work_path(const char* name) {
  static char path[1024];
  snprintf(path, sizeof path, "%s/%s", g_work_dir, name);
  return path;
}

int make_dir(const char* path) { return mkdir(path, 0755) == 0 || errno == EEXIST; }

int write_file(const char* path, const void* data, size_t size) {
  FILE* file = fopen(path, "wb");
  int ok;
  if (!file) return 0;
  ok = fwrite(data, 1, size, file) == size;
  return fclose(file) == 0 && ok;
}

int write_npy(const char* path, const float* data, const int64_t* shape, size_t rank) {
  char header[128], dims[64] = "";
  unsigned char file[512];
  size_t i, count = 1, length, padded;
  for (i = 0; i < rank; ++i) {
    char dim[24];
    snprintf(dim, sizeof dim, "%s%lld", i > 0 ? ", " : "", (long long)shape[i]);
    strcat(dims, dim);
    count *= (size_t)shape[i];
  }
  if (rank == 1) strcat(dims, ",");
  length = (size_t)snprintf(header, sizeof header,
                            "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", dims);
  padded = (10 + length + 1 + 63) / 64 * 64 - 10; /* header + '\n', total a multiple of 64 */
  if (10 + padded + count * 4 > sizeof file) return 0;
  memcpy(file, "\x93NUMPY\x01\x00", 8);
  file[8] = (unsigned char)(padded & 0xff);
  file[9] = (unsigned char)(padded >> 8);
  memset(file + 10, ' ', padded);
  memcpy(file + 10, header, length);
  file[10 + padded - 1] = '\n';
  memcpy(file + 10 + padded, data, count * 4); /* the test machines are little endian */
  return write_file(path, file, 10 + padded + count * 4);
}

static void put_u32(unsigned char* at, unsigned value) {
  at[0] = (unsigned char)value;
  at[1] = (unsigned char)(value >> 8);
  at[2] = (unsigned char)(value >> 16);
  at[3] = (unsigned char)(value >> 24);
}

int write_bmp(const char* path, int base) {
  enum { kSide = 8, kRowBytes = kSide * 3, kPixelBytes = kRowBytes * kSide };
  unsigned char file[54 + kPixelBytes];
  int row, col, k;
  memset(file, 0, sizeof file);
  file[0] = 'B';
  file[1] = 'M';
  put_u32(file + 2, sizeof file);
  put_u32(file + 10, 54);
  put_u32(file + 14, 40);
  put_u32(file + 18, kSide);
  put_u32(file + 22, kSide);
  file[26] = 1;  /* planes */
  file[28] = 24; /* bits per pixel */
  put_u32(file + 34, kPixelBytes);
  for (row = 0; row < kSide; ++row) {
    for (col = 0; col < kSide; ++col) {
      for (k = 0; k < 3; ++k) {
        /* BMP rows run bottom-up. */
        file[54 + (kSide - 1 - row) * kRowBytes + col * 3 + k] =
            (unsigned char)(base + row * 8 + col + k);
      }
    }
  }
  return write_file(path, file, sizeof file);
}

double json_number(const char* json, const char* object, const char* key) {
  const char* at = strstr(json, object);
  if (!at) return NAN;
  at = strstr(at, key);
  return at ? strtod(at + strlen(key), NULL) : NAN;
}

int buffer_contains(const lq_buffer* buffer, const char* needle) {
  const char* data = (const char*)lq_buffer_data(buffer);
  const size_t size = lq_buffer_size(buffer), length = strlen(needle);
  size_t i;
  for (i = 0; data && i + length <= size; ++i) {
    if (memcmp(data + i, needle, length) == 0) return 1;
  }
  return 0;
}

int y_matches(const float* y, const float* x, const float* s, int batch, float tolerance) {
  int n, channel, pixel;
  for (n = 0; n < batch; ++n) {
    for (channel = 0; channel < 2; ++channel) {
      for (pixel = 0; pixel < 16; ++pixel) {
        const float want = expected_y(x, s, n, channel, pixel);
        if (fabsf(y[(n * 2 + channel) * 16 + pixel] - want) > tolerance) return 0;
      }
    }
  }
  return 1;
}

void record_progress(int64_t done, int64_t total, void* user_data) {
  struct progress_log* log = (struct progress_log*)user_data;
  ++log->calls;
  log->last_done = done;
  log->last_total = total;
}

int write_sample_files(int count) {
  const int64_t x_shape[] = {1, 3, 4, 4};
  const int64_t s_shape[] = {2, 1, 1}; /* without the batch dimension: the calibrator adds it */
  const float s[2] = {0.25f, -0.25f};
  float x[48];
  char name[64];
  int i, ok = make_dir(work_path("x_npy")) && make_dir(work_path("x_img")) &&
              make_dir(work_path("s_npy")) && make_dir(work_path("empty"));
  for (i = 0; ok && i < count; ++i) {
    fill_input(x, 48, 10 + i);
    snprintf(name, sizeof name, "x_npy/%02d.npy", i);
    ok = write_npy(work_path(name), x, x_shape, 4);
    snprintf(name, sizeof name, "x_img/%02d.bmp", i);
    ok = ok && write_bmp(work_path(name), 100 + i * 20);
    snprintf(name, sizeof name, "s_npy/%02d.npy", i);
    ok = ok && write_npy(work_path(name), s, s_shape, 3);
  }
  return ok;
}

lq_calibrator* calibrated(const lq_graph* graph, int samples) {
  lq_calibrator* calibrator = NULL;
  struct sample sample;
  int seed;
  CHECK_OK(lq_calibrator_create(graph, NULL, &calibrator));
  for (seed = 0; seed < samples; ++seed) {
    make_sample(&sample, seed);
    CHECK_OK(lq_calibrator_add_sample(calibrator, sample.views, 2));
  }
  return calibrator;
}

void record_log(const char* line, void* user_data) {
  struct log_lines* log = (struct log_lines*)user_data;
  const size_t used = strlen(log->text);
  ++log->count;
  snprintf(log->text + used, sizeof log->text - used, "%s\n", line);
}

lq_quantized_graph* quantized_test_graph(void) {
  lq_graph* graph = load_test_graph();
  lq_calibrator* calibrator = calibrated(graph, 6);
  lq_quantizer* quantizer = NULL;
  lq_quantized_graph* qgraph = NULL;
  CHECK_OK(lq_quantizer_create(&quantizer));
  CHECK_OK(lq_quantizer_set_method(quantizer, "max"));
  CHECK_OK(lq_quantizer_quantize(quantizer, graph, calibrator, &qgraph));
  lq_quantizer_release(quantizer);
  lq_calibrator_release(calibrator);
  lq_graph_release(graph);
  return qgraph;
}

const int64_t kShapeX1[] = {1, 3, 4, 4};

lq_compile_options batch1_options(lq_input_shape* shape) {
  lq_compile_options options;
  lq_input_shape_init(shape);
  shape->name = "x";
  shape->shape = kShapeX1;
  shape->rank = 4;
  lq_compile_options_init(&options);
  options.input_shapes = shape;
  options.input_shape_count = 1;
  return options;
}

lq_program* compiled_test_program(void) {
  lq_quantized_graph* qgraph = quantized_test_graph();
  lq_program* program = NULL;
  lq_input_shape shape;
  const lq_compile_options options = batch1_options(&shape);
  CHECK_OK(lq_compile(qgraph, &options, &program));
  lq_quantized_graph_release(qgraph);
  return program;
}

void run_fixed(lq_fixed_simulator* simulator, const struct sample* sample,
                      struct fixed_outputs* result) {
  int64_t y_dims[4] = {0, 0, 0, 0}, shape_dims[1] = {0};
  lq_output_view outputs[2];
  outputs[0] = make_output("y", result->y_codes, sizeof result->y_codes, y_dims, 4);
  outputs[1] = make_output("y_shape", result->y_shape, sizeof result->y_shape, shape_dims, 1);
  CHECK_OK(lq_fixed_simulator_run(simulator, LQ_FIXED_OUTPUT_RAW, sample->views, 2, outputs, 2));
  CHECK(outputs[0].dtype == LQ_INT8 && outputs[0].rank == 4 && outputs[0].bytes_needed == 32);
  CHECK(y_dims[0] == 1 && y_dims[1] == 2 && y_dims[2] == 4 && y_dims[3] == 4);
  CHECK(outputs[1].dtype == LQ_INT64 && shape_dims[0] == 4);
  outputs[0] = make_output("y", result->y_float, sizeof result->y_float, y_dims, 4);
  CHECK_OK(
      lq_fixed_simulator_run(simulator, LQ_FIXED_OUTPUT_DEQUANTIZED, sample->views, 2, outputs, 1));
  CHECK(outputs[0].dtype == LQ_FLOAT32 && outputs[0].bytes_needed == 128);
}

int same_fixed_outputs(const struct fixed_outputs* a, const struct fixed_outputs* b) {
  return memcmp(a->y_codes, b->y_codes, sizeof a->y_codes) == 0 &&
         memcmp(a->y_float, b->y_float, sizeof a->y_float) == 0 &&
         memcmp(a->y_shape, b->y_shape, sizeof a->y_shape) == 0;
}

void record_step(const char* step, int64_t done, int64_t total, void* user_data) {
  struct step_log* log = (struct step_log*)user_data;
  const size_t used = strlen(log->steps);
  char last[64] = "";
  const char* end = used ? log->steps + used - 1 : log->steps;
  const char* begin = end;
  while (begin > log->steps && begin[-1] != ',') --begin;
  if (used) snprintf(last, sizeof last, "%.*s", (int)(end - begin), begin);
  if (strcmp(last, step) != 0) {
    snprintf(log->steps + used, sizeof log->steps - used, "%s,", step);
  } else if (done < log->last_done) {
    log->bad++;
  }
  if (done < 0 || total <= 0 || done > total) log->bad++;
  log->calls++;
  log->last_done = done;
  log->last_total = total;
}
