#include "cli.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
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

Progress::Progress(std::string label)
    : label_(std::move(label)), terminal_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()) {}

namespace {

std::string duration_text(double seconds) {
  if (seconds < 60.0) return fmt::format("{:.1f} s", seconds);
  const auto whole = static_cast<int64_t>(seconds + 0.5);
  if (whole < 3600) return fmt::format("{}m{:02d}s", whole / 60, static_cast<int>(whole % 60));
  return fmt::format("{}h{:02d}m", whole / 3600, static_cast<int>(whole / 60 % 60));
}

}  // namespace

void Progress::update(int64_t done, int64_t total) {
  if (total <= 0) return;
  done = std::clamp<int64_t>(done, 0, total);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // The rate so far; nothing to say about the time left before the first unit is done.
  const std::string left = done == total ? "done"
                           : done > 0    ? "about " + duration_text(elapsed * static_cast<double>(total - done) /
                                                                 static_cast<double>(done)) + " left"
                                         : "";
  const std::string times = duration_text(elapsed) + (left.empty() ? "" : ", " + left);
  if (terminal_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * done / total);
    fmt::print(stderr, "\r{} [{}{}] {}/{}  {}\x1b[K", label_, std::string(static_cast<size_t>(filled), '#'),
               std::string(static_cast<size_t>(kWidth - filled), ' '), done, total, times);
    std::fflush(stderr);
    drawn_ = true;
    return;
  }
  const int decile = static_cast<int>(10 * done / total);
  if (decile != last_decile_) {
    last_decile_ = decile;
    fmt::print(stderr, "{}: {}/{}, {}\n", label_, done, total, times);
  }
}

void Progress::finish() {
  if (terminal_ && drawn_) fmt::print(stderr, "\n");
  drawn_ = false;
}

void StepProgressDisplay::update(const std::string& step, int64_t done, int64_t total) {
  if (!progress_ || step != step_) {
    finish();
    step_ = step;
    progress_ = std::make_unique<Progress>(step);
  }
  progress_->update(done, total);
}

void StepProgressDisplay::finish() {
  if (progress_) progress_->finish();
  progress_.reset();
}

}  // namespace lq::cli
