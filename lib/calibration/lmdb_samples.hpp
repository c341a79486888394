// Calibration samples in an LMDB database (the record format is in calibrator.hpp, at
// CalibrationSource), read one record at a time: the database is memory-mapped read-only and
// only the record being calibrated on is copied out.
#pragma once

#include <lmdb.h>

#include <string>
#include <vector>

#include "libquant/tensor.hpp"

namespace lq::calibration {

// Whether `path` is an LMDB database: a path ending in .lmdb (a file or a directory), or a
// directory holding data.mdb.
bool is_lmdb(const std::string& path);

class LmdbSamples {
 public:
  explicit LmdbSamples(const std::string& path);  // throws naming the path
  ~LmdbSamples();
  LmdbSamples(const LmdbSamples&) = delete;
  LmdbSamples& operator=(const LmdbSamples&) = delete;

  size_t size() const { return keys_.size(); }
  // Record `index` (in key order) as a tensor; errors name the database and the key.
  Tensor read(size_t index) const;
  // "'PATH' key 'KEY'" for messages (a key that is not printable is shown in hex).
  std::string describe(size_t index) const;

 private:
  std::string path_;
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  std::vector<std::string> keys_;
};

}  // namespace lq::calibration
