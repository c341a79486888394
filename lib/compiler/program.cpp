// Program: the read-only view of a compiled ProgramData, and its JSON summary.
#include "compiler/program.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace lq {

namespace {

std::vector<ProgramTensorInfo> infos(const compiler::ProgramData& d, const std::vector<int>& ids) {
  std::vector<ProgramTensorInfo> out;
  for (int id : ids) out.push_back(d.tensors[static_cast<size_t>(id)].info);
  return out;
}

std::vector<std::string> names(const compiler::ProgramData& d, const std::vector<int>& ids) {
  std::vector<std::string> out;
  for (int id : ids) out.push_back(id < 0 ? "" : d.tensors[static_cast<size_t>(id)].info.name);
  return out;
}

nlohmann::json tensor_json(const compiler::ProgramTensor& t) {
  nlohmann::json j = {{"name", t.info.name}, {"dtype", dtype_name(t.info.dtype)},
                      {"shape", t.info.shape}, {"bytes", t.bytes()}};
  if (t.info.quantized) {
    j["scale"] = t.info.quant.scale;
    j["zero_point"] = t.info.quant.zero_point;
    if (t.info.quant.per_channel()) j["axis"] = t.info.quant.axis;
  }
  if (t.constant) {
    j["constant"] = true;
  } else {
    j["offset"] = t.offset;
  }
  return j;
}

}  // namespace

Program::Program() : data_(std::make_shared<compiler::ProgramData>()) {}

Program::Program(std::shared_ptr<const compiler::ProgramData> data) : data_(std::move(data)) {
  if (!data_) throw Error(StatusCode::kInternal, "Program built from no data");
}

const compiler::ProgramData& Program::data() const { return *data_; }

std::vector<ProgramTensorInfo> Program::inputs() const { return infos(*data_, data_->inputs); }
std::vector<ProgramTensorInfo> Program::outputs() const { return infos(*data_, data_->outputs); }

std::vector<LayerInfo> Program::layers() const {
  std::vector<LayerInfo> out;
  for (const compiler::Instruction& ins : data_->instructions) {
    LayerInfo layer;
    layer.node = ins.node;
    layer.op_type = ins.op_type;
    layer.kernel = ins.kernel_name();
    if (ins.is_cpu()) layer.cpu_reason = ins.params_as<compiler::CpuOp>().reason;
    layer.inputs = names(*data_, ins.inputs);
    layer.outputs = names(*data_, ins.outputs);
    layer.macs = ins.macs;
    out.push_back(std::move(layer));
  }
  return out;
}

int64_t Program::instruction_count() const {
  return static_cast<int64_t>(data_->instructions.size());
}

int64_t Program::cpu_instruction_count() const {
  return std::count_if(data_->instructions.begin(), data_->instructions.end(),
                       [](const compiler::Instruction& ins) { return ins.is_cpu(); });
}

int64_t Program::peak_activation_bytes() const { return data_->arena_bytes; }

int64_t Program::weight_bytes() const {
  int64_t total = 0;
  for (const compiler::ProgramTensor& t : data_->tensors) {
    if (t.constant) total += static_cast<int64_t>(t.data.nbytes());
  }
  for (const compiler::Instruction& ins : data_->instructions) {
    if (!ins.is_cpu()) total += ins.kernel->table_bytes(ins.params);
  }
  return total;
}

std::string Program::summary_json() const {
  const compiler::ProgramData& d = *data_;
  nlohmann::json layers = nlohmann::json::array();
  std::map<std::string, int> kernels;
  int64_t macs = 0;
  for (const LayerInfo& l : this->layers()) {
    nlohmann::json j = {{"node", l.node}, {"op_type", l.op_type}, {"kernel", l.kernel},
                        {"inputs", l.inputs}, {"outputs", l.outputs}};
    if (l.macs) j["macs"] = l.macs;
    if (!l.cpu_reason.empty()) j["cpu_reason"] = l.cpu_reason;
    layers.push_back(std::move(j));
    ++kernels[l.kernel];
    macs += l.macs;
  }
  nlohmann::json tensors = nlohmann::json::array();
  for (const compiler::ProgramTensor& t : d.tensors) tensors.push_back(tensor_json(t));
  nlohmann::json j = {{"name", d.name},
                      {"target", d.target},
                      {"instructions", instruction_count()},
                      {"integer_instructions", instruction_count() - cpu_instruction_count()},
                      {"cpu_instructions", cpu_instruction_count()},
                      {"kernels", kernels},
                      {"macs", macs},
                      {"peak_activation_bytes", d.arena_bytes},
                      {"weight_bytes", weight_bytes()},
                      {"inputs", names(d, d.inputs)},
                      {"outputs", names(d, d.outputs)},
                      {"layers", layers},
                      {"tensors", tensors}};
  if (!d.estimate_json.empty()) j["estimate"] = nlohmann::json::parse(d.estimate_json);
  return j.dump(2);
}

}  // namespace lq
