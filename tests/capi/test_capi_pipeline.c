/* The C ABI: the pipeline, from a config text or set option by option. */
#include "test_capi.h"

void test_pipeline(void) {}
