/**
 * Does running engine v5's nets on a batch of faces pay on this machine? For each net the engine runs per face
 * (landmarks, feature, expression, Human's emotion net, age, gender) and per photo (the detector): the time per item
 * at batch sizes 1, 2, 4, 8, with one and with two intra-op threads, and the graph settings ONNX Runtime offers
 * (optimisation level, memory arena). Inputs are random: the nets' cost does not depend on the pixels.
 *
 *   node --import tsx research/net-batching.ts [--batches 1,2,4,8] [--runs 40] [--nets feature,expression]
 *
 * faceplugin's files fix the batch dimension at 1: each is rewritten in memory with a symbolic one
 * (onnx-batch-dim.ts), and every batch's outputs are checked against the same items run one at a time. Times are medians of `runs` runs after 5 warm-up runs, per item (the batch's time divided by its size).
 */
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { humanEmotionOnnxModel } from '../src/engine/human-emotion/net.js';
import { HUMAN_EMOTION_SIZE } from '../src/engine/human-emotion/postprocess.js';
import { modelDirectory, NET_FILES } from '../src/engine/onnx/runtime.js';
import { withSymbolicBatch } from './onnx-batch-dim.js';

const { values: args } = parseArgs({
  options: { batches: { type: 'string', default: '1,2,4,8' }, runs: { type: 'string', default: '40' }, nets: { type: 'string' } },
});
const batches = args.batches.split(',').map(Number);
const runs = Number(args.runs);

/** One item's input shape (without the batch dimension), as src/engine/onnx/pipeline.ts feeds each net. */
const packaged = (file: string) => async (): Promise<Uint8Array> => withSymbolicBatch(await readFile(path.join(modelDirectory(), file)));
const NETS: Record<string, { model: () => Promise<Uint8Array>; item: number[] }> = {
  detect: { model: packaged(NET_FILES.detect), item: [3, 240, 320] },
  landmark: { model: packaged(NET_FILES.landmark), item: [1, 64, 64] },
  feature: { model: packaged(NET_FILES.feature), item: [3, 112, 112] },
  expression: { model: packaged(NET_FILES.expression), item: [3, 224, 224] },
  // Built by from-tfjs.ts with a symbolic batch already.
  humanEmotion: { model: humanEmotionOnnxModel, item: [HUMAN_EMOTION_SIZE, HUMAN_EMOTION_SIZE, 1] },
  age: { model: packaged(NET_FILES.age), item: [3, 64, 64] },
  gender: { model: packaged(NET_FILES.gender), item: [3, 64, 64] },
};
const chosen = args.nets === undefined ? Object.keys(NETS) : args.nets.split(',');

interface Variant {
  label: string;
  options: ort.InferenceSession.SessionOptions;
}
const base: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], interOpNumThreads: 1, executionMode: 'sequential', logSeverityLevel: 3 };
const VARIANTS: Variant[] = [
  { label: 'shipped (1 thread, all optimisations, arena)', options: { ...base, graphOptimizationLevel: 'all', intraOpNumThreads: 1 } },
  { label: '2 threads', options: { ...base, graphOptimizationLevel: 'all', intraOpNumThreads: 2 } },
  { label: '1 thread, basic optimisations', options: { ...base, graphOptimizationLevel: 'basic', intraOpNumThreads: 1 } },
  { label: '1 thread, no memory arena', options: { ...base, graphOptimizationLevel: 'all', intraOpNumThreads: 1, enableCpuMemArena: false } },
];

const median = (values: number[]): number => {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function perItemMs(session: ort.InferenceSession, item: number[], batch: number): Promise<number | string> {
  const [inputName] = session.inputNames;
  const size = item.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: size * batch }, () => Math.random());
  const feeds = { [inputName!]: new ort.Tensor('float32', data, [batch, ...item]) };
  let outputs: ort.InferenceSession.OnnxValueMapType;
  try {
    outputs = await session.run(feeds);
    for (let i = 0; i < 4; i++) await session.run(feeds);
  } catch (error) {
    return `refused (${String(error instanceof Error ? error.message : error).split('\n')[0]!.slice(0, 60)})`;
  }
  // The batch answers each item as a run of that item alone would.
  for (let b = 0; b < batch; b++) {
    const alone = await session.run({ [inputName!]: new ort.Tensor('float32', data.subarray(b * size, (b + 1) * size), [1, ...item]) });
    for (const [name, tensor] of Object.entries(alone)) {
      const one = tensor.data as Float32Array;
      const all = outputs[name]!.data as Float32Array;
      if (all.length !== one.length * batch) return `output ${name} has ${all.length} values for ${batch} items`;
      for (let i = 0; i < one.length; i++) {
        if (Math.abs(all[b * one.length + i]! - one[i]!) > 1e-3 * Math.max(1, Math.abs(one[i]!))) return `output ${name} differs from one item's`;
      }
    }
  }
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await session.run(feeds);
    times.push(performance.now() - start);
  }
  return median(times) / batch;
}

console.log(`# ONNX Runtime net batching — load ${loadavg()[0]!.toFixed(1)} at start, ${runs} runs per cell, ms per item`);
console.log(`| net | settings | ${batches.map((b) => `batch ${b}`).join(' | ')} |`);
console.log(`| --- | --- | ${batches.map(() => '---').join(' | ')} |`);
for (const name of chosen) {
  const net = NETS[name];
  if (net === undefined) throw new Error(`unknown net ${name}; nets: ${Object.keys(NETS).join(', ')}`);
  const model = await net.model();
  for (const variant of VARIANTS) {
    const session = await ort.InferenceSession.create(model, variant.options);
    const cells: string[] = [];
    for (const batch of batches) {
      const ms = await perItemMs(session, net.item, batch);
      cells.push(typeof ms === 'number' ? ms.toFixed(2) : ms);
    }
    console.log(`| ${name} | ${variant.label} | ${cells.join(' | ')} |`);
    await session.release();
  }
}
console.log(`load ${loadavg()[0]!.toFixed(1)} at the end`);
