// NumPy .npy reading and writing (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
#include <fmt/format.h>

#include <cstdio>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

#include "libquant/tensor.hpp"

namespace lq {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

struct Descr {
  const char* code;
  DType dtype;
};
// '|' marks byte-sized types; '<' little endian. Int4 is written as int8.
constexpr Descr kDescrs[] = {
    {"<f4", DType::kFloat32}, {"<f2", DType::kFloat16}, {"<f8", DType::kFloat64},
    {"|i1", DType::kInt8},    {"|u1", DType::kUInt8},   {"<i2", DType::kInt16},
    {"<u2", DType::kUInt16},  {"<i4", DType::kInt32},   {"<u4", DType::kUInt32},
    {"<i8", DType::kInt64},   {"<u8", DType::kUInt64},  {"|b1", DType::kBool},
};

[[noreturn]] void bad_npy(const std::string& context, const std::string& what) {
  throw Error(StatusCode::kInvalidArgument, fmt::format("{}: {}", context, what));
}

DType dtype_from_descr(std::string descr, const std::string& context) {
  if (descr.size() == 3 && descr[0] == '=') descr[0] = '<';  // native order on little endian
  for (const auto& d : kDescrs) {
    if (descr == d.code) return d.dtype;
    if (descr[0] == '<' && d.code[0] == '|' && descr.substr(1) == d.code + 1) return d.dtype;
  }
  bad_npy(context, fmt::format("unsupported dtype '{}' (use little-endian float/int/bool)", descr));
}

const char* descr_of(DType dtype) {
  const DType stored = dtype == DType::kInt4 ? DType::kInt8 : dtype;
  for (const auto& d : kDescrs) {
    if (d.dtype == stored) return d.code;
  }
  throw Error(StatusCode::kInvalidArgument,
              fmt::format("cannot write a tensor of dtype {} as .npy", dtype_name(dtype)));
}

// A linear scan, not std::regex: libstdc++'s regex recurses once per character matched, so a
// long header (a file may declare up to 4 GiB of it) overflowed the stack, and compiling the
// patterns dominated the time of small files.
std::string header_field(const std::string& header, const std::string& key,
                         const std::string& context) {
  // Values are a quoted string, True/False or a tuple.
  const std::string quoted = "'" + key + "'";
  for (size_t at = header.find(quoted); at != std::string::npos; at = header.find(quoted, at + 1)) {
    size_t i = at + quoted.size();
    while (i < header.size() && std::isspace(static_cast<unsigned char>(header[i]))) ++i;
    if (i >= header.size() || header[i] != ':') continue;
    ++i;
    while (i < header.size() && std::isspace(static_cast<unsigned char>(header[i]))) ++i;
    if (i >= header.size()) break;
    if (header.compare(i, 4, "True") == 0) return "True";
    if (header.compare(i, 5, "False") == 0) return "False";
    const char open = header[i];
    const char close = open == '\'' ? '\'' : (open == '(' ? ')' : '\0');
    if (close == '\0') continue;
    const size_t end = header.find(close, i + 1);
    if (end == std::string::npos) break;
    return header.substr(i, end - i + 1);
  }
  bad_npy(context, fmt::format("header has no '{}' entry", key));
}

Shape parse_shape(const std::string& tuple, const std::string& context) {
  Shape shape;
  std::string inner = tuple.substr(1, tuple.size() - 2);
  std::stringstream stream(inner);
  std::string item;
  while (std::getline(stream, item, ',')) {
    const size_t start = item.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    try {
      size_t used = 0;
      const long long dim = std::stoll(item.substr(start), &used);
      if (dim < 0) throw std::invalid_argument("negative");
      shape.push_back(dim);
    } catch (const std::exception&) {
      bad_npy(context, fmt::format("bad shape {} in header", tuple));
    }
  }
  return shape;
}

}  // namespace

Tensor parse_npy(const void* data, size_t size, const std::string& context) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (size < kMagicSize + 4 || std::memcmp(bytes, kMagic, kMagicSize) != 0) {
    bad_npy(context, "not a .npy file (bad magic)");
  }
  const uint8_t major = bytes[6];
  size_t header_len = 0;
  size_t offset = 0;
  if (major == 1) {
    header_len = bytes[8] | (bytes[9] << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) bad_npy(context, "truncated header");
    header_len = bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (static_cast<size_t>(bytes[11]) << 24);
    offset = 12;
  } else {
    bad_npy(context, fmt::format("unsupported .npy format version {}", major));
  }
  if (offset + header_len > size) bad_npy(context, "truncated header");
  const std::string header(reinterpret_cast<const char*>(bytes + offset), header_len);
  offset += header_len;

  std::string descr = header_field(header, "descr", context);
  descr = descr.substr(1, descr.size() - 2);
  if (header_field(header, "fortran_order", context) == "True") {
    bad_npy(context, "Fortran-ordered arrays are not supported (save np.ascontiguousarray(a))");
  }
  const DType dtype = dtype_from_descr(descr, context);
  const Shape shape = parse_shape(header_field(header, "shape", context), context);
  // The header is checked against the bytes the file holds before anything is allocated.
  const int64_t needed = checked_nbytes(dtype, shape);
  if (needed < 0 || static_cast<uint64_t>(needed) != size - offset) {
    bad_npy(context, fmt::format("data has {} bytes, shape {} of {} needs {}", size - offset,
                                 shape_str(shape), dtype_name(dtype),
                                 needed < 0 ? "more than 64 bits count" : std::to_string(needed)));
  }
  Tensor t(dtype, shape);
  std::memcpy(t.raw(), bytes + offset, t.nbytes());
  return t;
}

Tensor load_npy(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(StatusCode::kNotFound, fmt::format("cannot open .npy file '{}'", path));
  std::ostringstream buffer;
  buffer << file.rdbuf();
  const std::string bytes = buffer.str();
  return parse_npy(bytes.data(), bytes.size(), path);
}

std::string serialize_npy(const Tensor& tensor) {
  std::string shape = "(";
  for (size_t i = 0; i < tensor.rank(); ++i) shape += std::to_string(tensor.dim(i)) + ",";
  if (tensor.rank() > 1) shape.pop_back();
  shape += ")";
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                   descr_of(tensor.dtype()), shape);
  // Pad so the data starts at a multiple of 64 bytes, ending the header with '\n'.
  const size_t unpadded = kMagicSize + 4 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out(kMagic, kMagicSize);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(static_cast<const char*>(tensor.raw()), tensor.nbytes());
  return out;
}

void save_npy(const Tensor& tensor, const std::string& path) {
  const std::string bytes = serialize_npy(tensor);
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) throw Error(StatusCode::kIoError, fmt::format("cannot write .npy file '{}'", path));
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!file) throw Error(StatusCode::kIoError, fmt::format("writing .npy file '{}' failed", path));
}

}  // namespace lq
