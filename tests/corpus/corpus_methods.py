#!/usr/bin/python3
"""Output SNR of `lquant quantize` per range method on one part of the corpus (docs/corpus.md,
"Tuning and hold-out").

usage: corpus_methods.py --lquant LQUANT --split tuning|holdout [--configs NAME=FLAGS ...]
                         [--calib N] [--work DIR] [--json OUT]

tuning  the tuning models, scored on their calibration split only: the SNR `lquant quantize`
        prints (fake quantization on the kept calibration samples)
holdout the hold-out models and the evaluation split of every model: the compiled program
        (`lquant run model.lqm`) against the float model on 16 evaluation samples

Each config is a name and the extra `lquant quantize` flags ("default" = no flag). Prints one
row per model: the SNR (dB, the worst output) of each config, the best single range method,
and whether the default meets issue 17's goal (>= minmax + 3 dB, >= best - 0.5 dB;
minmax = max ranges with one scale per weight tensor).
Needs python3-numpy, node, the corpus (scripts/fetch-corpus.sh) and the PP-OCR models
(scripts/fetch-models.sh).
"""
import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import corpus_check  # noqa: E402

# The split of docs/corpus.md, fixed before any tuning.
TUNING = ["ppocr_det", "ppocr_rec", "ppocr_cls", "oww_melspectrogram", "oww_embedding", "oww_alexa",
          "oww_hey_rhasspy", "oww_hello_deepa_old", "silero_op18_16k"]
HOLDOUT = ["oww_timer", "oww_weather", "oww_hello_deepa", "oww_namaste_deepa", "oww_hey_mycroft"]
METHODS = ["max", "percentile", "kl", "mse", "mmse"]
# PP-OCR: pictures of $LQ_CACHE_DIR/eval (scripts/make-eval-data.py), read as bench/accuracy does.
OCR_IMAGES = {
    "ppocr_det": ("det", "x", ["--image-size", "320x320", "--resize", "stretch", "--color", "bgr",
                               "--mean", "123.675,116.28,103.53", "--scale", "0.0171248,0.017507,0.0174292"]),
    "ppocr_rec": ("rec", "x", ["--image-size", "48x320", "--resize", "fit-height-pad", "--color", "bgr",
                               "--mean", "127.5", "--scale", "0.0078431"]),
    "ppocr_cls": ("cls", "x", ["--image-size", "48x192", "--resize", "fit-height-pad", "--color", "bgr",
                               "--mean", "127.5", "--scale", "0.0078431"]),
}
OCR_FILES = {"det": "ch_PP-OCRv4_det_infer.onnx", "rec": "ch_PP-OCRv4_rec_infer.onnx",
             "cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx"}
EVAL_SAMPLES = 16


def run(cmd):
    return subprocess.run(["nice", "-n", "19"] + cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


class Case:
    def __init__(self, name, lines, lquant, work, calib_count):
        self.name, self.lquant, self.calib_count = name, lquant, calib_count
        self.work = os.path.join(work, name)
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.ocr = name in OCR_IMAGES
        if self.ocr:
            cache = os.environ.get("LQ_CACHE_DIR", os.path.expanduser("~/.cache/libquant"))
            task, _, _ = OCR_IMAGES[name]
            self.path = os.path.join(cache, "node_modules", "@gutenye", "ocr-models", "assets", OCR_FILES[task])
            self.images = os.path.join(cache, "eval")
        else:
            self.path = lines[name]
            self.model = corpus_check.Model(name, lines[name], lines["data"], os.path.join(self.work, "m"),
                                            lquant, lines["ort"])

    def calib_flags(self):
        if self.ocr:
            task, inp, flags = OCR_IMAGES[self.name]
            d = os.path.join(self.work, "calib")
            if not os.path.isdir(d):
                os.makedirs(d)
                files = sorted(os.listdir(os.path.join(self.images, "calib", task)))
                files = [f for f in files if f.endswith((".png", ".jpg"))][: self.calib_count]
                for f in files:
                    os.symlink(os.path.join(self.images, "calib", task, f), os.path.join(d, f))
            return ["--calib", f"{inp}={d}", "--images"] + flags
        out = []
        for n, folder in corpus_check.INPUTS[self.name].items():
            d = os.path.join(self.work, "calib", n.replace("/", "_").replace(":", "_"))
            if not os.path.isdir(d):
                os.makedirs(d)
                files = self.model.files("calib", n, folder)
                if files is None:
                    total = min(len(self.model.files("calib", m, f)) for m, f in corpus_check.INPUTS[self.name].items()
                                if not f.startswith("const:"))
                    files = [os.path.join(self.model.const_dir, folder[6:] + ".npy")] * total
                picks = np.linspace(0, len(files) - 1, min(self.calib_count, len(files))).round().astype(int)
                for k, i in enumerate(picks):
                    os.symlink(files[i], os.path.join(d, f"{k:04d}.npy"))
            out += ["--calib", f"{n}={d}"]
        return out

    def quantize(self, label, flags):
        out = os.path.join(self.work, label)
        proc = run([self.lquant, "quantize", self.path, "--out", out] + self.calib_flags() + flags)
        with open(out + ".log", "w") as f:
            f.write(proc.stdout)
        if proc.returncode != 0:
            raise RuntimeError(corpus_check.first_error(proc.stdout))
        fake = [float(x) for x in re.findall(r"SNR (\S+) dB against float over", proc.stdout)]
        return out, fake

    def eval_program(self, out):
        """SNR of the program on the evaluation split, per output."""
        if self.ocr:
            raise RuntimeError("PP-OCR is scored by bench/accuracy on the evaluation split")
        samples = self.model.samples("eval", EVAL_SAMPLES)
        ref, prog = [], []
        for i, s in enumerate(samples):
            ref.append(self.model.lquant_run(self.path, s, os.path.join(self.work, f"ef{i}")))
            prog.append(self.model.lquant_run(os.path.join(out, "model.lqm"), s, os.path.join(self.work, f"ep{i}")))
        snrs = []
        for k in range(len(ref[0])):
            x = np.concatenate([r[k].ravel() for r in ref])
            y = np.concatenate([p[k].ravel() for p in prog])
            noise = float(np.sum((x - y) ** 2))
            snrs.append(float("inf") if noise == 0 else 10 * np.log10(float(np.sum(x ** 2)) / noise))
        return snrs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lquant", required=True)
    p.add_argument("--split", choices=["tuning", "holdout"], required=True)
    p.add_argument("--models")
    p.add_argument("--configs", action="append", default=[])
    p.add_argument("--calib", type=int, default=64)
    p.add_argument("--work")
    p.add_argument("--json")
    p.add_argument("--only", action="store_true", help="only the --configs (no default / method columns)")
    a = p.parse_args()
    # "minmax": the plain baseline (max, one scale per weight tensor).
    configs = [("default", []), ("minmax", ["--method", "max", "--per-tensor"])] + [(m, ["--method", m]) for m in METHODS]
    if a.only:
        configs = []
    for c in a.configs:
        name, _, flags = c.partition("=")
        configs.append((name, shlex.split(flags)))
    lines = corpus_check.corpus_lines()
    work = a.work or tempfile.mkdtemp(prefix="lq-methods-")
    models = a.models.split(",") if a.models else (TUNING if a.split == "tuning" else HOLDOUT)
    results = {}
    tail = "" if a.only else " best method | default goal |"
    print("| model | " + " | ".join(n for n, _ in configs) + " |" + tail)
    print("|---" * (len(configs) + (1 if a.only else 3)) + "|")
    for name in models:
        case = Case(name, lines, a.lquant, work, a.calib)
        row = {}
        for label, flags in configs:
            try:
                out, fake = case.quantize(label, flags)
                snr = fake if a.split == "tuning" else case.eval_program(out)
                row[label] = min(snr) if snr else float("nan")
            except RuntimeError as e:
                row[label] = float("nan")
                print(f"{name} {label}: {e}", file=sys.stderr)
        results[name] = row
        if a.only:
            print(f"| {name} | " + " | ".join(f"{row[n]:.1f}" for n, _ in configs) + " |", flush=True)
            continue
        method_scores = {m: row[m] for m in METHODS if row.get(m) == row.get(m)}
        best = max(method_scores, key=method_scores.get) if method_scores else None
        d = row.get("default", float("nan"))
        ok = best is not None and d >= row["minmax"] + 3 and d >= method_scores[best] - 0.5
        print(f"| {name} | " + " | ".join(f"{row[n]:.1f}" for n, _ in configs) +
              f" | {best} {method_scores.get(best, float('nan')):.1f} | {'met' if ok else 'NOT met'} |", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
