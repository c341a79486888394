/* The C ABI from C: every function of libquant.h, and the misuse a C caller can commit, by
 * area (test_capi_<area>.c).
 * Usage: lq_capi_test WORK_DIR [AREA...] (WORK_DIR is created if missing; each area writes
 * models, .npy files and pictures into WORK_DIR/AREA; no AREA runs every area). Set
 * LQ_CAPI_UNDER_MEMORY_CHECKER=1 under AddressSanitizer or Valgrind: it skips the deliberate
 * reads of released handles (which they rightly report) and the failed 200 TB allocation (on
 * which they abort). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_capi.h"

struct area {
  const char* name;
  void (*run)(void);
};

static const struct area kAreas[] = {
    {"core", test_core},
    {"graph", test_graph},
    {"simulator", test_simulator},
    {"calibration", test_calibration},
    {"quantization", test_quantization},
    {"compiler", test_compiler},
    {"runtime", test_runtime},
    {"pipeline", test_pipeline},
};
enum { kAreaCount = sizeof kAreas / sizeof kAreas[0] };

static const struct area* find_area(const char* name) {
  int i;
  for (i = 0; i < kAreaCount; ++i) {
    if (strcmp(kAreas[i].name, name) == 0) return &kAreas[i];
  }
  return NULL;
}

/* Runs `area` in its own folder of `work_dir`, so that areas never see each other's files. */
static int run_area(const char* work_dir, const struct area* area) {
  snprintf(g_work_dir, sizeof g_work_dir, "%s/%s", work_dir, area->name);
  if (!make_dir(g_work_dir)) {
    fprintf(stderr, "cannot create %s\n", g_work_dir);
    return 0;
  }
  area->run();
  return 1;
}

int main(int argc, char** argv) {
  const char* checker = getenv("LQ_CAPI_UNDER_MEMORY_CHECKER");
  int i;
  if (argc < 2) {
    fprintf(stderr, "usage: %s WORK_DIR [AREA...]\n", argv[0]);
    return 2;
  }
  for (i = 2; i < argc; ++i) {
    if (!find_area(argv[i])) {
      fprintf(stderr, "unknown area '%s'; the areas are core, graph, simulator, calibration, "
                      "quantization, compiler, runtime, pipeline\n", argv[i]);
      return 2;
    }
  }
  g_under_memory_checker = checker != NULL && strcmp(checker, "1") == 0;
  if (!make_dir(argv[1])) {
    fprintf(stderr, "cannot create %s\n", argv[1]);
    return 2;
  }
  for (i = 0; i < (argc == 2 ? kAreaCount : argc - 2); ++i) {
    const struct area* area = argc == 2 ? &kAreas[i] : find_area(argv[2 + i]);
    if (!run_area(argv[1], area)) return 2;
  }
  printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
