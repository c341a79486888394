// Running the instructions of one source node of a Program on their own, fed fake
// quantization's codes: how the compiler's conformance runner and the PP-OCR model test
// check each layer separately from the differences earlier layers pass on.
#pragma once

#include <algorithm>
#include <memory>
#include <set>
#include <vector>

#include "compiler/program.hpp"
#include "libquant/compiler.hpp"
#include "libquant/quantizer.hpp"

namespace lq::test {

// What the Program stores for a value whose fake-quantized (or float) value is `fake`.
inline Tensor stored_form(const ProgramTensorInfo& info, const Tensor& fake) {
  return info.quantized ? quantize_tensor(fake, info.quant) : fake;
}

// Instructions [begin, end) of one source node.
struct NodeSpan {
  size_t begin = 0;
  size_t end = 0;
};

inline std::vector<NodeSpan> node_spans(const compiler::ProgramData& data) {
  std::vector<NodeSpan> spans;
  for (size_t i = 0; i < data.instructions.size(); ++i) {
    if (spans.empty() || data.instructions[i].node != data.instructions[spans.back().begin].node) {
      spans.push_back({i, i});
    }
    spans.back().end = i + 1;
  }
  return spans;
}

// A Program holding only the node's instructions: its inputs are what they read and no
// instruction of the span writes, its outputs what they write and no instruction reads.
inline Program node_program(const compiler::ProgramData& data, const NodeSpan& span) {
  auto sub = std::make_shared<compiler::ProgramData>();
  sub->name = data.name;
  sub->target = data.target;
  sub->tensors = data.tensors;
  for (compiler::ProgramTensor& t : sub->tensors) {
    t.is_input = t.is_output = false;
    t.offset = -1;
  }
  std::set<int> written, read;
  for (size_t i = span.begin; i < span.end; ++i) {
    const compiler::Instruction& ins = data.instructions[i];
    sub->instructions.push_back(ins);
    for (int id : ins.inputs) {
      if (id < 0 || sub->tensors[static_cast<size_t>(id)].constant) continue;
      read.insert(id);
      if (!written.count(id) &&
          std::find(sub->inputs.begin(), sub->inputs.end(), id) == sub->inputs.end()) {
        sub->inputs.push_back(id);
        sub->tensors[static_cast<size_t>(id)].is_input = true;
      }
    }
    for (int id : ins.outputs) written.insert(id);
  }
  for (size_t i = span.begin; i < span.end; ++i) {
    for (int id : data.instructions[i].outputs) {
      if (read.count(id)) continue;
      sub->outputs.push_back(id);
      sub->tensors[static_cast<size_t>(id)].is_output = true;
    }
  }
  compiler::plan_memory(*sub);
  return Program(sub);
}

}  // namespace lq::test
