#!/usr/bin/env node
// The ONNX Runtime peer: runs a model with onnxruntime-node on .npy inputs and writes
// its outputs as .npy, or times it. libquant's model tests and benchmarks call it.
'use strict';

const fs = require('fs');
const path = require('path');
const { readNpy, writeNpy } = require('./npy.js');

const USAGE = `usage: node ort_run.js --model FILE [--ort DIR] [--input NAME=FILE.npy]...
                      [--output-dir DIR] [--threads N] [--repeat R] [--warmup W]
Runs FILE with ONNX Runtime (intra-op threads N, default 1; inter-op 1; all graph
optimizations). --ort is the onnxruntime-node package directory (default: $LQ_ORT_NODE).
--output-dir writes output i as DIR/output_<i>.npy (float32 for float outputs).
--repeat R times R runs after W warm-up runs (default 1) and reports the median.
Prints one JSON object: {"outputs": [{"name", "file", "shape"}], "median_ms", ...}.
Environment: LQ_ORT_OPT_LEVEL sets the graph optimization level (default all; disabled runs
QDQ models as DequantizeLinear -> float op -> QuantizeLinear, exactly as exported).`;

function parseArgs(argv) {
  const options = { inputs: [], threads: 1, repeat: 0, warmup: 1, ort: process.env.LQ_ORT_NODE };
  const positiveInt = (flag, text, min) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs an integer >= ${min}, got '${text}'`);
    return n;
  };
  for (let i = 0; i < argv.length; ++i) {
    const flag = argv[i];
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (i + 1 >= argv.length) throw new Error(`${flag} needs a value (or unknown flag)`);
    const value = argv[++i];
    switch (flag) {
      case '--model': options.model = value; break;
      case '--ort': options.ort = value; break;
      case '--output-dir': options.outputDir = value; break;
      case '--threads': options.threads = positiveInt(flag, value, 1); break;
      case '--repeat': options.repeat = positiveInt(flag, value, 1); break;
      case '--warmup': options.warmup = positiveInt(flag, value, 0); break;
      case '--input': {
        const eq = value.indexOf('=');
        if (eq <= 0) throw new Error(`--input needs NAME=FILE.npy, got '${value}'`);
        options.inputs.push({ name: value.slice(0, eq), file: value.slice(eq + 1) });
        break;
      }
      default: throw new Error(`unknown flag ${flag}`);
    }
  }
  if (!options.model) throw new Error('--model is required');
  if (!options.ort) throw new Error('--ort DIR or $LQ_ORT_NODE must name the onnxruntime-node directory');
  return options;
}

function loadOrt(dir) {
  // An absolute path: the package lives in libquant's cache, not next to this script.
  try {
    return require(path.resolve(dir));
  } catch (e) {
    throw new Error(`cannot load onnxruntime-node from ${dir}: ${e.message} (run scripts/fetch-models.sh)`);
  }
}

function feedsFrom(ort, session, inputs) {
  const feeds = {};
  for (const { name, file } of inputs) {
    if (!session.inputNames.includes(name)) {
      throw new Error(`model has no input '${name}' (inputs: ${session.inputNames.join(', ')})`);
    }
    const { type, shape, data } = readNpy(file);
    feeds[name] = new ort.Tensor(type, data, shape);
  }
  const missing = session.inputNames.filter((n) => !(n in feeds));
  if (missing.length > 0) throw new Error(`no --input given for model input(s) ${missing.join(', ')}`);
  return feeds;
}

function writeOutputs(session, results, dir) {
  fs.mkdirSync(dir, { recursive: true });
  return session.outputNames.map((name, i) => {
    const tensor = results[name];
    const file = path.join(dir, `output_${i}.npy`);
    const isFloat = ['float32', 'float64'].includes(tensor.type);
    const data = isFloat && tensor.type !== 'float32' ? Float32Array.from(tensor.data) : tensor.data;
    writeNpy(file, isFloat ? 'float32' : tensor.type, tensor.dims, data);
    return { name, file: path.resolve(file), shape: Array.from(tensor.dims) };
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function timeRuns(session, feeds, options) {
  for (let i = 0; i < options.warmup; ++i) await session.run(feeds);
  const times = [];
  let results;
  for (let i = 0; i < options.repeat; ++i) {
    const start = process.hrtime.bigint();
    results = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { results, times };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const ort = loadOrt(options.ort);
  const session = await ort.InferenceSession.create(options.model, {
    intraOpNumThreads: options.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: process.env.LQ_ORT_OPT_LEVEL || 'all',
    logSeverityLevel: 3, // errors only: warnings would mix into the test logs
  });
  const feeds = feedsFrom(ort, session, options.inputs);
  const report = { threads: options.threads };
  let results;
  if (options.repeat > 0) {
    const timed = await timeRuns(session, feeds, options);
    results = timed.results;
    Object.assign(report, {
      median_ms: median(timed.times),
      min_ms: Math.min(...timed.times),
      repeat: options.repeat,
      warmup: options.warmup,
    });
  } else {
    results = await session.run(feeds);
  }
  if (options.outputDir) report.outputs = writeOutputs(session, results, options.outputDir);
  console.log(JSON.stringify(report));
}

main().catch((e) => {
  console.error(`ort_run: ${e.message}`);
  process.exit(1);
});
