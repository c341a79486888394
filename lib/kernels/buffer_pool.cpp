#include "kernels/buffer_pool.hpp"

#include <cstring>

namespace lq::kernels {

BufferPool::~BufferPool() {
  for (auto& [bytes, list] : free_) {
    for (uint8_t* data : list) delete[] data;
  }
}

Tensor BufferPool::allocate(DType dtype, Shape shape) { return allocate(dtype, std::move(shape), true); }

Tensor BufferPool::allocate_uninitialized(DType dtype, Shape shape) {
  return allocate(dtype, std::move(shape), false);
}

Tensor BufferPool::allocate(DType dtype, Shape shape, bool zero) {
  for (int64_t d : shape) {
    if (d < 0) return Tensor(dtype, std::move(shape));  // throws, naming the shape
  }
  const size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  if (bytes < kMinPooledBytes) return Tensor(dtype, std::move(shape));
  return Tensor::from_storage(dtype, std::move(shape), take(bytes, zero));
}

std::shared_ptr<void> BufferPool::take(size_t bytes, bool zero) {
  uint8_t* data = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(bytes);
    if (it != free_.end() && !it->second.empty()) {
      data = it->second.back();
      it->second.pop_back();
      cached_ -= bytes;
    }
  }
  if (data) {
    if (zero) std::memset(data, 0, bytes);
  } else {
    data = new uint8_t[bytes]();
  }
  std::weak_ptr<BufferPool> pool = weak_from_this();
  return std::shared_ptr<void>(data, [pool, bytes](void* p) {
    if (auto alive = pool.lock()) {
      alive->give_back(bytes, static_cast<uint8_t*>(p));
    } else {
      delete[] static_cast<uint8_t*>(p);
    }
  });
}

size_t BufferPool::cached_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cached_;
}

void BufferPool::give_back(size_t bytes, uint8_t* data) {
  std::lock_guard<std::mutex> lock(mutex_);
  free_[bytes].push_back(data);
  cached_ += bytes;
}

}  // namespace lq::kernels
