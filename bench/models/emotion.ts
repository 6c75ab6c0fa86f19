/**
 * Emotion accuracy on the FER crops (emotion-fer/<label>/*.jpg, 48x48): face-api's expression net, Human's
 * oarriaga emotion net, each with and without horizontal-flip test-time augmentation, and their ensembles.
 * The classifiers see the whole 48x48 crop (the photos are already face crops). Accuracy is over the six
 * PublicTest classes; disgust (Training split, seen by Human's model) is reported apart and never used to
 * choose anything. The one free choice (arithmetic vs log-probability average, both equal weights) is shown on
 * two halves of the photos (even / odd file index within each class) so a choice made on one half can be
 * checked on the other.
 *   node --import tsx bench/models/emotion.ts [--engine]   (--engine: also run the full engine, detector included)
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EMOTIONS, type Emotion } from '../../src/core/types.js';
import { FACEAPI_EXPRESSIONS } from '../../src/engine/align.js';
import { predictHumanEmotion } from '../../src/engine/faceapi/human.js';
import { loadFaceApiRuntime, loadRuntimeParts } from '../../src/engine/faceapi/runtime.js';
import { FER, loadRgb, pct } from './common.js';

const { faceapi, human, tfjs: tf } = await loadRuntimeParts();
const FACEAPI_TO_EMOTION: Record<string, Emotion> = { neutral: 'neutral', happy: 'happy', sad: 'sad', angry: 'angry', fearful: 'fear', disgusted: 'disgust', surprised: 'surprise' };

interface Sample {
  label: Emotion;
  half: 0 | 1;
  probs: Record<string, number[]>;
}

async function faceapiProbs(t: import('@tensorflow/tfjs').Tensor3D): Promise<number[]> {
  const result = (await faceapi.nets.faceExpressionNet.predictExpressions(t)) as unknown as Record<string, number>;
  const out = EMOTIONS.map(() => 0);
  for (const expression of FACEAPI_EXPRESSIONS) out[EMOTIONS.indexOf(FACEAPI_TO_EMOTION[expression] ?? 'neutral')] = result[expression] ?? 0;
  return out;
}

function mean(vectors: number[][]): number[] {
  return EMOTIONS.map((_, i) => vectors.reduce((s, v) => s + (v[i] ?? 0), 0) / vectors.length);
}
function logMean(vectors: number[][]): number[] {
  const logs = EMOTIONS.map((_, i) => Math.exp(vectors.reduce((s, v) => s + Math.log(Math.max(v[i] ?? 0, 1e-7)), 0) / vectors.length));
  const sum = logs.reduce((a, b) => a + b, 0);
  return logs.map((x) => x / sum);
}

const samples: Sample[] = [];
for (const label of EMOTIONS) {
  const files = readdirSync(join(FER, label)).sort();
  for (const [index, file] of files.entries()) {
    const image = await loadRgb(join(FER, label, file));
    const t = tf.tensor3d(image.data, [image.height, image.width, 3], 'float32');
    const flipped = tf.reverse(t, 1);
    const fa = await faceapiProbs(t);
    const faFlip = await faceapiProbs(flipped);
    const batch = t.expandDims<import('@tensorflow/tfjs').Tensor4D>(0);
    const huT = predictHumanEmotion(tf, human.emotion, batch, false);
    const huFlipT = predictHumanEmotion(tf, human.emotion, batch, true);
    const hu = Array.from(await huT.data());
    const huTta = Array.from(await huFlipT.data());
    tf.dispose([t, flipped, batch, huT, huFlipT]);
    const faTta = mean([fa, faFlip]);
    samples.push({
      label,
      half: (index % 2) as 0 | 1,
      probs: {
        'face-api': fa,
        'face-api + flip': faTta,
        Human: hu,
        'Human + flip': huTta,
        'mean(face-api, Human)': mean([fa, hu]),
        'mean(face-api+flip, Human+flip)': mean([faTta, huTta]),
        'log-mean(face-api+flip, Human+flip)': logMean([faTta, huTta]),
      },
    });
  }
}

if (process.argv.includes('--engine')) {
  const runtime = await loadFaceApiRuntime();
  let noFace = 0;
  for (const [i, sample] of samples.entries()) {
    const label = sample.label;
    const files = readdirSync(join(FER, label)).sort();
    const file = files[i % 100] ?? '';
    const faces = await runtime.analyze(await loadRgb(join(FER, label, file)), { minDetectionScore: 0.2, maxFaces: 1, minFaceSize: 1, withCrop: false });
    const face = faces[0];
    if (!face) noFace++;
    sample.probs['engine (detector crop)'] = face ? EMOTIONS.map((e) => face.emotion[e]) : EMOTIONS.map(() => 1 / 7);
  }
  process.stdout.write(`engine: no face found in ${noFace} of ${samples.length} FER photos (counted as wrong)\n`);
}

function argmax(v: number[]): number {
  return v.reduce((best, x, i) => (x > (v[best] ?? -1) ? i : best), 0);
}

const methods = Object.keys(samples[0]?.probs ?? {});
const six = EMOTIONS.filter((e) => e !== 'disgust');
const lines = [`| method | 6 classes | half A | half B | ${six.join(' | ')} | disgust (seen in training) |`, `| --- | --- | --- | --- | ${six.map(() => '---').join(' | ')} | --- |`];
for (const method of methods) {
  const correct = (s: Sample) => EMOTIONS[argmax(s.probs[method] ?? [])] === s.label;
  const acc = (list: Sample[]) => list.filter(correct).length / Math.max(1, list.length);
  const test = samples.filter((s) => s.label !== 'disgust');
  const perClass = six.map((e) => pct(acc(samples.filter((s) => s.label === e))));
  lines.push(
    `| ${method} | ${pct(acc(test))} | ${pct(acc(test.filter((s) => s.half === 0)))} | ${pct(acc(test.filter((s) => s.half === 1)))} | ${perClass.join(' | ')} | ${pct(acc(samples.filter((s) => s.label === 'disgust')))} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
