#include "cli.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "libquant/status.hpp"

namespace lq::cli {

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw Error(StatusCode::kNotFound, fmt::format("cannot open config file '{}'", path));
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

int parse_positive(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used == text.size() && value > 0) return value;
  } catch (const std::exception&) {
  }
  throw UsageError(fmt::format("{} needs a positive whole number, got '{}'", flag, text));
}

double parse_number(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  throw UsageError(fmt::format("{} needs a number, got '{}'", flag, text));
}

std::pair<std::string, std::string> split_assignment(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos) return {"", text};
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::vector<double> parse_numbers(const std::string& flag, const std::string& text) {
  std::vector<double> values;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) values.push_back(parse_number(flag, item));
  if (values.empty()) throw UsageError(fmt::format("{} needs at least one number", flag));
  return values;
}

std::string file_name_for(const std::string& tensor_name) {
  std::string name = tensor_name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  }
  return name;
}

Progress::Progress(std::string label) : label_(std::move(label)), terminal_(isatty(STDERR_FILENO) != 0) {}

void Progress::update(int64_t done, int64_t total) {
  if (total <= 0) return;
  if (terminal_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * done / total);
    fmt::print(stderr, "\r{} [{}{}] {}/{}", label_, std::string(static_cast<size_t>(filled), '#'),
               std::string(static_cast<size_t>(kWidth - filled), ' '), done, total);
    std::fflush(stderr);
    return;
  }
  const int decile = static_cast<int>(10 * done / total);
  if (decile != last_decile_) {
    last_decile_ = decile;
    fmt::print(stderr, "{}: {}/{}\n", label_, done, total);
  }
}

void Progress::finish() {
  if (terminal_) fmt::print(stderr, "\n");
}

}  // namespace lq::cli
