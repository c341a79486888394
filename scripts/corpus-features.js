#!/usr/bin/env node
// Makes the corpus inputs that only a model can make, from the audio of
// scripts/make-corpus-data.py, with ONNX Runtime (onnxruntime-node, the tests' peer):
//   SPLIT/vad/state/NNNN.npy    float32 [2,1,128]: Silero VAD's state before chunk NNNN of
//                               vad/input, from streaming every chunk of its utterance
//   SPLIT/emb/input/NNNN.npy    float32 [1,76,32,1]: openWakeWord embedding model inputs
//                               (76 melspectrogram frames, transformed as openWakeWord does:
//                               mel / 10 + 2), every second window of 8-frame steps
//   SPLIT/kwsT/input/NNNN.npy   float32 [1,T,96]: T consecutive embeddings, what the wake
//                               word heads read (T = 16, 22, 24, 25, 34), every third window
// The utterances of a split are streamed one after the other, as a microphone would be.
'use strict';

const fs = require('fs');
const path = require('path');
const { readNpy, writeNpy } = require('../tests/ort/npy.js');

const USAGE = 'usage: corpus-features.js --ort DIR --data DIR --vad SILERO.onnx --mel MEL.onnx --emb EMB.onnx';
const HEAD_FRAMES = [16, 22, 24, 25, 34];

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!['ort', 'data', 'vad', 'mel', 'emb'].includes(key) || i + 1 >= argv.length) throw new Error(USAGE);
    o[key] = argv[i + 1];
  }
  for (const k of ['ort', 'data', 'vad', 'mel', 'emb']) if (!o[k]) throw new Error(USAGE);
  return o;
}

function listNpy(dir) {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.npy')).sort();
}

function freshDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const name = (i) => `${String(i).padStart(4, '0')}.npy`;

async function vadStates(ort, session, splitDir, audio) {
  const chunks = JSON.parse(fs.readFileSync(path.join(splitDir, 'vad', 'chunks.json'), 'utf8'));
  const out = freshDir(path.join(splitDir, 'vad', 'state'));
  const sr = new ort.Tensor('int64', BigInt64Array.from([16000n]), []);
  const wanted = new Map(); // utterance -> [[chunk, index]]
  chunks.forEach(({ utterance, chunk }, i) => {
    if (!wanted.has(utterance)) wanted.set(utterance, []);
    wanted.get(utterance).push([chunk, i]);
  });
  for (const [u, list] of wanted) {
    const samples = audio[u];
    let state = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
    const last = Math.max(...list.map(([c]) => c));
    const at = new Map(list);
    for (let c = 0; c <= last; ++c) {
      if (at.has(c)) writeNpy(path.join(out, name(at.get(c))), 'float32', [2, 1, 128], state.data);
      // 64 samples of context before the 512 new ones, as Silero VAD's own wrapper feeds it.
      const x = new Float32Array(576);
      for (let i = 0; i < 576; ++i) {
        const at = c * 512 - 64 + i;
        x[i] = at >= 0 ? samples[at] : 0;
      }
      const input = new ort.Tensor('float32', x, [1, 576]);
      const result = await session.run({ input, state, sr });
      state = result.stateN;
    }
  }
}

async function wakeWordFeatures(ort, mel, emb, splitDir, audio) {
  const total = audio.reduce((n, a) => n + a.length, 0);
  const stream = new Float32Array(total);
  let offset = 0;
  for (const a of audio) {
    for (let i = 0; i < a.length; ++i) stream[offset + i] = Math.round(a[i] * 32767);
    offset += a.length;
  }
  const melOut = (await mel.run({ [mel.inputNames[0]]: new ort.Tensor('float32', stream, [1, total]) }))[mel.outputNames[0]];
  const frames = melOut.dims[2];
  const spec = Float32Array.from(melOut.data, (v) => v / 10 + 2);
  const embOut = freshDir(path.join(splitDir, 'emb', 'input'));
  const embeddings = [];
  for (let w = 0, start = 0; start + 76 <= frames; ++w, start += 8) {
    const window = spec.slice(start * 32, (start + 76) * 32);
    if (w % 2 === 0) writeNpy(path.join(embOut, name(w / 2)), 'float32', [1, 76, 32, 1], window);
    const e = await emb.run({ [emb.inputNames[0]]: new ort.Tensor('float32', window, [1, 76, 32, 1]) });
    embeddings.push(e[emb.outputNames[0]].data);
  }
  for (const t of HEAD_FRAMES) {
    const dir = freshDir(path.join(splitDir, `kws${t}`, 'input'));
    for (let k = 0, start = 0; start + t <= embeddings.length; ++k, start += 3) {
      const x = new Float32Array(t * 96);
      for (let j = 0; j < t; ++j) x.set(embeddings[start + j], j * 96);
      writeNpy(path.join(dir, name(k)), 'float32', [1, t, 96], x);
    }
  }
  return { frames, embeddings: embeddings.length };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const ort = require(path.resolve(o.ort));
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 };
  const vad = await ort.InferenceSession.create(o.vad, options);
  const mel = await ort.InferenceSession.create(o.mel, options);
  const emb = await ort.InferenceSession.create(o.emb, options);
  for (const split of ['calib', 'eval']) {
    const splitDir = path.join(o.data, split);
    const audioDir = path.join(splitDir, 'audio');
    const audio = listNpy(audioDir).map((f) => readNpy(path.join(audioDir, f)).data);
    await vadStates(ort, vad, splitDir, audio);
    const counts = await wakeWordFeatures(ort, mel, emb, splitDir, audio);
    console.error(`corpus-features: ${split}: ${audio.length} utterances, ${counts.frames} mel frames, ${counts.embeddings} embeddings`);
  }
}

main().catch((e) => {
  console.error(`corpus-features: ${e.message}`);
  process.exit(1);
});
