# Sourced by the CLI test scripts: `check NAME EXPECTED_EXIT EXPECTED_TEXT -- COMMAND...`
# runs COMMAND, and counts a failure (in `failures`) unless it exits EXPECTED_EXIT and its
# output (stdout and stderr) contains EXPECTED_TEXT; `checks` counts the calls.
failures=${failures:-0}
checks=${checks:-0}
check() {
  local name=$1 want_exit=$2 want_text=$3
  shift 4
  local out
  checks=$((checks + 1))
  out=$("$@" 2>&1)
  local got=$?
  if [ "$got" -ne "$want_exit" ] || ! grep -qF -- "$want_text" <<<"$out"; then
    echo "FAIL $name: exit $got (want $want_exit, text '$want_text'), output:"; echo "$out" | sed 's/^/    /'
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}
