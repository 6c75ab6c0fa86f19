/**
 * bench:evaluate's planted errors (research/evaluate-rules.ts uses them too): a copy of ../shared/data/lfw-subset
 * (symbolic links) in a temp folder, with planted errors in each half of the people (half A: even index of the
 * sorted names, half B: odd, as bench/accuracy.ts splits them):
 * - mislabels: a photo of a person with ≥ 2 photos moved into another person's folder of the same half;
 * - identical duplicates: a photo linked a second time under another name in its own folder;
 * - near-duplicates: a photo re-encoded (sharp: 92 % size, JPEG quality 75) into its own folder.
 * Choices are seeded (2026), so every run plants the same. The folder is embedded once, as `facedb evaluate` does
 * (library calls); a mislabel rule and a near-duplicate ratio are then scored per half: planted errors found, and
 * false alarms (flagged, not planted).
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { openFacedb } from '../src/facedb.js';
import { embedPhotos } from '../src/services/evaluation/embed.js';
import { labelledPhotos } from '../src/services/evaluation/folder.js';
import { faceRows, pairPassNear } from '../src/services/evaluation/pairs.js';
import { duplicates, isMislabel, type MislabelRule, type ProblemContext } from '../src/services/evaluation/problems.js';
import type { Duplicate } from '../src/services/evaluation/types.js';
import type { FaceEngine } from '../src/engine/engine.js';
import type { LabelledImagePath } from '../src/image/scan.js';
import type { FaceService } from '../src/services/face-service.js';
import { LFW_SUBSET, seededRandom } from '../test/fixtures.js';
import { lfwPeople } from './common.js';

export const PLANTS = { mislabels: 20, identical: 10, near: 10 };
export type Half = 'A' | 'B';
export type HalfScores = Record<Half, { found: number; alarms: number }>;

interface Planted {
  mislabels: Map<string, Half>; // planted path → half
  identical: Array<{ a: string; b: string; half: Half }>;
  near: Array<{ a: string; b: string; half: Half }>;
}

async function plantedCopy(root: string, limitPeople: number | undefined): Promise<{ planted: Planted; halfOf: Map<string, Half> }> {
  const listed = await lfwPeople(limitPeople);
  const people = listed.map((p) => p.person);
  const halfOf = new Map<string, Half>(people.map((p, i) => [p.replace(/_+/g, ' '), i % 2 === 0 ? 'A' : 'B']));
  const files = new Map(listed.map((p) => [p.person, p.files]));
  const random = seededRandom(2026);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const moved = new Map<string, string>(); // source file → target person
  const planted: Planted = { mislabels: new Map(), identical: [], near: [] };
  for (const half of ['A', 'B'] as Half[]) {
    const inHalf = people.filter((_, i) => (i % 2 === 0) === (half === 'A'));
    const sources = inHalf.filter((p) => (files.get(p)?.length ?? 0) >= 3);
    if (sources.length < PLANTS.mislabels) throw new Error(`half ${half} has ${sources.length} people with 3 photos or more: too few to plant ${PLANTS.mislabels} mislabels (use more people)`);
    let made = 0;
    while (made < PLANTS.mislabels) {
      const from = pick(sources);
      const to = pick(inHalf.filter((p) => p !== from && (files.get(p)?.length ?? 0) >= 2));
      const file = pick(files.get(from) ?? []);
      if (moved.has(`${from}/${file}`) || [...moved.keys()].some((k) => k.startsWith(`${from}/`))) continue;
      moved.set(`${from}/${file}`, to);
      planted.mislabels.set(join(root, to, `planted_${file}`), half);
      made += 1;
    }
  }
  for (const person of people) await mkdir(join(root, person));
  for (const person of people) {
    for (const file of files.get(person) ?? []) {
      const target = moved.get(`${person}/${file}`);
      await symlink(join(LFW_SUBSET, person, file), target ? join(root, target, `planted_${file}`) : join(root, person, file));
    }
  }
  for (const half of ['A', 'B'] as Half[]) {
    const inHalf = people.filter((p, i) => (i % 2 === 0) === (half === 'A') && ![...moved.keys()].some((k) => k.startsWith(`${p}/`)));
    for (let k = 0; k < PLANTS.identical + PLANTS.near; k++) {
      const person = pick(inHalf);
      const file = pick(files.get(person) ?? []);
      const a = join(root, person, file);
      if (k < PLANTS.identical) {
        const b = join(root, person, `copy_${k}_${file}`);
        await symlink(join(LFW_SUBSET, person, file), b);
        planted.identical.push({ a, b, half });
      } else {
        const b = join(root, person, `reencoded_${k}_${file}`);
        const source = sharp(join(LFW_SUBSET, person, file));
        const { width = 250 } = await source.metadata();
        await writeFile(b, await source.resize(Math.round(width * 0.92)).jpeg({ quality: 75 }).toBuffer());
        planted.near.push({ a, b, half });
      }
    }
  }
  return { planted, halfOf };
}

const pairKey = (a: string, b: string): string => [a, b].sort().join('\n');

export interface PlantedRun {
  service: FaceService;
  engine: FaceEngine;
  items: LabelledImagePath[];
  embedSeconds: number;
  /** Peak RSS right after embedding, in bytes. */
  embedRss: number;
  ctx: ProblemContext;
  medianGenuine: number;
  /** Planted mislabels `rule` flags per half, and false alarms. */
  mislabelScores(rule: MislabelRule): HalfScores;
  /** Planted re-encoded copies found per half at `ratio` (false alarms: other near pairs), identical copies found, near pairs not planted. */
  nearScores(ratio: number): { near: HalfScores; identical: Record<Half, number>; unplanted: Duplicate[] };
}

/**
 * Plants the errors, embeds the folder with `engine` and runs `use` on the result: the problem context (near pairs
 * kept up to `nearRatio` × the median same-person distance) and the scorers of a mislabel rule and of a
 * near-duplicate ratio. The temp folder and the service are gone afterwards.
 */
export async function withPlantedFolder<T>(engineName: string, limitPeople: number | undefined, nearRatio: number, use: (run: PlantedRun) => T | Promise<T>): Promise<T> {
  const root = await mkdtemp(join(tmpdir(), 'facedb-bench-evaluate-'));
  const { planted, halfOf } = await plantedCopy(root, limitPeople);
  const service = await openFacedb({ db: ':memory:', engine: engineName });
  try {
    const items = await labelledPhotos(root);
    const started = performance.now();
    const embedded = await embedPhotos(service, items, {
      onPhoto: (_, done, total) => {
        if (done % 200 === 0 || done === total) process.stderr.write(`embedded ${done}/${total}\n`);
      },
    });
    const embedSeconds = (performance.now() - started) / 1000;
    const embedRss = process.resourceUsage().maxRSS * 1024;
    const engine = await service.engine();
    const threshold = service.threshold(engine, {}, 'identify');
    const { people, rows } = faceRows(embedded.photos, embedded.embeddings);
    const { pass, medianGenuine } = pairPassNear(rows, nearRatio);
    const ctx: ProblemContext = { photos: embedded.photos, rows, people, pass, threshold };
    const plantedNear = new Set(planted.near.map((p) => pairKey(p.a, p.b)));
    const plantedIdentical = new Set(planted.identical.map((p) => pairKey(p.a, p.b)));
    const mislabelScores = (rule: MislabelRule): HalfScores => {
      const score = { A: { found: 0, alarms: 0 }, B: { found: 0, alarms: 0 } };
      rows.forEach(({ photo }, row) => {
        const { person, path } = embedded.photos[photo]!;
        if (isMislabel(ctx, row, rule)) score[halfOf.get(person) ?? 'A'][planted.mislabels.has(path) ? 'found' : 'alarms'] += 1;
      });
      return score;
    };
    const nearScores = (ratio: number): ReturnType<PlantedRun['nearScores']> => {
      const near = { A: { found: 0, alarms: 0 }, B: { found: 0, alarms: 0 } };
      const identical = { A: 0, B: 0 };
      const unplanted: Duplicate[] = [];
      for (const d of duplicates({ ...ctx, pass: { ...pass, near: pass.near.filter((n) => n.distance <= ratio * medianGenuine) } })) {
        const key = pairKey(d.a.path, d.b.path);
        const half = halfOf.get(d.a.person) ?? 'A';
        if (d.kind === 'identical') {
          if (plantedIdentical.has(key)) identical[half] += 1;
        } else if (plantedNear.has(key)) near[half].found += 1;
        else {
          near[half].alarms += 1;
          unplanted.push(d);
        }
      }
      return { near, identical, unplanted };
    };
    return await use({ service, engine, items, embedSeconds, embedRss, ctx, medianGenuine, mislabelScores, nearScores });
  } finally {
    await service.close();
    await rm(root, { recursive: true, force: true });
  }
}
