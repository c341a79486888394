// The cost of a Program on a Target: per instruction a roofline on the cores the compile
// mode gives it, with feature-map cuts when a layer's working set exceeds a core's SRAM
// and the DDR traffic that follows (docs/target-profile.md, "Estimates").
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "compiler/program.hpp"

namespace lq {

const char* compile_mode_name(CompileMode mode) {
  switch (mode) {
    case CompileMode::kLatency: return "latency";
    case CompileMode::kBandwidth: return "bandwidth";
    case CompileMode::kBalance: return "balance";
  }
  return "?";
}

CompileMode parse_compile_mode(const std::string& name) {
  for (CompileMode m : {CompileMode::kLatency, CompileMode::kBandwidth, CompileMode::kBalance}) {
    if (name == compile_mode_name(m)) return m;
  }
  throw Error(StatusCode::kInvalidArgument,
              fmt::format("unknown compile mode \"{}\": expected latency, bandwidth or balance", name));
}

namespace {

int bits_of(const ProgramTensorInfo& t) {
  const DType d = t.quantized ? t.quant.dtype : t.dtype;
  switch (d) {
    case DType::kInt4: return 4;
    case DType::kInt8: case DType::kUInt8: case DType::kBool: return 8;
    case DType::kInt16: return 16;
    case DType::kInt64: return 64;
    default: return 32;
  }
}

int64_t bytes_of(const ProgramTensorInfo& t) { return (shape_numel(t.shape) * bits_of(t) + 7) / 8; }

int64_t ceil_div(int64_t a, int64_t b) { return b > 0 ? (a + b - 1) / b : a; }

// DDR bytes and tiles of one core's share: weights `w` (resident when at most half the SRAM,
// else streamed: the input is read once per weight chunk), activations `in` and `out` cut
// into tiles that fit beside the weights; a Conv's cuts re-read (kernel - 1) halo rows.
struct CorePlan {
  int64_t tiles = 1;
  int64_t ddr = 0;
};

CorePlan plan_core(int64_t w, int64_t in, int64_t out, int64_t sram, int64_t kernel_rows, int64_t rows) {
  CorePlan p;
  if (sram <= 0 || w + in + out <= sram) {
    p.ddr = w + in + out;
    return p;
  }
  int64_t weight_passes = 1;
  int64_t room = sram - w;
  if (w > sram / 2) {  // stream the weights in chunks of half the SRAM
    weight_passes = ceil_div(w, sram / 2);
    room = sram - sram / 2;
  }
  p.tiles = std::max<int64_t>(1, ceil_div(in + out, std::max<int64_t>(1, room)));
  double halo = 1.0;
  if (kernel_rows > 1 && rows > 0) {
    halo += static_cast<double>((kernel_rows - 1) * (p.tiles - 1)) / static_cast<double>(rows);
  }
  p.ddr = w + static_cast<int64_t>(std::ceil(static_cast<double>(in) * halo)) * weight_passes + out;
  return p;
}

}  // namespace

ProgramEstimate estimate_program(const Program& program, const Target& target, CompileMode mode,
                                 double balance_factor) {
  if (!(balance_factor >= 0.0)) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("balance factor {} is not a share >= 0 (0.25 allows 25 % more DDR traffic)", balance_factor));
  }
  const compiler::ProgramData& d = program.data();
  const TargetCostModel& c = target.profile().cost;
  ProgramEstimate e;
  e.target = target.name();
  e.mode = mode;
  e.balance_factor = balance_factor;
  e.cores = c.cores;
  e.sram_bytes = c.sram_bytes;
  e.clock_hz = c.clock_hz;
  // Readers of each tensor: an activation written and read only by the next instruction
  // stays in SRAM when it fits in a quarter of it.
  std::vector<int> readers(d.tensors.size(), 0);
  for (const compiler::Instruction& ins : d.instructions) {
    for (int t : ins.inputs) {
      if (t >= 0) ++readers[static_cast<size_t>(t)];
    }
  }
  auto on_chip = [&](int t, size_t writer, size_t reader) {
    const compiler::ProgramTensor& pt = d.tensors[static_cast<size_t>(t)];
    if (pt.constant || pt.is_input || pt.is_output || c.sram_bytes <= 0) return false;
    if (readers[static_cast<size_t>(t)] != 1 || reader != writer + 1) return false;
    return bytes_of(pt.info) <= c.sram_bytes / 4;
  };
  std::vector<size_t> writer(d.tensors.size(), SIZE_MAX);
  for (size_t i = 0; i < d.instructions.size(); ++i) {
    for (int t : d.instructions[i].outputs) writer[static_cast<size_t>(t)] = i;
  }
  for (size_t i = 0; i < d.instructions.size(); ++i) {
    const compiler::Instruction& ins = d.instructions[i];
    LayerEstimate l;
    l.node = ins.node;
    l.op_type = ins.op_type;
    l.kernel = ins.kernel_name();
    l.macs = ins.macs;
    int64_t kernel_rows = 1, rows = 0, in_ddr = 0, out_ddr = 0;
    for (int t : ins.inputs) {
      if (t < 0) continue;
      const compiler::ProgramTensor& pt = d.tensors[static_cast<size_t>(t)];
      const int64_t bytes = bytes_of(pt.info);
      if (pt.constant) {
        l.weight_bytes += bytes;
        if (pt.info.shape.size() == 4 && (ins.op_type == "Conv" || ins.op_type == "ConvTranspose")) {
          kernel_rows = pt.info.shape[2];
        }
        if (pt.info.quantized && pt.info.shape.size() >= 2) l.weight_bits = std::max(l.weight_bits, bits_of(pt.info));
      } else {
        l.input_bytes += bytes;
        l.activation_bits = std::max(l.activation_bits, bits_of(pt.info) == 16 ? 16 : 8);
        if (pt.info.shape.size() == 4) rows = std::max(rows, pt.info.shape[2]);
        const size_t w = writer[static_cast<size_t>(t)];
        if (!(w != SIZE_MAX && on_chip(t, w, i))) in_ddr += bytes;
      }
    }
    for (int t : ins.outputs) {
      const int64_t bytes = bytes_of(d.tensors[static_cast<size_t>(t)].info);
      l.output_bytes += bytes;
      bool kept = false;
      for (size_t r = i + 1; r < d.instructions.size() && r == i + 1; ++r) {
        const auto& next = d.instructions[r].inputs;
        kept = std::find(next.begin(), next.end(), t) != next.end() && on_chip(t, i, r);
      }
      if (!kept) out_ddr += bytes;
    }
    if (ins.is_cpu()) {
      // The host runs it: its operands go through DDR, the NPU waits.
      l.split = "none";
      l.ddr_bytes = l.input_bytes + l.output_bytes;
      l.memory_cycles = static_cast<int64_t>(std::ceil(static_cast<double>(l.ddr_bytes) / c.bytes_per_cycle));
      l.cycles = l.memory_cycles;
    } else {
      const int64_t w = l.weight_bytes;
      const int cores = c.cores;
      const double rate = c.macs_per_cycle_for(l.activation_bits, l.weight_bits ? l.weight_bits : 8);
      // Feature-map split: each core a share of the activations, all of the weights.
      const CorePlan fm = plan_core(w, ceil_div(in_ddr, cores), ceil_div(out_ddr, cores), c.sram_bytes,
                                    kernel_rows, ceil_div(rows, cores));
      const int64_t fm_ddr = fm.ddr * cores;
      // Output-channel split: each core a share of the weights and outputs, all of the input.
      const CorePlan oc = plan_core(ceil_div(w, cores), in_ddr, ceil_div(out_ddr, cores), c.sram_bytes,
                                    kernel_rows, rows);
      const int64_t oc_ddr = oc.ddr * cores;
      const CorePlan one = plan_core(w, in_ddr, out_ddr, c.sram_bytes, kernel_rows, rows);
      // MAC-free layers use the vector unit: macs_per_cycle / 16 elements per cycle.
      const double work = l.macs > 0 ? static_cast<double>(l.macs) / rate
                                     : static_cast<double>(l.output_bytes) * 16.0 / c.macs_per_cycle;
      struct Option {
        const char* split;
        int cores;
        CorePlan plan;
        int64_t ddr, compute, memory, cycles;
      };
      std::vector<Option> options;
      auto add = [&](const char* split, int n, const CorePlan& plan, int64_t ddr) {
        const int64_t compute = static_cast<int64_t>(std::ceil(work / n));
        const int64_t memory = static_cast<int64_t>(std::ceil(static_cast<double>(ddr) / c.bytes_per_cycle));
        options.push_back({split, n, plan, ddr, compute, memory, std::max(compute, memory)});
      };
      add("none", 1, one, one.ddr);
      if (cores > 1) {
        add("feature_map", cores, fm, fm_ddr);
        add("output_channels", cores, oc, oc_ddr);
      }
      int64_t least_ddr = options.front().ddr;
      for (const Option& o : options) least_ddr = std::min(least_ddr, o.ddr);
      // latency: fewest cycles; bandwidth: least DDR traffic; balance: fewest cycles among
      // the plans within the balance factor of the least traffic.
      auto better = [&](const Option& a, const Option& b) {
        if (mode == CompileMode::kBandwidth) return a.ddr != b.ddr ? a.ddr < b.ddr : a.cycles < b.cycles;
        if (mode == CompileMode::kBalance) {
          const double allowed = static_cast<double>(least_ddr) * (1.0 + balance_factor);
          const bool a_ok = static_cast<double>(a.ddr) <= allowed, b_ok = static_cast<double>(b.ddr) <= allowed;
          if (a_ok != b_ok) return a_ok;
        }
        return a.cycles != b.cycles ? a.cycles < b.cycles : a.ddr < b.ddr;
      };
      const Option best = *std::min_element(options.begin(), options.end(), better);
      l.split = best.split;
      l.cores = best.cores;
      l.tiles = best.plan.tiles;
      l.ddr_bytes = best.ddr;
      l.compute_cycles = best.compute;
      l.memory_cycles = best.memory;
      l.cycles = std::max<int64_t>(l.compute_cycles, l.memory_cycles);
    }
    e.macs += l.macs;
    e.weight_bytes += l.weight_bytes;
    e.activation_bytes += l.output_bytes;
    e.ddr_bytes += l.ddr_bytes;
    e.cycles += l.cycles;
    e.layers.push_back(std::move(l));
  }
  e.latency_seconds = static_cast<double>(e.cycles) / c.clock_hz;
  e.fps = e.latency_seconds > 0.0 ? 1.0 / e.latency_seconds : 0.0;
  return e;
}

std::string ProgramEstimate::to_json() const {
  nlohmann::json layers_json = nlohmann::json::array();
  for (const LayerEstimate& l : layers) {
    layers_json.push_back({{"node", l.node}, {"op_type", l.op_type}, {"kernel", l.kernel},
                           {"activation_bits", l.activation_bits}, {"weight_bits", l.weight_bits},
                           {"macs", l.macs}, {"weight_bytes", l.weight_bytes}, {"input_bytes", l.input_bytes},
                           {"output_bytes", l.output_bytes}, {"cores", l.cores}, {"split", l.split},
                           {"tiles", l.tiles}, {"ddr_bytes", l.ddr_bytes}, {"compute_cycles", l.compute_cycles},
                           {"memory_cycles", l.memory_cycles}, {"cycles", l.cycles}});
  }
  nlohmann::json j = {{"target", target}, {"mode", compile_mode_name(mode)}, {"balance_factor", balance_factor},
                      {"cores", cores},
                      {"sram_bytes", sram_bytes}, {"clock_hz", clock_hz}, {"macs", macs},
                      {"weight_bytes", weight_bytes}, {"activation_bytes", activation_bytes},
                      {"ddr_bytes", ddr_bytes}, {"cycles", cycles}, {"latency_ms", latency_seconds * 1e3},
                      {"fps", fps}, {"layers", layers_json}};
  return j.dump(2);
}

}  // namespace lq
