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
 *   lq_graph_optimize) afterwards.
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

/* The version of this header's ABI; lq_api_version() is the library's. */
#define LQ_API_VERSION 1

LQ_C_API const char* lq_version(void); /* the library's release, e.g. "0.1.0" */
LQ_C_API int lq_api_version(void);

/* ---- Status ------------------------------------------------------------------------- */

/* Mirrors lq::StatusCode; LQ_OUT_OF_MEMORY is the C ABI's own (std::bad_alloc). */
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

/* An output of lq_simulator_run_to_tensors. Accessors return NULL/0 for NULL. */
typedef struct lq_tensor lq_tensor;

LQ_C_API const char* lq_tensor_name(const lq_tensor* tensor);
LQ_C_API lq_dtype lq_tensor_dtype(const lq_tensor* tensor);
LQ_C_API size_t lq_tensor_rank(const lq_tensor* tensor);
LQ_C_API const int64_t* lq_tensor_shape(const lq_tensor* tensor);
LQ_C_API const void* lq_tensor_data(const lq_tensor* tensor);
LQ_C_API size_t lq_tensor_byte_size(const lq_tensor* tensor);
LQ_C_API void lq_tensor_release(lq_tensor* tensor);

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
LQ_C_API void lq_calibrator_release(lq_calibrator* calibrator);

/* Files for each model input: .npy files or pictures (PNG, JPEG, BMP), each path a file or a
 * folder (its matching files, sorted by name). One input's paths are all .npy or all
 * pictures with one preprocessing. */
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
/* `calibrator` must have been created from `graph` as it is now and have seen samples. */
LQ_C_API lq_status* lq_quantizer_quantize(const lq_quantizer* quantizer, const lq_graph* graph,
                                          const lq_calibrator* calibrator,
                                          lq_quantized_graph** out);
LQ_C_API void lq_quantizer_release(lq_quantizer* quantizer);

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

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LIBQUANT_H_ */
