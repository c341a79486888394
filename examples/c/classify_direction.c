/* Quantizes the PP-OCR text direction classifier to int8 through libquant's C ABI, then
 * classifies text-line pictures as upright (0) or upside down (180) with the float and the
 * int8 (fake-quant) simulators.
 *
 *   classify_direction CLS_MODEL.onnx CALIB_DIR PICTURE...
 *
 * CALIB_DIR is a folder of text-line pictures (PNG, JPEG, BMP). The C ABI reads pictures
 * only as calibration sources, so the pictures to classify are decoded here with stb_image
 * and preprocessed the same way. Prints one line per picture:
 *   text_line.png: float 0 (p=0.9866) int8 0 (p=0.9723) */
#define _POSIX_C_SOURCE 200809L /* isatty */

#include <libquant.h>
#include <math.h>
#include <stb_image.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* PP-OCR's classifier input: BGR, height 48, width by aspect ratio up to 192, padded on the
 * right, (pixel / 255 - 0.5) / 0.5. */
enum { kHeight = 48, kWidth = 192, kChannels = 3 };
static const char* const kLabels[] = {"0", "180"};

static void cls_preprocess(lq_image_preprocess* pre) {
  int c;
  lq_image_preprocess_init(pre);
  pre->height = kHeight;
  pre->width = kWidth;
  pre->resize = LQ_RESIZE_FIT_HEIGHT_PAD;
  pre->color = LQ_COLOR_BGR;
  for (c = 0; c < 3; ++c) {
    pre->mean[c] = 127.5f;
    pre->scale[c] = 1.0f / 127.5f;
  }
}

/* Prints and releases a failed call's status; returns whether the call succeeded. */
static int ok(lq_status* status) {
  if (status == NULL) return 1;
  fprintf(stderr, "error: %s\n", lq_status_message(status));
  lq_status_release(status);
  return 0;
}

static float at(const unsigned char* rgb, int width, int x, int y, int channel) {
  return (float)rgb[((size_t)y * (size_t)width + (size_t)x) * kChannels + (size_t)channel];
}

/* Reads `path` into `input` ([1,3,48,192], NCHW) exactly as libquant's picture sources do:
 * bilinear resize with half-pixel centers to height 48 (width by aspect ratio, at most 192),
 * BGR, normalized, zeros on the right. */
static int load_picture(const char* path, const lq_image_preprocess* pre, float* input) {
  int w, h, n, x, y, c;
  int content_w;
  unsigned char* rgb = stbi_load(path, &w, &h, &n, kChannels);
  if (rgb == NULL) {
    fprintf(stderr, "error: cannot read %s: %s\n", path, stbi_failure_reason());
    return 0;
  }
  content_w = (int)ceil(kHeight * ((double)w / h));
  if (content_w > kWidth) content_w = kWidth;
  if (content_w < 1) content_w = 1;
  for (y = 0; y < kHeight; ++y) {
    const float fy = fmaxf(0.0f, (y + 0.5f) * ((float)h / kHeight) - 0.5f);
    const int y0 = (int)fy < h - 1 ? (int)fy : h - 1;
    const int y1 = y0 + 1 < h - 1 ? y0 + 1 : h - 1;
    const float wy = fy - (float)y0;
    for (x = 0; x < kWidth; ++x) {
      const float fx = fmaxf(0.0f, (x + 0.5f) * ((float)w / content_w) - 0.5f);
      const int x0 = (int)fx < w - 1 ? (int)fx : w - 1;
      const int x1 = x0 + 1 < w - 1 ? x0 + 1 : w - 1;
      const float wx = fx - (float)x0;
      for (c = 0; c < kChannels; ++c) {
        const int rgb_c = 2 - c; /* the model wants BGR */
        float value = pre->pad_value;
        if (x < content_w) {
          const float top = at(rgb, w, x0, y0, rgb_c) +
                            (at(rgb, w, x1, y0, rgb_c) - at(rgb, w, x0, y0, rgb_c)) * wx;
          const float bottom = at(rgb, w, x0, y1, rgb_c) +
                               (at(rgb, w, x1, y1, rgb_c) - at(rgb, w, x0, y1, rgb_c)) * wx;
          value = (top + (bottom - top) * wy - pre->mean[c]) * pre->scale[c];
        }
        input[((size_t)c * kHeight + (size_t)y) * kWidth + (size_t)x] = value;
      }
    }
  }
  stbi_image_free(rgb);
  return 1;
}

struct prediction {
  int label;
  float probability;
};

/* Runs `simulator` on one preprocessed picture; the output is two probabilities. */
static int classify(lq_simulator* simulator, const char* input_name, const char* output_name,
                    float* input, struct prediction* result) {
  static const int64_t kShape[] = {1, kChannels, kHeight, kWidth};
  float scores[16];
  int64_t dims[4];
  lq_tensor_view in;
  lq_output_view out;
  lq_tensor_view_init(&in);
  in.name = input_name;
  in.dtype = LQ_FLOAT32;
  in.shape = kShape;
  in.rank = 4;
  in.data = input;
  in.byte_size = sizeof(float) * kChannels * kHeight * kWidth;
  lq_output_view_init(&out);
  out.name = output_name;
  out.data = scores;
  out.byte_size = sizeof scores;
  out.shape = dims;
  out.shape_capacity = 4;
  if (!ok(lq_simulator_run(simulator, &in, 1, &out, 1))) return 0;
  if (out.dtype != LQ_FLOAT32 || out.bytes_needed != 2 * sizeof(float)) {
    fprintf(stderr, "error: expected two float32 scores, got %zu bytes of %s\n", out.bytes_needed,
            lq_dtype_name(out.dtype));
    return 0;
  }
  result->label = scores[1] > scores[0] ? 1 : 0;
  result->probability = scores[result->label];
  return 1;
}

/* The calibrator's progress callback: a counter updated in place on a terminal. */
static void show_progress(int64_t done, int64_t total, void* user_data) {
  fprintf(stderr, "\r%s: %lld/%lld", (const char*)user_data, (long long)done, (long long)total);
  if (done == total) fputc('\n', stderr);
}

static const char* base_name(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

int main(int argc, char** argv) {
  lq_graph* graph = NULL;
  lq_simulator* float_sim = NULL;
  lq_simulator* int8_sim = NULL;
  lq_calibrator* calibrator = NULL;
  lq_calibration_sources* sources = NULL;
  lq_quantizer* quantizer = NULL;
  lq_quantized_graph* quantized = NULL;
  lq_simulator_options sim_options;
  lq_calibrator_options calib_options;
  lq_image_preprocess pre;
  const char* input_name = NULL;
  const char* output_name = NULL;
  uint64_t samples = 0;
  float* input = NULL;
  int status = 1, i;

  if (argc < 4) {
    fprintf(stderr, "usage: %s CLS_MODEL.onnx CALIB_DIR PICTURE...\n", argv[0]);
    return 2;
  }
  printf("libquant %s (C ABI %d)\n", lq_version(), lq_api_version());
  cls_preprocess(&pre);
  lq_simulator_options_init(&sim_options);
  sim_options.threads = 2;
  lq_calibrator_options_init(&calib_options);
  calib_options.threads = 2;
  calib_options.keep_samples = 8; /* the method "auto" scores its candidates on these */
  if (isatty(fileno(stderr))) {
    calib_options.progress = show_progress;
    calib_options.progress_user_data = (void*)"calibrating";
  }

  /* The float model: load, optimize, then one simulator and one calibrator on it. */
  if (!ok(lq_graph_load(argv[1], &graph)) || !ok(lq_graph_optimize(graph)) ||
      !ok(lq_graph_input_name(graph, 0, &input_name)) ||
      !ok(lq_graph_output_name(graph, 0, &output_name)) ||
      !ok(lq_simulator_create(graph, &sim_options, &float_sim)) ||
      !ok(lq_calibrator_create(graph, &calib_options, &calibrator)))
    goto done;

  /* Calibrate on every picture of the folder, preprocessed by the library. */
  if (!ok(lq_calibration_sources_create(&sources)) ||
      !ok(lq_calibration_sources_add_images(sources, input_name, argv[2], &pre)) ||
      !ok(lq_calibrator_add_sources(calibrator, sources)) ||
      !ok(lq_calibrator_sample_count(calibrator, &samples)))
    goto done;
  printf("calibrated on %llu pictures of %s\n", (unsigned long long)samples, argv[2]);

  /* int8 activations and weights, each activation's range chosen by "auto". */
  if (!ok(lq_quantizer_create(&quantizer)) || !ok(lq_quantizer_set_method(quantizer, "auto")) ||
      !ok(lq_quantizer_set_bits(quantizer, 8, 8)) ||
      !ok(lq_quantizer_quantize(quantizer, graph, calibrator, &quantized)) ||
      !ok(lq_simulator_create_fake_quant(quantized, &sim_options, &int8_sim)))
    goto done;

  input = malloc(sizeof(float) * kChannels * kHeight * kWidth);
  if (input == NULL) goto done;
  for (i = 3; i < argc; ++i) {
    struct prediction f, q;
    if (!load_picture(argv[i], &pre, input) ||
        !classify(float_sim, input_name, output_name, input, &f) ||
        !classify(int8_sim, input_name, output_name, input, &q))
      goto done;
    printf("%s: float %s (p=%.4f) int8 %s (p=%.4f)\n", base_name(argv[i]), kLabels[f.label],
           f.probability, kLabels[q.label], q.probability);
  }
  status = 0;

done:
  free(input);
  lq_simulator_release(int8_sim);
  lq_quantized_graph_release(quantized);
  lq_quantizer_release(quantizer);
  lq_calibration_sources_release(sources);
  lq_calibrator_release(calibrator);
  lq_simulator_release(float_sim);
  lq_graph_release(graph);
  return status;
}
