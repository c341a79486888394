//! A safe Rust wrapper of libquant's C ABI: every handle is owned by a Rust value that releases
//! it on drop, and every failed call becomes an `Err` carrying the library's message.
//!
//! ```no_run
//! let mut graph = libquant::Graph::load("model.onnx")?;
//! graph.optimize()?;
//! let simulator = libquant::Simulator::new(&graph, &Default::default())?;
//! # Ok::<(), libquant::Error>(())
//! ```
//!
//! As in C, an object keeps the objects it was made from alive inside the library, so a
//! `Simulator` may outlive the `Graph` it was created from.
pub mod sys;

use std::ffi::{CStr, CString};
use std::fmt;
use std::os::raw::{c_int, c_void};
use std::path::Path;
use std::ptr;

/// The kind of a failure, from the C ABI's `lq_code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    InvalidArgument,
    NotFound,
    Unsupported,
    InvalidModel,
    IoError,
    FailedPrecondition,
    Internal,
    OutOfMemory,
    /// A code this wrapper does not know (a newer library).
    Other(i32),
}

impl Code {
    fn from_raw(code: sys::lq_code) -> Code {
        match code {
            sys::LQ_INVALID_ARGUMENT => Code::InvalidArgument,
            sys::LQ_NOT_FOUND => Code::NotFound,
            sys::LQ_UNSUPPORTED => Code::Unsupported,
            sys::LQ_INVALID_MODEL => Code::InvalidModel,
            sys::LQ_IO_ERROR => Code::IoError,
            sys::LQ_FAILED_PRECONDITION => Code::FailedPrecondition,
            sys::LQ_INTERNAL => Code::Internal,
            sys::LQ_OUT_OF_MEMORY => Code::OutOfMemory,
            other => Code::Other(other),
        }
    }
}

/// A failed call: its code and the library's message (which names the function, the
/// parameter or model element at fault, and what to do).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub code: Code,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Turns an `lq_status*` into a `Result`, releasing the status.
fn check(status: *mut sys::lq_status) -> Result<()> {
    if status.is_null() {
        return Ok(());
    }
    // SAFETY: a non-NULL status comes from the library and is released exactly once, here.
    unsafe {
        let code = Code::from_raw(sys::lq_status_code(status));
        let message = CStr::from_ptr(sys::lq_status_message(status)).to_string_lossy().into_owned();
        sys::lq_status_release(status);
        Err(Error { code, message })
    }
}

fn invalid_argument(message: String) -> Error {
    Error { code: Code::InvalidArgument, message }
}

fn c_string(text: &str, what: &str) -> Result<CString> {
    CString::new(text)
        .map_err(|_| invalid_argument(format!("{} \"{}\" contains a NUL byte", what, text)))
}

fn c_path(path: &Path) -> Result<CString> {
    let text = path
        .to_str()
        .ok_or_else(|| invalid_argument(format!("path {} is not UTF-8", path.display())))?;
    c_string(text, "path")
}

/// Copies a library-owned C string (valid at least until the next call on its owner).
///
/// # Safety
/// `text` is NULL or a NUL-terminated string.
unsafe fn owned_string(text: *const std::os::raw::c_char) -> String {
    if text.is_null() {
        String::new()
    } else {
        CStr::from_ptr(text).to_string_lossy().into_owned()
    }
}

/// Takes a library-owned text buffer (JSON) and releases it.
fn take_text(buffer: *mut sys::lq_buffer) -> String {
    // SAFETY: `buffer` comes from the library; its bytes are valid until it is released.
    unsafe {
        let data = sys::lq_buffer_data(buffer) as *const u8;
        let size = sys::lq_buffer_size(buffer);
        let text = if data.is_null() {
            String::new()
        } else {
            String::from_utf8_lossy(std::slice::from_raw_parts(data, size)).into_owned()
        };
        sys::lq_buffer_release(buffer);
        text
    }
}

/// The library's release, e.g. "0.1.0".
pub fn version() -> String {
    // SAFETY: lq_version returns a static string.
    unsafe { owned_string(sys::lq_version()) }
}

/// The library's ABI version; this wrapper was written for `sys::LQ_API_VERSION`.
pub fn api_version() -> i32 {
    // SAFETY: no arguments.
    unsafe { sys::lq_api_version() }
}

/// A float32 input: `data` holds the elements of `shape` in row-major order.
pub struct Input<'a> {
    pub name: &'a str,
    pub shape: &'a [i64],
    pub data: &'a [f32],
}

/// The C views of some inputs, with the names they point to.
struct InputViews {
    _names: Vec<CString>,
    views: Vec<sys::lq_tensor_view>,
}

impl InputViews {
    fn new(inputs: &[Input]) -> Result<InputViews> {
        let names = inputs
            .iter()
            .map(|input| c_string(input.name, "input name"))
            .collect::<Result<Vec<_>>>()?;
        let views = inputs
            .iter()
            .zip(&names)
            .map(|(input, name)| sys::lq_tensor_view {
                name: name.as_ptr(),
                dtype: sys::LQ_FLOAT32,
                shape: input.shape.as_ptr(),
                rank: input.shape.len(),
                // The library only reads inputs.
                data: input.data.as_ptr() as *mut c_void,
                byte_size: std::mem::size_of_val(input.data),
                ..Default::default()
            })
            .collect();
        Ok(InputViews { _names: names, views })
    }
}

/// An output of a simulator run, owned by the library until dropped.
pub struct Tensor {
    raw: *mut sys::lq_tensor,
}

impl Tensor {
    pub fn name(&self) -> String {
        // SAFETY: `raw` is a live tensor.
        unsafe { owned_string(sys::lq_tensor_name(self.raw)) }
    }

    pub fn shape(&self) -> &[i64] {
        // SAFETY: the shape lives as long as the tensor.
        unsafe {
            let rank = sys::lq_tensor_rank(self.raw);
            if rank == 0 {
                return &[];
            }
            std::slice::from_raw_parts(sys::lq_tensor_shape(self.raw), rank)
        }
    }

    /// The elements, when the tensor is float32.
    pub fn as_f32(&self) -> Option<&[f32]> {
        // SAFETY: the data lives as long as the tensor and holds byte_size bytes.
        unsafe {
            let data = sys::lq_tensor_data(self.raw) as *const f32;
            let size = sys::lq_tensor_byte_size(self.raw);
            if sys::lq_tensor_dtype(self.raw) != sys::LQ_FLOAT32 {
                return None;
            }
            if size == 0 {
                return Some(&[]);
            }
            if data.is_null() || data.align_offset(std::mem::align_of::<f32>()) != 0 {
                return None;
            }
            Some(std::slice::from_raw_parts(data, size / std::mem::size_of::<f32>()))
        }
    }
}

impl Drop for Tensor {
    fn drop(&mut self) {
        // SAFETY: released once; the library accepts NULL.
        unsafe { sys::lq_tensor_release(self.raw) }
    }
}

/// A model: ONNX with shapes inferred.
pub struct Graph {
    raw: *mut sys::lq_graph,
}

impl Graph {
    pub fn load<P: AsRef<Path>>(path: P) -> Result<Graph> {
        let path = c_path(path.as_ref())?;
        let mut raw = ptr::null_mut();
        // SAFETY: valid C string and out pointer.
        check(unsafe { sys::lq_graph_load(path.as_ptr(), &mut raw) })?;
        Ok(Graph { raw })
    }

    pub fn load_from_memory(bytes: &[u8]) -> Result<Graph> {
        let mut raw = ptr::null_mut();
        // SAFETY: the library reads `bytes` during the call only.
        check(unsafe {
            sys::lq_graph_load_from_memory(bytes.as_ptr() as *const c_void, bytes.len(), &mut raw)
        })?;
        Ok(Graph { raw })
    }

    /// Folds constants, fuses BatchNorm, ... (simulators made before keep the old graph).
    pub fn optimize(&mut self) -> Result<()> {
        // SAFETY: `raw` is a live graph.
        check(unsafe { sys::lq_graph_optimize(self.raw) })
    }

    pub fn input_names(&self) -> Result<Vec<String>> {
        self.names(sys::lq_graph_input_count, sys::lq_graph_input_name)
    }

    pub fn output_names(&self) -> Result<Vec<String>> {
        self.names(sys::lq_graph_output_count, sys::lq_graph_output_name)
    }

    fn names(
        &self,
        count_of: unsafe extern "C" fn(*const sys::lq_graph, *mut usize) -> *mut sys::lq_status,
        name_of: unsafe extern "C" fn(
            *const sys::lq_graph,
            usize,
            *mut *const std::os::raw::c_char,
        ) -> *mut sys::lq_status,
    ) -> Result<Vec<String>> {
        let mut count = 0;
        // SAFETY: `raw` is a live graph; names are copied before the next call.
        unsafe {
            check(count_of(self.raw, &mut count))?;
            (0..count)
                .map(|i| {
                    let mut name = ptr::null();
                    check(name_of(self.raw, i, &mut name))?;
                    Ok(owned_string(name))
                })
                .collect()
        }
    }
}

impl Drop for Graph {
    fn drop(&mut self) {
        // SAFETY: released once.
        unsafe { sys::lq_graph_release(self.raw) }
    }
}

#[derive(Clone, Debug)]
pub struct SimulatorOptions {
    /// Worker threads; results are identical for any count.
    pub threads: i32,
    /// Only the plain reference kernels.
    pub reference_only: bool,
}

impl Default for SimulatorOptions {
    fn default() -> Self {
        SimulatorOptions { threads: 1, reference_only: false }
    }
}

impl SimulatorOptions {
    fn to_sys(&self) -> sys::lq_simulator_options {
        sys::lq_simulator_options {
            threads: self.threads,
            reference_only: self.reference_only as c_int,
            ..Default::default()
        }
    }
}

/// Runs a graph: in float, or with fake quantization (`Simulator::fake_quant`).
pub struct Simulator {
    raw: *mut sys::lq_simulator,
}

impl Simulator {
    /// The float simulator of `graph` as it is now.
    pub fn new(graph: &Graph, options: &SimulatorOptions) -> Result<Simulator> {
        let options = options.to_sys();
        let mut raw = ptr::null_mut();
        // SAFETY: live graph, valid options and out pointer.
        check(unsafe { sys::lq_simulator_create(graph.raw, &options, &mut raw) })?;
        Ok(Simulator { raw })
    }

    /// A float simulator that quantizes and dequantizes every tensor with parameters.
    pub fn fake_quant(graph: &QuantizedGraph, options: &SimulatorOptions) -> Result<Simulator> {
        let options = options.to_sys();
        let mut raw = ptr::null_mut();
        // SAFETY: live quantized graph, valid options and out pointer.
        check(unsafe { sys::lq_simulator_create_fake_quant(graph.raw, &options, &mut raw) })?;
        Ok(Simulator { raw })
    }

    /// Runs on every graph input and returns every graph output, in model order.
    pub fn run(&self, inputs: &[Input]) -> Result<Vec<Tensor>> {
        // SAFETY: a live simulator; run_to_tensors passes valid views and output pointers.
        run_to_tensors(inputs, |views, count, outputs, capacity, output_count| unsafe {
            sys::lq_simulator_run_to_tensors(
                self.raw,
                views,
                count,
                outputs,
                capacity,
                output_count,
            )
        })
    }
}

/// Calls an `lq_*_run_to_tensors` function (`run`, given the views, their count, the output
/// pointers, their capacity and the output count) and returns every output, in model order.
fn run_to_tensors<F>(inputs: &[Input], run: F) -> Result<Vec<Tensor>>
where
    F: Fn(
        *const sys::lq_tensor_view,
        usize,
        *mut *mut sys::lq_tensor,
        usize,
        *mut usize,
    ) -> *mut sys::lq_status,
{
    let views = InputViews::new(inputs)?;
    let mut count = 0;
    // Ask for the output count first (a too-small capacity fails but sets it). The views and
    // their names live until the calls return.
    let probe = run(views.views.as_ptr(), views.views.len(), ptr::null_mut(), 0, &mut count);
    if count == 0 {
        check(probe)?;
        return Ok(Vec::new());
    }
    // SAFETY: releasing the expected "capacity too small" status.
    unsafe { sys::lq_status_release(probe) };
    let mut raw = vec![ptr::null_mut(); count];
    // `raw` holds `count` pointers; each one set is owned by a Tensor below.
    let status =
        run(views.views.as_ptr(), views.views.len(), raw.as_mut_ptr(), raw.len(), &mut count);
    check(status)?;
    Ok(raw.into_iter().map(|raw| Tensor { raw }).collect())
}

impl Drop for Simulator {
    fn drop(&mut self) {
        // SAFETY: released once.
        unsafe { sys::lq_simulator_release(self.raw) }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resize {
    /// Bilinear to exactly height x width.
    Stretch,
    /// Keep the picture's size.
    None,
    /// Height fixed, width by aspect ratio up to `width`, padded on the right (text lines).
    FitHeightPad,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Rgb,
    Bgr,
    Gray,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Nchw,
    Nhwc,
}

/// How a picture becomes a float32 input: per channel, value = (pixel - mean) * scale with
/// pixel in [0, 255].
#[derive(Clone, Debug)]
pub struct ImagePreprocess {
    pub height: i64,
    pub width: i64,
    pub resize: Resize,
    pub color: Color,
    pub layout: Layout,
    pub mean: [f32; 3],
    pub scale: [f32; 3],
    /// After normalization.
    pub pad_value: f32,
}

impl Default for ImagePreprocess {
    fn default() -> Self {
        ImagePreprocess {
            height: 0,
            width: 0,
            resize: Resize::Stretch,
            color: Color::Rgb,
            layout: Layout::Nchw,
            mean: [0.0; 3],
            scale: [1.0; 3],
            pad_value: 0.0,
        }
    }
}

impl ImagePreprocess {
    fn to_sys(&self) -> sys::lq_image_preprocess {
        sys::lq_image_preprocess {
            height: self.height,
            width: self.width,
            resize: match self.resize {
                Resize::Stretch => sys::LQ_RESIZE_STRETCH,
                Resize::None => sys::LQ_RESIZE_NONE,
                Resize::FitHeightPad => sys::LQ_RESIZE_FIT_HEIGHT_PAD,
            },
            color: match self.color {
                Color::Rgb => sys::LQ_COLOR_RGB,
                Color::Bgr => sys::LQ_COLOR_BGR,
                Color::Gray => sys::LQ_COLOR_GRAY,
            },
            layout: match self.layout {
                Layout::Nchw => sys::LQ_LAYOUT_NCHW,
                Layout::Nhwc => sys::LQ_LAYOUT_NHWC,
            },
            mean: self.mean,
            scale: self.scale,
            pad_value: self.pad_value,
            ..Default::default()
        }
    }
}

/// A picture (PNG, JPEG, BMP) as a float32 tensor [1,C,H,W] (or [1,H,W,C]), read as picture
/// calibration sources are.
pub fn load_image<P: AsRef<Path>>(path: P, preprocess: &ImagePreprocess) -> Result<Tensor> {
    let path = c_path(path.as_ref())?;
    let preprocess = preprocess.to_sys();
    let mut raw = ptr::null_mut();
    // SAFETY: valid C string, struct and out pointer.
    check(unsafe { sys::lq_image_load(path.as_ptr(), &preprocess, &mut raw) })?;
    Ok(Tensor { raw })
}

/// Files for each model input: .npy files or pictures, each path a file or a folder.
pub struct CalibrationSources {
    raw: *mut sys::lq_calibration_sources,
}

impl CalibrationSources {
    pub fn new() -> Result<CalibrationSources> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid out pointer.
        check(unsafe { sys::lq_calibration_sources_create(&mut raw) })?;
        Ok(CalibrationSources { raw })
    }

    pub fn add_npy<P: AsRef<Path>>(&mut self, input: &str, path: P) -> Result<()> {
        let input = c_string(input, "input name")?;
        let path = c_path(path.as_ref())?;
        // SAFETY: live sources, valid C strings.
        check(unsafe {
            sys::lq_calibration_sources_add_npy(self.raw, input.as_ptr(), path.as_ptr())
        })
    }

    pub fn add_images<P: AsRef<Path>>(
        &mut self,
        input: &str,
        path: P,
        preprocess: &ImagePreprocess,
    ) -> Result<()> {
        let input = c_string(input, "input name")?;
        let path = c_path(path.as_ref())?;
        let preprocess = preprocess.to_sys();
        // SAFETY: live sources, valid C strings and struct.
        check(unsafe {
            sys::lq_calibration_sources_add_images(
                self.raw,
                input.as_ptr(),
                path.as_ptr(),
                &preprocess,
            )
        })
    }
}

impl Drop for CalibrationSources {
    fn drop(&mut self) {
        // SAFETY: released once.
        unsafe { sys::lq_calibration_sources_release(self.raw) }
    }
}

/// Called after each sample read from sources with (done, total). `Send`: the C ABI does not
/// promise which thread calls it.
pub type Progress = Box<dyn FnMut(i64, i64) + Send>;

pub struct CalibratorOptions {
    pub threads: i32,
    /// Even, >= 2.
    pub histogram_bins: i32,
    /// The first samples kept for the range method "auto" to score on.
    pub keep_samples: usize,
    pub progress: Option<Progress>,
}

impl Default for CalibratorOptions {
    fn default() -> Self {
        CalibratorOptions { threads: 1, histogram_bins: 2048, keep_samples: 8, progress: None }
    }
}

unsafe extern "C" fn call_progress(done: i64, total: i64, user_data: *mut c_void) {
    let progress = &mut *(user_data as *mut Progress);
    // A panic must not unwind into C; the calibration goes on without this report.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| progress(done, total)));
}

/// Collects statistics of every tensor from float runs on samples.
pub struct Calibrator {
    raw: *mut sys::lq_calibrator,
    // The library calls it through a pointer: boxed so that it does not move.
    _progress: Option<Box<Progress>>,
}

impl Calibrator {
    /// A calibrator of `graph` as it is now (quantize that same graph).
    pub fn new(graph: &Graph, options: CalibratorOptions) -> Result<Calibrator> {
        let mut progress = options.progress.map(Box::new);
        let mut raw_options = sys::lq_calibrator_options {
            threads: options.threads,
            histogram_bins: options.histogram_bins,
            keep_samples: options.keep_samples,
            ..Default::default()
        };
        if let Some(progress) = progress.as_mut() {
            raw_options.progress = Some(call_progress);
            raw_options.progress_user_data = &mut **progress as *mut Progress as *mut c_void;
        }
        let mut raw = ptr::null_mut();
        // SAFETY: live graph, valid options; the progress box lives as long as the calibrator.
        check(unsafe { sys::lq_calibrator_create(graph.raw, &raw_options, &mut raw) })?;
        Ok(Calibrator { raw, _progress: progress })
    }

    /// One sample: an input for every model input.
    pub fn add_sample(&mut self, inputs: &[Input]) -> Result<()> {
        let views = InputViews::new(inputs)?;
        // SAFETY: the views and their names live until the call returns.
        check(unsafe {
            sys::lq_calibrator_add_sample(self.raw, views.views.as_ptr(), views.views.len())
        })
    }

    pub fn add_sources(&mut self, sources: &CalibrationSources) -> Result<()> {
        // SAFETY: live calibrator and sources.
        check(unsafe { sys::lq_calibrator_add_sources(self.raw, sources.raw) })
    }

    pub fn sample_count(&self) -> Result<u64> {
        let mut count = 0;
        // SAFETY: live calibrator, valid out pointer.
        check(unsafe { sys::lq_calibrator_sample_count(self.raw, &mut count) })?;
        Ok(count)
    }

    /// Every tensor's min, max, count and histogram.
    pub fn table_json(&self) -> Result<String> {
        let mut buffer = ptr::null_mut();
        // SAFETY: live calibrator, valid out pointer.
        check(unsafe { sys::lq_calibrator_table_json(self.raw, &mut buffer) })?;
        Ok(take_text(buffer))
    }
}

impl Drop for Calibrator {
    fn drop(&mut self) {
        // SAFETY: released once, before the progress callback it may call.
        unsafe { sys::lq_calibrator_release(self.raw) }
    }
}

/// A quant config and the quantization it drives.
pub struct Quantizer {
    raw: *mut sys::lq_quantizer,
}

impl Quantizer {
    /// The default config.
    pub fn new() -> Result<Quantizer> {
        let mut raw = ptr::null_mut();
        // SAFETY: valid out pointer.
        check(unsafe { sys::lq_quantizer_create(&mut raw) })?;
        Ok(Quantizer { raw })
    }

    /// A JSON quant config; errors carry the validator's message.
    pub fn from_json(json: &str) -> Result<Quantizer> {
        let json = c_string(json, "quant config")?;
        let mut raw = ptr::null_mut();
        // SAFETY: valid C string and out pointer.
        check(unsafe { sys::lq_quantizer_create_from_json(json.as_ptr(), &mut raw) })?;
        Ok(Quantizer { raw })
    }

    /// The activations' range method: "max", "percentile", "kl", "mse", "mmse", "auto", "skip".
    pub fn set_method(&mut self, method: &str) -> Result<()> {
        let method = c_string(method, "method")?;
        // SAFETY: live quantizer, valid C string.
        check(unsafe { sys::lq_quantizer_set_method(self.raw, method.as_ptr()) })
    }

    /// Activations 8 or 16 bits, weights 4, 8 or 16 bits; 0 keeps one.
    pub fn set_bits(&mut self, activation_bits: i32, weight_bits: i32) -> Result<()> {
        // SAFETY: live quantizer.
        check(unsafe { sys::lq_quantizer_set_bits(self.raw, activation_bits, weight_bits) })
    }

    pub fn set_per_channel(&mut self, per_channel: bool) -> Result<()> {
        // SAFETY: live quantizer.
        check(unsafe { sys::lq_quantizer_set_per_channel(self.raw, per_channel as c_int) })
    }

    pub fn config_json(&self) -> Result<String> {
        let mut buffer = ptr::null_mut();
        // SAFETY: live quantizer, valid out pointer.
        check(unsafe { sys::lq_quantizer_config_json(self.raw, &mut buffer) })?;
        Ok(take_text(buffer))
    }

    /// `calibrator` must have been created from `graph` as it is now and have seen samples.
    pub fn quantize(&self, graph: &Graph, calibrator: &Calibrator) -> Result<QuantizedGraph> {
        let mut raw = ptr::null_mut();
        // SAFETY: live handles, valid out pointer.
        check(unsafe {
            sys::lq_quantizer_quantize(self.raw, graph.raw, calibrator.raw, &mut raw)
        })?;
        Ok(QuantizedGraph { raw })
    }
}

impl Drop for Quantizer {
    fn drop(&mut self) {
        // SAFETY: released once.
        unsafe { sys::lq_quantizer_release(self.raw) }
    }
}

/// A float graph with quantization parameters for its tensors.
pub struct QuantizedGraph {
    raw: *mut sys::lq_quantized_graph,
}

impl QuantizedGraph {
    /// ONNX with QuantizeLinear/DequantizeLinear pairs.
    pub fn save_qdq<P: AsRef<Path>>(&self, path: P) -> Result<()> {
        let path = c_path(path.as_ref())?;
        // SAFETY: live quantized graph, valid C string.
        check(unsafe { sys::lq_quantized_graph_save_qdq(self.raw, path.as_ptr()) })
    }

    /// Every tensor's dtype, scale(s), zero point(s), range and range method.
    pub fn params_json(&self) -> Result<String> {
        let mut buffer = ptr::null_mut();
        // SAFETY: live quantized graph, valid out pointer.
        check(unsafe { sys::lq_quantized_graph_params_json(self.raw, &mut buffer) })?;
        Ok(take_text(buffer))
    }

    /// The integer program for `options.target`, with the model inputs of dynamic shape fixed
    /// to `options.input_shapes`.
    pub fn compile(&self, options: &CompileOptions) -> Result<Program> {
        let target = c_string(&options.target, "target")?;
        let names = options
            .input_shapes
            .iter()
            .map(|(name, _)| c_string(name, "input name"))
            .collect::<Result<Vec<_>>>()?;
        let shapes: Vec<sys::lq_input_shape> = options
            .input_shapes
            .iter()
            .zip(&names)
            .map(|((_, shape), name)| sys::lq_input_shape {
                name: name.as_ptr(),
                shape: shape.as_ptr(),
                rank: shape.len(),
                ..Default::default()
            })
            .collect();
        let raw_options = sys::lq_compile_options {
            target: target.as_ptr(),
            input_shapes: shapes.as_ptr(),
            input_shape_count: shapes.len(),
            ..Default::default()
        };
        let mut raw = ptr::null_mut();
        // SAFETY: live quantized graph; the options, names and shapes live during the call.
        check(unsafe { sys::lq_compile(self.raw, &raw_options, &mut raw) })?;
        Ok(Program { raw })
    }
}

impl Drop for QuantizedGraph {
    fn drop(&mut self) {
        // SAFETY: released once.
        unsafe { sys::lq_quantized_graph_release(self.raw) }
    }
}

#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// "generic" (every integer op, int8 and int16) or "int8" (int16 ops on the CPU).
    pub target: String,
    /// (model input, shape) for the inputs with dynamic dimensions: a program's are static.
    pub input_shapes: Vec<(String, Vec<i64>)>,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions { target: "generic".to_string(), input_shapes: Vec::new() }
    }
}

/// A compiled integer program (the .lqm file): from `QuantizedGraph::compile` or
/// `Program::load`.
pub struct Program {
    raw: *mut sys::lq_program,
}

impl Program {
    pub fn load<P: AsRef<Path>>(path: P) -> Result<Program> {
        let path = c_path(path.as_ref())?;
        let mut raw = ptr::null_mut();
        // SAFETY: valid C string and out pointer.
        check(unsafe { sys::lq_program_load(path.as_ptr(), &mut raw) })?;
        Ok(Program { raw })
    }

    pub fn save<P: AsRef<Path>>(&self, path: P) -> Result<()> {
        let path = c_path(path.as_ref())?;
        // SAFETY: live program, valid C string.
        check(unsafe { sys::lq_program_save(self.raw, path.as_ptr()) })
    }

    /// Every instruction (kernel, CPU reason, ...), tensor and the memory totals.
    pub fn summary_json(&self) -> Result<String> {
        let mut buffer = ptr::null_mut();
        // SAFETY: live program, valid out pointer.
        check(unsafe { sys::lq_program_summary_json(self.raw, &mut buffer) })?;
        Ok(take_text(buffer))
    }

    /// The constants: weights, biases, tables.
    pub fn weight_bytes(&self) -> Result<u64> {
        let mut bytes = 0;
        // SAFETY: live program, valid out pointer.
        check(unsafe { sys::lq_program_weight_bytes(self.raw, &mut bytes) })?;
        Ok(bytes)
    }

    /// The activation arena every run needs.
    pub fn peak_activation_bytes(&self) -> Result<u64> {
        let mut bytes = 0;
        // SAFETY: live program, valid out pointer.
        check(unsafe { sys::lq_program_peak_activation_bytes(self.raw, &mut bytes) })?;
        Ok(bytes)
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        // SAFETY: released once.
        unsafe { sys::lq_program_release(self.raw) }
    }
}

/// Runs a `Program` bit for bit with the integer kernels; it keeps the program alive.
pub struct FixedSimulator {
    raw: *mut sys::lq_fixed_simulator,
}

impl FixedSimulator {
    pub fn new(program: &Program, threads: i32) -> Result<FixedSimulator> {
        let options = sys::lq_fixed_simulator_options { threads, ..Default::default() };
        let mut raw = ptr::null_mut();
        // SAFETY: live program, valid options and out pointer.
        check(unsafe { sys::lq_fixed_simulator_create(program.raw, &options, &mut raw) })?;
        Ok(FixedSimulator { raw })
    }

    /// Runs on every program input (float32, quantized by the simulator) and returns every
    /// output, in model order: quantized ones dequantized to float32 when `dequantize`, else
    /// as their integer codes.
    pub fn run(&self, inputs: &[Input], dequantize: bool) -> Result<Vec<Tensor>> {
        let kind =
            if dequantize { sys::LQ_FIXED_OUTPUT_DEQUANTIZED } else { sys::LQ_FIXED_OUTPUT_RAW };
        // SAFETY: a live simulator; run_to_tensors passes valid views and output pointers.
        run_to_tensors(inputs, |views, count, outputs, capacity, output_count| unsafe {
            sys::lq_fixed_simulator_run_to_tensors(
                self.raw,
                kind,
                views,
                count,
                outputs,
                capacity,
                output_count,
            )
        })
    }
}

impl Drop for FixedSimulator {
    fn drop(&mut self) {
        // SAFETY: released once.
        unsafe { sys::lq_fixed_simulator_release(self.raw) }
    }
}
