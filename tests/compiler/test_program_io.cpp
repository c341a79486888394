// The .lqm file (lib/compiler/program_io.cpp): every field of a Program survives the round
// trip, the header is what the format says, and damaged or inconsistent files are rejected
// with the file and the instruction named.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <any>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "compiler/program.hpp"
#include "libquant/compiler.hpp"

using namespace lq;
using namespace lq::compiler;
namespace fs = std::filesystem;

namespace {

// ---- A program with every kernel, every params type and non-default values.

QuantParams per_tensor(DType dtype, float scale, int32_t zero_point) {
  QuantParams q;
  q.dtype = dtype;
  q.scale = {scale};
  q.zero_point = {zero_point};
  q.range = Range{-1.5, 2.25};
  q.method = "kl";
  return q;
}

QuantParams per_channel(DType dtype, std::vector<float> scales, std::vector<int32_t> zero_points) {
  QuantParams q;
  q.dtype = dtype;
  q.scale = std::move(scales);
  q.zero_point = std::move(zero_points);
  q.axis = 0;
  q.range = Range{-0.32, 0.28};
  q.method = "weights:max";
  return q;
}

ProgramTensor activation(const std::string& name, DType dtype, Shape shape, int64_t offset) {
  ProgramTensor t;
  t.info.name = name;
  t.info.dtype = dtype;
  t.info.shape = std::move(shape);
  t.offset = offset;
  return t;
}

ProgramTensor quantized(ProgramTensor t, QuantParams quant) {
  t.info.quantized = true;
  t.info.quant = std::move(quant);
  return t;
}

ProgramTensor constant(const std::string& name, Tensor data) {
  ProgramTensor t = activation(name, data.dtype(), data.shape(), -1);
  t.constant = true;
  t.data = std::move(data);
  return t;
}

Tensor int4_weight() {
  Tensor w(DType::kInt4, {3, 2, 1, 1});
  const std::vector<int8_t> values = {-8, 7, 0, -1, 3, -5};
  std::copy(values.begin(), values.end(), w.data<int8_t>());
  return w;
}

std::shared_ptr<const Graph> sqrt_graph() {
  auto g = std::make_shared<Graph>();
  g->set_name("cpu_sqrt");
  g->set_opset("", 13);
  Value* x = g->add_value("f");
  x->type() = TensorType{DType::kFloat32, true, {Dim{1, ""}, Dim{4, ""}}};
  g->add_input(x);
  Value* y = g->add_value("f_sqrt");
  g->add_output(y);
  g->add_node("Sqrt", {x}, {y}, "cpu_sqrt");
  return g;
}

integer::OutputSpec spec(DType dtype, int32_t zero_point, int32_t min, int32_t max) {
  return integer::OutputSpec{dtype, zero_point, min, max};
}

integer::LinearQuant linear_quant() {
  integer::LinearQuant q;
  q.input_zero_point = -3;
  q.weight_zero_points = {0, 1, -1};
  q.multipliers = {Multiplier{1518500250, -7}, Multiplier{1073741824, 1}, Multiplier{0, 0}};
  q.output = spec(DType::kUInt8, 128, 130, 255);
  return q;
}

integer::PoolWindow pool_window() {
  return integer::PoolWindow{{3, 2}, {2, 1}, {1, 2}, {1, 0, 0, 1}, true};
}

std::vector<int32_t> table(int32_t start, int32_t step) {
  std::vector<int32_t> values(256);
  for (size_t i = 0; i < values.size(); ++i) values[i] = start + step * static_cast<int32_t>(i);
  return values;
}

Instruction instruction(const integer::IntegerKernel* kernel, const std::string& node, const std::string& op_type,
                        std::vector<int> inputs, std::vector<int> outputs, std::any params,
                        int64_t macs = 0) {
  Instruction ins;
  ins.kernel = kernel;
  ins.node = node;
  ins.op_type = op_type;
  ins.inputs = std::move(inputs);
  ins.outputs = std::move(outputs);
  ins.params = std::move(params);
  ins.macs = macs;
  return ins;
}

// Tensors: 0 x int8 (input), 1 w int4 per channel, 2 b int32, 3 conv_out uint8, 4 f float32,
// 5 y int16 (output), 6 a float32 constant. Shapes need not fit the kernels: the file
// format does not check them.
std::vector<ProgramTensor> program_tensors() {
  std::vector<ProgramTensor> t;
  t.push_back(quantized(activation("x", DType::kInt8, {1, 2, 4, 4}, 0), per_tensor(DType::kInt8, 0.05f, -3)));
  t.push_back(quantized(constant("w", int4_weight()),
                        per_channel(DType::kInt4, {0.01f, 0.02f, 0.04f}, {0, 1, -1})));
  t.push_back(quantized(constant("b", Tensor::from_vector<int32_t>({3}, {-100000, 0, 77777})),
                        per_channel(DType::kInt32, {0.0005f, 0.001f, 0.002f}, {0, 0, 0})));
  t.push_back(quantized(activation("conv_out", DType::kUInt8, {1, 3, 4, 4}, 64),
                        per_tensor(DType::kUInt8, 0.1f, 128)));
  t.push_back(activation("f", DType::kFloat32, {1, 4}, 128));
  t.push_back(quantized(activation("y\xff", DType::kInt16, {1, 4}, 192), per_tensor(DType::kInt16, 0.001f, 0)));
  t.push_back(constant("a", Tensor::from_vector<float>({2}, {0.5f, -1.25f})));
  t[0].is_input = true;
  t[5].is_output = true;
  return t;
}

std::vector<Instruction> arithmetic_instructions() {
  integer::AddParams add;
  add.a_zero_point = 5;
  add.b_zero_point = -7;
  add.left_shift = 14;
  add.a_multiplier = Multiplier{1073741825, 0};
  add.b_multiplier = Multiplier{2147483647, -1};
  add.output_multiplier = Multiplier{1500000000, -18};
  add.output = spec(DType::kInt16, 0, -1000, 32767);
  add.subtract = true;
  const integer::MulParams mul{9, -9, Multiplier{1234567890, -3}, spec(DType::kInt8, -1, -100, 100)};
  integer::ConcatParams concat;
  concat.axis = 1;
  concat.inputs = {integer::Rescale{3, Multiplier{1100000000, 2}}, integer::Rescale{-4, Multiplier{0, 0}}};
  concat.output = spec(DType::kUInt8, 10, 0, 255);
  const integer::RescaleOp rescale{integer::Rescale{12, Multiplier{1300000000, -62}}, spec(DType::kInt16, 0, 0, 500)};
  return {
      instruction(&integer::conv_kernel(), "conv", "Conv", {0, 1, 2}, {3},
                  integer::ConvParams{{2, 1}, {1, 2}, {0, 1, 1, 0}, 2, linear_quant()}, 1234),
      instruction(&integer::gemm_kernel(), "gemm", "Gemm", {0, 1, -1}, {3}, integer::GemmParams{true, false, linear_quant()}, 99),
      instruction(&integer::mat_mul_kernel(), "matmul", "MatMul", {0, 1}, {3}, linear_quant(), 7),
      instruction(&integer::add_kernel(), "sub", "Sub", {0, 3}, {5}, add),
      instruction(&integer::mul_kernel(), "mul", "Mul", {0, 0}, {3}, mul),
      instruction(&integer::concat_kernel(), "concat", "Concat", {0, 3}, {3}, concat),
      instruction(&integer::rescale_kernel(), "relu", "Relu", {5}, {5}, rescale),
  };
}

std::vector<Instruction> other_instructions() {
  const integer::AveragePoolParams average{pool_window(), true, -2, Multiplier{1200000000, -4},
                                           spec(DType::kInt8, 3, -128, 127)};
  integer::AveragePoolParams global = average;
  global.window = integer::PoolWindow{};
  global.count_include_pad = false;
  const integer::GatherOp gather{{{0, 4, 8}, {0, 1, -1}}, -5};
  const integer::LookupTable lookup{DType::kUInt8, DType::kInt16, table(-300, 3)};
  const integer::SoftmaxParams softmax{1, true, DType::kInt8, table(1 << 30, -4000000),
                                       Multiplier{1073741824, 9}, spec(DType::kUInt8, 0, 0, 255)};
  return {
      instruction(&integer::max_pool_kernel(), "maxpool", "MaxPool", {3}, {3}, pool_window()),
      instruction(&integer::average_pool_kernel(), "avgpool", "AveragePool", {0}, {0}, average),
      instruction(&integer::global_average_pool_kernel(), "gap", "GlobalAveragePool", {0}, {0}, global),
      instruction(&integer::gather_kernel(), "transpose", "Transpose", {0}, {0}, gather),
      instruction(&integer::lookup_kernel(), "sigmoid", "Sigmoid", {3}, {5}, lookup),
      instruction(&integer::softmax_kernel(), "softmax", "Softmax", {0}, {3}, softmax),
      instruction(nullptr, "cpu_sqrt", "Sqrt", {4}, {4}, CpuOp{sqrt_graph(), "no integer kernel for Sqrt"}),
      instruction(&integer::conv_transpose_kernel(), "deconv", "ConvTranspose", {0, 1, 2}, {3},
                  integer::ConvTransposeParams{{2, 2}, {1, 1}, {1, 0, -1, 0}, {7, 9}, 1, linear_quant()}, 321),
  };
}

ProgramData every_kernel_program() {
  ProgramData d;
  d.name = "every_kernel";
  d.target = "generic";
  d.tensors = program_tensors();
  d.instructions = arithmetic_instructions();
  for (Instruction& ins : other_instructions()) d.instructions.push_back(std::move(ins));
  d.inputs = {0};
  d.outputs = {5};
  d.arena_bytes = 256;
  return d;
}

Program program_of(ProgramData data) { return Program(std::make_shared<const ProgramData>(std::move(data))); }

// ---- Every field as text: equal dumps mean equal programs, and a failure shows the field.

std::string dump(const Multiplier& m) { return fmt::format("M({}, {})", m.mantissa, m.shift); }

std::string dump(const std::vector<Multiplier>& ms) {
  std::vector<std::string> parts;
  for (const Multiplier& m : ms) parts.push_back(dump(m));
  return fmt::format("{}", parts);
}

std::string dump(const integer::OutputSpec& s) {
  return fmt::format("out({}, {}, {}, {})", dtype_name(s.dtype), s.zero_point, s.min, s.max);
}

std::string dump(const QuantParams& q) {
  return fmt::format("quant({}, {}, {}, {}, [{}, {}], {})", dtype_name(q.dtype), q.scale, q.zero_point,
                     q.axis, q.range.min, q.range.max, q.method);
}

std::string dump(const integer::LinearQuant& q) {
  return fmt::format("linear({}, {}, {}, {})", q.input_zero_point, q.weight_zero_points,
                     dump(q.multipliers), dump(q.output));
}

std::string dump(const integer::Rescale& r) { return fmt::format("rescale({}, {})", r.zero_point, dump(r.multiplier)); }

std::string dump(const integer::PoolWindow& w) {
  return fmt::format("window({}, {}, {}, {}, {})", w.kernel, w.strides, w.dilations, w.pads, w.ceil_mode);
}

std::string dump(const integer::ConvParams& p) {
  return fmt::format("conv({}, {}, {}, {}, {})", p.strides, p.dilations, p.pads, p.group, dump(p.quant));
}

std::string dump(const integer::ConvTransposeParams& p) {
  return fmt::format("conv_transpose({}, {}, {}, {}, {}, {})", p.strides, p.dilations, p.pads, p.output,
                     p.group, dump(p.quant));
}

std::string dump(const integer::GemmParams& p) {
  return fmt::format("gemm({}, {}, {})", p.trans_a, p.trans_b, dump(p.quant));
}

std::string dump(const integer::AddParams& p) {
  return fmt::format("add({}, {}, {}, {}, {}, {}, {}, {})", p.a_zero_point, p.b_zero_point, p.left_shift,
                     dump(p.a_multiplier), dump(p.b_multiplier), dump(p.output_multiplier),
                     dump(p.output), p.subtract);
}

std::string dump(const integer::MulParams& p) {
  return fmt::format("mul({}, {}, {}, {})", p.a_zero_point, p.b_zero_point, dump(p.multiplier), dump(p.output));
}

std::string dump(const integer::ConcatParams& p) {
  std::vector<std::string> inputs;
  for (const integer::Rescale& r : p.inputs) inputs.push_back(dump(r));
  return fmt::format("concat({}, {}, {})", p.axis, inputs, dump(p.output));
}

std::string dump(const integer::RescaleOp& p) { return fmt::format("rescale_op({}, {})", dump(p.rescale), dump(p.output)); }

std::string dump(const integer::AveragePoolParams& p) {
  return fmt::format("average({}, {}, {}, {}, {})", dump(p.window), p.count_include_pad, p.input_zero_point,
                     dump(p.multiplier), dump(p.output));
}

std::string dump(const integer::GatherOp& p) { return fmt::format("gather({}, {})", p.offsets, p.fill); }

std::string dump(const integer::LookupTable& p) {
  return fmt::format("lookup({}, {}, {})", dtype_name(p.input_dtype), dtype_name(p.output_dtype), p.values);
}

std::string dump(const integer::SoftmaxParams& p) {
  return fmt::format("softmax({}, {}, {}, {}, {}, {})", p.axis, p.coerce_2d, dtype_name(p.input_dtype),
                     p.exp_table, dump(p.multiplier), dump(p.output));
}

std::string dump(const Graph& g) {
  std::string out = fmt::format("graph {} opsets {}", g.name(), g.opsets());
  for (const Value* v : g.inputs()) out += fmt::format(" in {}:{}", v->name(), v->type().str());
  for (const Value* v : g.outputs()) out += fmt::format(" out {}:{}", v->name(), v->type().str());
  for (const Value* v : g.initializers()) out += fmt::format(" init {}={}", v->name(), v->initializer()->to_doubles());
  for (const Node* n : g.nodes()) {
    std::vector<std::string> ins, outs;
    for (const Value* v : n->inputs()) ins.push_back(v ? v->name() : "");
    for (const Value* v : n->outputs()) outs.push_back(v->name());
    out += fmt::format(" node {}:{}:{} {} -> {} ({} attributes)", n->domain(), n->op_type(), n->name(), ins,
                       outs, n->attributes().size());
  }
  return out;
}

std::string dump(const CpuOp& p) { return fmt::format("cpu({}, {})", p.graph ? dump(*p.graph) : "null", p.reason); }

template <class P, class... Rest>
std::string dump_as(const std::any& params) {
  if (const auto* p = std::any_cast<P>(&params)) return dump(*p);
  if constexpr (sizeof...(Rest) > 0) {
    return dump_as<Rest...>(params);
  } else {
    return "unknown parameters";
  }
}

std::string dump_params(const std::any& params) {
  return dump_as<integer::ConvParams, integer::ConvTransposeParams, integer::GemmParams, integer::LinearQuant,
                 integer::AddParams, integer::MulParams, integer::ConcatParams, integer::RescaleOp,
                 integer::PoolWindow, integer::AveragePoolParams, integer::GatherOp, integer::LookupTable,
                 integer::SoftmaxParams, CpuOp>(params);
}

std::string dump(const Instruction& ins) {
  const std::string params = dump_params(ins.params);
  return fmt::format("{} {} {} {} -> {} macs {} [{}] {}", ins.kernel_name(), ins.node, ins.op_type,
                     ins.inputs, ins.outputs, ins.macs, ins.params.type().name(), params);
}

std::string dump(const ProgramTensor& t) {
  const auto* bytes = static_cast<const uint8_t*>(t.data.raw());
  const std::vector<int> data(bytes, bytes + t.data.nbytes());
  return fmt::format("{} {} {} {} {} constant {} data {} {} {} offset {} in {} out {}", t.info.name,
                     dtype_name(t.info.dtype), t.info.shape, t.info.quantized, dump(t.info.quant), t.constant,
                     dtype_name(t.data.dtype()), t.data.shape(), data, t.offset, t.is_input, t.is_output);
}

void require_same(const ProgramData& a, const ProgramData& b) {
  CHECK(a.name == b.name);
  CHECK(a.target == b.target);
  CHECK(a.inputs == b.inputs);
  CHECK(a.outputs == b.outputs);
  CHECK(a.arena_bytes == b.arena_bytes);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) CHECK(dump(a.tensors[i]) == dump(b.tensors[i]));
  REQUIRE(a.instructions.size() == b.instructions.size());
  for (size_t i = 0; i < a.instructions.size(); ++i) CHECK(dump(a.instructions[i]) == dump(b.instructions[i]));
}

// ---- Files and bytes.

uint64_t load_le(const std::string& bytes, size_t at, size_t size) {
  uint64_t value = 0;
  for (size_t i = 0; i < size; ++i) value |= uint64_t{static_cast<uint8_t>(bytes[at + i])} << (8 * i);
  return value;
}

// Bit by bit, independent of the table-driven implementation under test.
uint32_t reference_crc32(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// A .lqm file around any payload, as the format describes it.
std::string lqm_file(const std::string& payload, uint32_t version = 1) {
  std::string out("\x89LQM\r\n\x1a\n", 8);
  auto put = [&out](uint64_t value, size_t size) {
    for (size_t i = 0; i < size; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
  };
  put(version, 4);
  put(payload.size(), 8);
  put(reference_crc32(payload), 4);
  return out + payload;
}

// The protobuf wire format by hand, for payloads the writer never produces.
std::string varint(uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out += static_cast<char>((v & 0x7F) | 0x80);
  return out + static_cast<char>(v);
}
std::string field(int number, int64_t value) { return varint(static_cast<uint64_t>(number) << 3) + varint(static_cast<uint64_t>(value)); }
std::string field(int number, const std::string& bytes) {
  return varint((static_cast<uint64_t>(number) << 3) | 2) + varint(bytes.size()) + bytes;
}

Error parse_error(const std::string& bytes) {
  try {
    Program::parse(bytes.data(), bytes.size(), "bad.lqm");
  } catch (const Error& e) {
    return e;
  }
  FAIL("the bytes parsed as a Program");
  return Error(StatusCode::kOk, "");
}

void require_invalid(const ProgramData& data, const std::string& expected) {
  const Error e = parse_error(program_of(data).serialize());
  CHECK(e.code() == StatusCode::kInvalidModel);
  CHECK_THAT(e.what(), Catch::Contains("bad.lqm") && Catch::Contains(expected));
}

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / fmt::format("lq_program_io_{}_{}", name, ::getpid())) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_CASE("the test's CRC-32 is IEEE 802.3's", "[lqm]") {
  REQUIRE(reference_crc32("123456789") == 0xCBF43926u);
}

TEST_CASE("every kernel and field of a Program survives .lqm bytes", "[lqm]") {
  ProgramData original = every_kernel_program();
  original.name = "every_kernel\xfe";  // names come from ONNX, which does not promise UTF-8
  REQUIRE(original.instructions.size() == 15);  // one per Kernel
  const std::string bytes = program_of(original).serialize();
  const Program parsed = Program::parse(bytes.data(), bytes.size());
  require_same(original, parsed.data());
  // The parsed CPU graph is a graph of its own, not the original's pointer.
  const auto& cpu = parsed.data().instructions[13].params_as<CpuOp>();
  CHECK(cpu.graph != original.instructions[13].params_as<CpuOp>().graph);
}

TEST_CASE(".lqm header: magic, version 1, payload length, CRC-32 of the payload", "[lqm]") {
  const std::string bytes = program_of(every_kernel_program()).serialize();
  REQUIRE(bytes.size() > 24);
  CHECK(bytes.substr(0, 8) == std::string("\x89LQM\r\n\x1a\n", 8));
  CHECK(load_le(bytes, 8, 4) == 1);
  CHECK(load_le(bytes, 12, 8) == bytes.size() - 24);
  CHECK(load_le(bytes, 20, 4) == reference_crc32(bytes.substr(24)));
}

TEST_CASE("the kernels of format version 1 write the bytes they always wrote", "[lqm]") {
  // Size and CRC-32 of this file as written by the hand-written encoders before kernels
  // were descriptors (commit 6470588). The CPU instruction is left out: its bytes are the
  // ONNX serializer's.
  ProgramData d = every_kernel_program();
  d.instructions.erase(d.instructions.begin() + 13);
  const std::string bytes = program_of(d).serialize();
  CHECK(bytes.size() == 3437);
  CHECK(reference_crc32(bytes) == 0x37f38870u);
}

TEST_CASE("an empty Program round-trips", "[lqm]") {
  const std::string bytes = Program().serialize();
  const Program parsed = Program::parse(bytes.data(), bytes.size());
  require_same(Program().data(), parsed.data());
}

TEST_CASE("save writes atomically and load reads it back", "[lqm]") {
  TempDir dir("save");
  const Program program = program_of(every_kernel_program());
  const fs::path path = dir.path / "model.lqm";
  write_file(path, "an older file");
  program.save(path.string());
  CHECK(files_in(dir.path) == std::vector<std::string>{"model.lqm"});  // replaced, no temporary left
  require_same(program.data(), Program::load(path.string()).data());
}

TEST_CASE("save failures throw kIoError naming the path and leave no temporary", "[lqm]") {
  TempDir dir("save_fail");
  const Program program = program_of(every_kernel_program());
  SECTION("missing directory") {
    const std::string path = (dir.path / "missing" / "model.lqm").string();
    try {
      program.save(path);
      FAIL("saved into a missing directory");
    } catch (const Error& e) {
      CHECK(e.code() == StatusCode::kIoError);
      CHECK_THAT(e.what(), Catch::Contains(path));
    }
    CHECK(files_in(dir.path).empty());
  }
  SECTION("the path is a directory: the rename fails after the temporary was written") {
    fs::create_directory(dir.path / "model.lqm");
    const std::string path = (dir.path / "model.lqm").string();
    try {
      program.save(path);
      FAIL("saved over a directory");
    } catch (const Error& e) {
      CHECK(e.code() == StatusCode::kIoError);
      CHECK_THAT(e.what(), Catch::Contains(path) && Catch::Contains("rename"));
    }
    CHECK(files_in(dir.path) == std::vector<std::string>{"model.lqm"});
  }
}

TEST_CASE("damaged .lqm files are rejected, naming the file", "[lqm]") {
  const std::string good = program_of(every_kernel_program()).serialize();
  SECTION("a flipped payload byte fails the checksum") {
    std::string bytes = good;
    bytes[24 + bytes.size() / 2] ^= 0x40;
    const Error e = parse_error(bytes);
    CHECK(e.code() == StatusCode::kInvalidModel);
    CHECK_THAT(e.what(), Catch::Contains("bad.lqm") && Catch::Contains("corrupt"));
  }
  SECTION("truncated payload") {
    const Error e = parse_error(good.substr(0, good.size() - 1));
    CHECK(e.code() == StatusCode::kInvalidModel);
    CHECK_THAT(e.what(), Catch::Contains("truncated") && Catch::Contains("bad.lqm"));
  }
  SECTION("truncated header") {
    const Error e = parse_error(good.substr(0, 12));
    CHECK(e.code() == StatusCode::kInvalidModel);
    CHECK_THAT(e.what(), Catch::Contains("truncated"));
  }
  SECTION("bytes after the payload") {
    CHECK_THAT(parse_error(good + "x").what(), Catch::Contains("corrupt") && Catch::Contains("after the payload"));
  }
  SECTION("a newer format version") {
    std::string bytes = good;
    bytes[8] = 2;
    const Error e = parse_error(bytes);
    CHECK(e.code() == StatusCode::kUnsupported);
    CHECK_THAT(e.what(), Catch::Contains("bad.lqm: written by format version 2; this libquant reads up to 1: "
                                         "upgrade libquant"));
  }
  SECTION("wrong magic") {
    std::string bytes = good;
    bytes[1] = 'X';
    const Error e = parse_error(bytes);
    CHECK(e.code() == StatusCode::kInvalidModel);
    CHECK_THAT(e.what(), Catch::Contains("not a libquant program (.lqm) file"));
  }
  SECTION("empty") {
    const Error e = parse_error("");
    CHECK(e.code() == StatusCode::kInvalidModel);
    CHECK_THAT(e.what(), Catch::Contains("not a libquant program (.lqm) file") && Catch::Contains("empty"));
  }
  SECTION("an ONNX model is not a program") {
    CHECK_THAT(parse_error(serialize_onnx(*sqrt_graph())).what(), Catch::Contains("not a libquant program"));
  }
  SECTION("a payload that is not a protobuf message") {
    const Error e = parse_error(lqm_file(std::string("\x00\x00", 2)));  // field number 0 does not exist
    CHECK(e.code() == StatusCode::kInvalidModel);
    CHECK_THAT(e.what(), Catch::Contains("not a valid lq.lqm.Program"));
  }
}

TEST_CASE("load names the path in its errors", "[lqm]") {
  TempDir dir("load");
  const fs::path path = dir.path / "broken.lqm";
  std::string bytes = program_of(every_kernel_program()).serialize();
  bytes[40] ^= 1;
  write_file(path, bytes);
  CHECK_THROWS_WITH(Program::load(path.string()), Catch::Contains(path.string()) && Catch::Contains("corrupt"));
  try {
    Program::load((dir.path / "absent.lqm").string());
    FAIL("loaded a missing file");
  } catch (const Error& e) {
    CHECK(e.code() == StatusCode::kNotFound);
    CHECK_THAT(e.what(), Catch::Contains("absent.lqm"));
  }
}

TEST_CASE("inconsistent programs are rejected naming the instruction or tensor", "[lqm]") {
  ProgramData bad = every_kernel_program();
  SECTION("an instruction reads a tensor that does not exist") {
    bad.instructions[0].inputs[1] = 99;
    require_invalid(bad, "instruction 0 (Conv node \"conv\"): input 1 is tensor 99, outside [0, 7)");
  }
  SECTION("-1 marks only absent inputs, never outputs") {
    bad.instructions[1].outputs[0] = -1;
    require_invalid(bad, "instruction 1 (Gemm node \"gemm\"): output 0 is tensor -1");
  }
  SECTION("a model output that does not exist") {
    bad.outputs = {7};
    require_invalid(bad, "model output 0 is tensor 7");
  }
  SECTION("parameters of another kernel") {
    bad.instructions[7].kernel = &integer::conv_kernel();
    require_invalid(bad, "instruction 7 (MaxPool node \"maxpool\"): kernel Conv carries MaxPool parameters");
  }
  SECTION("a multiplier mantissa below 2^30") {
    bad.instructions[3].params_as<integer::AddParams>().b_multiplier = Multiplier{5, 0};
    require_invalid(bad, "Sub node \"sub\"): b_multiplier (mantissa 5, shift 0) is outside");
  }
  SECTION("a multiplier shift beyond 31") {
    bad.instructions[2].params_as<integer::LinearQuant>().multipliers[1].shift = 32;
    require_invalid(bad, "channel 1 multiplier (mantissa 1073741824, shift 32)");
  }
  SECTION("an Add shift wider than int32") {
    bad.instructions[3].params_as<integer::AddParams>().left_shift = 40;
    require_invalid(bad, "left_shift 40 is outside [0, 30]");
  }
  SECTION("a lookup table without one entry per 8-bit code") {
    bad.instructions[11].params_as<integer::LookupTable>().values.pop_back();
    require_invalid(bad, "Sigmoid node \"sigmoid\"): lookup table has 255 entries, expected 256");
  }
  SECTION("an output dtype no kernel writes") {
    bad.instructions[4].params_as<integer::MulParams>().output.dtype = DType::kFloat32;
    require_invalid(bad, "Mul node \"mul\"): output dtype float32 is not int8, uint8 or int16");
  }
  SECTION("an activation outside the arena") {
    bad.tensors[5].offset = 250;
    require_invalid(bad, "tensor 5 \"y\xff\": 8 bytes at arena offset 250 do not fit the 256-byte arena");
  }
}

TEST_CASE("payloads the writer never produces are rejected", "[lqm]") {
  const auto tensor = [](int dtype_code, const std::string& data) {
    const std::string info = field(1, std::string("w")) + field(2, dtype_code) + field(3, 4);
    return field(3, field(1, info) + field(2, 1) + field(3, data));  // Program.tensors
  };
  SECTION("constant data of the wrong size") {
    const Error e = parse_error(lqm_file(tensor(5, "abc")));  // int8 [4] needs 4 bytes
    CHECK(e.code() == StatusCode::kInvalidModel);
    CHECK_THAT(e.what(), Catch::Contains("bad.lqm: tensor 0 \"w\": constant int8 [4] needs 4 bytes of data, "
                                         "the file holds 3"));
  }
  SECTION("an unknown dtype code") {
    CHECK_THAT(parse_error(lqm_file(tensor(99, "abcd"))).what(),
               Catch::Contains("tensor 0 \"w\": tensor dtype code 99 is unknown"));
  }
  const auto instruction_payload = [](int kernel, const std::string& params) {
    return field(4, field(1, kernel) + field(2, std::string("n")) + field(3, std::string("Sqrt")) + params);
  };
  SECTION("an unknown kernel code") {
    CHECK_THAT(parse_error(lqm_file(instruction_payload(77, ""))).what(),
               Catch::Contains("instruction 0 (Sqrt node \"n\"): unknown kernel code 77"));
  }
  SECTION("an instruction without parameters") {
    CHECK_THAT(parse_error(lqm_file(instruction_payload(14, ""))).what(),
               Catch::Contains("instruction 0 (Sqrt node \"n\"): has no kernel parameters"));
  }
  SECTION("a CPU graph that is not ONNX") {
    const Error e = parse_error(lqm_file(instruction_payload(14, field(22, field(1, std::string("garbage"))))));
    CHECK(e.code() == StatusCode::kInvalidModel);
    CHECK_THAT(e.what(), Catch::Contains("instruction 0 (Sqrt node \"n\"): its CPU graph does not load"));
  }
}

namespace {

// A kernel added after format version 1: it has no message in program.proto, so its
// parameters travel as a generic Record, field by field.
struct ProbeParams {
  int32_t zero_point = 0;
  int64_t axis = 0;
  bool flag = false;
  DType input_dtype = DType::kInt8;
  std::vector<int32_t> table;
  std::vector<int64_t> sizes{1, 2};
  Multiplier multiplier;
  std::vector<integer::Rescale> inputs;
  std::vector<std::vector<int64_t>> offsets;
  integer::OutputSpec output;

  template <class V>
  void fields(V& v) {
    v("zero_point", zero_point);
    v("axis", axis);
    v("flag", flag);
    v("input_dtype", input_dtype);
    v("table", table);
    v("sizes", sizes);
    v("multiplier", multiplier);
    v("inputs", inputs);
    v("axes", "offsets", offsets);
    v("output", output);
  }
};

std::string dump(const ProbeParams& p) {
  std::vector<std::string> inputs;
  for (const integer::Rescale& r : p.inputs) inputs.push_back(dump(r));
  return fmt::format("probe({}, {}, {}, {}, {}, {}, {}, {}, {}, {})", p.zero_point, p.axis, p.flag,
                     dtype_name(p.input_dtype), p.table, p.sizes, dump(p.multiplier), inputs, p.offsets,
                     dump(p.output));
}

const integer::IntegerKernel& probe_kernel() {
  static const integer::IntegerKernel kernel = integer::make_kernel<ProbeParams>(
      {"Probe", 1000, "", [](const integer::KernelArgs& a, const ProbeParams&) { return std::vector<Tensor>{a.in(0)}; },
       [](const ProbeParams& p) -> std::string { return p.axis < 0 ? "probe axis is negative" : ""; }});
  return kernel;
}

const integer::KernelRegistry& registry_with_probe() {
  static const integer::KernelRegistry registry = [] {
    std::vector<const integer::IntegerKernel*> kernels = integer::kernel_registry().kernels();
    kernels.push_back(&probe_kernel());
    return integer::KernelRegistry(std::move(kernels));
  }();
  return registry;
}

ProbeParams probe_params() {
  ProbeParams p;
  p.zero_point = -2147483647 - 1;
  p.axis = int64_t{1} << 40;
  p.flag = true;
  p.input_dtype = DType::kInt16;
  p.table = {-5, 0, 2147483647};
  p.sizes = {};  // an empty list must come back empty, not as the default {1, 2}
  p.multiplier = Multiplier{1500000000, -7};
  p.inputs = {integer::Rescale{3, Multiplier{1100000000, 2}}, integer::Rescale{-4, Multiplier{0, 0}}};
  p.offsets = {{0, 4, -1}, {}, {7}};
  p.output = spec(DType::kUInt8, 10, 0, 255);
  return p;
}

ProgramData probe_program(const ProbeParams& p) {
  ProgramData d = every_kernel_program();
  d.instructions.push_back(instruction(&probe_kernel(), "probe", "Probe", {0, -1}, {0}, p, 5));
  return d;
}

}  // namespace

TEST_CASE("a kernel without a .lqm message round-trips its fields through a Record", "[lqm]") {
  const ProgramData original = probe_program(probe_params());
  const std::string bytes = program_of(original).serialize();
  const Program parsed = parse_program(bytes.data(), bytes.size(), "probe.lqm", registry_with_probe());
  require_same(original, parsed.data());
  const Instruction& probe = parsed.data().instructions.back();
  REQUIRE(probe.kernel == &probe_kernel());
  CHECK(dump(probe.params_as<ProbeParams>()) == dump(probe_params()));
  CHECK(parsed.layers().back().kernel == "Probe");
  // Re-serializing gives the same bytes.
  CHECK(parsed.serialize() == bytes);
  // A reader without the kernel says so rather than misreading it.
  CHECK_THROWS_WITH(Program::parse(bytes.data(), bytes.size(), "probe.lqm"),
                    Catch::Contains("instruction 15 (Probe node \"probe\"): unknown kernel code 1000"));
}

TEST_CASE("a Record kernel's parameters get the generic and its own checks", "[lqm]") {
  ProbeParams p = probe_params();
  std::string expected;
  SECTION("a multiplier out of range") {
    p.multiplier = Multiplier{5, 0};
    expected = "Probe node \"probe\"): multiplier (mantissa 5, shift 0) is outside";
  }
  SECTION("a multiplier in a list of structs") {
    p.inputs[1].multiplier.shift = 40;
    expected = "input 1 multiplier (mantissa 0, shift 40) is outside";
  }
  SECTION("an output dtype no kernel writes") {
    p.output.dtype = DType::kInt32;
    expected = "output dtype int32 is not int8, uint8 or int16";
  }
  SECTION("the kernel's own check") {
    p.axis = -1;
    expected = "Probe node \"probe\"): probe axis is negative";
  }
  const std::string bytes = program_of(probe_program(p)).serialize();
  try {
    parse_program(bytes.data(), bytes.size(), "bad.lqm", registry_with_probe());
    FAIL("the program parsed");
  } catch (const Error& e) {
    CHECK(e.code() == StatusCode::kInvalidModel);
    CHECK_THAT(e.what(), Catch::Contains("bad.lqm") && Catch::Contains(expected));
  }
}

TEST_CASE("the kernel registry: one descriptor per .lqm kernel code, found by name and code", "[lqm]") {
  const integer::KernelRegistry& registry = integer::kernel_registry();
  CHECK(registry.kernels().size() == 15);  // KERNEL_CONV .. KERNEL_DIV but KERNEL_CPU
  for (const integer::IntegerKernel* k : registry.kernels()) {
    CHECK(registry.find(k->name()) == k);
    CHECK(registry.find(k->code()) == k);
    CHECK(k->code() != kCpuKernelCode);
  }
  CHECK(registry.find("Div")->proto_field() == "mul");
  CHECK(registry.find_by_field("mul")->name() == "Mul");
  CHECK(registry.find_by_field("average_pool")->name() == "AveragePool");
  CHECK(registry.find(kCpuKernelCode) == nullptr);
  CHECK(registry.find("CPU") == nullptr);
  // A code or name used twice would make files ambiguous.
  CHECK_THROWS_WITH(integer::KernelRegistry({&integer::conv_kernel(), &integer::conv_kernel()}),
                    Catch::Contains("integer kernel Conv (code 1): its name or code is taken or reserved"));
}
