// .lqm load past the checksum: the input is the protobuf payload alone; the target writes
// the header (lib/compiler/program_io.cpp's layout) with the payload's true CRC-32, so the
// mutations reach the protobuf parse and the Program checks.
#include <array>
#include <cstring>
#include <vector>

#include "fuzz_common.hpp"
#include "libquant/compiler.hpp"

namespace {

uint32_t crc32(const uint8_t* data, size_t size) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int bit = 0; bit < 8; ++bit) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

void store_le(uint8_t* out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr uint8_t kMagic[8] = {0x89, 'L', 'Q', 'M', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> file(24 + size);
  std::memcpy(file.data(), kMagic, 8);
  store_le(&file[8], 1, 4);  // format version
  store_le(&file[12], size, 8);
  store_le(&file[20], crc32(data, size), 4);
  if (size) std::memcpy(file.data() + 24, data, size);
  lq::fuzz::expect_only_lq_errors([&] { lq::Program::parse(file.data(), file.size()); });
  return 0;
}
