// The arena plan: every activation lives from the instruction that writes it to the last
// one that reads it, and two tensors share bytes only if their lifetimes are disjoint.
// Greedy by size (TFLite's ArenaPlanner strategy): the largest tensors are placed first,
// each at the lowest aligned offset that overlaps no placed tensor alive at the same time.
#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "compiler/program.hpp"

namespace lq::compiler {

namespace {

struct Lifetime {
  int first = 0;  // step that writes it (-1: a model input, written before the run)
  int last = 0;   // last step that reads it (steps: the end of the run, for outputs)
};

int64_t align(int64_t bytes) { return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

std::vector<Lifetime> lifetimes(const ProgramData& data) {
  const int steps = static_cast<int>(data.instructions.size());
  std::vector<Lifetime> life(data.tensors.size(), Lifetime{steps, -1});
  for (int id : data.inputs) life[static_cast<size_t>(id)] = Lifetime{-1, -1};
  for (int step = 0; step < steps; ++step) {
    const Instruction& ins = data.instructions[static_cast<size_t>(step)];
    for (int id : ins.outputs) life[static_cast<size_t>(id)].first = std::min(life[static_cast<size_t>(id)].first, step);
    for (int id : ins.inputs) {
      if (id >= 0) life[static_cast<size_t>(id)].last = std::max(life[static_cast<size_t>(id)].last, step);
    }
  }
  for (int id : data.outputs) life[static_cast<size_t>(id)].last = steps;
  for (Lifetime& l : life) l.last = std::max(l.last, l.first);  // written, never read
  return life;
}

bool overlap(const Lifetime& a, const Lifetime& b) { return a.first <= b.last && b.first <= a.last; }

}  // namespace

void plan_memory(ProgramData& data) {
  const std::vector<Lifetime> life = lifetimes(data);
  std::vector<size_t> order;
  for (size_t i = 0; i < data.tensors.size(); ++i) {
    if (!data.tensors[i].constant) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return data.tensors[a].bytes() > data.tensors[b].bytes();
  });
  std::vector<size_t> placed;
  data.arena_bytes = 0;
  for (size_t id : order) {
    ProgramTensor& t = data.tensors[id];
    std::vector<std::pair<int64_t, int64_t>> busy;  // [begin, end) of live neighbours
    for (size_t other : placed) {
      if (overlap(life[id], life[other])) {
        const ProgramTensor& o = data.tensors[other];
        busy.emplace_back(o.offset, o.offset + align(o.bytes()));
      }
    }
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    const int64_t size = align(t.bytes());
    for (const auto& [begin, end] : busy) {
      if (offset + size <= begin) break;
      offset = std::max(offset, end);
    }
    t.offset = offset;
    data.arena_bytes = std::max(data.arena_bytes, offset + size);
    check_model_size(data.arena_bytes, ResourceLimits{},
                     fmt::format("the memory plan of \"{}\": its activations (up to \"{}\", {} bytes)",
                                 data.name, t.info.name, t.bytes()));
    placed.push_back(id);
  }
}

}  // namespace lq::compiler
