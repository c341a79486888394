#!/usr/bin/env python3
"""Calibration beyond one machine: shards the calibration of a model over a dask.distributed
cluster through libquant's C ABI (the ctypes wrapper libquant.py), merges the shards'
statistics exactly and quantizes and compiles the model from them. The result (quant_params.json,
model.lqm) equals, byte for byte, one process calibrating on every sample.

    dask_calibrate.py MODEL.onnx --calib NAME=DIR [--calib ...] --out DIR
                      [--shards N] [--scheduler ADDRESS | --workers N]
                      [--images --image-size HxW [--resize MODE] [--color ORDER]
                       [--mean A[,B,C]] [--scale A[,B,C]]]

Without --scheduler a LocalCluster of --workers processes (default 2) runs the shards. With
--scheduler tcp://HOST:8786 the shards go to that cluster: every worker must be able to
`import libquant` (libquant.py on its PYTHONPATH, libquant.so on its loader path or in
$LIBQUANT_LIBRARY) and read MODEL.onnx and the sample folders at the same paths (a shared
file system). Each task returns its statistics file's bytes, so only the client writes to
DIR: DIR/stats/shard-I-of-N.json, DIR/stats/merged.json, then the artifacts of the quantize.
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

RESIZE_MODES = {"stretch": 0, "none": 1, "fit-height-pad": 2}
COLOR_ORDERS = {"rgb": 0, "bgr": 1, "gray": 2}


def three_floats(text):
    values = [float(v) for v in text.split(",")]
    if len(values) not in (1, 3):
        raise argparse.ArgumentTypeError("takes one or three numbers")
    return tuple(values * 3 if len(values) == 1 else values)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--calib", action="append", required=True, metavar="NAME=DIR",
                        help="samples for a model input: a folder of .npy files, or of "
                             "pictures with --images (NAME= may be left out for one input)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--shards", type=int, default=0,
                        help="number of shards (default: one per worker thread)")
    parser.add_argument("--scheduler", help="address of a running dask scheduler")
    parser.add_argument("--workers", type=int, default=2,
                        help="LocalCluster worker processes (without --scheduler)")
    parser.add_argument("--images", action="store_true")
    parser.add_argument("--image-size", default="0x0", metavar="HxW")
    parser.add_argument("--resize", choices=sorted(RESIZE_MODES), default="stretch")
    parser.add_argument("--color", choices=sorted(COLOR_ORDERS), default="rgb")
    parser.add_argument("--mean", type=three_floats, default=(0.0, 0.0, 0.0))
    parser.add_argument("--scale", type=three_floats, default=(1.0, 1.0, 1.0))
    args = parser.parse_args(argv)
    args.calib = [tuple(c.split("=", 1)) if "=" in c else ("", c) for c in args.calib]
    args.model = os.path.abspath(args.model)
    args.calib = [(name, os.path.abspath(path)) for name, path in args.calib]
    height, width = (int(v) for v in args.image_size.split("x"))
    args.preprocess = {"height": height, "width": width, "resize": RESIZE_MODES[args.resize],
                       "color": COLOR_ORDERS[args.color], "mean": args.mean,
                       "scale": args.scale} if args.images else None
    return args


def make_pipeline(libquant, model, output_dir, calib, preprocess):
    """The job's Pipeline: the model, its calibration folders and their preprocessing."""
    pipeline = libquant.Pipeline(model, output_dir)
    with libquant.CalibrationSources() as sources:
        for name, path in calib:
            if preprocess:
                sources.add_images(name, path, libquant.ImagePreprocess(**preprocess))
            else:
                sources.add_npy(name, path)
        pipeline.set_calibration_sources(sources)
    return pipeline


def calibrate_shard(model, calib, preprocess, index, count):
    """A dask task: calibrates shard index/count, returns its statistics file's bytes."""
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    import libquant

    with tempfile.TemporaryDirectory() as work:
        stats = os.path.join(work, "stats.json")
        with make_pipeline(libquant, model, work, calib, preprocess) as pipeline:
            pipeline.set_calibration_shard(index, count)
            pipeline.set_stats_output(stats)
            pipeline.set_calibrate_only(True)
            pipeline.run().close()
        with open(stats, "rb") as f:
            return f.read()


def connect(args):
    from dask.distributed import Client, LocalCluster

    if args.scheduler:
        return Client(args.scheduler), None
    # Worker processes inherit the environment: where libquant.py and libquant.so are.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH")]))
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster), cluster


def main(argv):
    args = parse_args(argv)
    sys.path.insert(0, HERE)
    import libquant

    stats_dir = os.path.join(args.out, "stats")
    os.makedirs(stats_dir, exist_ok=True)
    started = time.monotonic()
    client, cluster = connect(args)
    try:
        shards = args.shards or max(1, sum(client.nthreads().values()))
        futures = [client.submit(calibrate_shard, args.model, args.calib, args.preprocess, i,
                                 shards, pure=False) for i in range(shards)]
        paths = []
        for i, future in enumerate(futures):
            path = os.path.join(stats_dir, f"shard-{i}-of-{shards}.json")
            with open(path, "wb") as f:
                f.write(future.result())
            paths.append(path)
            print(f"shard {i}/{shards} calibrated", file=sys.stderr)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    calibrated = time.monotonic()

    merged = os.path.join(stats_dir, "merged.json")
    libquant.merge_stats(paths, merged)
    with make_pipeline(libquant, args.model, args.out, args.calib, args.preprocess) as pipeline:
        pipeline.set_stats_inputs([merged])
        with pipeline.run(stage=lambda name: print(f"stage {name}", file=sys.stderr)) as result:
            samples, _ = result.calibration_samples
            print(f"calibrated on {samples} samples in {shards} shards "
                  f"({calibrated - started:.1f} s on the cluster)")
            print("wrote " + ", ".join(result.artifacts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
