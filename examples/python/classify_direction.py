#!/usr/bin/env python3
"""Quantizes the PP-OCR text direction classifier to int8 through libquant's C ABI (with the
ctypes wrapper libquant.py), then classifies text-line pictures as upright (0) or upside down
(180) with the float and the int8 (fake-quant) simulators.

    classify_direction.py CLS_MODEL.onnx CALIB_DIR PICTURE...

The C ABI reads pictures only as calibration sources, so the pictures to classify are decoded
here with PIL and preprocessed with numpy the same way.
"""
import math
import os
import sys

import numpy as np
from PIL import Image

import libquant

HEIGHT, WIDTH = 48, 192
LABELS = ("0", "180")

# PP-OCR's classifier input: BGR, height 48, width by aspect ratio up to 192, padded on the
# right, (pixel / 255 - 0.5) / 0.5.
CLS_PREPROCESS = libquant.ImagePreprocess(
    height=HEIGHT, width=WIDTH, resize=libquant.RESIZE_FIT_HEIGHT_PAD, color=libquant.COLOR_BGR,
    mean=(127.5,) * 3, scale=(1 / 127.5,) * 3)


def load_picture(path, pre):
    """The picture as the classifier's input [1,3,48,192], exactly as libquant's picture
    sources preprocess it: bilinear resize with half-pixel centers to height 48 (width by
    aspect ratio, at most 192), BGR, normalized, padded on the right. float32 throughout."""
    with Image.open(path) as picture:
        rgb = np.asarray(picture.convert("RGB"), dtype=np.float32)  # alpha dropped
    h, w = rgb.shape[:2]
    content_w = min(max(math.ceil(HEIGHT * (w / h)), 1), WIDTH)

    def taps(size, source):
        """Left/top source index, right/bottom one and weight per output position."""
        scale = np.float32(source) / np.float32(size)
        f = np.maximum((np.arange(size, dtype=np.float32) + np.float32(0.5)) * scale
                       - np.float32(0.5), np.float32(0))
        i0 = np.minimum(f.astype(np.int64), source - 1)
        return i0, np.minimum(i0 + 1, source - 1), f - i0.astype(np.float32)

    y0, y1, wy = taps(HEIGHT, h)
    x0, x1, wx = taps(content_w, w)
    wx = wx[None, :, None]
    top = rgb[y0][:, x0] + (rgb[y0][:, x1] - rgb[y0][:, x0]) * wx
    bottom = rgb[y1][:, x0] + (rgb[y1][:, x1] - rgb[y1][:, x0]) * wx
    resized = top + (bottom - top) * wy[:, None, None]  # [48, content_w, RGB]
    bgr = resized[:, :, ::-1]
    mean = np.array(pre.mean, dtype=np.float32)
    scale = np.array(pre.scale, dtype=np.float32)
    picture = np.full((1, 3, HEIGHT, WIDTH), pre.pad_value, dtype=np.float32)
    picture[0, :, :, :content_w] = ((bgr - mean) * scale).transpose(2, 0, 1)
    return picture


def classify(simulator, input_name, output_name, picture):
    """The label and its probability; the scores go into a caller-owned numpy array."""
    scores = np.empty((1, 2), dtype=np.float32)
    simulator.run_into({input_name: picture}, {output_name: scores})
    label = int(scores[0].argmax())
    return label, float(scores[0, label])


def main(model, calib_dir, pictures):
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
            quantized = quantizer.quantize(graph, calibrator)
    int8_sim = libquant.Simulator.fake_quant(quantized, threads=2)

    for path in pictures:
        picture = load_picture(path, CLS_PREPROCESS)
        f, pf = classify(float_sim, input_name, output_name, picture)
        q, pq = classify(int8_sim, input_name, output_name, picture)
        print(f"{os.path.basename(path)}: float {LABELS[f]} (p={pf:.4f}) "
              f"int8 {LABELS[q]} (p={pq:.4f})")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(f"usage: {sys.argv[0]} CLS_MODEL.onnx CALIB_DIR PICTURE...")
    try:
        main(sys.argv[1], sys.argv[2], sys.argv[3:])
    except libquant.LibquantError as error:
        sys.exit(f"error: {error}")
