#!/usr/bin/env bash
# The precision report end to end on the PP-OCR direction classifier: `lquant quantize
# --analyze`, `lquant analyze` on .npy folders (with a dump), its errors (each naming the
# file or input, nothing half-written), and report.html opened in headless Chromium: the
# page's script must have run (it writes #report-rendered last) and drawn its charts.
# Exits 77 (ctest's skip) when the models cannot be fetched or Chromium is missing.
#
#   test_report_html.sh LQUANT SOURCE_DIR WORK_DIR
set -euo pipefail
lquant=$1
source_dir=$(cd "$2" && pwd)
work=$3
rm -rf "$work" && mkdir -p "$work"
status=0
models=$(bash "$source_dir/scripts/fetch-models.sh" --key-value) || status=$?
[ "$status" -eq 0 ] || exit "$status"
cls=$(sed -n 's/^cls=//p' <<<"$models")
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || { echo "skip: chromium is not installed (scripts/install-deps.sh)"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

q=$work/q
"$lquant" quantize "$cls" --calib "$source_dir/examples/data/calib/cls" --images --image-size 48x192 \
  --resize fit-height-pad --color bgr --mean 127.5 --scale 0.0078431 --out "$q" --analyze >"$work/quantize.log"
grep -q '^analyzed [0-9]* quantized tensors over 8 samples' "$work/quantize.log" || fail "no analysis summary"
[ -s "$q/analysis/report.html" ] && [ -s "$q/analysis/report.json" ] || fail "quantize --analyze wrote no report"

# .npy samples (float32 [1,3,48,192], deterministic, in [-1, 1]) without numpy.
mkdir -p "$work/data/x" "$work/empty" "$work/wrong"
python3 - "$work" <<'PY'
import struct, sys, random
def npy(path, shape):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % "".join(f"{d}, " for d in shape)
    header += " " * (-(len(header) + 11) % 64) + "\n"
    n = 1
    for d in shape: n *= d
    rng = random.Random(path)
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%df" % n, *[rng.uniform(-1, 1) for _ in range(n)]))
work = sys.argv[1]
for i in range(3): npy(f"{work}/data/x/{i:04d}.npy", (1, 3, 48, 192))
npy(f"{work}/wrong/0000.npy", (1, 3, 48, 100))
PY
out=$work/analysis
"$lquant" analyze "$q" --data x="$work/data/x" --out "$out" --dump 1 >"$work/analyze.log"
grep -q '^wrote .*/report.json' "$work/analyze.log" || fail "analyze printed no 'wrote' line"
python3 - "$out/report.json" <<'PY' || fail "report.json does not follow docs/report-schema.md"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "libquant.precision_report" and r["version"] == 1, r.get("version")
assert r["samples"] == 3
assert len(r["tensors"]) > 100
for t in r["tensors"]:
    for key in ("node", "tensor", "kind", "dtype", "method", "range", "isolated", "clipped_share", "histogram"):
        assert key in t, (key, t["tensor"])
    assert t["kind"] in ("weight", "activation")
    assert sum(t["histogram"]["counts"]) > 0
acts = [t for t in r["tensors"] if t["kind"] == "activation"]
assert all(t["cumulative"] is not None for t in acts if t["op_type"] == "Conv")
assert "softmax_0.tmp_0" in r["outputs"]
assert r["suggestions"], "no suggestions"
PY
ls "$out"/dumps/float/*.npy >/dev/null && ls "$out"/dumps/fixed/*.npy >/dev/null || fail "--dump wrote no .npy"
[ -f "$out/dumps/float/softmax_0.tmp_0.npy" ] || fail "no float dump of the output"

# Pictures, with the preprocessing quantize used: the same report as quantize --analyze wrote
# on the same 8 pictures.
pics=$work/analysis_pictures
mkdir -p "$work/pictures8"
for f in $(ls "$source_dir/examples/data/calib/cls" | grep -E '\.(png|jpg)$' | sort | head -8); do
  cp "$source_dir/examples/data/calib/cls/$f" "$work/pictures8/"
done
"$lquant" analyze "$q" --data x="$work/pictures8" --images --image-size 48x192 \
  --resize fit-height-pad --color bgr --mean 127.5 --scale 0.0078431 --out "$pics" >"$work/analyze_pictures.log"
python3 - "$pics/report.json" "$q/analysis/report.json" <<'PY' || fail "analyze --images differs from quantize --analyze"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["samples"] == b["samples"] == 8, (a["samples"], b["samples"])
for name, f in a["outputs"].items():
    assert abs(f["snr_db"] - b["outputs"][name]["snr_db"]) < 1e-9, (name, f, b["outputs"][name])
assert [t["tensor"] for t in a["tensors"]] == [t["tensor"] for t in b["tensors"]]
assert len(a["suggestion_configs"]) == len(a["suggestions"])
PY

# Errors: exit 1, the file or input named, nothing written.
expect_error() {  # expect_error PATTERN ARGS...
  local pattern=$1 err=$work/err
  shift
  if "$lquant" analyze "$@" 2>"$err"; then fail "analyze $* succeeded"; else [ $? -eq 1 ] || fail "analyze $*: exit code not 1"; fi
  grep -q -- "$pattern" "$err" || fail "analyze $*: expected '$pattern' in: $(cat "$err")"
}
expect_error "'$work/empty' holds no .npy files" "$q" --data x="$work/empty" --out "$work/bad1"
expect_error "'$work/wrong/0000.npy' has shape \[1,3,48,100\], model.lqm expects \[1,3,48,192\]" \
  "$q" --data x="$work/wrong" --out "$work/bad2"
mkdir -p "$work/q_missing" && cp "$q/model.float.onnx" "$q/model.lqm" "$work/q_missing/"
expect_error "'$work/q_missing/quant_params.json' is missing" "$work/q_missing" --data x="$work/data/x" --out "$work/bad3"
other=$(ls -d "$HOME"/.cache/libquant/onnx-node-tests/node/test_relu/model.onnx 2>/dev/null || true)
if [ -n "$other" ]; then
  mkdir -p "$work/q_other" && cp "$q/quant_params.json" "$q/model.lqm" "$work/q_other/" && cp "$other" "$work/q_other/model.float.onnx"
  expect_error "is not in the model (are the parameters from another model?)" "$work/q_other" --data x="$work/data/x" --out "$work/bad4"
fi
expect_error 'model has no input "y"' "$q" --data x="$work/data/x" --data y="$work/data/x" --out "$work/bad5"
first_picture=$work/pictures8/$(ls "$work/pictures8" | sort | head -1)
expect_error "input \"x\": '$first_picture' has shape \[1,3,32,192\], model.lqm expects \[1,3,48,192\]" \
  "$q" --data x="$work/pictures8" --images --image-size 32x192 --resize fit-height-pad --out "$work/bad6"
expect_error "'$work/data/x' holds no pictures" "$q" --data x="$work/data/x" --images --image-size 48x192 --out "$work/bad7"
for d in bad1 bad2 bad3 bad4 bad5 bad6 bad7; do
  [ ! -e "$work/$d" ] || fail "an error left $work/$d behind"
done
! ls -a "$work" | grep -q '\.partial-' || fail "a staging folder was left behind"

# The page in headless Chromium: its script ran to the end and drew the charts.
browse() {
  "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$(mktemp -d)" "$@" 2>"$work/chromium.err"
}
for page in "$q/analysis/report.html" "$out/report.html"; do
  browse --dump-dom "file://$page" >"$work/dom.html" || fail "chromium could not open $page"
  grep -q 'id="report-rendered"' "$work/dom.html" || fail "$page: the page's script did not finish (JavaScript error?)"
  python3 - "$work/dom.html" <<'PY' || fail "$page: empty chart, table or histograms"
import re, sys
dom = open(sys.argv[1]).read()
chart = re.search(r'<svg[^>]*id="snr-chart".*?</svg>', dom, re.S)
assert chart and chart.group(0).count("<path") >= 2 and chart.group(0).count("<circle") > 50, "SNR chart"
assert dom.count("<tr") > 100, "offenders table"
assert dom.count("<rect") > 100, "histograms"
assert "<li>" in dom, "suggestions"
PY
done
browse --screenshot="$work/report.png" --window-size=1280,2000 "file://$out/report.html" >/dev/null ||
  fail "chromium took no screenshot"
[ "$(stat -c %s "$work/report.png")" -gt 20000 ] || fail "the screenshot is blank"
echo "ok: report.json, report.html (rendered in Chromium: $work/report.png), dumps and errors"
