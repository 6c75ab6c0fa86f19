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
import { calibrationKey, confidence, thresholdForFar } from '../src/core/confidence.js';
import { IDENTIFY_DEFAULT_FAR } from '../src/services/face-service.js';
import { euclideanDistance } from '../src/core/distance.js';
import { pointAtFar, type FarPoint } from '../src/core/verification.js';
import { FlatIndex } from '../src/core/flat-index.js';
import { subjectFace } from '../src/core/subject-face.js';
import { dominantEmotion } from '../src/core/emotion.js';
import { EMOTIONS, type Emotion, FACE_ATTRIBUTES } from '../src/core/types.js';
import type { FaceEngine } from '../src/engine/engine.js';
import { decodeImage, readImageBytes, readImageFile } from '../src/image/decode.js';
import { chart, fmtRate, linearTicks, logTicks } from '../src/services/evaluation/svg.js';
import { EMOTION_FER, LFW_SUBSET, SHARED_DATA, TEST_IMAGES } from '../test/fixtures.js';
import { analyzeOptions, config, inLanes, lfwPeople, limits, numberOption, pct, writeReport } from './common.js';
import { allPairDistances, measureRoc, type MeasuredRoc } from './roc.js';
import { engineList, startEngine, type EngineName } from './engines.js';
import { extraMismatchedPairs, officialPairsInSubset } from './lfw.js';

const { values: args } = parseArgs({ options: { 'limit-people': { type: 'string' }, engine: { type: 'string' } } });
const engines = engineList(args.engine);
const limitPeople = numberOption(args['limit-people'], 'limit-people');
/** What enrollment and identify ask for. */
const embedOptions = analyzeOptions();
/** What analyze asks for. */
const attributeOptions = analyzeOptions(FACE_ATTRIBUTES);
const VARIANTS = ['colour', 'grayscale'] as const;
type Variant = (typeof VARIANTS)[number];
const HALVES = ['A', 'B'] as const;
type Half = (typeof HALVES)[number];
/**
 * Half A: even indices (of the sorted people, or of the sorted file names within an emotion class); half B: odd.
 * Choices are made on A and confirmed on B.
 */
const halfOf = (index: number): Half => (index % 2 === 0 ? 'A' : 'B');
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

/** The photos every engine and variant is measured on, and the pairs: chosen from the files, not from what was detected. */
async function loadSubset() {
  const listed = await lfwPeople(limitPeople);
  // personId: the index of the person among the subset's sorted names.
  const photos = listed.flatMap(({ person, files }, personId) => files.map((file) => ({ path: join(LFW_SUBSET, person, file), person, personId })));
  const official = await officialPairsInSubset(join(SHARED_DATA, 'lfw-pairs.txt'), LFW_SUBSET, new Set(photos.map((p) => p.path)));
  const matched = official.filter((p) => p.same).length;
  const mismatched = official.length - matched;
  const byPerson = new Map<string, string[]>();
  for (const p of photos) byPerson.set(p.person, [...(byPerson.get(p.person) ?? []), p.path]);
  // Extra mismatched pairs drawn from the subset, so that both classes have as many pairs.
  const extra = byPerson.size > 1 ? extraMismatchedPairs(byPerson, Math.max(0, matched - mismatched), official) : [];
  return { photos, people: listed.map((p) => p.person), pairs: [...official, ...extra], official: official.length, matched, mismatched, extra: extra.length };
}
type Subset = Awaited<ReturnType<typeof loadSubset>>;
type Photo = Subset['photos'][number];

/** Each photo's subject face per variant; null: no face found. */
type Embeddings = Record<Variant, Array<Float32Array | null>>;

async function embedSubset(engine: FaceEngine, photos: readonly Photo[], lanes: number): Promise<Embeddings> {
  const out: Embeddings = { colour: photos.map(() => null), grayscale: photos.map(() => null) };
  await inLanes(photos.length, lanes, 'subset photos (colour + gray)', async (i) => {
    const photo = photos[i];
    if (!photo) return;
    const bytes = await readImageBytes(photo.path, limits); // read once, decoded twice
    // The grayscale copy as a grayscale JPEG file would arrive.
    const grayJpeg = sharp(bytes).rotate().grayscale().jpeg({ quality: 92 }).toBuffer();
    const [colour, gray] = await Promise.all([decodeImage(bytes, limits), grayJpeg.then((g) => decodeImage(g, limits))]);
    const [c, g] = await Promise.all([engine.analyze(colour, embedOptions), engine.analyze(gray, embedOptions)]);
    // The face enrollment would take (the subject: at the centre, else the largest).
    out.colour[i] = subjectFace(c, colour.width, colour.height)?.embedding ?? null;
    out.grayscale[i] = subjectFace(g, gray.width, gray.height)?.embedding ?? null;
  });
  return out;
}

/** Everything measured on one variant's embeddings: the pairs, rank-1, detection and every pair of faces. */
function evaluate(subset: Subset, embeddings: ReadonlyArray<Float32Array | null>, model: FaceEngine['model'], threshold: number) {
  const { photos, people } = subset;
  const byPath = new Map(photos.map((p, i) => [p.path, embeddings[i]]));
  const scored: ScoredPair[] = subset.pairs.map(({ a, b, same, fold }) => {
    const ea = byPath.get(a);
    const eb = byPath.get(b);
    // A face not found counts as "different": that is what the service would answer.
    return { distance: ea && eb ? euclideanDistance(ea, eb) : Number.POSITIVE_INFINITY, same, fold };
  });
  const faces = photos.flatMap((photo, i) => {
    const embedding = embeddings[i];
    return embedding ? [{ ...photo, i, embedding }] : [];
  });

  // Rank-1: each face of a person with ≥ 2 faces searched, as identify searches, against all the other faces.
  const index = new FlatIndex(model.dimensions);
  for (const f of faces) index.add(f.i, f.personId, f.embedding);
  const facesPerPerson = new Map<number, number>();
  for (const f of faces) facesPerPerson.set(f.personId, (facesPerPerson.get(f.personId) ?? 0) + 1);
  const rank1 = { correct: 0, probes: 0, misses: [] as string[] };
  /** Rank-1 of the probes of half A / half B of the people, whole-subset gallery. */
  const rank1Halves: Record<Half, { correct: number; probes: number }> = { A: { correct: 0, probes: 0 }, B: { correct: 0, probes: 0 } };
  for (const f of faces) {
    if ((facesPerPerson.get(f.personId) ?? 0) < 2) continue;
    index.remove(f.i);
    const [top] = index.searchPeople(f.embedding, 1);
    index.add(f.i, f.personId, f.embedding);
    const hit = top?.personId === f.personId;
    for (const tally of [rank1, rank1Halves[halfOf(f.personId)]]) {
      tally.probes += 1;
      if (hit) tally.correct += 1;
    }
    if (!hit) rank1.misses.push(`${basename(f.path)} → ${people[top?.personId ?? -1] ?? '?'}`);
  }

  const pointWithinHalf = (half: Half) => {
    const pairs = allPairDistances(faces.filter((f) => halfOf(f.personId) === half));
    return pointAtFar(pairs.same, pairs.different, IDENTIFY_DEFAULT_FAR); // the operating point `facedb evaluate` reports
  };
  return {
    detected: faces.length,
    detectionRate: faces.length / Math.max(1, photos.length),
    noFace: photos.filter((_, i) => !embeddings[i]).map((p) => basename(p.path)),
    bothFound: scored.filter((p) => Number.isFinite(p.distance)).length,
    atDefault: statsAt(scored, threshold),
    best: bestThreshold(scored),
    tenFold: crossValidate(scored),
    rank1: { ...rank1, rate: rank1.correct / Math.max(1, rank1.probes) },
    rank1Halves,
    /** Every pair of the photos with a face: FAR/FRR at the model's default threshold and the ROC. */
    measured: measureRoc(allPairDistances(faces), model.defaultThreshold),
    /** False rejects at IDENTIFY_DEFAULT_FAR over all pairs within each half of the people, at that half's own threshold. */
    frrByHalf: { A: pointWithinHalf('A'), B: pointWithinHalf('B') },
    /** Every face found, indexed as identify's gallery: the test-images table searches the colour one. */
    index,
  };
}
type VariantResult = ReturnType<typeof evaluate>;

interface EmotionItem {
  label: Emotion;
  path: string;
  half: Half;
  /** The dominant emotion of the photo's largest face; null when no face was found. */
  predicted: Emotion | null;
}

/** Counts over some emotion photos: recall of those with a face found and of all, and what they were taken for instead. */
function emotionCounts(items: readonly EmotionItem[]) {
  const noFace = items.filter((item) => item.predicted === null).length;
  const correct = items.filter((item) => item.predicted === item.label).length;
  const confusedAs: Partial<Record<Emotion, number>> = {};
  for (const { label, predicted } of items) {
    if (predicted !== null && predicted !== label) confusedAs[predicted] = (confusedAs[predicted] ?? 0) + 1;
  }
  const recall = correct / Math.max(1, items.length - noFace);
  return { total: items.length, noFace, correct, recall, recallAll: correct / Math.max(1, items.length), confusedAs };
}

/** Recall per class, and the accuracy over the six PublicTest classes (disgust, from the training split, apart). */
function emotionRun(items: readonly EmotionItem[]) {
  const labels = [...new Set(items.map((item) => item.label))];
  const perClass = Object.fromEntries(labels.map((label) => [label, emotionCounts(items.filter((item) => item.label === label))]));
  const publicTest = emotionCounts(items.filter((item) => item.label !== 'disgust'));
  const { recall: publicAccuracy, recallAll: publicAccuracyAll, total: publicTotal, noFace: publicNoFace } = publicTest;
  return { perClass, publicAccuracy, publicAccuracyAll, publicTotal, publicNoFace };
}
type EmotionRun = ReturnType<typeof emotionRun>;

/** The whole emotion set and its two halves (even / odd index of the sorted file names within each class). */
async function emotionBench(engine: FaceEngine, perClassLimit: number | undefined, lanes: number): Promise<Record<'all' | Half, EmotionRun>> {
  const labels = (await readdir(EMOTION_FER)).filter((l): l is Emotion => (EMOTIONS as readonly string[]).includes(l)).sort();
  const items: EmotionItem[] = [];
  for (const label of labels) {
    const files = (await readdir(join(EMOTION_FER, label))).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
    files.slice(0, perClassLimit).forEach((file, i) => items.push({ label, path: join(EMOTION_FER, label, file), half: halfOf(i), predicted: null }));
  }
  await inLanes(items.length, lanes, 'emotion-fer photos', async (i) => {
    const item = items[i];
    if (!item) return;
    const { image } = await readImageFile(item.path, limits);
    const [largest] = await engine.analyze(image, attributeOptions); // faces come largest first
    const emotion = largest?.attributes?.emotion;
    if (largest && !emotion) throw new Error('the engine returned no emotion although attributes were asked for');
    item.predicted = emotion ? dominantEmotion(emotion) : null;
  });
  const run = (half?: Half): EmotionRun => emotionRun(half ? items.filter((item) => item.half === half) : items);
  return { all: run(), A: run('A'), B: run('B') };
}

const pct1 = (x: number): string => pct(x, 1);
const displayName = (folder: string): string => folder.replace(/_/g, ' ');
const sci = (x: number): string => (x === 0 ? '0' : x < 0.01 ? x.toExponential(1) : pct(x));

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

/** The prototype's test images against `gallery` (the whole subset), as `facedb identify` answers at `threshold`. */
async function testImagesTable(engine: FaceEngine, gallery: FlatIndex, people: readonly string[], threshold: number) {
  const rows: string[] = [];
  let passed = 0;
  for (const [file, expected] of EXPECTATIONS) {
    const { image } = await readImageFile(join(TEST_IMAGES, file), limits);
    const found = await engine.analyze(image, embedOptions);
    const answers = found.map((face) => {
      const [top] = face.embedding ? gallery.searchPeople(face.embedding, 1) : [];
      const nearest = top ? displayName(people[top.personId] ?? '?') : 'unknown';
      const distance = top?.distance ?? Number.NaN;
      return { name: top && top.distance <= threshold ? nearest : 'unknown', nearest, distance, confidence: confidence(engine.calibration, distance) };
    });
    const names = answers.map((a) => a.name);
    let pass: boolean;
    if (expected === 'no face') pass = found.length === 0;
    else if (expected.startsWith('every face')) pass = found.length >= 6 && names.every((n) => n === 'unknown');
    else if (expected.includes('unknown')) pass = names.every((n) => n === 'unknown');
    else pass = names[0] === expected;
    if (pass) passed += 1;
    const got = answers
      .map((a) => `${a.name === 'unknown' ? `unknown (nearest ${a.nearest}` : `${a.name} (`} ${a.distance.toFixed(3)}, ${a.confidence === null ? '?' : pct1(a.confidence)})`)
      .join(', ');
    rows.push(`| ${file} | ${image.format} | ${expected} | ${found.length} | ${got || 'no face'} | ${pass ? 'yes' : '**no**'} |`);
  }
  return { rows, pass: passed };
}

async function runEngine(name: EngineName, subset: Subset) {
  const started = performance.now();
  const engine = await startEngine(name, config.workers);
  try {
    const model = engine.model;
    const threshold = config.threshold ?? model.defaultThreshold;
    const lanes = Math.max(4, 3 * (config.workers ?? 2));
    const embeddings = await embedSubset(engine, subset.photos, lanes);
    const results: Record<Variant, VariantResult> = {
      colour: evaluate(subset, embeddings.colour, model, threshold),
      grayscale: evaluate(subset, embeddings.grayscale, model, threshold),
    };
    const both = (f: (v: VariantResult) => number): string => `${pct(f(results.colour))} / ${pct(f(results.grayscale))}`;
    process.stderr.write(
      `${name}: pairs at ${threshold} colour ${pct(results.colour.atDefault.accuracy)} / gray ${pct(results.grayscale.atDefault.accuracy)}; ` +
        `10-fold ${both((v) => v.tenFold.meanAccuracy)}; rank-1 ${both((v) => v.rank1.rate)}; detection ${both((v) => v.detectionRate)}\n`,
    );
    const emotions = await emotionBench(engine, limitPeople, lanes);

    // identify's default threshold is the one at a per-pair FAR of IDENTIFY_DEFAULT_FAR in the calibration the engine ships.
    const calibration = config.threshold === undefined ? engine.calibration : undefined;
    const identifyThreshold = calibration ? thresholdForFar(calibration, IDENTIFY_DEFAULT_FAR, calibrationKey(model)) : threshold;
    if (config.threshold === undefined && !calibration) {
      process.stderr.write(`${name}: no shipped calibration; the test-images table uses the default threshold\n`);
    }
    const table = await testImagesTable(engine, results.colour.index, subset.people, identifyThreshold);
    const minutes = (performance.now() - started) / 60000;
    // shipped: the calibration the engine ships (identify's threshold and the confidence).
    return { name, model, threshold, minutes, results, emotions, identifyThreshold, table, shipped: engine.calibration };
  } finally {
    await engine.close();
  }
}
type EngineReport = Awaited<ReturnType<typeof runEngine>>;

function engineSection(r: EngineReport, subset: Subset): string[] {
  const { model, shipped, results, emotions } = r;
  const { colour: c, grayscale: g } = results;
  const measured = c.measured;
  const head = (firstCell: string): string[] => [`${firstCell} colour | grayscale |`, '| --- | --- | --- |'];
  const row = (label: string, f: (v: VariantResult) => string): string => `| ${label} | ${f(c)} | ${f(g)} |`;
  const operatingCell = (v: VariantResult, target: number): string => {
    const p = operatingPoint(v.measured, target);
    return p ? `${p.threshold} | ${sci(p.far)} | ${pct(p.frr)}` : 'not measurable | | ';
  };
  const emotionRows = EMOTIONS.flatMap((e) => {
    const all = emotions.all.perClass[e];
    if (!all) return [];
    const halves = HALVES.map((h) => emotions[h].perClass[e]).map((half) => (half ? pct1(half.recall) : '-'));
    const confused = Object.entries(all.confusedAs).sort(([, x], [, y]) => y - x).slice(0, 2).map(([k, n]) => `${k} ${n}`);
    return [`| ${e}${e === 'disgust' ? ' (training split, apart)' : ''} | ${all.total} | ${all.noFace} | ${pct1(all.recall)} | ${halves.join(' | ')} | ${confused.join(', ')} |`];
  });
  const key = calibrationKey(model);
  const calibrationPath = `src/engine/${r.name}/calibration.ts`;
  const confidenceAt = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3].filter((d) => shipped && d <= shipped.roc.at(-1)!.threshold);
  return [
    `## ${r.name}: ${key} (${r.minutes.toFixed(1)} min)`,
    '',
    '### (a) Pair verification',
    `${subset.official} official LFW pairs fall inside the subset (${subset.matched} matched, ${subset.mismatched} mismatched);`,
    `${subset.extra} extra mismatched pairs were drawn deterministically from the subset (seed 2026) so both classes`,
    `have ${subset.matched} pairs: ${subset.pairs.length} pairs in all. A photo with no face found makes its pair "different".`,
    '',
    ...head('| measure |'),
    row(`accuracy at the default threshold ${r.threshold}`, (v) => `${pct(v.atDefault.accuracy)} (FAR ${pct(v.atDefault.falseAcceptRate)}, FRR ${pct(v.atDefault.falseRejectRate)})`),
    row('best threshold on all pairs', (v) => `${v.best.threshold.toFixed(3)} → ${pct(v.best.accuracy)}`),
    row('10-fold cross-validated accuracy (LFW protocol)', (v) => `${pct(v.tenFold.meanAccuracy)} ± ${pct(v.tenFold.stdAccuracy)}`),
    row('10-fold thresholds (min–max)', (v) => {
      const ts = v.tenFold.folds.map((f) => f.threshold);
      return ts.length ? `${Math.min(...ts).toFixed(3)}–${Math.max(...ts).toFixed(3)}` : '-';
    }),
    row('pairs with both faces found', (v) => `${v.bothFound}/${subset.pairs.length}`),
    '',
    '### (b) Rank-1 identification',
    'Each photo (with a face found) of a person with ≥ 2 such photos, searched against all other photos of the same variant.',
    '',
    ...head('| |'),
    row('rank-1', (v) => `**${pct(v.rank1.rate)}** (${v.rank1.correct}/${v.rank1.probes})`),
    '',
    `Colour misses: ${c.rank1.misses.slice(0, 20).join('; ') || 'none'}${c.rank1.misses.length > 20 ? ' …' : ''}`,
    '',
    '### (c) Detection',
    '',
    ...head('| |'),
    row('faces found', (v) => `**${pct(v.detectionRate)}** (${v.detected}/${subset.photos.length})`),
    '',
    `No face (colour): ${c.noFace.join(', ') || 'none'}`,
    `No face (grayscale): ${g.noFace.join(', ') || 'none'}`,
    '',
    '### (d) Every pair: FAR/FRR, ROC, the shipped confidence',
    `Every pair of the colour photos with a face: ${measured.pairs.same} same-person and ${measured.pairs.different} different-person pairs`,
    `(FAR resolution ${sci(measured.minFar)}); grayscale: ${g.measured.pairs.same} and ${g.measured.pairs.different}.`,
    '',
    `At the default threshold **${model.defaultThreshold}** (colour): **FAR ${sci(measured.far)}** (${Math.round(measured.far * measured.pairs.different)} of ${measured.pairs.different} different-person pairs accepted), **FRR ${pct(measured.frr)}** (${Math.round(measured.frr * measured.pairs.same)} of ${measured.pairs.same} same-person pairs rejected).`,
    '',
    '| target per-pair FAR | colour threshold | measured FAR | false rejects | grayscale threshold | measured FAR | false rejects |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...FAR_TARGETS.map((target) => `| ${sci(target)} | ${operatingCell(c, target)} | ${operatingCell(g, target)} |`),
    '',
    shipped
      ? `Confidence P(same | distance d) = 1 / (1 + exp(−(${shipped.logistic.a} + ${shipped.logistic.b}·d))), as ${calibrationPath} ships it for ${key} (${shipped.source}; refit: \`npm run research:calibrate -- --engine ${r.name}\`):`
      : `${calibrationPath} has no calibration for ${key}: no confidence (fit one with \`npm run research:calibrate -- --engine ${r.name}\`).`,
    confidenceAt.map((d) => `d ${d} → ${pct1(confidence(shipped, d) ?? 0)}`).join(' · '),
    `ROC curve: bench/out/roc-${r.name}.svg.`,
    '',
    '### (e) Emotion on emotion-fer (48×48 grayscale crops; largest face of each photo)',
    `Six PublicTest classes: accuracy **${pct1(emotions.all.publicAccuracy)}** on the ${emotions.all.publicTotal - emotions.all.publicNoFace} photos with a face found` +
      ` (half A **${pct1(emotions.A.publicAccuracy)}**, half B **${pct1(emotions.B.publicAccuracy)}**); ${pct1(emotions.all.publicAccuracyAll)} counting the ${emotions.all.publicNoFace} no-face photos as wrong.`,
    'Halves: even / odd index of the sorted file names within each class. Disgust comes from FER-2013 training photos: reported apart, not in the accuracy.',
    '',
    '| class | photos | no face | recall (face found) | half A | half B | most confused with |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...emotionRows,
    '',
    `### (f) Test images against the whole subset (${r.table.pass}/${EXPECTATIONS.length} as expected at identify's threshold ${r.identifyThreshold}, per-pair FAR ${IDENTIFY_DEFAULT_FAR} in the shipped calibration, which gives the confidence too)`,
    '| file | decoded as | expected | faces | answer (distance, confidence) | ok |',
    '| --- | --- | --- | --- | --- | --- |',
    ...r.table.rows,
    '',
    `(${subset.photos.length} subset photos.)`,
    '',
  ];
}

const halfFrr = ({ frr, threshold }: FarPoint): string => (frr === null || threshold === null ? 'not measurable' : `${pct(frr)} (at ${threshold.toFixed(3)})`);
const halfRank1 = (h: { correct: number; probes: number }): string => `${pct(h.correct / Math.max(1, h.probes))} (${h.correct}/${h.probes})`;

function summary(reports: readonly EngineReport[]): string[] {
  const cell = (f: (r: EngineReport) => string): string => reports.map(f).join(' | ');
  /** "colour / grayscale" of one measure. */
  const both = (f: (v: VariantResult) => string) => (r: EngineReport): string => VARIANTS.map((v) => f(r.results[v])).join(' / ');
  const frr = (v: VariantResult): string => {
    const p = operatingPoint(v.measured, IDENTIFY_DEFAULT_FAR);
    return p ? `${pct(p.frr)} (at ${p.threshold})` : 'not measurable';
  };
  const halves = (f: (r: EngineReport, h: Half) => string) => (r: EngineReport): string => HALVES.map((h) => f(r, h)).join(' / ');
  return [
    `| measure | ${reports.map((r) => `${r.name} (${calibrationKey(r.model)})`).join(' | ')} |`,
    `| --- | ${reports.map(() => '---').join(' | ')} |`,
    `| faces found, colour / grayscale | ${cell(both((v) => pct(v.detectionRate)))} |`,
    `| false rejects at per-pair FAR ${IDENTIFY_DEFAULT_FAR}, colour | ${cell((r) => frr(r.results.colour))} |`,
    `| false rejects at per-pair FAR ${IDENTIFY_DEFAULT_FAR}, grayscale | ${cell((r) => frr(r.results.grayscale))} |`,
    `| rank-1, colour / grayscale | ${cell(both((v) => pct(v.rank1.rate)))} |`,
    `| half A / half B of the people, colour: false rejects at FAR ${IDENTIFY_DEFAULT_FAR} (within the half) | ${cell(halves((r, h) => halfFrr(r.results.colour.frrByHalf[h])))} |`,
    `| half A / half B of the people, grayscale: false rejects at FAR ${IDENTIFY_DEFAULT_FAR} (within the half) | ${cell(halves((r, h) => halfFrr(r.results.grayscale.frrByHalf[h])))} |`,
    `| half A / half B of the people: rank-1, colour | ${cell(halves((r, h) => halfRank1(r.results.colour.rank1Halves[h])))} |`,
    `| pairs 10-fold, colour / grayscale | ${cell(both((v) => pct(v.tenFold.meanAccuracy)))} |`,
    `| best 1:1 threshold on the pairs (colour) | ${cell((r) => `${r.results.colour.best.threshold.toFixed(3)} (model default ${r.model.defaultThreshold})`)} |`,
    `| test-images table at identify's threshold | ${cell((r) => `${r.table.pass}/${EXPECTATIONS.length} (threshold ${r.identifyThreshold})`)} |`,
    `| emotion, six PublicTest classes: all / half A / half B | ${cell((r) => (['all', ...HALVES] as const).map((k) => pct1(r.emotions[k].publicAccuracy)).join(' / '))} |`,
    `| emotion, disgust (training split, apart) | ${cell((r) => (r.emotions.all.perClass.disgust ? pct1(r.emotions.all.perClass.disgust.recall) : '-'))} |`,
    `| minutes | ${cell((r) => r.minutes.toFixed(1))} |`,
  ];
}

/** An engine's part of accuracy.json: the numbers of accuracy.md unrounded, with every fold and every confusion. */
function engineJson(r: EngineReport, subset: Subset): object {
  const variant = ({ detectionRate, atDefault, best, tenFold, rank1, measured }: VariantResult): object => ({
    detectionRate,
    pairs: { official: subset.official, extra: subset.extra, atDefault, best, tenFold },
    rank1: { correct: rank1.correct, probes: rank1.probes, rate: rank1.rate },
    falseRejectsAt: Object.fromEntries(FAR_TARGETS.map((t) => [t, operatingPoint(measured, t) ?? null])),
  });
  return {
    engine: r.name,
    model: r.model,
    minutes: r.minutes,
    variants: { colour: variant(r.results.colour), grayscale: variant(r.results.grayscale) },
    allPairs: { ...r.results.colour.measured, roc: undefined },
    emotion: r.emotions,
    testImages: { pass: r.table.pass, total: EXPECTATIONS.length, identifyThreshold: r.identifyThreshold },
  };
}

async function main(): Promise<void> {
  const subset = await loadSubset();
  const reports: EngineReport[] = [];
  for (const name of engines) {
    const report = await runEngine(name, subset);
    reports.push(report);
    await writeReport(`roc-${name}.svg`, rocSvg(calibrationKey(report.model), report.results.colour.measured));
  }

  const text = [
    `# facedb accuracy on ../shared/data (${reports.map((r) => `${r.name}: ${calibrationKey(r.model)}`).join(', ')}; detection score ≥ ${config.minDetectionScore})`,
    '',
    limitPeople === undefined ? '' : `**Quick run: first ${subset.people.length} people of the subset and ${limitPeople} photos per emotion class only.**\n`,
    `${subset.photos.length} subset photos, each analysed in colour and as a grayscale copy (sharp: grayscale, re-encoded JPEG q92), by each engine.`,
    '',
    ...summary(reports),
    '',
    ...reports.flatMap((r) => engineSection(r, subset)),
  ].join('\n');
  process.stdout.write(text);
  await writeReport('accuracy.md', text);
  await writeReport('accuracy.json', JSON.stringify({ limitPeople: limitPeople ?? null, engines: reports.map((r) => engineJson(r, subset)) }, null, 2));
}

await main();
