#!/usr/bin/env python3
"""Checks DESIGN.md's layering: no file under lib/ (and no public header) includes a header
of a later stage. Stages, in order:

  graph -> kernels (float, integer) -> passes -> float simulator -> calibration ->
  target -> quantization -> compiler -> fixed-point runtime -> analysis -> pipeline

Kernels sit below the passes because constant folding (passes/fold_constants.cpp) evaluates
nodes with the float reference kernels; no kernel reads a pass. The Target (lib/target: its
profiles, capabilities, op-support and cost hooks) sits below the Quantizer, which reads it.

A header belongs to the stage of its directory (lib/<stage>/...), public headers
(include/libquant/*.hpp) to the stage listed in PUBLIC below, and the generated .lqm schema
(lq/lqm/program.pb.h) to the compiler. Prints every violation as FILE:LINE and exits 1.
Usage: check_layering.py SOURCE_DIR, or check_layering.py --self-test (proves on a made-up
tree that a violation is found).
"""
import pathlib
import re
import sys

STAGES = ["graph", "kernels", "passes", "simulator", "calibration", "target", "quantization",
          "compiler", "runtime", "analysis", "pipeline"]
RANK = {name: i for i, name in enumerate(STAGES)}

# Public headers: the stage that owns each. The umbrella header is above every stage.
PUBLIC = {
    "export.hpp": "graph", "status.hpp": "graph", "tensor.hpp": "graph", "graph.hpp": "graph",
    "simulator.hpp": "simulator", "calibrator.hpp": "calibration",
    "target.hpp": "target", "quantizer.hpp": "quantization",
    "compiler.hpp": "compiler", "runtime.hpp": "runtime", "analysis.hpp": "analysis",
    "pipeline.hpp": "pipeline",
}
TOP = len(STAGES)
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def stage_of_header(include):
    """The stage of an included header, or None for headers outside the layering."""
    parts = include.split("/")
    if parts[0] == "libquant" and len(parts) == 2:
        if parts[1] == "libquant.hpp":
            return TOP
        if parts[1] not in PUBLIC:
            raise SystemExit(f"check_layering.py: public header {include} has no stage: add it to PUBLIC")
        return RANK[PUBLIC[parts[1]]]
    if parts[0] == "lq":  # generated protobuf code of the .lqm schema
        return RANK["compiler"]
    if parts[0] in RANK:
        return RANK[parts[0]]
    return None


def stage_of_file(root, path):
    rel = path.relative_to(root).parts
    if rel[0] == "lib":
        if rel[1] not in RANK:
            raise SystemExit(f"check_layering.py: lib/{rel[1]} is not a stage of DESIGN.md: "
                             "add it to STAGES in its place")
        return RANK[rel[1]]
    if rel[0] == "include":
        return stage_of_header("libquant/" + rel[-1])
    return None


def self_test():
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        (root / "lib" / "graph").mkdir(parents=True)
        (root / "lib" / "compiler").mkdir(parents=True)
        (root / "include" / "libquant").mkdir(parents=True)
        (root / "lib" / "compiler" / "ok.cpp").write_text('#include "graph/roles.hpp"\n')
        (root / "lib" / "graph" / "bad.cpp").write_text('#include "compiler/lowering.hpp"\n')
        (root / "include" / "libquant" / "graph.hpp").write_text('#include "libquant/runtime.hpp"\n')
        found = check(root)
    expected = ['lib/graph/bad.cpp:1: a graph file includes "compiler/lowering.hpp" of compiler, a later stage',
                'include/libquant/graph.hpp:1: a graph file includes "libquant/runtime.hpp" of runtime, a later stage']
    if sorted(found) != sorted(expected):
        print("self-test failed: found", found)
        return 1
    print("self-test: both planted violations found, the allowed include passed")
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--self-test":
        return self_test()
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    violations = check(root)
    return 1 if violations else 0


def check(root):
    files = [p for d in ("lib", "include") for p in sorted((root / d).rglob("*"))
             if p.suffix in (".hpp", ".cpp", ".h", ".proto")]
    violations = []
    checked = 0
    for path in files:
        own = stage_of_file(root, path)
        if own is None:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            theirs = stage_of_header(m.group(1))
            if theirs is None:
                continue
            checked += 1
            if theirs > own:
                name = STAGES[theirs] if theirs < TOP else "the umbrella header"
                violations.append(f"{path.relative_to(root)}:{number}: a {STAGES[own]} file includes "
                                  f"\"{m.group(1)}\" of {name}, a later stage")
    for v in violations:
        print(v)
    print(f"{len(files)} files, {checked} includes checked, {len(violations)} violations")
    return violations


if __name__ == "__main__":
    sys.exit(main())
