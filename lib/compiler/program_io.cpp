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
//
// Nothing here is specific to a kernel: an instruction's parameters go through its
// descriptor (kernels/integer/registry.hpp), field by field, into the kernel's message
// (by protobuf reflection) or into a generic Record; the descriptor checks them.
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
#include <limits>
#include <sstream>
#include <string_view>

#include "compiler/program.hpp"
#include "lq/lqm/program.pb.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "tensor data is stored as raw little-endian bytes; a big-endian host must swap them");

namespace lq {

namespace {

namespace pb = lqm;
namespace gp = google::protobuf;
using compiler::CpuOp;
using compiler::Instruction;
using compiler::ProgramData;
using compiler::ProgramTensor;
using integer::IntegerKernel;
using integer::KernelRegistry;

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

pb::DType encode(DType dtype) {
  for (const auto& [ours, theirs] : kDTypes) {
    if (ours == dtype) return theirs;
  }
  throw Error(StatusCode::kInternal,
              fmt::format("dtype {} has no .lqm code (add it to program.proto)", dtype_name(dtype)));
}

DType decode_dtype(int code, const std::string& where, const char* field) {
  for (const auto& [ours, theirs] : kDTypes) {
    if (theirs == code) return ours;
  }
  invalid(where, fmt::format("{} dtype code {} is unknown", field, code));
}

// ---- ProgramData -> protobuf.

template <typename Values, typename Repeated>
void copy_to(const Values& values, Repeated* out) {
  out->Add(values.begin(), values.end());
}

template <typename T, typename Repeated>
std::vector<T> to_vector(const Repeated& values) {
  return std::vector<T>(values.begin(), values.end());
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

// ---- Kernel parameters <-> protobuf, generically: a params struct's fields() (see
// kernels/integer/registry.hpp) walked against its kernel's message by reflection, or
// against a self-describing Record for kernels without a message. The field names are
// the message's, so a kernel writes exactly the bytes its message's generated code would.

[[noreturn]] void no_proto_field(const gp::Message& m, const char* name) {
  throw Error(StatusCode::kInternal,
              fmt::format("params field \"{}\" has no counterpart in .lqm message {} (program.proto)", name,
                          m.GetDescriptor()->full_name()));
}

const gp::FieldDescriptor* proto_field(const gp::Message& m, const char* name, gp::FieldDescriptor::CppType type,
                                       bool repeated) {
  const gp::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
  if (!f || f->cpp_type() != type || f->is_repeated() != repeated) no_proto_field(m, name);
  return f;
}

using Cpp = gp::FieldDescriptor;

class ProtoWriter final : public integer::FieldVisitor {
 public:
  explicit ProtoWriter(gp::Message* root) : messages_{root} {}

  void field(const char* name, int32_t& v) override { set(name, Cpp::CPPTYPE_INT32, [&](auto* r, auto* m, auto* f) { r->SetInt32(m, f, v); }); }
  void field(const char* name, int64_t& v) override { set(name, Cpp::CPPTYPE_INT64, [&](auto* r, auto* m, auto* f) { r->SetInt64(m, f, v); }); }
  void field(const char* name, bool& v) override { set(name, Cpp::CPPTYPE_BOOL, [&](auto* r, auto* m, auto* f) { r->SetBool(m, f, v); }); }
  void field(const char* name, DType& v) override {
    set(name, Cpp::CPPTYPE_ENUM, [&](auto* r, auto* m, auto* f) { r->SetEnumValue(m, f, encode(v)); });
  }
  void field(const char* name, std::vector<int32_t>& values) override {
    gp::Message* m = messages_.back();
    const gp::FieldDescriptor* f = proto_field(*m, name, Cpp::CPPTYPE_INT32, true);
    for (int32_t v : values) m->GetReflection()->AddInt32(m, f, v);
  }
  void field(const char* name, std::vector<int64_t>& values) override {
    gp::Message* m = messages_.back();
    add_int64s(m, proto_field(*m, name, Cpp::CPPTYPE_INT64, true), values);
  }
  void field(const char* name, const char* inner, std::vector<std::vector<int64_t>>& lists) override {
    gp::Message* m = messages_.back();
    const gp::FieldDescriptor* f = proto_field(*m, name, Cpp::CPPTYPE_MESSAGE, true);
    for (const auto& list : lists) {
      gp::Message* e = m->GetReflection()->AddMessage(m, f);
      add_int64s(e, proto_field(*e, inner, Cpp::CPPTYPE_INT64, true), list);
    }
  }
  size_t begin_structs(const char* name, size_t count, bool repeated) override {
    lists_.push_back(proto_field(*messages_.back(), name, Cpp::CPPTYPE_MESSAGE, repeated));
    return count;
  }
  void begin_struct(size_t) override {
    gp::Message* m = messages_.back();
    const gp::FieldDescriptor* f = lists_.back();
    // Mutable even when empty: the generated code's mutable_*() writes an empty message too.
    messages_.push_back(f->is_repeated() ? m->GetReflection()->AddMessage(m, f)
                                         : m->GetReflection()->MutableMessage(m, f));
  }
  void end_struct() override { messages_.pop_back(); }
  void end_structs() override { lists_.pop_back(); }

 private:
  template <typename Set>
  void set(const char* name, Cpp::CppType type, const Set& assign) {
    gp::Message* m = messages_.back();
    assign(m->GetReflection(), m, proto_field(*m, name, type, false));
  }
  static void add_int64s(gp::Message* m, const gp::FieldDescriptor* f, const std::vector<int64_t>& values) {
    for (int64_t v : values) m->GetReflection()->AddInt64(m, f, v);
  }

  std::vector<gp::Message*> messages_;
  std::vector<const gp::FieldDescriptor*> lists_;
};

// The label decode_dtype names a dtype field by, as the hand-written decoders did:
// "input_dtype" -> "input", an OutputSpec's "dtype" -> the field holding it ("output").
std::string dtype_label(const char* name, const std::vector<std::string>& enclosing) {
  std::string_view n(name);
  if (n == "dtype") return enclosing.empty() ? std::string(n) : enclosing.back();
  constexpr std::string_view suffix = "_dtype";
  if (n.size() > suffix.size() && n.substr(n.size() - suffix.size()) == suffix) n.remove_suffix(suffix.size());
  return std::string(n);
}

class ProtoReader final : public integer::FieldVisitor {
 public:
  ProtoReader(const gp::Message& root, const std::string& where) : messages_{&root}, where_(where) {}

  void field(const char* name, int32_t& v) override { v = refl().GetInt32(top(), find(name, Cpp::CPPTYPE_INT32, false)); }
  void field(const char* name, int64_t& v) override { v = refl().GetInt64(top(), find(name, Cpp::CPPTYPE_INT64, false)); }
  void field(const char* name, bool& v) override { v = refl().GetBool(top(), find(name, Cpp::CPPTYPE_BOOL, false)); }
  void field(const char* name, DType& v) override {
    const int code = refl().GetEnumValue(top(), find(name, Cpp::CPPTYPE_ENUM, false));
    v = decode_dtype(code, where_, dtype_label(name, names_).c_str());
  }
  void field(const char* name, std::vector<int32_t>& values) override {
    const gp::FieldDescriptor* f = find(name, Cpp::CPPTYPE_INT32, true);
    values.resize(static_cast<size_t>(refl().FieldSize(top(), f)));
    for (size_t i = 0; i < values.size(); ++i) values[i] = refl().GetRepeatedInt32(top(), f, static_cast<int>(i));
  }
  void field(const char* name, std::vector<int64_t>& values) override {
    read_int64s(top(), find(name, Cpp::CPPTYPE_INT64, true), values);
  }
  void field(const char* name, const char* inner, std::vector<std::vector<int64_t>>& lists) override {
    const gp::FieldDescriptor* f = find(name, Cpp::CPPTYPE_MESSAGE, true);
    lists.resize(static_cast<size_t>(refl().FieldSize(top(), f)));
    for (size_t i = 0; i < lists.size(); ++i) {
      const gp::Message& e = refl().GetRepeatedMessage(top(), f, static_cast<int>(i));
      read_int64s(e, proto_field(e, inner, Cpp::CPPTYPE_INT64, true), lists[i]);
    }
  }
  size_t begin_structs(const char* name, size_t, bool repeated) override {
    const gp::FieldDescriptor* f = find(name, Cpp::CPPTYPE_MESSAGE, repeated);
    lists_.push_back(f);
    names_.emplace_back(name);
    return repeated ? static_cast<size_t>(refl().FieldSize(top(), f)) : 1;
  }
  void begin_struct(size_t index) override {
    const gp::FieldDescriptor* f = lists_.back();
    messages_.push_back(f->is_repeated() ? &refl().GetRepeatedMessage(top(), f, static_cast<int>(index))
                                         : &refl().GetMessage(top(), f));
  }
  void end_struct() override { messages_.pop_back(); }
  void end_structs() override {
    lists_.pop_back();
    names_.pop_back();
  }

 private:
  const gp::Message& top() const { return *messages_.back(); }
  const gp::Reflection& refl() const { return *top().GetReflection(); }
  const gp::FieldDescriptor* find(const char* name, Cpp::CppType type, bool repeated) const {
    return proto_field(top(), name, type, repeated);
  }
  static void read_int64s(const gp::Message& m, const gp::FieldDescriptor* f, std::vector<int64_t>& values) {
    const gp::Reflection& r = *m.GetReflection();
    values.resize(static_cast<size_t>(r.FieldSize(m, f)));
    for (size_t i = 0; i < values.size(); ++i) values[i] = r.GetRepeatedInt64(m, f, static_cast<int>(i));
  }

  std::vector<const gp::Message*> messages_;
  std::vector<const gp::FieldDescriptor*> lists_;
  std::vector<std::string> names_;  // of the enclosing struct fields
  const std::string& where_;
};

// Records: every field is written, by name; a reader takes what it finds by name.
class RecordWriter final : public integer::FieldVisitor {
 public:
  explicit RecordWriter(pb::Record* root) : records_{root} {}

  void field(const char* name, int32_t& v) override { add(name)->add_ints(v); }
  void field(const char* name, int64_t& v) override { add(name)->add_ints(v); }
  void field(const char* name, bool& v) override { add(name)->add_ints(v ? 1 : 0); }
  void field(const char* name, DType& v) override { add(name)->add_ints(encode(v)); }
  void field(const char* name, std::vector<int32_t>& values) override { copy_to(values, add(name)->mutable_ints()); }
  void field(const char* name, std::vector<int64_t>& values) override { copy_to(values, add(name)->mutable_ints()); }
  void field(const char* name, const char* inner, std::vector<std::vector<int64_t>>& lists) override {
    pb::Record::Field* f = add(name);
    for (const auto& list : lists) {
      pb::Record::Field* e = f->add_records()->add_fields();
      e->set_name(inner);
      copy_to(list, e->mutable_ints());
    }
  }
  size_t begin_structs(const char* name, size_t count, bool) override {
    lists_.push_back(add(name));
    return count;
  }
  void begin_struct(size_t) override { records_.push_back(lists_.back()->add_records()); }
  void end_struct() override { records_.pop_back(); }
  void end_structs() override { lists_.pop_back(); }

 private:
  pb::Record::Field* add(const char* name) {
    pb::Record::Field* f = records_.back()->add_fields();
    f->set_name(name);
    return f;
  }

  std::vector<pb::Record*> records_;
  std::vector<pb::Record::Field*> lists_;
};

const pb::Record::Field* record_field(const pb::Record& record, const char* name) {
  for (const pb::Record::Field& f : record.fields()) {
    if (f.name() == name) return &f;
  }
  return nullptr;
}

class RecordReader final : public integer::FieldVisitor {
 public:
  RecordReader(const pb::Record& root, const std::string& where) : records_{&root}, where_(where) {}

  void field(const char* name, int32_t& v) override {
    if (const int64_t* x = scalar(name)) v = narrow<int32_t>(*x, name);
  }
  void field(const char* name, int64_t& v) override {
    if (const int64_t* x = scalar(name)) v = *x;
  }
  void field(const char* name, bool& v) override {
    if (const int64_t* x = scalar(name)) v = *x != 0;
  }
  void field(const char* name, DType& v) override {
    if (const int64_t* x = scalar(name)) v = decode_dtype(narrow<int32_t>(*x, name), where_, dtype_label(name, names_).c_str());
  }
  void field(const char* name, std::vector<int32_t>& values) override {
    if (const pb::Record::Field* f = record_field(*records_.back(), name)) {
      values.clear();
      for (int64_t x : f->ints()) values.push_back(narrow<int32_t>(x, name));
    }
  }
  void field(const char* name, std::vector<int64_t>& values) override {
    if (const pb::Record::Field* f = record_field(*records_.back(), name)) values = to_vector<int64_t>(f->ints());
  }
  void field(const char* name, const char* inner, std::vector<std::vector<int64_t>>& lists) override {
    const pb::Record::Field* f = record_field(*records_.back(), name);
    if (!f) return;
    lists.clear();
    for (const pb::Record& r : f->records()) {
      const pb::Record::Field* e = record_field(r, inner);
      lists.push_back(e ? to_vector<int64_t>(e->ints()) : std::vector<int64_t>{});
    }
  }
  size_t begin_structs(const char* name, size_t, bool repeated) override {
    const pb::Record::Field* f = record_field(*records_.back(), name);
    lists_.push_back(f);
    names_.emplace_back(name);
    if (!repeated) return 1;  // visited against an empty record when absent: defaults stay
    return f ? static_cast<size_t>(f->records_size()) : 0;
  }
  void begin_struct(size_t index) override {
    const pb::Record::Field* f = lists_.back();
    const bool present = f && static_cast<int>(index) < f->records_size();
    records_.push_back(present ? &f->records(static_cast<int>(index)) : &pb::Record::default_instance());
  }
  void end_struct() override { records_.pop_back(); }
  void end_structs() override {
    lists_.pop_back();
    names_.pop_back();
  }

 private:
  const int64_t* scalar(const char* name) const {
    const pb::Record::Field* f = record_field(*records_.back(), name);
    return f && f->ints_size() > 0 ? &*f->ints().begin() : nullptr;
  }
  template <typename T>
  T narrow(int64_t x, const char* name) const {
    if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max()) {
      invalid(where_, fmt::format("record field {} value {} does not fit its type", name, x));
    }
    return static_cast<T>(x);
  }

  std::vector<const pb::Record*> records_;
  std::vector<const pb::Record::Field*> lists_;
  std::vector<std::string> names_;
  const std::string& where_;
};

// The kernel's parameters into its member of the oneof. In memory a kernel may carry
// another kernel's parameters (tests build such programs): they are written as what they
// are, under the instruction's kernel code, and reading the file rejects the pair.
void encode_params(const Instruction& ins, pb::Instruction* out) {
  const IntegerKernel* writer = ins.kernel->holds_params(ins.params)
                                    ? ins.kernel
                                    : integer::kernel_registry().find_by_params(ins.params.type());
  if (!writer) {
    throw Error(StatusCode::kInternal, fmt::format("{} node \"{}\": the {} kernel's parameters are of no known kernel",
                                                   ins.op_type, ins.node, ins.kernel->name()));
  }
  if (writer->proto_field().empty()) {
    RecordWriter w(out->mutable_record());
    writer->write_fields(ins.params, w);
    return;
  }
  const gp::FieldDescriptor* f = out->GetDescriptor()->FindFieldByName(writer->proto_field());
  if (!f || f->cpp_type() != Cpp::CPPTYPE_MESSAGE || !f->containing_oneof()) {
    no_proto_field(*out, writer->proto_field().c_str());
  }
  ProtoWriter w(out->GetReflection()->MutableMessage(out, f));
  writer->write_fields(ins.params, w);
}

void encode_cpu(const CpuOp& p, pb::Instruction* ins) {
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
    p->set_kernel(static_cast<pb::Kernel>(ins.is_cpu() ? compiler::kCpuKernelCode : ins.kernel->code()));
    p->set_node(ins.node);
    p->set_op_type(ins.op_type);
    copy_to(ins.inputs, p->mutable_inputs());
    copy_to(ins.outputs, p->mutable_outputs());
    p->set_macs(ins.macs);
    if (ins.is_cpu()) {
      encode_cpu(ins.params_as<CpuOp>(), p);
    } else {
      encode_params(ins, p);
    }
  }
  copy_to(data.inputs, out.mutable_inputs());
  copy_to(data.outputs, out.mutable_outputs());
  out.set_arena_bytes(data.arena_bytes);
  return out;
}

// ---- protobuf -> ProgramData. Decoding rejects what the C++ types cannot hold (unknown
// enum codes, data of the wrong size, an unparsable graph); validate() does the rest.

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

// What names the parameters a oneof member holds in errors: the first kernel storing them there.
std::string params_name(const gp::FieldDescriptor& member, const KernelRegistry& registry) {
  if (member.number() == pb::Instruction::kCpu) return compiler::kCpuKernelName;
  if (member.number() == pb::Instruction::kRecord) return "record";
  const IntegerKernel* k = registry.find_by_field(member.name());
  return k ? k->name() : member.name();
}

// The instruction's parameters: a CPU op, or `kernel`'s params struct from its message.
std::any decode_params(const pb::Instruction& ins, const IntegerKernel* kernel, const KernelRegistry& registry,
                       const std::string& where) {
  if (ins.params_case() == pb::Instruction::PARAMS_NOT_SET) invalid(where, "has no kernel parameters");
  const gp::FieldDescriptor* member =
      ins.GetReflection()->GetOneofFieldDescriptor(ins, pb::Instruction::descriptor()->FindOneofByName("params"));
  const std::string expected = !kernel ? "cpu" : kernel->proto_field().empty() ? "record" : kernel->proto_field();
  if (member->name() != expected) {
    invalid(where, fmt::format("kernel {} carries {} parameters", kernel ? kernel->name() : compiler::kCpuKernelName,
                               params_name(*member, registry)));
  }
  if (!kernel) return decode(ins.cpu(), where);
  if (kernel->proto_field().empty()) {
    RecordReader reader(ins.record(), where);
    return kernel->read_fields(reader);
  }
  ProtoReader reader(ins.GetReflection()->GetMessage(ins, member), where);
  return kernel->read_fields(reader);
}

std::string instruction_where(const std::string& context, size_t index, const std::string& op_type,
                              const std::string& node) {
  return fmt::format("{}: instruction {} ({} node \"{}\")", context, index, op_type, node);
}

Instruction decode(const pb::Instruction& ins, const KernelRegistry& registry, const std::string& where) {
  Instruction out;
  if (ins.kernel() != compiler::kCpuKernelCode) {
    out.kernel = registry.find(ins.kernel());
    if (!out.kernel) invalid(where, fmt::format("unknown kernel code {}", ins.kernel()));
  }
  out.node = ins.node();
  out.op_type = ins.op_type();
  out.inputs = to_vector<int>(ins.inputs());
  out.outputs = to_vector<int>(ins.outputs());
  out.params = decode_params(ins, out.kernel, registry, where);
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

ProgramData decode(const pb::Program& proto, const KernelRegistry& registry, const std::string& context) {
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
    data.instructions.push_back(decode(ins, registry, instruction_where(context, index, ins.op_type(), ins.node())));
  }
  data.inputs = to_vector<int>(proto.inputs());
  data.outputs = to_vector<int>(proto.outputs());
  data.arena_bytes = proto.arena_bytes();
  return data;
}

// ---- Semantic checks on the decoded program.

void check_indices(const std::vector<int>& ids, size_t tensors, bool optional, const std::string& where,
                   const char* what) {
  for (size_t i = 0; i < ids.size(); ++i) {
    const int id = ids[i];
    if ((optional && id == -1) || (id >= 0 && static_cast<size_t>(id) < tensors)) continue;
    invalid(where, fmt::format("{} {} is tensor {}, outside [0, {})", what, i, id, tensors));
  }
}

void validate(const Instruction& ins, size_t tensors, const std::string& where) {
  check_indices(ins.inputs, tensors, true, where, "input");
  check_indices(ins.outputs, tensors, false, where, "output");
  if (ins.is_cpu()) {
    const CpuOp& op = ins.params_as<CpuOp>();
    if (op.graph->num_nodes() != 1) {
      invalid(where, fmt::format("its CPU graph has {} nodes, expected 1", op.graph->num_nodes()));
    }
    return;
  }
  // What the integer kernels rely on without checking (multiplier ranges, shift widths,
  // table sizes): the descriptor's generic and own checks.
  const std::string problem = ins.kernel->check(ins.params);
  if (!problem.empty()) invalid(where, problem);
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
  // The arena is allocated by each run: a file may not ask for more than a model may take.
  if (data.arena_bytes < 0) invalid(context, fmt::format("arena of {} bytes", data.arena_bytes));
  check_model_size(data.arena_bytes, ResourceLimits{}, fmt::format("{}: the activation arena's bytes", context));
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

Program compiler::parse_program(const void* data, size_t size, const std::string& context,
                                const integer::KernelRegistry& registry) {
  const std::string_view payload = checked_payload(data, size, context);
  if (payload.size() > static_cast<size_t>(INT_MAX)) {
    invalid(context, fmt::format("the {}-byte payload exceeds protobuf's 2 GiB limit", payload.size()));
  }
  pb::Program proto;
  if (!proto.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    invalid(context, "corrupt: the payload is not a valid lq.lqm.Program protobuf message");
  }
  ProgramData program = decode(proto, registry, context);
  validate(program, context);
  return Program(std::make_shared<const ProgramData>(std::move(program)));
}

Program Program::parse(const void* data, size_t size, const std::string& context) {
  return compiler::parse_program(data, size, context, integer::kernel_registry());
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
