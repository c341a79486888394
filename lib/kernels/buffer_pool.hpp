// Reuses the buffers of kernel outputs across the steps and runs of a Simulator. A tensor
// allocated here gives its buffer back when its last copy goes; the next output of the
// same size takes it (zero-filled, as every owned Tensor is) instead of fresh pages from
// the system, which for PP-OCR det at 640x640 (about 240 MB of outputs per run) spared
// a fifth of the float Simulator's time. Thread-safe; tensors may outlive the pool.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "libquant/tensor.hpp"

namespace lq::kernels {

class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  // Buffers smaller than this come from the allocator directly (fast enough there).
  static constexpr size_t kMinPooledBytes = 64 * 1024;

  ~BufferPool();
  // An owned, zero-filled tensor, like Tensor(dtype, shape).
  Tensor allocate(DType dtype, Shape shape);
  // The same without zero-filling a reused buffer, for a kernel that writes every element
  // before anything reads the tensor (a fresh buffer is still zero-filled).
  Tensor allocate_uninitialized(DType dtype, Shape shape);
  // Bytes held for reuse (not in any tensor).
  size_t cached_bytes() const;

 private:
  void give_back(size_t bytes, uint8_t* data);
  // A zero-filled buffer of `bytes`, from the free list or new.
  std::shared_ptr<void> take(size_t bytes, bool zero = true);
  Tensor allocate(DType dtype, Shape shape, bool zero);

  mutable std::mutex mutex_;
  std::unordered_map<size_t, std::vector<uint8_t*>> free_;  // by size in bytes
  size_t cached_ = 0;
};

}  // namespace lq::kernels
