/**
 * Does a binary-sketch scan with an exact re-rank give identify's decision as exact search does, at 100k and 1M ×
 * 512-D, and how fast? (issue 19, item 4). The search is research/sketch-kernel.ts over src/core/sketch-kernel.wat (WASM SIMD:
 * sketch, Hamming scan with a histogram, collect the best K rows, gathered float32 re-rank), the sketch the SimHash of
 * research/binary-sketch.ts (same projections and centre). Gallery, probes, threshold and measures are bench:scale's
 * (bench/scale.ts): mated probes are new photos of enrolled people, non-mated probes the strangers exact search
 * (FlatIndex) names nobody for within identify's default threshold; agreement is the share of probes whose decision
 * (nearest person within the threshold, else unknown) equals exact search's. Per faces × bits × K: agreement, recall@10
 * of people, p50/p99 of one whole search (sketch the query, scan, select, re-rank, people) on 1 thread and with the
 * scan split over 2, the p50 of each step, sketch build time, bytes per face and RSS.
 *
 *   node --expose-gc --import tsx research/sketch-search.ts [--sizes 100k,1M] [--dims 512] [--bits 512,1024] [--k 256,1024,4096,16384]
 *        [--probes 1000] [--threads 1,2] [--out research/out/sketch-search.md]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { FlatIndex } from '../src/core/flat-index.js';
import type { PersonMatch } from '../src/core/search-index.js';
import { pct, percentile } from '../bench/common.js';
import { identifyThreshold, scaleGallery, scaleProbes } from '../bench/scale.js';
import { identifyDecision as decision } from '../test/clustered-embeddings.js';
import { recallOf as recall } from '../bench/scale.js';
import { gaussianProjections } from '../src/core/sketch-rows.js';
import { RESEARCH_PROJECTION_SEED, sampleMean } from './binary-sketch.js';
import { compileSketchKernel, SketchHelper, SketchSearch, type SearchSteps, type WasmModule } from './sketch-kernel.js';

/** 512 (engine v5's shape) or 128 (v4's): `--dims`, read before the rest of the options because everything below uses it. */
const DIMS = process.argv.includes('--dims') ? Number(process.argv[process.argv.indexOf('--dims') + 1]) : 512;
const TOP = 10;
const load = (): string => loadavg()[0]!.toFixed(1);
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const peakRssGiB = (): number => (process.resourceUsage().maxRSS * 1024) / 2 ** 30;
const sizeOf = (text: string): number => {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!match) throw new Error(`bad size ${text} (e.g. 100k, 1M)`);
  return Math.round(Number(match[1]) * ({ k: 1e3, m: 1e6 }[match[2]!.toLowerCase()] ?? 1));
};

interface Row {
  faces: number;
  bits: number;
  k: number;
  matedAgree: number;
  nonMatedAgree: number;
  strangersNamedAgree: number;
  recallAt10: number;
  /** threads → p50, p99, step p50s, load */
  timings: Map<number, { p50: number; p99: number; steps: SearchSteps; load: string }>;
}

/** The share of probes (those exact search names somebody for, or nobody, or all: `named`) answered alike. */
function agree(answers: PersonMatch[][], truth: PersonMatch[][], threshold: number, named: boolean | null): number {
  let counted = 0;
  let same = 0;
  answers.forEach((answer, p) => {
    const wanted = decision(truth[p]!, threshold);
    if (named !== null && (wanted !== null) !== named) return;
    counted++;
    if (decision(answer, threshold) === wanted) same++;
  });
  return same / Math.max(1, counted);
}

/** Checks the kernel against plain JS on a small gallery: Hamming distances, sketch bits, and K = every face gives exact search's answer. */
async function selfCheck(module: WasmModule, twoThreads: boolean): Promise<void> {
  const faces = 3000;
  const gallery = scaleGallery(DIMS);
  const built = gallery.build(faces);
  for (const bits of [512, 1024]) {
    const search = new SketchSearch(module, { dims: DIMS, bits, faces, maxCandidates: faces, threads: 2 }, built);
    const helper = twoThreads ? await SketchHelper.start(module, search.memory) : undefined;
    search.vectors.set(built.vectors);
    const projections = gaussianProjections(bits, DIMS, RESEARCH_PROJECTION_SEED);
    const mean = sampleMean(built.vectors, DIMS);
    search.setProjections(projections, mean);
    search.buildSketches(helper);
    const sketches = search.sketches;
    let flipped = 0;
    for (let row = 0; row < faces; row += 7) {
      for (let b = 0; b < bits; b++) {
        let dot = 0;
        for (let d = 0; d < DIMS; d++) dot += projections[b * DIMS + d]! * (built.vectors[row * DIMS + d]! - mean[d]!);
        if (dot > 0 !== ((sketches[row * (bits / 8) + (b >> 3)]! >> (b & 7)) & 1) > 0) flipped++;
      }
    }
    if (flipped > (faces / 7) * bits * 1e-3) throw new Error(`self-check: ${flipped} sketch bits differ from float64`);
    const exact = FlatIndex.fromSnapshot({ dimensions: DIMS, ...built, faceIds: built.faceIds.slice() });
    const { mated, nonMated } = scaleProbes(gallery, built.people, 20);
    for (const probe of [...mated, ...nonMated]) {
      for (const split of helper === undefined ? [undefined] : [undefined, helper]) {
        const got = search.searchPeople(probe, faces, TOP, split);
        const want = exact.searchPeople(probe, TOP);
        if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`self-check: K = all faces differs from exact search\n${JSON.stringify(got)}\n${JSON.stringify(want)}`);
        // Hamming distances against a plain popcount of the sketches.
        const query = new Uint8Array(search.memory.buffer, search.layout.querySketch, bits / 8);
        const distances = new Uint16Array(search.memory.buffer, search.layout.distances, faces);
        for (let row = 0; row < faces; row += 13) {
          let h = 0;
          for (let i = 0; i < bits / 8; i++) for (let x = query[i]! ^ sketches[row * (bits / 8) + i]!; x; x &= x - 1) h++;
          if (h !== distances[row]) throw new Error(`self-check: row ${row} Hamming ${distances[row]} against ${h}`);
        }
        // The candidates at K = 100 are 100 rows, none farther by Hamming distance than any row left out.
        search.searchPeople(probe, 100, TOP, split);
        const picked = new Set(new Int32Array(search.memory.buffer, search.layout.candidates, 100));
        let farthestIn = 0;
        let nearestOut = Infinity;
        distances.forEach((h, row) => (picked.has(row) ? (farthestIn = Math.max(farthestIn, h)) : (nearestOut = Math.min(nearestOut, h))));
        if (picked.size !== 100 || farthestIn > nearestOut) throw new Error(`self-check: K = 100 picked ${picked.size} rows up to ${farthestIn}, left out one at ${nearestOut}`);
      }
    }
    await helper?.close();
    console.error(`self-check passed (${faces} faces, ${bits} bits, ${flipped} of ${Math.ceil(faces / 7) * bits} sketch bits flipped against float64${helper ? ', 1 and 2 threads' : ''})`);
  }
}

async function measureSize(faces: number, args: { bits: number[]; ks: number[]; probes: number; threads: number[] }, module: WasmModule, notes: string[]): Promise<Row[]> {
  const threshold = identifyThreshold(DIMS);
  const gallery = scaleGallery(DIMS);
  let started = performance.now();
  const built = gallery.build(faces);
  console.error(`${faces} × ${DIMS}-D: ${built.people} people in ${((performance.now() - started) / 1000).toFixed(1)} s; threshold ${threshold}`);
  const { mated, nonMated } = scaleProbes(gallery, built.people, args.probes);
  started = performance.now();
  const exactTimes: number[] = [];
  const [matedTruth, nonMatedTruth] = ((exact) =>
    [mated, nonMated].map((probes) =>
      probes.map((probe) => {
        const t = performance.now();
        const answer = exact.searchPeople(probe, TOP);
        exactTimes.push(performance.now() - t);
        return answer;
      }),
    ))(FlatIndex.fromSnapshot({ dimensions: DIMS, ...built, faceIds: built.faceIds.slice() })) as [PersonMatch[][], PersonMatch[][]];
  const unknownToExact = nonMatedTruth.filter((answer) => decision(answer, threshold) === null).length;
  const matedNamed = matedTruth.filter((answer) => decision(answer, threshold) !== null).length;
  notes.push(
    `${faces.toLocaleString('en')} faces: ${built.people.toLocaleString('en')} people, threshold ${threshold}; exact search names somebody for ${matedNamed} of ${mated.length} mated probes and nobody for ${unknownToExact} of ${nonMated.length} strangers; ` +
      `exact truths in ${((performance.now() - started) / 1000).toFixed(0)} s, FlatIndex p50 ${percentile(exactTimes, 0.5).toFixed(1)} ms (load ${load()}).`,
  );
  gc();
  const maxK = Math.max(...args.ks.filter((k) => k <= faces));
  const rows: Row[] = [];
  for (const bits of args.bits) {
    gc();
    const rssBefore = process.memoryUsage().rss;
    const twoThreads = args.threads.includes(2);
    const search = new SketchSearch(module, { dims: DIMS, bits, faces, maxCandidates: maxK, threads: twoThreads ? 2 : 1 }, built);
    const helper = twoThreads ? await SketchHelper.start(module, search.memory) : undefined;
    search.vectors.set(built.vectors);
    const rssWithVectors = process.memoryUsage().rss;
    const builds: string[] = [];
    for (const buildHelper of helper ? [undefined, helper] : [undefined]) {
      started = performance.now();
      search.setProjections(gaussianProjections(bits, DIMS, RESEARCH_PROJECTION_SEED), sampleMean(built.vectors, DIMS));
      search.buildSketches(buildHelper);
      builds.push(`${((performance.now() - started) / 1000).toFixed(1)} s on ${buildHelper ? 2 : 1} thread${buildHelper ? 's' : ''}`);
    }
    const rssAfter = process.memoryUsage().rss;
    notes.push(
      `${faces.toLocaleString('en')} faces, ${bits} bits: sketches built in ${builds.join(', ')} (load ${load()}); ` +
        `RSS +${((rssWithVectors - rssBefore) / faces).toFixed(0)} B/face for the kernel memory with the float32 vectors, +${((rssAfter - rssWithVectors) / faces).toFixed(0)} B/face once sketched ` +
        `(by layout: ${bits / 8} B sketch + 2 B distance scratch per face, beside the ${DIMS * 4} B vector the exact index holds anyway); peak RSS ${peakRssGiB().toFixed(1)} GiB.`,
    );
    console.error(notes.at(-1));
    for (const k of args.ks) {
      if (k > faces) continue;
      const row: Row = { faces, bits, k, matedAgree: 0, nonMatedAgree: 0, strangersNamedAgree: 0, recallAt10: 0, timings: new Map() };
      for (const threads of args.threads) {
        const split = threads === 2 ? helper : undefined;
        const times: number[] = [];
        const steps: Record<keyof SearchSteps, number[]> = { sketch: [], scan: [], select: [], rerank: [], people: [] };
        const run = (probes: Float32Array[]): PersonMatch[][] => {
          for (const probe of probes.slice(0, 5)) search.searchPeople(probe, k, TOP, split);
          return probes.map((probe) => {
            const t = performance.now();
            const answer = search.searchPeople(probe, k, TOP, split);
            times.push(performance.now() - t);
            for (const step of Object.keys(steps) as (keyof SearchSteps)[]) steps[step].push(search.steps[step]);
            return answer;
          });
        };
        const matedAnswers = run(mated);
        const nonMatedAnswers = run(nonMated);
        if (row.timings.size === 0) {
          row.matedAgree = agree(matedAnswers, matedTruth, threshold, null);
          row.nonMatedAgree = agree(nonMatedAnswers, nonMatedTruth, threshold, false);
          row.strangersNamedAgree = agree(nonMatedAnswers, nonMatedTruth, threshold, true);
          row.recallAt10 = recall([...matedAnswers, ...nonMatedAnswers], [...matedTruth, ...nonMatedTruth]);
          matedAnswers.forEach((answer, p) => {
            const want = matedTruth[p]!;
            if (decision(answer, threshold) === decision(want, threshold)) return;
            console.error(`    K ${k}: mated probe ${p} differs: exact ${want[0]?.personId} at ${want[0]?.distance.toFixed(3)} (next person ${want[1]?.distance.toFixed(3)}), sketch ${answer[0]?.personId} at ${answer[0]?.distance.toFixed(3)}`);
          });
        }
        const stepP50 = Object.fromEntries(Object.entries(steps).map(([step, samples]) => [step, percentile(samples, 0.5)])) as unknown as SearchSteps;
        row.timings.set(threads, { p50: percentile(times, 0.5), p99: percentile(times, 0.99), steps: stepP50, load: load() });
        const t = row.timings.get(threads)!;
        console.error(
          `  ${bits} bits K ${k} ${threads} thread(s): mated ${pct(row.matedAgree)}, non-mated ${pct(row.nonMatedAgree)}, strangers named ${pct(row.strangersNamedAgree)}, recall@10 ${row.recallAt10.toFixed(4)}, ` +
            `p50 ${t.p50.toFixed(2)} ms, p99 ${t.p99.toFixed(2)} ms (sketch ${t.steps.sketch.toFixed(2)}, scan ${t.steps.scan.toFixed(2)}, select ${t.steps.select.toFixed(2)}, rerank ${t.steps.rerank.toFixed(2)}, people ${t.steps.people.toFixed(2)}) load ${t.load}`,
        );
      }
      rows.push(row);
    }
    await helper?.close();
  }
  return rows;
}

function table(rows: Row[], threads: number[]): string {
  const lines = [
    '| faces | bits | K | mated agree | non-mated agree | strangers named: agree | recall@10 | threads | p50 ms | p99 ms | p50 sketch / scan / select / rerank / people ms | load |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
  ];
  for (const r of rows) {
    for (const t of threads) {
      const m = r.timings.get(t);
      if (m === undefined) continue;
      const s = m.steps;
      lines.push(
        `| ${r.faces.toLocaleString('en')} | ${r.bits} | ${r.k.toLocaleString('en')} | ${pct(r.matedAgree)} | ${pct(r.nonMatedAgree)} | ${pct(r.strangersNamedAgree)} | ${r.recallAt10.toFixed(4)} | ${t} | ${m.p50.toFixed(2)} | ${m.p99.toFixed(2)} | ` +
          `${[s.sketch, s.scan, s.select, s.rerank, s.people].map((v) => v.toFixed(2)).join(' / ')} | ${m.load} |`,
      );
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '100k,1M' },
      dims: { type: 'string', default: '512' },
      bits: { type: 'string', default: '512,1024' },
      k: { type: 'string', default: '256,1024,4096,16384' },
      probes: { type: 'string', default: '1000' },
      threads: { type: 'string', default: '1,2' },
      out: { type: 'string', default: 'research/out/sketch-search.md' },
    },
  });
  const args = {
    sizes: values.sizes.split(',').map(sizeOf).sort((a, b) => a - b),
    bits: values.bits.split(',').map(Number),
    ks: values.k.split(',').map(sizeOf),
    probes: Number(values.probes),
    threads: values.threads.split(',').map(Number),
  };
  const started = performance.now();
  const lines = [
    `# research/sketch-search.ts (${new Date().toISOString()})`,
    '',
    `Command: \`node --expose-gc --import tsx research/sketch-search.ts ${process.argv.slice(2).join(' ')}\`; node ${process.version}; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}); load at start ${load()}; ${args.probes} mated and ${args.probes} strangers per size, top ${TOP} people.`,
    '',
  ];
  const module = await compileSketchKernel();
  await selfCheck(module, args.threads.includes(2));
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const faces of args.sizes) {
    rows.push(...(await measureSize(faces, args, module, notes)));
    gc();
  }
  lines.push(...notes.map((n) => `- ${n}`), '', table(rows, args.threads), '', `Total ${((performance.now() - started) / 1000).toFixed(0)} s; load at the end ${load()}; peak RSS ${peakRssGiB().toFixed(1)} GiB.`);
  const report = lines.join('\n') + '\n';
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, report);
  console.log(report);
}

await main();
