/**
 * Can engine v5's expression net (fr_expression.onnx, 70 % of a face's compute with every attribute) look at a
 * smaller input than the 224x224 it was exported for? Its graph ends in a global pooling, so it accepts any size once
 * its input dimensions are made symbolic (research/onnx-batch-dim.ts). For each side: the engine's emotion (the
 * equal-weight mean of the expression net and Human's net on expressionRegion, src/engine/onnx/pipeline.ts emotionOf)
 * on the FER photos with a face, on halves A and B (even / odd index of the sorted file names in each class), six
 * PublicTest classes (disgust apart), and the net's ms per face.
 *
 *   node --import tsx research/models/expression-size.ts [--sides 224,192,160,128,112] [--limit N]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EMOTIONS, type Emotion, type EmotionScores } from '../../src/core/types.js';
import { averageEmotions, emotionFromLogits } from '../../src/engine/onnx/postprocess.js';
import { boxAffine, NORMALISE, rgbPlanes } from '../../src/engine/onnx/preprocess.js';
import { loadSessions, modelDirectory, NET_FILES, openNet } from '../../src/engine/onnx/runtime.js';
import { withSymbolicBatch } from '../onnx-batch-dim.js';
import { argValue, ferFacesV5, pct } from './common.js';

const sides = (argValue('sides') ?? '224,192,160,128,112').split(',').map(Number);
const limit = Number(argValue('limit') ?? Infinity);
const sessions = await loadSessions({ intraOpThreads: 1 });
// The engine's own session settings, on the expression net with a symbolic height and width.
const expression = await openNet(withSymbolicBatch(await readFile(join(modelDirectory(), NET_FILES.expression)), [0, 2, 3]), { intraOpThreads: 1 }, 'expression');

const { faces, noFace } = await ferFacesV5(sessions.run, limit);

const dominant = (scores: EmotionScores): Emotion => EMOTIONS.reduce((best, e) => (scores[e] > scores[best] ? e : best), EMOTIONS[0]);
/** correct[side][half], total[half]; ms[side] summed. */
const correct = new Map<number, [number, number]>(sides.map((side) => [side, [0, 0]]));
const disgust = new Map<number, number>(sides.map((side) => [side, 0]));
const ms = new Map<number, number>(sides.map((side) => [side, 0]));
const total: [number, number] = [0, 0];
let disgustTotal = 0;
let runs = 0;
for (const [n, { label, half, image, region, human }] of faces.entries()) {
  if (label === 'disgust') disgustTotal++;
  else total[half as 0 | 1]++;
  runs++;
  for (const side of sides) {
    const input = rgbPlanes(image, boxAffine(region, side, side), side, side, NORMALISE.unit, 'edge');
    const start = performance.now();
    const outputs = await expression.run(input, [1, 3, side, side]);
    ms.set(side, ms.get(side)! + performance.now() - start);
    const logits = Object.values(outputs)[0]!;
    const ok = dominant(averageEmotions([emotionFromLogits(logits), human])) === label;
    if (!ok) continue;
    if (label === 'disgust') disgust.set(side, disgust.get(side)! + 1);
    else correct.get(side)![half as 0 | 1]++;
  }
  if ((n + 1) % 100 === 0) process.stderr.write(`${n + 1}/${faces.length}\n`);
}
console.log(`Emotion through the engine's region (expression net + Human's net), ${faces.length + noFace} FER photos, ${noFace} without a face`);
console.log('| expression input | half A | half B | disgust (apart) | ms per face |');
console.log('| --- | --- | --- | --- | --- |');
for (const side of sides) {
  const [a, b] = correct.get(side)!;
  console.log(`| ${side}x${side} | ${pct(a / total[0])} (${a}/${total[0]}) | ${pct(b / total[1])} (${b}/${total[1]}) | ${pct(disgust.get(side)! / Math.max(1, disgustTotal))} | ${(ms.get(side)! / runs).toFixed(1)} |`);
}
await expression.release();
await sessions.release();
