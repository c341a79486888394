#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "libquant/tensor.hpp"

using namespace lq;

TEST_CASE("float16 conversion is exact on representable values and rounds to even", "[tensor]") {
  // Every finite half value survives half -> float -> half.
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const auto h = static_cast<uint16_t>(bits);
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;  // NaN payloads
    REQUIRE(float_to_half(half_to_float(h)) == h);
  }
  REQUIRE(half_to_float(0x3c00) == 1.0f);
  REQUIRE(half_to_float(0xc000) == -2.0f);
  REQUIRE(half_to_float(0x0001) == std::ldexp(1.0f, -24));
  // 1 + 2^-11 is halfway between 1 and the next half: ties go to the even mantissa (1.0).
  REQUIRE(float_to_half(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);
  REQUIRE(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);
  REQUIRE(float_to_half(1e6f) == 0x7c00);
  REQUIRE(std::isnan(half_to_float(float_to_half(NAN))));
}

TEST_CASE("cast follows ONNX: truncation toward zero, saturation, bool", "[tensor]") {
  const Tensor f = Tensor::from_vector<float>({5}, {-1.7f, -0.2f, 0.0f, 2.9f, 300.0f});
  REQUIRE(f.cast(DType::kInt32).to_int64s() == std::vector<int64_t>{-1, 0, 0, 2, 300});
  REQUIRE(f.cast(DType::kInt8).to_int64s() == std::vector<int64_t>{-1, 0, 0, 2, 127});
  REQUIRE(f.cast(DType::kBool).to_int64s() == std::vector<int64_t>{1, 1, 0, 1, 1});
  REQUIRE(f.cast(DType::kInt4).to_int64s() == std::vector<int64_t>{-1, 0, 0, 2, 7});
}

TEST_CASE("tensors check dtype on typed access and share owned buffers", "[tensor]") {
  Tensor t(DType::kFloat32, {2, 3});
  REQUIRE(t.nbytes() == 24);
  REQUIRE_THROWS_WITH(t.data<int32_t>(), Catch::Contains("float32") && Catch::Contains("int32"));
  Tensor view = t.reshaped({3, 2});
  view.data<float>()[5] = 4.0f;
  REQUIRE(t.data<float>()[5] == 4.0f);
  Tensor copy = t.clone();
  copy.data<float>()[5] = 1.0f;
  REQUIRE(t.data<float>()[5] == 4.0f);
  REQUIRE_THROWS(t.reshaped({7}));
  REQUIRE_THROWS_WITH(Tensor(DType::kFloat32, {2, -1}), Catch::Contains("negative dimension"));
}

TEST_CASE(".npy round trip for every dtype and rank", "[npy]") {
  std::mt19937 rng(7);
  const std::vector<DType> dtypes = {DType::kFloat32, DType::kFloat16, DType::kFloat64, DType::kInt8,
                                     DType::kUInt8,   DType::kInt16,   DType::kUInt16,  DType::kInt32,
                                     DType::kUInt32,  DType::kInt64,   DType::kUInt64,  DType::kBool};
  const std::vector<Shape> shapes = {{}, {0}, {5}, {2, 3}, {1, 3, 4, 5}};
  for (DType dtype : dtypes) {
    for (const Shape& shape : shapes) {
      Tensor t(dtype, shape);
      auto* bytes = static_cast<uint8_t*>(t.raw());
      for (size_t i = 0; i < t.nbytes(); ++i) bytes[i] = static_cast<uint8_t>(rng());
      if (dtype == DType::kBool) {
        for (size_t i = 0; i < t.nbytes(); ++i) bytes[i] &= 1;
      }
      const std::string file = serialize_npy(t);
      REQUIRE(file.size() % 64 == t.nbytes() % 64);  // the header is padded to 64 bytes
      const Tensor back = parse_npy(file.data(), file.size());
      REQUIRE(back.dtype() == dtype);
      REQUIRE(back.shape() == shape);
      REQUIRE(std::memcmp(back.raw(), t.raw(), t.nbytes()) == 0);
    }
  }
}

TEST_CASE(".npy reader accepts numpy's own header and rejects bad files", "[npy]") {
  // Bytes as numpy 1.24 writes np.arange(6, dtype='<i4').reshape(2, 3).
  std::string header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }";
  header.append(128 - 10 - header.size() - 1, ' ');
  header += '\n';
  std::string file = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header;
  for (int32_t i = 0; i < 6; ++i) file.append(reinterpret_cast<const char*>(&i), 4);
  const Tensor t = parse_npy(file.data(), file.size());
  REQUIRE(t.shape() == Shape{2, 3});
  REQUIRE(t.to_int64s() == std::vector<int64_t>{0, 1, 2, 3, 4, 5});

  REQUIRE_THROWS_WITH(parse_npy(file.data(), file.size() - 1, "x.npy"),
                      Catch::Contains("x.npy") && Catch::Contains("needs 24"));
  REQUIRE_THROWS_WITH(parse_npy("garbage!!!!!", 12, "g.npy"), Catch::Contains("bad magic"));
  std::string big_endian = file;
  big_endian.replace(big_endian.find("<i4"), 3, ">i4");
  REQUIRE_THROWS_WITH(parse_npy(big_endian.data(), big_endian.size()), Catch::Contains("'>i4'"));
  std::string fortran = file;
  fortran.replace(fortran.find("False"), 5, "True ");
  REQUIRE_THROWS_WITH(parse_npy(fortran.data(), fortran.size()), Catch::Contains("Fortran"));
  REQUIRE_THROWS_AS(load_npy("/nonexistent/file.npy"), Error);
}

TEST_CASE(".npy headers that declare more data than the file holds are refused before allocating",
          "[npy][errors][limits]") {
  // A 200-byte file whose header declares 10^11 float32 elements.
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 1000000), }";
  header.append(128 - 10 - header.size() - 1, ' ');
  header += '\n';
  std::string file = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header;
  file.append(72, '\0');
  REQUIRE(file.size() == 200);
  REQUIRE_THROWS_WITH(parse_npy(file.data(), file.size(), "hostile.npy"),
                      Catch::Contains("hostile.npy: data has 72 bytes, shape [100000,1000000] of float32 "
                                      "needs 400000000000"));
  // A shape whose byte count overflows 64 bits.
  std::string overflow = file;
  overflow.replace(overflow.find("(100000, 1000000)"), 17, "(4611686018427387904, 4)");
  REQUIRE_THROWS_WITH(parse_npy(overflow.data(), overflow.size(), "o.npy"),
                      Catch::Contains("needs more than 64 bits count"));
}

TEST_CASE("save_npy and load_npy use the file system", "[npy]") {
  const auto path = std::filesystem::temp_directory_path() / "lq_test_roundtrip.npy";
  const Tensor t = Tensor::from_vector<float>({2, 2}, {1.5f, -2.0f, 3.25f, 0.0f});
  save_npy(t, path.string());
  const Tensor back = load_npy(path.string());
  REQUIRE(back.to_doubles() == t.to_doubles());
  std::filesystem::remove(path);
}

TEST_CASE("npy: a header of 1 MiB is refused or read without deep recursion (fuzz regression)", "[graph][npy]") {
  // libstdc++'s std::regex recursed once per header character and overflowed the stack.
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'pad': '";
  header += std::string(1 << 20, 'x') + "', }";
  header += std::string(64 - (10 + header.size() + 1) % 64, ' ') + "\n";
  std::string file = std::string("\x93NUMPY\x02\x00", 8);
  for (int i = 0; i < 4; ++i) file += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  file += header + std::string(4, '\0');
  const Tensor t = parse_npy(file.data(), file.size());
  REQUIRE(t.shape() == Shape{1});
  REQUIRE_THROWS_WITH(parse_npy(file.data(), file.size() - 1), Catch::Contains("needs 4"));
}
