/**
 * Detection recall and speed of the engine's detector chain (BlazeFace, then SSD, then both on the enhanced
 * retry pass): LFW subset photos in colour and in grayscale, the FER crops, Blank_image.jpg, group.jpg.
 *   node --import tsx research/models/detection.ts [--limit N] [--workers 2]
 * ms/image is measured in this thread (one runtime); images/s with a pool of --workers workers.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalyzeOptions } from '../../src/engine/engine.js';
import { createFaceApiEngine } from '../../src/engine/faceapi/engine.js';
import { loadFaceApiRuntime } from '../../src/engine/faceapi/runtime.js';
import { argValue, DATA, FER, lfwFiles, loadRgb, pct } from './common.js';
import { FACE_ATTRIBUTES } from '../../src/core/types.js';

const OPTIONS: AnalyzeOptions = { minDetectionScore: 0.2, maxFaces: 100, minFaceSize: 20, needs: { embedding: true, attributes: FACE_ATTRIBUTES, crop: false } };
const limit = Number(argValue('limit') ?? Infinity);
const workers = Number(argValue('workers') ?? 2);
const files = lfwFiles().slice(0, limit);
const runtime = await loadFaceApiRuntime();

async function recall(list: string[], grayscale: boolean, options = OPTIONS) {
  let found = 0;
  let extra = 0;
  const missed: string[] = [];
  let ms = 0;
  for (const file of list) {
    const image = await loadRgb(file, grayscale);
    const started = performance.now();
    const faces = await runtime.analyze(image, options);
    ms += performance.now() - started;
    if (faces.length > 0) found++;
    else missed.push(file);
    extra += Math.max(0, faces.length - 1);
  }
  return { rate: found / list.length, extra, missed, ms: ms / list.length };
}

await runtime.analyze(await loadRgb(files[0] ?? ''), OPTIONS); // warm-up
const colour = await recall(files, false);
const gray = await recall(files, true);
const ferFiles = readdirSync(FER)
  .sort()
  .flatMap((label) => readdirSync(join(FER, label)).sort().map((f) => join(FER, label, f)));
const fer = await recall(ferFiles, false, { ...OPTIONS, minFaceSize: 1 });
const blank = await runtime.analyze(await loadRgb(join(DATA, 'test-images/Blank_image.jpg')), OPTIONS);
const group = await runtime.analyze(await loadRgb(join(DATA, 'test-images/group.jpg')), OPTIONS);
const alien = await runtime.analyze(await loadRgb(join(DATA, 'test-images/alien.png')), OPTIONS);

// Throughput with a worker pool: decoded images queued all at once.
const engine = await createFaceApiEngine({ workers });
const images = await Promise.all(files.slice(0, 400).map((f) => loadRgb(f)));
await Promise.all(images.slice(0, workers).map((image) => engine.analyze({ ...image, data: image.data.slice() }, OPTIONS)));
const started = performance.now();
await Promise.all(images.map((image) => engine.analyze(image, OPTIONS)));
const rate = images.length / ((performance.now() - started) / 1000);
await engine.close();

const lines = [
  `| measure | value |`,
  `| --- | --- |`,
  `| LFW colour found (${files.length}) | ${pct(colour.rate)} (extra faces: ${colour.extra}) |`,
  `| LFW grayscale found | ${pct(gray.rate)} (extra faces: ${gray.extra}) |`,
  `| FER 48x48 crops found (${ferFiles.length}) | ${pct(fer.rate)} |`,
  `| Blank_image.jpg faces | ${blank.length} |`,
  `| group.jpg faces | ${group.length} |`,
  `| alien.png faces | ${alien.length} |`,
  `| ms/image, 1 thread, colour LFW (full analysis) | ${colour.ms.toFixed(0)} |`,
  `| ms/image, 1 thread, grayscale LFW | ${gray.ms.toFixed(0)} |`,
  `| images/s, ${workers} workers, ${images.length} decoded LFW photos | ${rate.toFixed(2)} |`,
];
process.stdout.write(`${lines.join('\n')}\n`);
if (colour.missed.length + gray.missed.length > 0) process.stdout.write(`missed: ${[...colour.missed, ...gray.missed.map((m) => `${m} (gray)`)].join(', ')}\n`);
