/**
 * npm run bench:accuracy — recognition quality on ../shared/data, for colour photos and for a grayscale copy
 * of every photo (converted in memory with sharp, re-encoded as JPEG like an uploaded grayscale file):
 *  (a) pair verification: the official LFW pairs inside the subset + deterministic extra mismatched pairs,
 *      at the model's default threshold, at the best threshold, and 10-fold cross-validated (LFW protocol);
 *  (b) rank-1 identification, each photo of a person with ≥ 2 photos searched against all other photos;
 *  (c) detection rate on the subset;
 *  (d) calibration (colour): every same-person and different-person pair of the subset → FAR/FRR at the
 *      default threshold, a logistic P(same | distance), the ROC (bench/out/roc.svg);
 *  (e) emotion recall per class on emotion-fer (six PublicTest classes; disgust, from the training split, apart);
 *  (f) the prototype's test-images table.
 * Writes bench/out/accuracy.md, accuracy.json and roc.svg.
 *
 * Options: --limit-people N (first N people of the subset, and N photos per emotion class: a quick run),
 *          --write-calibration (rewrite src/core/model-calibration.ts for the engine's model; full runs only).
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../src/config/config.js';
import { bestThreshold, crossValidate, statsAt, type ScoredPair } from '../src/core/calibration.js';
import { calibrationFor, confidence, thresholdForFar, type ModelCalibration } from '../src/core/confidence.js';
import { IDENTIFY_DEFAULT_FAR } from '../src/services/face-service.js';
import { euclideanDistance } from '../src/core/distance.js';
import { FlatIndex } from '../src/core/flat-index.js';
import { EMOTIONS, type Emotion } from '../src/core/types.js';
import type { FaceAnalysis, FaceEngine } from '../src/engine/engine.js';
import { createFaceApiEngine } from '../src/engine/faceapi/engine.js';
import { decodeImage, readImageBytes, readImageFile } from '../src/image/decode.js';
import { EMOTION_FER, LFW_SUBSET, REPO_ROOT, SHARED_DATA, TEST_IMAGES } from '../test/fixtures.js';
import { allPairDistances, fitCalibration, writeCalibrationTable } from './calibrate.js';
import { extraMismatchedPairs, officialPairsInSubset, type LfwPair } from './lfw.js';
import { calibrationRocSvg, writeRocFiles } from './roc-plot.js';

const { values: args } = parseArgs({
  options: {
    'limit-people': { type: 'string' },
    'write-calibration': { type: 'boolean', default: false },
  },
});
const limitPeople = args['limit-people'] === undefined ? undefined : Number(args['limit-people']);
if (limitPeople !== undefined && !(Number.isInteger(limitPeople) && limitPeople > 0)) {
  throw new Error('--limit-people needs a positive whole number');
}
if (limitPeople !== undefined && args['write-calibration']) {
  throw new Error('--write-calibration needs the whole subset: drop --limit-people');
}

const config = loadConfig({});
const limits = { maxPixels: config.maxPixels, maxFileBytes: config.maxFileBytes };
const detectOptions = {
  minDetectionScore: config.minDetectionScore,
  minFaceSize: config.minFaceSize,
  maxFaces: config.maxFaces,
  withCrop: false,
};
const VARIANTS = ['colour', 'grayscale'] as const;
type Variant = (typeof VARIANTS)[number];

interface Photo {
  path: string;
  person: string;
}
type Embeddings = Record<Variant, Array<Float32Array | null>>;

/** Runs `work` over `count` items with enough lanes in flight to keep every engine worker busy. */
async function inLanes(count: number, lanes: number, label: string, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let done = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await work(i);
      done += 1;
      if (done % 100 === 0 || done === count) {
        const rate = done / ((performance.now() - started) / 1000);
        process.stderr.write(`${label} ${done}/${count} (${rate.toFixed(1)} items/s)\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

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
    const [c, g] = await Promise.all([engine.analyze(colour, detectOptions), engine.analyze(gray, detectOptions)]);
    out.colour[i] = c[0]?.embedding ?? null;
    out.grayscale[i] = g[0]?.embedding ?? null;
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
}

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
  for (const f of withFace) {
    if ((facesPerPerson.get(f.photo.person) ?? 0) < 2) continue;
    index.remove(f.i);
    const [top] = index.searchPeople(f.embedding, 1);
    index.add(f.i, personIds.get(f.photo.person) ?? -1, f.embedding);
    probes += 1;
    if (top?.personId === personIds.get(f.photo.person)) correct += 1;
    else misses.push(`${basename(f.photo.path)} → ${people[top?.personId ?? -1] ?? '?'}`);
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
  let best: Emotion = 'neutral';
  for (const e of EMOTIONS) if (face.emotion[e] > face.emotion[best]) best = e;
  return best;
}

async function emotionBench(engine: FaceEngine, perClassLimit: number | undefined, lanes: number): Promise<EmotionRun> {
  const labels = (await readdir(EMOTION_FER)).filter((l) => (EMOTIONS as readonly string[]).includes(l)).sort();
  const items: Array<{ label: Emotion; path: string }> = [];
  for (const label of labels) {
    const files = (await readdir(join(EMOTION_FER, label))).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
    for (const file of files.slice(0, perClassLimit)) items.push({ label: label as Emotion, path: join(EMOTION_FER, label, file) });
  }
  const predicted = new Array<Emotion | null>(items.length).fill(null);
  await inLanes(items.length, lanes, 'emotion-fer photos', async (i) => {
    const item = items[i];
    if (!item) return;
    const { image } = await readImageFile(item.path, limits);
    const [largest] = await engine.analyze(image, detectOptions); // faces come largest first
    predicted[i] = largest ? dominant(largest) : null;
  });
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

const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
const pct1 = (x: number): string => `${(100 * x).toFixed(1)} %`;
const displayName = (folder: string): string => folder.replace(/_/g, ' ');
const sci = (x: number): string => (x === 0 ? '0' : x < 0.01 ? x.toExponential(1) : pct(x));

async function main(): Promise<void> {
  const started = performance.now();
  const allPeople = (await readdir(LFW_SUBSET)).sort();
  const people = limitPeople === undefined ? allPeople : allPeople.slice(0, limitPeople);
  const photos: Photo[] = [];
  for (const person of people) {
    for (const file of (await readdir(join(LFW_SUBSET, person))).sort()) photos.push({ path: join(LFW_SUBSET, person, file), person });
  }
  const engine = await createFaceApiEngine(config.workers === undefined ? {} : { workers: config.workers });
  const model = engine.model;
  const threshold = config.threshold ?? model.defaultThreshold;
  const lanes = Math.max(4, 3 * (config.workers ?? 2));

  const embeddings = await embedSubset(engine, photos, lanes);

  // Pairs: the same list for both variants (chosen from the files, not from what was detected).
  const present = new Set(photos.map((p) => p.path));
  const official = await officialPairsInSubset(join(SHARED_DATA, 'lfw-pairs.txt'), LFW_SUBSET, present);
  const matched = official.filter((p) => p.same).length;
  const mismatched = official.length - matched;
  const byPerson = new Map<string, string[]>();
  for (const p of photos) byPerson.set(p.person, [...(byPerson.get(p.person) ?? []), p.path]);
  const extra = byPerson.size > 1 ? extraMismatchedPairs(byPerson, Math.max(0, matched - mismatched), official) : [];
  const pairs = [...official, ...extra];
  const results = {
    colour: evaluate(photos, embeddings.colour, pairs, threshold),
    grayscale: evaluate(photos, embeddings.grayscale, pairs, threshold),
  } satisfies Record<Variant, VariantResult>;

  // Calibration from every pair of colour photos with a face.
  const faces = photos.flatMap((p, i) => {
    const embedding = embeddings.colour[i];
    return embedding ? [{ person: p.person, embedding }] : [];
  });
  const allPairs = allPairDistances(faces);
  const subsetName = limitPeople === undefined ? 'lfw-subset' : `lfw-subset (first ${people.length} people)`;
  const calibration: ModelCalibration = fitCalibration(
    allPairs,
    model.defaultThreshold,
    `bench/accuracy.ts: every pair of the ${faces.length} ${subsetName} photos with a face (colour), ${new Date().toISOString().slice(0, 10)}`,
  );
  const tableCalibration = calibrationFor(model);
  const calibrationTablePath = join(REPO_ROOT, 'src/core/model-calibration.ts');
  if (args['write-calibration']) await writeCalibrationTable(calibrationTablePath, model, calibration);
  process.stderr.write(
    `subset done: pairs at ${threshold} colour ${pct(results.colour.atDefault.accuracy)} / gray ${pct(results.grayscale.atDefault.accuracy)}; ` +
      `10-fold ${pct(results.colour.tenFold.meanAccuracy)} / ${pct(results.grayscale.tenFold.meanAccuracy)}; ` +
      `rank-1 ${pct(results.colour.rank1.rate)} / ${pct(results.grayscale.rank1.rate)}; ` +
      `detection ${pct(results.colour.detected / Math.max(1, photos.length))} / ${pct(results.grayscale.detected / Math.max(1, photos.length))}; ` +
      `all-pairs FAR ${sci(calibration.far)} FRR ${pct(calibration.frr)} (${allPairs.same.length}/${allPairs.different.length}); ` +
      `logistic a ${calibration.logistic.a} b ${calibration.logistic.b}\n`,
  );

  // Emotion on FER crops.
  const emotions = await emotionBench(engine, limitPeople, lanes);

  // The prototype's test images against the whole (limited) subset.
  const index = new FlatIndex(model.dimensions);
  const personIds = new Map(people.map((p, i) => [p, i]));
  photos.forEach((p, i) => {
    const e = embeddings.colour[i];
    if (e) index.add(i, personIds.get(p.person) ?? -1, e);
  });
  const expectations: Array<[string, string]> = [
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
  // As `facedb identify` answers: its default threshold is the one at a per-pair FAR of IDENTIFY_DEFAULT_FAR, here
  // looked up in this run's calibration.
  const identifyThreshold =
    config.threshold ?? thresholdForFar(model, IDENTIFY_DEFAULT_FAR, { [`${model.id}@${model.version}`]: calibration });
  const tableRows: string[] = [];
  let tablePass = 0;
  for (const [file, expected] of expectations) {
    const { image } = await readImageFile(join(TEST_IMAGES, file), limits);
    const format = image.format;
    const found = await engine.analyze(image, detectOptions);
    const answers = found.map((face) => {
      const [top] = index.searchPeople(face.embedding, 1);
      const name = top ? displayName(people[top.personId] ?? '?') : 'unknown';
      const distance = top?.distance ?? Number.NaN;
      return { name: top && top.distance <= identifyThreshold ? name : 'unknown', nearest: name, distance, confidence: confidence(calibration, distance) };
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
  await engine.close();

  // ROC plot.
  const out = join(REPO_ROOT, 'bench/out');
  await mkdir(out, { recursive: true });
  await writeRocFiles(calibrationRocSvg(`${model.id}@${model.version}`, calibration), out);

  const c = results.colour;
  const g = results.grayscale;
  const row = (label: string, f: (r: VariantResult) => string): string => `| ${label} | ${f(c)} | ${f(g)} |`;
  const farTargets = [1e-4, 1e-3, 1e-2];
  const operatingRows = farTargets.map((target) => {
    const point = [...calibration.roc].reverse().find((p) => p.far <= target);
    return target < calibration.minFar || !point
      ? `| ${sci(target)} | not measurable (${allPairs.different.length} different-person pairs) | | |`
      : `| ${sci(target)} | ${point.threshold} | ${sci(point.far)} | ${pct(1 - point.tar)} |`;
  });
  const emotionRows = EMOTIONS.filter((e) => emotions.perClass[e]).map((e) => {
    const r = emotions.perClass[e];
    if (!r) return '';
    const confused = Object.entries(r.confusedAs)
      .sort(([, x], [, y]) => y - x)
      .slice(0, 2)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    return `| ${e}${e === 'disgust' ? ' (training split, apart)' : ''} | ${r.total} | ${r.noFace} | ${pct1(r.recall)} | ${pct1(r.recallAll)} | ${confused} |`;
  });
  const minutes = (performance.now() - started) / 60000;

  const report = [
    `# facedb accuracy on ../shared/data (${model.id}@${model.version}, detection score ≥ ${config.minDetectionScore})`,
    '',
    limitPeople === undefined ? '' : `**Quick run: first ${people.length} people of the subset and ${limitPeople} photos per emotion class only.**\n`,
    `${photos.length} subset photos, each analysed in colour and as a grayscale copy (sharp: grayscale, re-encoded JPEG q92); ${minutes.toFixed(1)} min in all.`,
    '',
    '## (a) Pair verification',
    `${official.length} official LFW pairs fall inside the subset (${matched} matched, ${mismatched} mismatched);`,
    `${extra.length} extra mismatched pairs were drawn deterministically from the subset (seed 2026) so both classes`,
    `have ${matched} pairs: ${pairs.length} pairs in all. A photo with no face found makes its pair "different".`,
    '',
    '| measure | colour | grayscale |',
    '| --- | --- | --- |',
    row(`accuracy at the default threshold ${threshold}`, (r) => `${pct(r.atDefault.accuracy)} (FAR ${pct(r.atDefault.falseAcceptRate)}, FRR ${pct(r.atDefault.falseRejectRate)})`),
    row('best threshold on all pairs', (r) => `${r.best.threshold.toFixed(3)} → ${pct(r.best.accuracy)}`),
    row('10-fold cross-validated accuracy (LFW protocol)', (r) => `${pct(r.tenFold.meanAccuracy)} ± ${pct(r.tenFold.stdAccuracy)}`),
    row('10-fold thresholds (min–max)', (r) => {
      const ts = r.tenFold.folds.map((f) => f.threshold);
      return ts.length ? `${Math.min(...ts).toFixed(3)}–${Math.max(...ts).toFixed(3)}` : '-';
    }),
    row('pairs with both faces found', (r) => `${r.bothFound}/${r.scored.length}`),
    '',
    '## (b) Rank-1 identification',
    'Each photo (with a face found) of a person with ≥ 2 such photos, searched against all other photos of the same variant.',
    '',
    '| | colour | grayscale |',
    '| --- | --- | --- |',
    row('rank-1', (r) => `**${pct(r.rank1.rate)}** (${r.rank1.correct}/${r.rank1.probes})`),
    '',
    `Colour misses: ${c.rank1.misses.slice(0, 20).join('; ') || 'none'}${c.rank1.misses.length > 20 ? ' …' : ''}`,
    '',
    '## (c) Detection',
    '',
    '| | colour | grayscale |',
    '| --- | --- | --- |',
    row('faces found', (r) => `**${pct(r.detected / Math.max(1, r.photos))}** (${r.detected}/${r.photos})`),
    '',
    `No face (colour): ${c.noFace.join(', ') || 'none'}`,
    `No face (grayscale): ${g.noFace.join(', ') || 'none'}`,
    '',
    '## (d) Calibration: FAR/FRR, confidence, ROC',
    `Every pair of the ${faces.length} colour photos with a face: ${allPairs.same.length} same-person and ${allPairs.different.length} different-person pairs`,
    `(FAR resolution ${sci(calibration.minFar)}).`,
    '',
    `At the default threshold **${model.defaultThreshold}**: **FAR ${sci(calibration.far)}** (${Math.round(calibration.far * allPairs.different.length)} of ${allPairs.different.length} different-person pairs accepted), **FRR ${pct(calibration.frr)}** (${Math.round(calibration.frr * allPairs.same.length)} of ${allPairs.same.length} same-person pairs rejected).`,
    '',
    '| target FAR | threshold | measured FAR | FRR |',
    '| --- | --- | --- | --- |',
    ...operatingRows,
    '',
    `Confidence P(same | distance d) = 1 / (1 + exp(−(${calibration.logistic.a} + ${calibration.logistic.b}·d))), fitted with both classes weighted equally:`,
    [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8].map((d) => `d ${d} → ${pct1(confidence(calibration, d) ?? 0)}`).join(' · '),
    '',
    args['write-calibration']
      ? `Written to src/core/model-calibration.ts as ${model.id}@${model.version}.`
      : tableCalibration
        ? `The table in src/core/model-calibration.ts has ${model.id}@${model.version} (a ${tableCalibration.logistic.a}, b ${tableCalibration.logistic.b}); not rewritten (--write-calibration).`
        : `src/core/model-calibration.ts has no entry for ${model.id}@${model.version}: run with --write-calibration.`,
    'ROC curve: bench/out/roc.svg.',
    '',
    '## (e) Emotion on emotion-fer (48×48 grayscale crops; largest face of each photo)',
    `Six PublicTest classes: accuracy **${pct1(emotions.publicAccuracy)}** on the ${emotions.publicTotal - emotions.publicNoFace} photos with a face found; ${pct1(emotions.publicAccuracyAll)} counting the ${emotions.publicNoFace} no-face photos as wrong.`,
    'Disgust comes from FER-2013 training photos: reported apart, not in the accuracy.',
    '',
    '| class | photos | no face | recall (face found) | recall (all) | most confused with |',
    '| --- | --- | --- | --- | --- | --- |',
    ...emotionRows,
    '',
    `## (f) Test images against the whole subset (${tablePass}/${expectations.length} as expected at identify's threshold ${identifyThreshold}, per-pair FAR ${IDENTIFY_DEFAULT_FAR}; confidence from this run's fit)`,
    '| file | decoded as | expected | faces | answer (distance, confidence) | ok |',
    '| --- | --- | --- | --- | --- | --- |',
    ...tableRows,
    '',
  ].join('\n');
  process.stdout.write(report);
  await writeFile(join(out, 'accuracy.md'), report);
  await writeFile(
    join(out, 'accuracy.json'),
    JSON.stringify(
      {
        model,
        limitPeople: limitPeople ?? null,
        minutes,
        variants: Object.fromEntries(
          VARIANTS.map((v) => {
            const r = results[v];
            return [
              v,
              {
                detectionRate: r.detected / Math.max(1, r.photos),
                pairs: { official: official.length, extra: extra.length, atDefault: r.atDefault, best: r.best, tenFold: r.tenFold },
                rank1: { correct: r.rank1.correct, probes: r.rank1.probes, rate: r.rank1.rate },
              },
            ];
          }),
        ),
        calibration: { ...calibration, roc: undefined },
        emotion: emotions,
        testImages: { pass: tablePass, total: expectations.length },
      },
      null,
      2,
    ),
  );
}

await main();
