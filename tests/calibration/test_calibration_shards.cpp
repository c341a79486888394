// Calibration sharded over processes: statistics serialize, merge exactly, and refuse what
// does not belong together.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include "libquant/calibrator.hpp"

using namespace lq;
namespace fs = std::filesystem;

namespace {

// x[1,3,5,5] -> Conv(4x3x3x3) -> Relu -> y: weights (per-channel statistics) and activations.
Graph conv_graph(float weight_scale = 1.0f) {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{1, {}}, {3, {}}, {5, {}}, {5, {}}}};
  g.add_input(x);
  std::vector<float> w(4 * 3 * 3 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = weight_scale * (static_cast<float>(i % 7) - 3.0f) / 8.0f;
  Value* wv = g.add_value("w");
  g.set_initializer(wv, Tensor::from_vector<float>({4, 3, 3, 3}, w));
  Value* c = g.add_value("c");
  g.add_node("Conv", {x, wv}, {c}, "conv");
  Value* y = g.add_value("y");
  g.add_node("Relu", {c}, {y}, "relu");
  g.add_output(y);
  return g;
}

std::string fmt_index(int s) { return "sample_" + std::to_string(100 + s) + ".npy"; }

// Ten samples of growing magnitude (so histograms grow at different points in each shard),
// written as .npy files in a fresh folder.
// `test` names the folder: ctest runs the cases in parallel.
fs::path sample_folder(const std::string& test) {
  const fs::path dir = fs::temp_directory_path() / ("lq_calibration_shards_" + test);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::mt19937 rng(11);
  for (int s = 0; s < 10; ++s) {
    std::normal_distribution<float> normal(0.0f, 0.1f * static_cast<float>(1 << s));
    Tensor t(DType::kFloat32, {1, 3, 5, 5});
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = normal(rng);
    save_npy(t, (dir / fmt_index(s)).string());
  }
  return dir;
}

}  // namespace

namespace {

CalibrationTable calibrate(const Graph& g, const fs::path& dir, int shard, int shards, size_t keep = 3,
                           int bins = 2048) {
  CalibrationOptions options;
  options.keep_samples = keep;
  options.shard_index = shard;
  options.shard_count = shards;
  options.histogram_bins = bins;
  Calibrator calibrator(g, options);
  calibrator.add_sources({{"x", CalibrationSource{{dir.string()}, false, {}}}});
  return calibrator.table();
}

}  // namespace

TEST_CASE("shards of a calibration set merged equal one calibration over all of it, bit for bit",
          "[calibration][shards]") {
  const Graph g = conv_graph();
  const fs::path dir = sample_folder("merge");
  const CalibrationTable whole = calibrate(g, dir, 0, 1);
  REQUIRE(whole.samples == 10);
  REQUIRE(whole.kept.size() == 3);
  for (int shards : {2, 3, 4, 10}) {
    INFO(shards << " shards");
    CalibrationTable merged = calibrate(g, dir, 0, shards);
    REQUIRE(merged.samples < 10);
    // Through the file format, in reverse order: neither may matter.
    for (int i = shards - 1; i >= 1; --i) {
      merged.merge(CalibrationTable::parse(calibrate(g, dir, i, shards).serialize()));
    }
    REQUIRE(merged.samples == 10);
    REQUIRE(merged.serialize() == whole.serialize());
    // The same ranges follow, for every method.
    for (const RangeMethod& m : {RangeMethod::kMax, RangeMethod::kPercentile, RangeMethod::kKL,
                                 RangeMethod::kMSE, RangeMethod::kMMSE}) {
      RangeOptions o;
      o.method = m;
      const Range a = choose_range(merged.at("c"), o), b = choose_range(whole.at("c"), o);
      REQUIRE(a.min == b.min);
      REQUIRE(a.max == b.max);
    }
  }
}

TEST_CASE("a statistics file round-trips every field", "[calibration][shards]") {
  const CalibrationTable table = calibrate(conv_graph(), sample_folder("file"), 0, 1);
  const CalibrationTable back = CalibrationTable::parse(table.serialize());
  REQUIRE(back.serialize() == table.serialize());
  REQUIRE(back.model_fingerprint == table.model_fingerprint);
  REQUIRE(back.at("w").constant);
  REQUIRE(back.at("w").channel_min == table.at("w").channel_min);
  REQUIRE(back.at("c").histogram.counts() == table.at("c").histogram.counts());
  REQUIRE(back.kept.size() == 3);
  REQUIRE(back.kept[2].inputs.at("x").to_doubles() == table.kept[2].inputs.at("x").to_doubles());
  const fs::path file = fs::temp_directory_path() / "lq_stats_roundtrip.json";
  table.save(file.string());
  REQUIRE(CalibrationTable::load(file.string()).serialize() == table.serialize());
}

TEST_CASE("merging statistics of another model, bin count or format version is a clear error",
          "[calibration][shards][errors]") {
  const fs::path dir = sample_folder("errors");
  CalibrationTable table = calibrate(conv_graph(), dir, 0, 2);
  REQUIRE_THROWS_WITH(table.merge(calibrate(conv_graph(2.0f), dir, 1, 2)),
                      Catch::Contains("different values in the two tables"));
  Graph renamed = conv_graph();
  renamed.set_name("other");
  REQUIRE_THROWS_WITH(table.merge(calibrate(renamed, dir, 1, 2)), Catch::Contains("different models"));
  REQUIRE_THROWS_WITH(table.merge(calibrate(conv_graph(), dir, 1, 2, 3, 1024)),
                      Catch::Contains("histograms of 2048 and 1024 bins"));
  std::string newer = table.serialize();
  newer.replace(newer.find("\"version\":1"), 11, "\"version\":9");
  REQUIRE_THROWS_WITH(CalibrationTable::parse(newer, "s.json"),
                      Catch::Contains("s.json: statistics format version 9") && Catch::Contains("upgrade"));
  REQUIRE_THROWS_WITH(CalibrationTable::parse("{\"format\": \"something\"}", "t.json"),
                      Catch::Contains("t.json: not a calibration statistics file"));
  REQUIRE_THROWS_WITH(CalibrationTable::parse("{{{", "u.json"), Catch::Contains("u.json") && Catch::Contains("not JSON"));
  std::string damaged = table.serialize();
  damaged.replace(damaged.find("\"histogram_limit\":"), 18, "\"histogram_limiX\":");
  REQUIRE_THROWS_WITH(CalibrationTable::parse(damaged, "d.json"), Catch::Contains("d.json: tensor \""));
  CalibrationOptions bad;
  bad.shard_index = 2;
  bad.shard_count = 2;
  Graph g = conv_graph();
  Calibrator calibrator(g, bad);
  REQUIRE_THROWS_WITH(calibrator.add_sources({{"x", CalibrationSource{{dir.string()}, false, {}}}}),
                      Catch::Contains("shard 2/2"));
}
