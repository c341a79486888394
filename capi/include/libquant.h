/* libquant's stable C ABI.
 *
 * Conventions (the same for every function):
 * - Opaque handles. A handle is used by one thread at a time, except lq_simulator_run and
 *   lq_simulator_run_to_tensors, which may be called concurrently on one simulator (runs
 *   are serialized inside).
 * - Every fallible call returns an lq_status*: NULL on success, otherwise a status the caller
 *   releases with lq_status_release. Messages name the function, the parameter or the model
 *   element at fault, and what to do.
 * - Output parameters (`out`) are set to NULL or 0 on entry, so a caller may release them
 *   unconditionally after a failure.
 * - Every *_release function accepts NULL. Handles are tagged: a handle passed again after
 *   its release gives LQ_INVALID_ARGUMENT "... was released" where that is detectable. The
 *   memory is freed on release, so this is best effort (and reported as a use after free by
 *   AddressSanitizer and Valgrind): never rely on it.
 * - Options structs begin with `size_t struct_size`, set to sizeof(the struct) by the
 *   lq_*_init inline functions below (which also fill in the defaults). Fields are only ever
 *   appended: a library accepts every struct_size from the first version's up to its own, and
 *   rejects a smaller (or unknown, larger) size with LQ_INVALID_ARGUMENT. Arrays of such
 *   structs are stepped by their first element's struct_size.
 * - Objects that depend on others keep them alive: a simulator or calibrator holds the graph
 *   as it was when it was created, so the graph handle may be released (or changed by
 *   lq_graph_optimize) afterwards; a fixed simulator holds its program. A program needs
 *   nothing it was compiled from.
 * - Callbacks (progress, log, stage, tensor observer) are called on the thread that made the
 *   call they report on, before that call returns. They must not call back into the handle
 *   that calls them.
 * - Buffers the library returns (lq_buffer, lq_tensor) are released by the library.
 * - No C++ exception crosses this boundary.
 */
#ifndef LIBQUANT_H_
#define LIBQUANT_H_

#include <stddef.h>
#include <stdint.h>

#if defined(LQ_STATIC_DEFINE)
#define LQ_C_API
#elif defined(_WIN32)
#if defined(LQ_BUILDING_LIBRARY)
#define LQ_C_API __declspec(dllexport)
#else
#define LQ_C_API __declspec(dllimport)
#endif
#else
#define LQ_C_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ------------------------------------------------------------------------ */

/* The version of this header's ABI; lq_api_version() is the library's. It grows by one with
 * every release that appends functions or struct fields (nothing is ever removed or changed),
 * so a caller may check lq_api_version() >= the version that introduced what it uses:
 *   1  graphs, float and fake-quant simulators, calibration, quantization
 *   2  the compile stage (lq_compile, lq_program), the fixed-point simulator, log callbacks
 *      (lq_quantizer_set_log_callback, lq_compile_options.log), lq_image_load,
 *      lq_quantizer_default_config_json
 *   3  the pipeline (lq_pipeline, lq_pipeline_result), lq_quantizer_set_target,
 *      lq_npy_load, lq_npy_save, lq_fixed_simulator_run_observed
 *   4  calibration beyond one process: lq_pipeline_set_calibration_shard,
 *      lq_pipeline_set_stats_output, lq_pipeline_set_calibrate_only,
 *      lq_pipeline_set_stats_inputs, lq_calibration_stats_merge, lq_calibrator_save_stats;
 *      the precision report (lq_analyze)
 *   5  lq_pipeline_set_analyze, lq_pipeline_set_input_format, lq_check_deployment,
 *      lq_estimate (lq_target_query), step progress (lq_step_progress_fn,
 *      lq_quantizer_set_progress_callback, lq_pipeline_run_options.step_progress,
 *      lq_analyze_options.progress), lq_quantizer_set_min_snr, resource limits
 *      (lq_resource_limits, lq_set_resource_limits, lq_get_resource_limits), quantizing
 *      without data (lq_quantizer_set_input_range, a NULL calibrator with method skip) */
#define LQ_API_VERSION 5

LQ_C_API const char* lq_version(void); /* the library's release, e.g. "0.1.0" */
LQ_C_API int lq_api_version(void);

/* ---- Status ------------------------------------------------------------------------- */

/* Mirrors lq::StatusCode. LQ_OUT_OF_MEMORY: std::bad_alloc, or a file or model that asks for
   more memory than the resource limits allow (lq::StatusCode::kResourceExhausted). */
typedef enum lq_code {
  LQ_OK = 0,
  LQ_INVALID_ARGUMENT = 1,    /* the caller passed something wrong (shape, dtype, name, NULL) */
  LQ_NOT_FOUND = 2,           /* a file, input or node that does not exist */
  LQ_UNSUPPORTED = 3,         /* valid ONNX that libquant does not implement */
  LQ_INVALID_MODEL = 4,       /* a corrupt, truncated or inconsistent model */
  LQ_IO_ERROR = 5,            /* reading or writing a file failed */
  LQ_FAILED_PRECONDITION = 6, /* stages called out of order */
  LQ_INTERNAL = 7,            /* a bug in libquant */
  LQ_OUT_OF_MEMORY = 8
} lq_code;

typedef struct lq_status lq_status;

LQ_C_API lq_code lq_status_code(const lq_status* status); /* LQ_OK for NULL */
/* "" for NULL; valid until the status is released. */
LQ_C_API const char* lq_status_message(const lq_status* status);
LQ_C_API void lq_status_release(lq_status* status);

/* ---- Log ---------------------------------------------------------------------------- */

/* Receives the decisions a user should hear about, one line each (no trailing newline; valid
 * only during the call): nodes the quantizer keeps in float or widens to int16 (see
 * lq_quantizer_set_log_callback), nodes the compiler puts on the CPU and why (see
 * lq_compile_options). */
typedef void (*lq_log_fn)(const char* line, void* user_data);

/* ---- Element types ------------------------------------------------------------------ */

/* LQ_INT4 is stored unpacked: one value in [-8, 7] per int8 byte. */
typedef enum lq_dtype {
  LQ_DTYPE_UNDEFINED = 0,
  LQ_FLOAT32 = 1,
  LQ_FLOAT16 = 2,
  LQ_FLOAT64 = 3,
  LQ_INT4 = 4,
  LQ_INT8 = 5,
  LQ_UINT8 = 6,
  LQ_INT16 = 7,
  LQ_UINT16 = 8,
  LQ_INT32 = 9,
  LQ_UINT32 = 10,
  LQ_INT64 = 11,
  LQ_UINT64 = 12,
  LQ_BOOL = 13
} lq_dtype;

LQ_C_API size_t lq_dtype_size(lq_dtype dtype);      /* bytes per element; 0 if not a dtype */
LQ_C_API const char* lq_dtype_name(lq_dtype dtype); /* "float32", ...; "unknown" if not one */

/* ---- Library-owned bytes ------------------------------------------------------------ */

/* Serialized models and JSON. Text is also NUL-terminated (not counted in the size). */
typedef struct lq_buffer lq_buffer;

LQ_C_API const void* lq_buffer_data(const lq_buffer* buffer); /* NULL for NULL */
LQ_C_API size_t lq_buffer_size(const lq_buffer* buffer);      /* 0 for NULL */
LQ_C_API void lq_buffer_release(lq_buffer* buffer);

/* ---- Caller-owned tensors ----------------------------------------------------------- */

/* An input: `byte_size` must equal the element count of `shape` times lq_dtype_size(dtype).
 * The library reads `data` only during the call (it copies what it keeps). */
typedef struct lq_tensor_view {
  size_t struct_size;
  const char* name; /* the graph input */
  lq_dtype dtype;
  const int64_t* shape; /* `rank` dimensions; may be NULL when rank is 0 */
  size_t rank;
  void* data;
  size_t byte_size;
} lq_tensor_view;

/* An output the library copies into caller memory. The caller sets the fields marked in; the
 * library sets those marked out. When a run fails because `byte_size` or `shape_capacity` is
 * too small, the out fields are still set (so the caller can grow its buffers and run
 * again), and no view's data is written. */
typedef struct lq_output_view {
  size_t struct_size;
  const char* name;      /* in: the graph output */
  void* data;            /* in: at least `bytes_needed` bytes */
  size_t byte_size;      /* in */
  int64_t* shape;        /* in: receives the output's dimensions */
  size_t shape_capacity; /* in: elements `shape` holds */
  lq_dtype dtype;        /* out */
  size_t rank;           /* out */
  size_t bytes_needed;   /* out */
} lq_output_view;

static inline void lq_tensor_view_init(lq_tensor_view* view) {
  view->struct_size = sizeof(*view);
  view->name = NULL;
  view->dtype = LQ_DTYPE_UNDEFINED;
  view->shape = NULL;
  view->rank = 0;
  view->data = NULL;
  view->byte_size = 0;
}

static inline void lq_output_view_init(lq_output_view* view) {
  view->struct_size = sizeof(*view);
  view->name = NULL;
  view->data = NULL;
  view->byte_size = 0;
  view->shape = NULL;
  view->shape_capacity = 0;
  view->dtype = LQ_DTYPE_UNDEFINED;
  view->rank = 0;
  view->bytes_needed = 0;
}

/* ---- Library-owned tensors ---------------------------------------------------------- */

/* An output of lq_simulator_run_to_tensors or lq_fixed_simulator_run_to_tensors, or a picture
 * from lq_image_load. Accessors return NULL/0 for NULL. */
typedef struct lq_tensor lq_tensor;

LQ_C_API const char* lq_tensor_name(const lq_tensor* tensor);
LQ_C_API lq_dtype lq_tensor_dtype(const lq_tensor* tensor);
LQ_C_API size_t lq_tensor_rank(const lq_tensor* tensor);
LQ_C_API const int64_t* lq_tensor_shape(const lq_tensor* tensor);
LQ_C_API const void* lq_tensor_data(const lq_tensor* tensor);
LQ_C_API size_t lq_tensor_byte_size(const lq_tensor* tensor);
LQ_C_API void lq_tensor_release(lq_tensor* tensor);

/* .npy files (format 1.0-3.0, C order) as `lquant run` reads inputs and writes outputs.
 * lq_npy_load gives a tensor named "" (LQ_NOT_FOUND for a missing file, LQ_INVALID_ARGUMENT
 * for one that is no .npy); lq_npy_save writes `tensor` (its name is not used). */
LQ_C_API lq_status* lq_npy_load(const char* path, lq_tensor** out);
LQ_C_API lq_status* lq_npy_save(const lq_tensor_view* tensor, const char* path);

/* ---- Resource limits ---------------------------------------------------------------- */

/* What a file or a model may make libquant allocate, checked before allocating: ONNX
 * initializers, .npy headers, .lqm arenas, shape-computing ops (ConstantOfShape, Expand,
 * Tile, Range, Pad, Resize, ...) in constant folding, shape propagation and the simulators,
 * and the compiler's memory plan. A model or file asking for more fails with
 * LQ_OUT_OF_MEMORY and a message naming the node or file, the size asked for and the limit.
 * The limits are process-wide: lq_set_resource_limits applies to every call that starts
 * after it (from any thread). */
typedef struct lq_resource_limits {
  size_t struct_size;
  int64_t max_tensor_bytes; /* one tensor; default 8 GiB */
  int64_t max_model_bytes;  /* one model's initializers, or a program's arena; default 16 GiB */
} lq_resource_limits;

static inline void lq_resource_limits_init(lq_resource_limits* limits) {
  limits->struct_size = sizeof(*limits);
  limits->max_tensor_bytes = (int64_t)8 << 30;
  limits->max_model_bytes = (int64_t)16 << 30;
}

/* Both limits must be > 0 (LQ_INVALID_ARGUMENT otherwise). */
LQ_C_API lq_status* lq_set_resource_limits(const lq_resource_limits* limits);
/* The limits in force; `limits->struct_size` must be set (lq_resource_limits_init). */
LQ_C_API lq_status* lq_get_resource_limits(lq_resource_limits* limits);

/* ---- Graph -------------------------------------------------------------------------- */

typedef struct lq_graph lq_graph;

/* ONNX, with shape inference. */
LQ_C_API lq_status* lq_graph_load(const char* path, lq_graph** out);
LQ_C_API lq_status* lq_graph_load_from_memory(const void* data, size_t size, lq_graph** out);
LQ_C_API void lq_graph_release(lq_graph* graph);

/* Runs the graph rewrites (fold constants, fuse BatchNorm, ...) to a fixed point. */
LQ_C_API lq_status* lq_graph_optimize(lq_graph* graph);
LQ_C_API lq_status* lq_graph_save(const lq_graph* graph, const char* path);
LQ_C_API lq_status* lq_graph_serialize(const lq_graph* graph, lq_buffer** out);

/* Model inputs (constants excluded) and outputs, by index in model order. Names stay valid
 * until the graph is changed (optimize, propagate_shapes) or released. A dtype the model does
 * not declare is LQ_DTYPE_UNDEFINED; an unknown dimension is -1. For a shape, pass dims=NULL
 * and capacity 0 to ask for the rank alone; a graph input or output of unknown rank gives
 * LQ_NOT_FOUND. */
LQ_C_API lq_status* lq_graph_input_count(const lq_graph* graph, size_t* count);
LQ_C_API lq_status* lq_graph_input_name(const lq_graph* graph, size_t index, const char** name);
LQ_C_API lq_status* lq_graph_input_dtype(const lq_graph* graph, size_t index, lq_dtype* dtype);
LQ_C_API lq_status* lq_graph_input_shape(const lq_graph* graph, size_t index, int64_t* dims,
                                         size_t capacity, size_t* rank);
LQ_C_API lq_status* lq_graph_output_count(const lq_graph* graph, size_t* count);
LQ_C_API lq_status* lq_graph_output_name(const lq_graph* graph, size_t index, const char** name);
LQ_C_API lq_status* lq_graph_output_dtype(const lq_graph* graph, size_t index, lq_dtype* dtype);
LQ_C_API lq_status* lq_graph_output_shape(const lq_graph* graph, size_t index, int64_t* dims,
                                          size_t capacity, size_t* rank);

/* Fixes the named inputs' shapes (shapes[i] has ranks[i] dimensions; inputs not named keep
 * theirs, which must be static) and makes every value's shape static by running the float
 * simulator once on zeros. */
LQ_C_API lq_status* lq_graph_propagate_shapes(lq_graph* graph, const char* const* input_names,
                                              const int64_t* const* shapes, const size_t* ranks,
                                              size_t count);

/* ---- Simulator ---------------------------------------------------------------------- */

typedef struct lq_simulator lq_simulator;

typedef struct lq_simulator_options {
  size_t struct_size;
  int threads;        /* >= 1 (0 means 1); results are identical for any count */
  int reference_only; /* nonzero: only the plain reference kernels */
} lq_simulator_options;

static inline void lq_simulator_options_init(lq_simulator_options* options) {
  options->struct_size = sizeof(*options);
  options->threads = 1;
  options->reference_only = 0;
}

/* The float simulator of a graph. `options` may be NULL (defaults). */
LQ_C_API lq_status* lq_simulator_create(const lq_graph* graph, const lq_simulator_options* options,
                                        lq_simulator** out);
/* Runs on every graph input (`inputs`: one view each, any order) and copies the outputs named
 * by `outputs` (any subset, any order). */
LQ_C_API lq_status* lq_simulator_run(lq_simulator* simulator, const lq_tensor_view* inputs,
                                     size_t input_count, lq_output_view* outputs,
                                     size_t output_count);
/* Runs and returns every graph output, in model order, as library-owned tensors:
 * `outputs` holds `output_capacity` pointers; *output_count is set to the number of graph
 * outputs (also when the capacity is too small). Release each tensor. */
LQ_C_API lq_status* lq_simulator_run_to_tensors(lq_simulator* simulator,
                                                const lq_tensor_view* inputs, size_t input_count,
                                                lq_tensor** outputs, size_t output_capacity,
                                                size_t* output_count);
LQ_C_API void lq_simulator_release(lq_simulator* simulator);

/* ---- Calibration -------------------------------------------------------------------- */

typedef struct lq_calibrator lq_calibrator;
typedef struct lq_calibration_sources lq_calibration_sources;

/* Called after each sample of lq_calibrator_add_sources (not for lq_calibrator_add_sample).
 * It must not call back into the calibrator. */
typedef void (*lq_progress_fn)(int64_t done, int64_t total, void* user_data);

/* Progress of a named step of a longer job: `step` is "auto ranges" (the range method auto
 * choosing each tensor's range; done = the tensor's place among the node outputs), "auto
 * search" (its refinement: whole-model evaluations), "mixed precision" (tensors measured),
 * "compile" (nodes lowered), "analysis" (samples run) or "sensitivity" (activations
 * measured). `step` is valid during the call only; done == total ends the step. It must not
 * call back into the object that reports it. */
typedef void (*lq_step_progress_fn)(const char* step, int64_t done, int64_t total, void* user_data);

typedef struct lq_calibrator_options {
  size_t struct_size;
  int threads;             /* >= 1 (0 means 1) */
  int histogram_bins;      /* even, >= 2 */
  size_t keep_samples;     /* the first samples kept for the range method "auto" to score on */
  lq_progress_fn progress; /* may be NULL */
  void* progress_user_data;
} lq_calibrator_options;

static inline void lq_calibrator_options_init(lq_calibrator_options* options) {
  options->struct_size = sizeof(*options);
  options->threads = 1;
  options->histogram_bins = 2048;
  options->keep_samples = 8;
  options->progress = NULL;
  options->progress_user_data = NULL;
}

typedef enum lq_resize_mode {
  LQ_RESIZE_STRETCH = 0,       /* bilinear to exactly height x width */
  LQ_RESIZE_NONE = 1,          /* keep the picture's size */
  LQ_RESIZE_FIT_HEIGHT_PAD = 2 /* height fixed, width by aspect ratio up to `width`, padded
                                  on the right (text lines) */
} lq_resize_mode;

typedef enum lq_color_order {
  LQ_COLOR_RGB = 0,
  LQ_COLOR_BGR = 1,
  LQ_COLOR_GRAY = 2
} lq_color_order;

typedef enum lq_layout { LQ_LAYOUT_NCHW = 0, LQ_LAYOUT_NHWC = 1 } lq_layout;

/* How a picture becomes a float32 input [1,C,H,W] (or [1,H,W,C]): per channel, in the output's
 * channel order, value = (pixel - mean) * scale with pixel in [0, 255]. */
typedef struct lq_image_preprocess {
  size_t struct_size;
  int64_t height;
  int64_t width;
  lq_resize_mode resize;
  lq_color_order color;
  lq_layout layout;
  float mean[3];
  float scale[3];
  float pad_value; /* after normalization */
} lq_image_preprocess;

static inline void lq_image_preprocess_init(lq_image_preprocess* preprocess) {
  int c;
  preprocess->struct_size = sizeof(*preprocess);
  preprocess->height = 0;
  preprocess->width = 0;
  preprocess->resize = LQ_RESIZE_STRETCH;
  preprocess->color = LQ_COLOR_RGB;
  preprocess->layout = LQ_LAYOUT_NCHW;
  for (c = 0; c < 3; ++c) {
    preprocess->mean[c] = 0.0f;
    preprocess->scale[c] = 1.0f;
  }
  preprocess->pad_value = 0.0f;
}

/* Reads a picture (PNG, JPEG, BMP) as picture calibration sources do: a float32 tensor
 * [1,C,H,W] (or [1,H,W,C]), C = 1 for LQ_COLOR_GRAY, else 3, named "". Feed it to a simulator
 * through an lq_tensor_view of its shape, data and byte size. A missing file gives
 * LQ_NOT_FOUND, one that is no picture LQ_INVALID_ARGUMENT. */
LQ_C_API lq_status* lq_image_load(const char* path, const lq_image_preprocess* preprocess,
                                  lq_tensor** out);

/* Collects statistics of every tensor from float runs of `graph` on samples. */
LQ_C_API lq_status* lq_calibrator_create(const lq_graph* graph,
                                         const lq_calibrator_options* options, lq_calibrator** out);
/* One sample: a view for every model input (batch > 1 allowed). */
LQ_C_API lq_status* lq_calibrator_add_sample(lq_calibrator* calibrator,
                                             const lq_tensor_view* inputs, size_t input_count);
/* Samples from files: every model input needs a source and all sources the same number of
 * files (paired in sorted order). */
LQ_C_API lq_status* lq_calibrator_add_sources(lq_calibrator* calibrator,
                                              const lq_calibration_sources* sources);
LQ_C_API lq_status* lq_calibrator_sample_count(const lq_calibrator* calibrator, uint64_t* count);
/* Every tensor's min, max, count and histogram, as JSON. */
LQ_C_API lq_status* lq_calibrator_table_json(const lq_calibrator* calibrator, lq_buffer** out);
/* Writes the calibrator's statistics (a versioned file, kept samples included) to `path`,
 * for lq_calibration_stats_merge and lq_pipeline_set_stats_inputs. */
LQ_C_API lq_status* lq_calibrator_save_stats(const lq_calibrator* calibrator, const char* path);
/* Merges the statistics files of the shards of one calibration (any order) into `out_path`,
 * exactly: the result equals one calibration over all their samples. Files of different
 * models or input shapes, bin counts or versions are refused, naming the file. */
LQ_C_API lq_status* lq_calibration_stats_merge(const char* const* paths, size_t count,
                                               const char* out_path);
LQ_C_API void lq_calibrator_release(lq_calibrator* calibrator);

/* Files for each model input: .npy files or pictures (PNG, JPEG, BMP), each path a file or a
 * folder (its matching files, sorted by name). One input's paths are all .npy or all
 * pictures with one preprocessing. lq_calibration_sources_add_npy also takes an LMDB
 * calibration set: a path ending in .lmdb (file or directory) or a directory holding
 * data.mdb, each record the bytes of an .npy file, taken in key order, read one at a time. */
LQ_C_API lq_status* lq_calibration_sources_create(lq_calibration_sources** out);
LQ_C_API lq_status* lq_calibration_sources_add_npy(lq_calibration_sources* sources,
                                                   const char* input_name, const char* path);
LQ_C_API lq_status* lq_calibration_sources_add_images(lq_calibration_sources* sources,
                                                      const char* input_name, const char* path,
                                                      const lq_image_preprocess* preprocess);
LQ_C_API void lq_calibration_sources_release(lq_calibration_sources* sources);

/* ---- Quantization ------------------------------------------------------------------- */

/* A quant config (model < op type < node levels) and the quantization it drives. */
typedef struct lq_quantizer lq_quantizer;
/* A float graph with quantization parameters for its tensors. */
typedef struct lq_quantized_graph lq_quantized_graph;

LQ_C_API lq_status* lq_quantizer_create(lq_quantizer** out); /* the default config */
/* The default config as JSON with every model-level setting spelled out (range method, bit
 * widths, symmetry, per-channel weights, scale kind, percentile, ...): what the config of
 * lq_quantizer_create resolves to, a starting point for lq_quantizer_create_from_json. */
LQ_C_API lq_status* lq_quantizer_default_config_json(lq_buffer** out);
/* The JSON quant config; errors carry the validator's message (JSON path, key, choices). */
LQ_C_API lq_status* lq_quantizer_create_from_json(const char* json, lq_quantizer** out);
/* Model level: the activations' range method ("max", "percentile", "kl", "mse", "mmse",
 * "auto", "skip"). */
LQ_C_API lq_status* lq_quantizer_set_method(lq_quantizer* quantizer, const char* method);
/* Model level: activations 8 or 16 bits, weights 4, 8 or 16 bits (signed); 0 keeps one. */
LQ_C_API lq_status* lq_quantizer_set_bits(lq_quantizer* quantizer, int activation_bits,
                                          int weight_bits);
/* Model level: one weight scale per output channel (nonzero) or per tensor (0). */
LQ_C_API lq_status* lq_quantizer_set_per_channel(lq_quantizer* quantizer, int per_channel);
LQ_C_API lq_status* lq_quantizer_config_json(const lq_quantizer* quantizer, lq_buffer** out);
/* `log` (NULL: none) receives, during each successful lq_quantizer_quantize, the decisions the
 * quantizer made that a user should hear about (nodes kept in float, tensors widened to int16,
 * the range method "auto"'s result). */
LQ_C_API lq_status* lq_quantizer_set_log_callback(lq_quantizer* quantizer, lq_log_fn log,
                                                  void* user_data);
/* What the quantized graph will be compiled for: "generic" (int8 and int16) or "int8" (no
 * int16: what the config asks in int16 falls back to int8, with a log line for each). The
 * default is "generic". Compile for the same target (lq_compile_options.target). */
/* `progress` (NULL: none) hears, during lq_quantizer_quantize, the steps of its searches
 * ("auto ranges", "auto search", "mixed precision"), on the calling thread. */
LQ_C_API lq_status* lq_quantizer_set_progress_callback(lq_quantizer* quantizer,
                                                       lq_step_progress_fn progress, void* user_data);
LQ_C_API lq_status* lq_quantizer_set_target(lq_quantizer* quantizer, const char* target);
/* The range method "skip" without a calibrator: random inputs for `input` are drawn from
 * [min, max] (default [-1, 1]); min < max, both finite. */
LQ_C_API lq_status* lq_quantizer_set_input_range(lq_quantizer* quantizer, const char* input,
                                                 double min, double max);
/* `calibrator` must have been created from `graph` as it is now and have seen samples. With
 * the range method "skip" it may be NULL: ranges then come from the weights and from random
 * inputs (lq_quantizer_set_input_range) in the graph's static input shapes, and the log
 * callback's first line says the result is not for accuracy. */
LQ_C_API lq_status* lq_quantizer_quantize(const lq_quantizer* quantizer, const lq_graph* graph,
                                          const lq_calibrator* calibrator,
                                          lq_quantized_graph** out);
LQ_C_API void lq_quantizer_release(lq_quantizer* quantizer);
/* Accuracy target: lq_quantizer_quantize makes the 8-bit activations that harm the outputs
 * most int16, one at a time, within `int16_budget` (a share of the activation elements, 0:
 * 0.25), until the worst output SNR on the calibrator's kept samples reaches `min_snr_db`
 * (0: off); the log says whether it did. Needs kept samples. */
LQ_C_API lq_status* lq_quantizer_set_min_snr(lq_quantizer* quantizer, double min_snr_db,
                                             double int16_budget);

/* ONNX with QuantizeLinear/DequantizeLinear pairs; model inputs and outputs stay float. */
LQ_C_API lq_status* lq_quantized_graph_save_qdq(const lq_quantized_graph* qgraph, const char* path);
LQ_C_API lq_status* lq_quantized_graph_serialize_qdq(const lq_quantized_graph* qgraph,
                                                     lq_buffer** out);
/* Every tensor's dtype, scale(s), zero point(s), range and range method, as JSON. */
LQ_C_API lq_status* lq_quantized_graph_params_json(const lq_quantized_graph* qgraph,
                                                   lq_buffer** out);
/* A float simulator that quantizes and dequantizes every tensor with parameters, as the QDQ
 * export does (run it with lq_simulator_run). */
LQ_C_API lq_status* lq_simulator_create_fake_quant(const lq_quantized_graph* qgraph,
                                                   const lq_simulator_options* options,
                                                   lq_simulator** out);
LQ_C_API void lq_quantized_graph_release(lq_quantized_graph* qgraph);

/* ---- Compile ------------------------------------------------------------------------ */

/* A compiled integer program (what the NPU runs, the .lqm file): instructions, constants and
 * the memory plan, with static shapes. */
typedef struct lq_program lq_program;

/* The size of a model input with dynamic dimensions, for the program (which has static
 * shapes). */
typedef struct lq_input_shape {
  size_t struct_size;
  const char* name;     /* the model input */
  const int64_t* shape; /* `rank` dimensions, each >= 0; may be NULL when rank is 0 */
  size_t rank;
} lq_input_shape;

static inline void lq_input_shape_init(lq_input_shape* input_shape) {
  input_shape->struct_size = sizeof(*input_shape);
  input_shape->name = NULL;
  input_shape->shape = NULL;
  input_shape->rank = 0;
}

typedef struct lq_compile_options {
  size_t struct_size;
  /* What the program may run in integer: "generic" (every integer op libquant lowers, int8 and
   * int16) or "int8" (int16 ops on the CPU). NULL means "generic". */
  const char* target;
  /* One element for every model input with a dynamic dimension (others may be given too, with
   * their declared dimensions); NULL when input_shape_count is 0. */
  const lq_input_shape* input_shapes;
  size_t input_shape_count;
  /* May be NULL. Receives, during a successful lq_compile, one line per node left on the CPU
   * with the reason, e.g. `CPU node Shape "shape": no integer kernel for Shape`. */
  lq_log_fn log;
  void* log_user_data;
} lq_compile_options;

static inline void lq_compile_options_init(lq_compile_options* options) {
  options->struct_size = sizeof(*options);
  options->target = NULL;
  options->input_shapes = NULL;
  options->input_shape_count = 0;
  options->log = NULL;
  options->log_user_data = NULL;
}

/* Lowers a quantized graph to an integer program. `options` may be NULL (defaults; then every
 * model input must have a static shape). A model input with a dynamic dimension and no
 * options->input_shapes element gives LQ_INVALID_ARGUMENT, an element naming no model input
 * LQ_NOT_FOUND. */
LQ_C_API lq_status* lq_compile(const lq_quantized_graph* qgraph, const lq_compile_options* options,
                               lq_program** out);
LQ_C_API void lq_program_release(lq_program* program);

/* The .lqm format: magic number, format version, CRC-32 and the program. lq_program_save
 * replaces `path` atomically. A file that is corrupt, truncated or no .lqm at all gives
 * LQ_INVALID_MODEL, one written by a newer format version LQ_UNSUPPORTED, a missing one
 * LQ_NOT_FOUND. */
LQ_C_API lq_status* lq_program_save(const lq_program* program, const char* path);
LQ_C_API lq_status* lq_program_load(const char* path, lq_program** out);
LQ_C_API lq_status* lq_program_serialize(const lq_program* program, lq_buffer** out);
LQ_C_API lq_status* lq_program_parse(const void* data, size_t size, lq_program** out);

/* The per-layer report as JSON: every instruction (node, op type, kernel, inputs, outputs,
 * multiply-accumulates, and for CPU nodes the reason), every tensor (dtype, shape, scale, zero
 * point, arena offset), the instruction counts and the memory totals. */
LQ_C_API lq_status* lq_program_summary_json(const lq_program* program, lq_buffer** out);
/* The arena every run needs (activations), and the constants (weights, biases, tables). */
LQ_C_API lq_status* lq_program_peak_activation_bytes(const lq_program* program, uint64_t* bytes);
LQ_C_API lq_status* lq_program_weight_bytes(const lq_program* program, uint64_t* bytes);

/* ---- Target check and cost estimate, before calibration (lquant check / estimate) ---- */

/* `target`: a built-in profile name ("generic", "int8", "pow2-npu", "small-npu") or a profile
 * .json path; NULL is "generic". Bits 0: 8 (activations 8 or 16; weights 4, 8 or 16). The graph
 * (shapes static, e.g. after lq_graph_propagate_shapes) is optimized first, as lquant does. */
typedef struct lq_target_query {
  size_t struct_size;
  const char* target;
  int activation_bits;
  int weight_bits;
  const char* mode; /* estimate: "latency", "bandwidth" or "balance" (NULL: balance) */
  int cores;        /* estimate: cores of the plan (0: the target's) */
  double balance_factor; /* estimate, balance: DDR traffic allowed above the least (0.25: 25 %) */
} lq_target_query;

static inline void lq_target_query_init(lq_target_query* query) {
  query->struct_size = sizeof(*query);
  query->target = NULL;
  query->activation_bits = 0;
  query->weight_bits = 0;
  query->mode = NULL;
  query->cores = 0;
  query->balance_factor = 0.25;
}

/* Where every node runs (NPU, CPU or unsupported, with the rule that decided it), as the JSON
 * of lquant check --json, into *json (may be NULL); the counts into npu, cpu and unsupported
 * (each may be NULL). The model is deployable when unsupported is 0. `query` may be NULL. */
LQ_C_API lq_status* lq_check_deployment(const lq_graph* graph, const lq_target_query* query,
                                        lq_buffer** json, int64_t* npu, int64_t* cpu,
                                        int64_t* unsupported);
/* What the model costs on the target without calibration (lquant estimate --json): per layer
 * MACs, bytes, SRAM tiles, DDR traffic and cycles, and the totals, into *json (may be NULL);
 * the total MACs and the latency in seconds into macs and latency_seconds (may be NULL). */
LQ_C_API lq_status* lq_estimate(const lq_graph* graph, const lq_target_query* query,
                                lq_buffer** json, int64_t* macs, double* latency_seconds);

/* Program inputs and outputs, by index in model order, as the lq_graph_input_* functions
 * describe a graph's (names stay valid until the program is released; shapes are static). The
 * dtype is the stored one: int8, uint8 or int16 for a quantized tensor, else the model's
 * (float32 for values that stay float, int64 for a Shape's output, ...). *quantized is 1 for a
 * quantized tensor, whose real value is scale * (q - zero_point), and 0 (scale and zero point
 * 0) for one that is not. */
LQ_C_API lq_status* lq_program_input_count(const lq_program* program, size_t* count);
LQ_C_API lq_status* lq_program_input_name(const lq_program* program, size_t index,
                                          const char** name);
LQ_C_API lq_status* lq_program_input_dtype(const lq_program* program, size_t index,
                                           lq_dtype* dtype);
LQ_C_API lq_status* lq_program_input_shape(const lq_program* program, size_t index, int64_t* dims,
                                           size_t capacity, size_t* rank);
LQ_C_API lq_status* lq_program_input_quantization(const lq_program* program, size_t index,
                                                  int* quantized, float* scale,
                                                  int32_t* zero_point);
LQ_C_API lq_status* lq_program_output_count(const lq_program* program, size_t* count);
LQ_C_API lq_status* lq_program_output_name(const lq_program* program, size_t index,
                                           const char** name);
LQ_C_API lq_status* lq_program_output_dtype(const lq_program* program, size_t index,
                                            lq_dtype* dtype);
LQ_C_API lq_status* lq_program_output_shape(const lq_program* program, size_t index, int64_t* dims,
                                            size_t capacity, size_t* rank);
LQ_C_API lq_status* lq_program_output_quantization(const lq_program* program, size_t index,
                                                   int* quantized, float* scale,
                                                   int32_t* zero_point);

/* ---- Fixed-point simulator ---------------------------------------------------------- */

/* Executes a program bit for bit with the integer kernels (float only at its edges and in the
 * CPU nodes the program lists). */
typedef struct lq_fixed_simulator lq_fixed_simulator;

typedef struct lq_fixed_simulator_options {
  size_t struct_size;
  int threads; /* >= 1 (0 means 1); outputs are identical for any count */
} lq_fixed_simulator_options;

static inline void lq_fixed_simulator_options_init(lq_fixed_simulator_options* options) {
  options->struct_size = sizeof(*options);
  options->threads = 1;
}

/* What a fixed run delivers for a quantized output. Outputs that are not quantized (float32
 * values computed on the CPU, a Shape's int64, ...) are the same either way. */
typedef enum lq_fixed_output {
  LQ_FIXED_OUTPUT_RAW = 0,        /* the integer codes q, in the output's program dtype */
  LQ_FIXED_OUTPUT_DEQUANTIZED = 1 /* float32 scale * (q - zero_point) */
} lq_fixed_output;

/* `options` may be NULL (defaults). */
LQ_C_API lq_status* lq_fixed_simulator_create(const lq_program* program,
                                              const lq_fixed_simulator_options* options,
                                              lq_fixed_simulator** out);
/* As lq_simulator_run, on every program input: each as float32 (quantized by the simulator
 * with the input's scale and zero point) or already in the input's program dtype, with the
 * shape the program was compiled for. */
LQ_C_API lq_status* lq_fixed_simulator_run(lq_fixed_simulator* simulator,
                                           lq_fixed_output output_kind,
                                           const lq_tensor_view* inputs, size_t input_count,
                                           lq_output_view* outputs, size_t output_count);
/* As lq_simulator_run_to_tensors: every program output, in model order. */
LQ_C_API lq_status* lq_fixed_simulator_run_to_tensors(lq_fixed_simulator* simulator,
                                                      lq_fixed_output output_kind,
                                                      const lq_tensor_view* inputs,
                                                      size_t input_count, lq_tensor** outputs,
                                                      size_t output_capacity, size_t* output_count);
/* Hears every tensor a fixed run computes, in execution order (what `lquant run --dump-layers`
 * writes): `codes` as the program stores it (integer codes; float32 for values that stay
 * float) and, for a quantized tensor, `real`: its values dequantized to float32 (NULL for one
 * that is not quantized). Both are named after the model's value and valid only during the
 * call; the observer must not release them. */
typedef void (*lq_tensor_observer_fn)(const lq_tensor* codes, const lq_tensor* real,
                                      void* user_data);
/* As lq_fixed_simulator_run_to_tensors, and `observer` (may be NULL) hears every tensor the run
 * computes, before the call returns. */
LQ_C_API lq_status* lq_fixed_simulator_run_observed(
    lq_fixed_simulator* simulator, lq_fixed_output output_kind, const lq_tensor_view* inputs,
    size_t input_count, lq_tensor_observer_fn observer, void* observer_user_data,
    lq_tensor** outputs, size_t output_capacity, size_t* output_count);
LQ_C_API void lq_fixed_simulator_release(lq_fixed_simulator* simulator);

/* ---- Pipeline ----------------------------------------------------------------------- */

/* The whole job from one set of options, as `lquant build CONFIG` runs it: load (and cut) the
 * float model, optimize it, calibrate, quantize, compile to a program, measure the
 * fake-quantized and the fixed-point outputs against float on the kept calibration samples,
 * and write the artifacts into the output directory. With the range method "skip" and no
 * calibration files, 4 random samples (uniform in [-1, 1], in the inputs' shapes) stand in
 * for data. */
typedef struct lq_pipeline lq_pipeline;
/* What a run produced: the SNRs, the files written, the report, the program. */
typedef struct lq_pipeline_result lq_pipeline_result;

/* A config in the schema of `lquant build` (`lquant build --help` lists every group and key),
 * as JSON or YAML text. Relative paths in it are taken relative to `base_dir` (NULL or "":
 * the working directory). Errors name the key's path, the allowed values and the nearest
 * valid key. */
LQ_C_API lq_status* lq_pipeline_create_from_json(const char* json, const char* base_dir,
                                                 lq_pipeline** out);
LQ_C_API lq_status* lq_pipeline_create_from_yaml(const char* yaml, const char* base_dir,
                                                 lq_pipeline** out);
/* The default options for the model at `model_path`, writing into `output_dir`: the default
 * quant config, target "generic", 8 kept calibration samples, the artifacts of `lquant build`
 * (all but "quant_config"). Inputs need calibration sources (lq_pipeline_set_calibration_sources)
 * unless the range method is "skip". */
LQ_C_API lq_status* lq_pipeline_create(const char* model_path, const char* output_dir,
                                       lq_pipeline** out);
/* Every option with its value (defaults included), as JSON: what `lquant build
 * --print-config` prints, and a config lq_pipeline_create_from_json reads back. */
LQ_C_API lq_status* lq_pipeline_options_json(const lq_pipeline* pipeline, lq_buffer** out);

/* The setters below change one option each and keep the others. */
/* Each input `sources` names gets its files (and picture preprocessing), replacing the
 * calibration files it had; the input name "" stands for the model's only input. */
LQ_C_API lq_status* lq_pipeline_set_calibration_sources(lq_pipeline* pipeline,
                                                        const lq_calibration_sources* sources);
/* Fixes a model input's shape (`rank` dimensions, each >= 1): every shape of the model becomes
 * static, and random samples (range method "skip") take it. "" is the model's only input. */
LQ_C_API lq_status* lq_pipeline_set_input_shape(lq_pipeline* pipeline, const char* input_name,
                                                const int64_t* shape, size_t rank);
/* The quantizer's quant config (not its target or log callback: see lq_pipeline_set_target
 * and lq_pipeline_run_options.log). */
LQ_C_API lq_status* lq_pipeline_set_quantizer(lq_pipeline* pipeline, const lq_quantizer* quantizer);
/* "generic" or "int8", for quantization and compilation (the config's /compiler/target);
 * op types the config keeps on the CPU stay there. */
LQ_C_API lq_status* lq_pipeline_set_target(lq_pipeline* pipeline, const char* target);
/* Threads of the calibration and of the fixed-point simulator that measures the program
 * (>= 1; 0 keeps the current setting). Results do not depend on them. */
LQ_C_API lq_status* lq_pipeline_set_threads(lq_pipeline* pipeline, int calibration_threads,
                                            int simulator_threads);
/* The files written, in this order (report.json, which lists the others, always last):
 * "float" (model.float.onnx), "qdq" (model.qdq.onnx), "params" (quant_params.json),
 * "quant_config" (quant_config.json), "config" (config.json), "program" (model.lqm),
 * "program_summary" (program.json), "report" (report.json). `count` 0 writes none. */
LQ_C_API lq_status* lq_pipeline_set_artifacts(lq_pipeline* pipeline, const char* const* artifacts,
                                              size_t count);
LQ_C_API lq_status* lq_pipeline_set_output_dir(lq_pipeline* pipeline, const char* output_dir);
/* Sharded calibration: calibrate only the index-th of `count` contiguous blocks of the
 * samples (0 <= index < count; 0 of 1, the default, is all of them). */
LQ_C_API lq_status* lq_pipeline_set_calibration_shard(lq_pipeline* pipeline, int index, int count);
/* Also write the calibration statistics to `path` (NULL or "" writes none). */
LQ_C_API lq_status* lq_pipeline_set_stats_output(lq_pipeline* pipeline, const char* path);
/* Non-zero: stop after the calibrate stage (with a stats output, the job of one shard). */
LQ_C_API lq_status* lq_pipeline_set_calibrate_only(lq_pipeline* pipeline, int calibrate_only);
/* Use these statistics files (merged exactly, in any order) instead of calibrating; they
 * must be of this model with these input shapes. `count` 0 calibrates again. */
LQ_C_API lq_status* lq_pipeline_set_stats_inputs(lq_pipeline* pipeline, const char* const* paths,
                                                 size_t count);
/* Folds an input format into the program (hb_compile's input_type_rt / norm_type): the
 * program's input `input_name` ("" the model's only input) then takes raw pixels in [0, 255]
 * (LQ_UINT8 or LQ_FLOAT32) in `format`: "rgb", "bgr", "gray", "yuv444" or "nv12" (NV12 is
 * [N, H*3/2, W]: the Y plane, then interleaved U,V at half resolution), optionally followed by
 * ":nhwc" (rgb/bgr/gray/yuv444 layout; NCHW otherwise) and ":video" (BT.601 video range for
 * yuv444/nv12; full range otherwise), e.g. "nv12:video". The program converts them to what the
 * model was trained on: `train_format` ("rgb", "bgr", "gray" or "yuv444"; NULL: "rgb"), then
 * (pixel - mean[c]) * scale[c] for `channels` values each (1: every channel; 0: mean 0,
 * scale 1; mean and scale may then be NULL). Calibration data of this input are then raw
 * pixels in `format` too (pictures are converted). Combinations hb_compile does not allow
 * (gray from nv12, nv12 with an odd size, ...) fail in lq_pipeline_run naming the input. */
LQ_C_API lq_status* lq_pipeline_set_input_format(lq_pipeline* pipeline, const char* input_name,
                                                 const char* format, const char* train_format,
                                                 const float* mean, const float* scale,
                                                 size_t channels);

/* Hears each stage's name as it starts: "load", "optimize", "calibrate", "quantize",
 * "compile", "evaluate", "analyze" (when switched on), "write". */
typedef void (*lq_stage_fn)(const char* stage, void* user_data);

typedef struct lq_pipeline_run_options {
  size_t struct_size;
  lq_stage_fn stage; /* may be NULL */
  void* stage_user_data;
  lq_progress_fn progress; /* may be NULL: calibration progress, as lq_calibrator_options' */
  void* progress_user_data;
  /* May be NULL. Receives, during a successful run, the quantizer's decisions (as
   * lq_quantizer_set_log_callback's) and then one line per node the program leaves on the
   * CPU (as lq_compile_options.log's). */
  lq_log_fn log;
  void* log_user_data;
  /* May be NULL. The quantize stage's searches and the compile's steps (see
   * lq_step_progress_fn), and "analysis" with analyze on. */
  lq_step_progress_fn step_progress;
  void* step_progress_user_data;
} lq_pipeline_run_options;

static inline void lq_pipeline_run_options_init(lq_pipeline_run_options* options) {
  options->struct_size = sizeof(*options);
  options->stage = NULL;
  options->stage_user_data = NULL;
  options->progress = NULL;
  options->progress_user_data = NULL;
  options->log = NULL;
  options->log_user_data = NULL;
  options->step_progress = NULL;
  options->step_progress_user_data = NULL;
}

/* Runs every stage. `options` may be NULL (no callbacks). A failure names the stage, e.g.
 * "calibrate stage: ...". The pipeline may be changed and run again afterwards. */
LQ_C_API lq_status* lq_pipeline_run(const lq_pipeline* pipeline,
                                    const lq_pipeline_run_options* options,
                                    lq_pipeline_result** out);
LQ_C_API void lq_pipeline_release(lq_pipeline* pipeline);

/* Samples the calibration saw, and the kept ones the SNRs are measured on. */
LQ_C_API lq_status* lq_pipeline_result_calibration_samples(const lq_pipeline_result* result,
                                                           uint64_t* calibration_samples,
                                                           uint64_t* evaluation_samples);
/* The float32 outputs of the model, by index in name order, with their SNR (dB) against the
 * float model: of the fake-quantized model and of the fixed-point program. Names stay valid
 * until the result is released. */
LQ_C_API lq_status* lq_pipeline_result_output_count(const lq_pipeline_result* result,
                                                    size_t* count);
LQ_C_API lq_status* lq_pipeline_result_output_name(const lq_pipeline_result* result, size_t index,
                                                   const char** name);
LQ_C_API lq_status* lq_pipeline_result_output_snr_db(const lq_pipeline_result* result,
                                                     size_t index, double* fake_quant_db,
                                                     double* fixed_db);
/* The files written, in the order written (paths valid until the result is released). */
LQ_C_API lq_status* lq_pipeline_result_artifact_count(const lq_pipeline_result* result,
                                                      size_t* count);
LQ_C_API lq_status* lq_pipeline_result_artifact_path(const lq_pipeline_result* result,
                                                     size_t index, const char** path);
/* The run as JSON (what report.json holds): model, samples, SNRs, program counts and sizes,
 * seconds per stage, artifacts, the quantizer's log. */
LQ_C_API lq_status* lq_pipeline_result_report_json(const lq_pipeline_result* result,
                                                   lq_buffer** out);
/* New handles on what the run built (each released by the caller; they outlive the result):
 * the optimized float graph, the quantized graph and the compiled program. */
LQ_C_API lq_status* lq_pipeline_result_float_graph(const lq_pipeline_result* result,
                                                   lq_graph** out);
LQ_C_API lq_status* lq_pipeline_result_quantized_graph(const lq_pipeline_result* result,
                                                       lq_quantized_graph** out);
LQ_C_API lq_status* lq_pipeline_result_program(const lq_pipeline_result* result,
                                               lq_program** out);
LQ_C_API void lq_pipeline_result_release(lq_pipeline_result* result);

/* ---- Precision analysis ------------------------------------------------------------- */

typedef struct lq_analyze_options {
  size_t struct_size;
  /* Non-zero: also each activation's effect on the model outputs (the outputs' SNR with only
   * it quantized, and the gain if only it went int16): two runs per tensor, slower. */
  int sensitivity;
  int64_t dump_sample; /* >= 0: every tensor of that sample into output_dir/dumps/; -1: none */
  int threads;         /* Simulator threads (>= 1) */
  /* May be NULL: steps "analysis" (samples run) and "sensitivity" (activations measured). */
  lq_step_progress_fn progress;
  void* progress_user_data;
} lq_analyze_options;

static inline void lq_analyze_options_init(lq_analyze_options* options) {
  options->struct_size = sizeof(*options);
  options->sensitivity = 0;
  options->dump_sample = -1;
  options->threads = 1;
  options->progress = NULL;
  options->progress_user_data = NULL;
}

/* Where the quantized model lost accuracy, layer by layer: writes output_dir/report.json
 * (schema: docs/report-schema.md), output_dir/report.html (one self-contained page) and, with
 * a dump sample, output_dir/dumps/ (through a temporary folder: nothing half-written on
 * failure). Analyzes `result` (a pipeline run) on its kept calibration samples when `result`
 * is not NULL (then quant_dir and the data folders must be NULL / 0), else `quant_dir` (what
 * `lquant quantize` or a pipeline wrote: model.float.onnx, quant_params.json, model.lqm) on
 * folders of .npy files, data_dirs[i] for model input input_names[i] (a NULL or "" name: the
 * model's only input). `options` may be NULL (the defaults); `report_json` may be NULL, else
 * it receives report.json's text. */
LQ_C_API lq_status* lq_analyze(const lq_pipeline_result* result, const char* quant_dir,
                               const char* const* input_names, const char* const* data_dirs,
                               size_t data_count, const char* output_dir,
                               const lq_analyze_options* options, lq_buffer** report_json);
/* The pipeline's analyze stage (the config's `analyze` group): non-zero `enable` makes each
 * run also write the precision report of its program on the kept calibration samples (as
 * lq_analyze with the run's result) into `analysis_dir` (NULL or "": the output directory's
 * analysis/), and list its report.html among the result's artifacts. `options` may be NULL
 * (the defaults); its dump_sample must be one of the kept samples. 0 switches it off. */
LQ_C_API lq_status* lq_pipeline_set_analyze(lq_pipeline* pipeline, int enable,
                                            const lq_analyze_options* options,
                                            const char* analysis_dir);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LIBQUANT_H_ */
