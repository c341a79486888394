#!/usr/bin/python3
"""Writes a copy of an ONNX model whose whole body sits in one top-level If (as Silero VAD's
op18 "ifless" export: one branch per sample rate) with that If replaced by the nodes of one
branch. libquant does not import If (subgraph attributes) today; this lets the corpus measure
the rest of the model. Which branch matches which input is checked by the caller against ONNX
Runtime on the original model (tests/corpus). Uses Debian's python3-onnx only.

usage: corpus-inline-if.py IN.onnx OUT.onnx then|else [DROP_INPUT...]
"""
import sys

import onnx
from onnx import helper


def main():
    if len(sys.argv) < 4 or sys.argv[3] not in ("then", "else"):
        sys.exit(__doc__)
    source, target, which = sys.argv[1:4]
    drop_inputs = set(sys.argv[4:])
    model = onnx.load(source)
    graph = model.graph
    ifs = [n for n in graph.node if n.op_type == "If"]
    if len(ifs) != 1:
        sys.exit(f"{source}: expected one top-level If, found {len(ifs)}")
    node = ifs[0]
    branch = next(a.g for a in node.attribute if a.name == f"{which}_branch")
    # The branch's outputs become the If's outputs: rename them at their producers.
    rename = {b.name: o for b, o in zip(branch.output, node.output)}
    nodes = []
    for n in graph.node:
        if n is not node:
            nodes.append(n)
            continue
        for inner in branch.node:
            copy = onnx.NodeProto()
            copy.CopyFrom(inner)
            for i, name in enumerate(copy.output):
                copy.output[i] = rename.get(name, name)
            for i, name in enumerate(copy.input):
                copy.input[i] = rename.get(name, name)
            nodes.append(copy)
    inits = list(graph.initializer) + list(branch.initializer)
    kept_inputs = [i for i in graph.input if i.name not in drop_inputs]
    out_graph = helper.make_graph(nodes, graph.name, kept_inputs, list(graph.output), inits)
    out_graph.value_info.extend(branch.value_info)
    # Nodes that only fed the If's condition are now dead: drop them (back to front).
    needed = {o.name for o in out_graph.output}
    alive = []
    for n in reversed(list(out_graph.node)):
        if any(o in needed for o in n.output):
            alive.append(n)
            needed.update(n.input)
    del out_graph.node[:]
    out_graph.node.extend(reversed(alive))
    used_inits = [t for t in out_graph.initializer if t.name in needed]
    del out_graph.initializer[:]
    out_graph.initializer.extend(used_inits)
    missing = [i for i in drop_inputs if i in needed]
    if missing:
        sys.exit(f"{source}: input(s) {missing} are still read after inlining the {which} branch")
    out = helper.make_model(out_graph, opset_imports=model.opset_import, producer_name="libquant corpus-inline-if")
    out.ir_version = model.ir_version
    onnx.save(out, target)


if __name__ == "__main__":
    main()
