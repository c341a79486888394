"""A ctypes wrapper of libquant's C ABI, with numpy arrays for tensors.

Every handle belongs to a Python object that releases it in close() (also as a context
manager), or in __del__ when the object is collected without close(); every failed call
raises LibquantError carrying the library's message. As in C, an object keeps the objects it
was made from alive inside the library, so a Simulator may outlive the Graph it came from.

The library is $LIBQUANT_LIBRARY when set, else libquant.so on the loader's path.
"""
import ctypes
import ctypes.util
import functools
import os

import numpy as np

_lib = ctypes.CDLL(os.environ.get("LIBQUANT_LIBRARY") or ctypes.util.find_library("quant")
                   or "libquant.so.0")

API_VERSION = 4  # the C header's LQ_API_VERSION this wrapper was written for

# lq_code
INVALID_ARGUMENT, NOT_FOUND, UNSUPPORTED, INVALID_MODEL = 1, 2, 3, 4
IO_ERROR, FAILED_PRECONDITION, INTERNAL, OUT_OF_MEMORY = 5, 6, 7, 8

# lq_resize_mode, lq_color_order, lq_layout
RESIZE_STRETCH, RESIZE_NONE, RESIZE_FIT_HEIGHT_PAD = 0, 1, 2
COLOR_RGB, COLOR_BGR, COLOR_GRAY = 0, 1, 2
LAYOUT_NCHW, LAYOUT_NHWC = 0, 1

# lq_fixed_output
FIXED_OUTPUT_RAW, FIXED_OUTPUT_DEQUANTIZED = 0, 1

# lq_dtype for the numpy types that have one.
_DTYPES = {
    np.dtype(np.float32): 1, np.dtype(np.float16): 2, np.dtype(np.float64): 3,
    np.dtype(np.int8): 5, np.dtype(np.uint8): 6, np.dtype(np.int16): 7, np.dtype(np.uint16): 8,
    np.dtype(np.int32): 9, np.dtype(np.uint32): 10, np.dtype(np.int64): 11,
    np.dtype(np.uint64): 12, np.dtype(np.bool_): 13,
}
_NUMPY_TYPES = {code: dtype for dtype, code in _DTYPES.items()}


class LibquantError(Exception):
    """A failed call: `code` (lq_code) and the library's message."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


# ---- The C declarations -----------------------------------------------------------------

class _Opaque(ctypes.Structure):
    pass


_handle = ctypes.POINTER(_Opaque)
_status = _handle
_size_t = ctypes.c_size_t
_char_p = ctypes.c_char_p
_PROGRESS = ctypes.CFUNCTYPE(None, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p)
_LOG = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)
_STAGE = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)
_OBSERVER = ctypes.CFUNCTYPE(None, _handle, _handle, ctypes.c_void_p)


class _TensorView(ctypes.Structure):
    _fields_ = [("struct_size", _size_t), ("name", _char_p), ("dtype", ctypes.c_int),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("rank", _size_t),
                ("data", ctypes.c_void_p), ("byte_size", _size_t)]


class _OutputView(ctypes.Structure):
    _fields_ = [("struct_size", _size_t), ("name", _char_p), ("data", ctypes.c_void_p),
                ("byte_size", _size_t), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("shape_capacity", _size_t), ("dtype", ctypes.c_int), ("rank", _size_t),
                ("bytes_needed", _size_t)]


class _SimulatorOptions(ctypes.Structure):
    _fields_ = [("struct_size", _size_t), ("threads", ctypes.c_int),
                ("reference_only", ctypes.c_int)]


class _CalibratorOptions(ctypes.Structure):
    _fields_ = [("struct_size", _size_t), ("threads", ctypes.c_int),
                ("histogram_bins", ctypes.c_int), ("keep_samples", _size_t),
                ("progress", _PROGRESS), ("progress_user_data", ctypes.c_void_p)]


class _ImagePreprocess(ctypes.Structure):
    _fields_ = [("struct_size", _size_t), ("height", ctypes.c_int64),
                ("width", ctypes.c_int64), ("resize", ctypes.c_int), ("color", ctypes.c_int),
                ("layout", ctypes.c_int), ("mean", ctypes.c_float * 3),
                ("scale", ctypes.c_float * 3), ("pad_value", ctypes.c_float)]


class _InputShape(ctypes.Structure):
    _fields_ = [("struct_size", _size_t), ("name", _char_p),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("rank", _size_t)]


class _CompileOptions(ctypes.Structure):
    _fields_ = [("struct_size", _size_t), ("target", _char_p),
                ("input_shapes", ctypes.POINTER(_InputShape)), ("input_shape_count", _size_t),
                ("log", _LOG), ("log_user_data", ctypes.c_void_p)]


class _FixedSimulatorOptions(ctypes.Structure):
    _fields_ = [("struct_size", _size_t), ("threads", ctypes.c_int)]


class _PipelineRunOptions(ctypes.Structure):
    _fields_ = [("struct_size", _size_t), ("stage", _STAGE), ("stage_user_data", ctypes.c_void_p),
                ("progress", _PROGRESS), ("progress_user_data", ctypes.c_void_p),
                ("log", _LOG), ("log_user_data", ctypes.c_void_p)]


def _declare(name, restype, *argtypes):
    function = getattr(_lib, name)
    function.restype = restype
    function.argtypes = argtypes


_out = ctypes.POINTER(_handle)
_p_size = ctypes.POINTER(_size_t)
for _name, _restype, _argtypes in [
    ("lq_version", _char_p, ()),
    ("lq_api_version", ctypes.c_int, ()),
    ("lq_status_code", ctypes.c_int, (_status,)),
    ("lq_status_message", _char_p, (_status,)),
    ("lq_status_release", None, (_status,)),
    ("lq_buffer_data", ctypes.c_void_p, (_handle,)),
    ("lq_buffer_size", _size_t, (_handle,)),
    ("lq_buffer_release", None, (_handle,)),
    ("lq_tensor_name", _char_p, (_handle,)),
    ("lq_tensor_dtype", ctypes.c_int, (_handle,)),
    ("lq_tensor_rank", _size_t, (_handle,)),
    ("lq_tensor_shape", ctypes.POINTER(ctypes.c_int64), (_handle,)),
    ("lq_tensor_data", ctypes.c_void_p, (_handle,)),
    ("lq_tensor_byte_size", _size_t, (_handle,)),
    ("lq_tensor_release", None, (_handle,)),
    ("lq_graph_load", _status, (_char_p, _out)),
    ("lq_graph_load_from_memory", _status, (ctypes.c_char_p, _size_t, _out)),
    ("lq_graph_release", None, (_handle,)),
    ("lq_graph_optimize", _status, (_handle,)),
    ("lq_graph_save", _status, (_handle, _char_p)),
    ("lq_graph_input_count", _status, (_handle, _p_size)),
    ("lq_graph_input_name", _status, (_handle, _size_t, ctypes.POINTER(_char_p))),
    ("lq_graph_output_count", _status, (_handle, _p_size)),
    ("lq_graph_output_name", _status, (_handle, _size_t, ctypes.POINTER(_char_p))),
    ("lq_simulator_create", _status, (_handle, ctypes.POINTER(_SimulatorOptions), _out)),
    ("lq_simulator_run", _status, (_handle, ctypes.POINTER(_TensorView), _size_t,
                                   ctypes.POINTER(_OutputView), _size_t)),
    ("lq_simulator_run_to_tensors", _status, (_handle, ctypes.POINTER(_TensorView), _size_t,
                                              _out, _size_t, _p_size)),
    ("lq_simulator_release", None, (_handle,)),
    ("lq_calibrator_create", _status, (_handle, ctypes.POINTER(_CalibratorOptions), _out)),
    ("lq_calibrator_add_sample", _status, (_handle, ctypes.POINTER(_TensorView), _size_t)),
    ("lq_calibrator_add_sources", _status, (_handle, _handle)),
    ("lq_calibrator_sample_count", _status, (_handle, ctypes.POINTER(ctypes.c_uint64))),
    ("lq_calibrator_table_json", _status, (_handle, _out)),
    ("lq_calibrator_release", None, (_handle,)),
    ("lq_calibration_sources_create", _status, (_out,)),
    ("lq_calibration_sources_add_npy", _status, (_handle, _char_p, _char_p)),
    ("lq_calibration_sources_add_images", _status, (_handle, _char_p, _char_p,
                                                    ctypes.POINTER(_ImagePreprocess))),
    ("lq_calibration_sources_release", None, (_handle,)),
    ("lq_quantizer_create", _status, (_out,)),
    ("lq_quantizer_create_from_json", _status, (_char_p, _out)),
    ("lq_quantizer_set_method", _status, (_handle, _char_p)),
    ("lq_quantizer_set_bits", _status, (_handle, ctypes.c_int, ctypes.c_int)),
    ("lq_quantizer_set_per_channel", _status, (_handle, ctypes.c_int)),
    ("lq_quantizer_config_json", _status, (_handle, _out)),
    ("lq_quantizer_quantize", _status, (_handle, _handle, _handle, _out)),
    ("lq_quantizer_release", None, (_handle,)),
    ("lq_quantized_graph_save_qdq", _status, (_handle, _char_p)),
    ("lq_quantized_graph_params_json", _status, (_handle, _out)),
    ("lq_simulator_create_fake_quant", _status, (_handle, ctypes.POINTER(_SimulatorOptions),
                                                 _out)),
    ("lq_quantized_graph_release", None, (_handle,)),
    ("lq_quantizer_set_log_callback", _status, (_handle, _LOG, ctypes.c_void_p)),
    ("lq_image_load", _status, (_char_p, ctypes.POINTER(_ImagePreprocess), _out)),
    ("lq_compile", _status, (_handle, ctypes.POINTER(_CompileOptions), _out)),
    ("lq_program_release", None, (_handle,)),
    ("lq_program_save", _status, (_handle, _char_p)),
    ("lq_program_load", _status, (_char_p, _out)),
    ("lq_program_summary_json", _status, (_handle, _out)),
    ("lq_program_weight_bytes", _status, (_handle, ctypes.POINTER(ctypes.c_uint64))),
    ("lq_program_peak_activation_bytes", _status, (_handle, ctypes.POINTER(ctypes.c_uint64))),
    ("lq_fixed_simulator_create", _status, (_handle, ctypes.POINTER(_FixedSimulatorOptions),
                                            _out)),
    ("lq_fixed_simulator_run_to_tensors", _status, (_handle, ctypes.c_int,
                                                    ctypes.POINTER(_TensorView), _size_t, _out,
                                                    _size_t, _p_size)),
    ("lq_fixed_simulator_release", None, (_handle,)),
    ("lq_fixed_simulator_run_observed", _status, (_handle, ctypes.c_int,
                                                  ctypes.POINTER(_TensorView), _size_t, _OBSERVER,
                                                  ctypes.c_void_p, _out, _size_t, _p_size)),
    ("lq_quantizer_set_target", _status, (_handle, _char_p)),
    ("lq_npy_load", _status, (_char_p, _out)),
    ("lq_npy_save", _status, (ctypes.POINTER(_TensorView), _char_p)),
    ("lq_pipeline_create_from_json", _status, (_char_p, _char_p, _out)),
    ("lq_pipeline_create_from_yaml", _status, (_char_p, _char_p, _out)),
    ("lq_pipeline_create", _status, (_char_p, _char_p, _out)),
    ("lq_pipeline_options_json", _status, (_handle, _out)),
    ("lq_pipeline_set_calibration_sources", _status, (_handle, _handle)),
    ("lq_pipeline_set_input_shape", _status, (_handle, _char_p, ctypes.POINTER(ctypes.c_int64),
                                              _size_t)),
    ("lq_pipeline_set_quantizer", _status, (_handle, _handle)),
    ("lq_pipeline_set_target", _status, (_handle, _char_p)),
    ("lq_pipeline_set_threads", _status, (_handle, ctypes.c_int, ctypes.c_int)),
    ("lq_pipeline_set_artifacts", _status, (_handle, ctypes.POINTER(_char_p), _size_t)),
    ("lq_pipeline_set_output_dir", _status, (_handle, _char_p)),
    ("lq_pipeline_set_calibration_shard", _status, (_handle, ctypes.c_int, ctypes.c_int)),
    ("lq_pipeline_set_stats_output", _status, (_handle, _char_p)),
    ("lq_pipeline_set_calibrate_only", _status, (_handle, ctypes.c_int)),
    ("lq_pipeline_set_stats_inputs", _status, (_handle, ctypes.POINTER(_char_p), _size_t)),
    ("lq_calibrator_save_stats", _status, (_handle, _char_p)),
    ("lq_calibration_stats_merge", _status, (ctypes.POINTER(_char_p), _size_t, _char_p)),
    ("lq_pipeline_run", _status, (_handle, ctypes.POINTER(_PipelineRunOptions), _out)),
    ("lq_pipeline_release", None, (_handle,)),
    ("lq_pipeline_result_calibration_samples", _status, (_handle, ctypes.POINTER(ctypes.c_uint64),
                                                         ctypes.POINTER(ctypes.c_uint64))),
    ("lq_pipeline_result_output_count", _status, (_handle, _p_size)),
    ("lq_pipeline_result_output_name", _status, (_handle, _size_t, ctypes.POINTER(_char_p))),
    ("lq_pipeline_result_output_snr_db", _status, (_handle, _size_t,
                                                   ctypes.POINTER(ctypes.c_double),
                                                   ctypes.POINTER(ctypes.c_double))),
    ("lq_pipeline_result_artifact_count", _status, (_handle, _p_size)),
    ("lq_pipeline_result_artifact_path", _status, (_handle, _size_t, ctypes.POINTER(_char_p))),
    ("lq_pipeline_result_report_json", _status, (_handle, _out)),
    ("lq_pipeline_result_float_graph", _status, (_handle, _out)),
    ("lq_pipeline_result_quantized_graph", _status, (_handle, _out)),
    ("lq_pipeline_result_program", _status, (_handle, _out)),
    ("lq_pipeline_result_release", None, (_handle,)),
]:
    _declare(_name, _restype, *_argtypes)


# ---- Helpers ------------------------------------------------------------------------------

def _check(status):
    """Raises LibquantError for a failed call's status, releasing it."""
    if not status:
        return
    try:
        raise LibquantError(_lib.lq_status_code(status),
                            _lib.lq_status_message(status).decode(errors="replace"))
    finally:
        _lib.lq_status_release(status)


def _encode(text):
    return os.fsencode(text) if isinstance(text, os.PathLike) else str(text).encode()


def _take_text(buffer):
    """Copies a library-owned text buffer (JSON) and releases it."""
    try:
        return ctypes.string_at(_lib.lq_buffer_data(buffer),
                                _lib.lq_buffer_size(buffer)).decode()
    finally:
        _lib.lq_buffer_release(buffer)


def version():
    """The library's release, e.g. "0.1.0"."""
    return _lib.lq_version().decode()


def api_version():
    return _lib.lq_api_version()


class _Inputs:
    """C views of {name: array} inputs; keeps the arrays and names alive during a call."""

    def __init__(self, inputs):
        self._keep = []
        self.views = (_TensorView * len(inputs))()
        for view, (name, array) in zip(self.views, inputs.items()):
            array = np.ascontiguousarray(array)
            if array.dtype not in _DTYPES:
                raise LibquantError(INVALID_ARGUMENT,
                                    f"input {name!r}: numpy dtype {array.dtype} has no lq_dtype")
            shape = (ctypes.c_int64 * max(array.ndim, 1))(*array.shape)
            encoded = _encode(name)
            self._keep += [array, shape, encoded]
            view.struct_size = ctypes.sizeof(_TensorView)
            view.name = encoded
            view.dtype = _DTYPES[array.dtype]
            view.shape = shape
            view.rank = array.ndim
            view.data = array.ctypes.data
            view.byte_size = array.nbytes


class _Handle:
    """Owns one library handle, released by close() or on collection."""

    _release = None  # the lq_*_release function, set by each subclass

    def __init__(self, handle):
        self._handle = handle

    def close(self):
        if getattr(self, "_handle", None):
            type(self)._release(self._handle)
            self._handle = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def handle(self):
        if not self._handle:
            raise LibquantError(INVALID_ARGUMENT, f"this {type(self).__name__} was closed")
        return self._handle


def _create(function, *args):
    out = _handle()
    _check(function(*args, ctypes.byref(out)))
    return out


# ---- The wrapper --------------------------------------------------------------------------

class Graph(_Handle):
    """A model: ONNX with shapes inferred."""

    _release = _lib.lq_graph_release

    def __init__(self, path):
        super().__init__(_create(_lib.lq_graph_load, _encode(path)))

    @classmethod
    def from_bytes(cls, data):
        graph = cls.__new__(cls)
        _Handle.__init__(graph, _create(_lib.lq_graph_load_from_memory, data, len(data)))
        return graph

    def optimize(self):
        """Folds constants, fuses BatchNorm, ... (simulators made before keep the old graph)."""
        _check(_lib.lq_graph_optimize(self.handle))

    def _names(self, count_of, name_of):
        count = _size_t()
        _check(count_of(self.handle, ctypes.byref(count)))
        names = []
        for i in range(count.value):
            name = _char_p()
            _check(name_of(self.handle, i, ctypes.byref(name)))
            names.append(name.value.decode())
        return names

    @property
    def input_names(self):
        return self._names(_lib.lq_graph_input_count, _lib.lq_graph_input_name)

    @property
    def output_names(self):
        return self._names(_lib.lq_graph_output_count, _lib.lq_graph_output_name)


def _simulator_options(threads, reference_only):
    return _SimulatorOptions(ctypes.sizeof(_SimulatorOptions), threads, int(reference_only))


class Simulator(_Handle):
    """Runs a graph, in float or (Simulator.fake_quant) with fake quantization."""

    _release = _lib.lq_simulator_release

    def __init__(self, graph, threads=1, reference_only=False):
        options = _simulator_options(threads, reference_only)
        super().__init__(_create(_lib.lq_simulator_create, graph.handle, ctypes.byref(options)))

    @classmethod
    def fake_quant(cls, quantized_graph, threads=1, reference_only=False):
        """A float simulator that quantizes and dequantizes every tensor with parameters."""
        options = _simulator_options(threads, reference_only)
        simulator = cls.__new__(cls)
        _Handle.__init__(simulator, _create(_lib.lq_simulator_create_fake_quant,
                                            quantized_graph.handle, ctypes.byref(options)))
        return simulator

    def run(self, inputs):
        """Runs on {input name: array} and returns every output, in model order, as arrays."""
        return _run_to_arrays(functools.partial(_lib.lq_simulator_run_to_tensors, self.handle),
                              inputs)

    def run_into(self, inputs, outputs):
        """Runs on {input name: array} and writes the named outputs into the caller's
        C-contiguous {output name: array}, each of the output's dtype and size."""
        views = _Inputs(inputs)
        out_views = (_OutputView * len(outputs))()
        shapes = []
        for view, (name, array) in zip(out_views, outputs.items()):
            if not (array.flags.c_contiguous and array.flags.writeable):
                raise LibquantError(INVALID_ARGUMENT, f"output {name!r}: the array must be "
                                    "C-contiguous and writeable")
            shape = (ctypes.c_int64 * 8)()
            shapes.append(shape)
            view.struct_size = ctypes.sizeof(_OutputView)
            view.name = _encode(name)
            view.data = array.ctypes.data
            view.byte_size = array.nbytes
            view.shape = shape
            view.shape_capacity = len(shape)
        _check(_lib.lq_simulator_run(self.handle, views.views, len(views.views), out_views,
                                     len(out_views)))
        for view, (name, array) in zip(out_views, outputs.items()):
            if _NUMPY_TYPES.get(view.dtype) != array.dtype or view.bytes_needed != array.nbytes:
                raise LibquantError(INVALID_ARGUMENT,
                                    f"output {name!r} ({view.bytes_needed} bytes of lq_dtype "
                                    f"{view.dtype}) does not fill the array {array.dtype}"
                                    f"{list(array.shape)}")


def _run_to_arrays(run_to_tensors, inputs):
    """Calls an lq_*_run_to_tensors function (its leading arguments bound) on {input name:
    array} and returns every output, in model order, as arrays."""
    views = _Inputs(inputs)
    count = _size_t()
    # With no room for outputs the call fails before running, but tells how many there are.
    probe = run_to_tensors(views.views, len(views.views), None, 0, ctypes.byref(count))
    if count.value == 0:
        _check(probe)
        return []
    _lib.lq_status_release(probe)
    tensors = (_handle * count.value)()
    _check(run_to_tensors(views.views, len(views.views), tensors, count.value,
                          ctypes.byref(count)))
    try:
        return [_to_numpy(tensor) for tensor in tensors]
    finally:
        for tensor in tensors:
            _lib.lq_tensor_release(tensor)


def _to_numpy(tensor):
    dtype = _NUMPY_TYPES.get(_lib.lq_tensor_dtype(tensor))
    if dtype is None:
        raise LibquantError(UNSUPPORTED, "an output's dtype has no numpy type")
    rank = _lib.lq_tensor_rank(tensor)
    shape = tuple(_lib.lq_tensor_shape(tensor)[i] for i in range(rank))
    data = ctypes.string_at(_lib.lq_tensor_data(tensor), _lib.lq_tensor_byte_size(tensor))
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


class ImagePreprocess:
    """How a picture becomes a float32 input: per channel, value = (pixel - mean) * scale
    with pixel in [0, 255]; pad_value is after normalization."""

    def __init__(self, height=0, width=0, resize=RESIZE_STRETCH, color=COLOR_RGB,
                 layout=LAYOUT_NCHW, mean=(0.0, 0.0, 0.0), scale=(1.0, 1.0, 1.0),
                 pad_value=0.0):
        self.height, self.width, self.resize = height, width, resize
        self.color, self.layout = color, layout
        self.mean, self.scale, self.pad_value = tuple(mean), tuple(scale), pad_value

    def _c(self):
        return _ImagePreprocess(ctypes.sizeof(_ImagePreprocess), self.height, self.width,
                                self.resize, self.color, self.layout,
                                (ctypes.c_float * 3)(*self.mean),
                                (ctypes.c_float * 3)(*self.scale), self.pad_value)


def load_image(path, preprocess):
    """A picture (PNG, JPEG, BMP) as a float32 array [1,C,H,W] (or [1,H,W,C]), read as
    picture calibration sources are."""
    pre = preprocess._c()
    tensor = _create(_lib.lq_image_load, _encode(path), ctypes.byref(pre))
    try:
        return _to_numpy(tensor)
    finally:
        _lib.lq_tensor_release(tensor)


def load_npy(path):
    """A .npy file as an array."""
    tensor = _create(_lib.lq_npy_load, _encode(path))
    try:
        return _to_numpy(tensor)
    finally:
        _lib.lq_tensor_release(tensor)


def save_npy(array, path):
    views = _Inputs({"": array})
    _check(_lib.lq_npy_save(views.views, _encode(path)))


def _log_callback(log):
    """A C log callback calling log(line) (None for no callback); keep it referenced while the
    library may call it."""
    return _LOG(lambda line, _: log(line.decode(errors="replace"))) if log else _LOG()


class CalibrationSources(_Handle):
    """Files for each model input: .npy files or pictures, each path a file or a folder."""

    _release = _lib.lq_calibration_sources_release

    def __init__(self):
        super().__init__(_create(_lib.lq_calibration_sources_create))

    def add_npy(self, input_name, path):
        _check(_lib.lq_calibration_sources_add_npy(self.handle, _encode(input_name),
                                                   _encode(path)))

    def add_images(self, input_name, path, preprocess):
        pre = preprocess._c()
        _check(_lib.lq_calibration_sources_add_images(self.handle, _encode(input_name),
                                                      _encode(path), ctypes.byref(pre)))


class Calibrator(_Handle):
    """Collects statistics of every tensor from float runs of a graph (as it is now) on
    samples. keep_samples: the first samples kept for the range method "auto" to score on;
    progress(done, total), if given, is called after each sample read from sources."""

    _release = _lib.lq_calibrator_release

    def __init__(self, graph, threads=1, histogram_bins=2048, keep_samples=8, progress=None):
        options = _CalibratorOptions(ctypes.sizeof(_CalibratorOptions), threads,
                                     histogram_bins, keep_samples)
        # The library calls it until the calibrator is released: keep it referenced.
        self._progress = _PROGRESS(lambda done, total, _: progress(done, total)) \
            if progress else None
        if self._progress:
            options.progress = self._progress
        super().__init__(_create(_lib.lq_calibrator_create, graph.handle,
                                 ctypes.byref(options)))

    def add_sample(self, inputs):
        """One sample: {input name: array} for every model input."""
        views = _Inputs(inputs)
        _check(_lib.lq_calibrator_add_sample(self.handle, views.views, len(views.views)))

    def add_sources(self, sources):
        _check(_lib.lq_calibrator_add_sources(self.handle, sources.handle))

    @property
    def sample_count(self):
        count = ctypes.c_uint64()
        _check(_lib.lq_calibrator_sample_count(self.handle, ctypes.byref(count)))
        return count.value

    def table_json(self):
        """Every tensor's min, max, count and histogram."""
        return _take_text(_create(_lib.lq_calibrator_table_json, self.handle))

    def save_stats(self, path):
        """Writes the statistics file that merge_stats and Pipeline.set_stats_inputs read."""
        _check(_lib.lq_calibrator_save_stats(self.handle, _encode(path)))


def _paths(paths):
    encoded = [_encode(os.fspath(p)) for p in paths]
    return (_char_p * max(len(encoded), 1))(*encoded), len(encoded)


def merge_stats(paths, out_path):
    """Merges the statistics files of a sharded calibration (any order) into out_path, exactly."""
    array, count = _paths(paths)
    _check(_lib.lq_calibration_stats_merge(array, count, _encode(os.fspath(out_path))))


class Quantizer(_Handle):
    """A quant config (the default one, or from JSON) and the quantization it drives."""

    _release = _lib.lq_quantizer_release

    def __init__(self, config_json=None):
        if config_json is None:
            super().__init__(_create(_lib.lq_quantizer_create))
        else:
            super().__init__(_create(_lib.lq_quantizer_create_from_json, _encode(config_json)))

    def set_method(self, method):
        """The activations' range method: "max", "percentile", "kl", "mse", "mmse", "auto",
        "skip"."""
        _check(_lib.lq_quantizer_set_method(self.handle, _encode(method)))

    def set_bits(self, activation_bits, weight_bits):
        """Activations 8 or 16 bits, weights 4, 8 or 16 bits; 0 keeps one."""
        _check(_lib.lq_quantizer_set_bits(self.handle, activation_bits, weight_bits))

    def set_per_channel(self, per_channel):
        _check(_lib.lq_quantizer_set_per_channel(self.handle, int(per_channel)))

    def config_json(self):
        return _take_text(_create(_lib.lq_quantizer_config_json, self.handle))

    def set_target(self, target):
        """"generic" (int8 and int16) or "int8" (int16 falls back to int8, logged)."""
        _check(_lib.lq_quantizer_set_target(self.handle, _encode(target)))

    def set_log(self, log):
        """log(line), or None: called during quantize() with the decisions a user should hear
        about (nodes kept in float, tensors widened to int16, what "auto" chose)."""
        self._log = _log_callback(log)  # called until replaced: keep it referenced
        _check(_lib.lq_quantizer_set_log_callback(self.handle, self._log, None))

    def quantize(self, graph, calibrator):
        """`calibrator` must have been created from `graph` as it is now and seen samples."""
        quantized = QuantizedGraph.__new__(QuantizedGraph)
        _Handle.__init__(quantized, _create(_lib.lq_quantizer_quantize, self.handle,
                                            graph.handle, calibrator.handle))
        return quantized


class QuantizedGraph(_Handle):
    """A float graph with quantization parameters for its tensors (from Quantizer.quantize)."""

    _release = _lib.lq_quantized_graph_release

    def save_qdq(self, path):
        """ONNX with QuantizeLinear/DequantizeLinear pairs."""
        _check(_lib.lq_quantized_graph_save_qdq(self.handle, _encode(path)))

    def params_json(self):
        """Every tensor's dtype, scale(s), zero point(s), range and range method."""
        return _take_text(_create(_lib.lq_quantized_graph_params_json, self.handle))

    def compile(self, target="generic", input_shapes=None, log=None):
        """The integer Program. input_shapes: {input name: shape} for the model inputs with
        dynamic dimensions; log(line), if given, hears of every node left on the CPU."""
        input_shapes = input_shapes or {}
        elements = (_InputShape * max(len(input_shapes), 1))()
        keep = []
        for element, (name, shape) in zip(elements, input_shapes.items()):
            dims = (ctypes.c_int64 * max(len(shape), 1))(*shape)
            encoded = _encode(name)
            keep += [dims, encoded]
            element.struct_size = ctypes.sizeof(_InputShape)
            element.name = encoded
            element.shape = dims
            element.rank = len(shape)
        log_callback = _log_callback(log)
        options = _CompileOptions(ctypes.sizeof(_CompileOptions), _encode(target), elements,
                                  len(input_shapes), log_callback, None)
        program = Program.__new__(Program)
        _Handle.__init__(program, _create(_lib.lq_compile, self.handle, ctypes.byref(options)))
        return program


class Program(_Handle):
    """A compiled integer program (the .lqm file): from QuantizedGraph.compile or
    Program.load."""

    _release = _lib.lq_program_release

    @classmethod
    def load(cls, path):
        program = cls.__new__(cls)
        _Handle.__init__(program, _create(_lib.lq_program_load, _encode(path)))
        return program

    def save(self, path):
        _check(_lib.lq_program_save(self.handle, _encode(path)))

    def summary_json(self):
        """Every instruction (kernel, CPU reason, ...), tensor and the memory totals."""
        return _take_text(_create(_lib.lq_program_summary_json, self.handle))

    def _bytes(self, function):
        value = ctypes.c_uint64()
        _check(function(self.handle, ctypes.byref(value)))
        return value.value

    @property
    def weight_bytes(self):
        return self._bytes(_lib.lq_program_weight_bytes)

    @property
    def peak_activation_bytes(self):
        return self._bytes(_lib.lq_program_peak_activation_bytes)


class FixedSimulator(_Handle):
    """Runs a Program bit for bit with the integer kernels."""

    _release = _lib.lq_fixed_simulator_release

    def __init__(self, program, threads=1):
        options = _FixedSimulatorOptions(ctypes.sizeof(_FixedSimulatorOptions), threads)
        super().__init__(_create(_lib.lq_fixed_simulator_create, program.handle,
                                 ctypes.byref(options)))

    def run(self, inputs, dequantize=True, observer=None):
        """Runs on {input name: array} (float32, or the input's integer codes) and returns
        every output, in model order: quantized ones dequantized to float32, or as their
        integer codes when dequantize is False. observer(name, codes, real), if given, hears
        every tensor the run computes (real is None for one that is not quantized)."""
        kind = FIXED_OUTPUT_DEQUANTIZED if dequantize else FIXED_OUTPUT_RAW
        if observer is None:
            return _run_to_arrays(functools.partial(_lib.lq_fixed_simulator_run_to_tensors,
                                                    self.handle, kind), inputs)

        def observe(codes, real, _):
            observer(_lib.lq_tensor_name(codes).decode(), _to_numpy(codes),
                     _to_numpy(real) if real else None)

        callback = _OBSERVER(observe)

        def run_observed(views, view_count, outputs, capacity, count):
            return _lib.lq_fixed_simulator_run_observed(self.handle, kind, views, view_count,
                                                        callback, None, outputs, capacity, count)

        return _run_to_arrays(run_observed, inputs)


def _wrap(cls, handle):
    """A wrapper object of `cls` owning `handle`."""
    obj = cls.__new__(cls)
    _Handle.__init__(obj, handle)
    return obj


class Pipeline(_Handle):
    """The whole job (lquant build): load, optimize, calibrate, quantize, compile, evaluate,
    write the artifacts. Pipeline(model, output_dir) has the default options; from_json and
    from_yaml read a config in lquant build's schema (relative paths from base_dir)."""

    _release = _lib.lq_pipeline_release

    def __init__(self, model, output_dir):
        super().__init__(_create(_lib.lq_pipeline_create, _encode(model), _encode(output_dir)))

    @classmethod
    def from_json(cls, text, base_dir=None):
        base = _encode(base_dir) if base_dir is not None else None
        return _wrap(cls, _create(_lib.lq_pipeline_create_from_json, _encode(text), base))

    @classmethod
    def from_yaml(cls, text, base_dir=None):
        base = _encode(base_dir) if base_dir is not None else None
        return _wrap(cls, _create(_lib.lq_pipeline_create_from_yaml, _encode(text), base))

    def options_json(self):
        """Every option with its value, as lquant build --print-config prints them."""
        return _take_text(_create(_lib.lq_pipeline_options_json, self.handle))

    def set_calibration_sources(self, sources):
        _check(_lib.lq_pipeline_set_calibration_sources(self.handle, sources.handle))

    def set_input_shape(self, input_name, shape):
        dims = (ctypes.c_int64 * max(len(shape), 1))(*shape)
        _check(_lib.lq_pipeline_set_input_shape(self.handle, _encode(input_name), dims,
                                                len(shape)))

    def set_quantizer(self, quantizer):
        """The quantizer's quant config."""
        _check(_lib.lq_pipeline_set_quantizer(self.handle, quantizer.handle))

    def set_target(self, target):
        _check(_lib.lq_pipeline_set_target(self.handle, _encode(target)))

    def set_threads(self, calibration_threads=0, simulator_threads=0):
        _check(_lib.lq_pipeline_set_threads(self.handle, calibration_threads, simulator_threads))

    def set_artifacts(self, artifacts):
        """Names among float, qdq, params, quant_config, config, program, program_summary,
        report, written in this order."""
        encoded = [_encode(a) for a in artifacts]
        array = (_char_p * max(len(encoded), 1))(*encoded)
        _check(_lib.lq_pipeline_set_artifacts(self.handle, array, len(encoded)))

    def set_output_dir(self, output_dir):
        _check(_lib.lq_pipeline_set_output_dir(self.handle, _encode(output_dir)))

    def set_calibration_shard(self, index, count):
        """Calibrate only the index-th of count contiguous blocks of the samples."""
        _check(_lib.lq_pipeline_set_calibration_shard(self.handle, index, count))

    def set_stats_output(self, path):
        """Also write the calibration statistics to path (None: none)."""
        _check(_lib.lq_pipeline_set_stats_output(
            self.handle, _encode(os.fspath(path)) if path is not None else None))

    def set_calibrate_only(self, calibrate_only=True):
        _check(_lib.lq_pipeline_set_calibrate_only(self.handle, 1 if calibrate_only else 0))

    def set_stats_inputs(self, paths):
        """Statistics files (merged exactly) to use instead of calibrating; [] calibrates."""
        array, count = _paths(paths)
        _check(_lib.lq_pipeline_set_stats_inputs(self.handle, array, count))

    def run(self, stage=None, progress=None, log=None):
        """Runs every stage; stage(name), progress(done, total) and log(line) are optional."""
        callbacks = [_STAGE(lambda name, _: stage(name.decode())) if stage else _STAGE(),
                     _PROGRESS(lambda done, total, _: progress(done, total))
                     if progress else _PROGRESS(), _log_callback(log)]
        options = _PipelineRunOptions(ctypes.sizeof(_PipelineRunOptions), callbacks[0], None,
                                      callbacks[1], None, callbacks[2], None)
        return _wrap(PipelineResult, _create(_lib.lq_pipeline_run, self.handle,
                                             ctypes.byref(options)))


class PipelineResult(_Handle):
    """What a Pipeline run produced."""

    _release = _lib.lq_pipeline_result_release

    @property
    def calibration_samples(self):
        """(samples calibrated on, kept samples the SNRs are measured on)"""
        seen, kept = ctypes.c_uint64(), ctypes.c_uint64()
        _check(_lib.lq_pipeline_result_calibration_samples(self.handle, ctypes.byref(seen),
                                                           ctypes.byref(kept)))
        return seen.value, kept.value

    def snr_db(self):
        """{float32 output: (fake-quantized SNR, fixed-point program SNR)} against float."""
        count = _size_t()
        _check(_lib.lq_pipeline_result_output_count(self.handle, ctypes.byref(count)))
        result = {}
        for i in range(count.value):
            name = _char_p()
            fake, fixed = ctypes.c_double(), ctypes.c_double()
            _check(_lib.lq_pipeline_result_output_name(self.handle, i, ctypes.byref(name)))
            _check(_lib.lq_pipeline_result_output_snr_db(self.handle, i, ctypes.byref(fake),
                                                         ctypes.byref(fixed)))
            result[name.value.decode()] = (fake.value, fixed.value)
        return result

    @property
    def artifacts(self):
        """The files written, in order."""
        count = _size_t()
        _check(_lib.lq_pipeline_result_artifact_count(self.handle, ctypes.byref(count)))
        paths = []
        for i in range(count.value):
            path = _char_p()
            _check(_lib.lq_pipeline_result_artifact_path(self.handle, i, ctypes.byref(path)))
            paths.append(os.fsdecode(path.value))
        return paths

    def report_json(self):
        return _take_text(_create(_lib.lq_pipeline_result_report_json, self.handle))

    def float_graph(self):
        return _wrap(Graph, _create(_lib.lq_pipeline_result_float_graph, self.handle))

    def quantized_graph(self):
        return _wrap(QuantizedGraph, _create(_lib.lq_pipeline_result_quantized_graph,
                                             self.handle))

    def program(self):
        return _wrap(Program, _create(_lib.lq_pipeline_result_program, self.handle))
