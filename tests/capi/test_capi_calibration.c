/* The C ABI: Calibration: samples, sources, pictures. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_capi.h"

static uint64_t sample_count(const lq_calibrator* calibrator) {
  uint64_t count = 0;
  CHECK_OK(lq_calibrator_sample_count(calibrator, &count));
  return count;
}

/* The calibration table's value of `key` ("\"max\":", ...) for tensor `name`. */
static double table_value(const lq_calibrator* calibrator, const char* name, const char* key) {
  lq_buffer* json = NULL;
  char object[64];
  double value;
  CHECK_OK(lq_calibrator_table_json(calibrator, &json));
  snprintf(object, sizeof object, "\"%s\":{", name);
  value = json ? json_number((const char*)lq_buffer_data(json), object, key) : NAN;
  lq_buffer_release(json);
  return value;
}

static void test_calibrator_samples(void) {
  lq_graph* graph = load_test_graph();
  lq_calibrator* calibrator = NULL;
  lq_calibrator_options options;
  struct sample sample;
  lq_buffer* json = NULL;
  float largest = -1e30f;
  int seed, i;

  lq_calibrator_options_init(&options);
  options.histogram_bins = 3;
  CHECK_ERROR(lq_calibrator_create(graph, &options, &calibrator), LQ_INVALID_ARGUMENT,
              "histogram bin count 3 must be even");
  options.histogram_bins = 256;
  options.struct_size = 2;
  CHECK_ERROR(lq_calibrator_create(graph, &options, &calibrator), LQ_INVALID_ARGUMENT,
              "options->struct_size is 2, smaller than the first version of lq_calibrator_options");
  lq_calibrator_options_init(&options);
  options.threads = -4;
  CHECK_ERROR(lq_calibrator_create(graph, &options, &calibrator), LQ_INVALID_ARGUMENT,
              "options->threads is -4");
  options.threads = 2;
  CHECK_OK(lq_calibrator_create(graph, &options, &calibrator));
  CHECK(sample_count(calibrator) == 0);

  for (seed = 0; seed < 4; ++seed) {
    make_sample(&sample, seed);
    for (i = 0; i < 48; ++i) largest = sample.x[i] > largest ? sample.x[i] : largest;
    CHECK_OK(lq_calibrator_add_sample(calibrator, sample.views, 2));
  }
  CHECK(sample_count(calibrator) == 4);
  CHECK(fabs(table_value(calibrator, "x", "\"max\":") - largest) < 1e-6);
  CHECK(table_value(calibrator, "y", "\"count\":") == 4 * 32);
  CHECK_OK(lq_calibrator_table_json(calibrator, &json));
  CHECK(buffer_contains(json, "\"samples\":4"));
  CHECK(buffer_contains(json, "\"w\":{"));
  lq_buffer_release(json);

  /* A rejected sample changes nothing. */
  CHECK_ERROR(lq_calibrator_add_sample(calibrator, sample.views, 1), LQ_INVALID_ARGUMENT,
              "input \"s\"");
  sample.views[1].dtype = LQ_FLOAT16;
  sample.views[1].byte_size = 4;
  CHECK_ERROR(lq_calibrator_add_sample(calibrator, sample.views, 2), LQ_INVALID_ARGUMENT,
              "got dtype float16");
  CHECK_ERROR(lq_calibrator_add_sample(calibrator, NULL, 2), LQ_INVALID_ARGUMENT, "inputs is NULL");
  CHECK(sample_count(calibrator) == 4);
  CHECK_ERROR(lq_calibrator_sample_count(calibrator, NULL), LQ_INVALID_ARGUMENT, "count is NULL");
  CHECK_ERROR(lq_calibrator_table_json(calibrator, NULL), LQ_INVALID_ARGUMENT, "out is NULL");
  lq_calibrator_release(calibrator);
  lq_graph_release(graph);
}

static void test_calibrator_sources(void) {
  lq_graph* graph = load_test_graph();
  lq_calibrator* calibrator = NULL;
  lq_calibrator_options options;
  lq_calibration_sources* npy = NULL;
  lq_calibration_sources* pictures = NULL;
  lq_calibration_sources* bad = NULL;
  lq_image_preprocess preprocess;
  struct progress_log log = {0, 0, 0};

  CHECK(write_sample_files(3));
  lq_calibrator_options_init(&options);
  options.progress = record_progress;
  options.progress_user_data = &log;
  CHECK_OK(lq_calibrator_create(graph, &options, &calibrator));

  /* .npy folders for both inputs. */
  CHECK_OK(lq_calibration_sources_create(&npy));
  CHECK_OK(lq_calibration_sources_add_npy(npy, "x", work_path("x_npy")));
  CHECK_OK(lq_calibration_sources_add_npy(npy, "s", work_path("s_npy")));
  CHECK_OK(lq_calibrator_add_sources(calibrator, npy));
  CHECK(sample_count(calibrator) == 3);
  CHECK(log.calls == 3 && log.last_done == 3 && log.last_total == 3);

  /* Pictures for x: 8x8 stretched to 4x4, values (pixel - 100) * 0.5. */
  lq_image_preprocess_init(&preprocess);
  preprocess.height = 4;
  preprocess.width = 4;
  preprocess.color = LQ_COLOR_BGR;
  preprocess.mean[0] = preprocess.mean[1] = preprocess.mean[2] = 100.0f;
  preprocess.scale[0] = preprocess.scale[1] = preprocess.scale[2] = 0.5f;
  CHECK_OK(lq_calibration_sources_create(&pictures));
  CHECK_OK(lq_calibration_sources_add_images(pictures, "x", work_path("x_img"), &preprocess));
  CHECK_OK(lq_calibration_sources_add_npy(pictures, "s", work_path("s_npy")));
  CHECK_OK(lq_calibrator_add_sources(calibrator, pictures));
  CHECK(sample_count(calibrator) == 6);
  CHECK(log.calls == 6);
  /* The brightest picture (base 140) reaches pixel 140 + 63 + 2 (at most), so x's maximum is
   * below (205 - 100) * 0.5 and well above anything the .npy samples hold. */
  CHECK(table_value(calibrator, "x", "\"max\":") > 40.0);
  CHECK(table_value(calibrator, "x", "\"max\":") <= 52.5);

  /* Misuse of sources. */
  CHECK_ERROR(lq_calibration_sources_add_images(pictures, "s", work_path("x_img"), &preprocess),
              LQ_INVALID_ARGUMENT, "input \"s\" already has .npy sources");
  CHECK_ERROR(lq_calibration_sources_add_npy(pictures, "x", work_path("x_npy")),
              LQ_INVALID_ARGUMENT, "input \"x\" already has picture sources");
  preprocess.width = 8;
  CHECK_ERROR(lq_calibration_sources_add_images(pictures, "x", work_path("x_img"), &preprocess),
              LQ_INVALID_ARGUMENT, "another preprocessing");
  preprocess.struct_size = 8;
  CHECK_ERROR(lq_calibration_sources_add_images(pictures, "x", work_path("x_img"), &preprocess),
              LQ_INVALID_ARGUMENT, "preprocess->struct_size is 8");
  lq_image_preprocess_init(&preprocess);
  preprocess.layout = (lq_layout)7;
  CHECK_ERROR(lq_calibration_sources_add_images(pictures, "x", work_path("x_img"), &preprocess),
              LQ_INVALID_ARGUMENT, "preprocess->layout is 7; use one of LQ_LAYOUT_NCHW");
  CHECK_ERROR(lq_calibration_sources_add_images(pictures, "x", work_path("x_img"), NULL),
              LQ_INVALID_ARGUMENT, "preprocess is NULL");
  CHECK_ERROR(lq_calibration_sources_add_npy(pictures, NULL, "a"), LQ_INVALID_ARGUMENT,
              "input_name is NULL");
  CHECK_ERROR(lq_calibration_sources_add_npy(pictures, "x", NULL), LQ_INVALID_ARGUMENT,
              "path is NULL");

  CHECK_OK(lq_calibration_sources_create(&bad));
  CHECK_ERROR(lq_calibrator_add_sources(calibrator, bad), LQ_INVALID_ARGUMENT, "sources is empty");
  CHECK_OK(lq_calibration_sources_add_npy(bad, "x", work_path("x_npy")));
  CHECK_ERROR(lq_calibrator_add_sources(calibrator, bad), LQ_INVALID_ARGUMENT,
              "model input \"s\" (float32[1,2,1,1]) has no calibration source");
  CHECK_OK(lq_calibration_sources_add_npy(bad, "t", work_path("s_npy")));
  CHECK_ERROR(lq_calibrator_add_sources(calibrator, bad), LQ_INVALID_ARGUMENT,
              "calibration source \"t\" names no model input");
  lq_calibration_sources_release(bad);
  CHECK_OK(lq_calibration_sources_create(&bad));
  CHECK_OK(lq_calibration_sources_add_npy(bad, "x", work_path("no-such-folder")));
  CHECK_OK(lq_calibration_sources_add_npy(bad, "s", work_path("s_npy")));
  CHECK_ERROR(lq_calibrator_add_sources(calibrator, bad), LQ_NOT_FOUND, "no-such-folder");
  lq_calibration_sources_release(bad);
  CHECK_OK(lq_calibration_sources_create(&bad));
  CHECK_OK(lq_calibration_sources_add_npy(bad, "x", work_path("empty")));
  CHECK_OK(lq_calibration_sources_add_npy(bad, "s", work_path("s_npy")));
  CHECK_ERROR(lq_calibrator_add_sources(calibrator, bad), LQ_INVALID_ARGUMENT,
              "holds no .npy files");
  lq_calibration_sources_release(bad);
  /* Two files for x, three for s. */
  CHECK_OK(lq_calibration_sources_create(&bad));
  CHECK_OK(lq_calibration_sources_add_npy(bad, "x", work_path("x_npy/00.npy")));
  CHECK_OK(lq_calibration_sources_add_npy(bad, "x", work_path("x_npy/01.npy")));
  CHECK_OK(lq_calibration_sources_add_npy(bad, "s", work_path("s_npy")));
  CHECK_ERROR(lq_calibrator_add_sources(calibrator, bad), LQ_INVALID_ARGUMENT,
              "different sample counts");
  CHECK_ERROR(lq_calibrator_add_sources(calibrator, NULL), LQ_INVALID_ARGUMENT, "sources is NULL");
  CHECK(sample_count(calibrator) == 6);

  lq_calibration_sources_release(bad);
  lq_calibration_sources_release(npy);
  lq_calibration_sources_release(pictures);
  lq_calibrator_release(calibrator);
  lq_graph_release(graph);
}

static void test_image_load(void) {
  lq_image_preprocess preprocess;
  lq_tensor* picture = NULL;
  lq_graph* graph = load_test_graph();
  lq_simulator* simulator = NULL;
  lq_tensor_view inputs[2];
  lq_output_view output;
  float y[32], s[2] = {0.5f, -0.5f};
  int64_t dims[4];
  const int64_t* shape;
  const float* values;
  int row, col, channel, exact = 1;

  CHECK(make_dir(work_path("pictures")));
  CHECK(write_bmp(work_path("pictures/a.bmp"), 100));

  /* Kept at 8x8, BGR, NCHW: channel 0 is blue = 100 + row * 8 + col. */
  lq_image_preprocess_init(&preprocess);
  preprocess.resize = LQ_RESIZE_NONE;
  preprocess.color = LQ_COLOR_BGR;
  preprocess.mean[0] = preprocess.mean[1] = preprocess.mean[2] = 100.0f;
  preprocess.scale[0] = preprocess.scale[1] = preprocess.scale[2] = 0.5f;
  CHECK_OK(lq_image_load(work_path("pictures/a.bmp"), &preprocess, &picture));
  CHECK(strcmp(lq_tensor_name(picture), "") == 0);
  CHECK(lq_tensor_dtype(picture) == LQ_FLOAT32 && lq_tensor_rank(picture) == 4);
  shape = lq_tensor_shape(picture);
  CHECK(shape && shape[0] == 1 && shape[1] == 3 && shape[2] == 8 && shape[3] == 8);
  CHECK(lq_tensor_byte_size(picture) == 3 * 64 * sizeof(float));
  values = (const float*)lq_tensor_data(picture);
  for (channel = 0; values && channel < 3; ++channel) {
    for (row = 0; row < 8; ++row) {
      for (col = 0; col < 8; ++col) {
        const float pixel = (float)(100 + row * 8 + col + channel);
        exact &= values[(channel * 8 + row) * 8 + col] == (pixel - 100.0f) * 0.5f;
      }
    }
  }
  CHECK(values && exact);
  lq_tensor_release(picture);
  picture = NULL;

  /* Gray, NHWC: [1,8,8,1]. */
  preprocess.color = LQ_COLOR_GRAY;
  preprocess.layout = LQ_LAYOUT_NHWC;
  CHECK_OK(lq_image_load(work_path("pictures/a.bmp"), &preprocess, &picture));
  shape = lq_tensor_shape(picture);
  CHECK(shape && shape[0] == 1 && shape[1] == 8 && shape[2] == 8 && shape[3] == 1);
  lq_tensor_release(picture);
  picture = NULL;

  /* Stretched to the model's 4x4, then fed to a simulator through a view of the tensor. */
  lq_image_preprocess_init(&preprocess);
  preprocess.height = 4;
  preprocess.width = 4;
  preprocess.mean[0] = preprocess.mean[1] = preprocess.mean[2] = 128.0f;
  preprocess.scale[0] = preprocess.scale[1] = preprocess.scale[2] = 1.0f / 64.0f;
  CHECK_OK(lq_image_load(work_path("pictures/a.bmp"), &preprocess, &picture));
  CHECK(lq_tensor_byte_size(picture) == 48 * sizeof(float));
  CHECK_OK(lq_simulator_create(graph, NULL, &simulator));
  inputs[0] =
      make_view("x", lq_tensor_dtype(picture), lq_tensor_shape(picture), lq_tensor_rank(picture),
                (void*)lq_tensor_data(picture), lq_tensor_byte_size(picture));
  inputs[1] = make_view("s", LQ_FLOAT32, kShapeS, 4, s, sizeof s);
  output = make_output("y", y, sizeof y, dims, 4);
  CHECK_OK(lq_simulator_run(simulator, inputs, 2, &output, 1));
  CHECK(y_matches(y, (const float*)lq_tensor_data(picture), s, 1, 1e-5f));
  lq_tensor_release(picture);
  picture = NULL;

  /* Misuse: a missing file, a file that is no picture, bad preprocessing. */
  CHECK_ERROR(lq_image_load(work_path("pictures/none.png"), &preprocess, &picture), LQ_NOT_FOUND,
              "no picture file");
  CHECK(write_file(work_path("pictures/text.png"), "not a picture", 13));
  CHECK_ERROR(lq_image_load(work_path("pictures/text.png"), &preprocess, &picture),
              LQ_INVALID_ARGUMENT, "cannot read image");
  preprocess.height = 0;
  CHECK_ERROR(lq_image_load(work_path("pictures/a.bmp"), &preprocess, &picture),
              LQ_INVALID_ARGUMENT, "preprocessing needs a target height and width");
  preprocess.struct_size = 8;
  CHECK_ERROR(lq_image_load(work_path("pictures/a.bmp"), &preprocess, &picture),
              LQ_INVALID_ARGUMENT, "preprocess->struct_size is 8");
  lq_image_preprocess_init(&preprocess);
  preprocess.color = (lq_color_order)3;
  CHECK_ERROR(lq_image_load(work_path("pictures/a.bmp"), &preprocess, &picture),
              LQ_INVALID_ARGUMENT, "preprocess->color is 3");
  CHECK_ERROR(lq_image_load(work_path("pictures/a.bmp"), NULL, &picture), LQ_INVALID_ARGUMENT,
              "preprocess is NULL");
  CHECK_ERROR(lq_image_load(NULL, &preprocess, &picture), LQ_INVALID_ARGUMENT, "path is NULL");
  CHECK_ERROR(lq_image_load(work_path("pictures/a.bmp"), &preprocess, NULL), LQ_INVALID_ARGUMENT,
              "out is NULL");
  CHECK(picture == NULL);
  lq_simulator_release(simulator);
  lq_graph_release(graph);
}

/* The whole text of a file (NUL-terminated, freed by the caller), or NULL. */
static char* read_text_file(const char* path) {
  FILE* file = fopen(path, "rb");
  char* text = NULL;
  long size;
  if (!file) return NULL;
  if (fseek(file, 0, SEEK_END) == 0 && (size = ftell(file)) >= 0 && fseek(file, 0, SEEK_SET) == 0) {
    text = (char*)calloc((size_t)size + 1, 1);
    if (text && fread(text, 1, (size_t)size, file) != (size_t)size) {
      free(text);
      text = NULL;
    }
  }
  fclose(file);
  return text;
}

/* A calibrator's statistics saved, merged with themselves (the samples add up), and every
 * misuse of both calls. */
static void test_calibration_stats_files(void) {
  lq_graph* graph = load_test_graph();
  lq_calibrator* calibrator = calibrated(graph, 3);
  char first[1024], missing[1024];
  const char* paths[2];
  char* text;

  snprintf(first, sizeof first, "%s", work_path("stats_a.json"));
  snprintf(missing, sizeof missing, "%s", work_path("no_such_stats.json"));
  CHECK_OK(lq_calibrator_save_stats(calibrator, first));
  text = read_text_file(first);
  CHECK(text && strstr(text, "\"format\":\"libquant-calibration-statistics\"") && strstr(text, "\"samples\":3"));
  free(text);
  paths[0] = first;
  paths[1] = first;
  CHECK_OK(lq_calibration_stats_merge(paths, 2, work_path("stats_merged.json")));
  text = read_text_file(work_path("stats_merged.json"));
  CHECK(text && strstr(text, "\"samples\":6"));
  free(text);

  paths[1] = missing;
  CHECK_ERROR(lq_calibration_stats_merge(paths, 2, work_path("stats_merged.json")), LQ_NOT_FOUND,
              "no_such_stats.json");
  CHECK_ERROR(lq_calibration_stats_merge(paths, 0, work_path("x.json")), LQ_INVALID_ARGUMENT, "count is 0");
  CHECK_ERROR(lq_calibration_stats_merge(NULL, 1, work_path("x.json")), LQ_INVALID_ARGUMENT, "paths is NULL");
  CHECK_ERROR(lq_calibration_stats_merge(paths, 1, NULL), LQ_INVALID_ARGUMENT, "out_path is NULL");
  paths[1] = NULL;
  CHECK_ERROR(lq_calibration_stats_merge(paths, 2, work_path("x.json")), LQ_INVALID_ARGUMENT,
              "paths[1] is NULL or empty");
  CHECK_ERROR(lq_calibrator_save_stats(calibrator, NULL), LQ_INVALID_ARGUMENT, "path is NULL");
  CHECK_ERROR(lq_calibrator_save_stats(calibrator, ""), LQ_INVALID_ARGUMENT, "path is empty");
  CHECK_ERROR(lq_calibrator_save_stats(NULL, first), LQ_INVALID_ARGUMENT, "calibrator is NULL");
  CHECK_ERROR(lq_calibrator_save_stats(calibrator, work_path("no_such_dir/s.json")), LQ_IO_ERROR,
              "no_such_dir/s.json");
  lq_calibrator_release(calibrator);
  lq_graph_release(graph);
}

void test_calibration(void) {
  test_calibration_stats_files();
  test_calibrator_samples();
  test_calibrator_sources();
  test_image_load();
}
