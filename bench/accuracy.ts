/**
 * npm run bench:accuracy — recognition quality on ../shared/data:
 *  (a) pair verification: the official LFW pairs inside the subset + deterministic extra mismatched pairs,
 *      at the model's default threshold, at the best threshold, and 10-fold cross-validated (LFW protocol);
 *  (b) rank-1 identification, each photo of a person with ≥ 2 photos searched against all other photos;
 *  (c) detection rate on the subset;
 *  (d) the prototype's test-images table.
 * Writes bench/out/accuracy.md and accuracy.json.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { bestThreshold, crossValidate, statsAt, type ScoredPair } from '../src/core/calibration.js';
import { euclideanDistance } from '../src/core/distance.js';
import { FlatIndex } from '../src/core/flat-index.js';
import type { FaceEngine } from '../src/engine/engine.js';
import { createFaceApiEngine } from '../src/engine/faceapi/engine.js';
import { readImageFile } from '../src/image/decode.js';
import { LFW_SUBSET, REPO_ROOT, SHARED_DATA, TEST_IMAGES } from '../test/fixtures.js';
import { extraMismatchedPairs, officialPairsInSubset } from './lfw.js';

const config = loadConfig({});
const limits = { maxPixels: config.maxPixels, maxFileBytes: config.maxFileBytes };
const detectOptions = {
  minDetectionScore: config.minDetectionScore,
  minFaceSize: config.minFaceSize,
  maxFaces: config.maxFaces,
  withCrop: false,
};

interface PhotoEmbedding {
  path: string;
  person: string;
  embedding: Float32Array | null;
}

async function embedAll(engine: FaceEngine, files: Array<{ path: string; person: string }>): Promise<PhotoEmbedding[]> {
  const results: PhotoEmbedding[] = new Array<PhotoEmbedding>(files.length);
  let next = 0;
  let done = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      const file = files[i];
      if (!file) break;
      const { image } = await readImageFile(file.path, limits);
      const [face] = await engine.analyze(image, detectOptions);
      results[i] = { ...file, embedding: face?.embedding ?? null };
      done += 1;
      if (done % 200 === 0 || done === files.length) {
        const rate = done / ((performance.now() - started) / 1000);
        process.stderr.write(`embedded ${done}/${files.length} (${rate.toFixed(1)} images/s)\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  return results;
}

const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
const displayName = (folder: string): string => folder.replace(/_/g, ' ');

async function main(): Promise<void> {
  const people = (await readdir(LFW_SUBSET)).sort();
  const files: Array<{ path: string; person: string }> = [];
  for (const person of people) {
    for (const file of (await readdir(join(LFW_SUBSET, person))).sort()) {
      files.push({ path: join(LFW_SUBSET, person, file), person });
    }
  }
  const engine = await createFaceApiEngine(config.workers === undefined ? {} : { workers: config.workers });
  const threshold = config.threshold ?? engine.model.defaultThreshold;
  const photos = await embedAll(engine, files);
  const byPath = new Map(photos.map((p) => [p.path, p]));

  // (c) detection rate
  const detected = photos.filter((p) => p.embedding !== null).length;

  // (a) pairs
  const official = await officialPairsInSubset(join(SHARED_DATA, 'lfw-pairs.txt'), LFW_SUBSET, new Set(byPath.keys()));
  const matched = official.filter((p) => p.same).length;
  const mismatched = official.length - matched;
  const byPerson = new Map<string, string[]>();
  for (const f of files) byPerson.set(f.person, [...(byPerson.get(f.person) ?? []), f.path]);
  const extra = extraMismatchedPairs(byPerson, Math.max(0, matched - mismatched), official);
  const scored: ScoredPair[] = [...official, ...extra].map((pair) => {
    const a = byPath.get(pair.a)?.embedding;
    const b = byPath.get(pair.b)?.embedding;
    // A face not found counts as "different": that is what the service would answer.
    const distance = a && b ? euclideanDistance(a, b) : Number.POSITIVE_INFINITY;
    return { distance, same: pair.same, fold: pair.fold };
  });
  const bothFound = scored.filter((p) => Number.isFinite(p.distance));
  const atDefault = statsAt(scored, threshold);
  const best = bestThreshold(scored);
  const tenFold = crossValidate(scored);

  // (b) rank-1, leave-one-out over every photo with a face
  const withFace = photos.filter((p): p is PhotoEmbedding & { embedding: Float32Array } => p.embedding !== null);
  const personIds = new Map(people.map((p, i) => [p, i]));
  const index = new FlatIndex(128);
  withFace.forEach((p, i) => index.add(i, personIds.get(p.person) ?? -1, p.embedding));
  const facesPerPerson = new Map<string, number>();
  for (const p of withFace) facesPerPerson.set(p.person, (facesPerPerson.get(p.person) ?? 0) + 1);
  let probes = 0;
  let rank1 = 0;
  const misses: string[] = [];
  withFace.forEach((p, i) => {
    if ((facesPerPerson.get(p.person) ?? 0) < 2) return;
    index.remove(i);
    const [top] = index.searchPeople(p.embedding, 1);
    index.add(i, personIds.get(p.person) ?? -1, p.embedding);
    probes += 1;
    if (top?.personId === personIds.get(p.person)) rank1 += 1;
    else misses.push(`${basename(p.path)} → ${people[top?.personId ?? -1] ?? '?'}`);
  });
  const photosOfRepeatPeople = files.filter((f) => (byPerson.get(f.person)?.length ?? 0) >= 2).length;

  // (d) the prototype's test images against the whole subset
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
  const tableRows: string[] = [];
  let tablePass = 0;
  for (const [file, expected] of expectations) {
    const { image } = await readImageFile(join(TEST_IMAGES, file), limits);
    const faces = await engine.analyze(image, detectOptions);
    const answers = faces.map((face) => {
      const [top] = index.searchPeople(face.embedding, 1);
      const name = top ? displayName(people[top.personId] ?? '?') : 'unknown';
      return top && top.distance <= threshold
        ? { name, distance: top.distance }
        : { name: 'unknown', distance: top?.distance ?? Number.NaN };
    });
    const names = answers.map((a) => a.name);
    let pass: boolean;
    if (expected === 'no face') pass = faces.length === 0;
    else if (expected.startsWith('every face')) pass = faces.length >= 6 && names.every((n) => n === 'unknown');
    else if (expected.includes('unknown')) pass = names.every((n) => n === 'unknown');
    else pass = names[0] === expected;
    if (pass) tablePass += 1;
    const got = faces.length === 0 ? 'no face' : answers.map((a) => `${a.name} (${a.distance.toFixed(3)})`).join(', ');
    tableRows.push(`| ${file} | ${image.format} | ${expected} | ${faces.length} | ${got} | ${pass ? 'yes' : '**no**'} |`);
  }
  await engine.close();

  const report = [
    `# facedb accuracy on ../shared/data (${engine.model.id}@${engine.model.version}, detection score ≥ ${config.minDetectionScore})`,
    '',
    '## (a) Pair verification',
    `${official.length} official LFW pairs fall inside the subset (${matched} matched, ${mismatched} mismatched);`,
    `${extra.length} extra mismatched pairs were drawn deterministically from the subset (seed 2026) so both classes`,
    `have ${matched} pairs: ${scored.length} pairs in all. A photo with no face found makes its pair "different".`,
    '',
    '| measure | value |',
    '| --- | --- |',
    `| accuracy at the default threshold ${threshold} | ${pct(atDefault.accuracy)} (FAR ${pct(atDefault.falseAcceptRate)}, FRR ${pct(atDefault.falseRejectRate)}) |`,
    `| best threshold on all pairs | ${best.threshold.toFixed(3)} → ${pct(best.accuracy)} (FAR ${pct(best.falseAcceptRate)}, FRR ${pct(best.falseRejectRate)}) |`,
    `| 10-fold cross-validated accuracy (LFW protocol) | ${pct(tenFold.meanAccuracy)} ± ${pct(tenFold.stdAccuracy)} |`,
    `| pairs with both faces found | ${bothFound.length}/${scored.length}; accuracy on them at ${threshold}: ${pct(statsAt(bothFound, threshold).accuracy)} |`,
    '',
    '## (b) Rank-1 identification',
    `Each photo (with a face found) of a person with ≥ 2 such photos, searched against all ${withFace.length - 1} other photos.`,
    `Rank-1: **${pct(rank1 / Math.max(1, probes))}** (${rank1}/${probes}; ${photosOfRepeatPeople} photos belong to people with ≥ 2 photos).`,
    misses.length ? `Misses: ${misses.slice(0, 20).join('; ')}${misses.length > 20 ? ' …' : ''}` : '',
    '',
    '## (c) Detection',
    `Faces found in **${pct(detected / photos.length)}** of the ${photos.length} subset photos.`,
    `No face: ${photos.filter((p) => !p.embedding).map((p) => basename(p.path)).join(', ') || 'none'}`,
    '',
    `## (d) Test images against the whole subset (${tablePass}/${expectations.length} as expected)`,
    '| file | decoded as | expected | faces | answer (distance) | ok |',
    '| --- | --- | --- | --- | --- | --- |',
    ...tableRows,
    '',
  ].join('\n');
  process.stdout.write(report);
  const out = join(REPO_ROOT, 'bench/out');
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'accuracy.md'), report);
  await writeFile(
    join(out, 'accuracy.json'),
    JSON.stringify(
      {
        model: engine.model,
        detectionRate: detected / photos.length,
        pairs: { official: official.length, extra: extra.length, atDefault, best, tenFold },
        rank1: { correct: rank1, probes, rate: rank1 / Math.max(1, probes) },
        testImages: { pass: tablePass, total: expectations.length },
      },
      null,
      2,
    ),
  );
}

await main();
