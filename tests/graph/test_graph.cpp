#include <catch2/catch.hpp>

#include "libquant/graph.hpp"

using namespace lq;

namespace {

// x -> Relu -> a -> Neg -> y, plus a constant c feeding Add(a, c) -> z.
Graph small_graph() {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.add_value("x");
  x->type().dtype = DType::kFloat32;
  g.add_input(x);
  Value* a = g.add_value("a");
  Value* y = g.add_value("y");
  Value* c = g.add_value("c");
  g.set_initializer(c, Tensor::from_vector<float>({1}, {2.0f}));
  Value* z = g.add_value("z");
  g.add_node("Relu", {x}, {a}, "relu");
  g.add_node("Neg", {a}, {y}, "neg");
  g.add_node("Add", {a, c}, {z}, "add");
  g.add_output(y);
  g.add_output(z);
  return g;
}

}  // namespace

TEST_CASE("graph keeps producers and uses consistent", "[graph]") {
  Graph g = small_graph();
  g.verify();
  Value& a = g.value("a");
  REQUIRE(a.producer() == g.find_node("relu"));
  REQUIRE(a.uses().size() == 2);
  REQUIRE(g.value("c").is_constant());
  REQUIRE(g.value("c").type().str() == "float32[1]");

  g.set_input(g.find_node("add"), 0, &g.value("x"));
  REQUIRE(a.uses().size() == 1);
  REQUIRE(g.value("x").uses().size() == 2);
  g.verify();
}

TEST_CASE("replace_all_uses moves uses and graph outputs", "[graph]") {
  Graph g = small_graph();
  Value& y = g.value("y");
  Value& a = g.value("a");
  g.remove_node(g.find_node("neg"));
  g.replace_all_uses(&y, &a);
  REQUIRE(g.outputs()[0] == &a);
  REQUIRE(a.is_graph_output());
  REQUIRE_FALSE(y.is_graph_output());
  g.remove_unused_values();
  REQUIRE(g.find_value("y") == nullptr);
  g.verify();
}

TEST_CASE("verify names the node that uses an undefined value", "[graph]") {
  Graph g;
  Value* ghost = g.add_value("ghost");
  Value* out = g.add_value("out");
  g.add_node("Relu", {ghost}, {out}, "r");
  g.add_output(out);
  REQUIRE_THROWS_WITH(g.verify(), Catch::Contains("Relu node \"r\" (input 0)") &&
                                      Catch::Contains("\"ghost\" is used before it is defined"));
}

TEST_CASE("topological_sort orders nodes and detects cycles", "[graph]") {
  Graph g;
  Value* x = g.add_value("x");
  g.add_input(x);
  Value* a = g.add_value("a");
  Value* b = g.add_value("b");
  // Added consumer first.
  g.add_node("Neg", {a}, {b}, "second");
  g.add_node("Relu", {x}, {a}, "first");
  g.add_output(b);
  REQUIRE_THROWS(g.verify());
  g.topological_sort();
  REQUIRE(g.nodes()[0]->name() == "first");
  g.verify();

  Graph cyc;
  Value* p = cyc.add_value("p");
  Value* q = cyc.add_value("q");
  cyc.add_node("Neg", {p}, {q}, "n1");
  cyc.add_node("Neg", {q}, {p}, "n2");
  REQUIRE_THROWS_WITH(cyc.topological_sort(), Catch::Contains("cycle"));
}

TEST_CASE("a value cannot have two producers or two definitions", "[graph]") {
  Graph g = small_graph();
  REQUIRE_THROWS_WITH(g.add_value("a"), Catch::Contains("defined twice"));
  REQUIRE_THROWS_WITH(g.add_node("Relu", {&g.value("x")}, {&g.value("a")}, "again"),
                      Catch::Contains("already defined"));
}

TEST_CASE("clone is deep and independent", "[graph]") {
  Graph g = small_graph();
  Graph copy = g.clone();
  copy.verify();
  REQUIRE(copy.num_nodes() == g.num_nodes());
  REQUIRE(copy.find_node("relu") != g.find_node("relu"));
  copy.remove_node(copy.find_node("neg"));
  REQUIRE(g.num_nodes() == 3);
  REQUIRE(copy.opset("") == 13);
}

TEST_CASE("unique_name avoids existing names", "[graph]") {
  Graph g = small_graph();
  REQUIRE(g.unique_name("fresh") == "fresh");
  REQUIRE(g.unique_name("a") == "a_1");
  REQUIRE(g.unique_name("relu") == "relu_1");
}

TEST_CASE("typed attribute access checks the attribute type", "[graph]") {
  Graph g = small_graph();
  Node* n = g.find_node("relu");
  Attribute a;
  a.type = AttrType::kInts;
  a.ints = {1, 2};
  n->set_attr("pads", a);
  REQUIRE(n->attr_ints("pads") == std::vector<int64_t>{1, 2});
  REQUIRE(n->attr_int("missing", 7) == 7);
  REQUIRE_THROWS_WITH(n->attr_int("pads", 0),
                      Catch::Contains("Relu node \"relu\": attribute 'pads' should be an int"));
}
