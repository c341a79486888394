// fuse_input_format: the conversion from camera pixels to the model's normalized input,
// checked against textbook BT.601 formulas written out here (independent of the library's
// derivation from Kr/Kb), and the fused program's integer outputs against the float model.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "kernel_test_util.hpp"
#include "libquant/analysis.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/compiler.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"
#include "libquant/simulator.hpp"

using namespace lq;

namespace {

constexpr int64_t kH = 8, kW = 12;
const std::vector<float> kMean = {123.675f, 116.28f, 103.53f};
const std::vector<float> kScale = {0.0171f, 0.0175f, 0.0174f};

// x[1,C,H,W] (or NHWC) -> Conv 3x3 (C -> 4, pad 1) -> Relu -> Conv 1x1 (4 -> 2) -> y
Graph small_model(int64_t channels, bool nhwc = false) {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  const Shape shape = nhwc ? Shape{1, kH, kW, channels} : Shape{1, channels, kH, kW};
  x->type() = TensorType{DType::kFloat32, true, {}};
  for (int64_t d : shape) x->type().dims.push_back(Dim{d, ""});
  g.add_input(x);
  Value* in = x;
  if (nhwc) {
    in = g.add_value("x_nchw");
    Node* t = g.add_node("Transpose", {x}, {in}, "to_nchw");
    t->set_attr("perm", test::attr_ints({0, 3, 1, 2}));
  }
  Value* w1 = g.add_value("w1");
  g.set_initializer(w1, test::random_tensor({4, channels, 3, 3}, 7, -0.5f, 0.5f));
  Value* b1 = g.add_value("b1");
  g.set_initializer(b1, test::random_tensor({4}, 8, -0.2f, 0.2f));
  Value* c1 = g.add_value("c1");
  Node* conv = g.add_node("Conv", {in, w1, b1}, {c1}, "conv1");
  conv->set_attr("pads", test::attr_ints({1, 1, 1, 1}));
  conv->set_attr("kernel_shape", test::attr_ints({3, 3}));
  Value* r = g.add_value("r");
  g.add_node("Relu", {c1}, {r}, "relu");
  Value* w2 = g.add_value("w2");
  g.set_initializer(w2, test::random_tensor({2, 4, 1, 1}, 9, -1.0f, 1.0f));
  Value* y = g.add_value("y");
  g.add_node("Conv", {r, w2}, {y}, "conv2");
  g.add_output(y);
  return g;
}

// Textbook BT.601 YCbCr -> RGB (ITU-R BT.601 / JFIF constants as published).
std::array<double, 3> textbook_rgb(double y, double u, double v, YuvRange range) {
  if (range == YuvRange::kVideo) {
    const double yy = 1.164383 * (y - 16.0);
    return {yy + 1.596027 * (v - 128.0), yy - 0.391762 * (u - 128.0) - 0.812968 * (v - 128.0),
            yy + 2.017232 * (u - 128.0)};
  }
  return {y + 1.402 * (v - 128.0), y - 0.344136 * (u - 128.0) - 0.714136 * (v - 128.0), y + 1.772 * (u - 128.0)};
}

Tensor random_pixels(const Shape& shape, uint32_t seed, int lo = 0, int hi = 255) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  Tensor t(DType::kFloat32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(dist(rng));
  return t;
}

// The normalized NCHW rgb (or bgr) input the float model expects for an nv12 frame.
Tensor reference_from_nv12(const Tensor& nv12, YuvRange range, bool bgr) {
  Tensor out(DType::kFloat32, {1, 3, kH, kW});
  const float* p = nv12.data<float>();
  for (int64_t y = 0; y < kH; ++y) {
    for (int64_t x = 0; x < kW; ++x) {
      const float* uv = p + kH * kW + (y / 2) * kW + (x / 2) * 2;
      const auto rgb = textbook_rgb(p[y * kW + x], uv[0], uv[1], range);
      for (int c = 0; c < 3; ++c) {
        const double value = rgb[static_cast<size_t>(bgr ? 2 - c : c)];
        out.data<float>()[(c * kH + y) * kW + x] = static_cast<float>((value - kMean[c]) * kScale[c]);
      }
    }
  }
  return out;
}

// Runs `fused` (its normalized input made an extra output) on `raw`, returning that value.
Tensor normalized_of(Graph& fused, const Tensor& raw) {
  fused.add_output(fused.find_value("x/normalized"));
  return Simulator(fused).run({{"x", raw}}).at("x/normalized");
}

InputFormat format_of(PixelFormat runtime, PixelFormat train = PixelFormat::kRGB) {
  InputFormat f;
  f.runtime = runtime;
  f.train = train;
  if (train != PixelFormat::kGray && train != PixelFormat::kYUV444) {
    f.mean = kMean;
    f.scale = kScale;
  }
  return f;
}

}  // namespace

TEST_CASE("input format nv12 full and video range matches the textbook BT.601 conversion", "[passes]") {
  for (const YuvRange range : {YuvRange::kFull, YuvRange::kVideo}) {
    for (const bool bgr : {false, true}) {
      INFO((range == YuvRange::kFull ? "full" : "video") << (bgr ? " bgr" : " rgb"));
      Graph g = small_model(3);
      InputFormat f = format_of(PixelFormat::kNV12, bgr ? PixelFormat::kBGR : PixelFormat::kRGB);
      f.range = range;
      const std::vector<std::string> pixels = fuse_input_format(g, "x", f);
      REQUIRE(pixels.front() == "x");
      REQUIRE(g.value("x").type().static_shape() == Shape{1, kH * 3 / 2, kW});
      const Tensor nv12 = random_pixels({1, kH * 3 / 2, kW}, 11, range == YuvRange::kVideo ? 16 : 0,
                                        range == YuvRange::kVideo ? 235 : 255);
      const Tensor want = reference_from_nv12(nv12, range, bgr);
      // The whole model too: the fused graph on pixels equals the float model on the
      // normalized input.
      const Tensor fused_y = Simulator(g).run({{"x", nv12}}).at("y");
      const Graph plain = small_model(3);
      test::require_close(fused_y, Simulator(plain).run({{"x", want}}).at("y"), 2e-4, 1e-4);
      test::require_close(normalized_of(g, nv12), want, 2e-4, 1e-4);
    }
  }
}

TEST_CASE("input formats rgb bgr yuv444 gray nhwc fold channel order layout mean and scale", "[passes]") {
  SECTION("bgr pixels in NHWC into an rgb NCHW model") {
    Graph g = small_model(3);
    InputFormat f = format_of(PixelFormat::kBGR);
    f.runtime_layout = Layout::kNHWC;
    fuse_input_format(g, "x", f);
    const Tensor raw = random_pixels({1, kH, kW, 3}, 3);
    Tensor want(DType::kFloat32, {1, 3, kH, kW});
    for (int64_t y = 0; y < kH; ++y)
      for (int64_t x = 0; x < kW; ++x)
        for (int c = 0; c < 3; ++c)
          want.data<float>()[(c * kH + y) * kW + x] =
              (raw.data<float>()[(y * kW + x) * 3 + (2 - c)] - kMean[c]) * kScale[c];
    test::require_close(normalized_of(g, raw), want, 1e-5, 1e-5);
  }
  SECTION("yuv444 pixels into an NHWC rgb model") {
    Graph g = small_model(3, /*nhwc=*/true);
    fuse_input_format(g, "x", format_of(PixelFormat::kYUV444));
    const Tensor raw = random_pixels({1, 3, kH, kW}, 4);
    Tensor want(DType::kFloat32, {1, kH, kW, 3});
    for (int64_t y = 0; y < kH; ++y)
      for (int64_t x = 0; x < kW; ++x) {
        const float* p = raw.data<float>();
        const auto rgb = textbook_rgb(p[y * kW + x], p[(kH + y) * kW + x], p[(2 * kH + y) * kW + x], YuvRange::kFull);
        for (int c = 0; c < 3; ++c)
          want.data<float>()[(y * kW + x) * 3 + c] = static_cast<float>((rgb[static_cast<size_t>(c)] - kMean[c]) * kScale[c]);
      }
    test::require_close(normalized_of(g, raw), want, 2e-4, 1e-4);
  }
  SECTION("gray pixels with one mean and scale") {
    Graph g = small_model(1);
    InputFormat f = format_of(PixelFormat::kGray, PixelFormat::kGray);
    f.mean = {127.5f};
    f.scale = {1.0f / 127.5f};
    fuse_input_format(g, "x", f);
    const Tensor raw = random_pixels({1, 1, kH, kW}, 5);
    Tensor want(DType::kFloat32, {1, 1, kH, kW});
    for (int64_t i = 0; i < raw.numel(); ++i) want.data<float>()[i] = (raw.data<float>()[i] - 127.5f) / 127.5f;
    test::require_close(normalized_of(g, raw), want, 1e-5, 1e-5);
  }
  SECTION("nv12 into a yuv444 model: chroma upsampled, no colour matrix") {
    Graph g = small_model(3);
    fuse_input_format(g, "x", format_of(PixelFormat::kNV12, PixelFormat::kYUV444));
    const Tensor nv12 = random_pixels({1, kH * 3 / 2, kW}, 6);
    Tensor want(DType::kFloat32, {1, 3, kH, kW});
    const float* p = nv12.data<float>();
    for (int64_t y = 0; y < kH; ++y)
      for (int64_t x = 0; x < kW; ++x) {
        want.data<float>()[y * kW + x] = p[y * kW + x];
        want.data<float>()[(kH + y) * kW + x] = p[kH * kW + (y / 2) * kW + (x / 2) * 2];
        want.data<float>()[(2 * kH + y) * kW + x] = p[kH * kW + (y / 2) * kW + (x / 2) * 2 + 1];
      }
    test::require_close(normalized_of(g, nv12), want, 0.0, 0.0);
  }
}

TEST_CASE("input format combinations the table forbids are clear errors", "[passes]") {
  auto fails = [](Graph g, const InputFormat& f) {
    try {
      fuse_input_format(g, "x", f);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  REQUIRE_THAT(fails(small_model(1), format_of(PixelFormat::kNV12, PixelFormat::kGray)),
               Catch::Contains("trained on gray cannot take nv12") && Catch::Contains("allowed: gray"));
  REQUIRE_THAT(fails(small_model(3), format_of(PixelFormat::kGray)),
               Catch::Contains("trained on rgb cannot take gray") && Catch::Contains("nv12"));
  InputFormat video = format_of(PixelFormat::kRGB);
  video.range = YuvRange::kVideo;
  REQUIRE_THAT(fails(small_model(3), video), Catch::Contains("video range"));
  InputFormat means = format_of(PixelFormat::kRGB);
  means.mean = {1.0f, 2.0f};
  REQUIRE_THAT(fails(small_model(3), means), Catch::Contains("2 mean values given for 3 channels"));
  REQUIRE_THAT(fails(small_model(1), format_of(PixelFormat::kRGB)), Catch::Contains("has 3 channel(s)"));
  REQUIRE_THROWS_WITH(parse_pixel_format("nv21"), Catch::Contains("one of featuremap, rgb, bgr, gray, yuv444, nv12"));
  // Odd sizes cannot carry 4:2:0 chroma.
  Graph odd;
  odd.set_opset("", 13);
  Value* x = odd.add_value("x");
  x->type() = TensorType{DType::kFloat32, true, {{1, {}}, {3, {}}, {7, {}}, {12, {}}}};
  odd.add_input(x);
  Value* y = odd.add_value("y");
  odd.add_node("Relu", {x}, {y}, "relu");
  odd.add_output(y);
  REQUIRE_THAT(fails(std::move(odd), format_of(PixelFormat::kNV12)), Catch::Contains("even height and width") &&
                                                                        Catch::Contains("7x12"));
  Graph g = small_model(3);
  REQUIRE_THROWS_WITH(fuse_input_format(g, "image", format_of(PixelFormat::kNV12)),
                      Catch::Contains("no input of that name") && Catch::Contains("x"));
}

TEST_CASE("a program with nv12 folded in takes uint8 pixels and matches the float model", "[passes]") {
  // Camera-like frames: smooth colour fields (in gamut) encoded to nv12 by the textbook
  // forward transform, the float reference decoding them back.
  auto frame = [](uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> d(0.0, 1.0);
    const double a = d(rng), b = d(rng), c = d(rng);
    Tensor nv12(DType::kFloat32, {1, kH * 3 / 2, kW});
    float* p = nv12.data<float>();
    auto rgb_at = [&](int64_t y, int64_t x) {
      return std::array<double, 3>{40 + 170 * (0.5 + 0.5 * std::sin(a * 6 + x * 0.4 + y * 0.1)),
                                   40 + 170 * (0.5 + 0.5 * std::cos(b * 6 + y * 0.5)),
                                   40 + 170 * (0.5 + 0.5 * std::sin(c * 6 + (x + y) * 0.3))};
    };
    for (int64_t y = 0; y < kH; ++y)
      for (int64_t x = 0; x < kW; ++x) {
        const auto rgb = rgb_at(y, x);
        p[y * kW + x] = static_cast<float>(std::lround(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]));
      }
    for (int64_t y = 0; y < kH; y += 2)
      for (int64_t x = 0; x < kW; x += 2) {
        const auto rgb = rgb_at(y, x);
        const double luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
        p[kH * kW + (y / 2) * kW + x] = static_cast<float>(std::lround(128 + (rgb[2] - luma) / 1.772));
        p[kH * kW + (y / 2) * kW + x + 1] = static_cast<float>(std::lround(128 + (rgb[0] - luma) / 1.402));
      }
    return nv12;
  };
  Graph fused = small_model(3);
  const std::vector<std::string> pixels = fuse_input_format(fused, "x", format_of(PixelFormat::kNV12));
  const Graph plain = small_model(3);
  Calibrator fused_cal(fused), plain_cal(plain);
  std::vector<Tensor> frames;
  for (uint32_t s = 0; s < 24; ++s) {
    frames.push_back(frame(s));
    fused_cal.add_sample({{"x", frames.back()}});
    plain_cal.add_sample({{"x", reference_from_nv12(frames.back(), YuvRange::kFull, false)}});
  }
  QuantConfig config;
  config.model.method = RangeMethod::kMax;
  QuantConfig fused_config = config;
  for (const std::string& v : pixels) fused_config.tensors[v] = TensorOverride{{}, {}, 0.0, 255.0};
  REQUIRE(fused.find_node("x/nv12/Conv") != nullptr);
  // As the Pipeline does: the conversion's weights (colour matrix x scale, entries from 0.006
  // to 0.03) at int16, so that only the activations round as in the unfused program.
  fused_config.nodes["x/nv12/Conv"].weight_dtype = DType::kInt16;
  const QuantizedGraph fq = Quantizer(fused_config).quantize(fused, fused_cal.table());
  // The pixels are codes of their own values: scale 1, zero point -128 through the data movement.
  for (const std::string& v : pixels) {
    INFO(v);
    REQUIRE(fq.find(v)->scale[0] == 1.0f);
    REQUIRE(fq.find(v)->zero_point[0] == -128);
  }
  const QuantizedGraph pq = Quantizer(config).quantize(plain, plain_cal.table());
  const FixedSimulator fused_run(Compiler().compile(fq));
  const FixedSimulator plain_run(Compiler().compile(pq));
  const Simulator reference(plain);
  std::vector<TensorMap> want, got_fused, got_plain;
  for (uint32_t s = 100; s < 108; ++s) {
    const Tensor nv12 = frame(s);
    Tensor bytes(DType::kUInt8, nv12.shape());
    for (int64_t i = 0; i < nv12.numel(); ++i) bytes.data<uint8_t>()[i] = static_cast<uint8_t>(nv12.data<float>()[i]);
    const Tensor normalized = reference_from_nv12(nv12, YuvRange::kFull, false);
    want.push_back(reference.run({{"x", normalized}}));
    got_fused.push_back(fused_run.run_float({{"x", bytes}}));
    // uint8 pixels and the same values as float32 give the same codes.
    REQUIRE(fused_run.run({{"x", bytes}}).at("y").to_doubles() == fused_run.run({{"x", nv12}}).at("y").to_doubles());
    got_plain.push_back(plain_run.run_float({{"x", normalized}}));
  }
  const double fused_snr = snr_db(want, got_fused).at("y");
  const double plain_snr = snr_db(want, got_plain).at("y");
  INFO("fused " << fused_snr << " dB, unfused " << plain_snr << " dB");
  // The Conv 1x1's int8 output rounds as the unfused program's input does: within 1 dB
  // (measured: 42.79 dB fused, 42.77 dB unfused; int8 conversion weights gave 38.2 dB).
  REQUIRE(plain_snr > 35.0);
  REQUIRE(fused_snr > plain_snr - 1.0);
}
