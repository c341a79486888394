// One descriptor per integer kernel: its name, its stable .lqm code, how its parameters
// are stored, checked and run. The compiler emits instructions naming a descriptor, the
// .lqm reader and writer (compiler/program_io.cpp) go through its fields, the fixed-point
// Simulator calls its run. Adding an integer op is its kernel with a descriptor
// (make_kernel), its params struct and one line in the list LQ_INTEGER_KERNELS
// (integer_kernels.hpp), its lowering rule and its tests: see docs/adding-an-integer-op.md.
//
// Parameters are plain structs that list their fields once, by their .lqm names:
//
//   template <class V> void fields(V& v) { v("axis", axis); v("output", output); }
//
// A field is an int32 / int64 / bool / DType, a std::vector of int32 / int64, a struct with
// its own fields(), a std::vector of such structs, or a list of int64 lists, named with
// the inner field too: v("axes", "offsets", offsets).
#pragma once

#include <any>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <vector>

#include "kernels/integer/integer_kernels.hpp"
#include "kernels/thread_pool.hpp"
#include "libquant/tensor.hpp"

namespace lq::integer {

// ---- Visiting fields without knowing the struct: what a file format implements.

// The field kinds a params struct may hold. Writers read the references, readers assign
// them; nested structs are bracketed by begin_struct / end_struct.
class FieldVisitor {
 public:
  virtual ~FieldVisitor() = default;
  virtual void field(const char* name, int32_t& value) = 0;
  virtual void field(const char* name, int64_t& value) = 0;
  virtual void field(const char* name, bool& value) = 0;
  virtual void field(const char* name, DType& value) = 0;
  virtual void field(const char* name, std::vector<int32_t>& values) = 0;
  virtual void field(const char* name, std::vector<int64_t>& values) = 0;
  virtual void field(const char* name, const char* inner, std::vector<std::vector<int64_t>>& values) = 0;
  // A list of `count` structs (a single struct: repeated == false, count 1). Returns the
  // number of elements to visit: `count` for a writer, the stored number for a reader.
  virtual size_t begin_structs(const char* name, size_t count, bool repeated) = 0;
  virtual void begin_struct(size_t index) = 0;
  virtual void end_struct() = 0;
  virtual void end_structs() = 0;
};

namespace detail {

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {
  using element = T;
};

// Adapts a struct's fields(v) to a FieldVisitor, recursing into nested structs.
class Adapter {
 public:
  explicit Adapter(FieldVisitor& visitor) : visitor_(visitor) {}

  template <class T>
  void operator()(const char* name, T& value) {
    if constexpr (is_vector<T>::value) {
      using E = typename is_vector<T>::element;
      if constexpr (std::is_class_v<E> && !is_vector<E>::value) {
        const size_t n = visitor_.begin_structs(name, value.size(), true);
        value.resize(n);
        for (size_t i = 0; i < n; ++i) {
          visitor_.begin_struct(i);
          value[i].fields(*this);
          visitor_.end_struct();
        }
        visitor_.end_structs();
      } else {
        visitor_.field(name, value);
      }
    } else if constexpr (std::is_class_v<T>) {
      visitor_.begin_structs(name, 1, false);
      visitor_.begin_struct(0);
      value.fields(*this);
      visitor_.end_struct();
      visitor_.end_structs();
    } else {
      visitor_.field(name, value);
    }
  }
  void operator()(const char* name, const char* inner, std::vector<std::vector<int64_t>>& value) {
    visitor_.field(name, inner, value);
  }

 private:
  FieldVisitor& visitor_;
};

// The checks every kernel gets from its fields' types: each Multiplier in range, each
// OutputSpec of an activation dtype. The first problem is kept, phrased as program_io
// always has ("b_multiplier (mantissa 5, shift 0) is outside ...").
class GenericChecker {
 public:
  template <class T>
  void operator()(const char* name, const T& value) {
    if (!problem.empty()) return;
    if constexpr (std::is_same_v<T, Multiplier>) {
      check(value, prefix_ + name);
    } else if constexpr (std::is_same_v<T, std::vector<Multiplier>>) {
      for (size_t c = 0; c < value.size(); ++c) check(value[c], prefix_ + channel_label(c));
    } else if constexpr (std::is_same_v<T, OutputSpec>) {
      check(value);
    } else if constexpr (is_vector<T>::value) {
      using E = typename is_vector<T>::element;
      if constexpr (std::is_class_v<E> && !is_vector<E>::value) {
        const std::string saved = prefix_;
        for (size_t i = 0; i < value.size(); ++i) {
          prefix_ = saved + element_label(name, i);
          const_cast<E&>(value[i]).fields(*this);
        }
        prefix_ = saved;
      }
    } else if constexpr (std::is_class_v<T>) {
      const_cast<T&>(value).fields(*this);
    }
  }
  void operator()(const char*, const char*, const std::vector<std::vector<int64_t>>&) {}

  std::string problem;

 private:
  static std::string channel_label(size_t c);
  static std::string element_label(const char* list, size_t i);  // "inputs", 2 -> "input 2 "
  void check(const Multiplier& m, const std::string& field);
  void check(const OutputSpec& spec);

  std::string prefix_;
};

}  // namespace detail

// Whether kernels read and write `dtype` as activations: int8, uint8, int16.
bool is_activation_dtype(DType dtype);

// What a kernel runs on: its inputs in the instruction's order (an empty Tensor for an
// absent optional input) and the thread pool of the run.
struct KernelArgs {
  const std::vector<Tensor>& inputs;
  kernels::ThreadPool* pool = nullptr;

  const Tensor& in(size_t i) const { return inputs.at(i); }
  // Input i, or null when it is absent.
  const Tensor* optional(size_t i) const {
    return i < inputs.size() && !inputs[i].empty() ? &inputs[i] : nullptr;
  }
};

// The typed definition make_kernel turns into a descriptor.
template <class P>
struct KernelDefinition {
  using Run = std::function<std::vector<Tensor>(const KernelArgs&, const P&)>;
  using Check = std::function<std::string(const P&)>;
  using TableBytes = std::function<int64_t(const P&)>;

  KernelDefinition(std::string name, int code, std::string proto_field, Run run, Check check = nullptr,
                   TableBytes table_bytes = nullptr)
      : name(std::move(name)), code(code), proto_field(std::move(proto_field)), run(std::move(run)),
        check(std::move(check)), table_bytes(std::move(table_bytes)) {}

  std::string name;         // Program::layers() kernel name, e.g. "Conv"
  int code;                 // .lqm kernel code (program.proto's enum Kernel), never reused
  std::string proto_field;  // its message in Instruction.params; "" stores a generic Record
  Run run;
  // Kernel-specific checks of parameters read from a file: the problem, or "".
  Check check;
  // Bytes of tables the parameters hold (counted with the weights).
  TableBytes table_bytes;
};

// A type-erased kernel descriptor. Instructions hold its address; its parameters are
// a std::any holding its params type.
class IntegerKernel {
 public:
  const std::string& name() const { return name_; }
  int code() const { return code_; }
  const std::string& proto_field() const { return proto_field_; }
  std::type_index params_type() const { return params_type_; }
  bool holds_params(const std::any& params) const { return std::type_index(params.type()) == params_type_; }

  std::vector<Tensor> run(const KernelArgs& args, const std::any& params) const { return run_(args, params); }
  // Generic checks (Multipliers, OutputSpecs), then the kernel's own: the problem, or "".
  std::string check(const std::any& params) const { return check_(params); }
  int64_t table_bytes(const std::any& params) const { return table_bytes_(params); }
  // Passes every field of `params` to a writer (which must not assign them).
  void write_fields(const std::any& params, FieldVisitor& writer) const { write_(params, writer); }
  // Default parameters with every field assigned by a reader.
  std::any read_fields(FieldVisitor& reader) const { return read_(reader); }

  template <class P>
  friend IntegerKernel make_kernel(KernelDefinition<P> definition);

 private:
  IntegerKernel(std::string name, int code, std::string proto_field, std::type_index type)
      : name_(std::move(name)), code_(code), proto_field_(std::move(proto_field)), params_type_(type) {}

  std::string name_;
  int code_;
  std::string proto_field_;
  std::type_index params_type_;
  std::function<std::vector<Tensor>(const KernelArgs&, const std::any&)> run_;
  std::function<std::string(const std::any&)> check_;
  std::function<int64_t(const std::any&)> table_bytes_;
  std::function<void(const std::any&, FieldVisitor&)> write_;
  std::function<std::any(FieldVisitor&)> read_;
};

template <class P>
IntegerKernel make_kernel(KernelDefinition<P> d) {
  IntegerKernel k(d.name, d.code, d.proto_field, std::type_index(typeid(P)));
  k.run_ = [run = std::move(d.run)](const KernelArgs& args, const std::any& params) {
    return run(args, std::any_cast<const P&>(params));
  };
  k.check_ = [check = std::move(d.check)](const std::any& params) {
    const P& p = std::any_cast<const P&>(params);
    detail::GenericChecker generic;
    const_cast<P&>(p).fields(generic);
    if (!generic.problem.empty() || !check) return generic.problem;
    return check(p);
  };
  k.table_bytes_ = [bytes = std::move(d.table_bytes)](const std::any& params) -> int64_t {
    return bytes ? bytes(std::any_cast<const P&>(params)) : 0;
  };
  k.write_ = [](const std::any& params, FieldVisitor& writer) {
    detail::Adapter adapter(writer);
    const_cast<P&>(std::any_cast<const P&>(params)).fields(adapter);
  };
  k.read_ = [](FieldVisitor& reader) {
    P p;
    detail::Adapter adapter(reader);
    p.fields(adapter);
    return std::any(std::move(p));
  };
  return k;
}

// The .lqm code of the CPU instruction (compiler/program.hpp), which no kernel may take.
constexpr int kCpuKernelCode = 14;

// An immutable list of descriptors, looked up by name, code, .lqm field or params type.
class KernelRegistry {
 public:
  explicit KernelRegistry(std::vector<const IntegerKernel*> kernels);

  const std::vector<const IntegerKernel*>& kernels() const { return kernels_; }
  const IntegerKernel* find(std::string_view name) const;
  const IntegerKernel* find(int code) const;
  // The first kernel storing its parameters in `proto_field` (Mul before Div).
  const IntegerKernel* find_by_field(std::string_view proto_field) const;
  // The first kernel with parameters of this type.
  const IntegerKernel* find_by_params(std::type_index type) const;

 private:
  std::vector<const IntegerKernel*> kernels_;
};

// The built-in kernels (registry.cpp).
const KernelRegistry& kernel_registry();

// The built-in descriptors (conv_kernel(), ...), for the compiler's lowering and tests.
#define LQ_DECLARE_INTEGER_KERNEL(descriptor) const IntegerKernel& descriptor();
LQ_INTEGER_KERNELS(LQ_DECLARE_INTEGER_KERNEL)
#undef LQ_DECLARE_INTEGER_KERNEL

// ---- Helpers for descriptors.

// A kernel's one output as run's result.
std::vector<Tensor> single(Tensor output);
// A table indexed by the codes of `input` (int8, uint8: 256 entries; int16: 65536): the
// problem with it, or "".
std::string check_table(DType input, size_t entries, const char* what);

}  // namespace lq::integer
