/**
 * research/embedding-shape.ts — the shape of a model's real embeddings, which test/clustered-embeddings.ts imitates
 * for the ANN tests and bench:scale: median distance of two photos of one person and of two people (every pair),
 * the PCA spectra of all embeddings, of the identity means (people with two or more photos) and of the
 * within-person residuals, their participation ratios (Σλ)² / Σλ², how many components hold 99 % and 99.9 % of the
 * variance, log-log power-law fits of the spectrum, and the generator's exponent whose participation ratio matches
 * (the generator is run with the same photo counts and the measured medians and rank, and its exponent bisected).
 *
 *   node --import tsx research/embedding-shape.ts --from faces.json
 *   node --import tsx research/embedding-shape.ts --embed [--engine onnx] [--save faces.json]
 *
 * --from reads a JSON array of { person, faces: [{ embedding: number[] }, …] } (faces largest first; the first is
 * used). --embed runs the engine over every photo of the shared LFW subset (../shared/data/lfw-subset) and keeps the
 * largest face of each; --save writes what it embedded in the --from format.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.js';
import type { AnalyzeOptions } from '../src/engine/engine.js';
import { readImageFile } from '../src/image/decode.js';
import { ClusteredGallery, shapeFor } from '../test/clustered-embeddings.js';
import { LFW_SUBSET } from '../test/fixtures.js';
import { engineList, startEngine } from '../bench/engines.js';

interface Face {
  person: string;
  embedding: Float64Array;
}

interface SavedPhoto {
  person: string;
  path?: string;
  faces: Array<{ embedding: number[] }>;
}

async function fromFile(path: string): Promise<Face[]> {
  const photos = JSON.parse(await readFile(path, 'utf8')) as SavedPhoto[];
  return photos.flatMap((photo) => {
    const [largest] = photo.faces;
    return largest === undefined ? [] : [{ person: photo.person, embedding: Float64Array.from(largest.embedding) }];
  });
}

async function embedSubset(engineName: string, savePath: string | undefined): Promise<Face[]> {
  const config = loadConfig({});
  const limits = { maxPixels: config.maxPixels, maxFileBytes: config.maxFileBytes };
  const options: AnalyzeOptions = {
    minDetectionScore: config.minDetectionScore,
    minFaceSize: config.minFaceSize,
    maxFaces: config.maxFaces,
    needs: { embedding: true, attributes: [], crop: false },
  };
  const [name] = engineList(engineName);
  const engine = await startEngine(name!, config.workers);
  const saved: SavedPhoto[] = [];
  try {
    const people = (await readdir(LFW_SUBSET, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    const photos = (
      await Promise.all(people.map(async (person) => (await readdir(join(LFW_SUBSET, person))).sort().map((file) => ({ person, path: join(LFW_SUBSET, person, file) }))))
    ).flat();
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < photos.length) {
        const photo = photos[next++]!;
        const { image } = await readImageFile(photo.path, limits);
        const faces = await engine.analyze(image, options);
        saved.push({ person: photo.person, path: photo.path, faces: faces.flatMap((f) => (f.embedding ? [{ embedding: Array.from(f.embedding) }] : [])) });
        if (saved.length % 200 === 0) process.stderr.write(`${saved.length} / ${photos.length} photos embedded\n`);
      }
    };
    await Promise.all(Array.from({ length: 6 }, lane));
  } finally {
    await engine.close();
  }
  saved.sort((a, b) => (a.path! < b.path! ? -1 : 1));
  if (savePath !== undefined) await writeFile(savePath, JSON.stringify(saved));
  return saved.flatMap((photo) => (photo.faces[0] ? [{ person: photo.person, embedding: Float64Array.from(photo.faces[0].embedding) }] : []));
}

function median(values: Float64Array): number {
  const sorted = values.slice().sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function pairMedians(faces: readonly Face[]): { same: number; different: number; samePairs: number; differentPairs: number } {
  const same: number[] = [];
  const different: number[] = [];
  for (let i = 0; i < faces.length; i++) {
    const a = faces[i]!.embedding;
    for (let j = i + 1; j < faces.length; j++) {
      const b = faces[j]!.embedding;
      let sum = 0;
      for (let d = 0; d < a.length; d++) sum += (a[d]! - b[d]!) ** 2;
      (faces[i]!.person === faces[j]!.person ? same : different).push(Math.sqrt(sum));
    }
  }
  return { same: median(Float64Array.from(same)), different: median(Float64Array.from(different)), samePairs: same.length, differentPairs: different.length };
}

/** Covariance (about their own mean) of the rows, dims × dims, row-major. */
function covariance(rows: readonly Float64Array[]): Float64Array {
  const dims = rows[0]!.length;
  const mean = new Float64Array(dims);
  for (const row of rows) for (let d = 0; d < dims; d++) mean[d]! += row[d]! / rows.length;
  const cov = new Float64Array(dims * dims);
  const centred = new Float64Array(dims);
  for (const row of rows) {
    for (let d = 0; d < dims; d++) centred[d] = row[d]! - mean[d]!;
    for (let i = 0; i < dims; i++) {
      const ci = centred[i]!;
      if (ci === 0) continue;
      const offset = i * dims;
      for (let j = i; j < dims; j++) cov[offset + j]! += ci * centred[j]!;
    }
  }
  for (let i = 0; i < dims; i++) {
    for (let j = i; j < dims; j++) {
      cov[i * dims + j]! /= rows.length;
      cov[j * dims + i] = cov[i * dims + j]!;
    }
  }
  return cov;
}

/** Participation ratio (tr C)² / tr(C²), from the matrix itself (no eigenvalues needed). */
function participationRatio(cov: Float64Array, dims: number): number {
  let trace = 0;
  let frobenius = 0;
  for (let i = 0; i < dims; i++) trace += cov[i * dims + i]!;
  for (const v of cov) frobenius += v * v;
  return (trace * trace) / frobenius;
}

/** Eigenvalues of a symmetric matrix (cyclic Jacobi; the matrix is overwritten), largest first. */
function eigenvalues(matrix: Float64Array, n: number): Float64Array {
  const a = matrix;
  for (let sweep = 0; sweep < 30; sweep++) {
    let off = 0;
    let diagonal = 0;
    for (let i = 0; i < n; i++) {
      diagonal += a[i * n + i]! ** 2;
      for (let j = i + 1; j < n; j++) off += a[i * n + j]! ** 2;
    }
    if (off <= 1e-24 * diagonal) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p * n + p]!;
        const aqq = a[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Float64Array.from({ length: n }, (_, i) => a[i * n + i]!).sort().reverse();
}

/** Slope of log λ against log rank over ranks first..last (1-based): minus the power-law exponent. */
function powerLawExponent(values: Float64Array, first: number, last: number): number {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = first; k <= last; k++) {
    if (values[k - 1]! <= 0) break;
    xs.push(Math.log(k));
    ys.push(Math.log(values[k - 1]!));
  }
  const mx = xs.reduce((s, x) => s + x, 0) / xs.length;
  const my = ys.reduce((s, y) => s + y, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  xs.forEach((x, i) => {
    sxy += (x - mx) * (ys[i]! - my);
    sxx += (x - mx) ** 2;
  });
  return -sxy / sxx;
}

/** All embeddings, identity means of people with ≥ 2 photos, and the residuals about those means. */
function groups(faces: readonly Face[]): { all: Float64Array[]; means: Float64Array[]; residuals: Float64Array[]; counts: number[] } {
  const byPerson = new Map<string, Float64Array[]>();
  for (const face of faces) byPerson.set(face.person, [...(byPerson.get(face.person) ?? []), face.embedding]);
  const means: Float64Array[] = [];
  const residuals: Float64Array[] = [];
  for (const rows of byPerson.values()) {
    if (rows.length < 2) continue;
    const mean = new Float64Array(rows[0]!.length);
    for (const row of rows) for (let d = 0; d < mean.length; d++) mean[d]! += row[d]! / rows.length;
    means.push(mean);
    for (const row of rows) residuals.push(row.map((v, d) => v - mean[d]!));
  }
  return { all: faces.map((f) => f.embedding), means, residuals, counts: [...byPerson.values()].map((rows) => rows.length) };
}

function ratios(faces: readonly Face[]): { all: number; means: number; residuals: number } {
  const dims = faces[0]!.embedding.length;
  const { all, means, residuals } = groups(faces);
  return {
    all: participationRatio(covariance(all), dims),
    means: participationRatio(covariance(means), dims),
    residuals: participationRatio(covariance(residuals), dims),
  };
}

/** A synthetic set with the same people and photo counts as the real one. */
function synthetic(counts: readonly number[], dims: number, same: number, different: number, exponent: number, rank: number): Face[] {
  const gallery = new ClusteredGallery(shapeFor(dims, same, different, exponent, rank), 7);
  return counts.flatMap((count, person) =>
    Array.from({ length: count }, (_, photo) => ({ person: String(person), embedding: Float64Array.from(gallery.photo(person + 1, photo)) })),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { from: { type: 'string' }, embed: { type: 'boolean' }, engine: { type: 'string', default: 'onnx' }, save: { type: 'string' } },
  });
  if ((values.from === undefined) === (values.embed !== true)) throw new Error('give --from <json> or --embed');
  const faces = values.from !== undefined ? await fromFile(values.from) : await embedSubset(values.engine, values.save);
  const dims = faces[0]!.embedding.length;
  const { all, means, residuals, counts } = groups(faces);
  const out: string[] = [];
  const say = (line: string): void => {
    out.push(line);
    process.stderr.write(line + '\n');
  };
  say(`${faces.length} faces of ${counts.length} people (${means.length} with ≥ 2 photos), ${dims}-D`);
  const medians = pairMedians(faces);
  say(`median distance: same person ${medians.same.toFixed(4)} (${medians.samePairs} pairs), different people ${medians.different.toFixed(4)} (${medians.differentPairs} pairs)`);

  const spectra: Record<string, Float64Array> = {};
  for (const [name, rows] of [['all', all], ['means', means], ['residuals', residuals]] as const) {
    const cov = covariance(rows);
    const pr = participationRatio(cov, dims);
    const values = eigenvalues(cov, dims);
    spectra[name] = values;
    const total = values.reduce((s, v) => s + Math.max(0, v), 0);
    let cumulative = 0;
    const reach: Record<string, number> = {};
    values.forEach((v, k) => {
      cumulative += Math.max(0, v);
      for (const q of [0.99, 0.999]) if (reach[q] === undefined && cumulative >= q * total) reach[q] = k + 1;
    });
    say(
      `${name} (${rows.length} rows): participation ratio ${pr.toFixed(1)}; 99 % of variance in ${reach[0.99]} components, 99.9 % in ${reach[0.999]}; ` +
        `share of λ at rank 1/10/50/100/150/200: ${[1, 10, 50, 100, 150, 200].map((k) => (values[k - 1]! / total).toExponential(1)).join(' ')}`,
    );
  }
  const allSpectrum = spectra.all!;
  const total = allSpectrum.reduce((s, v) => s + Math.max(0, v), 0);
  let cumulative = 0;
  let rank = dims;
  let rank99 = dims;
  for (let k = 0; k < dims; k++) {
    cumulative += Math.max(0, allSpectrum[k]!);
    if (rank99 === dims && cumulative >= 0.99 * total) rank99 = k + 1;
    if (cumulative >= 0.999 * total) {
      rank = k + 1;
      break;
    }
  }
  for (const [first, last] of [[1, rank99], [10, rank99], [1, dims]] as const) {
    say(`log-log power-law exponent of all embeddings' spectrum over components ${first}–${last}: ${powerLawExponent(allSpectrum, first, last).toFixed(2)}`);
  }

  // The generator's exponent (over the measured rank) whose participation ratio of all embeddings matches, and
  // the medians to ask it for so that its own medians match the real ones (its per-person spread and the final
  // normalisation move them a little): a few rounds of each.
  const real = ratios(faces);
  let sameIn = medians.same;
  let differentIn = medians.different;
  let exponent = 1;
  let model: Face[] = [];
  let modelMedians = medians;
  for (let round = 0; round < 3; round++) {
    let low = 0;
    let high = 2;
    for (let step = 0; step < 10; step++) {
      const mid = (low + high) / 2;
      const pr = ratios(synthetic(counts, dims, sameIn, differentIn, mid, rank)).all;
      if (pr > real.all) low = mid;
      else high = mid;
    }
    exponent = Math.round(((low + high) / 2) * 100) / 100;
    model = synthetic(counts, dims, sameIn, differentIn, exponent, rank);
    modelMedians = pairMedians(model);
    say(`round ${round + 1}: exponent ${exponent} with medians asked ${sameIn.toFixed(3)} / ${differentIn.toFixed(3)} gives ${modelMedians.same.toFixed(3)} / ${modelMedians.different.toFixed(3)}`);
    sameIn += medians.same - modelMedians.same;
    differentIn += medians.different - modelMedians.different;
  }
  sameIn -= medians.same - modelMedians.same;
  differentIn -= medians.different - modelMedians.different;
  const fitted = ratios(model);
  say(
    `generator: shapeFor(${dims}, ${sameIn.toFixed(3)}, ${differentIn.toFixed(3)}, ${exponent}, ${rank}) gives participation ratios ` +
      `${fitted.all.toFixed(1)} / ${fitted.means.toFixed(1)} / ${fitted.residuals.toFixed(1)} (all / means / residuals; real ${real.all.toFixed(1)} / ${real.means.toFixed(1)} / ${real.residuals.toFixed(1)}), ` +
      `medians ${modelMedians.same.toFixed(3)} / ${modelMedians.different.toFixed(3)} (real ${medians.same.toFixed(3)} / ${medians.different.toFixed(3)})`,
  );
  console.log(out.join('\n'));
}

await main();
