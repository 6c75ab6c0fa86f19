/**
 * npm run bench:accuracy — recognition quality of each engine on ../shared/data, side by side in one run, for colour
 * photos and for a grayscale copy
 * of every photo (converted in memory with sharp, re-encoded as JPEG like an uploaded grayscale file):
 *  (a) pair verification: the official LFW pairs inside the subset + deterministic extra mismatched pairs,
 *      at the model's default threshold, at the best threshold, and 10-fold cross-validated (LFW protocol);
 *  (b) rank-1 identification, each photo of a person with ≥ 2 photos searched against all other photos;
 *  (c) detection rate on the subset;
 *  (d) every same-person and different-person pair of the subset → FAR/FRR at the default threshold, false rejects
 *      at per-pair FARs, the ROC (bench/out/roc-<engine>.svg); identify's threshold and confidence come from the
 *      calibration the engine ships (fitted by research/calibrate.ts);
 *  (e) emotion recall per class on emotion-fer (six PublicTest classes; disgust, from the training split, apart), on
 *      halves A and B (even / odd index of the sorted file names in each class) and in all;
 *  (f) the prototype's test-images table.
 * Writes bench/out/accuracy.md, accuracy.json and roc-<engine>.svg.
 *
 * Options: --engine faceapi,onnx (default: both, in that order),
 *          --limit-people N (first N people of the subset, and N photos per emotion class: a quick run).
 */
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { bestThreshold, crossValidate, statsAt, type ScoredPair } from './threshold-stats.js';
import { confidence, thresholdForFar } from '../src/core/confidence.js';
import { IDENTIFY_DEFAULT_FAR } from '../src/services/face-service.js';
import { euclideanDistance } from '../src/core/distance.js';
import { FlatIndex } from '../src/core/flat-index.js';
import { subjectFace } from '../src/core/subject-face.js';
import { dominantEmotion } from '../src/core/emotion.js';
import { EMOTIONS, type Emotion, FACE_ATTRIBUTES } from '../src/core/types.js';
import type { FaceAnalysis, FaceEngine } from '../src/engine/engine.js';
import { decodeImage, readImageBytes, readImageFile } from '../src/image/decode.js';
import { chart, fmtRate, linearTicks, logTicks } from '../src/services/evaluation/svg.js';
import { EMOTION_FER, LFW_SUBSET, SHARED_DATA, TEST_IMAGES } from '../test/fixtures.js';
import { analyzeOptions, config, inLanes, lfwPeople, limits, numberOption, pct, writeReport } from './common.js';
import { allPairDistances, measureRoc, type AllPairs, type MeasuredRoc } from './roc.js';
import { engineList, startEngine, type EngineName } from './engines.js';
import { extraMismatchedPairs, officialPairsInSubset, type LfwPair } from './lfw.js';

const { values: args } = parseArgs({
  options: {
    'limit-people': { type: 'string' },
    engine: { type: 'string' },
  },
});
const engines = engineList(args.engine);
const limitPeople = numberOption(args['limit-people'], 'limit-people');
/** What enrollment and identify ask for. */
const embedOptions = analyzeOptions();
/** What analyze asks for. */
const attributeOptions = analyzeOptions(FACE_ATTRIBUTES);
const VARIANTS = ['colour', 'grayscale'] as const;
type Variant = (typeof VARIANTS)[number];

interface Photo {
  path: string;
  person: string;
}
type Embeddings = Record<Variant, Array<Float32Array | null>>;

/** A grayscale copy of a photo, as a grayscale JPEG file would arrive. */
async function grayscaleJpeg(bytes: Uint8Array): Promise<Uint8Array> {
  return sharp(bytes).rotate().grayscale().jpeg({ quality: 92 }).toBuffer();
}

async function embedSubset(engine: FaceEngine, photos: readonly Photo[], lanes: number): Promise<Embeddings> {
  const out: Embeddings = { colour: new Array<Float32Array | null>(photos.length).fill(null), grayscale: new Array<Float32Array | null>(photos.length).fill(null) };
  await inLanes(photos.length, lanes, 'subset photos (colour + gray)', async (i) => {
    const photo = photos[i];
    if (!photo) return;
    const bytes = await readImageBytes(photo.path, limits); // read once, decoded twice
    const [colour, gray] = await Promise.all([decodeImage(bytes, limits), grayscaleJpeg(bytes).then((g) => decodeImage(g, limits))]);
    const [c, g] = await Promise.all([engine.analyze(colour, embedOptions), engine.analyze(gray, embedOptions)]);
    // The face enrollment would take (the subject: at the centre, else the largest).
    out.colour[i] = subjectFace(c, colour.width, colour.height)?.embedding ?? null;
    out.grayscale[i] = subjectFace(g, gray.width, gray.height)?.embedding ?? null;
  });
  return out;
}

interface VariantResult {
  detected: number;
  photos: number;
  noFace: string[];
  scored: ScoredPair[];
  bothFound: number;
  atDefault: ReturnType<typeof statsAt>;
  best: ReturnType<typeof bestThreshold>;
  tenFold: ReturnType<typeof crossValidate>;
  rank1: { correct: number; probes: number; rate: number; misses: string[] };
  /** Rank-1 of the probes of half A / half B of the people (even / odd index in name order), whole-subset gallery. */
  rank1Halves: Record<Half, { correct: number; probes: number }>;
}

const HALVES = ['A', 'B'] as const;
type Half = (typeof HALVES)[number];
/** Half A: people at even indices of the sorted names; half B: odd. Choices are made on A and confirmed on B. */
const halfOf = (personIndex: number): Half => (personIndex % 2 === 0 ? 'A' : 'B');

function evaluate(photos: readonly Photo[], embeddings: Array<Float32Array | null>, pairs: readonly LfwPair[], threshold: number): VariantResult {
  const byPath = new Map(photos.map((p, i) => [p.path, embeddings[i] ?? null]));
  const scored: ScoredPair[] = pairs.map((pair) => {
    const a = byPath.get(pair.a);
    const b = byPath.get(pair.b);
    // A face not found counts as "different": that is what the service would answer.
    const distance = a && b ? euclideanDistance(a, b) : Number.POSITIVE_INFINITY;
    return { distance, same: pair.same, fold: pair.fold };
  });
  const people = [...new Set(photos.map((p) => p.person))].sort();
  const personIds = new Map(people.map((p, i) => [p, i]));
  const index = new FlatIndex(embeddings.find((e) => e)?.length ?? 128);
  const withFace: Array<{ i: number; photo: Photo; embedding: Float32Array }> = [];
  photos.forEach((photo, i) => {
    const embedding = embeddings[i];
    if (!embedding) return;
    withFace.push({ i, photo, embedding });
    index.add(i, personIds.get(photo.person) ?? -1, embedding);
  });
  const facesPerPerson = new Map<string, number>();
  for (const f of withFace) facesPerPerson.set(f.photo.person, (facesPerPerson.get(f.photo.person) ?? 0) + 1);
  let probes = 0;
  let correct = 0;
  const misses: string[] = [];
  const rank1Halves: Record<Half, { correct: number; probes: number }> = { A: { correct: 0, probes: 0 }, B: { correct: 0, probes: 0 } };
  for (const f of withFace) {
    if ((facesPerPerson.get(f.photo.person) ?? 0) < 2) continue;
    index.remove(f.i);
    const [top] = index.searchPeople(f.embedding, 1);
    index.add(f.i, personIds.get(f.photo.person) ?? -1, f.embedding);
    probes += 1;
    const half = rank1Halves[halfOf(personIds.get(f.photo.person) ?? 0)];
    half.probes += 1;
    if (top?.personId === personIds.get(f.photo.person)) {
      correct += 1;
      half.correct += 1;
    } else misses.push(`${basename(f.photo.path)} → ${people[top?.personId ?? -1] ?? '?'}`);
  }
  const finite = scored.filter((p) => Number.isFinite(p.distance));
  return {
    detected: withFace.length,
    photos: photos.length,
    noFace: photos.filter((_, i) => !embeddings[i]).map((p) => basename(p.path)),
    scored,
    bothFound: finite.length,
    atDefault: statsAt(scored, threshold),
    best: bestThreshold(scored),
    tenFold: crossValidate(scored),
    rank1: { correct, probes, rate: correct / Math.max(1, probes), misses },
    rank1Halves,
  };
}

interface EmotionRun {
  perClass: Record<string, { total: number; noFace: number; correct: number; recall: number; recallAll: number; confusedAs: Partial<Record<Emotion, number>> }>;
  publicAccuracy: number;
  publicAccuracyAll: number;
  publicTotal: number;
  publicNoFace: number;
}

function dominant(face: FaceAnalysis): Emotion {
  const emotion = face.attributes?.emotion;
  if (!emotion) throw new Error('the engine returned no emotion although attributes were asked for');
  return dominantEmotion(emotion);
}

function emotionRun(items: ReadonlyArray<{ label: Emotion }>, predicted: ReadonlyArray<Emotion | null>): EmotionRun {
  const perClass: EmotionRun['perClass'] = {};
  items.forEach((item, i) => {
    const row = (perClass[item.label] ??= { total: 0, noFace: 0, correct: 0, recall: 0, recallAll: 0, confusedAs: {} });
    row.total += 1;
    const p = predicted[i];
    if (p === null || p === undefined) row.noFace += 1;
    else if (p === item.label) row.correct += 1;
    else row.confusedAs[p] = (row.confusedAs[p] ?? 0) + 1;
  });
  let pubTotal = 0;
  let pubNoFace = 0;
  let pubCorrect = 0;
  for (const [label, row] of Object.entries(perClass)) {
    row.recall = row.correct / Math.max(1, row.total - row.noFace);
    row.recallAll = row.correct / Math.max(1, row.total);
    if (label === 'disgust') continue;
    pubTotal += row.total;
    pubNoFace += row.noFace;
    pubCorrect += row.correct;
  }
  return {
    perClass,
    publicAccuracy: pubCorrect / Math.max(1, pubTotal - pubNoFace),
    publicAccuracyAll: pubCorrect / Math.max(1, pubTotal),
    publicTotal: pubTotal,
    publicNoFace: pubNoFace,
  };
}

/** The whole emotion set and its two halves (even / odd index of the sorted file names within each class). */
async function emotionBench(engine: FaceEngine, perClassLimit: number | undefined, lanes: number): Promise<{ all: EmotionRun; A: EmotionRun; B: EmotionRun }> {
  const labels = (await readdir(EMOTION_FER)).filter((l) => (EMOTIONS as readonly string[]).includes(l)).sort();
  const items: Array<{ label: Emotion; path: string; half: 'A' | 'B' }> = [];
  for (const label of labels) {
    const files = (await readdir(join(EMOTION_FER, label))).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
    files.slice(0, perClassLimit).forEach((file, i) => items.push({ label: label as Emotion, path: join(EMOTION_FER, label, file), half: i % 2 === 0 ? 'A' : 'B' }));
  }
  const predicted = new Array<Emotion | null>(items.length).fill(null);
  await inLanes(items.length, lanes, 'emotion-fer photos', async (i) => {
    const item = items[i];
    if (!item) return;
    const { image } = await readImageFile(item.path, limits);
    const [largest] = await engine.analyze(image, attributeOptions); // faces come largest first
    predicted[i] = largest ? dominant(largest) : null;
  });
  const half = (h: 'A' | 'B'): EmotionRun => {
    const keep = items.flatMap((item, i) => (item.half === h ? [i] : []));
    return emotionRun(
      keep.map((i) => items[i] ?? { label: 'neutral' as Emotion }),
      keep.map((i) => predicted[i] ?? null),
    );
  };
  return { all: emotionRun(items, predicted), A: half('A'), B: half('B') };
}

const pct1 = (x: number): string => pct(x, 1);
const displayName = (folder: string): string => folder.replace(/_/g, ' ');
const sci = (x: number): string => (x === 0 ? '0' : x < 0.01 ? x.toExponential(1) : pct(x));

interface PairSet {
  pairs: LfwPair[];
  official: number;
  matched: number;
  mismatched: number;
  extra: number;
}

interface EngineReport {
  name: EngineName;
  model: FaceEngine['model'];
  threshold: number;
  minutes: number;
  results: Record<Variant, VariantResult>;
  /** Every pair of colour photos with a face. */
  measured: MeasuredRoc;
  /** The same on the grayscale copies. */
  grayMeasured: MeasuredRoc;
  /** False rejects at IDENTIFY_DEFAULT_FAR over all pairs within each half of the people, at that half's own threshold. */
  frrByHalf: Record<Variant, Record<Half, ReturnType<typeof frrAtFar>>>;
  /** The calibration the engine ships (identify's threshold and confidence). */
  shipped: FaceEngine['calibration'];
  emotions: { all: EmotionRun; A: EmotionRun; B: EmotionRun };
  identifyThreshold: number;
  tableRows: string[];
  tablePass: number;
}

const FAR_TARGETS = [1e-4, 1e-3, 1e-2];
const EXPECTATIONS: Array<[string, string]> = [
  ['Bono_0001.jpg', 'Bono'],
  ['Bono_0002.jpg', 'Bono'],
  ['Brad_Pitt_0001.jpg', 'Brad Pitt'],
  ['aaron_eckhart.jpg', 'Aaron Eckhart'],
  ['Ezra_miller.jpg', 'unknown'],
  ['ai.jpg', 'unknown or no face'],
  ['group.jpg', 'every face found, each unknown'],
  ['Blank_image.jpg', 'no face'],
  ['alien.png', 'decoded by content; no face or unknown'],
];

/**
 * The distance below which a fraction `far` of the different-person pairs fall, and the fraction of same-person
 * pairs above it (null when there are too few different-person pairs to resolve `far`).
 */
function frrAtFar(pairs: AllPairs, far: number): { threshold: number; frr: number } | null {
  const index = Math.floor(pairs.different.length * far);
  if (index < 1 || pairs.same.length === 0) return null;
  const threshold = pairs.different[index] ?? Number.NaN;
  let rejected = 0;
  for (const d of pairs.same) if (d > threshold) rejected += 1;
  return { threshold, frr: rejected / pairs.same.length };
}

/** The largest ROC threshold whose measured FAR is at most `target`, and the false-reject rate there. */
function operatingPoint(measured: MeasuredRoc, target: number): { threshold: number; far: number; frr: number } | undefined {
  if (target < measured.minFar) return undefined;
  const point = [...measured.roc].reverse().find((p) => p.far <= target);
  return point && { threshold: point.threshold, far: point.far, frr: 1 - point.tar };
}

/** This run's ROC (log FAR, TAR), drawn by `facedb evaluate`'s own chart, default threshold marked. */
function rocSvg(key: string, measured: MeasuredRoc): string {
  const minFar = 10 ** Math.floor(Math.log10(measured.minFar));
  const lowestTar = Math.min(1, ...measured.roc.filter((p) => p.far >= minFar).map((p) => p.tar));
  const minTar = Math.max(0, Math.floor(lowestTar * 10) / 10 - 0.1);
  const svg = chart(
    `ROC of ${key}: ${measured.pairs.same} same-person and ${measured.pairs.different} different-person pairs`,
    { min: minFar, max: 1, log: true, label: 'false-accept rate (FAR, log scale)', ticks: logTicks(minFar, 1), format: fmtRate },
    { min: minTar, max: 1, log: false, label: 'true-accept rate (TAR = 1 − FRR)', ticks: linearTicks(minTar, 1), format: (x) => x.toFixed(2) },
    [{ name: key, colour: '#1f77b4', points: measured.roc.map((p): [number, number] => [p.far, p.tar]) }],
    [{ x: Math.max(measured.far, minFar), label: `default threshold ${measured.threshold}` }],
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n${svg.replace('<svg ', '<svg xmlns="http://www.w3.org/2000/svg" ')}\n`;
}

async function runEngine(name: EngineName, photos: readonly Photo[], people: readonly string[], pairSet: PairSet): Promise<EngineReport> {
  const started = performance.now();
  const engine = await startEngine(name, config.workers);
  try {
    const model = engine.model;
    const threshold = config.threshold ?? model.defaultThreshold;
    const lanes = Math.max(4, 3 * (config.workers ?? 2));
    const embeddings = await embedSubset(engine, photos, lanes);
    const results = {
      colour: evaluate(photos, embeddings.colour, pairSet.pairs, threshold),
      grayscale: evaluate(photos, embeddings.grayscale, pairSet.pairs, threshold),
    } satisfies Record<Variant, VariantResult>;

    const measure = (variant: Variant): MeasuredRoc => {
      const faces = photos.flatMap((p, i) => {
        const embedding = embeddings[variant][i];
        return embedding ? [{ person: p.person, embedding }] : [];
      });
      return measureRoc(allPairDistances(faces), model.defaultThreshold);
    };
    const frrByHalf = Object.fromEntries(
      VARIANTS.map((variant) => [
        variant,
        Object.fromEntries(
          HALVES.map((half) => {
            const faces = photos.flatMap((p, i) => {
              const embedding = embeddings[variant][i];
              return embedding && halfOf(people.indexOf(p.person)) === half ? [{ person: p.person, embedding }] : [];
            });
            return [half, frrAtFar(allPairDistances(faces), IDENTIFY_DEFAULT_FAR)];
          }),
        ),
      ]),
    ) as Record<Variant, Record<Half, ReturnType<typeof frrAtFar>>>;
    const measured = measure('colour');
    const grayMeasured = measure('grayscale');
    process.stderr.write(
      `${name}: pairs at ${threshold} colour ${pct(results.colour.atDefault.accuracy)} / gray ${pct(results.grayscale.atDefault.accuracy)}; ` +
        `10-fold ${pct(results.colour.tenFold.meanAccuracy)} / ${pct(results.grayscale.tenFold.meanAccuracy)}; ` +
        `rank-1 ${pct(results.colour.rank1.rate)} / ${pct(results.grayscale.rank1.rate)}; ` +
        `detection ${pct(results.colour.detected / Math.max(1, photos.length))} / ${pct(results.grayscale.detected / Math.max(1, photos.length))}\n`,
    );

    const emotions = await emotionBench(engine, limitPeople, lanes);

    // The prototype's test images against the whole (limited) subset, as `facedb identify` answers: its default
    // threshold is the one at a per-pair FAR of IDENTIFY_DEFAULT_FAR, looked up in the calibration the engine ships.
    const index = new FlatIndex(model.dimensions);
    const personIds = new Map(people.map((p, i) => [p, i]));
    photos.forEach((p, i) => {
      const e = embeddings.colour[i];
      if (e) index.add(i, personIds.get(p.person) ?? -1, e);
    });
    let identifyThreshold = config.threshold ?? model.defaultThreshold;
    if (config.threshold === undefined && engine.calibration) {
      identifyThreshold = thresholdForFar(engine.calibration, IDENTIFY_DEFAULT_FAR, `${model.id}@${model.version}`);
    } else if (config.threshold === undefined) {
      process.stderr.write(`${name}: no shipped calibration; the test-images table uses the default threshold\n`);
    }
    const tableRows: string[] = [];
    let tablePass = 0;
    for (const [file, expected] of EXPECTATIONS) {
      const { image } = await readImageFile(join(TEST_IMAGES, file), limits);
      const format = image.format;
      const found = await engine.analyze(image, embedOptions);
      const answers = found.map((face) => {
        const [top] = face.embedding ? index.searchPeople(face.embedding, 1) : [];
        const nearest = top ? displayName(people[top.personId] ?? '?') : 'unknown';
        const distance = top?.distance ?? Number.NaN;
        return { name: top && top.distance <= identifyThreshold ? nearest : 'unknown', nearest, distance, confidence: confidence(engine.calibration, distance) };
      });
      const names = answers.map((a) => a.name);
      let pass: boolean;
      if (expected === 'no face') pass = found.length === 0;
      else if (expected.startsWith('every face')) pass = found.length >= 6 && names.every((n) => n === 'unknown');
      else if (expected.includes('unknown')) pass = names.every((n) => n === 'unknown');
      else pass = names[0] === expected;
      if (pass) tablePass += 1;
      const got =
        found.length === 0
          ? 'no face'
          : answers
              .map((a) => `${a.name === 'unknown' ? `unknown (nearest ${a.nearest}` : `${a.name} (`} ${a.distance.toFixed(3)}, ${a.confidence === null ? '?' : pct1(a.confidence)})`)
              .join(', ');
      tableRows.push(`| ${file} | ${format} | ${expected} | ${found.length} | ${got} | ${pass ? 'yes' : '**no**'} |`);
    }
    return {
      name,
      model,
      threshold,
      minutes: (performance.now() - started) / 60000,
      results,
      measured,
      grayMeasured,
      frrByHalf,
      shipped: engine.calibration,
      emotions,
      identifyThreshold,
      tableRows,
      tablePass,
    };
  } finally {
    await engine.close();
  }
}

function engineSection(r: EngineReport, photos: number, pairSet: PairSet): string[] {
  const { model, measured, shipped, results } = r;
  const c = results.colour;
  const g = results.grayscale;
  const row = (label: string, f: (v: VariantResult) => string): string => `| ${label} | ${f(c)} | ${f(g)} |`;
  const operatingRows = FAR_TARGETS.map((target) => {
    const colour = operatingPoint(measured, target);
    const gray = operatingPoint(r.grayMeasured, target);
    const cell = (p: ReturnType<typeof operatingPoint>): string => (p ? `${p.threshold} | ${sci(p.far)} | ${pct(p.frr)}` : 'not measurable | | ');
    return `| ${sci(target)} | ${cell(colour)} | ${cell(gray)} |`;
  });
  const emotionRows = EMOTIONS.filter((e) => r.emotions.all.perClass[e]).map((e) => {
    const all = r.emotions.all.perClass[e];
    const a = r.emotions.A.perClass[e];
    const b = r.emotions.B.perClass[e];
    if (!all) return '';
    const confused = Object.entries(all.confusedAs)
      .sort(([, x], [, y]) => y - x)
      .slice(0, 2)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    return `| ${e}${e === 'disgust' ? ' (training split, apart)' : ''} | ${all.total} | ${all.noFace} | ${pct1(all.recall)} | ${a ? pct1(a.recall) : '-'} | ${b ? pct1(b.recall) : '-'} | ${confused} |`;
  });
  const key = `${model.id}@${model.version}`;
  const calibrationPath = `src/engine/${r.name}/calibration.ts`;
  return [
    `## ${r.name}: ${key} (${r.minutes.toFixed(1)} min)`,
    '',
    '### (a) Pair verification',
    `${pairSet.official} official LFW pairs fall inside the subset (${pairSet.matched} matched, ${pairSet.mismatched} mismatched);`,
    `${pairSet.extra} extra mismatched pairs were drawn deterministically from the subset (seed 2026) so both classes`,
    `have ${pairSet.matched} pairs: ${pairSet.pairs.length} pairs in all. A photo with no face found makes its pair "different".`,
    '',
    '| measure | colour | grayscale |',
    '| --- | --- | --- |',
    row(`accuracy at the default threshold ${r.threshold}`, (v) => `${pct(v.atDefault.accuracy)} (FAR ${pct(v.atDefault.falseAcceptRate)}, FRR ${pct(v.atDefault.falseRejectRate)})`),
    row('best threshold on all pairs', (v) => `${v.best.threshold.toFixed(3)} → ${pct(v.best.accuracy)}`),
    row('10-fold cross-validated accuracy (LFW protocol)', (v) => `${pct(v.tenFold.meanAccuracy)} ± ${pct(v.tenFold.stdAccuracy)}`),
    row('10-fold thresholds (min–max)', (v) => {
      const ts = v.tenFold.folds.map((f) => f.threshold);
      return ts.length ? `${Math.min(...ts).toFixed(3)}–${Math.max(...ts).toFixed(3)}` : '-';
    }),
    row('pairs with both faces found', (v) => `${v.bothFound}/${v.scored.length}`),
    '',
    '### (b) Rank-1 identification',
    'Each photo (with a face found) of a person with ≥ 2 such photos, searched against all other photos of the same variant.',
    '',
    '| | colour | grayscale |',
    '| --- | --- | --- |',
    row('rank-1', (v) => `**${pct(v.rank1.rate)}** (${v.rank1.correct}/${v.rank1.probes})`),
    '',
    `Colour misses: ${c.rank1.misses.slice(0, 20).join('; ') || 'none'}${c.rank1.misses.length > 20 ? ' …' : ''}`,
    '',
    '### (c) Detection',
    '',
    '| | colour | grayscale |',
    '| --- | --- | --- |',
    row('faces found', (v) => `**${pct(v.detected / Math.max(1, v.photos))}** (${v.detected}/${v.photos})`),
    '',
    `No face (colour): ${c.noFace.join(', ') || 'none'}`,
    `No face (grayscale): ${g.noFace.join(', ') || 'none'}`,
    '',
    '### (d) Every pair: FAR/FRR, ROC, the shipped confidence',
    `Every pair of the colour photos with a face: ${measured.pairs.same} same-person and ${measured.pairs.different} different-person pairs`,
    `(FAR resolution ${sci(measured.minFar)}); grayscale: ${r.grayMeasured.pairs.same} and ${r.grayMeasured.pairs.different}.`,
    '',
    `At the default threshold **${model.defaultThreshold}** (colour): **FAR ${sci(measured.far)}** (${Math.round(measured.far * measured.pairs.different)} of ${measured.pairs.different} different-person pairs accepted), **FRR ${pct(measured.frr)}** (${Math.round(measured.frr * measured.pairs.same)} of ${measured.pairs.same} same-person pairs rejected).`,
    '',
    '| target per-pair FAR | colour threshold | measured FAR | false rejects | grayscale threshold | measured FAR | false rejects |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...operatingRows,
    '',
    shipped
      ? `Confidence P(same | distance d) = 1 / (1 + exp(−(${shipped.logistic.a} + ${shipped.logistic.b}·d))), as ${calibrationPath} ships it for ${key} (${shipped.source}; refit: \`npm run research:calibrate -- --engine ${r.name}\`):`
      : `${calibrationPath} has no calibration for ${key}: no confidence (fit one with \`npm run research:calibrate -- --engine ${r.name}\`).`,
    shipped
      ? [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3]
          .filter((d) => d <= shipped.roc.at(-1)!.threshold)
          .map((d) => `d ${d} → ${pct1(confidence(shipped, d) ?? 0)}`)
          .join(' · ')
      : '',
    `ROC curve: bench/out/roc-${r.name}.svg.`,
    '',
    '### (e) Emotion on emotion-fer (48×48 grayscale crops; largest face of each photo)',
    `Six PublicTest classes: accuracy **${pct1(r.emotions.all.publicAccuracy)}** on the ${r.emotions.all.publicTotal - r.emotions.all.publicNoFace} photos with a face found` +
      ` (half A **${pct1(r.emotions.A.publicAccuracy)}**, half B **${pct1(r.emotions.B.publicAccuracy)}**); ${pct1(r.emotions.all.publicAccuracyAll)} counting the ${r.emotions.all.publicNoFace} no-face photos as wrong.`,
    'Halves: even / odd index of the sorted file names within each class. Disgust comes from FER-2013 training photos: reported apart, not in the accuracy.',
    '',
    '| class | photos | no face | recall (face found) | half A | half B | most confused with |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...emotionRows,
    '',
    `### (f) Test images against the whole subset (${r.tablePass}/${EXPECTATIONS.length} as expected at identify's threshold ${r.identifyThreshold}, per-pair FAR ${IDENTIFY_DEFAULT_FAR} in the shipped calibration, which gives the confidence too)`,
    '| file | decoded as | expected | faces | answer (distance, confidence) | ok |',
    '| --- | --- | --- | --- | --- | --- |',
    ...r.tableRows,
    '',
    `(${photos} subset photos.)`,
    '',
  ];
}

const halfFrr = (p: { threshold: number; frr: number } | null): string => (p ? `${pct(p.frr)} (at ${p.threshold.toFixed(3)})` : 'not measurable');
const halfRank1 = (h: { correct: number; probes: number }): string => `${pct(h.correct / Math.max(1, h.probes))} (${h.correct}/${h.probes})`;

function summary(reports: readonly EngineReport[]): string[] {
  const cell = (f: (r: EngineReport) => string): string => reports.map(f).join(' | ');
  const frr = (r: EngineReport, v: Variant): string => {
    const p = operatingPoint(v === 'colour' ? r.measured : r.grayMeasured, IDENTIFY_DEFAULT_FAR);
    return p ? `${pct(p.frr)} (at ${p.threshold})` : 'not measurable';
  };
  return [
    `| measure | ${reports.map((r) => `${r.name} (${r.model.id}@${r.model.version})`).join(' | ')} |`,
    `| --- | ${reports.map(() => '---').join(' | ')} |`,
    `| faces found, colour / grayscale | ${cell((r) => `${pct(r.results.colour.detected / Math.max(1, r.results.colour.photos))} / ${pct(r.results.grayscale.detected / Math.max(1, r.results.grayscale.photos))}`)} |`,
    `| false rejects at per-pair FAR ${IDENTIFY_DEFAULT_FAR}, colour | ${cell((r) => frr(r, 'colour'))} |`,
    `| false rejects at per-pair FAR ${IDENTIFY_DEFAULT_FAR}, grayscale | ${cell((r) => frr(r, 'grayscale'))} |`,
    `| rank-1, colour / grayscale | ${cell((r) => `${pct(r.results.colour.rank1.rate)} / ${pct(r.results.grayscale.rank1.rate)}`)} |`,
    `| half A / half B of the people, colour: false rejects at FAR ${IDENTIFY_DEFAULT_FAR} (within the half) | ${cell((r) => HALVES.map((h) => halfFrr(r.frrByHalf.colour[h])).join(' / '))} |`,
    `| half A / half B of the people, grayscale: false rejects at FAR ${IDENTIFY_DEFAULT_FAR} (within the half) | ${cell((r) => HALVES.map((h) => halfFrr(r.frrByHalf.grayscale[h])).join(' / '))} |`,
    `| half A / half B of the people: rank-1, colour | ${cell((r) => HALVES.map((h) => halfRank1(r.results.colour.rank1Halves[h])).join(' / '))} |`,
    `| pairs 10-fold, colour / grayscale | ${cell((r) => `${pct(r.results.colour.tenFold.meanAccuracy)} / ${pct(r.results.grayscale.tenFold.meanAccuracy)}`)} |`,
    `| best 1:1 threshold on the pairs (colour) | ${cell((r) => `${r.results.colour.best.threshold.toFixed(3)} (model default ${r.model.defaultThreshold})`)} |`,
    `| test-images table at identify's threshold | ${cell((r) => `${r.tablePass}/${EXPECTATIONS.length} (threshold ${r.identifyThreshold})`)} |`,
    `| emotion, six PublicTest classes: all / half A / half B | ${cell((r) => `${pct1(r.emotions.all.publicAccuracy)} / ${pct1(r.emotions.A.publicAccuracy)} / ${pct1(r.emotions.B.publicAccuracy)}`)} |`,
    `| emotion, disgust (training split, apart) | ${cell((r) => (r.emotions.all.perClass.disgust ? pct1(r.emotions.all.perClass.disgust.recall) : '-'))} |`,
    `| minutes | ${cell((r) => r.minutes.toFixed(1))} |`,
  ];
}

async function main(): Promise<void> {
  const listed = await lfwPeople(limitPeople);
  const people = listed.map((p) => p.person);
  const photos: Photo[] = listed.flatMap(({ person, files }) => files.map((file) => ({ path: join(LFW_SUBSET, person, file), person })));

  // Pairs: the same list for every engine and variant (chosen from the files, not from what was detected).
  const present = new Set(photos.map((p) => p.path));
  const official = await officialPairsInSubset(join(SHARED_DATA, 'lfw-pairs.txt'), LFW_SUBSET, present);
  const matched = official.filter((p) => p.same).length;
  const mismatched = official.length - matched;
  const byPerson = new Map<string, string[]>();
  for (const p of photos) byPerson.set(p.person, [...(byPerson.get(p.person) ?? []), p.path]);
  const extra = byPerson.size > 1 ? extraMismatchedPairs(byPerson, Math.max(0, matched - mismatched), official) : [];
  const pairSet: PairSet = { pairs: [...official, ...extra], official: official.length, matched, mismatched, extra: extra.length };

  const reports: EngineReport[] = [];
  for (const name of engines) {
    const report = await runEngine(name, photos, people, pairSet);
    reports.push(report);
    await writeReport(`roc-${name}.svg`, rocSvg(`${report.model.id}@${report.model.version}`, report.measured));
  }

  const text = [
    `# facedb accuracy on ../shared/data (${reports.map((r) => `${r.name}: ${r.model.id}@${r.model.version}`).join(', ')}; detection score ≥ ${config.minDetectionScore})`,
    '',
    limitPeople === undefined ? '' : `**Quick run: first ${people.length} people of the subset and ${limitPeople} photos per emotion class only.**\n`,
    `${photos.length} subset photos, each analysed in colour and as a grayscale copy (sharp: grayscale, re-encoded JPEG q92), by each engine.`,
    '',
    ...summary(reports),
    '',
    ...reports.flatMap((r) => engineSection(r, photos.length, pairSet)),
  ].join('\n');
  process.stdout.write(text);
  await writeReport('accuracy.md', text);
  await writeReport(
    'accuracy.json',
    JSON.stringify(
      {
        limitPeople: limitPeople ?? null,
        engines: reports.map((r) => ({
          engine: r.name,
          model: r.model,
          minutes: r.minutes,
          variants: Object.fromEntries(
            VARIANTS.map((v) => {
              const res = r.results[v];
              return [
                v,
                {
                  detectionRate: res.detected / Math.max(1, res.photos),
                  pairs: { official: pairSet.official, extra: pairSet.extra, atDefault: res.atDefault, best: res.best, tenFold: res.tenFold },
                  rank1: { correct: res.rank1.correct, probes: res.rank1.probes, rate: res.rank1.rate },
                  falseRejectsAt: Object.fromEntries(FAR_TARGETS.map((t) => [t, operatingPoint(v === 'colour' ? r.measured : r.grayMeasured, t) ?? null])),
                },
              ];
            }),
          ),
          allPairs: { ...r.measured, roc: undefined },
          emotion: r.emotions,
          testImages: { pass: r.tablePass, total: EXPECTATIONS.length, identifyThreshold: r.identifyThreshold },
        })),
      },
      null,
      2,
    ),
  );
}

await main();
