#!/usr/bin/env bash
# Generates the ONNX backend node test cases (model.onnx + test_data_set_*/{input,output}_N.pb)
# with Debian's python3-onnx into DIR (default: $LQ_CACHE_DIR/onnx-node-tests). Does nothing if
# they are already there. Debian 12's onnx 1.12 still uses numpy aliases (np.float, ...) that
# its numpy 1.24 removed; they are restored for the generator only.
set -euo pipefail
cache=${LQ_CACHE_DIR:-$HOME/.cache/libquant}
out=${1:-$cache/onnx-node-tests}
if [ -f "$out/.complete" ]; then exit 0; fi
if ! /usr/bin/python3 -c "import onnx, numpy" 2>/dev/null; then
  echo "gen-onnx-node-tests: Debian's python3-onnx and python3-numpy are needed (scripts/install-deps.sh)" >&2
  exit 1
fi
rm -rf "$out.tmp"
mkdir -p "$(dirname "$out")"
/usr/bin/python3 - "$out.tmp" <<'PY'
import sys
import numpy as np
for name, alias in [("float", float), ("int", int), ("bool", bool),
                    ("object", object), ("complex", complex), ("str", str)]:
    if name not in np.__dict__:
        setattr(np, name, alias)
from onnx.backend.test import cmd_tools
sys.argv = ["generate-data", "generate-data", "-o", sys.argv[1]]
cmd_tools.main()
PY
rm -rf "$out"
mv "$out.tmp" "$out"
touch "$out/.complete"
echo "generated $(ls "$out/node" | wc -l) ONNX node test cases in $out/node"
