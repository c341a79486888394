/* Quantizes the PP-OCR text direction classifier to int8 through libquant's C ABI, compiles it
 * to a fixed-point program (saved as a .lqm file and loaded back, as a deployment would), then
 * classifies text-line pictures as upright (0) or upside down (180) with the float, the int8
 * fake-quant and the fixed-point simulators.
 *
 *   classify_direction [-o PROGRAM.lqm] CLS_MODEL.onnx CALIB_DIR PICTURE...
 *
 * CALIB_DIR is a folder of text-line pictures (PNG, JPEG, BMP). The program goes to
 * PROGRAM.lqm (default classify_direction.lqm in the current directory). Prints one line per
 * picture for float and int8 (fake quantization), and one for the fixed-point program:
 *   text_line.png: float 0 (p=0.9866) int8 0 (p=0.9723)
 *   text_line.png: fixed 0 (p=0.9727) */
#define _POSIX_C_SOURCE 200809L /* isatty */

#include <libquant.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* PP-OCR's classifier input: BGR, height 48, width by aspect ratio up to 192, padded on the
 * right, (pixel / 255 - 0.5) / 0.5. */
enum { kHeight = 48, kWidth = 192, kChannels = 3 };
static const int64_t kInputShape[] = {1, kChannels, kHeight, kWidth};
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

struct prediction {
  int label;
  float probability;
};

/* The picture (from lq_image_load) as the model input `name`. */
static lq_tensor_view picture_view(const char* name, const lq_tensor* picture) {
  lq_tensor_view view;
  lq_tensor_view_init(&view);
  view.name = name;
  view.dtype = lq_tensor_dtype(picture);
  view.shape = lq_tensor_shape(picture);
  view.rank = lq_tensor_rank(picture);
  view.data = (void*)lq_tensor_data(picture); /* only read */
  view.byte_size = lq_tensor_byte_size(picture);
  return view;
}

/* Room for the output `name`: two probabilities. */
struct scores {
  float values[16];
  int64_t dims[4];
  lq_output_view view;
};

static void prepare_scores(struct scores* scores, const char* name) {
  lq_output_view_init(&scores->view);
  scores->view.name = name;
  scores->view.data = scores->values;
  scores->view.byte_size = sizeof scores->values;
  scores->view.shape = scores->dims;
  scores->view.shape_capacity = 4;
}

static int predict(const struct scores* scores, struct prediction* result) {
  const lq_output_view* out = &scores->view;
  if (out->dtype != LQ_FLOAT32 || out->bytes_needed != 2 * sizeof(float)) {
    fprintf(stderr, "error: expected two float32 scores, got %zu bytes of %s\n", out->bytes_needed,
            lq_dtype_name(out->dtype));
    return 0;
  }
  result->label = scores->values[1] > scores->values[0] ? 1 : 0;
  result->probability = scores->values[result->label];
  return 1;
}

/* Runs a float or fake-quant simulator on one picture. */
static int classify(lq_simulator* simulator, const char* input_name, const char* output_name,
                    const lq_tensor* picture, struct prediction* result) {
  const lq_tensor_view in = picture_view(input_name, picture);
  struct scores scores;
  prepare_scores(&scores, output_name);
  return ok(lq_simulator_run(simulator, &in, 1, &scores.view, 1)) && predict(&scores, result);
}

/* Runs the fixed-point program on one picture: the simulator quantizes the float32 input with
 * the program input's scale and zero point and dequantizes the int8 scores. */
static int classify_fixed(lq_fixed_simulator* simulator, const char* input_name,
                          const char* output_name, const lq_tensor* picture,
                          struct prediction* result) {
  const lq_tensor_view in = picture_view(input_name, picture);
  struct scores scores;
  prepare_scores(&scores, output_name);
  return ok(lq_fixed_simulator_run(simulator, LQ_FIXED_OUTPUT_DEQUANTIZED, &in, 1, &scores.view,
                                   1)) &&
         predict(&scores, result);
}

/* The calibrator's progress callback: a counter updated in place on a terminal. */
static void show_progress(int64_t done, int64_t total, void* user_data) {
  fprintf(stderr, "\r%s: %lld/%lld", (const char*)user_data, (long long)done, (long long)total);
  if (done == total) fputc('\n', stderr);
}

/* The quantizer's and the compiler's decisions worth knowing (nodes left on the CPU, ...). */
static void show_note(const char* line, void* user_data) {
  (void)user_data;
  printf("note: %s\n", line);
}

static const char* base_name(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* Compiles `quantized` for batch 1, saves the program to `path` and loads it back. */
static int compile_and_save(const lq_quantized_graph* quantized, const char* input_name,
                            const char* path, lq_program** loaded) {
  lq_program* program = NULL;
  lq_input_shape input_shape;
  lq_compile_options options;
  uint64_t weights = 0, activations = 0;
  int done;
  lq_input_shape_init(&input_shape);
  input_shape.name = input_name; /* the model's batch is dynamic, a program's is not */
  input_shape.shape = kInputShape;
  input_shape.rank = 4;
  lq_compile_options_init(&options);
  options.target = "generic";
  options.input_shapes = &input_shape;
  options.input_shape_count = 1;
  options.log = show_note;
  done = ok(lq_compile(quantized, &options, &program)) &&
         ok(lq_program_weight_bytes(program, &weights)) &&
         ok(lq_program_peak_activation_bytes(program, &activations)) &&
         ok(lq_program_save(program, path));
  lq_program_release(program); /* what was saved is what a device would run */
  if (!done || !ok(lq_program_load(path, loaded))) return 0;
  printf("compiled: %s (weights %.1f KiB, activations %.1f KiB)\n", path, weights / 1024.0,
         activations / 1024.0);
  return 1;
}

int main(int argc, char** argv) {
  lq_graph* graph = NULL;
  lq_simulator* float_sim = NULL;
  lq_simulator* int8_sim = NULL;
  lq_calibrator* calibrator = NULL;
  lq_calibration_sources* sources = NULL;
  lq_quantizer* quantizer = NULL;
  lq_quantized_graph* quantized = NULL;
  lq_program* program = NULL;
  lq_fixed_simulator* fixed_sim = NULL;
  lq_tensor* picture = NULL;
  lq_simulator_options sim_options;
  lq_fixed_simulator_options fixed_options;
  lq_calibrator_options calib_options;
  lq_image_preprocess pre;
  const char* input_name = NULL;
  const char* output_name = NULL;
  const char* program_path = "classify_direction.lqm";
  uint64_t samples = 0;
  int status = 1, i, first = 1;

  if (argc > 2 && strcmp(argv[1], "-o") == 0) {
    program_path = argv[2];
    first = 3;
  }
  if (argc - first < 3) {
    fprintf(stderr, "usage: %s [-o PROGRAM.lqm] CLS_MODEL.onnx CALIB_DIR PICTURE...\n", argv[0]);
    return 2;
  }
  printf("libquant %s (C ABI %d)\n", lq_version(), lq_api_version());
  cls_preprocess(&pre);
  lq_simulator_options_init(&sim_options);
  sim_options.threads = 2;
  lq_fixed_simulator_options_init(&fixed_options);
  fixed_options.threads = 2;
  lq_calibrator_options_init(&calib_options);
  calib_options.threads = 2;
  calib_options.keep_samples = 8; /* the method "auto" scores its candidates on these */
  if (isatty(fileno(stderr))) {
    calib_options.progress = show_progress;
    calib_options.progress_user_data = (void*)"calibrating";
  }

  /* The float model: load, optimize, then one simulator and one calibrator on it. */
  if (!ok(lq_graph_load(argv[first], &graph)) || !ok(lq_graph_optimize(graph)) ||
      !ok(lq_graph_input_name(graph, 0, &input_name)) ||
      !ok(lq_graph_output_name(graph, 0, &output_name)) ||
      !ok(lq_simulator_create(graph, &sim_options, &float_sim)) ||
      !ok(lq_calibrator_create(graph, &calib_options, &calibrator)))
    goto done;

  /* Calibrate on every picture of the folder, preprocessed by the library. */
  if (!ok(lq_calibration_sources_create(&sources)) ||
      !ok(lq_calibration_sources_add_images(sources, input_name, argv[first + 1], &pre)) ||
      !ok(lq_calibrator_add_sources(calibrator, sources)) ||
      !ok(lq_calibrator_sample_count(calibrator, &samples)))
    goto done;
  printf("calibrated on %llu pictures of %s\n", (unsigned long long)samples, argv[first + 1]);

  /* int8 activations and weights, each activation's range chosen by "auto". */
  if (!ok(lq_quantizer_create(&quantizer)) || !ok(lq_quantizer_set_method(quantizer, "auto")) ||
      !ok(lq_quantizer_set_bits(quantizer, 8, 8)) ||
      !ok(lq_quantizer_set_log_callback(quantizer, show_note, NULL)) ||
      !ok(lq_quantizer_quantize(quantizer, graph, calibrator, &quantized)) ||
      !ok(lq_simulator_create_fake_quant(quantized, &sim_options, &int8_sim)))
    goto done;

  /* The integer program, as an NPU runs it, and its bit-exact simulator. */
  if (!compile_and_save(quantized, input_name, program_path, &program) ||
      !ok(lq_fixed_simulator_create(program, &fixed_options, &fixed_sim)))
    goto done;

  for (i = first + 2; i < argc; ++i) {
    struct prediction f, q, x;
    if (!ok(lq_image_load(argv[i], &pre, &picture)) ||
        !classify(float_sim, input_name, output_name, picture, &f) ||
        !classify(int8_sim, input_name, output_name, picture, &q) ||
        !classify_fixed(fixed_sim, input_name, output_name, picture, &x))
      goto done;
    printf("%s: float %s (p=%.4f) int8 %s (p=%.4f)\n", base_name(argv[i]), kLabels[f.label],
           f.probability, kLabels[q.label], q.probability);
    printf("%s: fixed %s (p=%.4f)\n", base_name(argv[i]), kLabels[x.label], x.probability);
    lq_tensor_release(picture);
    picture = NULL;
  }
  status = 0;

done:
  lq_tensor_release(picture);
  lq_fixed_simulator_release(fixed_sim);
  lq_program_release(program);
  lq_simulator_release(int8_sim);
  lq_quantized_graph_release(quantized);
  lq_quantizer_release(quantizer);
  lq_calibration_sources_release(sources);
  lq_calibrator_release(calibrator);
  lq_simulator_release(float_sim);
  lq_graph_release(graph);
  return status;
}
