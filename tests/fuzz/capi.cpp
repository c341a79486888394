// C ABI call sequences: each input byte pair is one call (the first byte picks the call,
// the second the handle slots and small arguments) on a few slots per handle type. Calls
// come in any order: on empty (NULL) slots, on handles of another type (the tag check
// must refuse them), after releases (slots are cleared, as a correct caller does: reusing
// a released handle is undefined behaviour the library cannot always catch). Every call
// must return normally; a status must carry a message.
#include <libquant.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "libquant/graph.hpp"

namespace {

// A 1x2x3x3 -> Conv 1x1 -> Relu model, built once.
const std::string& model_bytes() {
  static const std::string bytes = [] {
    lq::Graph g;
    g.set_opset("", 13);
    lq::Value* x = g.add_value("x");
    x->type() = lq::TensorType{lq::DType::kFloat32, true, {{1, ""}, {2, ""}, {3, ""}, {3, ""}}};
    g.add_input(x);
    lq::Value* w = g.add_value("w");
    g.set_initializer(w, lq::Tensor::from_vector<float>({2, 2, 1, 1}, {0.5f, -1.0f, 2.0f, 0.25f}));
    lq::Value* c = g.add_value("c");
    lq::Value* y = g.add_value("y");
    g.add_node("Conv", {x, w}, {c}, "conv");
    g.add_node("Relu", {c}, {y}, "relu");
    y->type().dtype = lq::DType::kFloat32;
    g.add_output(y);
    return lq::serialize_onnx(g);
  }();
  return bytes;
}

void check(lq_status* status) {
  if (status == nullptr) return;
  const char* message = lq_status_message(status);
  if (lq_status_code(status) == LQ_OK || message == nullptr || message[0] == '\0') std::abort();
  lq_status_release(status);
}

constexpr int kSlots = 2;

struct Handles {
  lq_graph* graph[kSlots] = {};
  lq_calibrator* calibrator[kSlots] = {};
  lq_quantizer* quantizer[kSlots] = {};
  lq_quantized_graph* qgraph[kSlots] = {};
  lq_program* program[kSlots] = {};
  lq_simulator* simulator[kSlots] = {};
  lq_fixed_simulator* fixed[kSlots] = {};
  lq_buffer* buffer[kSlots] = {};

  ~Handles() {
    for (int i = 0; i < kSlots; ++i) {
      lq_fixed_simulator_release(fixed[i]);
      lq_simulator_release(simulator[i]);
      lq_program_release(program[i]);
      lq_quantized_graph_release(qgraph[i]);
      lq_quantizer_release(quantizer[i]);
      lq_calibrator_release(calibrator[i]);
      lq_graph_release(graph[i]);
      lq_buffer_release(buffer[i]);
    }
  }
  // A handle of some type, seen as another: what a caller's mix-up passes.
  void* any(int pick) {
    void* all[] = {graph[pick & 1],     calibrator[pick & 1], quantizer[pick & 1], qgraph[pick & 1],
                   program[pick & 1],   simulator[pick & 1],  fixed[pick & 1],     buffer[pick & 1]};
    return all[(pick >> 1) % 8];
  }
};

template <typename T>
void replace(T*& slot, T* fresh, void (*release)(T*)) {
  release(slot);
  slot = fresh;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Handles h;
  float input[18];
  for (int i = 0; i < 18; ++i) input[i] = static_cast<float>(i % 7) - 3.0f;
  const int64_t shape[4] = {1, 2, 3, 3};
  float output[18];
  int64_t out_shape[4];
  for (size_t pos = 0; pos + 1 < size; pos += 2) {
    const uint8_t op = data[pos];
    const uint8_t arg = data[pos + 1];
    const int s = arg & 1, t = (arg >> 1) & 1;
    const bool foreign = (arg >> 2) & 1;  // pass a handle of another type instead
    switch (op % 24) {
      case 0: {
        lq_graph* g = nullptr;
        const std::string& m = model_bytes();
        check(lq_graph_load_from_memory(m.data(), (arg & 8) ? m.size() / 2 : m.size(), &g));
        replace(h.graph[s], g, lq_graph_release);
        break;
      }
      case 1: replace(h.graph[s], static_cast<lq_graph*>(nullptr), lq_graph_release); break;
      case 2: check(lq_graph_optimize(foreign ? static_cast<lq_graph*>(h.any(arg >> 3)) : h.graph[s])); break;
      case 3: {
        lq_buffer* b = nullptr;
        check(lq_graph_serialize(h.graph[s], &b));
        replace(h.buffer[t], b, lq_buffer_release);
        break;
      }
      case 4: {
        size_t count = 0;
        const char* name = nullptr;
        int64_t dims[8];
        size_t rank = 0;
        const lq_graph* g = foreign ? static_cast<const lq_graph*>(h.any(arg >> 3)) : h.graph[s];
        check(lq_graph_input_count(g, &count));
        check(lq_graph_input_name(g, arg >> 4, &name));
        check(lq_graph_output_shape(g, arg >> 5, dims, (arg >> 3) & 7, &rank));
        break;
      }
      case 5: {
        lq_calibrator* c = nullptr;
        lq_calibrator_options options;
        lq_calibrator_options_init(&options);
        options.histogram_bins = (arg & 8) ? 64 : 3;
        check(lq_calibrator_create(h.graph[s], (arg & 16) ? nullptr : &options, &c));
        replace(h.calibrator[t], c, lq_calibrator_release);
        break;
      }
      case 6: {
        lq_tensor_view view;
        lq_tensor_view_init(&view);
        view.name = (arg & 8) ? "x" : "nope";
        view.dtype = LQ_FLOAT32;
        view.shape = shape;
        view.rank = (arg & 16) ? 4 : 3;
        view.data = input;
        view.byte_size = (arg & 32) ? sizeof input : sizeof input - 4;
        check(lq_calibrator_add_sample(
            foreign ? static_cast<lq_calibrator*>(h.any(arg >> 3)) : h.calibrator[s], &view, (arg & 64) ? 1 : 0));
        break;
      }
      case 7: replace(h.calibrator[s], static_cast<lq_calibrator*>(nullptr), lq_calibrator_release); break;
      case 8: {
        lq_quantizer* q = nullptr;
        if (arg & 8) {
          check(lq_quantizer_create(&q));
        } else {
          check(lq_quantizer_create_from_json((arg & 16) ? "{\"activation_bits\": 16}" : "{bad", &q));
        }
        replace(h.quantizer[s], q, lq_quantizer_release);
        break;
      }
      case 9: check(lq_quantizer_set_bits(h.quantizer[s], (arg >> 3) & 1 ? 16 : 8, (arg >> 4) % 20)); break;
      case 10: check(lq_quantizer_set_method(h.quantizer[s], (arg & 8) ? "max" : ((arg & 16) ? "kl" : "bogus"))); break;
      case 11: {
        lq_quantized_graph* q = nullptr;
        check(lq_quantizer_quantize(foreign ? static_cast<lq_quantizer*>(h.any(arg >> 3)) : h.quantizer[s],
                                    h.graph[t], h.calibrator[(arg >> 4) & 1], &q));
        replace(h.qgraph[s], q, lq_quantized_graph_release);
        break;
      }
      case 12: {
        lq_buffer* b = nullptr;
        check(lq_quantized_graph_params_json(h.qgraph[s], &b));
        replace(h.buffer[t], b, lq_buffer_release);
        break;
      }
      case 13: {
        lq_program* p = nullptr;
        lq_compile_options options;
        lq_compile_options_init(&options);
        options.target = (arg & 8) ? "int8" : ((arg & 16) ? "generic" : "nope");
        check(lq_compile(foreign ? static_cast<lq_quantized_graph*>(h.any(arg >> 3)) : h.qgraph[s],
                         (arg & 32) ? nullptr : &options, &p));
        replace(h.program[t], p, lq_program_release);
        break;
      }
      case 14: {
        lq_buffer* b = nullptr;
        check(lq_program_serialize(h.program[s], &b));
        replace(h.buffer[t], b, lq_buffer_release);
        break;
      }
      case 15: {
        lq_program* p = nullptr;
        const lq_buffer* b = h.buffer[s];
        const size_t n = lq_buffer_size(b);
        check(lq_program_parse(lq_buffer_data(b), (arg & 8) ? n : n / 2, &p));
        replace(h.program[t], p, lq_program_release);
        break;
      }
      case 16: {
        lq_fixed_simulator* f = nullptr;
        check(lq_fixed_simulator_create(foreign ? static_cast<lq_program*>(h.any(arg >> 3)) : h.program[s],
                                        nullptr, &f));
        replace(h.fixed[t], f, lq_fixed_simulator_release);
        break;
      }
      case 17: {
        lq_simulator* sim = nullptr;
        if (arg & 8) {
          check(lq_simulator_create(h.graph[s], nullptr, &sim));
        } else {
          check(lq_simulator_create_fake_quant(h.qgraph[s], nullptr, &sim));
        }
        replace(h.simulator[t], sim, lq_simulator_release);
        break;
      }
      case 18: {
        lq_tensor_view view;
        lq_tensor_view_init(&view);
        view.name = "x";
        view.dtype = (arg & 8) ? LQ_FLOAT32 : LQ_INT8;
        view.shape = shape;
        view.rank = 4;
        view.data = input;
        view.byte_size = sizeof input;
        lq_output_view out;
        lq_output_view_init(&out);
        out.name = (arg & 16) ? "y" : "c";
        out.data = output;
        out.byte_size = (arg & 32) ? sizeof output : 8;
        out.shape = out_shape;
        out.shape_capacity = (arg & 64) ? 4 : 1;
        check(lq_simulator_run(foreign ? static_cast<lq_simulator*>(h.any(arg >> 3)) : h.simulator[s], &view,
                               1, &out, (arg & 128) ? 1 : 0));
        break;
      }
      case 19: {
        lq_buffer* b = nullptr;
        check(lq_program_summary_json(h.program[s], &b));
        replace(h.buffer[t], b, lq_buffer_release);
        uint64_t bytes = 0;
        check(lq_program_peak_activation_bytes(h.program[s], &bytes));
        break;
      }
      case 20: replace(h.program[s], static_cast<lq_program*>(nullptr), lq_program_release); break;
      case 21: replace(h.qgraph[s], static_cast<lq_quantized_graph*>(nullptr), lq_quantized_graph_release); break;
      case 22: {
        size_t count = 0;
        const char* name = nullptr;
        lq_program* p = foreign ? static_cast<lq_program*>(h.any(arg >> 3)) : h.program[s];
        check(lq_program_output_count(p, &count));
        check(lq_program_output_name(p, arg >> 4, &name));
        check(lq_program_input_count(p, nullptr));
        break;
      }
      case 23: {
        // NULL out-pointers and NULL handles on creating calls.
        check(lq_graph_load_from_memory(nullptr, 0, nullptr));
        check(lq_quantizer_create(nullptr));
        check(lq_quantizer_create_from_json(nullptr, nullptr));
        check(lq_compile(nullptr, nullptr, nullptr));
        check(lq_program_parse(nullptr, 5, nullptr));
        break;
      }
    }
  }
  return 0;
}
