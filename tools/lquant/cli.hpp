// Shared pieces of the lquant verbs.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace lq {
struct PrecisionReport;
}

namespace lq::cli {

// Exit codes, documented in `lquant --help`.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;  // the job failed: bad model, bad input, I/O error
constexpr int kExitUsage = 2;  // the command line is wrong

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int parse_positive(const std::string& flag, const std::string& text);
double parse_number(const std::string& flag, const std::string& text);
// "NAME=VALUE" -> {NAME, VALUE}; no '=' -> {"", VALUE}.
std::pair<std::string, std::string> split_assignment(const std::string& text);
// Comma-separated numbers: "127.5" or "123.7,116.3,103.5".
std::vector<double> parse_numbers(const std::string& flag, const std::string& text);
// The whole text of a config file; throws lq::Error (kNotFound) naming it.
std::string read_text(const std::string& path);
// A file name for a tensor name: characters other than [A-Za-z0-9._-] become '_'.
std::string file_name_for(const std::string& tensor_name);

// A progress bar with counts, elapsed time and time left on a terminal (stderr); a plain
// line per 10% otherwise (logs, pipes): "calibrating: 8/16, 1.2 s, about 1.2 s left".
class Progress {
 public:
  explicit Progress(std::string label);
  void update(int64_t done, int64_t total);
  void finish();  // ends the bar's line on a terminal

 private:
  std::string label_;
  bool terminal_;
  bool drawn_ = false;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_;
};

// One Progress per step of a StepProgress callback (PipelineOptions::progress), each
// finished when the next step starts.
class StepProgressDisplay {
 public:
  void update(const std::string& step, int64_t done, int64_t total);
  void finish();

 private:
  std::string step_;
  std::unique_ptr<Progress> progress_;
};

int run_verb(const std::vector<std::string>& args);
int quantize_verb(const std::vector<std::string>& args);
int build_verb(const std::vector<std::string>& args);
int calibrate_verb(const std::vector<std::string>& args);
int merge_stats_verb(const std::vector<std::string>& args);
int analyze_verb(const std::vector<std::string>& args);
// The precision report's outputs and first suggestions, and where it was written.
void print_report_summary(const PrecisionReport& report, const std::string& out_dir);
int targets_verb(const std::vector<std::string>& args);
int check_verb(const std::vector<std::string>& args);
int estimate_verb(const std::vector<std::string>& args);

}  // namespace lq::cli
