// Command classify_direction quantizes the PP-OCR text direction classifier to int8 through
// libquant's C ABI, then classifies text-line pictures as upright (0) or upside down (180)
// with the float and the int8 (fake-quant) simulators.
//
//	classify_direction CLS_MODEL.onnx CALIB_DIR PICTURE...
//
// The C ABI reads pictures only as calibration sources, so the pictures to classify are
// decoded here with Go's image packages and preprocessed the same way.
package main

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"os"
	"path/filepath"

	"lqexample/libquant"
)

const (
	height = 48
	width  = 192
)

var labels = [2]string{"0", "180"}

// clsPreprocess is PP-OCR's classifier input: BGR, height 48, width by aspect ratio up to
// 192, padded on the right, (pixel / 255 - 0.5) / 0.5.
func clsPreprocess() libquant.ImagePreprocess {
	return libquant.ImagePreprocess{
		Height: height,
		Width:  width,
		Resize: libquant.ResizeFitHeightPad,
		Color:  libquant.ColorBGR,
		Layout: libquant.LayoutNCHW,
		Mean:   [3]float32{127.5, 127.5, 127.5},
		Scale:  [3]float32{1 / 127.5, 1 / 127.5, 1 / 127.5},
	}
}

// loadPicture reads a picture as the classifier's input [1,3,48,192], exactly as libquant's
// picture sources preprocess it: bilinear resize with half-pixel centers to height 48 (width
// by aspect ratio, at most 192), BGR, normalized, padded on the right.
func loadPicture(path string, pre libquant.ImagePreprocess) ([]float32, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	picture, _, err := image.Decode(file)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	bounds := picture.Bounds()
	w, h := bounds.Dx(), bounds.Dy()
	// at is one 8-bit channel, alpha dropped (as stb_image does for 3 channels).
	at := func(x, y, c int) float32 {
		p := color.NRGBAModel.Convert(picture.At(bounds.Min.X+x, bounds.Min.Y+y)).(color.NRGBA)
		return float32([3]uint8{p.R, p.G, p.B}[c])
	}
	contentW := int(math.Ceil(height * (float64(w) / float64(h))))
	contentW = min(max(contentW, 1), width)
	input := make([]float32, 3*height*width)
	for i := range input {
		input[i] = pre.PadValue
	}
	sy, sx := float32(h)/height, float32(w)/float32(contentW)
	for y := 0; y < height; y++ {
		fy := max32((float32(y)+0.5)*sy-0.5, 0)
		y0 := min(int(fy), h-1)
		y1 := min(y0+1, h-1)
		wy := fy - float32(y0)
		for x := 0; x < contentW; x++ {
			fx := max32((float32(x)+0.5)*sx-0.5, 0)
			x0 := min(int(fx), w-1)
			x1 := min(x0+1, w-1)
			wx := fx - float32(x0)
			for c := 0; c < 3; c++ {
				rgbC := 2 - c // the model wants BGR
				top := at(x0, y0, rgbC) + (at(x1, y0, rgbC)-at(x0, y0, rgbC))*wx
				bottom := at(x0, y1, rgbC) + (at(x1, y1, rgbC)-at(x0, y1, rgbC))*wx
				input[(c*height+y)*width+x] = (top + (bottom-top)*wy - pre.Mean[c]) * pre.Scale[c]
			}
		}
	}
	return input, nil
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func max(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func max32(a, b float32) float32 {
	if a > b {
		return a
	}
	return b
}

// classify returns the label and its probability from one run of the simulator.
func classify(sim *libquant.Simulator, input string, picture []float32) (int, float32, error) {
	shape := []int64{1, 3, height, width}
	outputs, err := sim.Run(libquant.Input{Name: input, Shape: shape, Data: picture})
	if err != nil {
		return 0, 0, err
	}
	scores := outputs[0].Data
	if len(scores) != 2 {
		return 0, 0, fmt.Errorf("expected 2 scores, got %d", len(scores))
	}
	label := 0
	if scores[1] > scores[0] {
		label = 1
	}
	return label, scores[label], nil
}

func run(model, calibDir string, pictures []string) error {
	fmt.Printf("libquant %s (C ABI %d)\n", libquant.Version(), libquant.APIVersion())
	pre := clsPreprocess()
	options := libquant.SimulatorOptions{Threads: 2}

	// The float model: load, optimize, then one simulator and one calibrator on it.
	graph, err := libquant.LoadGraph(model)
	if err != nil {
		return err
	}
	defer graph.Close()
	if err := graph.Optimize(); err != nil {
		return err
	}
	inputs, err := graph.InputNames()
	if err != nil {
		return err
	}
	input := inputs[0]
	floatSim, err := libquant.NewSimulator(graph, options)
	if err != nil {
		return err
	}
	defer floatSim.Close()
	calibOptions := libquant.DefaultCalibratorOptions()
	calibOptions.Threads = 2
	calibOptions.KeepSamples = 8 // the method "auto" scores its candidates on these
	calibOptions.Progress = func(done, total int64) {
		if done == total {
			fmt.Fprintf(os.Stderr, "calibration: read %d pictures\n", total)
		}
	}
	calibrator, err := libquant.NewCalibrator(graph, calibOptions)
	if err != nil {
		return err
	}
	defer calibrator.Close()

	// Calibrate on every picture of the folder, preprocessed by the library. Nothing closes
	// sources: its finalizer releases it.
	sources, err := libquant.NewCalibrationSources()
	if err != nil {
		return err
	}
	if err := sources.AddImages(input, calibDir, pre); err != nil {
		return err
	}
	if err := calibrator.AddSources(sources); err != nil {
		return err
	}
	samples, err := calibrator.SampleCount()
	if err != nil {
		return err
	}
	fmt.Printf("calibrated on %d pictures of %s\n", samples, calibDir)

	// int8 activations and weights, each activation's range chosen by "auto".
	quantizer, err := libquant.NewQuantizer()
	if err != nil {
		return err
	}
	defer quantizer.Close()
	if err := quantizer.SetMethod("auto"); err != nil {
		return err
	}
	if err := quantizer.SetBits(8, 8); err != nil {
		return err
	}
	quantized, err := quantizer.Quantize(graph, calibrator)
	if err != nil {
		return err
	}
	defer quantized.Close()
	int8Sim, err := libquant.NewFakeQuantSimulator(quantized, options)
	if err != nil {
		return err
	}
	defer int8Sim.Close()

	for _, path := range pictures {
		picture, err := loadPicture(path, pre)
		if err != nil {
			return err
		}
		f, pf, err := classify(floatSim, input, picture)
		if err != nil {
			return err
		}
		q, pq, err := classify(int8Sim, input, picture)
		if err != nil {
			return err
		}
		fmt.Printf("%s: float %s (p=%.4f) int8 %s (p=%.4f)\n", filepath.Base(path), labels[f], pf,
			labels[q], pq)
	}
	return nil
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintf(os.Stderr, "usage: %s CLS_MODEL.onnx CALIB_DIR PICTURE...\n", os.Args[0])
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3:]); err != nil {
		var lqErr *libquant.Error
		if errors.As(err, &lqErr) {
			fmt.Fprintf(os.Stderr, "error (libquant code %d): %s\n", lqErr.Code, lqErr.Message)
		} else {
			fmt.Fprintf(os.Stderr, "error: %v\n", err)
		}
		os.Exit(1)
	}
}
