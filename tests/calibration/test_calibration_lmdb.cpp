// LMDB calibration sets (calibrator.hpp, CalibrationSource): records read in key order give
// the statistics of the same samples as .npy files, bit for bit; a damaged record names its key.
#include <catch2/catch.hpp>
#include <lmdb.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "libquant/calibrator.hpp"

using namespace lq;
namespace fs = std::filesystem;

namespace {

// x[1,3,5,5] -> Conv(2x3x1x1) -> Relu -> y.
Graph small_graph() {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{1, {}}, {3, {}}, {5, {}}, {5, {}}}};
  g.add_input(x);
  Value* wv = g.add_value("w");
  g.set_initializer(wv, Tensor::from_vector<float>({2, 3, 1, 1}, {1.0f, -0.5f, 0.25f, 0.5f, 0.5f, -1.0f}));
  Value* c = g.add_value("c");
  g.add_node("Conv", {x, wv}, {c}, "conv");
  Value* y = g.add_value("y");
  g.add_node("Relu", {c}, {y}, "relu");
  g.add_output(y);
  return g;
}

fs::path fresh_dir(const std::string& test) {
  const fs::path dir = fs::temp_directory_path() / ("lq_calibration_lmdb_" + test);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Key -> .npy bytes of 9 samples of growing magnitude; keys sort as the file names do.
std::map<std::string, std::string> samples() {
  std::map<std::string, std::string> out;
  std::mt19937 rng(5);
  for (int s = 0; s < 9; ++s) {
    std::normal_distribution<float> normal(0.0f, 0.2f * static_cast<float>(1 << s));
    Tensor t(DType::kFloat32, {1, 3, 5, 5});
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = normal(rng);
    out["sample_" + std::to_string(100 + s) + ".npy"] = serialize_npy(t);
  }
  return out;
}

void write_files(const fs::path& dir, const std::map<std::string, std::string>& records) {
  for (const auto& [name, bytes] : records) std::ofstream(dir / name, std::ios::binary) << bytes;
}

// An LMDB database at `path` (one file with `subdir` false, else a directory) with `records`.
void write_lmdb(const fs::path& path, const std::map<std::string, std::string>& records, bool subdir) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_mapsize(env, 64u << 20) == 0);
  if (subdir) fs::create_directories(path);
  REQUIRE(mdb_env_open(env, path.c_str(), subdir ? 0 : MDB_NOSUBDIR, 0644) == 0);
  MDB_txn* txn = nullptr;
  MDB_dbi dbi = 0;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  REQUIRE(mdb_dbi_open(txn, nullptr, 0, &dbi) == 0);
  // Inserted in reverse: LMDB keeps keys sorted, and so must the reader.
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    MDB_val key{it->first.size(), const_cast<char*>(it->first.data())};
    MDB_val value{it->second.size(), const_cast<char*>(it->second.data())};
    REQUIRE(mdb_put(txn, dbi, &key, &value, 0) == 0);
  }
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

std::string calibrated(const Graph& g, const std::string& path, int shard = 0, int shards = 1) {
  CalibrationOptions options;
  options.keep_samples = 3;
  options.shard_index = shard;
  options.shard_count = shards;
  Calibrator calibrator(g, options);
  calibrator.add_sources({{"x", CalibrationSource{{path}, false, {}}}});
  return calibrator.table().serialize();
}

}  // namespace

TEST_CASE("LMDB calibration equals the same samples as npy files bit for bit") {
  const Graph g = small_graph();
  const fs::path dir = fresh_dir("equal");
  const auto records = samples();
  fs::create_directories(dir / "npy");
  write_files(dir / "npy", records);
  write_lmdb(dir / "set.lmdb", records, false);
  write_lmdb(dir / "set_dir", records, true);  // a directory holding data.mdb
  fs::remove(dir / "set.lmdb-lock");            // the writer's; the reader makes none
  const std::string want = calibrated(g, (dir / "npy").string());
  CHECK(calibrated(g, (dir / "set.lmdb").string()) == want);
  CHECK(calibrated(g, (dir / "set_dir").string()) == want);
  for (int shard = 0; shard < 3; ++shard) {
    CHECK(calibrated(g, (dir / "set.lmdb").string(), shard, 3) == calibrated(g, (dir / "npy").string(), shard, 3));
  }
  CHECK_FALSE(fs::exists(dir / "set.lmdb-lock"));  // opened without a lock file
}

TEST_CASE("a corrupt LMDB record is an error naming the database and its key") {
  const Graph g = small_graph();
  const fs::path dir = fresh_dir("corrupt");
  auto records = samples();
  records["sample_104.npy"] = "not an npy file";
  write_lmdb(dir / "bad.lmdb", records, false);
  CHECK_THROWS_WITH(calibrated(g, (dir / "bad.lmdb").string()),
                    Catch::Contains("bad.lmdb' key 'sample_104.npy'") && Catch::Contains(".npy"));
  write_lmdb(dir / "empty.lmdb", {}, false);
  CHECK_THROWS_WITH(calibrated(g, (dir / "empty.lmdb").string()), Catch::Contains("holds no records"));
  std::ofstream(dir / "garbage.lmdb") << "this is not a database";
  CHECK_THROWS_WITH(calibrated(g, (dir / "garbage.lmdb").string()),
                    Catch::Contains("garbage.lmdb' cannot be opened as LMDB"));
  Calibrator calibrator(g);
  CHECK_THROWS_WITH(calibrator.add_sources({{"x", CalibrationSource{{(dir / "bad.lmdb").string()}, true, {}}}}),
                    Catch::Contains("holds .npy records, not pictures"));
}
