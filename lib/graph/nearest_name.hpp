// "Did you mean ...?": the candidate closest to a misspelled name, for error messages.
#pragma once

#include <string>
#include <vector>

namespace lq {

// The candidate with the smallest edit distance to `name` (case-insensitive); "" if none.
std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace lq
