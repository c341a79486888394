// Calibrator: weight statistics once, activation statistics from one float run per sample.
#include "libquant/calibrator.hpp"
#include "calibration/accumulate.hpp"
#include "calibration/lmdb_samples.hpp"
#include "kernels/thread_pool.hpp"
#include "graph/nearest_name.hpp"
#include "graph/roles.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <memory>
#include <random>

namespace lq {

namespace {

namespace fs = std::filesystem;

// The output-channel axis of each weight (what per-channel quantization splits), by the
// first op that reads it as a weight.
std::map<const Value*, int> weight_channel_axes(const Graph& graph) {
  std::map<const Value*, int> axes;
  for (const Node* node : graph.nodes()) {
    const Value* weight = node->input(1);
    if (!weight || roles::input_role(*node, 1) != roles::InputRole::kWeight) continue;
    const int axis = roles::weight_channel_axis(*node, *weight->initializer());
    if (axis >= 0) axes.emplace(weight, axis);
  }
  return axes;
}

std::vector<const Value*> model_inputs(const Graph& graph) {
  std::vector<const Value*> inputs;
  for (const Value* v : graph.inputs()) {
    if (!v->is_constant()) inputs.push_back(v);
  }
  return inputs;
}

std::string lowercase_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

bool is_sample_file(const fs::path& path, bool images) {
  const std::string ext = lowercase_extension(path);
  if (!images) return ext == ".npy";
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

// One sample of one input: a file, or a record of an LMDB database.
struct SampleFile {
  std::string path;                                   // empty for a record
  std::shared_ptr<const calibration::LmdbSamples> db;  // the record's database
  size_t record = 0;
};

// The source's files in order: listed files as given, folders' sample files sorted by name,
// LMDB databases' records in key order.
std::vector<SampleFile> sample_files(const std::string& input, const CalibrationSource& source) {
  std::vector<SampleFile> files;
  for (const std::string& path : source.paths) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      throw Error(
          StatusCode::kNotFound,
          fmt::format("calibration source for input \"{}\": \"{}\" does not exist", input, path));
    }
    if (calibration::is_lmdb(path)) {
      if (source.images) {
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("calibration source for input \"{}\": LMDB \"{}\" holds .npy records, "
                                "not pictures; give it without the picture option (--images)", input, path));
      }
      auto db = std::make_shared<const calibration::LmdbSamples>(path);
      for (size_t r = 0; r < db->size(); ++r) files.push_back(SampleFile{"", db, r});
      continue;
    }
    if (!fs::is_directory(path, ec)) {
      files.push_back(SampleFile{path, nullptr, 0});
      continue;
    }
    std::vector<std::string> listed;
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.is_regular_file() && is_sample_file(entry.path(), source.images)) {
        listed.push_back(entry.path().string());
      }
    }
    if (listed.empty()) {
      throw Error(
          StatusCode::kInvalidArgument,
          fmt::format("calibration source for input \"{}\": folder \"{}\" holds no {}", input, path,
                      source.images ? "pictures (.png, .jpg, .jpeg, .bmp)" : ".npy files"));
    }
    std::sort(listed.begin(), listed.end());
    for (std::string& file : listed) files.push_back(SampleFile{std::move(file), nullptr, 0});
  }
  if (files.empty()) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("calibration source for input \"{}\" lists no files", input));
  }
  return files;
}

// A loaded file made to fit the input: floats cast to the declared float type, and a
// missing leading batch dimension of 1 added (arrays saved without it are common).
Tensor fit_to_input(const Value& input, Tensor data) {
  const TensorType& type = input.type();
  if (type.dtype != DType::kUndefined && data.dtype() != type.dtype &&
      dtype_is_float(data.dtype()) && dtype_is_float(type.dtype)) {
    data = data.cast(type.dtype);
  }
  if (type.has_shape && data.rank() + 1 == type.dims.size() &&
      (!type.dims[0].known() || type.dims[0].value == 1)) {
    Shape shape = data.shape();
    shape.insert(shape.begin(), 1);
    data = data.reshaped(shape);
  }
  return data;
}

// The batch size to split a sample into when the model takes batch 1 but the files hold
// batch N (every input must then hold the same N); 1 when the sample runs as it is.
int64_t split_count(const Graph& graph, const TensorMap& sample) {
  int64_t count = 1;
  std::string first;
  for (const auto& [name, data] : sample) {
    const TensorType& type = graph.value(name).type();
    const bool takes_one = type.has_shape && !type.dims.empty() && type.dims[0].value == 1;
    const int64_t batch = data.rank() > 0 ? data.dim(0) : 1;
    const int64_t pieces = takes_one && data.rank() == type.dims.size() && batch > 1 ? batch : 1;
    if (!first.empty() && pieces != count) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("input \"{}\" holds {} batch-1 samples but input \"{}\" holds {}; "
                              "give every input files with the same batch size",
                              name, pieces, first, count));
    }
    count = pieces;
    first = name;
  }
  return count;
}

// Item `index` of the leading (batch) dimension, sharing the buffer.
Tensor batch_item(const Tensor& data, int64_t index) {
  Shape shape = data.shape();
  shape[0] = 1;
  const size_t item_bytes = data.nbytes() / static_cast<size_t>(data.dim(0));
  auto* base = static_cast<char*>(const_cast<void*>(data.raw()));
  return Tensor::borrow(data.dtype(), shape, base + static_cast<size_t>(index) * item_bytes);
}

SimulatorOptions simulator_options(int threads) {
  SimulatorOptions options;
  options.threads = threads;
  return options;
}

std::string quoted_names(const std::vector<const Value*>& values) {
  std::string names;
  for (const Value* v : values) names += (names.empty() ? "\"" : ", \"") + v->name() + "\"";
  return names;
}

}  // namespace

struct Calibrator::Impl {
  Impl(const Graph& g, CalibrationOptions o)
      : graph(g), options(std::move(o)), simulator(g, simulator_options(options.threads)) {
    // The statistics of each tensor are split over threads of their own (the Simulator's
    // pool runs the kernels): the same statistics, bit for bit, for any thread count.
    if (options.threads > 1) {
      pool = std::make_unique<kernels::ThreadPool>(options.threads);
      parallel = [this](int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
        pool->parallel_for(n, fn);
      };
    }
  }

  void add(TensorStats& stats, const Tensor& data) { calibration::accumulate(stats, data, parallel); }

  TensorStats& stats_for(const std::string& name) {
    auto it = table.tensors.find(name);
    if (it != table.tensors.end()) return it->second;
    TensorStats fresh;
    fresh.histogram = Histogram(options.histogram_bins);
    return table.tensors.emplace(name, std::move(fresh)).first->second;
  }

  void add_weights() {
    table.model_fingerprint = calibration_fingerprint(graph);
    table.keep_limit = options.keep_samples;
    const auto axes = weight_channel_axes(graph);
    for (const Value* v : graph.initializers()) {
      if (!dtype_is_float(v->initializer()->dtype())) continue;
      TensorStats& stats = stats_for(v->name());
      auto axis = axes.find(v);
      stats.channel_axis = axis == axes.end() ? -1 : axis->second;
      stats.constant = true;
      add(stats, *v->initializer());
    }
  }

  // `order`: the sample's place in the whole calibration set (KeptSample::order).
  void run(const TensorMap& inputs, uint64_t order) {
    simulator.run(inputs, [this](const Value& value, const Tensor& data) {
      if (data.dtype() == DType::kFloat32) add(stats_for(value.name()), data);
    });
    // Inputs count only once the run accepted them.
    for (const auto& [name, data] : inputs) {
      if (data.dtype() == DType::kFloat32) add(stats_for(name), data);
    }
    if (kept.size() < options.keep_samples) {
      kept.push_back(inputs);
      table.kept.push_back(KeptSample{order, inputs});
    }
    ++table.samples;
  }

  // Sample `index` of every input's files, run as batch-1 pieces if the model needs them.
  void run_files(const std::vector<const Value*>& inputs,
                 const std::vector<std::vector<SampleFile>>& files,
                 const std::map<std::string, CalibrationSource>& sources, size_t index) {
    TensorMap sample;
    std::string paths;
    for (size_t k = 0; k < inputs.size(); ++k) {
      const SampleFile& file = files[k][index];
      const CalibrationSource& source = sources.at(inputs[k]->name());
      Tensor data = file.db            ? file.db->read(file.record)
                    : source.images    ? load_image(file.path, source.preprocess)
                                       : load_npy(file.path);
      const std::string where = file.db ? "LMDB " + file.db->describe(file.record) : file.path;
      data = fit_to_input(*inputs[k], std::move(data));
      check_same_shape(*inputs[k], where, data);
      sample[inputs[k]->name()] = std::move(data);
      paths += (paths.empty() ? "" : ", ") + where;
    }
    try {
      const int64_t pieces = split_count(graph, sample);
      const uint64_t order = static_cast<uint64_t>(index) << 20;
      if (pieces == 1) return run(sample, order);
      for (int64_t piece = 0; piece < pieces; ++piece) {
        TensorMap item;
        for (const auto& [name, data] : sample) item[name] = batch_item(data, piece);
        run(item, order | static_cast<uint64_t>(piece));
      }
    } catch (const Error& e) {
      throw Error(e.code(),
                  fmt::format("calibration sample {} ({}): {}", index + 1, paths, e.what()));
    }
  }

  // One input's files must agree on their shape: the Program is compiled for one shape, and
  // a stray file in a folder would otherwise pass unnoticed on a model with dynamic shapes.
  // Files split into batch-1 samples (split_count) may differ in their batch size.
  void check_same_shape(const Value& model_input, const std::string& path, const Tensor& data) {
    const std::string& input = model_input.name();
    const TensorType& type = model_input.type();
    const bool split = type.has_shape && !type.dims.empty() && type.dims[0].value == 1 &&
                       data.rank() == type.dims.size();
    const auto item_shape = [split](const Shape& shape) {
      return split ? Shape(shape.begin() + 1, shape.end()) : shape;
    };
    const auto [first, fresh] = file_shapes.emplace(input, std::make_pair(data.shape(), path));
    if (fresh || item_shape(first->second.first) == item_shape(data.shape())) return;
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("calibration file '{}' for input \"{}\" has shape {}, but '{}' has {}; "
                            "every sample of an input needs the same shape",
                            path, input, shape_str(data.shape()), first->second.second,
                            shape_str(first->second.first)));
  }

  const Graph& graph;
  CalibrationOptions options;
  std::map<std::string, std::pair<Shape, std::string>> file_shapes;  // input -> first file's
  Simulator simulator;
  std::unique_ptr<kernels::ThreadPool> pool;  // threads > 1: for the statistics
  calibration::ParallelFor parallel;
  CalibrationTable table;
  std::vector<TensorMap> kept;
  uint64_t added = 0;  // add_sample calls: their order after any files
};

Calibrator::Calibrator(const Graph& graph, CalibrationOptions options)
    : impl_(std::make_unique<Impl>(graph, std::move(options))) {
  Histogram check(impl_->options.histogram_bins);  // rejects a bad bin count up front
  impl_->add_weights();
}

Calibrator::~Calibrator() = default;

const CalibrationTable& Calibrator::table() const { return impl_->table; }

const std::vector<TensorMap>& Calibrator::kept_samples() const { return impl_->kept; }

void Calibrator::add_sample(const TensorMap& inputs) { impl_->run(inputs, impl_->added++ << 20); }

void Calibrator::add_sources(const std::map<std::string, CalibrationSource>& sources) {
  const std::vector<const Value*> inputs = model_inputs(impl_->graph);
  for (const auto& entry : sources) {
    const std::string& name = entry.first;
    const bool known = std::any_of(inputs.begin(), inputs.end(),
                                   [&](const Value* v) { return v->name() == name; });
    if (!known) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("calibration source \"{}\" names no model input; the model inputs "
                              "are {}",
                              name, quoted_names(inputs)));
    }
  }
  std::vector<std::vector<SampleFile>> files;
  for (const Value* input : inputs) {
    auto it = sources.find(input->name());
    if (it == sources.end()) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("model input \"{}\" ({}) has no calibration source; give one (.npy "
                              "files, a folder of them, or pictures) for every model input",
                              input->name(), input->type().str()));
    }
    files.push_back(sample_files(input->name(), it->second));
    if (files.back().size() != files.front().size()) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("calibration inputs have different sample counts: \"{}\" has {}, "
                              "\"{}\" has {}; give every input the same number of samples "
                              "(files are paired in sorted order)",
                              inputs.front()->name(), files.front().size(), input->name(),
                              files.back().size()));
    }
  }
  const auto all = static_cast<int64_t>(files.empty() ? 0 : files.front().size());
  const CalibrationOptions& o = impl_->options;
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("calibration shard {}/{}: the index must be in [0, count) and the count >= 1",
                            o.shard_index, o.shard_count));
  }
  // Contiguous blocks: shard i holds samples [i * block, (i + 1) * block) of the sorted files.
  const int64_t block = (all + o.shard_count - 1) / o.shard_count;
  const int64_t first = std::min(all, block * o.shard_index);
  const int64_t end = std::min(all, first + block);
  for (int64_t i = first; i < end; ++i) {
    impl_->run_files(inputs, files, sources, static_cast<size_t>(i));
    if (o.progress) o.progress(i - first + 1, end - first);
  }
}

void parse_shard(const std::string& text, CalibrationOptions& options, const std::string& what) {
  const size_t slash = text.find('/');
  int index = -1, count = 0;
  try {
    size_t used = 0;
    if (slash != std::string::npos) {
      index = std::stoi(text.substr(0, slash), &used);
      if (used != slash) index = -1;
      count = std::stoi(text.substr(slash + 1), &used);
      if (used != text.size() - slash - 1) count = 0;
    }
  } catch (const std::exception&) {
    index = -1;
  }
  if (index < 0 || count < 1 || index >= count) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("{}: '{}' is not a shard I/N with 0 <= I < N (e.g. 0/4 ... 3/4)", what, text));
  }
  options.shard_index = index;
  options.shard_count = count;
}

void add_random_samples(Calibrator& calibrator, const Graph& graph, const std::map<std::string, Range>& input_ranges,
                        int samples, uint32_t seed) {
  for (const auto& [name, range] : input_ranges) {
    const Value* v = graph.find_value(name);
    if (!v || !v->is_graph_input()) {
      std::vector<std::string> names;
      for (const Value* in : graph.inputs()) names.push_back(in->name());
      const std::string nearest = nearest_name(name, names);
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("input range for \"{}\": the model has no such input{}", name,
                              nearest.empty() ? "" : fmt::format("; did you mean \"{}\"?", nearest)));
    }
    if (!std::isfinite(range.min) || !std::isfinite(range.max) || !(range.min < range.max)) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("input range for \"{}\": [{}, {}] must be finite with min < max", name,
                              range.min, range.max));
    }
  }
  for (const Value* in : graph.inputs()) {
    if (!in->type().is_static()) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("input \"{}\" has dynamic shape {}; with the range method skip and no "
                              "calibration data, random inputs stand in and need its shape",
                              in->name(), in->type().str()));
    }
    if (in->type().dtype != DType::kFloat32) {
      throw Error(StatusCode::kUnsupported,
                  fmt::format("input \"{}\" is {}: random inputs (range method skip without data) are "
                              "float32 only; give calibration data",
                              in->name(), dtype_name(in->type().dtype)));
    }
  }
  std::mt19937 rng(seed);
  for (int s = 0; s < samples; ++s) {
    TensorMap sample;
    for (const Value* in : graph.inputs()) {
      const auto given = input_ranges.find(in->name());
      const Range range = given == input_ranges.end() ? Range{-1.0, 1.0} : given->second;
      std::uniform_real_distribution<float> uniform(static_cast<float>(range.min), static_cast<float>(range.max));
      Tensor t(DType::kFloat32, in->type().static_shape());
      float* p = t.data<float>();
      for (int64_t i = 0; i < t.numel(); ++i) p[i] = uniform(rng);
      sample[in->name()] = t;
    }
    calibrator.add_sample(sample);
  }
}

}  // namespace lq
