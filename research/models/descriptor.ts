/**
 * Face descriptors compared on the LFW pairs inside the subset (official pairs + deterministic extra mismatched
 * pairs from bench/lfw.ts, seed 2026, so both classes have as many) and rank-1 among the same photos.
 * Every descriptor is L2-normalised and compared by euclidean distance (for unit vectors euclidean² = 2·cosine
 * distance). Pair accuracy: 10-fold, threshold chosen on 9 folds, applied to the 10th; also the single best
 * threshold over all pairs (what the engine's defaultThreshold is set from).
 *   node --import tsx research/models/descriptor.ts [--limit N]   (N: at most N pairs per class)
 * Faces come from the engine's runtime (BlazeFace + face-api landmarks); each descriptor model sees the
 * dlib-style square face-api's recogniser uses, resized to its input.
 */
import { join } from 'node:path';
import type * as Tfjs from '@tensorflow/tfjs';
import { extraMismatchedPairs, officialPairsInSubset, type LfwPair } from '../../bench/lfw.js';
import { humanModelDir, loadGraphModelFromDisk } from '../../src/engine/faceapi/human.js';
import { loadModels } from '../../src/engine/faceapi/loader.js';
import { loadFaceApiRuntime } from '../../src/engine/faceapi/runtime.js';
import { argValue, DATA, LFW, lfwFiles, loadRgb, pct } from './common.js';

const limit = Number(argValue('limit') ?? Infinity);
const { faceapi, tfjs: tf } = await loadModels();
const runtime = await loadFaceApiRuntime();
const faceres = await loadGraphModelFromDisk(tf, join(humanModelDir(), 'faceres.json'));
const mobilefacenet = await loadGraphModelFromDisk(tf, join(humanModelDir(), 'mobilefacenet.json'));

const files = lfwFiles();
const byPerson = new Map<string, string[]>();
for (const file of files) {
  const person = file.split('/').at(-2) ?? '';
  byPerson.set(person, [...(byPerson.get(person) ?? []), file]);
}
const official = await officialPairsInSubset(join(DATA, 'lfw-pairs.txt'), LFW, new Set(files));
const matched = official.filter((p) => p.same).slice(0, limit);
let mismatched = official.filter((p) => !p.same).slice(0, limit);
mismatched = [...mismatched, ...extraMismatchedPairs(byPerson, Math.max(0, matched.length - mismatched.length), official)];
const pairs: LfwPair[] = [...matched, ...mismatched];
const photos = [...new Set(pairs.flatMap((p) => [p.a, p.b]))].sort();
process.stderr.write(`${matched.length} matched, ${mismatched.length} mismatched pairs (${mismatched.filter((p) => p.source === 'extra').length} extra), ${photos.length} photos\n`);

function unit(v: ArrayLike<number>): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += (v[i] ?? 0) ** 2;
  norm = Math.sqrt(norm) || 1;
  return Float32Array.from(v, (x) => x / norm);
}
function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return unit(out);
}

const ms: Record<string, number> = {};
function timed<T>(name: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  return run().then((value) => {
    ms[name] = (ms[name] ?? 0) + performance.now() - started;
    return value;
  });
}

const descriptors = new Map<string, Record<string, Float32Array>>();
for (const file of photos) {
  const image = await loadRgb(file);
  const [face] = await runtime.analyze({ ...image, data: image.data.slice() }, { minDetectionScore: 0.2, maxFaces: 1, minFaceSize: 20, needs: { embedding: true, attributes: [], crop: false } });
  if (!face) continue;
  const landmarks = new faceapi.FaceLandmarks68(
    face.landmarks.map(([x, y]) => new faceapi.Point(x / image.width, y / image.height)),
    { width: image.width, height: image.height },
  );
  const box = landmarks.align(null, { useDlibAlignment: true });
  const input = tf.tensor3d(image.data, [image.height, image.width, 3], 'float32');
  const x = Math.min(image.width - 1, Math.max(0, Math.round(box.x)));
  const y = Math.min(image.height - 1, Math.max(0, Math.round(box.y)));
  const w = Math.max(1, Math.min(image.width - x, Math.round(box.width)));
  const h = Math.max(1, Math.min(image.height - y, Math.round(box.height)));
  const crop = tf.slice3d(input, [y, x, 0], [h, w, 3]);
  const flipped = tf.reverse(crop, 1);
  const resnet = unit(await timed('ResNet-128', async () => faceapi.nets.faceRecognitionNet.computeFaceDescriptor(crop as never) as Promise<Float32Array>));
  const resnetFlip = unit(await timed('ResNet-128 flip', async () => faceapi.nets.faceRecognitionNet.computeFaceDescriptor(flipped as never) as Promise<Float32Array>));
  const runGraph = async (name: string, model: Tfjs.GraphModel, size: number, offset: number, scale: number, output?: string) =>
    timed(name, async () => {
      const batch = tf.tidy(() => tf.image.resizeBilinear(crop.expandDims<Tfjs.Tensor4D>(0), [size, size]).sub(offset).div(scale));
      const out = output === undefined ? model.execute(batch) : model.execute(batch, output);
      const outs = Array.isArray(out) ? out : [out];
      const data = await (outs[0] as Tfjs.Tensor).data();
      tf.dispose([batch, ...outs]);
      return unit(data);
    });
  // FaceRes: 0..255 input (Human multiplies its 0..1 crop by 255); the descriptor is the 1024-wide
  // global_pooling/Mean node, which is not among the model's signature outputs, so it is asked for by name.
  const res = await runGraph('FaceRes', faceres, 224, 0, 1, 'global_pooling/Mean');
  // MobileFaceNet (InsightFace): the usual (x - 127.5) / 128 input scaling.
  const mfn = await runGraph('MobileFaceNet', mobilefacenet, 112, 127.5, 128);
  tf.dispose([input, crop, flipped]);
  const resnetTta = unit(resnet.map((v, i) => v + (resnetFlip[i] ?? 0)));
  descriptors.set(file, {
    'ResNet-128': resnet,
    'ResNet-128 + flip TTA': resnetTta,
    FaceRes: res,
    MobileFaceNet: mfn,
    'ResNet+flip ⊕ FaceRes': concat(resnetTta, res),
    'ResNet+flip ⊕ FaceRes ⊕ MobileFaceNet': concat(resnetTta, res, mfn),
  });
}

function dist(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2;
  return Math.sqrt(sum);
}
function bestThreshold(scored: { d: number; same: boolean }[]): { threshold: number; accuracy: number } {
  let best = { threshold: 0, accuracy: 0 };
  for (let t = 0.2; t <= 1.6; t += 0.005) {
    const accuracy = scored.filter((p) => (p.d < t) === p.same).length / scored.length;
    if (accuracy > best.accuracy) best = { threshold: t, accuracy };
  }
  return best;
}

const methods = Object.keys(descriptors.values().next().value ?? {});
const lines = ['| descriptor | dims | pair accuracy (10-fold) | best threshold (all pairs) | accuracy at it | rank-1 | ms/face |', '| --- | --- | --- | --- | --- | --- | --- |'];
const missing = pairs.filter((p) => !descriptors.has(p.a) || !descriptors.has(p.b)).length;
for (const method of methods) {
  const scored = pairs
    .filter((p) => descriptors.has(p.a) && descriptors.has(p.b))
    .map((p) => ({ d: dist(descriptors.get(p.a)?.[method] ?? new Float32Array(), descriptors.get(p.b)?.[method] ?? new Float32Array()), same: p.same, fold: p.fold }));
  let correct = 0;
  for (let fold = 0; fold < 10; fold++) {
    const { threshold } = bestThreshold(scored.filter((p) => p.fold !== fold));
    correct += scored.filter((p) => p.fold === fold && (p.d < threshold) === p.same).length;
  }
  const best = bestThreshold(scored);
  // Rank-1: every photo whose person has another photo among these, nearest other photo is the same person.
  const list = [...descriptors.entries()];
  const personOf = (file: string) => file.split('/').at(-2) ?? '';
  let hits = 0;
  let probes = 0;
  for (const [file, d] of list) {
    if (!list.some(([other]) => other !== file && personOf(other) === personOf(file))) continue;
    probes++;
    let nearest = '';
    let nearestDistance = Infinity;
    for (const [other, e] of list) {
      if (other === file) continue;
      const distance = dist(d[method] ?? new Float32Array(), e[method] ?? new Float32Array());
      if (distance < nearestDistance) [nearest, nearestDistance] = [other, distance];
    }
    if (personOf(nearest) === personOf(file)) hits++;
  }
  const dims = descriptors.values().next().value?.[method]?.length ?? 0;
  const parts: Record<string, string[]> = {
    'ResNet-128': ['ResNet-128'],
    'ResNet-128 + flip TTA': ['ResNet-128', 'ResNet-128 flip'],
    FaceRes: ['FaceRes'],
    MobileFaceNet: ['MobileFaceNet'],
    'ResNet+flip ⊕ FaceRes': ['ResNet-128', 'ResNet-128 flip', 'FaceRes'],
    'ResNet+flip ⊕ FaceRes ⊕ MobileFaceNet': ['ResNet-128', 'ResNet-128 flip', 'FaceRes', 'MobileFaceNet'],
  };
  const cost = (parts[method] ?? []).reduce((total, part) => total + (ms[part] ?? 0), 0);
  lines.push(`| ${method} | ${dims} | ${pct(correct / scored.length)} | ${best.threshold.toFixed(3)} | ${pct(best.accuracy)} | ${pct(hits / Math.max(1, probes))} (${probes} probes) | ${(cost / descriptors.size).toFixed(0)} |`);
}
process.stdout.write(`${lines.join('\n')}\n${missing} pairs skipped (no face found)\n`);
