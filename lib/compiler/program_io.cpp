// The .lqm file of an integer Program: a fixed header, then the Program as a protobuf
// message (program.proto).
//
//   offset  size  field
//        0     8  magic 89 'L' 'Q' 'M' 0D 0A 1A 0A
//        8     4  format version, uint32 little endian (kFormatVersion)
//       12     8  payload length in bytes, uint64 little endian
//       20     4  CRC-32 of the payload (IEEE 802.3, as zlib's crc32), uint32 little endian
//       24     n  payload: an lq.lqm.Program message
//
// The magic is PNG's design: the high first byte catches 7-bit transfers, CR LF catches
// newline translation, ^Z stops a DOS `type`. The checksum exists because protobuf parses
// most damaged payloads without complaint: a flipped weight byte would go unnoticed.
//
// Reading trusts nothing: after the header checks and the protobuf parse, every enum,
// tensor index, data size and multiplier is checked before a Program exists, so the
// fixed Simulator never indexes outside a tensor because of a file.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>

#include "compiler/program.hpp"
#include "lq/lqm/program.pb.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "tensor data is stored as raw little-endian bytes; a big-endian host must swap them");

namespace lq {

namespace {

namespace pb = lqm;
using compiler::CpuOp;
using compiler::GatherOp;
using compiler::Instruction;
using compiler::Kernel;
using compiler::KernelParams;
using compiler::ProgramData;
using compiler::ProgramTensor;
using compiler::RescaleOp;

constexpr char kMagic[8] = {'\x89', 'L', 'Q', 'M', '\r', '\n', '\x1a', '\n'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHeaderSize = 24;

// ---- CRC-32 (reflected polynomial 0xEDB88320), one table lookup per byte.

constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrcTable = make_crc_table();

uint32_t crc32(const uint8_t* data, size_t size) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) crc = kCrcTable[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

void store_le(char* at, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) at[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

uint64_t load_le(const uint8_t* at, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) value |= uint64_t{at[i]} << (8 * i);
  return value;
}

[[noreturn]] void invalid(const std::string& where, const std::string& what) {
  throw Error(StatusCode::kInvalidModel, fmt::format("{}: {}", where, what));
}

// ---- Enums. Tables rather than casts: the file's numbers are frozen, the C++ enums are not.

constexpr std::pair<DType, pb::DType> kDTypes[] = {
    {DType::kUndefined, pb::DTYPE_UNDEFINED}, {DType::kFloat32, pb::DTYPE_FLOAT32},
    {DType::kFloat16, pb::DTYPE_FLOAT16},     {DType::kFloat64, pb::DTYPE_FLOAT64},
    {DType::kInt4, pb::DTYPE_INT4},           {DType::kInt8, pb::DTYPE_INT8},
    {DType::kUInt8, pb::DTYPE_UINT8},         {DType::kInt16, pb::DTYPE_INT16},
    {DType::kUInt16, pb::DTYPE_UINT16},       {DType::kInt32, pb::DTYPE_INT32},
    {DType::kUInt32, pb::DTYPE_UINT32},       {DType::kInt64, pb::DTYPE_INT64},
    {DType::kUInt64, pb::DTYPE_UINT64},       {DType::kBool, pb::DTYPE_BOOL},
};

constexpr std::pair<Kernel, pb::Kernel> kKernels[] = {
    {Kernel::kConv, pb::KERNEL_CONV},
    {Kernel::kGemm, pb::KERNEL_GEMM},
    {Kernel::kMatMul, pb::KERNEL_MAT_MUL},
    {Kernel::kAdd, pb::KERNEL_ADD},
    {Kernel::kMul, pb::KERNEL_MUL},
    {Kernel::kConcat, pb::KERNEL_CONCAT},
    {Kernel::kRescale, pb::KERNEL_RESCALE},
    {Kernel::kMaxPool, pb::KERNEL_MAX_POOL},
    {Kernel::kAveragePool, pb::KERNEL_AVERAGE_POOL},
    {Kernel::kGlobalAveragePool, pb::KERNEL_GLOBAL_AVERAGE_POOL},
    {Kernel::kGather, pb::KERNEL_GATHER},
    {Kernel::kLookup, pb::KERNEL_LOOKUP},
    {Kernel::kSoftmax, pb::KERNEL_SOFTMAX},
    {Kernel::kCpu, pb::KERNEL_CPU},
    {Kernel::kConvTranspose, pb::KERNEL_CONV_TRANSPOSE},
    {Kernel::kDiv, pb::KERNEL_DIV},
};

pb::DType encode(DType dtype) {
  for (const auto& [ours, theirs] : kDTypes) {
    if (ours == dtype) return theirs;
  }
  throw Error(StatusCode::kInternal,
              fmt::format("dtype {} has no .lqm code (add it to program.proto)", dtype_name(dtype)));
}

pb::Kernel encode(Kernel kernel) {
  for (const auto& [ours, theirs] : kKernels) {
    if (ours == kernel) return theirs;
  }
  throw Error(StatusCode::kInternal, fmt::format("kernel {} has no .lqm code (add it to program.proto)",
                                                 compiler::kernel_name(kernel)));
}

DType decode_dtype(int code, const std::string& where, const char* field) {
  for (const auto& [ours, theirs] : kDTypes) {
    if (theirs == code) return ours;
  }
  invalid(where, fmt::format("{} dtype code {} is unknown", field, code));
}

Kernel decode_kernel(int code, const std::string& where) {
  for (const auto& [ours, theirs] : kKernels) {
    if (theirs == code) return ours;
  }
  invalid(where, fmt::format("unknown kernel code {}", code));
}

// ---- ProgramData -> protobuf.

template <typename Values, typename Repeated>
void copy_to(const Values& values, Repeated* out) {
  out->Add(values.begin(), values.end());
}

void encode(const Multiplier& m, pb::Multiplier* out) {
  out->set_mantissa(m.mantissa);
  out->set_shift(m.shift);
}

void encode(const integer::OutputSpec& spec, pb::OutputSpec* out) {
  out->set_dtype(encode(spec.dtype));
  out->set_zero_point(spec.zero_point);
  out->set_min(spec.min);
  out->set_max(spec.max);
}

void encode(const QuantParams& q, pb::QuantParams* out) {
  out->set_dtype(encode(q.dtype));
  copy_to(q.scale, out->mutable_scales());
  copy_to(q.zero_point, out->mutable_zero_points());
  out->set_axis(q.axis);
  out->set_range_min(q.range.min);
  out->set_range_max(q.range.max);
  out->set_method(q.method);
}

void encode(const integer::LinearQuant& q, pb::LinearQuant* out) {
  out->set_input_zero_point(q.input_zero_point);
  copy_to(q.weight_zero_points, out->mutable_weight_zero_points());
  for (const Multiplier& m : q.multipliers) encode(m, out->add_multipliers());
  encode(q.output, out->mutable_output());
}

void encode(const integer::Rescale& r, pb::Rescale* out) {
  out->set_zero_point(r.zero_point);
  encode(r.multiplier, out->mutable_multiplier());
}

void encode(const integer::PoolWindow& w, pb::PoolWindow* out) {
  copy_to(w.kernel, out->mutable_kernel());
  copy_to(w.strides, out->mutable_strides());
  copy_to(w.dilations, out->mutable_dilations());
  copy_to(w.pads, out->mutable_pads());
  out->set_ceil_mode(w.ceil_mode);
}

// One overload per KernelParams alternative, each filling its member of the oneof.
void encode_params(const integer::ConvParams& p, pb::Instruction* ins) {
  pb::ConvParams* out = ins->mutable_conv();
  copy_to(p.strides, out->mutable_strides());
  copy_to(p.dilations, out->mutable_dilations());
  copy_to(p.pads, out->mutable_pads());
  out->set_group(p.group);
  encode(p.quant, out->mutable_quant());
}

void encode_params(const integer::ConvTransposeParams& p, pb::Instruction* ins) {
  pb::ConvTransposeParams* out = ins->mutable_conv_transpose();
  copy_to(p.strides, out->mutable_strides());
  copy_to(p.dilations, out->mutable_dilations());
  copy_to(p.pads, out->mutable_pads());
  copy_to(p.output, out->mutable_output());
  out->set_group(p.group);
  encode(p.quant, out->mutable_quant());
}

void encode_params(const integer::GemmParams& p, pb::Instruction* ins) {
  pb::GemmParams* out = ins->mutable_gemm();
  out->set_trans_a(p.trans_a);
  out->set_trans_b(p.trans_b);
  encode(p.quant, out->mutable_quant());
}

void encode_params(const integer::LinearQuant& p, pb::Instruction* ins) {
  encode(p, ins->mutable_mat_mul());
}

void encode_params(const integer::AddParams& p, pb::Instruction* ins) {
  pb::AddParams* out = ins->mutable_add();
  out->set_a_zero_point(p.a_zero_point);
  out->set_b_zero_point(p.b_zero_point);
  out->set_left_shift(p.left_shift);
  encode(p.a_multiplier, out->mutable_a_multiplier());
  encode(p.b_multiplier, out->mutable_b_multiplier());
  encode(p.output_multiplier, out->mutable_output_multiplier());
  encode(p.output, out->mutable_output());
  out->set_subtract(p.subtract);
}

void encode_params(const integer::MulParams& p, pb::Instruction* ins) {
  pb::MulParams* out = ins->mutable_mul();
  out->set_a_zero_point(p.a_zero_point);
  out->set_b_zero_point(p.b_zero_point);
  encode(p.multiplier, out->mutable_multiplier());
  encode(p.output, out->mutable_output());
}

void encode_params(const integer::ConcatParams& p, pb::Instruction* ins) {
  pb::ConcatParams* out = ins->mutable_concat();
  out->set_axis(p.axis);
  for (const integer::Rescale& r : p.inputs) encode(r, out->add_inputs());
  encode(p.output, out->mutable_output());
}

void encode_params(const RescaleOp& p, pb::Instruction* ins) {
  encode(p.rescale, ins->mutable_rescale()->mutable_rescale());
  encode(p.output, ins->mutable_rescale()->mutable_output());
}

void encode_params(const integer::PoolWindow& p, pb::Instruction* ins) {
  encode(p, ins->mutable_max_pool());
}

void encode_params(const integer::AveragePoolParams& p, pb::Instruction* ins) {
  pb::AveragePoolParams* out = ins->mutable_average_pool();
  encode(p.window, out->mutable_window());
  out->set_count_include_pad(p.count_include_pad);
  out->set_input_zero_point(p.input_zero_point);
  encode(p.multiplier, out->mutable_multiplier());
  encode(p.output, out->mutable_output());
}

void encode_params(const GatherOp& p, pb::Instruction* ins) {
  pb::GatherOp* out = ins->mutable_gather();
  for (const auto& axis : p.offsets) copy_to(axis, out->add_axes()->mutable_offsets());
  out->set_fill(p.fill);
}

void encode_params(const integer::LookupTable& p, pb::Instruction* ins) {
  pb::LookupTable* out = ins->mutable_lookup();
  out->set_input_dtype(encode(p.input_dtype));
  out->set_output_dtype(encode(p.output_dtype));
  copy_to(p.values, out->mutable_values());
}

void encode_params(const integer::SoftmaxParams& p, pb::Instruction* ins) {
  pb::SoftmaxParams* out = ins->mutable_softmax();
  out->set_axis(p.axis);
  out->set_coerce_2d(p.coerce_2d);
  out->set_input_dtype(encode(p.input_dtype));
  copy_to(p.exp_table, out->mutable_exp_table());
  encode(p.multiplier, out->mutable_multiplier());
  encode(p.output, out->mutable_output());
}

void encode_params(const CpuOp& p, pb::Instruction* ins) {
  if (!p.graph) {
    throw Error(StatusCode::kInternal,
                fmt::format("{} node \"{}\": its CPU instruction has no graph", ins->op_type(), ins->node()));
  }
  ins->mutable_cpu()->set_graph(serialize_onnx(*p.graph));
  ins->mutable_cpu()->set_reason(p.reason);
}

void encode(const ProgramTensor& t, pb::Tensor* out) {
  pb::TensorInfo* info = out->mutable_info();
  info->set_name(t.info.name);
  info->set_dtype(encode(t.info.dtype));
  copy_to(t.info.shape, info->mutable_shape());
  info->set_quantized(t.info.quantized);
  encode(t.info.quant, info->mutable_quant());
  out->set_constant(t.constant);
  out->set_offset(t.offset);
  out->set_is_input(t.is_input);
  out->set_is_output(t.is_output);
  if (!t.constant) return;
  // The file stores the data under the info's dtype and shape, so they must agree.
  if (t.data.dtype() != t.info.dtype || t.data.shape() != t.info.shape) {
    throw Error(StatusCode::kInternal,
                fmt::format("constant \"{}\" is {} {} but its data is {} {}", t.info.name,
                            dtype_name(t.info.dtype), shape_str(t.info.shape),
                            dtype_name(t.data.dtype()), shape_str(t.data.shape())));
  }
  out->set_data(static_cast<const char*>(t.data.raw()), t.data.nbytes());
}

pb::Program encode(const ProgramData& data) {
  pb::Program out;
  out.set_name(data.name);
  out.set_target(data.target);
  for (const ProgramTensor& t : data.tensors) encode(t, out.add_tensors());
  for (const Instruction& ins : data.instructions) {
    pb::Instruction* p = out.add_instructions();
    p->set_kernel(encode(ins.kernel));
    p->set_node(ins.node);
    p->set_op_type(ins.op_type);
    copy_to(ins.inputs, p->mutable_inputs());
    copy_to(ins.outputs, p->mutable_outputs());
    p->set_macs(ins.macs);
    std::visit([p](const auto& params) { encode_params(params, p); }, ins.params);
  }
  copy_to(data.inputs, out.mutable_inputs());
  copy_to(data.outputs, out.mutable_outputs());
  out.set_arena_bytes(data.arena_bytes);
  return out;
}

// ---- protobuf -> ProgramData. Decoding rejects what the C++ types cannot hold (unknown
// enum codes, data of the wrong size, an unparsable graph); validate() does the rest.

template <typename T, typename Repeated>
std::vector<T> to_vector(const Repeated& values) {
  return std::vector<T>(values.begin(), values.end());
}

Multiplier decode(const pb::Multiplier& m) { return Multiplier{m.mantissa(), m.shift()}; }

integer::OutputSpec decode(const pb::OutputSpec& spec, const std::string& where) {
  return integer::OutputSpec{decode_dtype(spec.dtype(), where, "output"), spec.zero_point(),
                             spec.min(), spec.max()};
}

QuantParams decode(const pb::QuantParams& q, const std::string& where) {
  QuantParams out;
  out.dtype = decode_dtype(q.dtype(), where, "quantization");
  out.scale = to_vector<float>(q.scales());
  out.zero_point = to_vector<int32_t>(q.zero_points());
  out.axis = q.axis();
  out.range = Range{q.range_min(), q.range_max()};
  out.method = q.method();
  return out;
}

integer::LinearQuant decode(const pb::LinearQuant& q, const std::string& where) {
  integer::LinearQuant out;
  out.input_zero_point = q.input_zero_point();
  out.weight_zero_points = to_vector<int32_t>(q.weight_zero_points());
  for (const pb::Multiplier& m : q.multipliers()) out.multipliers.push_back(decode(m));
  out.output = decode(q.output(), where);
  return out;
}

integer::Rescale decode(const pb::Rescale& r) { return integer::Rescale{r.zero_point(), decode(r.multiplier())}; }

integer::PoolWindow decode(const pb::PoolWindow& w) {
  return integer::PoolWindow{to_vector<int64_t>(w.kernel()), to_vector<int64_t>(w.strides()),
                             to_vector<int64_t>(w.dilations()), to_vector<int64_t>(w.pads()),
                             w.ceil_mode()};
}

integer::ConvParams decode(const pb::ConvParams& p, const std::string& where) {
  return integer::ConvParams{to_vector<int64_t>(p.strides()), to_vector<int64_t>(p.dilations()),
                             to_vector<int64_t>(p.pads()), p.group(), decode(p.quant(), where)};
}

integer::ConvTransposeParams decode(const pb::ConvTransposeParams& p, const std::string& where) {
  return integer::ConvTransposeParams{to_vector<int64_t>(p.strides()), to_vector<int64_t>(p.dilations()),
                                      to_vector<int64_t>(p.pads()), to_vector<int64_t>(p.output()),
                                      p.group(), decode(p.quant(), where)};
}

integer::GemmParams decode(const pb::GemmParams& p, const std::string& where) {
  return integer::GemmParams{p.trans_a(), p.trans_b(), decode(p.quant(), where)};
}

integer::AddParams decode(const pb::AddParams& p, const std::string& where) {
  integer::AddParams out;
  out.a_zero_point = p.a_zero_point();
  out.b_zero_point = p.b_zero_point();
  out.left_shift = p.left_shift();
  out.a_multiplier = decode(p.a_multiplier());
  out.b_multiplier = decode(p.b_multiplier());
  out.output_multiplier = decode(p.output_multiplier());
  out.output = decode(p.output(), where);
  out.subtract = p.subtract();
  return out;
}

integer::MulParams decode(const pb::MulParams& p, const std::string& where) {
  return integer::MulParams{p.a_zero_point(), p.b_zero_point(), decode(p.multiplier()),
                            decode(p.output(), where)};
}

integer::ConcatParams decode(const pb::ConcatParams& p, const std::string& where) {
  integer::ConcatParams out;
  out.axis = p.axis();
  for (const pb::Rescale& r : p.inputs()) out.inputs.push_back(decode(r));
  out.output = decode(p.output(), where);
  return out;
}

RescaleOp decode(const pb::RescaleOp& p, const std::string& where) {
  return RescaleOp{decode(p.rescale()), decode(p.output(), where)};
}

integer::AveragePoolParams decode(const pb::AveragePoolParams& p, const std::string& where) {
  return integer::AveragePoolParams{decode(p.window()), p.count_include_pad(), p.input_zero_point(),
                                    decode(p.multiplier()), decode(p.output(), where)};
}

GatherOp decode(const pb::GatherOp& p) {
  GatherOp out;
  for (const auto& axis : p.axes()) out.offsets.push_back(to_vector<int64_t>(axis.offsets()));
  out.fill = p.fill();
  return out;
}

integer::LookupTable decode(const pb::LookupTable& p, const std::string& where) {
  return integer::LookupTable{decode_dtype(p.input_dtype(), where, "input"),
                              decode_dtype(p.output_dtype(), where, "output"),
                              to_vector<int32_t>(p.values())};
}

integer::SoftmaxParams decode(const pb::SoftmaxParams& p, const std::string& where) {
  integer::SoftmaxParams out;
  out.axis = p.axis();
  out.coerce_2d = p.coerce_2d();
  out.input_dtype = decode_dtype(p.input_dtype(), where, "input");
  out.exp_table = to_vector<int32_t>(p.exp_table());
  out.multiplier = decode(p.multiplier());
  out.output = decode(p.output(), where);
  return out;
}

CpuOp decode(const pb::CpuOp& p, const std::string& where) {
  OnnxImportOptions options;
  options.infer_shapes = false;  // the compiler recorded the shapes it relies on
  try {
    auto graph = std::make_shared<Graph>(parse_onnx(p.graph().data(), p.graph().size(), options));
    return CpuOp{std::move(graph), p.reason()};
  } catch (const Error& e) {
    invalid(where, fmt::format("its CPU graph does not load: {}", e.what()));
  }
}

KernelParams decode_params(const pb::Instruction& ins, const std::string& where) {
  switch (ins.params_case()) {
    case pb::Instruction::kConv: return decode(ins.conv(), where);
    case pb::Instruction::kGemm: return decode(ins.gemm(), where);
    case pb::Instruction::kMatMul: return decode(ins.mat_mul(), where);
    case pb::Instruction::kAdd: return decode(ins.add(), where);
    case pb::Instruction::kMul: return decode(ins.mul(), where);
    case pb::Instruction::kConcat: return decode(ins.concat(), where);
    case pb::Instruction::kRescale: return decode(ins.rescale(), where);
    case pb::Instruction::kMaxPool: return decode(ins.max_pool());
    case pb::Instruction::kAveragePool: return decode(ins.average_pool(), where);
    case pb::Instruction::kGather: return decode(ins.gather());
    case pb::Instruction::kLookup: return decode(ins.lookup(), where);
    case pb::Instruction::kSoftmax: return decode(ins.softmax(), where);
    case pb::Instruction::kCpu: return decode(ins.cpu(), where);
    case pb::Instruction::kConvTranspose: return decode(ins.conv_transpose(), where);
    case pb::Instruction::PARAMS_NOT_SET: break;
  }
  invalid(where, "has no kernel parameters");
}

std::string instruction_where(const std::string& context, size_t index, const std::string& op_type,
                              const std::string& node) {
  return fmt::format("{}: instruction {} ({} node \"{}\")", context, index, op_type, node);
}

Instruction decode(const pb::Instruction& ins, const std::string& where) {
  Instruction out;
  out.kernel = decode_kernel(ins.kernel(), where);
  out.node = ins.node();
  out.op_type = ins.op_type();
  out.inputs = to_vector<int>(ins.inputs());
  out.outputs = to_vector<int>(ins.outputs());
  out.params = decode_params(ins, where);
  out.macs = ins.macs();
  return out;
}

// shape_numel without overflow: a hostile shape must not wrap to a small byte count. The
// bound leaves room to multiply by any dtype size.
int64_t checked_numel(const Shape& shape, const std::string& where) {
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0) invalid(where, fmt::format("shape {} has a negative dimension", shape_str(shape)));
    if (d != 0 && numel > INT64_MAX / 16 / d) {
      invalid(where, fmt::format("shape {} has too many elements", shape_str(shape)));
    }
    numel *= d;
  }
  return numel;
}

Tensor decode_data(const pb::Tensor& proto, const ProgramTensorInfo& info, const std::string& where) {
  const auto expected = static_cast<uint64_t>(checked_numel(info.shape, where)) * dtype_size(info.dtype);
  if (proto.data().size() != expected) {
    invalid(where, fmt::format("constant {} {} needs {} bytes of data, the file holds {}",
                               dtype_name(info.dtype), shape_str(info.shape), expected,
                               proto.data().size()));
  }
  Tensor data(info.dtype, info.shape);
  if (expected > 0) std::memcpy(data.raw(), proto.data().data(), expected);
  return data;
}

ProgramTensor decode(const pb::Tensor& proto, const std::string& where) {
  ProgramTensor t;
  const pb::TensorInfo& info = proto.info();
  t.info.name = info.name();
  t.info.dtype = decode_dtype(info.dtype(), where, "tensor");
  if (t.info.dtype == DType::kUndefined) invalid(where, "has no dtype");
  t.info.shape = to_vector<int64_t>(info.shape());
  checked_numel(t.info.shape, where);
  t.info.quantized = info.quantized();
  t.info.quant = decode(info.quant(), where);
  t.constant = proto.constant();
  t.offset = proto.offset();
  t.is_input = proto.is_input();
  t.is_output = proto.is_output();
  if (t.constant) {
    t.data = decode_data(proto, t.info, where);
  } else if (!proto.data().empty()) {
    invalid(where, "is not a constant but carries data");
  }
  return t;
}

ProgramData decode(const pb::Program& proto, const std::string& context) {
  ProgramData data;
  data.name = proto.name();
  data.target = proto.target();
  for (int i = 0; i < proto.tensors_size(); ++i) {
    const pb::Tensor& t = proto.tensors(i);
    data.tensors.push_back(decode(t, fmt::format("{}: tensor {} \"{}\"", context, i, t.info().name())));
  }
  for (int i = 0; i < proto.instructions_size(); ++i) {
    const pb::Instruction& ins = proto.instructions(i);
    const auto index = static_cast<size_t>(i);
    data.instructions.push_back(decode(ins, instruction_where(context, index, ins.op_type(), ins.node())));
  }
  data.inputs = to_vector<int>(proto.inputs());
  data.outputs = to_vector<int>(proto.outputs());
  data.arena_bytes = proto.arena_bytes();
  return data;
}

// ---- Semantic checks on the decoded program.

bool params_fit(Kernel kernel, const KernelParams& p) {
  switch (kernel) {
    case Kernel::kConv: return std::holds_alternative<integer::ConvParams>(p);
    case Kernel::kGemm: return std::holds_alternative<integer::GemmParams>(p);
    case Kernel::kMatMul: return std::holds_alternative<integer::LinearQuant>(p);
    case Kernel::kAdd: return std::holds_alternative<integer::AddParams>(p);
    case Kernel::kMul:
    case Kernel::kDiv: return std::holds_alternative<integer::MulParams>(p);
    case Kernel::kConcat: return std::holds_alternative<integer::ConcatParams>(p);
    case Kernel::kRescale: return std::holds_alternative<RescaleOp>(p);
    case Kernel::kMaxPool: return std::holds_alternative<integer::PoolWindow>(p);
    case Kernel::kAveragePool:
    case Kernel::kGlobalAveragePool: return std::holds_alternative<integer::AveragePoolParams>(p);
    case Kernel::kGather: return std::holds_alternative<GatherOp>(p);
    case Kernel::kLookup: return std::holds_alternative<integer::LookupTable>(p);
    case Kernel::kSoftmax: return std::holds_alternative<integer::SoftmaxParams>(p);
    case Kernel::kCpu: return std::holds_alternative<CpuOp>(p);
    case Kernel::kConvTranspose: return std::holds_alternative<integer::ConvTransposeParams>(p);
  }
  return false;
}

// The KernelParams alternatives' names, in the variant's order.
constexpr const char* kParamsNames[] = {"Conv",    "Gemm",        "MatMul", "Add",    "Mul",
                                        "Concat",  "Rescale",     "MaxPool", "AveragePool",
                                        "Gather",  "Lookup",      "Softmax", "CPU",
                                        "ConvTranspose"};
static_assert(std::size(kParamsNames) == std::variant_size_v<KernelParams>);

bool is_activation_dtype(DType d) { return d == DType::kInt8 || d == DType::kUInt8 || d == DType::kInt16; }
bool is_8bit(DType d) { return d == DType::kInt8 || d == DType::kUInt8; }

// The checks of one instruction's parameters, one overload per alternative: what the
// integer kernels rely on without checking (multiplier ranges, shift widths, table sizes).
class ParamsChecker {
 public:
  explicit ParamsChecker(const std::string& where) : where_(where) {}

  void operator()(const integer::ConvParams& p) const { check(p.quant); }
  void operator()(const integer::ConvTransposeParams& p) const { check(p.quant); }
  void operator()(const integer::GemmParams& p) const { check(p.quant); }
  void operator()(const integer::LinearQuant& p) const { check(p); }
  void operator()(const integer::AddParams& p) const {
    if (p.left_shift < 0 || p.left_shift > 30) {
      invalid(where_, fmt::format("left_shift {} is outside [0, 30]", p.left_shift));
    }
    check(p.a_multiplier, "a_multiplier");
    check(p.b_multiplier, "b_multiplier");
    check(p.output_multiplier, "output_multiplier");
    check(p.output);
  }
  void operator()(const integer::MulParams& p) const {
    check(p.multiplier, "multiplier");
    check(p.output);
  }
  void operator()(const integer::ConcatParams& p) const {
    for (size_t i = 0; i < p.inputs.size(); ++i) check(p.inputs[i].multiplier, fmt::format("input {} multiplier", i));
    check(p.output);
  }
  void operator()(const RescaleOp& p) const {
    check(p.rescale.multiplier, "multiplier");
    check(p.output);
  }
  void operator()(const integer::PoolWindow&) const {}
  void operator()(const integer::AveragePoolParams& p) const {
    check(p.multiplier, "multiplier");
    check(p.output);
  }
  void operator()(const GatherOp&) const {}
  void operator()(const integer::LookupTable& p) const {
    check_table(p.input_dtype, p.values.size(), "lookup table");
    if (!is_activation_dtype(p.output_dtype)) {
      invalid(where_, fmt::format("lookup table output dtype {} is not int8, uint8 or int16",
                                  dtype_name(p.output_dtype)));
    }
  }
  void operator()(const integer::SoftmaxParams& p) const {
    check_table(p.input_dtype, p.exp_table.size(), "softmax exp table");
    check(p.multiplier, "multiplier");
    check(p.output);
  }
  void operator()(const CpuOp& p) const {
    if (p.graph->num_nodes() != 1) {
      invalid(where_, fmt::format("its CPU graph has {} nodes, expected 1", p.graph->num_nodes()));
    }
  }

 private:
  void check(const integer::LinearQuant& q) const {
    for (size_t c = 0; c < q.multipliers.size(); ++c) check(q.multipliers[c], fmt::format("channel {} multiplier", c));
    check(q.output);
  }
  void check(const Multiplier& m, const std::string& field) const {
    const bool mantissa_ok = m.mantissa == 0 || m.mantissa >= (int32_t{1} << 30);
    if (!mantissa_ok || m.shift < kMultiplierMinShift || m.shift > kMultiplierMaxShift) {
      invalid(where_, fmt::format("{} (mantissa {}, shift {}) is outside mantissa [2^30, 2^31) or 0, "
                                  "shift [{}, {}]",
                                  field, m.mantissa, m.shift, kMultiplierMinShift, kMultiplierMaxShift));
    }
  }
  void check(const integer::OutputSpec& spec) const {
    if (!is_activation_dtype(spec.dtype)) {
      invalid(where_, fmt::format("output dtype {} is not int8, uint8 or int16", dtype_name(spec.dtype)));
    }
  }
  // Tables are indexed by an input code: one entry per code of the input dtype.
  void check_table(DType input, size_t entries, const char* what) const {
    if (!is_8bit(input) && input != DType::kInt16) {
      invalid(where_, fmt::format("{} input dtype {} is not int8, uint8 or int16", what, dtype_name(input)));
    }
    const size_t expected = input == DType::kInt16 ? 65536 : 256;
    if (entries != expected) {
      invalid(where_, fmt::format("{} has {} entries, expected {}", what, entries, expected));
    }
  }

  const std::string& where_;
};

void check_indices(const std::vector<int>& ids, size_t tensors, bool optional, const std::string& where,
                   const char* what) {
  for (size_t i = 0; i < ids.size(); ++i) {
    const int id = ids[i];
    if ((optional && id == -1) || (id >= 0 && static_cast<size_t>(id) < tensors)) continue;
    invalid(where, fmt::format("{} {} is tensor {}, outside [0, {})", what, i, id, tensors));
  }
}

void validate(const Instruction& ins, size_t tensors, const std::string& where) {
  if (!params_fit(ins.kernel, ins.params)) {
    invalid(where, fmt::format("kernel {} carries {} parameters", compiler::kernel_name(ins.kernel),
                               kParamsNames[ins.params.index()]));
  }
  check_indices(ins.inputs, tensors, true, where, "input");
  check_indices(ins.outputs, tensors, false, where, "output");
  std::visit(ParamsChecker(where), ins.params);
}

// Activations must lie inside the arena the Simulator allocates.
void validate_placement(const ProgramTensor& t, int64_t arena_bytes, const std::string& where) {
  if (t.constant || t.offset == -1) return;
  if (t.offset < 0 || t.offset > arena_bytes || t.bytes() > arena_bytes - t.offset) {
    invalid(where, fmt::format("{} bytes at arena offset {} do not fit the {}-byte arena", t.bytes(),
                               t.offset, arena_bytes));
  }
}

void validate(const ProgramData& data, const std::string& context) {
  for (size_t i = 0; i < data.tensors.size(); ++i) {
    const ProgramTensor& t = data.tensors[i];
    validate_placement(t, data.arena_bytes, fmt::format("{}: tensor {} \"{}\"", context, i, t.info.name));
  }
  for (size_t i = 0; i < data.instructions.size(); ++i) {
    const Instruction& ins = data.instructions[i];
    validate(ins, data.tensors.size(), instruction_where(context, i, ins.op_type, ins.node));
  }
  check_indices(data.inputs, data.tensors.size(), false, context, "model input");
  check_indices(data.outputs, data.tensors.size(), false, context, "model output");
}

// ---- The header.

std::string_view checked_payload(const void* data, size_t size, const std::string& context) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (size == 0) invalid(context, "not a libquant program (.lqm) file: it is empty");
  if (size < sizeof(kMagic) || std::memcmp(bytes, kMagic, sizeof(kMagic)) != 0) {
    invalid(context, "not a libquant program (.lqm) file: it does not start with the .lqm magic number");
  }
  if (size < kHeaderSize) {
    invalid(context, fmt::format("truncated: {} bytes, shorter than the {}-byte header", size, kHeaderSize));
  }
  const auto version = static_cast<uint32_t>(load_le(bytes + 8, 4));
  if (version > kFormatVersion) {
    throw Error(StatusCode::kUnsupported,
                fmt::format("{}: written by format version {}; this libquant reads up to {}: upgrade libquant",
                            context, version, kFormatVersion));
  }
  if (version == 0) invalid(context, "corrupt: the header says format version 0, which does not exist");
  const uint64_t length = load_le(bytes + 12, 8);
  const uint64_t available = size - kHeaderSize;
  if (length > available) {
    invalid(context, fmt::format("truncated: the header records a {}-byte payload, the file holds {} bytes of it",
                                 length, available));
  }
  if (length < available) {
    invalid(context, fmt::format("corrupt: {} unexpected bytes after the payload", available - length));
  }
  const auto stored = static_cast<uint32_t>(load_le(bytes + 20, 4));
  const uint32_t computed = crc32(bytes + kHeaderSize, length);
  if (stored != computed) {
    invalid(context, fmt::format("corrupt: the payload's CRC-32 is {:08x}, the header records {:08x} "
                                 "(the file was damaged after it was written)",
                                 computed, stored));
  }
  return {reinterpret_cast<const char*>(bytes + kHeaderSize), length};
}

// ---- Files.

[[noreturn]] void save_failed(const std::string& path, const std::string& what, int error) {
  throw Error(StatusCode::kIoError,
              fmt::format("cannot save program to '{}': {}: {}", path, what, std::strerror(error)));
}

void write_synced(const std::string& temp, const std::string& bytes, const std::string& path) {
  std::FILE* file = std::fopen(temp.c_str(), "wb");
  if (!file) save_failed(path, fmt::format("cannot create '{}'", temp), errno);
  // fsync before the rename: otherwise a crash can leave the new name on empty blocks.
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size() &&
                       std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
  const int write_error = errno;
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed) {
    save_failed(path, fmt::format("writing '{}' failed", temp), written ? errno : write_error);
  }
}

// The rename is atomic either way; syncing the directory makes it survive a power loss.
// File systems that cannot sync a directory lose only that durability, so it is best effort.
void sync_directory(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::string Program::serialize() const {
  const pb::Program proto = encode(data());
  // Payload first, after room for the header, so the weights are copied only once.
  std::string out(kHeaderSize, '\0');
  if (!proto.AppendToString(&out)) {
    throw Error(StatusCode::kUnsupported,
                fmt::format("program \"{}\" is {} bytes as protobuf; a .lqm file holds at most 2 GiB",
                            data().name, proto.ByteSizeLong()));
  }
  const size_t length = out.size() - kHeaderSize;
  std::memcpy(&out[0], kMagic, sizeof(kMagic));
  store_le(&out[8], kFormatVersion, 4);
  store_le(&out[12], length, 8);
  store_le(&out[20], crc32(reinterpret_cast<const uint8_t*>(out.data()) + kHeaderSize, length), 4);
  return out;
}

void Program::save(const std::string& path) const {
  const std::string bytes = serialize();
  // A temporary beside the target, renamed over it: readers see the old file or the new
  // one, never half of one. The pid keeps concurrent writers' temporaries apart.
  const std::string temp = fmt::format("{}.tmp-{}", path, ::getpid());
  try {
    write_synced(temp, bytes, path);
  } catch (...) {
    std::remove(temp.c_str());
    throw;
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temp.c_str());
    save_failed(path, fmt::format("cannot rename '{}' over it", temp), error);
  }
  sync_directory(path);
}

Program Program::parse(const void* data, size_t size, const std::string& context) {
  const std::string_view payload = checked_payload(data, size, context);
  if (payload.size() > static_cast<size_t>(INT_MAX)) {
    invalid(context, fmt::format("the {}-byte payload exceeds protobuf's 2 GiB limit", payload.size()));
  }
  pb::Program proto;
  if (!proto.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    invalid(context, "corrupt: the payload is not a valid lq.lqm.Program protobuf message");
  }
  ProgramData program = decode(proto, context);
  validate(program, context);
  return Program(std::make_shared<const ProgramData>(std::move(program)));
}

Program Program::load(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw Error(StatusCode::kNotFound,
                fmt::format("cannot open .lqm file '{}': {}", path, std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  if (file.bad()) throw Error(StatusCode::kIoError, fmt::format("reading .lqm file '{}' failed", path));
  const std::string bytes = buffer.str();
  return parse(bytes.data(), bytes.size(), path);
}

}  // namespace lq
