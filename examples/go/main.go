// Command classify_direction quantizes the PP-OCR text direction classifier to int8 through
// libquant's C ABI, compiles it to a fixed-point program (saved as a .lqm file and loaded
// back, as a deployment would), then classifies text-line pictures as upright (0) or upside
// down (180) with the float, the int8 (fake-quant) and the fixed-point simulators.
//
//	classify_direction [-o PROGRAM.lqm] CLS_MODEL.onnx CALIB_DIR PICTURE...
//
// The program goes to PROGRAM.lqm (default classify_direction.lqm in the current directory).
package main

import (
	"errors"
	"fmt"
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

// classify returns the label and its probability from one run of a simulator.
func classify(run func(...libquant.Input) ([]libquant.Tensor, error), input string,
	picture libquant.Tensor) (int, float32, error) {
	outputs, err := run(libquant.Input{Name: input, Shape: picture.Shape, Data: picture.Data})
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

func run(model, calibDir string, pictures []string, programPath string) error {
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

	// The integer program, as an NPU runs it (the model's batch is dynamic, a program's is
	// not), saved and loaded back, and its bit-exact simulator.
	compiled, err := quantized.Compile(libquant.CompileOptions{
		InputShapes: map[string][]int64{input: {1, 3, height, width}},
	})
	if err != nil {
		return err
	}
	defer compiled.Close()
	if err := compiled.Save(programPath); err != nil {
		return err
	}
	weights, err := compiled.WeightBytes()
	if err != nil {
		return err
	}
	activations, err := compiled.PeakActivationBytes()
	if err != nil {
		return err
	}
	fmt.Printf("compiled: %s (weights %.1f KiB, activations %.1f KiB)\n", programPath,
		float64(weights)/1024, float64(activations)/1024)
	program, err := libquant.LoadProgram(programPath)
	if err != nil {
		return err
	}
	defer program.Close()
	fixedSim, err := libquant.NewFixedSimulator(program, 2)
	if err != nil {
		return err
	}
	defer fixedSim.Close()

	for _, path := range pictures {
		picture, err := libquant.LoadImage(path, pre)
		if err != nil {
			return err
		}
		f, pf, err := classify(floatSim.Run, input, picture)
		if err != nil {
			return err
		}
		q, pq, err := classify(int8Sim.Run, input, picture)
		if err != nil {
			return err
		}
		// The simulator quantizes the float32 picture and dequantizes the int8 scores.
		x, px, err := classify(fixedSim.Run, input, picture)
		if err != nil {
			return err
		}
		name := filepath.Base(path)
		fmt.Printf("%s: float %s (p=%.4f) int8 %s (p=%.4f)\n", name, labels[f], pf, labels[q], pq)
		fmt.Printf("%s: fixed %s (p=%.4f)\n", name, labels[x], px)
	}
	return nil
}

func main() {
	args := os.Args[1:]
	programPath := "classify_direction.lqm"
	if len(args) > 1 && args[0] == "-o" {
		programPath, args = args[1], args[2:]
	}
	if len(args) < 3 {
		fmt.Fprintf(os.Stderr, "usage: %s [-o PROGRAM.lqm] CLS_MODEL.onnx CALIB_DIR PICTURE...\n",
			os.Args[0])
		os.Exit(2)
	}
	if err := run(args[0], args[1], args[2:], programPath); err != nil {
		var lqErr *libquant.Error
		if errors.As(err, &lqErr) {
			fmt.Fprintf(os.Stderr, "error (libquant code %d): %s\n", lqErr.Code, lqErr.Message)
		} else {
			fmt.Fprintf(os.Stderr, "error: %v\n", err)
		}
		os.Exit(1)
	}
}
