/**
 * Descriptor, round 2: the descriptor models available on disk, each with its own preprocessing, notably the
 * ArcFace 5-point alignment (align5.ts) for the InsightFace-style 112x112 models, against the engine's
 * ResNet-128 + flip TTA. Results: research/models.md, "Descriptor, round 2".
 *
 *   node --import tsx research/models/descriptor5.ts [--variants a,b,...] [--screen] [--report-only] [--report file.md]
 *
 * Round 3 (research/models.md, "Descriptor, round 3: aligned chip for ResNet-128"): the `resnet-*` variants feed the
 * same ResNet-128 a 150x150 chip aligned by a similarity transform, dlib's own face chip (align5.ts dlibChip) or a
 * 5-point chip to face-api's average framing (FACEAPI_TEMPLATE5, measured on half A of the people); the last table
 * of the report splits the people into halves A and B (free parameters are chosen on A).
 *
 * Faces: the engine's own runtime (BlazeFace first, face-api 68 landmarks), run once per photo and cached with the
 * landmarks in research/out/desc5/landmarks.json. Every variant's plain and mirrored embeddings are cached per photo
 * in research/out/desc5/<variant>.{json,bin}, so reruns and combinations only evaluate. `--screen` computes only the
 * photos of the pairs in folds 0–2 (a quick preprocessing check); the default is the whole subset (1,613 photos).
 *
 * Pairs: every official LFW pair inside the subset plus deterministic extra mismatched pairs (bench/lfw.ts, seed
 * 2026) so both classes have as many. Pair accuracy: at the best single threshold over all pairs, and 10-fold
 * (threshold chosen on 9 folds, applied to the 10th). Rank-1: every photo whose person has another photo in the
 * set is a probe; its nearest other photo (all other photos are the gallery) must be the same person.
 * Distances: euclidean between L2-normalised vectors; "+flip" = unit(unit(plain) + unit(mirrored));
 * a concatenation L2-normalises each part, multiplies it by its weight, concatenates and normalises again.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as Tfjs from '@tensorflow/tfjs';
import type { Point } from '../../src/core/types.js';
import type { RgbImage } from '../../src/image/image.js';
import { humanModelDir, loadGraphModelFromDisk } from '../../src/engine/faceapi/human.js';
import { loadModels } from '../../src/engine/faceapi/loader.js';
import { loadFaceApiRuntime } from '../../src/engine/faceapi/runtime.js';
import { extraMismatchedPairs, officialPairsInSubset, type LfwPair } from '../../bench/lfw.js';
import { arcfaceCrop, dlibChip, fivePointChip, fivePoints, inFaceApiCrop } from './align5.js';
import { argValue, DATA, LFW, lfwFiles, loadRgb, pct } from './common.js';

const OUT = new URL('../out/desc5/', import.meta.url).pathname;
mkdirSync(OUT, { recursive: true });

// ---------------------------------------------------------------------------------------------------------------
// Photos and pairs

const files = lfwFiles();
const personOf = (file: string): string => file.split('/').at(-2) ?? '';
const byPerson = new Map<string, string[]>();
for (const file of files) byPerson.set(personOf(file), [...(byPerson.get(personOf(file)) ?? []), file]);
const official = await officialPairsInSubset(join(DATA, 'lfw-pairs.txt'), LFW, new Set(files));
const matched = official.filter((p) => p.same);
const officialMismatched = official.filter((p) => !p.same);
const pairs: LfwPair[] = [
  ...matched,
  ...officialMismatched,
  ...extraMismatchedPairs(byPerson, Math.max(0, matched.length - officialMismatched.length), official),
];
const screen = process.argv.includes('--screen');
const wanted = screen ? [...new Set(pairs.filter((p) => p.fold < 3).flatMap((p) => [p.a, p.b]))].sort() : files;

// ---------------------------------------------------------------------------------------------------------------
// Landmarks (once per photo, from the engine itself)

interface FaceRecord {
  landmarks: Point[];
  /** The engine's own descriptor for the photo (ResNet-128 + flip TTA in the current working tree), as a check. */
  engine: number[];
}
const landmarkFile = join(OUT, 'landmarks.json');
const faces: Record<string, FaceRecord | null> = existsSync(landmarkFile) ? (JSON.parse(readFileSync(landmarkFile, 'utf8')) as Record<string, FaceRecord | null>) : {};

const reportOnly = process.argv.includes('--report-only');
const parts = reportOnly ? undefined : await loadModels();

if (!reportOnly && wanted.some((f) => !(f in faces))) {
  const runtime = await loadFaceApiRuntime();
  let done = 0;
  for (const file of wanted) {
    if (file in faces) continue;
    const image = await loadRgb(file);
    const [face] = await runtime.analyze({ ...image, data: image.data.slice() }, { minDetectionScore: 0.2, maxFaces: 1, minFaceSize: 20, needs: { embedding: true, attributes: [], crop: false } });
    faces[file] = face ? { landmarks: face.landmarks.map(([x, y]) => [x, y] as const), engine: Array.from(face.embedding ?? []) } : null;
    if (++done % 100 === 0) {
      process.stderr.write(`landmarks: ${done}\n`);
      writeFileSync(landmarkFile, JSON.stringify(faces));
    }
  }
  writeFileSync(landmarkFile, JSON.stringify(faces));
}

// ---------------------------------------------------------------------------------------------------------------
// Halves by person (sorted names, even index = A), for choosing free parameters on A and checking them on B.

const people = [...byPerson.keys()].sort();
const halfOfPerson = new Map(people.map((person, i) => [person, i % 2 === 0 ? 'A' : 'B'] as const));
const halfOf = (file: string): 'A' | 'B' => halfOfPerson.get(personOf(file)) ?? 'A';

/**
 * The five points' (fivePoints) mean position inside face-api's recogniser crop (150x150), over half A's faces: a
 * template that frames the face as face-api's crop does on average, so an aligned chip to it differs from that crop
 * only by the per-face rotation and least-squares scale and shift.
 */
const FACEAPI_TEMPLATE5: Point[] = (() => {
  const sum = [0, 0, 0, 0, 0].map(() => [0, 0]);
  let n = 0;
  for (const file of files) {
    const face = faces[file];
    if (!face || halfOf(file) !== 'A') continue;
    inFaceApiCrop(face.landmarks, fivePoints(face.landmarks)).forEach(([x, y], i) => {
      const s = sum[i];
      if (s) [s[0], s[1]] = [(s[0] ?? 0) + x, (s[1] ?? 0) + y];
    });
    n++;
  }
  return sum.map(([x = 0, y = 0]) => [x / Math.max(1, n), y / Math.max(1, n)] as const);
})();

// ---------------------------------------------------------------------------------------------------------------
// Variants: a crop and a model; each gives a plain and a mirrored embedding per photo.

type Tf = typeof Tfjs;
type Crop = (tf: Tf, image: RgbImage, landmarks: readonly Point[]) => Tfjs.Tensor3D;
type Net = (tf: Tf, crop: Tfjs.Tensor3D) => Promise<Float32Array>;

/** face-api's recogniser crop: the dlib-style square from the 68 landmarks, as the engine and descriptor.ts cut it. */
const dlibCrop: Crop = (tf, image, landmarks) => {
  if (!parts) throw new Error('models not loaded');
  const { faceapi } = parts;
  const lm = new faceapi.FaceLandmarks68(
    landmarks.map(([x, y]) => new faceapi.Point(x / image.width, y / image.height)),
    { width: image.width, height: image.height },
  );
  const box = lm.align(null, { useDlibAlignment: true });
  const x = Math.min(image.width - 1, Math.max(0, Math.round(box.x)));
  const y = Math.min(image.height - 1, Math.max(0, Math.round(box.y)));
  const w = Math.max(1, Math.min(image.width - x, Math.round(box.width)));
  const h = Math.max(1, Math.min(image.height - y, Math.round(box.height)));
  return tf.tidy(() => tf.slice3d(tf.tensor3d(image.data, [image.height, image.width, 3], 'int32'), [y, x, 0], [h, w, 3]).toFloat());
};
const arcface =
  (size: number, zoom = 1): Crop =>
  (tf, image, landmarks) => {
    const crop = arcfaceCrop(image, landmarks, size, zoom);
    return tf.tensor3d(crop.data, [size, size, 3], 'int32').toFloat();
  };

const chipTensor = (tf: Tf, chip: RgbImage): Tfjs.Tensor3D => tf.tensor3d(Float32Array.from(chip.data), [chip.height, chip.width, 3], 'float32');
/** dlib's own face chip (align5.ts dlibChip): 33-point similarity to dlib's mean face, 150x150, padding 0.25. */
const dlibFaceChip =
  (padding = 0.25): Crop =>
  (tf, image, landmarks) =>
    chipTensor(tf, dlibChip(image, landmarks, 150, padding));
/** Five-point similarity to face-api's average framing (FACEAPI_TEMPLATE5), 150x150, `zoom` < 1 = more margin. */
const faceApiChip5 =
  (zoom = 1): Crop =>
  (tf, image, landmarks) =>
    chipTensor(tf, fivePointChip(image, landmarks, FACEAPI_TEMPLATE5, 150, zoom));

const models = new Map<string, Tfjs.GraphModel>();
async function graph(name: string): Promise<Tfjs.GraphModel> {
  if (!parts) throw new Error('models not loaded');
  let model = models.get(name);
  if (!model) {
    model = await loadGraphModelFromDisk(parts.tfjs, join(humanModelDir(), `${name}.json`));
    models.set(name, model);
  }
  return model;
}

/** A Human graph model: resize to `size`, optional RGB→BGR, (x − offset) / scale, then the named output node. */
function graphNet(name: string, size: number, offset: number, scale: number, options: { bgr?: boolean; output?: string } = {}): Net {
  return async (tf, crop) => {
    const model = await graph(name);
    const batch = tf.tidy(() => {
      let x = crop.expandDims<Tfjs.Tensor4D>(0);
      if (x.shape[1] !== size || x.shape[2] !== size) x = tf.image.resizeBilinear(x, [size, size]);
      if (options.bgr) x = tf.reverse(x, 3);
      return x.sub(offset).div<Tfjs.Tensor4D>(scale);
    });
    const out = options.output === undefined ? model.execute(batch) : model.execute(batch, options.output);
    const outs = Array.isArray(out) ? out : [out];
    const data = (await (outs[0] as Tfjs.Tensor).data()) as Float32Array;
    tf.dispose([batch, ...outs]);
    return Float32Array.from(data);
  };
}

const resnetNet: Net = async (_tf, crop) => {
  if (!parts) throw new Error('models not loaded');
  const d = await parts.faceapi.nets.faceRecognitionNet.computeFaceDescriptor(crop);
  return Float32Array.from(d as Float32Array);
};

interface Variant {
  crop: Crop;
  net: Net;
  label: string;
}
const VARIANTS: Record<string, Variant> = {
  resnet: { crop: dlibCrop, net: resnetNet, label: 'ResNet-128 (face-api), dlib crop 150' },
  // sirius-ai/MobileFaceNet_TF (InsightFace MS1M data, RGB, (x − 127.5) · 0.0078125), output `embeddings` (192-D, already L2-normalised).
  'mfn-arc-128': { crop: arcface(112), net: graphNet('mobilefacenet', 112, 127.5, 128), label: 'MobileFaceNet, ArcFace 112, (x−127.5)/128' },
  'mfn-arc-255': { crop: arcface(112), net: graphNet('mobilefacenet', 112, 0, 255), label: 'MobileFaceNet, ArcFace 112, x/255' },
  'mfn-arc-128-bgr': { crop: arcface(112), net: graphNet('mobilefacenet', 112, 127.5, 128, { bgr: true }), label: 'MobileFaceNet, ArcFace 112, BGR, (x−127.5)/128' },
  'mfn-dlib-128': { crop: dlibCrop, net: graphNet('mobilefacenet', 112, 127.5, 128), label: 'MobileFaceNet, dlib crop → 112, (x−127.5)/128' },
  // becauseofAI MobileFace (MXNet, cv2 BGR): the graph itself subtracts 127.5 and multiplies by 0.0078125, so it takes 0..255.
  'mobileface-arc-bgr': { crop: arcface(112), net: graphNet('mobileface', 112, 0, 1, { bgr: true }), label: 'MobileFace, ArcFace 112, BGR 0..255' },
  'mobileface-arc-rgb': { crop: arcface(112), net: graphNet('mobileface', 112, 0, 1), label: 'MobileFace, ArcFace 112, RGB 0..255' },
  // HSE FaceRes (MobileNet v1, VGGFace2): Human feeds its 0..1 face crop times 255; descriptor = `global_pooling/Mean` (1024-D).
  'faceresdeep-dlib': { crop: dlibCrop, net: graphNet('faceres-deep', 224, 0, 1, { output: 'global_pooling/Mean' }), label: 'FaceRes-deep, dlib crop → 224, 0..255' },
  'faceresdeep-arc': { crop: arcface(224), net: graphNet('faceres-deep', 224, 0, 1, { output: 'global_pooling/Mean' }), label: 'FaceRes-deep, ArcFace 224, 0..255' },
  'faceresdeep-arc-loose': { crop: arcface(224, 0.8), net: graphNet('faceres-deep', 224, 0, 1, { output: 'global_pooling/Mean' }), label: 'FaceRes-deep, ArcFace 224 zoom 0.8, 0..255' },
  'faceresdeep-arc-looser': { crop: arcface(224, 0.65), net: graphNet('faceres-deep', 224, 0, 1, { output: 'global_pooling/Mean' }), label: 'FaceRes-deep, ArcFace 224 zoom 0.65, 0..255' },
  'faceres-dlib': { crop: dlibCrop, net: graphNet('faceres', 224, 0, 1, { output: 'global_pooling/Mean' }), label: 'FaceRes, dlib crop → 224, 0..255' },
  'faceres-arc-loose': { crop: arcface(224, 0.8), net: graphNet('faceres', 224, 0, 1, { output: 'global_pooling/Mean' }), label: 'FaceRes, ArcFace 224 zoom 0.8, 0..255' },
  // Round 3: ResNet-128 on aligned chips instead of face-api's upright crop.
  'resnet-retimed': { crop: dlibCrop, net: resnetNet, label: 'ResNet-128 (face-api), dlib crop 150, re-timed with round 3' },
  'resnet-dlibchip': { crop: dlibFaceChip(), net: resnetNet, label: 'ResNet-128, dlib face chip 150 / 0.25 (33-point similarity)' },
  'resnet-dlibchip-p0.2': { crop: dlibFaceChip(0.2), net: resnetNet, label: 'ResNet-128, dlib face chip 150 / 0.2' },
  'resnet-dlibchip-p0.3': { crop: dlibFaceChip(0.3), net: resnetNet, label: 'ResNet-128, dlib face chip 150 / 0.3' },
  'resnet-chip5': { crop: faceApiChip5(), net: resnetNet, label: 'ResNet-128, 5-point chip 150, face-api framing' },
  'resnet-chip5-z0.9': { crop: faceApiChip5(0.9), net: resnetNet, label: 'ResNet-128, 5-point chip 150, face-api framing x0.9' },
  'resnet-chip5-z1.1': { crop: faceApiChip5(1.1), net: resnetNet, label: 'ResNet-128, 5-point chip 150, face-api framing x1.1' },
};

interface CacheIndex {
  dims: number;
  files: string[];
  /** Total milliseconds for the plain and for the mirrored embeddings (crop + net), over `files`. */
  msPlain: number;
  msFlip: number;
  /** Of msPlain, the milliseconds spent cutting the crop (absent in caches written before round 3). */
  msCrop?: number;
}
interface Cached {
  index: CacheIndex;
  /** file -> [plain, mirrored] raw embeddings */
  vectors: Map<string, [Float32Array, Float32Array]>;
}

function readCache(name: string): Cached {
  const indexFile = join(OUT, `${name}.json`);
  if (!existsSync(indexFile)) return { index: { dims: 0, files: [], msPlain: 0, msFlip: 0 }, vectors: new Map() };
  const index = JSON.parse(readFileSync(indexFile, 'utf8')) as CacheIndex;
  const bin = readFileSync(join(OUT, `${name}.bin`));
  const all = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);
  const vectors = new Map<string, [Float32Array, Float32Array]>();
  index.files.forEach((file, i) => {
    const at = i * 2 * index.dims;
    vectors.set(file, [all.slice(at, at + index.dims), all.slice(at + index.dims, at + 2 * index.dims)]);
  });
  return { index, vectors };
}

function writeCache(name: string, cached: Cached): void {
  const filesDone = [...cached.vectors.keys()];
  const dims = cached.index.dims;
  const all = new Float32Array(filesDone.length * 2 * dims);
  filesDone.forEach((file, i) => {
    const [plain, flip] = cached.vectors.get(file) ?? [new Float32Array(dims), new Float32Array(dims)];
    all.set(plain, i * 2 * dims);
    all.set(flip, i * 2 * dims + dims);
  });
  writeFileSync(join(OUT, `${name}.bin`), Buffer.from(all.buffer));
  writeFileSync(join(OUT, `${name}.json`), JSON.stringify({ ...cached.index, files: filesDone }));
}

async function compute(name: string, variant: Variant): Promise<void> {
  if (!parts) return;
  const tf = parts.tfjs;
  const cached = readCache(name);
  const todo = wanted.filter((f) => faces[f] && !cached.vectors.has(f));
  if (todo.length === 0) return;
  process.stderr.write(`${name}: ${todo.length} photos to compute\n`);
  let done = 0;
  for (const file of todo) {
    const face = faces[file];
    if (!face) continue;
    const image = await loadRgb(file);
    let started = performance.now();
    const crop = variant.crop(tf, image, face.landmarks);
    cached.index.msCrop = (cached.index.msCrop ?? 0) + performance.now() - started;
    const plain = await variant.net(tf, crop);
    cached.index.msPlain += performance.now() - started;
    started = performance.now();
    const mirrored = tf.reverse(crop, 1);
    const flip = await variant.net(tf, mirrored);
    cached.index.msFlip += performance.now() - started;
    tf.dispose([crop, mirrored]);
    cached.index.dims = plain.length;
    cached.vectors.set(file, [plain, flip]);
    if (++done % 200 === 0) {
      process.stderr.write(`${name}: ${done}/${todo.length}\n`);
      writeCache(name, cached);
    }
  }
  writeCache(name, cached);
}

const chosen = (argValue('variants') ?? Object.keys(VARIANTS).join(',')).split(',').filter((v) => v !== '');
for (const name of chosen) {
  const variant = VARIANTS[name];
  if (!variant) throw new Error(`unknown variant ${name}; known: ${Object.keys(VARIANTS).join(', ')}`);
  if (!reportOnly) await compute(name, variant);
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation

function unit(v: ArrayLike<number>): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += (v[i] ?? 0) ** 2;
  norm = Math.sqrt(norm) || 1;
  return Float32Array.from(v, (x) => x / norm);
}
function add(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((x, i) => x + (b[i] ?? 0));
}
function dist(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2;
  return Math.sqrt(sum);
}

/** Best single threshold (d < t means same) and the accuracy it gives, over every cut between sorted distances. */
function bestThreshold(scored: readonly { d: number; same: boolean }[]): { threshold: number; accuracy: number } {
  const sorted = [...scored].sort((x, y) => x.d - y.d);
  const totalDifferent = sorted.filter((p) => !p.same).length;
  // Cut before index 0: everything "different".
  let correct = totalDifferent;
  let best = { threshold: (sorted[0]?.d ?? 0) - 1e-6, correct };
  for (let i = 0; i < sorted.length; i++) {
    correct += sorted[i]?.same ? 1 : -1;
    const next = sorted[i + 1]?.d ?? (sorted[i]?.d ?? 0) + 1e-3;
    if (correct > best.correct) best = { threshold: ((sorted[i]?.d ?? 0) + next) / 2, correct };
  }
  return { threshold: best.threshold, accuracy: best.correct / Math.max(1, sorted.length) };
}

interface Result {
  name: string;
  dims: number;
  pairsUsed: number;
  best: { threshold: number; accuracy: number };
  tenFold: number;
  rank1: number;
  probes: number;
  rank1Pairs: number;
  probesPairs: number;
  ms: number;
}

function rank1(vectors: Map<string, Float32Array>, photos: readonly string[]): { hits: number; probes: number } {
  const list = photos.filter((f) => vectors.has(f));
  const vs = list.map((f) => vectors.get(f) ?? new Float32Array());
  const people = list.map(personOf);
  const count = new Map<string, number>();
  for (const p of people) count.set(p, (count.get(p) ?? 0) + 1);
  let hits = 0;
  let probes = 0;
  for (let i = 0; i < list.length; i++) {
    if ((count.get(people[i] ?? '') ?? 0) < 2) continue;
    probes++;
    let nearest = -1;
    let nearestD = Infinity;
    const a = vs[i] ?? new Float32Array();
    for (let j = 0; j < list.length; j++) {
      if (j === i) continue;
      const d = dist(a, vs[j] ?? new Float32Array());
      if (d < nearestD) [nearest, nearestD] = [j, d];
    }
    if (people[nearest] === people[i]) hits++;
  }
  return { hits, probes };
}

const pairPhotos = [...new Set(pairs.flatMap((p) => [p.a, p.b]))].sort();
function evaluate(name: string, vectors: Map<string, Float32Array>, ms: number): Result {
  const usable = pairs.filter((p) => vectors.has(p.a) && vectors.has(p.b));
  const scored = usable.map((p) => ({ d: dist(vectors.get(p.a) ?? new Float32Array(), vectors.get(p.b) ?? new Float32Array()), same: p.same, fold: p.fold }));
  let correct = 0;
  for (let fold = 0; fold < 10; fold++) {
    const { threshold } = bestThreshold(scored.filter((p) => p.fold !== fold));
    correct += scored.filter((p) => p.fold === fold && p.d < threshold === p.same).length;
  }
  const all = rank1(vectors, wanted);
  const inPairs = rank1(vectors, pairPhotos.filter((f) => wanted.includes(f)));
  return {
    name,
    dims: vectors.values().next().value?.length ?? 0,
    pairsUsed: usable.length,
    best: bestThreshold(scored),
    tenFold: correct / Math.max(1, scored.length),
    rank1: all.hits / Math.max(1, all.probes),
    probes: all.probes,
    rank1Pairs: inPairs.hits / Math.max(1, inPairs.probes),
    probesPairs: inPairs.probes,
    ms,
  };
}

/** Final unit vectors of one variant, plain or flip-averaged, and its ms/face. */
function embeddings(name: string, flip: boolean): { vectors: Map<string, Float32Array>; ms: number } | undefined {
  const cached = readCache(name);
  const vectors = new Map<string, Float32Array>();
  for (const file of wanted) {
    const v = cached.vectors.get(file);
    if (v) vectors.set(file, flip ? unit(add(unit(v[0]), unit(v[1]))) : unit(v[0]));
  }
  if (wanted.some((f) => faces[f] && !vectors.has(f))) return undefined;
  const n = Math.max(1, cached.index.files.length);
  return { vectors, ms: (cached.index.msPlain + (flip ? cached.index.msFlip : 0)) / n };
}

function combine(partsList: readonly { vectors: Map<string, Float32Array>; weight: number }[]): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const file of wanted) {
    const pieces = partsList.map((p) => p.vectors.get(file));
    if (pieces.some((p) => !p)) continue;
    const total = pieces.reduce((n, p) => n + (p?.length ?? 0), 0);
    const v = new Float32Array(total);
    let offset = 0;
    pieces.forEach((p, i) => {
      const w = partsList[i]?.weight ?? 1;
      v.set(
        (p ?? new Float32Array()).map((x) => x * w),
        offset,
      );
      offset += p?.length ?? 0;
    });
    out.set(file, unit(v));
  }
  return out;
}

const results: Result[] = [];
const singles = new Map<string, { vectors: Map<string, Float32Array>; ms: number }>();
/** Per variant and flip: label, vectors and crop ms/face, for the halves table. */
const halvesRows: { label: string; vectors: Map<string, Float32Array>; msCrop: number | undefined; ms: number }[] = [];
for (const name of chosen) {
  for (const flip of [false, true]) {
    const e = embeddings(name, flip);
    if (!e) continue;
    const label = `${VARIANTS[name]?.label ?? name}${flip ? ' + flip' : ''}`;
    singles.set(`${name}${flip ? '+flip' : ''}`, e);
    results.push(evaluate(label, e.vectors, e.ms));
    const index = readCache(name).index;
    const msCrop = index.msCrop === undefined ? undefined : index.msCrop / Math.max(1, index.files.length);
    halvesRows.push({ label, vectors: e.vectors, msCrop, ms: e.ms });
  }
}
// The engine's own descriptor (the working tree's runtime), as computed in the landmarks pass: a consistency check.
{
  const engine = new Map<string, Float32Array>();
  for (const file of wanted) {
    const face = faces[file];
    if (face) engine.set(file, unit(face.engine));
  }
  results.push(evaluate('engine embedding (runtime.analyze, check)', engine, NaN));
}

// Concatenations with ResNet-128 + flip: every other flip-averaged variant, at a few relative weights (chosen on these same pairs: optimistic).
const base = singles.get('resnet+flip');
const comboResults: Result[] = [];
if (base) {
  for (const [key, other] of singles) {
    if (!key.endsWith('+flip') || key.startsWith('resnet')) continue;
    for (const weight of [0.2, 0.35, 0.5, 1, 2]) {
      const vectors = combine([
        { vectors: base.vectors, weight: 1 },
        { vectors: other.vectors, weight },
      ]);
      comboResults.push(evaluate(`ResNet+flip ⊕ ${weight}·${VARIANTS[key.replace('+flip', '')]?.label ?? key} + flip`, vectors, base.ms + other.ms));
    }
  }
  // All three families together (each other part at weight 0.5).
  const others = [...singles].filter(([key]) => key.endsWith('+flip') && !key.startsWith('resnet')).map(([, e]) => e);
  if (others.length >= 2) {
    const vectors = combine([{ vectors: base.vectors, weight: 1 }, ...others.map((e) => ({ vectors: e.vectors, weight: 0.5 }))]);
    const names = [...singles.keys()].filter((key) => key.endsWith('+flip') && !key.startsWith('resnet'));
    comboResults.push(evaluate(`ResNet+flip ⊕ 0.5·each of ${names.join(', ')}`, vectors, base.ms + others.reduce((n, e) => n + e.ms, 0)));
  }
}

const faceCount = wanted.filter((f) => faces[f]).length;
const header = [
  `${wanted.length} photos (${wanted.length - faceCount} without a face), ${pairs.length} pairs (${matched.length} matched, ${officialMismatched.length} official + ${pairs.length - matched.length - officialMismatched.length} extra mismatched)${screen ? ', SCREEN: folds 0–2 photos only' : ''}`,
  '',
  '| descriptor | dims | pairs | best-threshold accuracy | threshold | 10-fold | rank-1 (all photos) | rank-1 (pair photos) | ms/face |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];
const row = (r: Result) =>
  `| ${r.name} | ${r.dims} | ${r.pairsUsed} | ${pct(r.best.accuracy)} | ${r.best.threshold.toFixed(3)} | ${pct(r.tenFold)} | ${pct(r.rank1)} (${r.probes}) | ${pct(r.rank1Pairs)} (${r.probesPairs}) | ${Number.isNaN(r.ms) ? '–' : r.ms.toFixed(0)} |`;
const lines = [...header, ...results.map(row)];
if (comboResults.length > 0) {
  lines.push('', '| concatenation | dims | pairs | best-threshold accuracy | threshold | 10-fold | rank-1 (all photos) | rank-1 (pair photos) | ms/face |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  lines.push(...comboResults.map(row));
}

// Halves by person: pairs with both photos in the half; rank-1 with probes and gallery from the half only.
function halfStats(vectors: Map<string, Float32Array>, half: 'A' | 'B'): string {
  const scored = pairs
    .filter((p) => halfOf(p.a) === half && halfOf(p.b) === half && vectors.has(p.a) && vectors.has(p.b))
    .map((p) => ({ d: dist(vectors.get(p.a) ?? new Float32Array(), vectors.get(p.b) ?? new Float32Array()), same: p.same }));
  const best = bestThreshold(scored);
  const r = rank1(vectors, wanted.filter((f) => halfOf(f) === half));
  return `${Math.round(best.accuracy * scored.length)}/${scored.length} (${pct(best.accuracy)}) | ${r.hits}/${r.probes} (${pct(r.hits / Math.max(1, r.probes))})`;
}
lines.push(
  '',
  `Halves by person (sorted names, even index = A; ${people.filter((p) => halfOfPerson.get(p) === 'A').length} + ${people.filter((p) => halfOfPerson.get(p) === 'B').length} people). Pairs: both photos in the half, best threshold within the half. Rank-1: probes and gallery from the half only.`,
  `face-api framing 5-point template (150x150, mean over half A): ${FACEAPI_TEMPLATE5.map(([x, y]) => `(${x.toFixed(2)}, ${y.toFixed(2)})`).join(', ')}`,
  '',
  '| descriptor | pairs A | rank-1 A | pairs B | rank-1 B | all pairs correct | all rank-1 hits | crop ms/face | ms/face |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
);
for (const row of halvesRows) {
  const all = evaluate(row.label, row.vectors, row.ms);
  lines.push(
    `| ${row.label} | ${halfStats(row.vectors, 'A')} | ${halfStats(row.vectors, 'B')} | ${Math.round(all.best.accuracy * all.pairsUsed)}/${all.pairsUsed} | ${Math.round(all.rank1 * all.probes)}/${all.probes} | ${row.msCrop === undefined ? '–' : row.msCrop.toFixed(1)} | ${row.ms.toFixed(0)} |`,
  );
}
const text = `${lines.join('\n')}\n`;
process.stdout.write(text);
writeFileSync(join(OUT, argValue('report') ?? (screen ? 'report-screen.md' : 'report.md')), text);
