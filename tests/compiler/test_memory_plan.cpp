// The arena plan (lib/compiler/memory_plan.cpp): tensors alive at the same time never share
// bytes, offsets are aligned, the arena covers every tensor, constants stay out of it, and
// tensors whose lifetimes are disjoint do share. Checked on hand-built chains and random DAG-
// shaped programs against lifetimes computed here, and end to end: the fixed Simulator gives
// the same bits with the plan as with one slot per tensor (it copies every result into the
// arena, so a wrong plan would corrupt the outputs).
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "compiler/program.hpp"
#include "kernel_test_util.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/compiler.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"
#include "libquant/simulator.hpp"

using namespace lq;
using namespace lq::compiler;

namespace {

ProgramTensor tensor(const std::string& name, DType dtype, Shape shape) {
  ProgramTensor t;
  t.info.name = name;
  t.info.dtype = dtype;
  t.info.shape = std::move(shape);
  return t;
}

ProgramTensor constant(const std::string& name, Shape shape) {
  ProgramTensor t = tensor(name, DType::kInt8, shape);
  t.constant = true;
  t.data = Tensor(DType::kInt8, std::move(shape));
  return t;
}

Instruction instruction(std::vector<int> inputs, std::vector<int> outputs) {
  Instruction ins;
  ins.node = fmt::format("n{}", outputs.empty() ? -1 : outputs[0]);
  ins.op_type = "Test";
  ins.inputs = std::move(inputs);
  ins.outputs = std::move(outputs);
  ins.params = CpuOp{};
  return ins;
}

// Lifetimes as the contract states them, computed independently of memory_plan.cpp:
// [step that writes, last step that reads]; model inputs from -1, outputs to the end.
struct Life {
  int first;
  int last;
};

std::vector<Life> lifetimes(const ProgramData& d) {
  const int steps = static_cast<int>(d.instructions.size());
  std::vector<Life> life(d.tensors.size(), Life{INT32_MAX, INT32_MIN});
  for (int id : d.inputs) life[static_cast<size_t>(id)].first = -1;
  for (int s = 0; s < steps; ++s) {
    for (int id : d.instructions[static_cast<size_t>(s)].outputs) {
      life[static_cast<size_t>(id)].first = std::min(life[static_cast<size_t>(id)].first, s);
    }
    for (int id : d.instructions[static_cast<size_t>(s)].inputs) {
      if (id >= 0)
        life[static_cast<size_t>(id)].last = std::max(life[static_cast<size_t>(id)].last, s);
    }
  }
  for (int id : d.outputs) life[static_cast<size_t>(id)].last = steps;
  for (Life& l : life) l.last = std::max(l.last, l.first);  // written, never read
  return life;
}

int64_t total_bytes(const ProgramData& d) {
  int64_t sum = 0;
  for (const ProgramTensor& t : d.tensors) sum += t.constant ? 0 : t.bytes();
  return sum;
}

// The first broken property of the plan, or "" when it is valid.
std::string plan_violation(const ProgramData& d) {
  const std::vector<Life> life = lifetimes(d);
  for (size_t i = 0; i < d.tensors.size(); ++i) {
    const ProgramTensor& t = d.tensors[i];
    const std::string name = fmt::format("tensor {} \"{}\"", i, t.info.name);
    if (t.constant) {
      if (t.offset != -1) return name + ": a constant has an arena offset";
      continue;
    }
    if (t.offset < 0) return name + ": no offset";
    if (t.offset % kArenaAlignment != 0)
      return fmt::format("{}: offset {} is not aligned", name, t.offset);
    if (t.offset + t.bytes() > d.arena_bytes) {
      return fmt::format("{}: [{}, {}) leaves the arena of {} bytes", name, t.offset,
                         t.offset + t.bytes(), d.arena_bytes);
    }
  }
  for (size_t a = 0; a < d.tensors.size(); ++a) {
    for (size_t b = a + 1; b < d.tensors.size(); ++b) {
      const ProgramTensor& x = d.tensors[a];
      const ProgramTensor& y = d.tensors[b];
      if (x.constant || y.constant || x.bytes() == 0 || y.bytes() == 0) continue;
      const bool alive_together = life[a].first <= life[b].last && life[b].first <= life[a].last;
      const bool share = x.offset < y.offset + y.bytes() && y.offset < x.offset + x.bytes();
      if (alive_together && share) {
        return fmt::format(
            "tensors {} (steps {}..{}, bytes [{}, {})) and {} (steps {}..{}, bytes "
            "[{}, {})) are alive together and share bytes",
            a, life[a].first, life[a].last, x.offset, x.offset + x.bytes(), b, life[b].first,
            life[b].last, y.offset, y.offset + y.bytes());
      }
    }
  }
  return "";
}

// input -> t1 -> t2 -> ... -> t{n}: each step reads the previous tensor and writes the next.
ProgramData chain(int n, int64_t bytes) {
  ProgramData d;
  d.tensors.push_back(tensor("in", DType::kInt8, {bytes}));
  d.tensors[0].is_input = true;
  d.inputs = {0};
  for (int i = 1; i <= n; ++i) {
    d.tensors.push_back(tensor(fmt::format("t{}", i), DType::kInt8, {bytes}));
    d.instructions.push_back(instruction({i - 1}, {i}));
  }
  d.tensors.back().is_output = true;
  d.outputs = {n};
  return d;
}

// A random DAG: every instruction reads 1 to 3 tensors already defined (model inputs,
// earlier results or constants, sometimes an absent optional input) and writes 1 or 2 new
// ones of random dtype and size; some results and possibly an input are model outputs.
ProgramData random_program(uint32_t seed) {
  std::mt19937 rng(seed);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const DType dtypes[] = {DType::kInt8, DType::kUInt8, DType::kInt16, DType::kInt32,
                          DType::kFloat32};
  ProgramData d;
  std::vector<int> defined;
  auto add = [&](ProgramTensor t) {
    d.tensors.push_back(std::move(t));
    return static_cast<int>(d.tensors.size()) - 1;
  };
  auto random_tensor = [&](const std::string& name) {
    const Shape shape = {uniform(1, 4), uniform(1, 300)};
    return tensor(name, dtypes[uniform(0, 4)], shape);
  };
  const int inputs = uniform(1, 3);
  for (int i = 0; i < inputs; ++i) {
    const int id = add(random_tensor(fmt::format("input{}", i)));
    d.tensors[static_cast<size_t>(id)].is_input = true;
    d.inputs.push_back(id);
    defined.push_back(id);
  }
  for (int c = 0; c < 3; ++c)
    defined.push_back(add(constant(fmt::format("const{}", c), {uniform(1, 500)})));
  const int steps = uniform(5, 40);
  std::vector<int> results;
  for (int s = 0; s < steps; ++s) {
    std::vector<int> ins;
    const int reads = uniform(1, 3);
    for (int r = 0; r < reads; ++r) {
      // Mostly recent tensors (chains), sometimes old ones (long lifetimes, skip connections).
      const int back = uniform(0, 3) == 0
                           ? uniform(0, static_cast<int>(defined.size()) - 1)
                           : std::min(uniform(0, 2), static_cast<int>(defined.size()) - 1);
      ins.push_back(defined[defined.size() - 1 - static_cast<size_t>(back)]);
    }
    if (uniform(0, 9) == 0) ins.push_back(-1);
    std::vector<int> outs;
    const int writes = uniform(1, 2);
    for (int w = 0; w < writes; ++w) {
      outs.push_back(add(random_tensor(fmt::format("s{}_{}", s, w))));
      results.push_back(outs.back());
    }
    d.instructions.push_back(instruction(ins, outs));
    for (int id : outs) defined.push_back(id);
  }
  d.outputs.push_back(results.back());
  for (int id : results) {
    if (id != results.back() && uniform(0, 5) == 0) d.outputs.push_back(id);
  }
  if (uniform(0, 3) == 0) d.outputs.push_back(d.inputs[0]);  // an input that is also an output
  for (int id : d.outputs) d.tensors[static_cast<size_t>(id)].is_output = true;
  return d;
}

// ---- End to end: a small graph whose tensors have different lifetimes.

// x[1,3,8,8] -> Conv (pads 1) -> Relu -> a; a -> MaxPool -> pooled; a -> Sigmoid ->
// GlobalAveragePool -> z; a -> Conv 1x1 -> + x -> y. `x` and `a` stay alive across several
// steps while short-lived tensors come and go; y, pooled and z are outputs.
Graph branching_graph() {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{1, {}}, {3, {}}, {8, {}}, {8, {}}}};
  g.add_input(x);
  auto weight = [&](const std::string& name, Shape shape, uint32_t seed) {
    Value* v = g.add_value(name);
    g.set_initializer(v, test::random_tensor(shape, seed, -0.5f, 0.5f));
    return v;
  };
  Value* w1 = weight("w1", {4, 3, 3, 3}, 11);
  Value* b1 = weight("b1", {4}, 12);
  Value* w2 = weight("w2", {3, 4, 1, 1}, 13);
  Value* c1 = g.add_value("c1");
  Value* a = g.add_value("a");
  Value* pooled = g.add_value("pooled");
  Value* sig = g.add_value("sig");
  Value* c2 = g.add_value("c2");
  Value* y = g.add_value("y");
  Value* z = g.add_value("z");
  Node* conv = g.add_node("Conv", {x, w1, b1}, {c1}, "conv1");
  conv->set_attr("pads", test::attr_ints({1, 1, 1, 1}));
  g.add_node("Relu", {c1}, {a}, "relu");
  Node* pool = g.add_node("MaxPool", {a}, {pooled}, "pool");
  pool->set_attr("kernel_shape", test::attr_ints({2, 2}));
  g.add_node("Sigmoid", {a}, {sig}, "sigmoid");
  g.add_node("Conv", {a, w2}, {c2}, "conv2");
  g.add_node("Add", {c2, x}, {y}, "skip");
  g.add_node("GlobalAveragePool", {sig}, {z}, "gap");
  g.add_output(y);
  g.add_output(pooled);
  g.add_output(z);
  return g;
}

Program compile_branching(const Graph& g) {
  Calibrator calibrator(g);
  for (uint32_t s = 0; s < 3; ++s)
    calibrator.add_sample({{"x", test::random_tensor({1, 3, 8, 8}, 100 + s)}});
  const QuantizedGraph q = Quantizer(QuantConfig{}).quantize(g, calibrator.table());
  return Compiler().compile(q);
}

// The same program with every activation in a slot of its own.
Program without_reuse(const Program& program) {
  auto copy = std::make_shared<ProgramData>(program.data());
  int64_t offset = 0;
  for (ProgramTensor& t : copy->tensors) {
    if (t.constant) continue;
    t.offset = offset;
    offset += (t.bytes() + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
  }
  copy->arena_bytes = offset;
  return Program(copy);
}

bool same_bits(const TensorMap& a, const TensorMap& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, t] : a) {
    const auto it = b.find(name);
    if (it == b.end()) return false;
    const Tensor& u = it->second;
    if (t.dtype() != u.dtype() || t.shape() != u.shape() ||
        std::memcmp(t.raw(), u.raw(), t.nbytes()) != 0) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("memory plan: a chain reuses two slots, aligned, constants outside", "[memory_plan]") {
  ProgramData d = chain(6, 100);
  d.tensors.push_back(constant("weights", {1000}));
  d.instructions[2].inputs.push_back(static_cast<int>(d.tensors.size()) - 1);
  plan_memory(d);
  REQUIRE(plan_violation(d) == "");
  // Step i reads t{i-1} and writes t{i}: two 128-byte slots alternate.
  REQUIRE(d.arena_bytes == 2 * 128);
  REQUIRE(d.arena_bytes < total_bytes(d));
  REQUIRE(d.tensors.back().offset == -1);
}

TEST_CASE("memory plan: the checker rejects shared live bytes, misalignment, a short arena",
          "[memory_plan]") {
  ProgramData d = chain(4, 100);
  plan_memory(d);
  REQUIRE(plan_violation(d) == "");
  ProgramData shared = d;
  shared.tensors[2].offset = shared.tensors[1].offset;  // both alive at step 1
  REQUIRE_THAT(plan_violation(shared), Catch::Contains("alive together and share bytes"));
  ProgramData misaligned = d;
  misaligned.tensors[3].offset += 32;
  REQUIRE_THAT(plan_violation(misaligned), Catch::Contains("not aligned"));
  ProgramData short_arena = d;
  short_arena.arena_bytes -= 64;
  REQUIRE_THAT(plan_violation(short_arena), Catch::Contains("leaves the arena"));
  ProgramData placed_constant = d;
  placed_constant.tensors.push_back(constant("w", {8}));
  placed_constant.tensors.back().offset = 0;
  REQUIRE_THAT(plan_violation(placed_constant), Catch::Contains("a constant has an arena offset"));
}

TEST_CASE("memory plan: model inputs live from the start, outputs to the end", "[memory_plan]") {
  // in -> a -> b -> c, and `a` is also a model output: it must survive b and c.
  ProgramData d = chain(3, 64);
  d.tensors[1].is_output = true;
  d.outputs.push_back(1);
  plan_memory(d);
  REQUIRE(plan_violation(d) == "");
  REQUIRE(d.tensors[1].offset != d.tensors[2].offset);
  REQUIRE(d.tensors[1].offset != d.tensors[3].offset);
  // An input read only at the last step overlaps every result.
  ProgramData late = chain(3, 64);
  const int extra = static_cast<int>(late.tensors.size());
  late.tensors.push_back(tensor("late_input", DType::kInt16, {32}));
  late.tensors.back().is_input = true;
  late.inputs.push_back(extra);
  late.instructions.back().inputs.push_back(extra);
  plan_memory(late);
  REQUIRE(plan_violation(late) == "");
  for (size_t id = 1; id <= 3; ++id) {
    REQUIRE(late.tensors[id].offset != late.tensors[static_cast<size_t>(extra)].offset);
  }
}

TEST_CASE("memory plan: a result nobody reads still gets its own bytes at its step",
          "[memory_plan]") {
  // Step 0 reads `in` and writes `a` (read at step 1) and `unused`: the three share no bytes.
  ProgramData d;
  d.tensors = {tensor("in", DType::kInt8, {64}), tensor("a", DType::kInt8, {64}),
               tensor("unused", DType::kInt8, {64}), tensor("out", DType::kInt8, {64})};
  d.tensors[0].is_input = true;
  d.tensors[3].is_output = true;
  d.inputs = {0};
  d.outputs = {3};
  d.instructions = {instruction({0}, {1, 2}), instruction({1}, {3})};
  plan_memory(d);
  REQUIRE(plan_violation(d) == "");
}

TEST_CASE("memory plan: random DAG-shaped programs", "[memory_plan]") {
  int reused = 0;
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    ProgramData d = random_program(seed);
    plan_memory(d);
    INFO("random program, seed " << seed);
    REQUIRE(plan_violation(d) == "");
    reused += d.arena_bytes < total_bytes(d) ? 1 : 0;
  }
  // Most random programs have tensors whose lifetimes end before others begin.
  REQUIRE(reused > 150);
}

TEST_CASE("memory plan: a compiled program runs the same with and without reuse", "[memory_plan]") {
  const Graph g = branching_graph();
  const Program program = compile_branching(g);
  REQUIRE(plan_violation(program.data()) == "");
  const Program separate = without_reuse(program);
  REQUIRE(plan_violation(separate.data()) == "");
  REQUIRE(program.peak_activation_bytes() < separate.peak_activation_bytes());

  for (uint32_t seed = 0; seed < 4; ++seed) {
    const TensorMap feeds = {{"x", test::random_tensor({1, 3, 8, 8}, 200 + seed)}};
    const TensorMap planned = FixedSimulator(program).run(feeds);
    REQUIRE(planned.size() == 3);
    REQUIRE(same_bits(planned, FixedSimulator(separate).run(feeds)));
  }
}

TEST_CASE("memory plan: the end-to-end comparison sees a plan that overlaps live tensors",
          "[memory_plan]") {
  // The check above has teeth: every activation at offset 0 corrupts the results.
  const Program program = compile_branching(branching_graph());
  auto broken = std::make_shared<ProgramData>(program.data());
  int64_t largest = 0;
  for (ProgramTensor& t : broken->tensors) {
    if (t.constant) continue;
    t.offset = 0;
    largest = std::max(largest, t.bytes());
  }
  broken->arena_bytes = largest;
  const TensorMap feeds = {{"x", test::random_tensor({1, 3, 8, 8}, 300)}};
  REQUIRE_FALSE(
      same_bits(FixedSimulator(program).run(feeds), FixedSimulator(Program(broken)).run(feeds)));
}
