/**
 * npm run bench:evaluate — chooses and checks `facedb evaluate`'s problem rules on planted errors, and measures its
 * time and memory.
 *
 * 1. A copy of ../shared/data/lfw-subset (symbolic links) in a temp folder, with planted errors in each half of the
 *    people (half A: even index of the sorted names, half B: odd, as bench/accuracy.ts splits them):
 *    - mislabels: a photo of a person with ≥ 2 photos moved into another person's folder of the same half;
 *    - identical duplicates: a photo linked a second time under another name in its own folder;
 *    - near-duplicates: a photo re-encoded (sharp: 92 % size, JPEG quality 75) into its own folder.
 *    Choices are seeded (2026), so every run plants the same.
 * 2. The folder is embedded once, as `facedb evaluate` does (library calls), then every candidate mislabel rule and
 *    near-duplicate ratio is scored on each half: planted errors found, and false alarms (flagged, not planted).
 *    The rule and ratio are chosen on half A (most found minus false alarms), and reported on half B.
 * 3. Time and peak memory: embedding (per photo) and the pair analysis on the first 25 %, 50 % and 100 % of the faces
 *    (O(n²) distances; impostor distances are kept up to MAX_IMPOSTOR_PAIRS, then sampled). The whole command's
 *    time and peak RSS: `/usr/bin/time -v node dist/cli/main.js evaluate ../shared/data/lfw-subset --json`.
 *
 * Options: --engine <name> (default onnx), --limit-people N (first N people: a quick run).
 * Writes bench/out/evaluate.md.
 */
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { openFacedb } from '../src/facedb.js';
import { embedPhotos } from '../src/services/evaluation/embed.js';
import { labelledPhotos } from '../src/services/evaluation/folder.js';
import { genuineDistances, median, pairPass, type FaceRow } from '../src/services/evaluation/pairs.js';
import { duplicates, isMislabel, MISLABEL_RULE, NEAR_DUPLICATE_RATIO, type MislabelRule, type ProblemContext } from '../src/services/evaluation/problems.js';
import { LFW_SUBSET, REPO_ROOT, seededRandom } from '../test/fixtures.js';

const { values: args } = parseArgs({ options: { engine: { type: 'string', default: 'onnx' }, 'limit-people': { type: 'string' } } });
const limitPeople = args['limit-people'] === undefined ? undefined : Number(args['limit-people']);
const PLANTS = { mislabels: 20, identical: 10, near: 10 };
const RULES: MislabelRule[] = ['nearer-other', 'named-other', 'named-other-not-own'];
const RATIOS = [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4];
type Half = 'A' | 'B';

interface Planted {
  mislabels: Map<string, Half>; // planted path → half
  identical: Array<{ a: string; b: string; half: Half }>;
  near: Array<{ a: string; b: string; half: Half }>;
}

const mb = (bytes: number): string => `${Math.round(bytes / 1024 / 1024)} MB`;
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

async function plantedCopy(root: string): Promise<{ folder: string; planted: Planted; halfOf: Map<string, Half> }> {
  const people = (await readdir(LFW_SUBSET)).sort().slice(0, limitPeople);
  const halfOf = new Map<string, Half>(people.map((p, i) => [p.replace(/_+/g, ' '), i % 2 === 0 ? 'A' : 'B']));
  const files = new Map<string, string[]>();
  for (const person of people) files.set(person, (await readdir(join(LFW_SUBSET, person))).sort());
  const random = seededRandom(2026);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const moved = new Map<string, string>(); // source file → target person
  const planted: Planted = { mislabels: new Map(), identical: [], near: [] };
  for (const half of ['A', 'B'] as Half[]) {
    const inHalf = people.filter((_, i) => (i % 2 === 0) === (half === 'A'));
    const sources = inHalf.filter((p) => (files.get(p)?.length ?? 0) >= 3);
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
  return { folder: root, planted, halfOf };
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'facedb-bench-evaluate-'));
  const lines: string[] = [];
  const say = (line = ''): void => {
    lines.push(line);
    process.stdout.write(`${line}\n`);
  };
  try {
    const { folder, planted, halfOf } = await plantedCopy(root);
    const service = await openFacedb({ db: ':memory:', engine: args.engine });
    try {
      const items = await labelledPhotos(folder);
      const started = performance.now();
      const embedded = await embedPhotos(service, items, {
        onPhoto: (_, done, total) => {
          if (done % 200 === 0 || done === total) process.stderr.write(`embedded ${done}/${total}\n`);
        },
      });
      const embedSeconds = (performance.now() - started) / 1000;
      const embedRss = peakRss();
      const engine = await service.engine();
      const threshold = service.threshold(engine, {}, 'identify');
      const people = [...new Set(embedded.photos.map((p) => p.person))].sort();
      const index = new Map(people.map((p, i) => [p, i]));
      const rows: FaceRow[] = embedded.photos.flatMap((photo, i) => {
        const embedding = embedded.embeddings[i];
        return embedding ? [{ photo: i, person: index.get(photo.person) ?? -1, embedding }] : [];
      });
      const genuine = genuineDistances(rows);
      const medianGenuine = median([...genuine.values()].flat());
      const pass = pairPass(rows, Math.max(...RATIOS) * medianGenuine, genuine);
      const ctx: ProblemContext = { photos: embedded.photos, rows, people, pass, threshold };
      const halfOfRow = (row: number): Half => halfOf.get(embedded.photos[rows[row]!.photo]!.person) ?? 'A';

      say(`# facedb evaluate on planted errors (${engine.model.id}@${engine.model.version}; identify threshold ${threshold})`);
      say();
      say(`${items.length} photos (${rows.length} with a face) of ${people.length} people; planted per half: ${PLANTS.mislabels} mislabels, ${PLANTS.identical} identical copies, ${PLANTS.near} re-encoded copies.`);
      say();
      say('## Mislabel rules (found / planted, false alarms)');
      say('| rule | half A | half B |');
      say('| --- | --- | --- |');
      const ruleScore: Record<string, Record<Half, { found: number; alarms: number }>> = {};
      for (const rule of RULES) {
        const score = { A: { found: 0, alarms: 0 }, B: { found: 0, alarms: 0 } };
        rows.forEach((_, row) => {
          if (!isMislabel(ctx, row, rule)) return;
          const path = embedded.photos[rows[row]!.photo]!.path;
          const half = halfOfRow(row);
          if (planted.mislabels.has(path)) score[half].found += 1;
          else score[half].alarms += 1;
        });
        ruleScore[rule] = score;
        say(`| ${rule}${rule === MISLABEL_RULE ? ' (shipped)' : ''} | ${score.A.found}/${PLANTS.mislabels}, ${score.A.alarms} false alarms | ${score.B.found}/${PLANTS.mislabels}, ${score.B.alarms} false alarms |`);
      }
      const bestRule = RULES.reduce((best, r) => (ruleScore[r]!.A.found - ruleScore[r]!.A.alarms > ruleScore[best]!.A.found - ruleScore[best]!.A.alarms ? r : best));
      say(`Chosen on half A (most found minus false alarms): **${bestRule}**.`);
      say();
      say('## Near-duplicate ratio (× median same-person distance; found re-encoded copies / planted, false alarms = other near pairs)');
      say('| ratio | distance | half A | half B | identical copies found A / B |');
      say('| --- | --- | --- | --- | --- |');
      const plantedNear = new Set(planted.near.map((p) => [p.a, p.b].sort().join('\n')));
      const plantedIdentical = new Set(planted.identical.map((p) => [p.a, p.b].sort().join('\n')));
      const ratioScore: Record<number, Record<Half, { found: number; alarms: number }>> = {};
      for (const ratio of RATIOS) {
        const limit = ratio * medianGenuine;
        const found = duplicates({ ...ctx, pass: { ...pass, near: pass.near.filter((n) => n.distance <= limit) } });
        const score = { A: { found: 0, alarms: 0 }, B: { found: 0, alarms: 0 } };
        const identicalFound = { A: 0, B: 0 };
        for (const d of found) {
          const key = [d.a.path, d.b.path].sort().join('\n');
          const half = halfOf.get(d.a.person) ?? 'A';
          if (d.kind === 'identical') {
            if (plantedIdentical.has(key)) identicalFound[half] += 1;
            continue;
          }
          if (plantedNear.has(key)) score[half].found += 1;
          else score[half].alarms += 1;
        }
        ratioScore[ratio] = score;
        say(`| ${ratio}${ratio === NEAR_DUPLICATE_RATIO ? ' (shipped)' : ''} | ${limit.toFixed(3)} | ${score.A.found}/${PLANTS.near}, ${score.A.alarms} | ${score.B.found}/${PLANTS.near}, ${score.B.alarms} | ${identicalFound.A}/${PLANTS.identical} / ${identicalFound.B}/${PLANTS.identical} |`);
      }
      const bestRatio = RATIOS.reduce((best, r) => (ratioScore[r]!.A.found - ratioScore[r]!.A.alarms > ratioScore[best]!.A.found - ratioScore[best]!.A.alarms ? r : best));
      const unplanted = duplicates({ ...ctx, pass: { ...pass, near: pass.near.filter((n) => n.distance <= NEAR_DUPLICATE_RATIO * medianGenuine) } }).filter(
        (d) => d.kind === 'near' && !plantedNear.has([d.a.path, d.b.path].sort().join('\n')),
      );
      say(`Chosen on half A (most found minus false alarms, the smallest ratio on a tie): **${bestRatio}**. Near pairs not planted at the shipped ratio ${NEAR_DUPLICATE_RATIO}: ${unplanted.map((d) => `${basename(d.a.path)} ~ ${basename(d.b.path)} (${d.distance})`).join('; ') || 'none'}.`);
      say();
      say('## Time and memory');
      say(`Embedding: ${items.length} photos in ${embedSeconds.toFixed(1)} s (${(items.length / embedSeconds).toFixed(1)} photos/s, ${service.config.workers ?? 'default'} workers); peak RSS so far ${mb(embedRss)}.`);
      say('| faces | pair analysis (s) | impostor pairs kept | peak RSS after |');
      say('| --- | --- | --- | --- |');
      for (const share of [0.25, 0.5, 1]) {
        const some = rows.slice(0, Math.round(rows.length * share));
        const t0 = performance.now();
        const p = pairPass(some, NEAR_DUPLICATE_RATIO * medianGenuine);
        say(`| ${some.length} | ${((performance.now() - t0) / 1000).toFixed(2)} | ${p.impostor.length} | ${mb(peakRss())} |`);
      }
    } finally {
      await service.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  await mkdir(join(REPO_ROOT, 'bench/out'), { recursive: true });
  await writeFile(join(REPO_ROOT, 'bench/out/evaluate.md'), `${lines.join('\n')}\n`);
}

await main();
