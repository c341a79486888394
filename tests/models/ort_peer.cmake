# lq_ort_peer: the ONNX Runtime peer (tests/ort/ort_run.js run by Node.js) and the model
# inputs, shared by the model tests and the benchmarks. Included by both; defined once.
include_guard(GLOBAL)

find_program(LQ_NODE_EXECUTABLE node DOC "Node.js, which runs the ONNX Runtime peer")
if(NOT LQ_NODE_EXECUTABLE)
  message(STATUS "libquant: node not found; the model tests and benchmarks will fail until it is installed")
  set(LQ_NODE_EXECUTABLE node)
endif()

add_library(lq_ort_peer STATIC
  ${CMAKE_CURRENT_LIST_DIR}/ort_peer.cpp ${CMAKE_CURRENT_LIST_DIR}/model_inputs.cpp)
target_include_directories(lq_ort_peer PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(lq_ort_peer PUBLIC libquant_static PRIVATE nlohmann_json::nlohmann_json)
target_compile_options(lq_ort_peer PRIVATE -Wall -Wextra)
# Paths into this source tree, so a clone anywhere finds its own scripts.
target_compile_definitions(lq_ort_peer PRIVATE
  LQ_FETCH_MODELS_SCRIPT="${PROJECT_SOURCE_DIR}/scripts/fetch-models.sh"
  LQ_ORT_RUN_SCRIPT="${PROJECT_SOURCE_DIR}/tests/ort/ort_run.js"
  LQ_NODE_EXECUTABLE="${LQ_NODE_EXECUTABLE}")
