// Package libquant wraps libquant's C ABI with cgo. Every handle belongs to a Go value that
// releases it in Close, or in a finalizer when the value is collected without Close; every
// failed call returns an *Error carrying the library's message.
//
// As in C, an object keeps the objects it was made from alive inside the library, so a
// Simulator may outlive the Graph it was created from. Link with -lquant (set CGO_CFLAGS and
// CGO_LDFLAGS to libquant's include and library folders when it is not installed).
package libquant

/*
#cgo LDFLAGS: -lquant
#include <stdlib.h>
#include <libquant.h>

extern void lqGoProgress(int64_t done, int64_t total, void* user_data);
*/
import "C"

import (
	"fmt"
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// Code is the kind of a failure (lq_code).
type Code int

const (
	InvalidArgument    Code = C.LQ_INVALID_ARGUMENT
	NotFound           Code = C.LQ_NOT_FOUND
	Unsupported        Code = C.LQ_UNSUPPORTED
	InvalidModel       Code = C.LQ_INVALID_MODEL
	IOError            Code = C.LQ_IO_ERROR
	FailedPrecondition Code = C.LQ_FAILED_PRECONDITION
	Internal           Code = C.LQ_INTERNAL
	OutOfMemory        Code = C.LQ_OUT_OF_MEMORY
)

// Error is a failed call: its code and the library's message (which names the function, the
// parameter or model element at fault, and what to do).
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.Message }

// check turns an lq_status* into an error, releasing the status.
func check(status *C.lq_status) error {
	if status == nil {
		return nil
	}
	defer C.lq_status_release(status)
	return &Error{Code(C.lq_status_code(status)), C.GoString(C.lq_status_message(status))}
}

// takeText copies a library-owned text buffer (JSON) and releases it.
func takeText(buffer *C.lq_buffer) string {
	defer C.lq_buffer_release(buffer)
	return C.GoStringN((*C.char)(C.lq_buffer_data(buffer)), C.int(C.lq_buffer_size(buffer)))
}

// Version is the library's release, e.g. "0.1.0".
func Version() string { return C.GoString(C.lq_version()) }

// APIVersion is the library's ABI version; this package was written for APIVersion 2.
func APIVersion() int { return int(C.lq_api_version()) }

// Input is a float32 model input: Data holds the elements of Shape in row-major order.
type Input struct {
	Name  string
	Shape []int64
	Data  []float32
}

// Tensor is a float32 model output, copied into Go memory.
type Tensor struct {
	Name  string
	Shape []int64
	Data  []float32
}

// cMemory is C memory allocated for one call, freed together.
type cMemory struct{ allocs []unsafe.Pointer }

func (m *cMemory) alloc(size uintptr) unsafe.Pointer {
	if size == 0 {
		size = 1
	}
	p := C.calloc(1, C.size_t(size))
	if p == nil {
		panic("libquant: out of C memory")
	}
	m.allocs = append(m.allocs, p)
	return p
}

func (m *cMemory) cString(text string) *C.char {
	s := C.CString(text)
	m.allocs = append(m.allocs, unsafe.Pointer(s))
	return s
}

func (m *cMemory) free() {
	for _, p := range m.allocs {
		C.free(p)
	}
}

// cInputs holds the C views of some inputs. cgo's pointer rules forbid passing Go memory
// that holds Go pointers (a view points to its name, shape and data) and storing Go pointers
// in C memory, so the views and everything they point to are copied into C memory.
type cInputs struct {
	cMemory
	views *C.lq_tensor_view
	count C.size_t
}

func newCInputs(inputs []Input) *cInputs {
	in := &cInputs{count: C.size_t(len(inputs))}
	in.views = (*C.lq_tensor_view)(in.alloc(unsafe.Sizeof(C.lq_tensor_view{}) * uintptr(len(inputs))))
	views := unsafe.Slice(in.views, len(inputs))
	for i, input := range inputs {
		view := &views[i]
		C.lq_tensor_view_init(view)
		view.name = in.cString(input.Name)
		view.dtype = C.LQ_FLOAT32
		shape := in.alloc(8 * uintptr(len(input.Shape)))
		copy(unsafe.Slice((*int64)(shape), len(input.Shape)), input.Shape)
		view.shape = (*C.int64_t)(shape)
		view.rank = C.size_t(len(input.Shape))
		view.data = in.alloc(4 * uintptr(len(input.Data)))
		copy(unsafe.Slice((*float32)(view.data), len(input.Data)), input.Data)
		view.byte_size = C.size_t(4 * len(input.Data))
	}
	return in
}

// Graph is a model: ONNX with shapes inferred.
type Graph struct{ raw *C.lq_graph }

// LoadGraph reads an ONNX model.
func LoadGraph(path string) (*Graph, error) {
	cPath := C.CString(path)
	defer C.free(unsafe.Pointer(cPath))
	g := &Graph{}
	if err := check(C.lq_graph_load(cPath, &g.raw)); err != nil {
		return nil, err
	}
	runtime.SetFinalizer(g, (*Graph).Close)
	return g, nil
}

// Close releases the graph; a second Close does nothing.
func (g *Graph) Close() {
	C.lq_graph_release(g.raw)
	g.raw = nil
	runtime.SetFinalizer(g, nil)
}

// Optimize folds constants, fuses BatchNorm, ... (simulators made before keep the old graph).
func (g *Graph) Optimize() error {
	defer runtime.KeepAlive(g)
	return check(C.lq_graph_optimize(g.raw))
}

// InputNames lists the model inputs (constants excluded) in model order.
func (g *Graph) InputNames() ([]string, error) {
	defer runtime.KeepAlive(g)
	var count C.size_t
	if err := check(C.lq_graph_input_count(g.raw, &count)); err != nil {
		return nil, err
	}
	names := make([]string, count)
	for i := range names {
		var name *C.char
		if err := check(C.lq_graph_input_name(g.raw, C.size_t(i), &name)); err != nil {
			return nil, err
		}
		names[i] = C.GoString(name)
	}
	return names, nil
}

// OutputNames lists the model outputs in model order.
func (g *Graph) OutputNames() ([]string, error) {
	defer runtime.KeepAlive(g)
	var count C.size_t
	if err := check(C.lq_graph_output_count(g.raw, &count)); err != nil {
		return nil, err
	}
	names := make([]string, count)
	for i := range names {
		var name *C.char
		if err := check(C.lq_graph_output_name(g.raw, C.size_t(i), &name)); err != nil {
			return nil, err
		}
		names[i] = C.GoString(name)
	}
	return names, nil
}

// SimulatorOptions: Threads >= 1 (results are identical for any count); ReferenceOnly runs
// only the plain reference kernels.
type SimulatorOptions struct {
	Threads       int
	ReferenceOnly bool
}

func (o SimulatorOptions) c() C.lq_simulator_options {
	var options C.lq_simulator_options
	C.lq_simulator_options_init(&options)
	options.threads = C.int(o.Threads)
	if o.ReferenceOnly {
		options.reference_only = 1
	}
	return options
}

// Simulator runs a graph, in float or with fake quantization.
type Simulator struct{ raw *C.lq_simulator }

func newSimulator(raw *C.lq_simulator) *Simulator {
	s := &Simulator{raw}
	runtime.SetFinalizer(s, (*Simulator).Close)
	return s
}

// NewSimulator is the float simulator of g as it is now.
func NewSimulator(g *Graph, options SimulatorOptions) (*Simulator, error) {
	defer runtime.KeepAlive(g)
	cOptions := options.c()
	var raw *C.lq_simulator
	if err := check(C.lq_simulator_create(g.raw, &cOptions, &raw)); err != nil {
		return nil, err
	}
	return newSimulator(raw), nil
}

// NewFakeQuantSimulator is a float simulator that quantizes and dequantizes every tensor
// with parameters, as the QDQ export does.
func NewFakeQuantSimulator(q *QuantizedGraph, options SimulatorOptions) (*Simulator, error) {
	defer runtime.KeepAlive(q)
	cOptions := options.c()
	var raw *C.lq_simulator
	if err := check(C.lq_simulator_create_fake_quant(q.raw, &cOptions, &raw)); err != nil {
		return nil, err
	}
	return newSimulator(raw), nil
}

// Close releases the simulator; a second Close does nothing.
func (s *Simulator) Close() {
	C.lq_simulator_release(s.raw)
	s.raw = nil
	runtime.SetFinalizer(s, nil)
}

// Run runs on every graph input and returns every graph output (float32), in model order.
func (s *Simulator) Run(inputs ...Input) ([]Tensor, error) {
	defer runtime.KeepAlive(s)
	return runToTensors(inputs, func(in *cInputs, outputs **C.lq_tensor, capacity C.size_t,
		count *C.size_t) *C.lq_status {
		return C.lq_simulator_run_to_tensors(s.raw, in.views, in.count, outputs, capacity, count)
	})
}

// runToTensors calls an lq_*_run_to_tensors function (run) on the inputs and returns every
// output (float32), in model order.
func runToTensors(inputs []Input, run func(in *cInputs, outputs **C.lq_tensor,
	capacity C.size_t, count *C.size_t) *C.lq_status) ([]Tensor, error) {
	in := newCInputs(inputs)
	defer in.free()
	// With no room for outputs the call fails before running, but tells how many there are.
	var count C.size_t
	probe := run(in, nil, 0, &count)
	if count == 0 {
		return nil, check(probe)
	}
	C.lq_status_release(probe)
	n := count
	outputs := (**C.lq_tensor)(in.alloc(unsafe.Sizeof((*C.lq_tensor)(nil)) * uintptr(n)))
	if err := check(run(in, outputs, n, &count)); err != nil {
		return nil, err
	}
	var err error
	tensors := make([]Tensor, n)
	for i, raw := range unsafe.Slice(outputs, n) {
		if tensors[i], err = copyTensor(raw); err != nil {
			break
		}
	}
	for _, raw := range unsafe.Slice(outputs, n) {
		C.lq_tensor_release(raw)
	}
	if err != nil {
		return nil, err
	}
	return tensors, nil
}

func copyTensor(raw *C.lq_tensor) (Tensor, error) {
	t := Tensor{Name: C.GoString(C.lq_tensor_name(raw))}
	if dtype := C.lq_tensor_dtype(raw); dtype != C.LQ_FLOAT32 {
		return t, fmt.Errorf("output %q is %s; this wrapper reads float32 outputs",
			t.Name, C.GoString(C.lq_dtype_name(dtype)))
	}
	if rank := int(C.lq_tensor_rank(raw)); rank > 0 {
		shape := (*int64)(unsafe.Pointer(C.lq_tensor_shape(raw)))
		t.Shape = append([]int64(nil), unsafe.Slice(shape, rank)...)
	}
	if n := int(C.lq_tensor_byte_size(raw)) / 4; n > 0 {
		t.Data = append([]float32(nil), unsafe.Slice((*float32)(C.lq_tensor_data(raw)), n)...)
	}
	return t, nil
}

// ResizeMode says how a picture is brought to the input's height and width.
type ResizeMode int

const (
	ResizeStretch      ResizeMode = C.LQ_RESIZE_STRETCH        // bilinear to height x width
	ResizeNone         ResizeMode = C.LQ_RESIZE_NONE           // keep the picture's size
	ResizeFitHeightPad ResizeMode = C.LQ_RESIZE_FIT_HEIGHT_PAD // text lines: pad on the right
)

// ColorOrder is the input's channel order.
type ColorOrder int

const (
	ColorRGB  ColorOrder = C.LQ_COLOR_RGB
	ColorBGR  ColorOrder = C.LQ_COLOR_BGR
	ColorGray ColorOrder = C.LQ_COLOR_GRAY
)

// Layout is the input's dimension order.
type Layout int

const (
	LayoutNCHW Layout = C.LQ_LAYOUT_NCHW
	LayoutNHWC Layout = C.LQ_LAYOUT_NHWC
)

// ImagePreprocess says how a picture becomes a float32 input: per channel,
// value = (pixel - Mean) * Scale with pixel in [0, 255]; PadValue is after normalization.
type ImagePreprocess struct {
	Height, Width int64
	Resize        ResizeMode
	Color         ColorOrder
	Layout        Layout
	Mean, Scale   [3]float32
	PadValue      float32
}

func (p *ImagePreprocess) c() C.lq_image_preprocess {
	var pre C.lq_image_preprocess
	C.lq_image_preprocess_init(&pre)
	pre.height = C.int64_t(p.Height)
	pre.width = C.int64_t(p.Width)
	pre.resize = C.lq_resize_mode(p.Resize)
	pre.color = C.lq_color_order(p.Color)
	pre.layout = C.lq_layout(p.Layout)
	for c := 0; c < 3; c++ {
		pre.mean[c] = C.float(p.Mean[c])
		pre.scale[c] = C.float(p.Scale[c])
	}
	pre.pad_value = C.float(p.PadValue)
	return pre
}

// LoadImage reads a picture (PNG, JPEG, BMP) as a float32 tensor [1,C,H,W] (or [1,H,W,C]),
// as picture calibration sources do.
func LoadImage(path string, preprocess ImagePreprocess) (Tensor, error) {
	cPath := C.CString(path)
	defer C.free(unsafe.Pointer(cPath))
	pre := preprocess.c()
	var raw *C.lq_tensor
	if err := check(C.lq_image_load(cPath, &pre, &raw)); err != nil {
		return Tensor{}, err
	}
	defer C.lq_tensor_release(raw)
	return copyTensor(raw)
}

// CalibrationSources lists files for each model input: .npy files or pictures, each path a
// file or a folder.
type CalibrationSources struct{ raw *C.lq_calibration_sources }

// NewCalibrationSources is an empty list.
func NewCalibrationSources() (*CalibrationSources, error) {
	s := &CalibrationSources{}
	if err := check(C.lq_calibration_sources_create(&s.raw)); err != nil {
		return nil, err
	}
	runtime.SetFinalizer(s, (*CalibrationSources).Close)
	return s, nil
}

// Close releases the sources; a second Close does nothing.
func (s *CalibrationSources) Close() {
	C.lq_calibration_sources_release(s.raw)
	s.raw = nil
	runtime.SetFinalizer(s, nil)
}

// AddNpy adds .npy files for the input.
func (s *CalibrationSources) AddNpy(input, path string) error {
	defer runtime.KeepAlive(s)
	cInput, cPath := C.CString(input), C.CString(path)
	defer C.free(unsafe.Pointer(cInput))
	defer C.free(unsafe.Pointer(cPath))
	return check(C.lq_calibration_sources_add_npy(s.raw, cInput, cPath))
}

// AddImages adds pictures (PNG, JPEG, BMP) for the input, preprocessed by the library.
func (s *CalibrationSources) AddImages(input, path string, preprocess ImagePreprocess) error {
	defer runtime.KeepAlive(s)
	cInput, cPath := C.CString(input), C.CString(path)
	defer C.free(unsafe.Pointer(cInput))
	defer C.free(unsafe.Pointer(cPath))
	pre := preprocess.c()
	return check(C.lq_calibration_sources_add_images(s.raw, cInput, cPath, &pre))
}

// CalibratorOptions: KeepSamples are the first samples kept for the range method "auto" to
// score on; Progress, if set, is called after each sample read from sources.
type CalibratorOptions struct {
	Threads       int
	HistogramBins int
	KeepSamples   int
	Progress      func(done, total int64)
}

// DefaultCalibratorOptions are the C ABI's defaults.
func DefaultCalibratorOptions() CalibratorOptions {
	var options C.lq_calibrator_options
	C.lq_calibrator_options_init(&options)
	return CalibratorOptions{
		Threads:       int(options.threads),
		HistogramBins: int(options.histogram_bins),
		KeepSamples:   int(options.keep_samples),
	}
}

// Calibrator collects statistics of every tensor from float runs on samples.
type Calibrator struct {
	raw *C.lq_calibrator
	// C memory holding the cgo.Handle of the progress callback (nil without one).
	progress unsafe.Pointer
}

// NewCalibrator is a calibrator of g as it is now (quantize that same graph).
func NewCalibrator(g *Graph, options CalibratorOptions) (*Calibrator, error) {
	defer runtime.KeepAlive(g)
	var cOptions C.lq_calibrator_options
	C.lq_calibrator_options_init(&cOptions)
	cOptions.threads = C.int(options.Threads)
	cOptions.histogram_bins = C.int(options.HistogramBins)
	cOptions.keep_samples = C.size_t(options.KeepSamples)
	c := &Calibrator{}
	if options.Progress != nil {
		c.progress = C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0))))
		*(*C.uintptr_t)(c.progress) = C.uintptr_t(cgo.NewHandle(options.Progress))
		cOptions.progress = C.lq_progress_fn(C.lqGoProgress)
		cOptions.progress_user_data = c.progress
	}
	runtime.SetFinalizer(c, (*Calibrator).Close)
	if err := check(C.lq_calibrator_create(g.raw, &cOptions, &c.raw)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close releases the calibrator and its progress callback; a second Close does nothing.
func (c *Calibrator) Close() {
	C.lq_calibrator_release(c.raw)
	c.raw = nil
	if c.progress != nil {
		cgo.Handle(*(*C.uintptr_t)(c.progress)).Delete()
		C.free(c.progress)
		c.progress = nil
	}
	runtime.SetFinalizer(c, nil)
}

// AddSample adds one sample: an input for every model input.
func (c *Calibrator) AddSample(inputs ...Input) error {
	defer runtime.KeepAlive(c)
	in := newCInputs(inputs)
	defer in.free()
	return check(C.lq_calibrator_add_sample(c.raw, in.views, in.count))
}

// AddSources reads every sample of the sources.
func (c *Calibrator) AddSources(s *CalibrationSources) error {
	defer runtime.KeepAlive(c)
	defer runtime.KeepAlive(s)
	return check(C.lq_calibrator_add_sources(c.raw, s.raw))
}

// SampleCount is the number of samples seen.
func (c *Calibrator) SampleCount() (uint64, error) {
	defer runtime.KeepAlive(c)
	var count C.uint64_t
	err := check(C.lq_calibrator_sample_count(c.raw, &count))
	return uint64(count), err
}

// TableJSON is every tensor's min, max, count and histogram.
func (c *Calibrator) TableJSON() (string, error) {
	defer runtime.KeepAlive(c)
	var buffer *C.lq_buffer
	if err := check(C.lq_calibrator_table_json(c.raw, &buffer)); err != nil {
		return "", err
	}
	return takeText(buffer), nil
}

// Quantizer is a quant config and the quantization it drives.
type Quantizer struct{ raw *C.lq_quantizer }

func newQuantizer(raw *C.lq_quantizer) *Quantizer {
	q := &Quantizer{raw}
	runtime.SetFinalizer(q, (*Quantizer).Close)
	return q
}

// NewQuantizer has the default config.
func NewQuantizer() (*Quantizer, error) {
	var raw *C.lq_quantizer
	if err := check(C.lq_quantizer_create(&raw)); err != nil {
		return nil, err
	}
	return newQuantizer(raw), nil
}

// NewQuantizerFromJSON reads a JSON quant config; errors carry the validator's message.
func NewQuantizerFromJSON(json string) (*Quantizer, error) {
	cJSON := C.CString(json)
	defer C.free(unsafe.Pointer(cJSON))
	var raw *C.lq_quantizer
	if err := check(C.lq_quantizer_create_from_json(cJSON, &raw)); err != nil {
		return nil, err
	}
	return newQuantizer(raw), nil
}

// Close releases the quantizer; a second Close does nothing.
func (q *Quantizer) Close() {
	C.lq_quantizer_release(q.raw)
	q.raw = nil
	runtime.SetFinalizer(q, nil)
}

// SetMethod sets the activations' range method: "max", "percentile", "kl", "mse", "mmse",
// "auto" or "skip".
func (q *Quantizer) SetMethod(method string) error {
	defer runtime.KeepAlive(q)
	cMethod := C.CString(method)
	defer C.free(unsafe.Pointer(cMethod))
	return check(C.lq_quantizer_set_method(q.raw, cMethod))
}

// SetBits sets activations to 8 or 16 bits and weights to 4, 8 or 16 bits; 0 keeps one.
func (q *Quantizer) SetBits(activationBits, weightBits int) error {
	defer runtime.KeepAlive(q)
	return check(C.lq_quantizer_set_bits(q.raw, C.int(activationBits), C.int(weightBits)))
}

// SetPerChannel chooses one weight scale per output channel (true) or per tensor.
func (q *Quantizer) SetPerChannel(perChannel bool) error {
	defer runtime.KeepAlive(q)
	value := C.int(0)
	if perChannel {
		value = 1
	}
	return check(C.lq_quantizer_set_per_channel(q.raw, value))
}

// ConfigJSON is the quant config as JSON.
func (q *Quantizer) ConfigJSON() (string, error) {
	defer runtime.KeepAlive(q)
	var buffer *C.lq_buffer
	if err := check(C.lq_quantizer_config_json(q.raw, &buffer)); err != nil {
		return "", err
	}
	return takeText(buffer), nil
}

// Quantize gives g quantization parameters from c, which must have been created from g as it
// is now and have seen samples.
func (q *Quantizer) Quantize(g *Graph, c *Calibrator) (*QuantizedGraph, error) {
	defer runtime.KeepAlive(q)
	defer runtime.KeepAlive(g)
	defer runtime.KeepAlive(c)
	result := &QuantizedGraph{}
	if err := check(C.lq_quantizer_quantize(q.raw, g.raw, c.raw, &result.raw)); err != nil {
		return nil, err
	}
	runtime.SetFinalizer(result, (*QuantizedGraph).Close)
	return result, nil
}

// QuantizedGraph is a float graph with quantization parameters for its tensors.
type QuantizedGraph struct{ raw *C.lq_quantized_graph }

// Close releases the quantized graph; a second Close does nothing.
func (q *QuantizedGraph) Close() {
	C.lq_quantized_graph_release(q.raw)
	q.raw = nil
	runtime.SetFinalizer(q, nil)
}

// SaveQDQ writes ONNX with QuantizeLinear/DequantizeLinear pairs.
func (q *QuantizedGraph) SaveQDQ(path string) error {
	defer runtime.KeepAlive(q)
	cPath := C.CString(path)
	defer C.free(unsafe.Pointer(cPath))
	return check(C.lq_quantized_graph_save_qdq(q.raw, cPath))
}

// ParamsJSON is every tensor's dtype, scale(s), zero point(s), range and range method.
func (q *QuantizedGraph) ParamsJSON() (string, error) {
	defer runtime.KeepAlive(q)
	var buffer *C.lq_buffer
	if err := check(C.lq_quantized_graph_params_json(q.raw, &buffer)); err != nil {
		return "", err
	}
	return takeText(buffer), nil
}

// CompileOptions: Target is "generic" (every integer op, int8 and int16; the default when
// empty) or "int8" (int16 ops on the CPU); InputShapes fixes the model inputs with dynamic
// dimensions (a program's shapes are static).
type CompileOptions struct {
	Target      string
	InputShapes map[string][]int64
}

// Compile lowers q to an integer Program.
func (q *QuantizedGraph) Compile(options CompileOptions) (*Program, error) {
	defer runtime.KeepAlive(q)
	var memory cMemory
	defer memory.free()
	var cOptions C.lq_compile_options
	C.lq_compile_options_init(&cOptions)
	if options.Target != "" {
		cOptions.target = memory.cString(options.Target)
	}
	if n := len(options.InputShapes); n > 0 {
		shapes := (*C.lq_input_shape)(memory.alloc(unsafe.Sizeof(C.lq_input_shape{}) * uintptr(n)))
		elements := unsafe.Slice(shapes, n)
		i := 0
		for name, shape := range options.InputShapes {
			element := &elements[i]
			C.lq_input_shape_init(element)
			element.name = memory.cString(name)
			dims := memory.alloc(8 * uintptr(len(shape)))
			copy(unsafe.Slice((*int64)(dims), len(shape)), shape)
			element.shape = (*C.int64_t)(dims)
			element.rank = C.size_t(len(shape))
			i++
		}
		cOptions.input_shapes = shapes
		cOptions.input_shape_count = C.size_t(n)
	}
	p := &Program{}
	if err := check(C.lq_compile(q.raw, &cOptions, &p.raw)); err != nil {
		return nil, err
	}
	runtime.SetFinalizer(p, (*Program).Close)
	return p, nil
}

// Program is a compiled integer program (the .lqm file).
type Program struct{ raw *C.lq_program }

// LoadProgram reads a .lqm file.
func LoadProgram(path string) (*Program, error) {
	cPath := C.CString(path)
	defer C.free(unsafe.Pointer(cPath))
	p := &Program{}
	if err := check(C.lq_program_load(cPath, &p.raw)); err != nil {
		return nil, err
	}
	runtime.SetFinalizer(p, (*Program).Close)
	return p, nil
}

// Close releases the program; a second Close does nothing.
func (p *Program) Close() {
	C.lq_program_release(p.raw)
	p.raw = nil
	runtime.SetFinalizer(p, nil)
}

// Save writes the program as a .lqm file (replacing path atomically).
func (p *Program) Save(path string) error {
	defer runtime.KeepAlive(p)
	cPath := C.CString(path)
	defer C.free(unsafe.Pointer(cPath))
	return check(C.lq_program_save(p.raw, cPath))
}

// SummaryJSON is every instruction (kernel, CPU reason, ...), tensor and the memory totals.
func (p *Program) SummaryJSON() (string, error) {
	defer runtime.KeepAlive(p)
	var buffer *C.lq_buffer
	if err := check(C.lq_program_summary_json(p.raw, &buffer)); err != nil {
		return "", err
	}
	return takeText(buffer), nil
}

// WeightBytes is the size of the constants: weights, biases, tables.
func (p *Program) WeightBytes() (uint64, error) {
	defer runtime.KeepAlive(p)
	var bytes C.uint64_t
	err := check(C.lq_program_weight_bytes(p.raw, &bytes))
	return uint64(bytes), err
}

// PeakActivationBytes is the activation arena every run needs.
func (p *Program) PeakActivationBytes() (uint64, error) {
	defer runtime.KeepAlive(p)
	var bytes C.uint64_t
	err := check(C.lq_program_peak_activation_bytes(p.raw, &bytes))
	return uint64(bytes), err
}

// FixedSimulator runs a Program bit for bit with the integer kernels; it keeps the program
// alive inside the library.
type FixedSimulator struct{ raw *C.lq_fixed_simulator }

// NewFixedSimulator is the fixed-point simulator of p, with threads >= 1.
func NewFixedSimulator(p *Program, threads int) (*FixedSimulator, error) {
	defer runtime.KeepAlive(p)
	var options C.lq_fixed_simulator_options
	C.lq_fixed_simulator_options_init(&options)
	options.threads = C.int(threads)
	s := &FixedSimulator{}
	if err := check(C.lq_fixed_simulator_create(p.raw, &options, &s.raw)); err != nil {
		return nil, err
	}
	runtime.SetFinalizer(s, (*FixedSimulator).Close)
	return s, nil
}

// Close releases the simulator; a second Close does nothing.
func (s *FixedSimulator) Close() {
	C.lq_fixed_simulator_release(s.raw)
	s.raw = nil
	runtime.SetFinalizer(s, nil)
}

// Run runs on every program input (float32, quantized by the simulator) and returns every
// output, in model order, with quantized outputs dequantized to float32.
func (s *FixedSimulator) Run(inputs ...Input) ([]Tensor, error) {
	defer runtime.KeepAlive(s)
	return runToTensors(inputs, func(in *cInputs, outputs **C.lq_tensor, capacity C.size_t,
		count *C.size_t) *C.lq_status {
		return C.lq_fixed_simulator_run_to_tensors(s.raw, C.LQ_FIXED_OUTPUT_DEQUANTIZED, in.views,
			in.count, outputs, capacity, count)
	})
}
