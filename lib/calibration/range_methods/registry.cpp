// The range method registry: lookup by name, the built-in list, and choose_range's checks
// shared by every method.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "calibration/range_methods/builtin.hpp"
#include "calibration/range_methods/clipping.hpp"

namespace lq {

namespace {

std::string lower_case(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// "a, b or c"
std::string listing(const std::vector<std::string>& names, const char* last_separator) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? last_separator : ", ";
    out += names[i];
  }
  return out;
}

// A name whose range the Quantizer decides per tensor: valid in configs, no range function.
RangeMethodInfo decided_by_quantizer(const RangeMethod& method) {
  RangeMethodInfo m;
  m.name = method.name();
  return m;
}

[[noreturn]] void throw_unknown(const std::string& name, const std::vector<std::string>& valid) {
  throw Error(StatusCode::kInvalidArgument,
              fmt::format("unknown range method \"{}\"; valid methods: {}", name, listing(valid, ", ")));
}

}  // namespace

const RangeMethodRegistry& RangeMethodRegistry::builtin() {
  static const RangeMethodRegistry registry = [] {
    RangeMethodRegistry r;
#define LQ_ADD_RANGE_METHOD(name) r.add(range_methods::name##_range_method());
    LQ_BUILTIN_RANGE_METHODS(LQ_ADD_RANGE_METHOD)
#undef LQ_ADD_RANGE_METHOD
    r.add(decided_by_quantizer(RangeMethod::kAuto));  // tries the auto candidates
    r.add(decided_by_quantizer(RangeMethod::kSkip));  // no calibration data
    return r;
  }();
  return registry;
}

void RangeMethodRegistry::add(RangeMethodInfo method) {
  std::vector<std::string> spellings = method.aliases;
  spellings.insert(spellings.begin(), method.name);
  for (const std::string& s : spellings) {
    if (s.empty() || s != lower_case(s)) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("range method \"{}\": names and aliases are non-empty and lower case, got \"{}\"",
                              method.name, s));
    }
    if (find(s)) {
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("range method \"{}\": the name \"{}\" is already registered", method.name, s));
    }
  }
  methods_.push_back(std::move(method));
}

const RangeMethodInfo* RangeMethodRegistry::find(const std::string& name) const {
  const std::string lower = lower_case(name);
  for (const RangeMethodInfo& m : methods_) {
    if (m.name == lower || std::count(m.aliases.begin(), m.aliases.end(), lower)) return &m;
  }
  return nullptr;
}

RangeMethod RangeMethodRegistry::parse(const std::string& name) const {
  if (const RangeMethodInfo* m = find(name)) return RangeMethod(m->name);
  throw_unknown(name, names());
}

std::vector<std::string> RangeMethodRegistry::names() const {
  std::vector<std::string> out;
  for (const RangeMethodInfo& m : methods_) out.push_back(m.name);
  return out;
}

std::vector<RangeMethod> RangeMethodRegistry::auto_candidates() const {
  std::vector<RangeMethod> out;
  for (const RangeMethodInfo& m : methods_) {
    if (m.auto_candidate) out.emplace_back(m.name);
  }
  return out;
}

Range RangeMethodRegistry::choose(const TensorStats& stats, const RangeOptions& options) const {
  if (options.bits < 2 || options.bits > 32) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("range options: bits is {}, expected 2 to 32", options.bits));
  }
  const RangeMethodInfo* method = find(options.method.name());
  if (!method) throw_unknown(options.method.name(), names());
  if (method->check) method->check(options);
  if (!method->choose) {
    std::vector<std::string> functions;
    for (const RangeMethodInfo& m : methods_) {
      if (m.choose) functions.push_back(m.name);
    }
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("range method {} is decided per tensor by the Quantizer; choose_range takes {}",
                            method->name, listing(functions, " or ")));
  }
  if (stats.count == 0) {
    throw Error(StatusCode::kFailedPrecondition,
                "choose_range: the statistics hold no data; run calibration samples through "
                "the tensor first (or use the skip method)");
  }
  if (stats.histogram.limit() == 0.0) return range_methods::finish(0.0, 0.0, stats, options.symmetric);
  const Range r = method->choose(stats, options);
  if (!(r.min <= 0.0 && r.max >= 0.0 && r.max > r.min)) {
    throw Error(StatusCode::kInternal,
                fmt::format("range method {} returned [{}, {}], which does not contain 0 or is empty "
                            "(range methods end with range_methods::finish)",
                            method->name, r.min, r.max));
  }
  return r;
}

std::string range_method_name(const RangeMethod& method) { return method.name(); }

RangeMethod parse_range_method(const std::string& name) { return RangeMethodRegistry::builtin().parse(name); }

std::vector<RangeMethod> auto_range_candidates() { return RangeMethodRegistry::builtin().auto_candidates(); }

Range choose_range(const TensorStats& stats, const RangeOptions& options) {
  return RangeMethodRegistry::builtin().choose(stats, options);
}

}  // namespace lq
