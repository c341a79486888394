// libquant's whole C++ API.
#pragma once

#include "libquant/analysis.hpp"
#include "libquant/calibrator.hpp"
#include "libquant/compiler.hpp"
#include "libquant/graph.hpp"
#include "libquant/pipeline.hpp"
#include "libquant/quantizer.hpp"
#include "libquant/runtime.hpp"
#include "libquant/simulator.hpp"
#include "libquant/status.hpp"
#include "libquant/target.hpp"
#include "libquant/tensor.hpp"
