/**
 * npm run bench:transfer — search by face and export / import (issue 17).
 *
 * 1. Search by face, one probe: p50 of GallerySearch's search over faces plus the read of the faces found (what
 *    `facedb search` adds to identify's detection and embedding), at 10k and 100k stored faces, half named (1,000
 *    people), half unnamed. Synthetic 512-D unit embeddings (the onnx model's size), a real SQLite file; default
 *    index settings (exact below FACEDB_ANN_THRESHOLD = 100k faces per index).
 * 2. Export (with and without --photos) and import of the whole shared LFW subset, enrolled with the fake engine
 *    (64-D embeddings, its own crops: the model is not what is measured): time and file size.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFacedb } from '../src/facedb.js';
import { scanLfwLayout } from '../src/image/scan.js';
import { seededRandom } from '../src/core/random.js';
import { writeExport } from '../src/cli/commands/transfer.js';
import { LFW_SUBSET } from '../test/fixtures.js';
import { percentile } from './common.js';

const DIMENSIONS = 512;
const dir = await mkdtemp(join(tmpdir(), 'facedb-bench-transfer-'));
const random = seededRandom(17);
const unit = (): Float32Array => {
  const v = Float32Array.from({ length: DIMENSIONS }, () => random() - 0.5);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
};
const hash = (i: number): string => i.toString(16).padStart(64, '0');

console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const total of [10_000, 100_000]) {
  const service = await openFacedb({ db: join(dir, `search-${total}.sqlite`), engine: 'fake' });
  const { store } = service;
  await store.ensureModel({ id: 'bench-synthetic', version: '1', dimensions: DIMENSIONS, metric: 'euclidean', defaultThreshold: 1 });
  const people = await Promise.all(Array.from({ length: 1000 }, (_, i) => store.upsertPerson(`Person ${i}`)));
  const face = (i: number) => ({ sourcePath: `/photos/${i}.jpg`, contentHash: hash(i), box: { x: 0, y: 0, width: 100, height: 100 }, detectionScore: 0.9, embedding: unit(), crop: null });
  for (let i = 0; i < total / 2; i += 500) {
    const batch = Array.from({ length: 500 }, (_, j) => face(i + j));
    await store.addFaces(people[(i / 500) % people.length]!.id, batch);
    await store.addUnnamedFaces(Array.from({ length: 500 }, (_, j) => face(total + i + j)));
  }
  const started = performance.now();
  const search = await service.context.search.faceSearcher();
  const loadMs = performance.now() - started;
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const probe = unit();
    const t = performance.now();
    const hits = await search(probe, 10, 'all');
    await store.getStoredFaces(hits.map((h) => h.faceId));
    times.push(performance.now() - t);
  }
  console.log(`search by face, ${total} stored faces: p50 ${percentile(times, 0.5).toFixed(2)} ms per probe (top 10, named and unnamed); first load ${(loadMs / 1000).toFixed(1)} s`);
  await service.close();
}

const source = await openFacedb({ db: join(dir, 'lfw.sqlite'), engine: 'fake', workers: 1 });
await source.enroll(await scanLfwLayout(LFW_SUBSET));
for (const photos of [false, true]) {
  const file = join(dir, `lfw-${photos}.jsonl`);
  let t = performance.now();
  await writeExport(source.exportGallery({ photos }), file);
  const exportMs = performance.now() - t;
  const target = await openFacedb({ db: join(dir, `copy-${photos}.sqlite`), engine: 'fake' });
  t = performance.now();
  const summary = await target.importGallery(file);
  const importMs = performance.now() - t;
  await target.close();
  console.log(
    `LFW subset${photos ? ' --photos' : ''}: ${summary.faces.added} faces, export ${(exportMs / 1000).toFixed(2)} s, import ${(importMs / 1000).toFixed(2)} s, ` +
      `${((await stat(file)).size / 1e6).toFixed(1)} MB`,
  );
}
await source.close();
console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
await rm(dir, { recursive: true, force: true });
