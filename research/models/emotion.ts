/**
 * Emotion accuracy on the FER crops (emotion-fer/<label>/*.jpg, 48x48): face-api's expression net, Human's
 * oarriaga emotion net, each with and without horizontal-flip test-time augmentation, and their ensembles.
 * The classifiers see the whole 48x48 crop (the photos are already face crops). Accuracy is over the six
 * PublicTest classes; disgust (Training split, seen by Human's model) is reported apart and never used to
 * choose anything. The one free choice (arithmetic vs log-probability average, both equal weights) is shown on
 * two halves of the photos (even / odd file index within each class) so a choice made on one half can be
 * checked on the other.
 *   node --import tsx research/models/emotion.ts [--engine [--sweep]] [--onnx]
 * --engine: also run the full engine (detector, then the FER-style emotion crop around the detection box) and time
 * the emotion step per face. --sweep: on the engine's own detection boxes, try other crop framings, net weights and
 * test-time augmentations (shifted / rescaled crops); every choice is made on half A only (see "Emotion, round 2"
 * in research/models.md). --onnx: engine v5's expression net with these two nets as ensemble members, on v5's own
 * detections (see onnxEnsemble; "ONNX engine (v5)" → "Emotion" in research/models.md).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EMOTIONS, type Emotion, FACE_ATTRIBUTES } from '../../src/core/types.js';
import type { Box } from '../../src/core/types.js';
import { emotionCropTransform, emotionFromExpressions, FACEAPI_EXPRESSIONS, warpGray, type EmotionFraming } from '../../src/engine/align.js';
import { HUMAN_EMOTIONS, predictHumanEmotionGray } from '../../src/engine/faceapi/human.js';
import { HUMAN_EMOTION_SIZE } from '../../src/engine/human-emotion/postprocess.js';
import { EMOTION_CROP_SIZE, EMOTION_FRAMING, emotionCrop, ensembleEmotions, HUMAN_EMOTION_WEIGHT } from '../../src/engine/faceapi/attributes.js';
import { detectFaces, imageBox } from '../../src/engine/faceapi/detect.js';
import { loadModels } from '../../src/engine/faceapi/loader.js';
import { loadFaceApiRuntime } from '../../src/engine/faceapi/runtime.js';
import { FER, loadRgb, pct } from './common.js';

const parts = await loadModels();
const { faceapi, human, tfjs: tf } = parts;
const FACEAPI_TO_EMOTION: Record<string, Emotion> = { neutral: 'neutral', happy: 'happy', sad: 'sad', angry: 'angry', fearful: 'fear', disgusted: 'disgust', surprised: 'surprise' };

interface Sample {
  label: Emotion;
  half: 0 | 1;
  file: string;
  probs: Record<string, number[]>;
  /** The engine's emotion box (image pixels, unclamped), when it found a face. */
  engineBox?: Box;
}

type Tensor4D = import('@tensorflow/tfjs').Tensor4D;
type Tensor2D = import('@tensorflow/tfjs').Tensor2D;

/** Human's emotion net once over grayscale crops (0..255), without the engine's mirror average (predictHumanEmotionGray). */
function humanEmotionOnce(gray: Tensor4D): Tensor2D {
  return tf.tidy(() => {
    const input = tf.image.resizeBilinear(gray, [HUMAN_EMOTION_SIZE, HUMAN_EMOTION_SIZE]).div(127.5).sub<Tensor4D>(1);
    return human.emotion.execute(input) as Tensor2D;
  });
}

/** Human's emotion net on RGB crops (0..255), made gray with Human's rgb2gray weights; `flip` as the engine does. */
function humanEmotionRgb(crops: Tensor4D, flip: boolean): Tensor2D {
  return tf.tidy(() => {
    const gray = crops.mul(tf.tensor1d([0.2989, 0.587, 0.114])).sum<Tensor4D>(3, true);
    return flip ? predictHumanEmotionGray(tf, human.emotion, gray) : humanEmotionOnce(gray);
  });
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
    const huT = humanEmotionRgb(batch, false);
    const huFlipT = humanEmotionRgb(batch, true);
    const hu = Array.from(await huT.data());
    const huTta = Array.from(await huFlipT.data());
    tf.dispose([t, flipped, batch, huT, huFlipT]);
    const faTta = mean([fa, faFlip]);
    samples.push({
      label,
      half: (index % 2) as 0 | 1,
      file: join(FER, label, file),
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

const six = EMOTIONS.filter((e) => e !== 'disgust');
const sixClassSamples = samples.filter((s) => s.label !== 'disgust');
function argmax(v: number[]): number {
  return v.reduce((best, x, i) => (x > (v[best] ?? -1) ? i : best), 0);
}
/** Six-class accuracy of the probability vectors `probsOf` gives, on the samples `keep` selects. */
function accuracy(probsOf: (s: Sample, i: number) => number[], keep: (s: Sample) => boolean): number {
  const kept = samples.map((s, i) => ({ s, i })).filter(({ s }) => keep(s));
  return kept.filter(({ s, i }) => EMOTIONS[argmax(probsOf(s, i))] === s.label).length / Math.max(1, kept.length);
}
const halfA = (s: Sample) => s.label !== 'disgust' && s.half === 0;

/** Per-sample probabilities of the four passes (face-api, face-api mirrored, Human, Human mirrored) on gray crops. */
type Passes = [number[], number[], number[], number[]];
/** face-api returns a single result, not an array, for a batch of one. */
function listOf(result: unknown): Record<string, number>[] {
  return (Array.isArray(result) ? result : [result]) as Record<string, number>[];
}
async function passesOn(crops: Float32Array[]): Promise<Passes[]> {
  const size = EMOTION_CROP_SIZE;
  const out: Passes[] = [];
  for (let start = 0; start < crops.length; start += 50) {
    const gray = tf.tidy(() => tf.stack(crops.slice(start, start + 50).map((c) => tf.tensor3d(c, [size, size, 1]))) as import('@tensorflow/tfjs').Tensor4D);
    const rgb = tf.tidy(() => tf.unstack(tf.tile(gray, [1, 1, 1, 3])) as import('@tensorflow/tfjs').Tensor3D[]);
    const mirrored = rgb.map((t) => tf.reverse(t, 1));
    const fa = listOf(await faceapi.nets.faceExpressionNet.predictExpressions(rgb));
    const faFlip = listOf(await faceapi.nets.faceExpressionNet.predictExpressions(mirrored));
    const hu = humanEmotionOnce(gray);
    const huFlip = tf.tidy(() => humanEmotionOnce(tf.reverse(gray, 2)));
    const [huData, huFlipData] = [await hu.data(), await huFlip.data()];
    const fromFaceapi = (e: Record<string, number> | undefined) => {
      const scores = emotionFromExpressions(FACEAPI_EXPRESSIONS.map((l) => e?.[l] ?? 0));
      return EMOTIONS.map((k) => scores[k]);
    };
    const fromHuman = (data: ArrayLike<number>, i: number) => EMOTIONS.map((k) => data[i * HUMAN_EMOTIONS.length + HUMAN_EMOTIONS.indexOf(k)] ?? 0);
    for (let i = 0; i < rgb.length; i++) out.push([fromFaceapi(fa[i]), fromFaceapi(faFlip[i]), fromHuman(huData, i), fromHuman(huFlipData, i)]);
    tf.dispose([gray, ...rgb, ...mirrored, hu, huFlip]);
  }
  return out;
}
/** Weighted ensemble of one or more crops' passes: Human weight `w`, with or without the mirrored passes. */
function combine(passes: Passes[], w: number, flip = true): number[] {
  return EMOTIONS.map((_, k) =>
    passes.reduce((t, [fa, faFlip, hu, huFlip]) => {
      const f = flip ? ((fa[k] ?? 0) + (faFlip[k] ?? 0)) / 2 : (fa[k] ?? 0);
      const h = flip ? ((hu[k] ?? 0) + (huFlip[k] ?? 0)) / 2 : (hu[k] ?? 0);
      return t + (1 - w) * f + w * h;
    }, 0),
  );
}

const sweepLines: string[] = [];
if (process.argv.includes('--engine')) {
  const runtime = await loadFaceApiRuntime();
  const options = { minDetectionScore: 0.2, maxFaces: 1, minFaceSize: 1, needs: { embedding: false, attributes: FACE_ATTRIBUTES, crop: false } };
  let noFace = 0;
  for (const sample of samples) {
    const image = await loadRgb(sample.file);
    // The engine's emotion box (the detection box mapped back to the image, unclamped), from the engine's own
    // detector with the same options, so other framings can be tried on the engine's own detections.
    const detection = await detectFaces(parts, image, options);
    detection.input.dispose();
    const detected = detection.faces[0];
    const faces = await runtime.analyze(image, options);
    const face = faces[0];
    if (!face) noFace++;
    if (face && detected) sample.engineBox = imageBox(detection.pass, detected);
    sample.probs['engine'] = face?.attributes?.emotion ? EMOTIONS.map((e) => face.attributes?.emotion?.[e] ?? 0) : EMOTIONS.map(() => 1 / 7);
  }
  process.stdout.write(`engine: no face found in ${noFace} of ${samples.length} FER photos (counted as wrong)\n`);

  // Cost of the emotion step per face (crop + four passes), one face at a time as a single-face photo pays it.
  const timed = samples.filter((s) => s.engineBox).slice(0, 100);
  const images = await Promise.all(timed.map((s) => loadRgb(s.file)));
  await ensembleEmotions(parts, [emotionCrop(images[0]!, timed[0]!.engineBox!)]);
  let cropMs = 0;
  let netMs = 0;
  for (const [i, s] of timed.entries()) {
    let started = performance.now();
    const crop = emotionCrop(images[i]!, s.engineBox!);
    cropMs += performance.now() - started;
    started = performance.now();
    await ensembleEmotions(parts, [crop]);
    netMs += performance.now() - started;
  }
  process.stdout.write(`emotion step: crop ${(cropMs / timed.length).toFixed(2)} ms/face, nets (4 passes) ${(netMs / timed.length).toFixed(1)} ms/face\n`);

  if (process.argv.includes('--sweep')) {
    const fileImages = await Promise.all(samples.map((s) => loadRgb(s.file)));
    const cropsFor = (framing: EmotionFraming, dx = 0) =>
      samples.map((s, i) => {
        const box = s.engineBox;
        if (!box) return new Float32Array(EMOTION_CROP_SIZE * EMOTION_CROP_SIZE).fill(128);
        const m = Math.sqrt(box.width * box.height);
        return warpGray(fileImages[i]!, emotionCropTransform({ ...box, x: box.x + dx * m }, EMOTION_CROP_SIZE, framing), EMOTION_CROP_SIZE);
      });
    const cache = new Map<string, Passes[]>();
    const passesFor = async (side: number, dy: number, dx = 0) => {
      const key = `${side}/${dy}/${dx}`;
      let passes = cache.get(key);
      if (!passes) cache.set(key, (passes = await passesOn(cropsFor({ side, dy }, dx))));
      return passes;
    };
    const row = (name: string, probsOf: (s: Sample, i: number) => number[]) => {
      const perClass = six.map((e) => pct(accuracy(probsOf, (s) => s.label === e)));
      sweepLines.push(
        `| ${name} | ${pct(accuracy(probsOf, (s) => s.label !== 'disgust'))} | ${pct(accuracy(probsOf, halfA))} | ${pct(accuracy(probsOf, (s) => s.label !== 'disgust' && s.half === 1))} | ${perClass.join(' | ')} | ${pct(accuracy(probsOf, (s) => s.label === 'disgust'))} |`,
      );
    };
    const dy = EMOTION_FRAMING.dy;
    // 1. Crop side (equal weights), chosen on half A.
    let bestSide = 0;
    let bestSideAcc = -1;
    for (const side of [1.25, 1.39, 1.47, 1.55, 1.62, 1.7, 1.85, 2.0]) {
      const passes = await passesFor(side, dy);
      const probsOf = (_: Sample, i: number) => combine([passes[i]!], 0.5);
      row(`side ${side}, dy ${dy}, w 0.5`, probsOf);
      const a = accuracy(probsOf, halfA);
      if (a > bestSideAcc) [bestSide, bestSideAcc] = [side, a];
    }
    for (const otherDy of [dy - 0.1, dy + 0.1]) {
      const passes = await passesFor(bestSide, otherDy);
      row(`side ${bestSide}, dy ${otherDy.toFixed(2)}, w 0.5`, (_, i) => combine([passes[i]!], 0.5));
    }
    // 2. Human's weight, chosen on half A at that side.
    const base = await passesFor(bestSide, dy);
    let bestW = 0;
    let bestWAcc = -1;
    for (let k = 0; k <= 10; k++) {
      const w = k / 10;
      const probsOf = (_: Sample, i: number) => combine([base[i]!], w);
      row(`side ${bestSide}, w ${w}`, probsOf);
      const a = accuracy(probsOf, halfA);
      if (a > bestWAcc) [bestW, bestWAcc] = [w, a];
    }
    row(`side ${bestSide}, w ${bestW}, no mirror passes`, (_, i) => combine([base[i]!], bestW, false));
    // 3. Test-time augmentation: several crops per face, each with its mirror; w re-chosen on half A per set.
    const sets: [string, [number, number][]][] = [
      ['scales x0.95, x1.05', [[bestSide * 0.95, 0], [bestSide * 1.05, 0]]],
      ['scales x0.95, x1, x1.05', [[bestSide * 0.95, 0], [bestSide, 0], [bestSide * 1.05, 0]]],
      ['scales x0.9, x1, x1.1', [[bestSide * 0.9, 0], [bestSide, 0], [bestSide * 1.1, 0]]],
      ['shifts 0, ±0.06 m', [[bestSide, 0], [bestSide, -0.06], [bestSide, 0.06]]],
    ];
    for (const [name, members] of sets) {
      const all = await Promise.all(members.map(([side, dx]) => passesFor(Number(side.toFixed(3)), dy, dx)));
      let w = 0;
      let wAcc = -1;
      for (const candidate of [0.5, 0.6, 0.65, 0.7, 0.75, 0.8]) {
        const a = accuracy((_, i) => combine(all.map((p) => p[i]!), candidate), halfA);
        if (a > wAcc) [w, wAcc] = [candidate, a];
      }
      row(`TTA ${name} (${members.length * 4} passes), w ${w}`, (_, i) => combine(all.map((p) => p[i]!), w));
    }
    sweepLines.push('', `chosen on half A: side ${bestSide}, Human weight ${bestW} (engine: side ${EMOTION_FRAMING.side}, weight ${HUMAN_EMOTION_WEIGHT})`);
  }
}

const onnxLines: string[] = [];
if (process.argv.includes('--onnx')) await onnxEnsemble();

/**
 * --onnx: engine v5's expression net (through the engine's own detector and framing, expressionRegion) with Human's
 * oarriaga net and face-api's expression net as possible ensemble members, on the photos where engine v5 finds a
 * face (what `npm run bench:accuracy` scores). Human's net is tried on two framings of the v5 detection box: the
 * very region the ONNX net sees, and engine v4's FER-style square (EMOTION_FRAMING); each with and without its
 * mirror image. Every choice (framing, mirror, mean vs log-mean) is made on half A only.
 */
async function onnxEnsemble(): Promise<void> {
  const { loadSessions } = await import('../../src/engine/onnx/runtime.js');
  const { detectFaces: onnxDetect, DETECTOR_MIN_SCORE, expressionInput, expressionLogits, expressionRegion, humanEmotionInput } = await import('../../src/engine/onnx/pipeline.js');
  const { HUMAN_EMOTION_SIZE } = await import('../../src/engine/human-emotion/postprocess.js');
  const { emotionFromLogits } = await import('../../src/engine/onnx/postprocess.js');
  const { boxAffine, grayPlane, mirrorPlanes } = await import('../../src/engine/onnx/preprocess.js');
  const { clampBox, selectFaces } = await import('../../src/engine/align.js');
  const { loadConfig } = await import('../../src/config/config.js');
  const config = loadConfig({});
  const selection = { minDetectionScore: Math.max(config.minDetectionScore, DETECTOR_MIN_SCORE), minFaceSize: config.minFaceSize, maxFaces: 1 };
  const sessions = await loadSessions({ intraOpThreads: 1 });
  const HUMAN_SIZE = HUMAN_EMOTION_SIZE;
  const humanInput = humanEmotionInput;
  const humanRun = async (inputs: Float32Array[]): Promise<number[][]> => {
    const out: number[][] = [];
    for (let start = 0; start < inputs.length; start += 50) {
      const chunk = inputs.slice(start, start + 50);
      const flat = new Float32Array(chunk.length * HUMAN_SIZE * HUMAN_SIZE);
      chunk.forEach((c, i) => flat.set(c, i * HUMAN_SIZE * HUMAN_SIZE));
      const probs = tf.tidy(() => human.emotion.execute(tf.tensor4d(flat, [chunk.length, HUMAN_SIZE, HUMAN_SIZE, 1])) as import('@tensorflow/tfjs').Tensor2D);
      const data = await probs.data();
      probs.dispose();
      chunk.forEach((_, i) => out.push(EMOTIONS.map((k) => data[i * HUMAN_EMOTIONS.length + HUMAN_EMOTIONS.indexOf(k)] ?? 0)));
    }
    return out;
  };
  const v4Region = (box: Box): Box => {
    const t = emotionCropTransform(box, HUMAN_SIZE, EMOTION_FRAMING);
    return { x: t.tx, y: t.ty, width: t.cos * HUMAN_SIZE, height: t.cos * HUMAN_SIZE };
  };
  interface Found {
    sample: Sample;
    probs: Record<string, number[]>;
  }
  const found: Found[] = [];
  const humanInputs: Record<string, Float32Array[]> = { 'Human, v5 region': [], 'Human, v5 region, mirror': [], 'Human, v4 square': [], 'Human, v4 square, mirror': [] };
  const faceapiCrops: Float32Array[] = [];
  const faceapiOwnCrops: Float32Array[] = [];
  let noFace = 0;
  for (const sample of samples) {
    const image = await loadRgb(sample.file);
    const detected = await onnxDetect(sessions.run, image, selection.minDetectionScore);
    const [face] = selectFaces(
      detected.map((d) => ({ score: d.score, box: clampBox(d.box, image.width, image.height), detectionBox: d.box })).filter((d) => d.box.width > 0 && d.box.height > 0),
      selection,
    );
    if (!face) {
      noFace++;
      continue;
    }
    const box = face.detectionBox;
    const region = expressionRegion(image, box);
    const input = expressionInput(image, region);
    const onnxPlain = emotionFromLogits(await expressionLogits(sessions.run, input));
    const onnxMirror = emotionFromLogits(await expressionLogits(sessions.run, mirrorPlanes(input, 224)));
    const onnx = EMOTIONS.map((k) => onnxPlain[k]);
    found.push({ sample, probs: { ONNX: onnx, 'ONNX + mirror': EMOTIONS.map((k, i) => ((onnx[i] ?? 0) + onnxMirror[k]) / 2) } });
    const own = humanInput(image, region);
    const square = humanInput(image, v4Region(box));
    humanInputs['Human, v5 region']!.push(own);
    humanInputs['Human, v5 region, mirror']!.push(mirrorPlanes(own, HUMAN_SIZE));
    humanInputs['Human, v4 square']!.push(square);
    humanInputs['Human, v4 square, mirror']!.push(mirrorPlanes(square, HUMAN_SIZE));
    faceapiCrops.push(emotionCrop(image, box));
    faceapiOwnCrops.push(grayPlane(image, boxAffine(region, EMOTION_CROP_SIZE, EMOTION_CROP_SIZE), EMOTION_CROP_SIZE, EMOTION_CROP_SIZE, 1));
  }
  for (const [name, inputs] of Object.entries(humanInputs)) {
    const probs = await humanRun(inputs);
    found.forEach((f, i) => (f.probs[name] = probs[i] ?? []));
  }
  const faceapiPasses = await passesOn(faceapiCrops);
  const faceapiOwnPasses = await passesOn(faceapiOwnCrops);
  found.forEach((f, i) => {
    const [fa, faFlip] = faceapiPasses[i] ?? [[], []];
    f.probs['face-api, v4 square + mirror'] = mean([fa, faFlip]);
    const [own, ownFlip] = faceapiOwnPasses[i] ?? [[], []];
    f.probs['face-api, v5 region'] = own;
    f.probs['face-api, v5 region + mirror'] = mean([own, ownFlip]);
  });
  for (const f of found) {
    const p = f.probs;
    const humanMirror = (framing: string) => mean([p[`Human, ${framing}`]!, p[`Human, ${framing}, mirror`]!]);
    p['Human, v5 region + mirror'] = humanMirror('v5 region');
    p['Human, v4 square + mirror'] = humanMirror('v4 square');
    for (const h of ['Human, v5 region', 'Human, v5 region + mirror', 'Human, v4 square', 'Human, v4 square + mirror']) {
      p[`mean(ONNX, ${h})`] = mean([p['ONNX']!, p[h]!]);
      p[`log-mean(ONNX, ${h})`] = logMean([p['ONNX']!, p[h]!]);
      p[`mean(ONNX, ${h}, face-api v4 square + mirror)`] = mean([p['ONNX']!, p[h]!, p['face-api, v4 square + mirror']!]);
      p[`log-mean(ONNX, ${h}, face-api v4 square + mirror)`] = logMean([p['ONNX']!, p[h]!, p['face-api, v4 square + mirror']!]);
      for (const fa of ['face-api, v5 region', 'face-api, v5 region + mirror']) {
        p[`mean(ONNX, ${h}, ${fa})`] = mean([p['ONNX']!, p[h]!, p[fa]!]);
        p[`log-mean(ONNX, ${h}, ${fa})`] = logMean([p['ONNX']!, p[h]!, p[fa]!]);
      }
    }
  }
  const names = Object.keys(found[0]?.probs ?? {}).filter((n) => !n.endsWith(', mirror'));
  onnxLines.push(
    `engine v5's detector finds no face in ${noFace} of ${samples.length} photos (left out, as bench:accuracy does); ${found.length} photos`,
    `| method | 6 classes | half A | half B | ${six.join(' | ')} | disgust (seen by Human's net) |`,
    `| --- | --- | --- | --- | ${six.map(() => '---').join(' | ')} | --- |`,
  );
  for (const name of names) {
    const correct = (f: Found) => EMOTIONS[argmax(f.probs[name] ?? [])] === f.sample.label;
    const acc = (list: Found[]) => `${pct(list.filter(correct).length / Math.max(1, list.length))}`;
    const publicSix = found.filter((f) => f.sample.label !== 'disgust');
    onnxLines.push(
      `| ${name} | ${acc(publicSix)} | ${acc(publicSix.filter((f) => f.sample.half === 0))} | ${acc(publicSix.filter((f) => f.sample.half === 1))} | ${six.map((e) => acc(found.filter((f) => f.sample.label === e))).join(' | ')} | ${acc(found.filter((f) => f.sample.label === 'disgust'))} |`,
    );
  }
  await sessions.release();
}

const methods = Object.keys(samples[0]?.probs ?? {});
const header = [`| method | 6 classes | half A | half B | ${six.join(' | ')} | disgust (seen in training) |`, `| --- | --- | --- | --- | ${six.map(() => '---').join(' | ')} | --- |`];
const lines = [...header];
for (const method of methods) {
  const correct = (s: Sample) => EMOTIONS[argmax(s.probs[method] ?? [])] === s.label;
  const acc = (list: Sample[]) => list.filter(correct).length / Math.max(1, list.length);
  const perClass = six.map((e) => pct(acc(samples.filter((s) => s.label === e))));
  lines.push(
    `| ${method} | ${pct(acc(sixClassSamples))} | ${pct(acc(sixClassSamples.filter((s) => s.half === 0)))} | ${pct(acc(sixClassSamples.filter((s) => s.half === 1)))} | ${perClass.join(' | ')} | ${pct(acc(samples.filter((s) => s.label === 'disgust')))} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
if (onnxLines.length > 0) process.stdout.write(`\nengine v5 (ONNX) with ensemble members:\n${onnxLines.join('\n')}\n`);
if (sweepLines.length > 0) process.stdout.write(`\nthrough the engine's boxes:\n${[...header, ...sweepLines].join('\n')}\n`);
