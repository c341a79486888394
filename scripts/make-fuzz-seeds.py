#!/usr/bin/python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/): small ONNX models of
the ops whose shapes come from data (Expand, Tile, Resize, Range, Pad, ConstantOfShape,
Reshape), .npy files of every dtype and format version, quant and pipeline configs, tiny
pictures, C ABI call sequences. With --seeds-tool (build-fuzz/tests/fuzz/fuzz_make_seeds) it
adds compiled programs (.lqm) and calibration statistics. Seeds found by fuzzing (crash
regressions) live beside them as regress-*; this script never deletes them."""
import argparse
import io
import os
import struct
import subprocess

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]).SerializeToString()


def vi(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


def onnx_seeds(d):
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)
    f32 = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.float32), name)
    x = vi("x", [1, 2, 3, 3])
    y = vi("y", None)
    seeds = {
        "conv_relu": model([helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
                            helper.make_node("Relu", ["c"], ["y"], name="relu")],
                           [x], [y], [f32("w", np.ones((2, 2, 1, 1)))]),
        "expand": model([helper.make_node("Expand", ["x", "s"], ["y"], name="expand")], [x], [y],
                        [i64("s", [2, 2, 3, 3])]),
        "tile": model([helper.make_node("Tile", ["x", "r"], ["y"], name="tile")], [x], [y], [i64("r", [1, 2, 2, 1])]),
        "resize": model([helper.make_node("Resize", ["x", "", "sc"], ["y"], name="resize", mode="nearest")],
                        [x], [y], [f32("sc", [1, 1, 2, 2])]),
        "range": model([helper.make_node("Range", ["a", "b", "c"], ["y"], name="range")], [], [y],
                       [f32("a", 0), f32("b", 10), f32("c", 1)]),
        "pad": model([helper.make_node("Pad", ["x", "p"], ["y"], name="pad")], [x], [y],
                     [i64("p", [0, 0, 1, 1, 0, 0, 1, 1])]),
        "constant_of_shape": model([helper.make_node("ConstantOfShape", ["s"], ["y"], name="cos",
                                                     value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0]))],
                                   [], [y], [i64("s", [2, 3])]),
        "reshape_shape": model([helper.make_node("Shape", ["x"], ["s"], name="shape"),
                                helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape")], [x], [y]),
        "gemm_softmax": model([helper.make_node("Gemm", ["v", "w", "b"], ["g"], name="gemm", transB=1),
                               helper.make_node("Softmax", ["g"], ["y"], name="softmax")],
                              [vi("v", ["N", 4])], [y], [f32("w", np.ones((3, 4))), f32("b", [0, 1, 2])]),
        "concat_slice": model([helper.make_node("Concat", ["x", "x"], ["c"], name="concat", axis=1),
                               helper.make_node("Slice", ["c", "st", "en"], ["y"], name="slice")], [x], [y],
                              [i64("st", [0, 0, 0, 0]), i64("en", [1, 3, 3, 3])]),
    }
    for name, data in seeds.items():
        write(f"{d}/onnx/{name}.onnx", data)


def npy_seeds(d):
    arrays = {"f32": np.arange(6, dtype=np.float32).reshape(2, 3), "f16": np.ones(3, np.float16),
              "f64": np.zeros((1, 1, 2), np.float64), "i8": np.arange(-3, 3, dtype=np.int8),
              "u8": np.arange(4, dtype=np.uint8), "i16": np.arange(4, dtype=np.int16),
              "i32": np.arange(4, dtype=np.int32), "i64": np.arange(4, dtype=np.int64),
              "bool": np.array([True, False]), "scalar": np.float32(3.5), "empty": np.zeros((0, 3), np.float32),
              "fortran": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))}
    for name, a in arrays.items():
        buf = io.BytesIO()
        np.save(buf, a)
        write(f"{d}/npy/{name}.npy", buf.getvalue())
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
    header += b" " * (-(len(header) + 13) % 64) + b"\n"
    write(f"{d}/npy/v2.npy", b"\x93NUMPY\x02\x00" + struct.pack("<I", len(header)) + header + b"\0" * 8)


def config_seeds(d):
    quant = {
        "levels": '{"model": {"activation": "int8", "method": "max"}, "op_types": {"Relu": {"activation": "int16", '
                  '"method": "percentile", "percentile": 0.99}}, "nodes": {"relu": {"method": "mse"}}}',
        "tensors": '{"tensors": {"x": {"min": -1, "max": 1}}, "int16_budget": 0.25}',
        "empty": "{}",
    }
    for name, text in quant.items():
        write(f"{d}/quant_config/{name}.json", text)
    yaml = ("model: {path: model.onnx, remove_output_nodes: [softmax]}\ninput:\n"
            "  x: {shape: [1, 2, 4, 4], calibration: calib}\ncalibration: {method: mse, threads: 2}\n"
            "quantization: {activation: int16, per_channel: false, nodes: {relu: {activation: int8}}}\n"
            "compiler: {target: int8, cpu_ops: [Softmax]}\noutput: {dir: out, artifacts: [qdq, report]}\n")
    json_text = ('{"model": {"path": "model.onnx"}, "input": {"x": {"calibration": "calib", "images": true, '
                 '"preprocess": {"height": 8, "width": 8}}}, "calibration": {"method": "kl", "stats_out": "s.json"}, '
                 '"output": {"dir": "out"}}')
    write(f"{d}/pipeline_config/conv.yaml", b"\x01" + yaml.encode())
    write(f"{d}/pipeline_config/conv.json", b"\x00" + json_text.encode())


def image_seeds(d):
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 255, (5, 7, 3), dtype=np.uint8)
    for fmt, ext, mode in (("PNG", "png", 0x00), ("BMP", "bmp", 0x15), ("JPEG", "jpg", 0x4A)):
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format=fmt)
        write(f"{d}/image/{ext}.{ext}", bytes([mode]) + buf.getvalue())
    buf = io.BytesIO()
    Image.fromarray(pixels[:, :, 0]).save(buf, format="PNG")
    write(f"{d}/image/gray.png", bytes([0x06]) + buf.getvalue())


def capi_seeds(d):
    # (call, argument) pairs: load, calibrate, quantize, compile, run, release in orders.
    full = [0, 0, 5, 8 | 16, 6, 8 | 16 | 32 | 64, 8, 8, 11, 0, 13, 8, 14, 0, 15, 8, 16, 0, 17, 8,
            18, 8 | 16 | 32 | 64 | 128, 19, 0, 22, 0]
    write(f"{d}/capi/full.bin", bytes(full))
    write(f"{d}/capi/misuse.bin", bytes([23, 0, 2, 4, 4, 4, 1, 0, 11, 4, 13, 4, 16, 4, 18, 4, 22, 4]))
    write(f"{d}/capi/release_early.bin", bytes([0, 0, 5, 8, 1, 0, 6, 8 | 16 | 32 | 64, 8, 8, 11, 0, 7, 0, 11, 0]))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fuzz", "corpus"))
    p.add_argument("--seeds-tool", help="build-fuzz/tests/fuzz/fuzz_make_seeds: adds .lqm and statistics seeds")
    a = p.parse_args()
    onnx_seeds(a.out)
    npy_seeds(a.out)
    config_seeds(a.out)
    image_seeds(a.out)
    capi_seeds(a.out)
    if a.seeds_tool:
        subprocess.run([a.seeds_tool, a.out], check=True)


if __name__ == "__main__":
    main()
