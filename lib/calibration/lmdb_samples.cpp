#include "calibration/lmdb_samples.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "libquant/status.hpp"

namespace lq::calibration {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(StatusCode code, const std::string& what, int rc) {
  throw Error(code, fmt::format("{}: {}", what, mdb_strerror(rc)));
}

std::string printable(const std::string& key) {
  const bool text = std::all_of(key.begin(), key.end(), [](char c) { return std::isprint(static_cast<unsigned char>(c)); });
  if (text) return key;
  std::string hex = "0x";
  for (unsigned char c : key) hex += fmt::format("{:02x}", c);
  return hex;
}

// A read-only transaction, aborted when it goes out of scope.
struct ReadTxn {
  ReadTxn(MDB_env* env, const std::string& path) {
    if (const int rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn)) {
      fail(StatusCode::kIoError, fmt::format("LMDB '{}'", path), rc);
    }
  }
  ~ReadTxn() { mdb_txn_abort(txn); }
  MDB_txn* txn = nullptr;
};

}  // namespace

bool is_lmdb(const std::string& path) {
  std::error_code ec;
  if (fs::path(path).extension() == ".lmdb") return true;
  return fs::is_directory(path, ec) && fs::exists(fs::path(path) / "data.mdb", ec);
}

LmdbSamples::LmdbSamples(const std::string& path) : path_(path) {
  const std::string what = fmt::format("LMDB calibration set '{}'", path);
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(StatusCode::kNotFound, what + " does not exist");
  if (const int rc = mdb_env_create(&env_)) fail(StatusCode::kInternal, what, rc);
  // Read-only and without a lock file: nothing is written next to the data set, which
  // must not change while it is read.
  const unsigned flags = MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS | (fs::is_directory(path, ec) ? 0u : MDB_NOSUBDIR);
  if (const int rc = mdb_env_open(env_, path.c_str(), flags, 0)) {
    mdb_env_close(env_);
    env_ = nullptr;
    fail(StatusCode::kInvalidArgument, what + " cannot be opened as LMDB", rc);
  }
  try {
    const ReadTxn txn(env_, path);
    if (const int rc = mdb_dbi_open(txn.txn, nullptr, 0, &dbi_)) fail(StatusCode::kInvalidArgument, what, rc);
    MDB_cursor* cursor = nullptr;
    if (const int rc = mdb_cursor_open(txn.txn, dbi_, &cursor)) fail(StatusCode::kIoError, what, rc);
    MDB_val key, value;
    int rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
    for (; rc == 0; rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
      keys_.emplace_back(static_cast<const char*>(key.mv_data), key.mv_size);
    }
    mdb_cursor_close(cursor);
    if (rc != MDB_NOTFOUND) fail(StatusCode::kIoError, what, rc);
    if (keys_.empty()) throw Error(StatusCode::kInvalidArgument, what + " holds no records");
  } catch (...) {
    mdb_env_close(env_);
    throw;
  }
}

LmdbSamples::~LmdbSamples() {
  if (env_) mdb_env_close(env_);
}

std::string LmdbSamples::describe(size_t index) const {
  return fmt::format("'{}' key '{}'", path_, printable(keys_.at(index)));
}

Tensor LmdbSamples::read(size_t index) const {
  const std::string what = "LMDB " + describe(index);
  const ReadTxn txn(env_, path_);
  MDB_val key{keys_.at(index).size(), const_cast<char*>(keys_[index].data())};
  MDB_val value;
  if (const int rc = mdb_get(txn.txn, dbi_, &key, &value)) fail(StatusCode::kNotFound, what, rc);
  return parse_npy(value.mv_data, value.mv_size, what + " (each record must be an .npy file's bytes)");
}

}  // namespace lq::calibration
