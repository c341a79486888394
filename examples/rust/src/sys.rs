//! Raw declarations of libquant's C ABI (capi/include/libquant.h), written by hand: no
//! bindgen, no registry crates. The header's enums are plain `c_int` constants here, so a
//! value a newer library returns is never an invalid Rust enum. The header's `*_init` inline
//! functions are not in the library: `Default` below fills in the same defaults.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

pub const LQ_API_VERSION: c_int = 2;

macro_rules! opaque {
    ($($name:ident),*) => {
        $(#[repr(C)] pub struct $name { _private: [u8; 0] })*
    };
}
opaque!(
    lq_status,
    lq_buffer,
    lq_tensor,
    lq_graph,
    lq_simulator,
    lq_calibrator,
    lq_calibration_sources,
    lq_quantizer,
    lq_quantized_graph,
    lq_program,
    lq_fixed_simulator
);

pub type lq_code = c_int;
pub const LQ_OK: lq_code = 0;
pub const LQ_INVALID_ARGUMENT: lq_code = 1;
pub const LQ_NOT_FOUND: lq_code = 2;
pub const LQ_UNSUPPORTED: lq_code = 3;
pub const LQ_INVALID_MODEL: lq_code = 4;
pub const LQ_IO_ERROR: lq_code = 5;
pub const LQ_FAILED_PRECONDITION: lq_code = 6;
pub const LQ_INTERNAL: lq_code = 7;
pub const LQ_OUT_OF_MEMORY: lq_code = 8;

pub type lq_dtype = c_int;
pub const LQ_DTYPE_UNDEFINED: lq_dtype = 0;
pub const LQ_FLOAT32: lq_dtype = 1;
pub const LQ_FLOAT16: lq_dtype = 2;
pub const LQ_FLOAT64: lq_dtype = 3;
pub const LQ_INT4: lq_dtype = 4;
pub const LQ_INT8: lq_dtype = 5;
pub const LQ_UINT8: lq_dtype = 6;
pub const LQ_INT16: lq_dtype = 7;
pub const LQ_UINT16: lq_dtype = 8;
pub const LQ_INT32: lq_dtype = 9;
pub const LQ_UINT32: lq_dtype = 10;
pub const LQ_INT64: lq_dtype = 11;
pub const LQ_UINT64: lq_dtype = 12;
pub const LQ_BOOL: lq_dtype = 13;

pub type lq_resize_mode = c_int;
pub const LQ_RESIZE_STRETCH: lq_resize_mode = 0;
pub const LQ_RESIZE_NONE: lq_resize_mode = 1;
pub const LQ_RESIZE_FIT_HEIGHT_PAD: lq_resize_mode = 2;

pub type lq_color_order = c_int;
pub const LQ_COLOR_RGB: lq_color_order = 0;
pub const LQ_COLOR_BGR: lq_color_order = 1;
pub const LQ_COLOR_GRAY: lq_color_order = 2;

pub type lq_layout = c_int;
pub const LQ_LAYOUT_NCHW: lq_layout = 0;
pub const LQ_LAYOUT_NHWC: lq_layout = 1;

pub type lq_fixed_output = c_int;
pub const LQ_FIXED_OUTPUT_RAW: lq_fixed_output = 0;
pub const LQ_FIXED_OUTPUT_DEQUANTIZED: lq_fixed_output = 1;

pub type lq_progress_fn =
    Option<unsafe extern "C" fn(done: i64, total: i64, user_data: *mut c_void)>;
pub type lq_log_fn = Option<unsafe extern "C" fn(line: *const c_char, user_data: *mut c_void)>;

#[repr(C)]
pub struct lq_tensor_view {
    pub struct_size: usize,
    pub name: *const c_char,
    pub dtype: lq_dtype,
    pub shape: *const i64,
    pub rank: usize,
    pub data: *mut c_void,
    pub byte_size: usize,
}

#[repr(C)]
pub struct lq_output_view {
    pub struct_size: usize,
    pub name: *const c_char,
    pub data: *mut c_void,
    pub byte_size: usize,
    pub shape: *mut i64,
    pub shape_capacity: usize,
    pub dtype: lq_dtype,
    pub rank: usize,
    pub bytes_needed: usize,
}

#[repr(C)]
pub struct lq_simulator_options {
    pub struct_size: usize,
    pub threads: c_int,
    pub reference_only: c_int,
}

#[repr(C)]
pub struct lq_calibrator_options {
    pub struct_size: usize,
    pub threads: c_int,
    pub histogram_bins: c_int,
    pub keep_samples: usize,
    pub progress: lq_progress_fn,
    pub progress_user_data: *mut c_void,
}

#[repr(C)]
pub struct lq_image_preprocess {
    pub struct_size: usize,
    pub height: i64,
    pub width: i64,
    pub resize: lq_resize_mode,
    pub color: lq_color_order,
    pub layout: lq_layout,
    pub mean: [f32; 3],
    pub scale: [f32; 3],
    pub pad_value: f32,
}

#[repr(C)]
pub struct lq_input_shape {
    pub struct_size: usize,
    pub name: *const c_char,
    pub shape: *const i64,
    pub rank: usize,
}

#[repr(C)]
pub struct lq_compile_options {
    pub struct_size: usize,
    pub target: *const c_char,
    pub input_shapes: *const lq_input_shape,
    pub input_shape_count: usize,
    pub log: lq_log_fn,
    pub log_user_data: *mut c_void,
}

#[repr(C)]
pub struct lq_fixed_simulator_options {
    pub struct_size: usize,
    pub threads: c_int,
}

impl Default for lq_input_shape {
    fn default() -> Self {
        lq_input_shape {
            struct_size: std::mem::size_of::<Self>(),
            name: std::ptr::null(),
            shape: std::ptr::null(),
            rank: 0,
        }
    }
}

impl Default for lq_compile_options {
    fn default() -> Self {
        lq_compile_options {
            struct_size: std::mem::size_of::<Self>(),
            target: std::ptr::null(),
            input_shapes: std::ptr::null(),
            input_shape_count: 0,
            log: None,
            log_user_data: std::ptr::null_mut(),
        }
    }
}

impl Default for lq_fixed_simulator_options {
    fn default() -> Self {
        lq_fixed_simulator_options { struct_size: std::mem::size_of::<Self>(), threads: 1 }
    }
}

impl Default for lq_tensor_view {
    fn default() -> Self {
        lq_tensor_view {
            struct_size: std::mem::size_of::<Self>(),
            name: std::ptr::null(),
            dtype: LQ_DTYPE_UNDEFINED,
            shape: std::ptr::null(),
            rank: 0,
            data: std::ptr::null_mut(),
            byte_size: 0,
        }
    }
}

impl Default for lq_output_view {
    fn default() -> Self {
        lq_output_view {
            struct_size: std::mem::size_of::<Self>(),
            name: std::ptr::null(),
            data: std::ptr::null_mut(),
            byte_size: 0,
            shape: std::ptr::null_mut(),
            shape_capacity: 0,
            dtype: LQ_DTYPE_UNDEFINED,
            rank: 0,
            bytes_needed: 0,
        }
    }
}

impl Default for lq_simulator_options {
    fn default() -> Self {
        lq_simulator_options {
            struct_size: std::mem::size_of::<Self>(),
            threads: 1,
            reference_only: 0,
        }
    }
}

impl Default for lq_calibrator_options {
    fn default() -> Self {
        lq_calibrator_options {
            struct_size: std::mem::size_of::<Self>(),
            threads: 1,
            histogram_bins: 2048,
            keep_samples: 8,
            progress: None,
            progress_user_data: std::ptr::null_mut(),
        }
    }
}

impl Default for lq_image_preprocess {
    fn default() -> Self {
        lq_image_preprocess {
            struct_size: std::mem::size_of::<Self>(),
            height: 0,
            width: 0,
            resize: LQ_RESIZE_STRETCH,
            color: LQ_COLOR_RGB,
            layout: LQ_LAYOUT_NCHW,
            mean: [0.0; 3],
            scale: [1.0; 3],
            pad_value: 0.0,
        }
    }
}

extern "C" {
    pub fn lq_version() -> *const c_char;
    pub fn lq_api_version() -> c_int;

    pub fn lq_status_code(status: *const lq_status) -> lq_code;
    pub fn lq_status_message(status: *const lq_status) -> *const c_char;
    pub fn lq_status_release(status: *mut lq_status);

    pub fn lq_dtype_size(dtype: lq_dtype) -> usize;
    pub fn lq_dtype_name(dtype: lq_dtype) -> *const c_char;

    pub fn lq_buffer_data(buffer: *const lq_buffer) -> *const c_void;
    pub fn lq_buffer_size(buffer: *const lq_buffer) -> usize;
    pub fn lq_buffer_release(buffer: *mut lq_buffer);

    pub fn lq_tensor_name(tensor: *const lq_tensor) -> *const c_char;
    pub fn lq_tensor_dtype(tensor: *const lq_tensor) -> lq_dtype;
    pub fn lq_tensor_rank(tensor: *const lq_tensor) -> usize;
    pub fn lq_tensor_shape(tensor: *const lq_tensor) -> *const i64;
    pub fn lq_tensor_data(tensor: *const lq_tensor) -> *const c_void;
    pub fn lq_tensor_byte_size(tensor: *const lq_tensor) -> usize;
    pub fn lq_tensor_release(tensor: *mut lq_tensor);

    pub fn lq_graph_load(path: *const c_char, out: *mut *mut lq_graph) -> *mut lq_status;
    pub fn lq_graph_load_from_memory(
        data: *const c_void,
        size: usize,
        out: *mut *mut lq_graph,
    ) -> *mut lq_status;
    pub fn lq_graph_release(graph: *mut lq_graph);
    pub fn lq_graph_optimize(graph: *mut lq_graph) -> *mut lq_status;
    pub fn lq_graph_save(graph: *const lq_graph, path: *const c_char) -> *mut lq_status;
    pub fn lq_graph_serialize(graph: *const lq_graph, out: *mut *mut lq_buffer) -> *mut lq_status;
    pub fn lq_graph_input_count(graph: *const lq_graph, count: *mut usize) -> *mut lq_status;
    pub fn lq_graph_input_name(
        graph: *const lq_graph,
        index: usize,
        name: *mut *const c_char,
    ) -> *mut lq_status;
    pub fn lq_graph_input_dtype(
        graph: *const lq_graph,
        index: usize,
        dtype: *mut lq_dtype,
    ) -> *mut lq_status;
    pub fn lq_graph_input_shape(
        graph: *const lq_graph,
        index: usize,
        dims: *mut i64,
        capacity: usize,
        rank: *mut usize,
    ) -> *mut lq_status;
    pub fn lq_graph_output_count(graph: *const lq_graph, count: *mut usize) -> *mut lq_status;
    pub fn lq_graph_output_name(
        graph: *const lq_graph,
        index: usize,
        name: *mut *const c_char,
    ) -> *mut lq_status;
    pub fn lq_graph_output_dtype(
        graph: *const lq_graph,
        index: usize,
        dtype: *mut lq_dtype,
    ) -> *mut lq_status;
    pub fn lq_graph_output_shape(
        graph: *const lq_graph,
        index: usize,
        dims: *mut i64,
        capacity: usize,
        rank: *mut usize,
    ) -> *mut lq_status;
    pub fn lq_graph_propagate_shapes(
        graph: *mut lq_graph,
        input_names: *const *const c_char,
        shapes: *const *const i64,
        ranks: *const usize,
        count: usize,
    ) -> *mut lq_status;

    pub fn lq_simulator_create(
        graph: *const lq_graph,
        options: *const lq_simulator_options,
        out: *mut *mut lq_simulator,
    ) -> *mut lq_status;
    pub fn lq_simulator_run(
        simulator: *mut lq_simulator,
        inputs: *const lq_tensor_view,
        input_count: usize,
        outputs: *mut lq_output_view,
        output_count: usize,
    ) -> *mut lq_status;
    pub fn lq_simulator_run_to_tensors(
        simulator: *mut lq_simulator,
        inputs: *const lq_tensor_view,
        input_count: usize,
        outputs: *mut *mut lq_tensor,
        output_capacity: usize,
        output_count: *mut usize,
    ) -> *mut lq_status;
    pub fn lq_simulator_release(simulator: *mut lq_simulator);

    pub fn lq_calibrator_create(
        graph: *const lq_graph,
        options: *const lq_calibrator_options,
        out: *mut *mut lq_calibrator,
    ) -> *mut lq_status;
    pub fn lq_calibrator_add_sample(
        calibrator: *mut lq_calibrator,
        inputs: *const lq_tensor_view,
        input_count: usize,
    ) -> *mut lq_status;
    pub fn lq_calibrator_add_sources(
        calibrator: *mut lq_calibrator,
        sources: *const lq_calibration_sources,
    ) -> *mut lq_status;
    pub fn lq_calibrator_sample_count(
        calibrator: *const lq_calibrator,
        count: *mut u64,
    ) -> *mut lq_status;
    pub fn lq_calibrator_table_json(
        calibrator: *const lq_calibrator,
        out: *mut *mut lq_buffer,
    ) -> *mut lq_status;
    pub fn lq_calibrator_release(calibrator: *mut lq_calibrator);

    pub fn lq_calibration_sources_create(out: *mut *mut lq_calibration_sources) -> *mut lq_status;
    pub fn lq_calibration_sources_add_npy(
        sources: *mut lq_calibration_sources,
        input_name: *const c_char,
        path: *const c_char,
    ) -> *mut lq_status;
    pub fn lq_calibration_sources_add_images(
        sources: *mut lq_calibration_sources,
        input_name: *const c_char,
        path: *const c_char,
        preprocess: *const lq_image_preprocess,
    ) -> *mut lq_status;
    pub fn lq_calibration_sources_release(sources: *mut lq_calibration_sources);

    pub fn lq_quantizer_create(out: *mut *mut lq_quantizer) -> *mut lq_status;
    pub fn lq_quantizer_create_from_json(
        json: *const c_char,
        out: *mut *mut lq_quantizer,
    ) -> *mut lq_status;
    pub fn lq_quantizer_set_method(
        quantizer: *mut lq_quantizer,
        method: *const c_char,
    ) -> *mut lq_status;
    pub fn lq_quantizer_set_bits(
        quantizer: *mut lq_quantizer,
        activation_bits: c_int,
        weight_bits: c_int,
    ) -> *mut lq_status;
    pub fn lq_quantizer_set_per_channel(
        quantizer: *mut lq_quantizer,
        per_channel: c_int,
    ) -> *mut lq_status;
    pub fn lq_quantizer_config_json(
        quantizer: *const lq_quantizer,
        out: *mut *mut lq_buffer,
    ) -> *mut lq_status;
    pub fn lq_quantizer_quantize(
        quantizer: *const lq_quantizer,
        graph: *const lq_graph,
        calibrator: *const lq_calibrator,
        out: *mut *mut lq_quantized_graph,
    ) -> *mut lq_status;
    pub fn lq_quantizer_release(quantizer: *mut lq_quantizer);

    pub fn lq_quantized_graph_save_qdq(
        qgraph: *const lq_quantized_graph,
        path: *const c_char,
    ) -> *mut lq_status;
    pub fn lq_quantized_graph_serialize_qdq(
        qgraph: *const lq_quantized_graph,
        out: *mut *mut lq_buffer,
    ) -> *mut lq_status;
    pub fn lq_quantized_graph_params_json(
        qgraph: *const lq_quantized_graph,
        out: *mut *mut lq_buffer,
    ) -> *mut lq_status;
    pub fn lq_simulator_create_fake_quant(
        qgraph: *const lq_quantized_graph,
        options: *const lq_simulator_options,
        out: *mut *mut lq_simulator,
    ) -> *mut lq_status;
    pub fn lq_quantized_graph_release(qgraph: *mut lq_quantized_graph);

    pub fn lq_image_load(
        path: *const c_char,
        preprocess: *const lq_image_preprocess,
        out: *mut *mut lq_tensor,
    ) -> *mut lq_status;

    pub fn lq_compile(
        qgraph: *const lq_quantized_graph,
        options: *const lq_compile_options,
        out: *mut *mut lq_program,
    ) -> *mut lq_status;
    pub fn lq_program_release(program: *mut lq_program);
    pub fn lq_program_save(program: *const lq_program, path: *const c_char) -> *mut lq_status;
    pub fn lq_program_load(path: *const c_char, out: *mut *mut lq_program) -> *mut lq_status;
    pub fn lq_program_summary_json(
        program: *const lq_program,
        out: *mut *mut lq_buffer,
    ) -> *mut lq_status;
    pub fn lq_program_peak_activation_bytes(
        program: *const lq_program,
        bytes: *mut u64,
    ) -> *mut lq_status;
    pub fn lq_program_weight_bytes(program: *const lq_program, bytes: *mut u64) -> *mut lq_status;

    pub fn lq_fixed_simulator_create(
        program: *const lq_program,
        options: *const lq_fixed_simulator_options,
        out: *mut *mut lq_fixed_simulator,
    ) -> *mut lq_status;
    pub fn lq_fixed_simulator_run_to_tensors(
        simulator: *mut lq_fixed_simulator,
        output_kind: lq_fixed_output,
        inputs: *const lq_tensor_view,
        input_count: usize,
        outputs: *mut *mut lq_tensor,
        output_capacity: usize,
        output_count: *mut usize,
    ) -> *mut lq_status;
    pub fn lq_fixed_simulator_release(simulator: *mut lq_fixed_simulator);
}
