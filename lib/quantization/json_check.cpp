#include "quantization/json_check.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "graph/nearest_name.hpp"
#include "libquant/status.hpp"

namespace lq::json_check {

void fail(const std::string& what, const std::string& path, const std::string& message) {
  throw Error(StatusCode::kInvalidArgument, fmt::format("{} {}: {}", what, path.empty() ? "/" : path, message));
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

void keys(const nlohmann::json& object, const std::string& what, const std::string& path,
          const std::vector<std::string>& allowed) {
  if (!object.is_object()) fail(what, path, "should be an object (key: value pairs)");
  for (const auto& item : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), item.key()) != allowed.end()) continue;
    fail(what, path + "/" + item.key(),
         fmt::format("unknown key '{}'; did you mean '{}'? Allowed keys: {}", item.key(),
                     nearest_name(item.key(), allowed), joined(allowed)));
  }
}

}  // namespace lq::json_check
