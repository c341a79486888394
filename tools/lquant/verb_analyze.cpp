// lquant analyze: where a quantized model lost its accuracy, layer by layer (the precision
// report of lib/analysis: report.json, report.html, dumps).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iostream>

#include "cli.hpp"
#include "libquant/analysis.hpp"

namespace lq::cli {

namespace {

const char* kAnalyzeHelp = R"(usage: lquant analyze QUANT_DIR --data NAME=DIR ... --out DIR [--images ...] [--sensitivity] [--dump SAMPLE]

Reads what `lquant quantize --out QUANT_DIR` wrote (model.float.onnx, quant_params.json,
model.lqm), runs every sample through the float model and the fixed-point program and
measures every quantized tensor: its error against float in the program (cumulative) and
quantized alone (isolated), its histogram and clip range, and for weights the spread of
the channel ranges. Writes:
  DIR/report.json    the figures (schema: docs/report-schema.md)
  DIR/report.html    one self-contained page: SNR along the graph, offenders, histograms,
                     suggestions
  DIR/dumps/         with --dump: every tensor of that sample, float/ and fixed/, as .npy

  --data NAME=DIR    samples for model input NAME: a folder of .npy files (sorted by name),
                     or of pictures with --images; NAME= may be left out for a one-input model
  --images           the folders hold pictures (.png .jpg .jpeg .bmp), read as `lquant
                     quantize --images` reads them (give the same options as there):
    --image-size HxW   target size, e.g. 48x192
    --resize MODE      stretch (default) | fit-height-pad | none
    --color ORDER      rgb (default) | bgr | gray
    --mean A[,B,C]     subtracted from pixels in [0, 255] (default 0)
    --scale A[,B,C]    multiplied after the mean (default 1)
  --sensitivity      also the model outputs' SNR with only each tensor quantized, and the
                     gain if only it went int16 (two fake-quantized runs per tensor on up to
                     8 samples); the 5 largest gains are measured again on the integer
                     program, recompiled with that tensor int16
  --target NAME|FILE.json  the target those programs are compiled for (default generic)
  --dump SAMPLE      dump every tensor of sample SAMPLE (0-based)
  --threads N        Simulator threads (default 1)
)";

std::array<float, 3> three_values(const std::string& flag, const std::string& text) {
  const auto values = parse_numbers(flag, text);
  if (values.size() != 1 && values.size() != 3) throw UsageError(flag + " takes one or three numbers");
  std::array<float, 3> out{};
  for (size_t c = 0; c < 3; ++c) out[c] = static_cast<float>(values[values.size() == 1 ? 0 : c]);
  return out;
}

}  // namespace

int analyze_verb(const std::vector<std::string>& args) {
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << kAnalyzeHelp;
    return kExitOk;
  }
  std::string quant_dir, out_dir;
  std::map<std::string, std::string> data;
  AnalysisOptions options;
  bool images = false;
  ImagePreprocess preprocess;
  preprocess.resize = ResizeMode::kStretch;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError(arg + " needs a value");
      return args[++i];
    };
    if (arg == "--data") {
      const auto [name, dir] = split_assignment(value());
      if (data.count(name)) throw UsageError(fmt::format("--data {}= is given twice", name));
      data[name] = dir;
    } else if (arg == "--out") {
      out_dir = value();
    } else if (arg == "--sensitivity") {
      options.sensitivity = true;
    } else if (arg == "--dump") {
      const std::string& text = value();
      if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
        throw UsageError("--dump takes a sample number (0-based), got '" + text + "'");
      }
      options.dump_sample = std::stoul(text);
    } else if (arg == "--threads") {
      options.threads = parse_positive(arg, value());
    } else if (arg == "--target") {
      options.target = Target::from_name_or_file(value());
    } else if (arg == "--images") {
      images = true;
    } else if (arg == "--image-size") {
      const std::string& text = value();
      const size_t x = text.find('x');
      if (x == std::string::npos) throw UsageError("--image-size takes HxW, e.g. 48x192");
      preprocess.height = parse_positive(arg, text.substr(0, x));
      preprocess.width = parse_positive(arg, text.substr(x + 1));
    } else if (arg == "--resize") {
      const std::string& mode = value();
      if (mode == "stretch") preprocess.resize = ResizeMode::kStretch;
      else if (mode == "fit-height-pad") preprocess.resize = ResizeMode::kFitHeightPad;
      else if (mode == "none") preprocess.resize = ResizeMode::kNone;
      else throw UsageError("--resize takes stretch, fit-height-pad or none, got '" + mode + "'");
    } else if (arg == "--color") {
      const std::string& order = value();
      if (order == "rgb") preprocess.color = ColorOrder::kRGB;
      else if (order == "bgr") preprocess.color = ColorOrder::kBGR;
      else if (order == "gray") preprocess.color = ColorOrder::kGray;
      else throw UsageError("--color takes rgb, bgr or gray, got '" + order + "'");
    } else if (arg == "--mean") {
      preprocess.mean = three_values(arg, value());
    } else if (arg == "--scale") {
      preprocess.scale = three_values(arg, value());
    } else if (!arg.empty() && arg[0] == '-') {
      throw UsageError(fmt::format("unknown option '{}' for analyze", arg));
    } else if (quant_dir.empty()) {
      quant_dir = arg;
    } else {
      throw UsageError(fmt::format("unexpected argument '{}' (QUANT_DIR is '{}')", arg, quant_dir));
    }
  }
  if (quant_dir.empty()) throw UsageError("analyze needs QUANT_DIR (what lquant quantize --out wrote)");
  if (data.empty()) throw UsageError("analyze needs --data NAME=DIR");
  if (out_dir.empty()) throw UsageError("analyze needs --out DIR");
  if (images && preprocess.resize != ResizeMode::kNone && preprocess.height == 0) {
    throw UsageError("--images needs --image-size HxW (or --resize none)");
  }
  std::map<std::string, CalibrationSource> sources;
  for (const auto& [name, dir] : data) sources[name] = CalibrationSource{{dir}, images, preprocess};
  StepProgressDisplay steps;
  options.progress = [&](const std::string& step, int64_t done, int64_t total) { steps.update(step, done, total); };
  const PrecisionReport report = analyze_quant_dir(quant_dir, sources, out_dir, options);
  steps.finish();
  print_report_summary(report, out_dir);
  return kExitOk;
}

void print_report_summary(const PrecisionReport& report, const std::string& out_dir) {
  fmt::print("analyzed {} quantized tensors over {} samples in {:.2f} s\n", report.tensors.size(), report.samples,
             report.seconds);
  for (const auto& [name, f] : report.outputs) {
    fmt::print("output \"{}\": SNR {:.2f} dB, cosine {:.5f} (fixed-point program against float)\n", name, f.snr_db,
               f.cosine);
  }
  for (size_t i = 0; i < report.suggestions.size() && i < 5; ++i) fmt::print("suggestion: {}\n", report.suggestions[i]);
  fmt::print("wrote {}/report.json, {}/report.html\n", out_dir, out_dir);
}

}  // namespace lq::cli
