/**
 * The ONNX engine's choices (engine v5, src/engine/onnx), each made on one half of the shared data and confirmed on
 * the other. Results: research/models.md, "ONNX engine (v5)". Runs the engine's own pipeline steps in this thread
 * (one set of sessions, 1 intra-op thread).
 *
 *   node --import tsx research/models/onnx.ts [--part detection,descriptor,alignment,emotion,emotion-cost] [--half 0|1] [--limit N]
 *
 * - detection: the detector's score floor. Per LFW photo (colour, and grayscale via sharp), every candidate of the
 *   plain pass and of the retry pass (contrast stretch + grey border) at score ≥ 0.3; then, per floor, photos with a
 *   face and extra faces (all but the largest) as the engine would report them. Halves: even / odd photo index.
 * - descriptor: the largest face's embedding, plain and mirrored (cached in research/out/onnx/), on halves of the
 *   people (even / odd index in sorted order): 10-fold pair accuracy, false rejects at a per-pair FAR of 1e-4 over
 *   all pairs of the half, rank-1 (each photo searched among all others of the half), with and without flip.
 * - alignment (--half 0 or 1): ways of getting the five points from the landmark net, on one half of the people:
 *   false rejects at FAR 1e-4 and 1e-3 over all pairs of the half, rank-1.
 * - emotion: the expression net's label order (argmax per class on the bare FER photos), then the crop around the
 *   engine's detection box (framings) against the bare photo, on halves A / B of emotion-fer (even / odd index of
 *   the sorted file names in each class). Accuracy over the six PublicTest classes; disgust apart. The ensemble with
 *   Human's emotion net is measured by research/models/emotion.ts --onnx (it needs tfjs and face-api's nets).
 * - emotion-cost [--workers N]: ms per face of the expression net and of Human's emotion net, and the resident
 *   memory Human's net adds in one thread and in the engine's worker pool.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crossValidate, type ScoredPair } from '../../bench/threshold-stats.js';
import { euclideanDistance } from '../../src/core/distance.js';
import { FACE_ATTRIBUTES, type Box, type Emotion, type Point } from '../../src/core/types.js';
import {
  detectFaces,
  DETECTOR_MAX_IOU,
  DETECTOR_MIN_SCORE,
  expressionLogits,
  expressionRegion,
  FEATURE_CHANNELS,
  featureInput,
  featureOf,
  landmarks68,
  RETRY_BORDER_FRACTION,
} from '../../src/engine/onnx/pipeline.js';
import { decodeDetections, decodeLandmarks, EXPRESSION_LABELS, fivePointsFrom68, netSquare, softmax, unitVector } from '../../src/engine/onnx/postprocess.js';
import { boxAffine, grayPlane, mirrorPlanes, NORMALISE, rgbPlanes, swapRedBlue } from '../../src/engine/onnx/preprocess.js';
import { loadSessions, type RunNet } from '../../src/engine/onnx/runtime.js';
import { padImage, stretchContrast } from '../../src/engine/enhance.js';
import type { RgbImage } from '../../src/image/image.js';
import { extraMismatchedPairs, officialPairsInSubset, type LfwPair } from '../../bench/lfw.js';
import { argValue, DATA, ferItems, LFW, lfwFiles, loadRgb, pct } from './common.js';

/**
 * The engine's embedding (src/engine/onnx/pipeline.ts embeddingOf) with the settings it decided against: `flip`
 * averages it with the mirrored crop's, `channels` feeds the feature net's planes in that order.
 */
async function embeddingVariant(run: RunNet, image: RgbImage, five: readonly Point[], flip: boolean, channels: 'bgr' | 'rgb' = FEATURE_CHANNELS): Promise<Float32Array> {
  const engineInput = featureInput(image, five);
  const input = channels === FEATURE_CHANNELS ? engineInput : swapRedBlue(engineInput);
  const plain = unitVector(await featureOf(run, input));
  if (!flip) return plain;
  const mirrored = unitVector(await featureOf(run, mirrorPlanes(input, 112)));
  return unitVector(plain.map((v, i) => v + (mirrored[i] ?? 0)));
}

const OUT = new URL('../out/onnx/', import.meta.url).pathname;
mkdirSync(OUT, { recursive: true });
const parts = (argValue('part') ?? 'detection,descriptor,emotion').split(',');
const limit = Number(argValue('limit') ?? Infinity);
const sessions = await loadSessions({ intraOpThreads: 1 });
const run = sessions.run;
const lines: string[] = [];
const MIN_FACE = 20;
/** Median FER photo side in detection-box sizes sqrt(w·h), measured on half A (research/models.md). */
const FER_MEDIAN_SIDE = 1.31;
const say = (line: string): void => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};

/** A detector candidate before suppression, in image pixels. */
interface Candidate {
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

async function candidates(image: RgbImage, minScore: number, border = 0): Promise<Candidate[]> {
  const input = rgbPlanes(image, boxAffine({ x: 0, y: 0, width: image.width, height: image.height }, 320, 240), 320, 240, NORMALISE.signed, 'edge');
  const { scores, boxes } = await run('detect', input, [1, 3, 240, 320]);
  if (!scores || !boxes) throw new Error('no detector output');
  // maxIou 1: every candidate, suppression is applied below.
  return decodeDetections(scores, boxes, minScore, 1).map((d) => ({
    score: d.score,
    x1: d.x1 * image.width - border,
    y1: d.y1 * image.height - border,
    x2: d.x2 * image.width - border,
    y2: d.y2 * image.height - border,
  }));
}

/** Greedy suppression by IoU (the engine's) or by intersection over the smaller box (drops boxes nested in a better one). */
function suppress(list: readonly Candidate[], threshold: number, overSmaller: boolean): Candidate[] {
  const kept: Candidate[] = [];
  const area = (c: Candidate): number => (c.x2 - c.x1) * (c.y2 - c.y1);
  for (const c of [...list].sort((a, b) => b.score - a.score)) {
    const overlaps = kept.some((k) => {
      const w = Math.min(k.x2, c.x2) - Math.max(k.x1, c.x1);
      const h = Math.min(k.y2, c.y2) - Math.max(k.y1, c.y1);
      if (w <= 0 || h <= 0) return false;
      const inter = w * h;
      return (overSmaller ? inter / Math.min(area(k), area(c)) : inter / (area(k) + area(c) - inter)) > threshold;
    });
    if (!overlaps) kept.push(c);
  }
  return kept;
}

const files = lfwFiles().slice(0, limit);

if (parts.includes('detection')) {
  const floors = [0.5, 0.7, 0.8, 0.9, 0.95];
  const rules: Array<[string, (list: readonly Candidate[]) => Candidate[]]> = [
    [`IoU > ${DETECTOR_MAX_IOU}`, (list) => suppress(list, DETECTOR_MAX_IOU, false)],
    ['overlap of the smaller > 0.5', (list) => suppress(list, 0.5, true)],
  ];
  const extraImages = ['Blank_image.jpg', 'group.jpg', 'alien.png', 'ai.jpg', 'Ezra_miller.jpg'];
  for (const grayscale of [false, true]) {
    const perPhoto: Array<{ plain: Candidate[]; retry: Candidate[] }> = [];
    const load = async (file: string): Promise<{ plain: Candidate[]; retry: Candidate[] }> => {
      const image = await loadRgb(file, grayscale);
      const plain = await candidates(image, 0.5);
      const border = Math.round(Math.max(image.width, image.height) * RETRY_BORDER_FRACTION);
      const retry = plain.length > 0 ? [] : await candidates(padImage(stretchContrast(image), border), 0.5, border);
      return { plain, retry };
    };
    for (const file of files) perPhoto.push(await load(file));
    const others = await Promise.all(extraImages.map((f) => load(join(DATA, 'test-images', f))));
    for (const [ruleName, rule] of rules) {
      say(`\nDetection, ${grayscale ? 'grayscale' : 'colour'} (${files.length} LFW photos), suppression ${ruleName}, faces ≥ ${MIN_FACE} px wide: found / extra faces per floor, halves A | B (even / odd photo index)`);
      say(`| floor | found A | found B | extra A | extra B | photos needing the retry | ${extraImages.join(' | ')} |`);
      say(`| --- | --- | --- | --- | --- | --- | ${extraImages.map(() => '---').join(' | ')} |`);
      const faces = ({ plain, retry }: { plain: Candidate[]; retry: Candidate[] }, floor: number): { kept: Candidate[]; retried: boolean } => {
        const pick = (list: Candidate[]): Candidate[] => rule(list.filter((c) => c.score >= floor)).filter((c) => c.x2 - c.x1 >= MIN_FACE);
        const kept = pick(plain);
        return kept.length > 0 ? { kept, retried: false } : { kept: pick(retry), retried: true };
      };
      for (const floor of floors) {
        const found = [0, 0];
        const extra = [0, 0];
        const total = [0, 0];
        let retries = 0;
        perPhoto.forEach((photo, i) => {
          const h = i % 2;
          const { kept, retried } = faces(photo, floor);
          if (retried) retries++;
          total[h] = (total[h] ?? 0) + 1;
          if (kept.length > 0) found[h] = (found[h] ?? 0) + 1;
          extra[h] = (extra[h] ?? 0) + Math.max(0, kept.length - 1);
        });
        say(`| ${floor} | ${found[0]}/${total[0]} | ${found[1]}/${total[1]} | ${extra[0]} | ${extra[1]} | ${retries} | ${others.map((o) => faces(o, floor).kept.length).join(' | ')} |`);
      }
    }
    const lowest = perPhoto.map(({ plain, retry }) => Math.max(0, ...plain.map((c) => c.score), ...retry.map((c) => c.score))).sort((a, b) => a - b);
    say(`lowest best score of a photo: ${lowest.slice(0, 5).map((s) => s.toFixed(3)).join(', ')}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------

const personOf = (file: string): string => file.split('/').at(-2) ?? '';

async function embedAll(grayscale: boolean): Promise<Map<string, { plain: Float32Array; flip: Float32Array } | null>> {
  const cache = join(OUT, `embeddings-${grayscale ? 'gray' : 'colour'}-${FEATURE_CHANNELS}.json`);
  const stored = existsSync(cache) ? (JSON.parse(readFileSync(cache, 'utf8')) as Record<string, [number[], number[]] | null>) : {};
  const result = new Map<string, { plain: Float32Array; flip: Float32Array } | null>();
  let done = 0;
  for (const file of files) {
    const hit = stored[file];
    if (hit !== undefined) {
      result.set(file, hit && { plain: Float32Array.from(hit[0]), flip: Float32Array.from(hit[1]) });
      continue;
    }
    const image = await loadRgb(file, grayscale);
    const faces = (await detectFaces(run, image, DETECTOR_MIN_SCORE)).sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
    const face = faces[0];
    if (!face) {
      result.set(file, null);
      stored[file] = null;
      continue;
    }
    const five = fivePointsFrom68(await landmarks68(run, image, face.box));
    const plain = await embeddingVariant(run, image, five, false);
    const flip = await embeddingVariant(run, image, five, true);
    result.set(file, { plain, flip });
    stored[file] = [Array.from(plain), Array.from(flip)];
    if (++done % 200 === 0) process.stderr.write(`embeddings (${grayscale ? 'gray' : 'colour'}): ${done}\n`);
  }
  writeFileSync(cache, JSON.stringify(stored));
  return result;
}

function frrAtFar(same: number[], different: number[], far: number): { threshold: number; frr: number } {
  const d = Float64Array.from(different).sort();
  const allowed = Math.floor(far * d.length);
  // Largest threshold with at most `allowed` different-person distances at or below it.
  const threshold = allowed < d.length ? (d[allowed] ?? Infinity) - 1e-9 : Infinity;
  return { threshold, frr: same.filter((x) => x > threshold).length / Math.max(1, same.length) };
}

if (parts.includes('descriptor')) {
  const people = [...new Set(files.map(personOf))].sort();
  const halfOf = new Map(people.map((p, i) => [p, i % 2]));
  const present = new Set(files);
  const official = await officialPairsInSubset(join(DATA, 'lfw-pairs.txt'), LFW, present);
  const byPerson = new Map<string, string[]>();
  for (const f of files) byPerson.set(personOf(f), [...(byPerson.get(personOf(f)) ?? []), f]);
  const matched = official.filter((p) => p.same).length;
  const pairs: LfwPair[] = [...official, ...extraMismatchedPairs(byPerson, Math.max(0, matched - (official.length - matched)), official)];
  for (const grayscale of [false, true]) {
    const embeddings = await embedAll(grayscale);
    say(`\nDescriptor, ${grayscale ? 'grayscale' : 'colour'}: faces found ${[...embeddings.values()].filter(Boolean).length}/${files.length}`);
    say('| variant | half | 10-fold pairs | FRR at FAR 1e-4 (threshold) | FRR at FAR 1e-3 | rank-1 |');
    say('| --- | --- | --- | --- | --- | --- |');
    for (const variant of ['plain', 'flip'] as const) {
      for (const half of [0, 1]) {
        const inHalf = files.filter((f) => halfOf.get(personOf(f)) === half);
        const vec = (f: string): Float32Array | undefined => embeddings.get(f)?.[variant];
        const scored: ScoredPair[] = pairs
          .filter((p) => halfOf.get(personOf(p.a)) === half && halfOf.get(personOf(p.b)) === half)
          .map((p) => {
            const a = vec(p.a);
            const b = vec(p.b);
            return { distance: a && b ? euclideanDistance(a, b) : Infinity, same: p.same, fold: p.fold };
          });
        const withFace = inHalf.filter((f) => vec(f));
        const same: number[] = [];
        const different: number[] = [];
        let probes = 0;
        let correct = 0;
        for (let i = 0; i < withFace.length; i++) {
          const fi = withFace[i] ?? '';
          const a = vec(fi);
          if (!a) continue;
          let best = Infinity;
          let bestPerson = '';
          for (let j = 0; j < withFace.length; j++) {
            if (i === j) continue;
            const fj = withFace[j] ?? '';
            const b = vec(fj);
            if (!b) continue;
            const d = euclideanDistance(a, b);
            if (j > i) (personOf(fi) === personOf(fj) ? same : different).push(d);
            if (d < best) {
              best = d;
              bestPerson = personOf(fj);
            }
          }
          if ((byPerson.get(personOf(fi))?.filter((f) => vec(f)).length ?? 0) >= 2) {
            probes++;
            if (bestPerson === personOf(fi)) correct++;
          }
        }
        const at4 = frrAtFar(same, different, 1e-4);
        const at3 = frrAtFar(same, different, 1e-3);
        const cv = crossValidate(scored);
        say(`| ${variant} | ${half === 0 ? 'A' : 'B'} | ${pct(cv.meanAccuracy)} (${scored.length} pairs) | ${pct(at4.frr)} (${at4.threshold.toFixed(3)}) | ${pct(at3.frr)} | ${pct(correct / Math.max(1, probes))} (${correct}/${probes}) |`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Alignment variants (landmarks → five points) on one half of the people (--half 0 for A, 1 for B).

/** iBUG 68 index of each point's mirror image. */
const IBUG_MIRROR: number[] = (() => {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i <= 16; i++) pairs.push([i, 16 - i]);
  for (let i = 0; i < 5; i++) pairs.push([17 + i, 26 - i], [31 + i, 35 - i]);
  for (let i = 27; i <= 30; i++) pairs.push([i, i]);
  pairs.push([36, 45], [37, 44], [38, 43], [39, 42], [40, 47], [41, 46], [48, 54], [49, 53], [50, 52], [51, 51], [55, 59], [56, 58], [57, 57]);
  pairs.push([60, 64], [61, 63], [62, 62], [65, 67], [66, 66]);
  const out: number[] = [];
  for (const [a, b] of pairs) {
    out[a] = b;
    out[b] = a;
  }
  return out;
})();

if (parts.includes('alignment')) {
  const half = Number(argValue('half') ?? 0);
  const people = [...new Set(files.map(personOf))].sort();
  const inHalf = new Set(people.filter((_, i) => i % 2 === half));
  const mine = files.filter((f) => inHalf.has(personOf(f)));
  const landmarksIn = async (image: RgbImage, crop: Box, mirror: boolean): Promise<Point[]> => {
    let input = grayPlane(image, boxAffine(crop, 64, 64), 64, 64, 1 / 256);
    if (mirror) input = mirrorPlanes(input, 64);
    const { output } = await run('landmark', input, [1, 1, 64, 64]);
    if (!output) throw new Error('no landmark output');
    const unit = decodeLandmarks(output, { x: 0, y: 0, width: 1, height: 1 });
    const mapped = mirror ? unit.map((_, i): Point => [1 - (unit[IBUG_MIRROR[i] ?? i]?.[0] ?? 0), unit[IBUG_MIRROR[i] ?? i]?.[1] ?? 0]) : unit;
    return mapped.map(([x, y]): Point => [crop.x + x * crop.width, crop.y + y * crop.height]);
  };
  const meanOf = (points: readonly Point[], indices: readonly number[]): Point => [
    indices.reduce((t, i) => t + (points[i]?.[0] ?? 0), 0) / indices.length,
    indices.reduce((t, i) => t + (points[i]?.[1] ?? 0), 0) / indices.length,
  ];
  const variants: Record<string, (image: RgbImage, box: Box) => Promise<Point[]>> = {
    'package 68 → 5 (engine)': async (image, box) => fivePointsFrom68(await landmarksIn(image, netSquare(box, 1, image.width, image.height), false)),
    'package 68 → 5, feature net fed RGB': async (image, box) => fivePointsFrom68(await landmarksIn(image, netSquare(box, 1, image.width, image.height), false)),
    'eye centres of all six points, outer mouth corners': async (image, box) => {
      const p = await landmarksIn(image, netSquare(box, 1, image.width, image.height), false);
      return [meanOf(p, [36, 37, 38, 39, 40, 41]), meanOf(p, [42, 43, 44, 45, 46, 47]), meanOf(p, [30]), meanOf(p, [48]), meanOf(p, [54])];
    },
    'landmarks averaged with the mirrored crop’s': async (image, box) => {
      const crop = netSquare(box, 1, image.width, image.height);
      const a = await landmarksIn(image, crop, false);
      const b = await landmarksIn(image, crop, true);
      return fivePointsFrom68(a.map(([x, y], i): Point => [(x + (b[i]?.[0] ?? x)) / 2, (y + (b[i]?.[1] ?? y)) / 2]));
    },
    'second landmark pass re-centred on the first': async (image, box) => {
      const crop = netSquare(box, 1, image.width, image.height);
      const p = await landmarksIn(image, crop, false);
      const xs = p.map((q) => q[0]);
      const ys = p.map((q) => q[1]);
      const dx = (Math.min(...xs) + Math.max(...xs)) / 2 - (crop.x + crop.width / 2);
      const dy = (Math.min(...ys) + Math.max(...ys)) / 2 - (crop.y + crop.height / 2);
      return fivePointsFrom68(await landmarksIn(image, netSquare({ ...box, x: box.x + dx, y: box.y + dy }, 1, image.width, image.height), false));
    },
  };
  const embeddings = new Map<string, Map<string, Float32Array>>(Object.keys(variants).map((k) => [k, new Map()]));
  for (const file of mine) {
    const image = await loadRgb(file);
    const [face] = (await detectFaces(run, image, DETECTOR_MIN_SCORE)).sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
    if (!face) continue;
    for (const [name, five] of Object.entries(variants)) {
      const channels = name.includes('RGB') ? 'rgb' : FEATURE_CHANNELS;
      embeddings.get(name)?.set(file, await embeddingVariant(run, image, await five(image, face.box), false, channels));
    }
  }
  say(`\nAlignment variants, half ${half === 0 ? 'A' : 'B'} of the people (${mine.length} colour photos)`);
  say('| five points from | false rejects at FAR 1e-4 | at FAR 1e-3 | rank-1 |');
  say('| --- | --- | --- | --- |');
  for (const [name, byFile] of embeddings) {
    const list = [...byFile.keys()];
    const same: number[] = [];
    const different: number[] = [];
    let probes = 0;
    let correct = 0;
    for (let i = 0; i < list.length; i++) {
      let best = Infinity;
      let bestPerson = '';
      const a = byFile.get(list[i] ?? '');
      for (let j = 0; j < list.length; j++) {
        const b = byFile.get(list[j] ?? '');
        if (i === j || !a || !b) continue;
        const d = euclideanDistance(a, b);
        if (j > i) (personOf(list[i] ?? '') === personOf(list[j] ?? '') ? same : different).push(d);
        if (d < best) {
          best = d;
          bestPerson = personOf(list[j] ?? '');
        }
      }
      if (list.filter((f) => personOf(f) === personOf(list[i] ?? '')).length >= 2) {
        probes++;
        if (bestPerson === personOf(list[i] ?? '')) correct++;
      }
    }
    say(`| ${name} | ${pct(frrAtFar(same, different, 1e-4).frr)} | ${pct(frrAtFar(same, different, 1e-3).frr)} | ${pct(correct / Math.max(1, probes))} (${correct}/${probes}) |`);
  }
}

// ---------------------------------------------------------------------------------------------------------------

if (parts.includes('emotion')) {
  const items = ferItems(limit);
  type Square = (image: RgbImage, box: Box) => Box;
  const whole: Square = (image) => ({ x: 0, y: 0, width: image.width, height: image.height });
  const around =
    (side: number): Square =>
    (_image, box) => {
      const m = Math.sqrt(box.width * box.height);
      return { x: box.x + box.width / 2 - (side * m) / 2, y: box.y + box.height / 2 - (side * m) / 2, width: side * m, height: side * m };
    };
  // lib/fr_expression.js: the detector's box made square on its height (lib/fr_detect.js), then a rectangle 1.2x as
  // wide and high from that square's top-left corner.
  const packageFraming: Square = (_image, box) => ({ x: box.x + box.width / 2 - box.height / 2, y: box.y, width: 1.2 * box.height, height: 1.2 * box.height });
  // The engine's own choice (src/engine/onnx/pipeline.ts expressionRegion), for the record.
  const engineChoice: Square = (image, box) => expressionRegion(image, box);
  const framings: Array<[string, Square]> = [
    ['bare photo', whole],
    ['engine (expressionRegion)', engineChoice],
    [`box x${FER_MEDIAN_SIDE}`, around(FER_MEDIAN_SIDE)],
    ['package framing', packageFraming],
  ];
  interface Prediction {
    coverage: number | null;
    probs: Record<string, { plain: Float64Array; mirror: Float64Array } | null>;
  }
  const predictions: Prediction[] = [];
  let noFace = 0;
  for (const item of items) {
    const image = await loadRgb(item.file);
    const [face] = (await detectFaces(run, image, DETECTOR_MIN_SCORE)).sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
    if (!face) noFace++;
    const prediction: Prediction = { coverage: face ? Math.sqrt((face.box.width * face.box.height) / (image.width * image.height)) : null, probs: {} };
    for (const [name, square] of framings) {
      if (!face && square !== whole) {
        prediction.probs[name] = null;
        continue;
      }
      const region = square(image, face?.box ?? whole(image, { x: 0, y: 0, width: 0, height: 0 }));
      const input = rgbPlanes(image, boxAffine(region, 224, 224), 224, 224, NORMALISE.unit, 'edge');
      prediction.probs[name] = { plain: softmax(await expressionLogits(run, input)), mirror: softmax(await expressionLogits(run, mirrorPlanes(input, 224))) };
    }
    predictions.push(prediction);
    if (predictions.length % 100 === 0) process.stderr.write(`emotion: ${predictions.length}/${items.length}\n`);
  }
  const argmaxCounts = new Map<Emotion, number[]>();
  items.forEach((item, i) => {
    const probs = predictions[i]?.probs['bare photo']?.plain;
    if (!probs) return;
    const counts = argmaxCounts.get(item.label) ?? [0, 0, 0, 0, 0, 0, 0];
    const best = probs.indexOf(Math.max(...probs));
    counts[best] = (counts[best] ?? 0) + 1;
    argmaxCounts.set(item.label, counts);
  });
  say(`\nExpression net label order: argmax index counts per FER class (bare photos); indices 0..6`);
  say('| class | 0 | 1 | 2 | 3 | 4 | 5 | 6 |');
  say('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [label, counts] of argmaxCounts) say(`| ${label} | ${counts.join(' | ')} |`);

  const coverages = predictions.flatMap((p, i) => (p.coverage !== null && items[i]?.half === 0 ? [p.coverage] : [])).sort((a, b) => a - b);
  say(`\nFace box size / photo size on half A (sqrt of areas): quartiles ${[0.25, 0.5, 0.75].map((q) => coverages[Math.floor(q * coverages.length)]?.toFixed(3)).join(' / ')}`);
  say(`\nEmotion (${items.length} FER photos, ${noFace} without a face found): accuracy on the six PublicTest classes`);
  say('| input | half A | half B | angry | fear | happy | sad | surprise | neutral | disgust (apart) |');
  say('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const report = (name: string, pick: (p: Prediction) => Float64Array | null): void => {
    const correct = [0, 0];
    const total = [0, 0];
    const perClass = new Map<Emotion, [number, number]>();
    items.forEach((item, i) => {
      const entry = predictions[i];
      const probs = entry ? pick(entry) : null;
      const best = probs ? probs.indexOf(Math.max(...probs)) : -1;
      const ok = best >= 0 && EXPRESSION_LABELS[best] === item.label;
      const row = perClass.get(item.label) ?? [0, 0];
      row[0] += ok ? 1 : 0;
      row[1] += 1;
      perClass.set(item.label, row);
      if (item.label === 'disgust') return;
      total[item.half] = (total[item.half] ?? 0) + 1;
      if (ok) correct[item.half] = (correct[item.half] ?? 0) + 1;
    });
    const cls = (e: Emotion): string => {
      const [c, t] = perClass.get(e) ?? [0, 0];
      return pct(c / Math.max(1, t));
    };
    say(
      `| ${name} | ${pct((correct[0] ?? 0) / Math.max(1, total[0] ?? 0))} | ${pct((correct[1] ?? 0) / Math.max(1, total[1] ?? 0))} | ${['angry', 'fear', 'happy', 'sad', 'surprise', 'neutral'].map((e) => cls(e as Emotion)).join(' | ')} | ${cls('disgust')} |`,
    );
  };
  const mean = (a: Float64Array, b: Float64Array): Float64Array => a.map((v, k) => (v + (b[k] ?? 0)) / 2);
  for (const [name] of framings) {
    report(name, (p) => p.probs[name]?.plain ?? null);
    report(`${name} + mirror`, (p) => {
      const x = p.probs[name];
      return x ? mean(x.plain, x.mirror) : null;
    });
  }
  for (const threshold of [0.5, 0.6, 0.7]) {
    for (const mirror of [false, true]) {
      report(`whole photo when the face box is ≥ ${threshold} of it, else box x${FER_MEDIAN_SIDE}${mirror ? ' + mirror' : ''}`, (p) => {
        const x = p.coverage !== null && p.coverage >= threshold ? p.probs['bare photo'] : p.probs[`box x${FER_MEDIAN_SIDE}`];
        return x ? (mirror ? mean(x.plain, x.mirror) : x.plain) : null;
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

if (parts.includes('emotion-cost')) {
  // What Human's emotion net adds to engine v5: ms per face (pre-process + run, one face at a time as a worker does)
  // beside the expression net's; then the engine's worker pool (process RSS, all threads) after embedding requests
  // and after attribute requests (which include the first runs of the expression, emotion, age and gender sessions).
  // Until this stop Human's net ran on tfjs-core's wasm backend, loaded per worker on the first attributes job
  // (about 4 ms per face and 25-50 MB per worker); it now runs converted to ONNX (human-emotion/net.ts).
  const { humanEmotionInput, humanEmotionProbabilities } = await import('../../src/engine/onnx/pipeline.js');
  const { createOnnxEngine } = await import('../../src/engine/onnx/engine.js');
  const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
  const files = lfwFiles().filter((_, i) => i % 16 === 0).slice(0, Math.min(limit, 100));
  const images = await Promise.all(files.map((f) => loadRgb(f)));
  const boxes: Array<{ image: RgbImage; box: Box }> = [];
  for (const image of images) {
    const [face] = (await detectFaces(run, image, DETECTOR_MIN_SCORE)).sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
    if (face) boxes.push({ image, box: face.box });
  }
  let expressionMs = 0;
  let humanMs = 0;
  for (let round = 0; round < 2; round++) {
    expressionMs = 0;
    humanMs = 0;
    for (const { image, box } of boxes) {
      const region = expressionRegion(image, box);
      let started = performance.now();
      await expressionLogits(run, rgbPlanes(image, boxAffine(region, 224, 224), 224, 224, NORMALISE.unit, 'edge'));
      expressionMs += performance.now() - started;
      started = performance.now();
      await humanEmotionProbabilities(run, humanEmotionInput(image, region));
      humanMs += performance.now() - started;
    }
  }
  say(`\nEmotion cost, ${boxes.length} LFW faces, one at a time (second round): expression net ${(expressionMs / boxes.length).toFixed(1)} ms/face (pre-process + run), Human's net ${(humanMs / boxes.length).toFixed(1)} ms/face (pre-process + run)`);

  const workers = Number(argValue('workers') ?? 2);
  const engine = await createOnnxEngine({ workers });
  const rss = (): number => process.memoryUsage().rss;
  const rssStarted = rss();
  const ask = (attributes: boolean) => ({ minDetectionScore: 0.2, maxFaces: 1, minFaceSize: 20, needs: { embedding: !attributes, attributes: attributes ? FACE_ATTRIBUTES : [], crop: false } });
  const timed = async (attributes: boolean): Promise<number> => {
    const t0 = performance.now();
    await Promise.all(images.map((image) => engine.analyze({ ...image, data: image.data.slice() }, ask(attributes))));
    return performance.now() - t0;
  };
  await timed(false);
  const rssEmbedded = rss();
  const embedMs = await timed(false);
  await timed(true);
  const rssAttributes = rss();
  const attributesMs = await timed(true);
  say(`Engine v5 pool, ${workers} workers, ${images.length} LFW photos per round: RSS after start ${mb(rssStarted)}, after embedding requests ${mb(rssEmbedded)}, after attribute requests ${mb(rssAttributes)} (+${mb(rssAttributes - rssEmbedded)}); embedding round ${(embedMs / images.length).toFixed(1)} ms/photo, attributes round ${(attributesMs / images.length).toFixed(1)} ms/photo`);
  await engine.close();
}

writeFileSync(join(OUT, `report-${parts.join('-')}.md`), `${lines.join('\n')}\n`);
await sessions.release();
