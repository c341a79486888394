#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "libquant/calibrator.hpp"

using namespace lq;
namespace fs = std::filesystem;

namespace {

Tensor floats(const std::vector<float>& values) {
  return Tensor::from_vector<float>({static_cast<int64_t>(values.size())}, values);
}

TensorStats stats_of(const std::vector<float>& values, int bins = 2048) {
  TensorStats stats;
  stats.histogram = Histogram(bins);
  accumulate(stats, floats(values));
  return stats;
}

std::vector<float> normal_samples(size_t n, double sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(normal(rng));
  return v;
}

Range range_of(const TensorStats& stats, RangeMethod method, bool symmetric = true) {
  RangeOptions o;
  o.method = method;
  o.symmetric = symmetric;
  return choose_range(stats, o);
}

// Squared error of symmetric int8 quantize-dequantize of `x` with clip a (scale a/127).
double int8_error(const std::vector<float>& x, double a) {
  const double scale = a / 127.0;
  double sum = 0.0;
  for (float v : x) {
    const double q = std::clamp(std::nearbyint(v / scale), -127.0, 127.0) * scale;
    sum += (v - q) * (v - q);
  }
  return sum;
}

// A histogram of `values` binned directly at `limit`, the way Histogram bins them.
std::vector<uint64_t> direct_counts(const std::vector<float>& values, double limit, int bins) {
  std::vector<uint64_t> counts(static_cast<size_t>(bins), 0);
  const double width = 2.0 * limit / bins;
  for (float v : values) counts[static_cast<size_t>(std::floor(v / width) + bins / 2)]++;
  return counts;
}

}  // namespace

// ---- Histogram --------------------------------------------------------------------------

TEST_CASE("histogram: the first value sets a power-of-two limit, zeros sit above 0",
          "[calibration]") {
  Histogram h(8);
  REQUIRE(h.limit() == 0.0);
  const float zeros[] = {0.0f, 0.0f};
  h.add(zeros, 2);
  REQUIRE(h.limit() == 0.0);
  REQUIRE(h.total() == 2);
  const float values[] = {0.3f, -0.1f, 0.0f};
  h.add(values, 3);
  REQUIRE(h.limit() == 0.5);  // bins of 0.125 over [-0.5, 0.5)
  REQUIRE(h.counts() == std::vector<uint64_t>{0, 0, 0, 1, 3, 0, 1, 0});
  // 1.5 needs two doublings: [-2, 2) with bins of 0.5; -0.1 stays below zero.
  const float big[] = {1.5f};
  h.add(big, 1);
  REQUIRE(h.limit() == 2.0);
  REQUIRE(h.counts() == std::vector<uint64_t>{0, 0, 0, 1, 4, 0, 0, 1});
  REQUIRE(h.abs_counts() == std::vector<uint64_t>{5, 0, 0, 1});
  // A power of two itself does not fit below itself.
  Histogram exact(4);
  const float one[] = {1.0f};
  exact.add(one, 1);
  REQUIRE(exact.limit() == 2.0);
}

TEST_CASE("histogram: growth keeps every count where direct binning puts it", "[calibration]") {
  // Magnitudes grow over six decades, so the limit doubles many times along the way.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::vector<float> values;
  Histogram h(64);
  for (int round = 0; round < 20; ++round) {
    std::vector<float> batch(500);
    for (float& v : batch) v = static_cast<float>(unit(rng) * std::pow(2.0, round));
    batch[0] = 0.0f;
    batch[1] = std::nanf("");
    batch[2] = std::numeric_limits<float>::infinity();
    h.add(batch.data(), static_cast<int64_t>(batch.size()));
    for (float v : batch) {
      if (std::isfinite(v)) values.push_back(v);
    }
  }
  REQUIRE(h.total() == values.size());  // NaN and inf are not counted
  const double largest = std::fabs(*std::max_element(
      values.begin(), values.end(), [](float a, float b) { return std::fabs(a) < std::fabs(b); }));
  REQUIRE(h.limit() > largest);
  REQUIRE(h.limit() <= 2.0 * largest);
  REQUIRE(h.counts() == direct_counts(values, h.limit(), 64));

  // Merging is binning the union.
  Histogram small(64), large(64);
  const std::vector<float> a(values.begin(), values.begin() + 100);
  const std::vector<float> b(values.begin() + 100, values.end());
  small.add(a.data(), static_cast<int64_t>(a.size()));
  large.add(b.data(), static_cast<int64_t>(b.size()));
  Histogram merged = small;
  merged.merge(large);
  REQUIRE(merged.limit() == h.limit());
  REQUIRE(merged.counts() == h.counts());
  large.merge(small);
  REQUIRE(large.counts() == h.counts());
  Histogram empty(64);
  empty.merge(h);
  REQUIRE(empty.counts() == h.counts());
  REQUIRE_THROWS_WITH(merged.merge(Histogram(32)), Catch::Contains("32 bins into one of 64"));
}

TEST_CASE("histogram: abs_counts folds the negative half onto the positive one", "[calibration]") {
  Histogram h(8);
  const float values[] = {-0.45f, -0.3f, -0.05f, 0.0f, 0.05f, 0.2f, 0.3f, 0.4f};
  h.add(values, 8);
  REQUIRE(h.limit() == 0.5);
  REQUIRE(h.counts() == std::vector<uint64_t>{1, 1, 0, 1, 2, 1, 1, 1});
  REQUIRE(h.abs_counts() == std::vector<uint64_t>{3, 1, 2, 2});
  REQUIRE_THROWS_WITH(Histogram(7), Catch::Contains("must be even"));
}

// ---- accumulate -------------------------------------------------------------------------

TEST_CASE("accumulate: min, max, count over several tensors, NaN ignored", "[calibration]") {
  TensorStats stats;
  accumulate(stats, floats({std::nanf(""), 2.0f, 3.0f}));
  REQUIRE(stats.min == 2.0);
  REQUIRE(stats.max == 3.0);
  std::vector<float> big(10000, 1.0f);
  big[7777] = -4.5f;
  accumulate(stats, floats(big));
  REQUIRE(stats.min == -4.5);
  REQUIRE(stats.max == 3.0);
  REQUIRE(stats.count == 10003);
  REQUIRE(stats.histogram.total() == 10002);
  accumulate(stats, Tensor::from_vector<int32_t>({2}, {-9, 1}));  // non-float data is converted
  REQUIRE(stats.min == -9.0);
}

TEST_CASE("accumulate: per-channel min/max, with an all-zero channel", "[calibration]") {
  // [3 output channels, 2, 2]; channel 1 is zero.
  TensorStats stats;
  stats.channel_axis = 0;
  accumulate(stats, Tensor::from_vector<float>({3, 2, 2}, {1, -2, 3, 0.5f,  //
                                                           0, 0, 0, 0,      //
                                                           -7, -6, -5, -8}));
  REQUIRE(stats.channel_min == std::vector<double>{-2, 0, -8});
  REQUIRE(stats.channel_max == std::vector<double>{3, 0, -5});
  REQUIRE(stats.min == -8.0);
  REQUIRE(stats.max == 3.0);
  accumulate(stats, Tensor::from_vector<float>({3, 1, 1}, {9, -1, 0}));
  REQUIRE(stats.channel_min == std::vector<double>{-2, -1, -8});
  REQUIRE(stats.channel_max == std::vector<double>{9, 0, 0});

  // Last axis: channels interleave element by element.
  TensorStats last;
  last.channel_axis = 1;
  accumulate(last, Tensor::from_vector<float>({2, 3}, {1, 0, -3, 4, 0, 2}));
  REQUIRE(last.channel_min == std::vector<double>{1, 0, -3});
  REQUIRE(last.channel_max == std::vector<double>{4, 0, 2});
  REQUIRE_THROWS_WITH(accumulate(last, Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4})),
                      Catch::Contains("2 channels on axis 1, earlier data had 3"));
  TensorStats bad;
  bad.channel_axis = 2;
  REQUIRE_THROWS_WITH(accumulate(bad, floats({1})),
                      Catch::Contains("channel axis 2 is out of range"));
}

// ---- Range methods ----------------------------------------------------------------------

TEST_CASE("range: max is the data hull, symmetric around the larger magnitude", "[calibration]") {
  const TensorStats stats = stats_of({-1.5f, 0.25f, 3.0f});
  const Range sym = range_of(stats, RangeMethod::kMax);
  REQUIRE(sym.min == -3.0);
  REQUIRE(sym.max == 3.0);
  const Range asym = range_of(stats, RangeMethod::kMax, false);
  REQUIRE(asym.min == -1.5);
  REQUIRE(asym.max == 3.0);
  // Positive data: the range still includes 0.
  const Range positive = range_of(stats_of({2.0f, 5.0f}), RangeMethod::kMax, false);
  REQUIRE(positive.min == 0.0);
  REQUIRE(positive.max == 5.0);
}

TEST_CASE("range: percentile of uniform data and its limits", "[calibration]") {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> x(1000000);
  for (float& v : x) v = uniform(rng);
  const TensorStats stats = stats_of(x);
  RangeOptions o;
  o.method = RangeMethod::kPercentile;
  o.percentile = 0.999;
  const Range r = choose_range(stats, o);
  REQUIRE(r.max == Approx(0.999).margin(0.0015));
  REQUIRE(r.min == -r.max);
  o.percentile = 0.9;
  REQUIRE(choose_range(stats, o).max == Approx(0.9).margin(0.003));
  // Interpolation inside a bin: with bins of 1/8 the quantile still lands near 0.999.
  o.percentile = 0.999;
  REQUIRE(choose_range(stats_of(x, 16), o).max == Approx(0.999).margin(0.003));
  // Asymmetric: 0.5% cut from each end of U(-1, 1) leaves [-0.99, 0.99].
  o.percentile = 0.99;
  o.symmetric = false;
  const Range asym = choose_range(stats, o);
  REQUIRE(asym.min == Approx(-0.99).margin(0.003));
  REQUIRE(asym.max == Approx(0.99).margin(0.003));
  // 1.0 is the max, exactly.
  o.percentile = 1.0;
  o.symmetric = true;
  const Range full = choose_range(stats, o);
  const Range max = range_of(stats, RangeMethod::kMax);
  REQUIRE(full.min == max.min);
  REQUIRE(full.max == max.max);
}

TEST_CASE("range: KL clips a Laplace distribution's outliers well below the max", "[calibration]") {
  std::mt19937 rng(3);
  std::exponential_distribution<double> exponential(1.0);
  std::bernoulli_distribution sign(0.5);
  std::vector<float> x(200000);
  for (float& v : x) v = static_cast<float>((sign(rng) ? 1 : -1) * exponential(rng));
  for (int i = 0; i < 20; ++i) x[static_cast<size_t>(i)] = i % 2 ? 60.0f : -60.0f;
  const TensorStats stats = stats_of(x);
  const Range r = range_of(stats, RangeMethod::kKL);
  INFO("KL clip " << r.max << " of max " << stats.max);
  REQUIRE(r.max < 0.5 * stats.max);
  // Clipping the bulk would cost more than the outliers: P(|x| > 5) is 0.7%.
  REQUIRE(r.max > 5.0);
  REQUIRE(r.min == -r.max);
  // Without outliers there is nothing to clip away: the threshold stays near the max.
  const TensorStats bulk = stats_of(std::vector<float>(x.begin() + 20, x.end()));
  REQUIRE(range_of(bulk, RangeMethod::kKL).max > 0.5 * bulk.max);
}

TEST_CASE("range: MSE on a Gaussian finds the brute-force optimum of int8 quantization",
          "[calibration]") {
  const std::vector<float> x = normal_samples(400000, 2.0, 11);
  const TensorStats stats = stats_of(x);
  double best_clip = 0.0, least = INFINITY;
  for (double a = 5.0; a <= 10.0; a += 0.02) {
    const double e = int8_error(x, a);
    if (e < least) {
      least = e;
      best_clip = a;
    }
  }
  REQUIRE(best_clip == Approx(7.8).margin(0.4));  // about 3.9 sigma
  const Range r = range_of(stats, RangeMethod::kMSE);
  INFO("MSE clip " << r.max << ", brute force " << best_clip << ", max " << stats.max);
  REQUIRE(r.max == Approx(best_clip).epsilon(0.03));
  REQUIRE(r.min == -r.max);
  // The chosen clip's real error is within 1% of the best one's.
  REQUIRE(int8_error(x, r.max) <= 1.01 * least);
}

TEST_CASE("range: MMSE searches the top tail and outlier_factor widens it", "[calibration]") {
  std::vector<float> x = normal_samples(400000, 1.0, 5);
  RangeOptions o;
  o.method = RangeMethod::kMMSE;
  {
    const TensorStats stats = stats_of(x);
    // The search starts at the 0.999 quantile of |N(0,1)| (3.29): the error optimum (~3.9)
    // lies inside it, so MMSE finds what MSE finds.
    const Range r = choose_range(stats, o);
    REQUIRE(r.max > 3.5);
    REQUIRE(r.max == Approx(range_of(stats, RangeMethod::kMSE).max).epsilon(0.01));
    // A narrower search stays at its lower end, the (1 - 1e-5) quantile, above the optimum:
    // between the 399996th and 399997th smallest magnitudes, up to a bin (1/128).
    std::vector<float> magnitudes(x.size());
    std::transform(x.begin(), x.end(), magnitudes.begin(), [](float v) { return std::fabs(v); });
    std::sort(magnitudes.begin(), magnitudes.end());
    o.search_range = 1e-5;
    const double clip = choose_range(stats, o).max;
    REQUIRE(clip >= magnitudes[399995] - 1.0 / 128);
    REQUIRE(clip <= magnitudes[399996] + 1.0 / 128);
    REQUIRE(clip > 4.0);
    o.search_range = 0.001;
  }
  x[0] = 40.0f;  // one outlier far above the bulk
  const TensorStats stats = stats_of(x);
  const Range narrow = choose_range(stats, o);
  REQUIRE(narrow.max < 20.0);
  o.outlier_factor = 2.0;
  const Range wide = choose_range(stats, o);
  REQUIRE(wide.max == Approx(2.0 * narrow.max));
  REQUIRE(wide.min == -wide.max);
  o.outlier_factor = 100.0;  // capped at the max
  REQUIRE(choose_range(stats, o).max == 40.0);
  o.symmetric = false;
  REQUIRE(choose_range(stats, o).min == Approx(stats.min));
}

TEST_CASE("range: asymmetric ranges of ReLU-like data start at 0", "[calibration]") {
  std::vector<float> x = normal_samples(200000, 1.0, 9);
  for (float& v : x) v = std::max(v, 0.0f);
  const TensorStats stats = stats_of(x);
  for (RangeMethod method : {RangeMethod::kMax, RangeMethod::kPercentile, RangeMethod::kKL,
                             RangeMethod::kMSE, RangeMethod::kMMSE}) {
    INFO(range_method_name(method));
    const Range asym = range_of(stats, method, false);
    REQUIRE(asym.min == 0.0);
    REQUIRE(asym.max > 2.5);
    REQUIRE(asym.max <= stats.max);
    const Range sym = range_of(stats, method, true);
    REQUIRE(sym.min == -sym.max);
    REQUIRE(sym.max <= stats.max);
  }
  // One-sided data: asymmetric quantization spends all 256 levels on it, so the MSE clip
  // can go further out than the symmetric one (127 levels on the same side).
  REQUIRE(range_of(stats, RangeMethod::kMSE, false).max >
          range_of(stats, RangeMethod::kMSE, true).max);
  // The error search of a two-sided distribution clips each side on its own.
  std::vector<float> skewed = normal_samples(200000, 1.0, 10);
  for (float& v : skewed) v = v < 0 ? 0.1f * v : v;
  const Range both = range_of(stats_of(skewed), RangeMethod::kMSE, false);
  REQUIRE(both.min < 0.0);
  REQUIRE(both.min > -0.6);
  REQUIRE(both.max > 3.0);
}

TEST_CASE("range: a constant-zero tensor gets a tiny non-empty range", "[calibration]") {
  const TensorStats zeros = stats_of(std::vector<float>(100, 0.0f));
  for (RangeMethod method : {RangeMethod::kMax, RangeMethod::kPercentile, RangeMethod::kKL,
                             RangeMethod::kMSE, RangeMethod::kMMSE}) {
    INFO(range_method_name(method));
    const Range sym = range_of(zeros, method, true);
    REQUIRE(sym.max > 0.0);
    REQUIRE(sym.max < 1e-3);
    REQUIRE(sym.min == -sym.max);
    const Range asym = range_of(zeros, method, false);
    REQUIRE(asym.min == 0.0);
    REQUIRE(asym.max > 0.0);
    REQUIRE(asym.max < 1e-3);
  }
}

TEST_CASE("range: ranges stay inside the data hull widened to 0", "[calibration]") {
  std::vector<float> x = normal_samples(50000, 0.5, 4);
  for (float& v : x) v = 3.0f + std::fabs(v);  // all in [3, ~5]
  const TensorStats stats = stats_of(x);
  for (RangeMethod method : {RangeMethod::kMax, RangeMethod::kPercentile, RangeMethod::kKL,
                             RangeMethod::kMSE, RangeMethod::kMMSE}) {
    INFO(range_method_name(method));
    for (bool symmetric : {true, false}) {
      const Range r = range_of(stats, method, symmetric);
      REQUIRE(r.min <= 0.0);
      REQUIRE(r.max > 3.0);
      REQUIRE(r.max <= stats.max);
      REQUIRE(r.min >= (symmetric ? -stats.max : 0.0));
    }
  }
}

TEST_CASE("range: errors for methods the Quantizer decides and bad options", "[calibration]") {
  const TensorStats stats = stats_of({1.0f, -1.0f});
  REQUIRE_THROWS_WITH(range_of(stats, RangeMethod::kAuto),
                      Catch::Contains("range method auto is decided per tensor by the Quantizer"));
  REQUIRE_THROWS_AS(range_of(stats, RangeMethod::kSkip), Error);
  RangeOptions o;
  o.percentile = 1.5;
  REQUIRE_THROWS_WITH(choose_range(stats, o), Catch::Contains("percentile is 1.5"));
  o = RangeOptions{};
  o.method = RangeMethod::kMMSE;
  o.outlier_factor = 0.5;
  REQUIRE_THROWS_WITH(choose_range(stats, o), Catch::Contains("outlier_factor is 0.5"));
  o = RangeOptions{};
  o.bits = 1;
  REQUIRE_THROWS_WITH(choose_range(stats, o), Catch::Contains("bits is 1"));
  REQUIRE_THROWS_WITH(range_of(TensorStats(), RangeMethod::kMax), Catch::Contains("hold no data"));
}

TEST_CASE("range method names round-trip and unknown names list the valid ones", "[calibration]") {
  for (RangeMethod m :
       {RangeMethod::kMax, RangeMethod::kPercentile, RangeMethod::kKL, RangeMethod::kMSE,
        RangeMethod::kMMSE, RangeMethod::kAuto, RangeMethod::kSkip}) {
    REQUIRE(parse_range_method(range_method_name(m)) == m);
  }
  REQUIRE(parse_range_method("KL") == RangeMethod::kKL);
  REQUIRE(parse_range_method("percentage") == RangeMethod::kPercentile);
  try {
    parse_range_method("entropy2");
    FAIL("an unknown method was accepted");
  } catch (const Error& e) {
    REQUIRE(e.code() == StatusCode::kInvalidArgument);
    REQUIRE_THAT(e.what(), Catch::Contains("\"entropy2\"") &&
                               Catch::Contains("max, percentile, kl, mse, mmse, auto, skip"));
  }
}

// ---- Calibrator -------------------------------------------------------------------------

namespace {

// x[N,4] -> Relu -> r -> Mul(c) -> y; y -> MatMul(w[4,3]) -> z
Graph small_graph(int64_t batch = -1) {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{batch, batch < 0 ? "N" : ""}, {4, {}}}};
  g.add_input(x);
  Value* c = g.add_value("c");
  g.set_initializer(c, Tensor::from_vector<float>({4}, {1, -2, 0.5f, 3}));
  Value* w = g.add_value("w");
  g.set_initializer(w, Tensor::from_vector<float>({4, 3}, {1, 0, -1, 2, 0, 5, -3, 0, 1, 4, 0, 2}));
  Value* r = g.add_value("r");
  Value* y = g.add_value("y");
  Value* z = g.add_value("z");
  g.add_node("Relu", {x}, {r}, "relu");
  g.add_node("Mul", {r, c}, {y}, "scale");
  g.add_node("MatMul", {y, w}, {z}, "project");
  g.add_output(z);
  return g;
}

struct Expected {
  double min = INFINITY, max = -INFINITY;
  void add(double v) {
    min = std::min(min, v);
    max = std::max(max, v);
  }
};

}  // namespace

TEST_CASE("Calibrator: exact min/max of inputs, intermediates and weights", "[calibration]") {
  const Graph g = small_graph();
  const std::vector<std::vector<float>> samples = {
      {-1, 2, 3, -4, 0.5f, -0.5f, 7, 1},  // batch 2
      {3, -3, -2, 2},                     // batch 1
  };
  const float c[] = {1, -2, 0.5f, 3};
  Expected x, r, y;
  for (const auto& s : samples) {
    for (size_t i = 0; i < s.size(); ++i) {
      x.add(s[i]);
      r.add(std::max(s[i], 0.0f));
      y.add(std::max(s[i], 0.0f) * c[i % 4]);
    }
  }
  for (int threads : {1, 2}) {
    CalibrationOptions options;
    options.threads = threads;
    Calibrator calibrator(g, options);
    for (const auto& s : samples) {
      calibrator.add_sample(
          {{"x", Tensor::from_vector<float>({static_cast<int64_t>(s.size() / 4), 4}, s)}});
    }
    const CalibrationTable& table = calibrator.table();
    REQUIRE(table.samples == 2);
    REQUIRE(table.at("x").min == x.min);
    REQUIRE(table.at("x").max == x.max);
    REQUIRE(table.at("x").count == 12);
    REQUIRE(table.at("r").min == 0.0);
    REQUIRE(table.at("r").max == r.max);
    REQUIRE(table.at("y").min == y.min);
    REQUIRE(table.at("y").max == y.max);
    REQUIRE(table.at("z").count == 9);
    // Weights: plain stats for the Mul constant, per output channel for the MatMul one.
    REQUIRE(table.at("c").channel_axis == -1);
    REQUIRE(table.at("c").min == -2.0);
    REQUIRE(table.at("w").channel_axis == 1);
    REQUIRE(table.at("w").channel_min == std::vector<double>{-3, 0, -1});
    REQUIRE(table.at("w").channel_max == std::vector<double>{4, 0, 5});
    REQUIRE(table.at("w").count == 12);
    try {
      table.at("nope");
      FAIL("an unknown value was found");
    } catch (const Error& e) {
      REQUIRE(e.code() == StatusCode::kNotFound);
      REQUIRE_THAT(e.what(), Catch::Contains("\"nope\""));
    }
    const std::string json = table.to_json();
    REQUIRE_THAT(json, Catch::Contains("\"samples\":2") && Catch::Contains("\"r\":{") &&
                           Catch::Contains("\"channel_axis\":1"));
  }
}

TEST_CASE("Calibrator: weight channel axes of Conv, ConvTranspose and Gemm", "[calibration]") {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{1, {}}, {2, {}}, {3, {}}, {3, {}}}};
  g.add_input(x);
  auto constant = [&](const std::string& name, Shape shape, float start) {
    std::vector<float> values(static_cast<size_t>(shape_numel(shape)));
    for (size_t i = 0; i < values.size(); ++i) values[i] = start + static_cast<float>(i);
    Value* v = g.add_value(name);
    g.set_initializer(v, Tensor::from_vector<float>(shape, values));
    return v;
  };
  Value* conv_w = constant("conv_w", {4, 2, 1, 1}, 0);      // [out, in, kh, kw]
  Value* deconv_w = constant("deconv_w", {4, 3, 1, 1}, 0);  // [in, out, kh, kw]
  Value* gemm_w = constant("gemm_w", {2, 27}, -10);         // transB: [out, in]
  Value* a = g.add_value("a");
  Value* b = g.add_value("b");
  Value* flat = g.add_value("flat");
  Value* out = g.add_value("out");
  g.add_node("Conv", {x, conv_w}, {a}, "conv");
  g.add_node("ConvTranspose", {a, deconv_w}, {b}, "deconv");
  g.add_node("Flatten", {b}, {flat}, "flatten");
  Node* gemm = g.add_node("Gemm", {flat, gemm_w}, {out}, "fc");
  Attribute trans;
  trans.type = AttrType::kInt;
  trans.i = 1;
  gemm->set_attr("transB", trans);
  g.add_output(out);
  Calibrator calibrator(g);
  const CalibrationTable& table = calibrator.table();
  REQUIRE(table.at("conv_w").channel_min == std::vector<double>{0, 2, 4, 6});
  REQUIRE(table.at("deconv_w").channel_axis == 1);
  REQUIRE(table.at("deconv_w").channel_min == std::vector<double>{0, 1, 2});
  REQUIRE(table.at("deconv_w").channel_max == std::vector<double>{9, 10, 11});
  REQUIRE(table.at("gemm_w").channel_axis == 0);
  REQUIRE(table.at("gemm_w").channel_max == std::vector<double>{16, 43});
  REQUIRE(table.samples == 0);
}

namespace {

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("lq_calibration_" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// Two inputs a[1,2], b[1,2] -> Add -> s.
Graph two_input_graph() {
  Graph g;
  g.set_opset("", 13);
  Value* a = g.add_value("a");
  a->type() = TensorType{DType::kFloat32, true, {{1, {}}, {2, {}}}};
  Value* b = g.add_value("b");
  b->type() = TensorType{DType::kFloat32, true, {{1, {}}, {2, {}}}};
  g.add_input(a);
  g.add_input(b);
  Value* s = g.add_value("s");
  g.add_node("Add", {a, b}, {s}, "add");
  g.add_output(s);
  return g;
}

}  // namespace

TEST_CASE("Calibrator: samples from folders of .npy files, paired in sorted order",
          "[calibration]") {
  TempDir dir("npy");
  fs::create_directories(dir.path / "a");
  fs::create_directories(dir.path / "b");
  // Names sort as 0, 1, 2; the b files are saved without the batch dimension and as float64.
  for (int i = 0; i < 3; ++i) {
    save_npy(Tensor::from_vector<float>({1, 2}, {float(i), float(-i)}),
             (dir.path / "a" / ("s" + std::to_string(i) + ".npy")).string());
    save_npy(Tensor::from_vector<double>({2}, {10.0 * i, 0.5}),
             (dir.path / "b" / ("s" + std::to_string(i) + ".npy")).string());
  }
  std::ofstream((dir.path / "a" / "notes.txt").string()) << "not a sample";
  const Graph g = two_input_graph();
  std::vector<std::pair<int64_t, int64_t>> progress;
  CalibrationOptions options;
  options.progress = [&](int64_t done, int64_t total) { progress.emplace_back(done, total); };
  Calibrator calibrator(g, options);
  calibrator.add_sources(
      {{"a", {{(dir.path / "a").string()}}}, {"b", {{(dir.path / "b").string()}}}});
  const CalibrationTable& table = calibrator.table();
  REQUIRE(table.samples == 3);
  REQUIRE(progress == std::vector<std::pair<int64_t, int64_t>>{{1, 3}, {2, 3}, {3, 3}});
  // s = a + b: sample i is [i + 10 i, -i + 0.5].
  REQUIRE(table.at("s").min == -1.5);
  REQUIRE(table.at("s").max == 22.0);
  REQUIRE(table.at("a").count == 6);
  REQUIRE(table.at("b").max == 20.0);

  // A file of batch 3 for a batch-1 model runs as three samples.
  TempDir batched("batched");
  save_npy(Tensor::from_vector<float>({3, 2}, {1, 2, 3, 4, 5, 6}),
           (batched.path / "a.npy").string());
  save_npy(Tensor::from_vector<float>({3, 2}, {0, 0, 0, 0, 0, -6}),
           (batched.path / "b.npy").string());
  Calibrator split(g);
  split.add_sources(
      {{"a", {{(batched.path / "a.npy").string()}}}, {"b", {{(batched.path / "b.npy").string()}}}});
  REQUIRE(split.table().samples == 3);
  REQUIRE(split.table().at("s").min == 0.0);  // s = [1,2], [3,4], [5,0]
  REQUIRE(split.table().at("s").max == 5.0);
  REQUIRE(split.table().at("b").min == -6.0);
}

TEST_CASE("Calibrator: source errors name the input and say what to do", "[calibration]") {
  TempDir dir("errors");
  fs::create_directories(dir.path / "two");
  fs::create_directories(dir.path / "one");
  fs::create_directories(dir.path / "empty");
  for (int i = 0; i < 2; ++i) {
    save_npy(Tensor::from_vector<float>({1, 2}, {1, 2}),
             (dir.path / "two" / (std::to_string(i) + ".npy")).string());
  }
  save_npy(Tensor::from_vector<float>({1, 2}, {1, 2}), (dir.path / "one" / "0.npy").string());
  const std::string two = (dir.path / "two").string(), one = (dir.path / "one").string();
  const Graph g = two_input_graph();
  Calibrator calibrator(g);
  auto code_of = [&](const std::map<std::string, CalibrationSource>& sources) {
    try {
      calibrator.add_sources(sources);
    } catch (const Error& e) {
      return e.code();
    }
    return StatusCode::kOk;
  };
  REQUIRE_THROWS_WITH(
      calibrator.add_sources({{"a", {{two}}}}),
      Catch::Contains("model input \"b\" (float32[1,2]) has no calibration source"));
  REQUIRE(code_of({{"a", {{two}}}}) == StatusCode::kInvalidArgument);
  REQUIRE_THROWS_WITH(calibrator.add_sources({{"a", {{two}}}, {"b", {{two}}}, {"c", {{two}}}}),
                      Catch::Contains("source \"c\" names no model input; the model inputs are "
                                      "\"a\", \"b\""));
  REQUIRE_THROWS_WITH(calibrator.add_sources({{"a", {{two}}}, {"b", {{one}}}}),
                      Catch::Contains("different sample counts: \"a\" has 2, \"b\" has 1"));
  REQUIRE(code_of({{"a", {{two}}}, {"b", {{one}}}}) == StatusCode::kInvalidArgument);
  REQUIRE_THROWS_WITH(
      calibrator.add_sources({{"a", {{two}}}, {"b", {{(dir.path / "empty").string()}}}}),
      Catch::Contains("input \"b\": folder") && Catch::Contains("holds no .npy files"));
  REQUIRE(code_of({{"a", {{two}}}, {"b", {{(dir.path / "missing").string()}}}}) ==
          StatusCode::kNotFound);
  // A sample the model rejects is named by its files.
  save_npy(Tensor::from_vector<float>({1, 3}, {1, 2, 3}), (dir.path / "wide.npy").string());
  REQUIRE_THROWS_WITH(
      calibrator.add_sources({{"a", {{(dir.path / "wide.npy").string()}}}, {"b", {{one}}}}),
      Catch::Contains("calibration sample 1 (") && Catch::Contains("wide.npy") &&
          Catch::Contains("got shape [1,3]"));
  REQUIRE(calibrator.table().samples == 0);
}

namespace {

// A 24-bit BMP of `width` x 1 pixels, given as RGB triples.
void write_bmp_row(const fs::path& path, const std::vector<std::array<uint8_t, 3>>& rgb) {
  const auto width = static_cast<uint32_t>(rgb.size());
  const uint32_t row_bytes = (width * 3 + 3) / 4 * 4;
  const uint32_t size = 54 + row_bytes;
  std::vector<uint8_t> file(size, 0);
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) file[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  file[0] = 'B';
  file[1] = 'M';
  put32(2, size);
  put32(10, 54);
  put32(14, 40);
  put32(18, width);
  put32(22, 1);
  file[26] = 1;   // planes
  file[28] = 24;  // bits per pixel
  put32(34, row_bytes);
  for (uint32_t x = 0; x < width; ++x) {
    file[54 + 3 * x] = rgb[x][2];  // stored as BGR
    file[55 + 3 * x] = rgb[x][1];
    file[56 + 3 * x] = rgb[x][0];
  }
  std::ofstream(path.string(), std::ios::binary)
      .write(reinterpret_cast<const char*>(file.data()), size);
}

}  // namespace

TEST_CASE("Calibrator: samples from a folder of pictures with their preprocessing",
          "[calibration]") {
  TempDir dir("pictures");
  write_bmp_row(dir.path / "b.bmp", {{{0, 100, 200}}, {{50, 150, 250}}});
  write_bmp_row(dir.path / "a.BMP", {{{10, 20, 30}}, {{40, 50, 60}}});
  std::ofstream((dir.path / "labels.txt").string()) << "not a picture";
  Graph g;
  g.set_opset("", 13);
  Value* image = g.add_value("image");
  image->type() = TensorType{DType::kFloat32, true, {{1, {}}, {3, {}}, {1, {}}, {2, {}}}};
  g.add_input(image);
  Value* out = g.add_value("out");
  g.add_node("Relu", {image}, {out}, "relu");
  g.add_output(out);
  CalibrationSource source;
  source.paths = {dir.path.string()};
  source.images = true;
  source.preprocess.resize = ResizeMode::kNone;
  source.preprocess.mean = {100.0f, 100.0f, 100.0f};
  source.preprocess.scale = {0.5f, 0.5f, 0.5f};
  Calibrator calibrator(g);
  calibrator.add_sources({{"image", source}});
  const TensorStats& stats = calibrator.table().at("image");
  REQUIRE(calibrator.table().samples == 2);
  REQUIRE(stats.count == 12);
  REQUIRE(stats.min == (0.0 - 100.0) * 0.5);
  REQUIRE(stats.max == (250.0 - 100.0) * 0.5);
  REQUIRE(calibrator.table().at("out").min == 0.0);
}

// ---- The range method registry --------------------------------------------------------------

namespace {

// A test-only method: half the largest magnitude, symmetric.
RangeMethodInfo half_max_method() {
  RangeMethodInfo m;
  m.name = "half_max";
  m.choose = [](const TensorStats& stats, const RangeOptions&) {
    const double a = 0.5 * std::max(std::fabs(stats.min), std::fabs(stats.max));
    return Range{-a, a};
  };
  m.check = [](const RangeOptions& o) {
    if (o.bits > 16) throw Error(StatusCode::kInvalidArgument, "half_max takes at most 16 bits");
  };
  m.auto_candidate = true;
  return m;
}

}  // namespace

TEST_CASE("range method registry: the built-in names, in order, and the auto candidates", "[calibration]") {
  const RangeMethodRegistry& builtin = RangeMethodRegistry::builtin();
  REQUIRE(builtin.names() ==
          std::vector<std::string>{"max", "percentile", "kl", "mse", "mmse", "auto", "skip"});
  REQUIRE(auto_range_candidates() == std::vector<RangeMethod>{RangeMethod::kMax, RangeMethod::kPercentile,
                                                              RangeMethod::kKL, RangeMethod::kMSE,
                                                              RangeMethod::kMMSE});
  REQUIRE(builtin.find("Percentage") == builtin.find("percentile"));
  REQUIRE(builtin.find("auto") != nullptr);
  REQUIRE_FALSE(builtin.find("auto")->choose);  // decided by the Quantizer
  REQUIRE(builtin.find("entropy2") == nullptr);
}

TEST_CASE("range method registry: a method added at run time is chosen by name", "[calibration]") {
  RangeMethodRegistry registry = RangeMethodRegistry::builtin();
  registry.add(half_max_method());
  const TensorStats stats = stats_of({-4.0f, 1.0f, 3.0f});
  RangeOptions o;
  o.method = registry.parse("Half_Max");
  REQUIRE(o.method == RangeMethod("half_max"));
  const Range r = registry.choose(stats, o);
  REQUIRE(r.min == Approx(-2.0));
  REQUIRE(r.max == Approx(2.0));
  REQUIRE(registry.auto_candidates().back() == RangeMethod("half_max"));
  REQUIRE(registry.names().back() == "half_max");
  // The method's own option check runs before it.
  o.bits = 24;
  REQUIRE_THROWS_WITH(registry.choose(stats, o), Catch::Contains("at most 16 bits"));
  // The built-in registry, which the free functions use, is unchanged.
  REQUIRE_THROWS_WITH(parse_range_method("half_max"), Catch::Contains("unknown range method \"half_max\""));
  o.bits = 8;
  REQUIRE_THROWS_WITH(choose_range(stats, o), Catch::Contains("unknown range method \"half_max\""));
  // The built-in methods work the same through the copy.
  o.method = RangeMethod::kMSE;
  REQUIRE(registry.choose(stats, o).max == choose_range(stats, o).max);
}

TEST_CASE("range method registry: taken, malformed and misbehaving methods are errors", "[calibration]") {
  RangeMethodRegistry registry = RangeMethodRegistry::builtin();
  RangeMethodInfo taken = half_max_method();
  taken.name = "mse";
  REQUIRE_THROWS_WITH(registry.add(taken), Catch::Contains("\"mse\" is already registered"));
  RangeMethodInfo alias = half_max_method();
  alias.aliases = {"percentage"};
  REQUIRE_THROWS_WITH(registry.add(alias), Catch::Contains("\"percentage\" is already registered"));
  RangeMethodInfo upper = half_max_method();
  upper.name = "HalfMax";
  REQUIRE_THROWS_WITH(registry.add(upper), Catch::Contains("lower case"));
  REQUIRE(registry.find("halfmax") == nullptr);

  RangeMethodInfo positive_only = half_max_method();
  positive_only.name = "no_zero";
  positive_only.choose = [](const TensorStats&, const RangeOptions&) { return Range{1.0, 2.0}; };
  registry.add(positive_only);
  RangeOptions o;
  o.method = RangeMethod("no_zero");
  try {
    registry.choose(stats_of({1.0f, 2.0f}), o);
    FAIL("a range without 0 was returned");
  } catch (const Error& e) {
    REQUIRE(e.code() == StatusCode::kInternal);
    REQUIRE_THAT(e.what(), Catch::Contains("range method no_zero returned [1, 2]"));
  }
  // Names without a range function are rejected, listing those with one.
  o.method = RangeMethod::kSkip;
  REQUIRE_THROWS_WITH(registry.choose(stats_of({1.0f}), o),
                      Catch::Contains("choose_range takes max, percentile, kl, mse, mmse or no_zero"));
}

TEST_CASE("Calibrator: a folder of mixed shapes or a bad picture is named by its file", "[calibration]") {
  TempDir dir("mixed");
  fs::create_directories(dir.path / "mixed");
  fs::create_directories(dir.path / "pictures");
  // x[N, C] with both dimensions dynamic: the simulator takes any shape, the files must agree.
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{-1, "N"}, {-1, "C"}}};
  g.add_input(x);
  Value* y = g.add_value("y");
  g.add_node("Relu", {x}, {y}, "relu");
  g.add_output(y);
  save_npy(Tensor::from_vector<float>({1, 2}, {1, 2}), (dir.path / "mixed" / "0.npy").string());
  save_npy(Tensor::from_vector<float>({1, 3}, {1, 2, 3}), (dir.path / "mixed" / "1.npy").string());
  Calibrator calibrator(g);
  REQUIRE_THROWS_WITH(calibrator.add_sources({{"x", {{(dir.path / "mixed").string()}}}}),
                      Catch::Contains("1.npy") && Catch::Contains("shape [1,3]") &&
                          Catch::Contains("0.npy") && Catch::Contains("[1,2]"));
  // Batched files split into batch-1 samples may differ in their batch size.
  Graph batch1 = g.clone();
  batch1.value("x").type().dims[0] = {1, ""};
  fs::create_directories(dir.path / "batches");
  save_npy(Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4}), (dir.path / "batches" / "0.npy").string());
  save_npy(Tensor::from_vector<float>({1, 2}, {5, 6}), (dir.path / "batches" / "1.npy").string());
  Calibrator split(batch1);
  split.add_sources({{"x", {{(dir.path / "batches").string()}}}});
  REQUIRE(split.table().samples == 3);
  // A picture that does not decode is named.
  std::ofstream((dir.path / "pictures" / "broken.png").string(), std::ios::binary) << "\x89PNG\r\n\x1a\n garbage";
  CalibrationSource pictures{{(dir.path / "pictures").string()}, true, {}};
  pictures.preprocess.height = 2;
  pictures.preprocess.width = 2;
  Calibrator images(g);
  REQUIRE_THROWS_WITH(images.add_sources({{"x", pictures}}),
                      Catch::Contains("broken.png") && Catch::Contains("cannot read image"));
}

TEST_CASE("decode_image: pictures from memory, and a header claiming a huge picture is refused", "[calibration]") {
  std::vector<uint8_t> bmp(54 + 4, 0);
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) bmp[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  bmp[0] = 'B';
  bmp[1] = 'M';
  put32(2, static_cast<uint32_t>(bmp.size()));
  put32(10, 54);
  put32(14, 40);
  put32(18, 1);
  put32(22, 1);
  bmp[26] = 1;
  bmp[28] = 24;
  bmp[54] = 30;  // B, G, R of the one pixel
  bmp[55] = 20;
  bmp[56] = 10;
  ImagePreprocess pre;
  pre.resize = ResizeMode::kNone;
  const Tensor t = decode_image(bmp.data(), bmp.size(), pre, "one pixel");
  REQUIRE(t.shape() == Shape{1, 3, 1, 1});
  REQUIRE(t.data<float>()[0] == 10.0f);
  REQUIRE(t.data<float>()[2] == 30.0f);
  put32(18, 60000);
  put32(22, 60000);
  try {
    decode_image(bmp.data(), bmp.size(), pre, "huge.bmp");
    FAIL("a 60000 x 60000 picture was decoded");
  } catch (const Error& e) {
    REQUIRE(e.code() == StatusCode::kResourceExhausted);
    REQUIRE_THAT(e.what(), Catch::Contains("huge.bmp") && Catch::Contains("60000 x 60000"));
  }
  REQUIRE_THROWS_WITH(decode_image("garbage", 7, pre, "g.png"), Catch::Contains("cannot read image 'g.png'"));
  // A PNG chunk declaring 1 GiB in a 33-byte file (stb_image would allocate it).
  std::string png("\x89PNG\r\n\x1a\n", 8);
  png += std::string("\x40\x00\x00\x00IDAT", 8) + std::string(17, '\0');
  REQUIRE_THROWS_WITH(decode_image(png.data(), png.size(), pre, "p.png"),
                      Catch::Contains("p.png") && Catch::Contains("PNG chunk at byte 8 declares 1073741824 bytes"));
}

TEST_CASE("statistics files: integers out of range are refused, not cast (fuzz regression)", "[calibration]") {
  const std::string head = R"({"format": "libquant-calibration-statistics", "version": 1, "model_fingerprint": "f", )";
  const auto parse = [&](const std::string& rest) { return CalibrationTable::parse(head + rest, "s.json"); };
  REQUIRE(parse(R"("samples": 3, "keep_limit": 0, "tensors": {}, "kept": []})").samples == 3);
  REQUIRE_THROWS_WITH(parse(R"("samples": 1e82, "keep_limit": 0, "tensors": {}, "kept": []})"),
                      Catch::Contains("s.json") && Catch::Contains("\"samples\" is 1e+82"));
  REQUIRE_THROWS_WITH(parse(R"("samples": -1, "keep_limit": 0, "tensors": {}, "kept": []})"),
                      Catch::Contains("\"samples\""));
  REQUIRE_THROWS_WITH(CalibrationTable::parse(R"({"format": 7})", "s.json"),
                      Catch::Contains("not a calibration statistics file"));
  REQUIRE_THROWS_WITH(CalibrationTable::parse(R"({"format": "libquant-calibration-statistics", "version": 1e82})", "s.json"),
                      Catch::Contains("\"version\""));
}

// ---- Fast, parallel statistics ------------------------------------------------------------

TEST_CASE("histogram: tiny negative values sit below zero whatever the limit was when added",
          "[calibration]") {
  // Binning before the limit grows and rebinning must equal binning at the final limit:
  // -1e-30 is below zero at a limit of 2^-99 and at 4 alike.
  const std::vector<float> tiny = {-1e-30f, -1e-20f, 1e-30f, 0.0f, -0.0f};
  const float big = 3.0f;
  Histogram tiny_first(2048), big_first(2048);
  tiny_first.add(tiny.data(), static_cast<int64_t>(tiny.size()));
  tiny_first.add(&big, 1);
  big_first.add(&big, 1);
  big_first.add(tiny.data(), static_cast<int64_t>(tiny.size()));
  std::vector<float> all = tiny;
  all.push_back(big);
  REQUIRE(tiny_first.limit() == 4.0);
  REQUIRE(tiny_first.counts() == direct_counts(all, 4.0, 2048));
  REQUIRE(big_first.counts() == tiny_first.counts());
  REQUIRE(tiny_first.counts()[1023] == 2);  // the two negative ones
  REQUIRE(tiny_first.counts()[1024] == 3);  // 1e-30, 0 and -0
}

TEST_CASE("histogram: long data of every magnitude and bin edges bins as directly",
          "[calibration]") {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::uniform_int_distribution<int> exponent(-40, 2);
  std::vector<float> values(300001);  // several chunks, odd length (the vector tails)
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<float>(unit(rng) * std::ldexp(1.0, exponent(rng)));
  }
  for (int k = -1023; k < 1024; k += 7) values[static_cast<size_t>(k + 1024) * 13] = k / 128.0f;  // edges at limit 8
  values[5] = 7.99f;
  for (int bins : {2048, 64}) {
    Histogram h(bins);
    h.add(values.data(), static_cast<int64_t>(values.size()));
    REQUIRE(h.limit() == 8.0);
    REQUIRE(h.counts() == direct_counts(values, 8.0, bins));
    const TensorStats stats = stats_of(values, bins);
    REQUIRE(stats.histogram.counts() == h.counts());
    REQUIRE(stats.min == *std::min_element(values.begin(), values.end()));
    REQUIRE(stats.max == *std::max_element(values.begin(), values.end()));
  }
}

TEST_CASE("Calibrator: statistics are the same bit for bit for 1, 2 and 3 threads",
          "[calibration]") {
  // 150000 x 4 values: several pieces of the parallel accumulation per tensor.
  const Graph g = small_graph();
  std::vector<float> first = normal_samples(600000, 3.0, 21);
  std::vector<float> second = normal_samples(600000, 0.5, 22);
  for (size_t i = 0; i < first.size(); i += 97) first[i] = -1e-25f;  // tiny negatives
  second[12345] = std::numeric_limits<float>::infinity();             // not counted
  std::string one_thread;
  for (int threads : {1, 2, 3}) {
    CalibrationOptions options;
    options.threads = threads;
    Calibrator calibrator(g, options);
    calibrator.add_sample({{"x", Tensor::from_vector<float>({150000, 4}, first)}});
    calibrator.add_sample({{"x", Tensor::from_vector<float>({150000, 4}, second)}});
    const std::string serialized = calibrator.table().serialize();
    if (threads == 1) {
      one_thread = serialized;
      // ... and equal to accumulating the input directly.
      TensorStats x;
      x.histogram = Histogram(2048);
      accumulate(x, Tensor::from_vector<float>({150000, 4}, first));
      accumulate(x, Tensor::from_vector<float>({150000, 4}, second));
      const TensorStats& got = calibrator.table().at("x");
      REQUIRE(got.histogram.counts() == x.histogram.counts());
      REQUIRE(got.histogram.total() == 1199999);
      REQUIRE(got.min == x.min);
      REQUIRE(got.max == x.max);
    } else {
      REQUIRE(serialized == one_thread);
    }
  }
}
