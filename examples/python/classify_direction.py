#!/usr/bin/env python3
"""Quantizes the PP-OCR text direction classifier to int8 through libquant's C ABI (with the
ctypes wrapper libquant.py), compiles it to a fixed-point program (saved as a .lqm file and
loaded back, as a deployment would), then classifies text-line pictures as upright (0) or
upside down (180) with the float, the int8 (fake-quant) and the fixed-point simulators.

    classify_direction.py [-o PROGRAM.lqm] CLS_MODEL.onnx CALIB_DIR PICTURE...

The program goes to PROGRAM.lqm (default classify_direction.lqm in the current directory).
"""
import os
import sys

import numpy as np

import libquant

HEIGHT, WIDTH = 48, 192
LABELS = ("0", "180")

# PP-OCR's classifier input: BGR, height 48, width by aspect ratio up to 192, padded on the
# right, (pixel / 255 - 0.5) / 0.5.
CLS_PREPROCESS = libquant.ImagePreprocess(
    height=HEIGHT, width=WIDTH, resize=libquant.RESIZE_FIT_HEIGHT_PAD, color=libquant.COLOR_BGR,
    mean=(127.5,) * 3, scale=(1 / 127.5,) * 3)


def classify(simulator, input_name, output_name, picture):
    """The label and its probability; the scores go into a caller-owned numpy array."""
    scores = np.empty((1, 2), dtype=np.float32)
    simulator.run_into({input_name: picture}, {output_name: scores})
    label = int(scores[0].argmax())
    return label, float(scores[0, label])


def classify_fixed(simulator, input_name, picture):
    """The same with the fixed-point program: the simulator quantizes the float32 picture and
    dequantizes the int8 scores."""
    scores = simulator.run({input_name: picture})[0]
    label = int(scores[0].argmax())
    return label, float(scores[0, label])


def show_note(line):
    print(f"note: {line}")


def main(model, calib_dir, pictures, program_path):
    print(f"libquant {libquant.version()} (C ABI {libquant.api_version()})")

    # The float model: load, optimize, then one simulator and one calibrator on it.
    with libquant.Graph(model) as graph:
        graph.optimize()
        input_name, output_name = graph.input_names[0], graph.output_names[0]
        float_sim = libquant.Simulator(graph, threads=2)

        def progress(done, total):
            if done == total:
                print(f"calibration: read {total} pictures", file=sys.stderr)

        # keep_samples: the method "auto" scores its candidates on these.
        calibrator = libquant.Calibrator(graph, threads=2, keep_samples=8, progress=progress)

        # Calibrate on every picture of the folder, preprocessed by the library.
        with libquant.CalibrationSources() as sources:
            sources.add_images(input_name, calib_dir, CLS_PREPROCESS)
            calibrator.add_sources(sources)
        print(f"calibrated on {calibrator.sample_count} pictures of {calib_dir}")

        # int8 activations and weights, each activation's range chosen by "auto".
        with libquant.Quantizer() as quantizer:
            quantizer.set_method("auto")
            quantizer.set_bits(8, 8)
            quantizer.set_log(show_note)
            quantized = quantizer.quantize(graph, calibrator)
    int8_sim = libquant.Simulator.fake_quant(quantized, threads=2)

    # The integer program, as an NPU runs it (the model's batch is dynamic, a program's is
    # not), saved and loaded back, and its bit-exact simulator.
    with quantized.compile(input_shapes={input_name: (1, 3, HEIGHT, WIDTH)},
                           log=show_note) as program:
        program.save(program_path)
        weights, activations = program.weight_bytes, program.peak_activation_bytes
    print(f"compiled: {program_path} (weights {weights / 1024:.1f} KiB, "
          f"activations {activations / 1024:.1f} KiB)")
    with libquant.Program.load(program_path) as program:
        fixed_sim = libquant.FixedSimulator(program, threads=2)

    for path in pictures:
        picture = libquant.load_image(path, CLS_PREPROCESS)
        f, pf = classify(float_sim, input_name, output_name, picture)
        q, pq = classify(int8_sim, input_name, output_name, picture)
        x, px = classify_fixed(fixed_sim, input_name, picture)
        name = os.path.basename(path)
        print(f"{name}: float {LABELS[f]} (p={pf:.4f}) int8 {LABELS[q]} (p={pq:.4f})")
        print(f"{name}: fixed {LABELS[x]} (p={px:.4f})")


if __name__ == "__main__":
    args = sys.argv[1:]
    program_path = "classify_direction.lqm"
    if len(args) > 1 and args[0] == "-o":
        program_path, args = args[1], args[2:]
    if len(args) < 3:
        sys.exit(f"usage: {sys.argv[0]} [-o PROGRAM.lqm] CLS_MODEL.onnx CALIB_DIR PICTURE...")
    try:
        main(args[0], args[1], args[2:], program_path)
    except libquant.LibquantError as error:
        sys.exit(f"error: {error}")
