// Fake quantization and the error measures every search and report uses.
#include <algorithm>
#include <cmath>

#include "analysis/searches.hpp"

namespace lq {

double relative_error(const Tensor& got, const Tensor& want) {
  if (got.dtype() != DType::kFloat32 || want.dtype() != DType::kFloat32) return 0.0;
  const float* g = got.data<float>();
  const float* w = want.data<float>();
  double signal = 0.0, noise = 0.0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    signal += static_cast<double>(w[i]) * w[i];
    noise += static_cast<double>(g[i] - w[i]) * (g[i] - w[i]);
  }
  return noise / std::max(signal, 1e-30);
}

// int16 x int16 products accumulate in int64, where the bias at scale input x weight is

Simulator fake_quant_simulator(const QuantizedGraph& qgraph, SimulatorOptions options) {
  options.transform = [&qgraph](const Value& value, const Tensor& data) {
    const QuantParams* p = qgraph.find(value.name());
    if (!p || data.dtype() != DType::kFloat32) return data;
    return fake_quantize(data, *p);
  };
  return Simulator(qgraph.graph, options);
}


std::map<std::string, double> snr_db(const std::vector<TensorMap>& reference,
                                     const std::vector<TensorMap>& measured) {
  std::map<std::string, std::pair<double, double>> power;  // output -> (signal, noise)
  for (size_t s = 0; s < reference.size() && s < measured.size(); ++s) {
    for (const auto& [name, w] : reference[s]) {
      if (w.dtype() != DType::kFloat32) continue;
      const float* a = w.data<float>();
      const float* b = measured[s].at(name).data<float>();
      for (int64_t i = 0; i < w.numel(); ++i) {
        power[name].first += static_cast<double>(a[i]) * a[i];
        power[name].second += static_cast<double>(a[i] - b[i]) * (a[i] - b[i]);
      }
    }
  }
  std::map<std::string, double> snr;
  for (const auto& [name, p] : power) {
    snr[name] = 10.0 * std::log10(std::max(p.first, 1e-30) / std::max(p.second, 1e-30));
  }
  return snr;
}

std::map<std::string, double> output_snr_db(const QuantizedGraph& qgraph,
                                            const std::vector<TensorMap>& samples, int threads) {
  SimulatorOptions options;
  options.threads = threads;
  const Simulator reference(qgraph.graph, options);
  const Simulator fake = fake_quant_simulator(qgraph, options);
  std::vector<TensorMap> want, got;
  for (const TensorMap& sample : samples) {
    want.push_back(reference.run(sample));
    got.push_back(fake.run(sample));
  }
  return snr_db(want, got);
}

namespace analysis {

GlobalScore::GlobalScore(const QuantizedGraph& q, const std::vector<TensorMap>& samples)
    : samples_(samples), simulator_(fake_quant_simulator(q)) {
  const Simulator reference(q.graph);
  for (const TensorMap& s : samples_) expected_.push_back(reference.run(s));
}

double GlobalScore::error() const {
  double total = 0.0;
  for (size_t i = 0; i < samples_.size(); ++i) {
    const TensorMap got = simulator_.run(samples_[i]);
    for (const auto& [name, want] : expected_[i]) total += relative_error(got.at(name), want);
  }
  return total;
}

}  // namespace analysis

}  // namespace lq
