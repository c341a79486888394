// Validation of JSON configuration (the quant config, the pipeline config): errors name the
// JSON path, the offending key or value, what is allowed, and the nearest valid key.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace lq::json_check {

// Throws kInvalidArgument "<what> <path>: <message>".
[[noreturn]] void fail(const std::string& what, const std::string& path, const std::string& message);
// Every key of `object` must be in `allowed`; otherwise names the nearest allowed key.
void keys(const nlohmann::json& object, const std::string& what, const std::string& path,
          const std::vector<std::string>& allowed);
std::string joined(const std::vector<std::string>& items);

}  // namespace lq::json_check
