/**
 * Engine throughput alone: N decoded LFW photos queued at once on a pool of --workers workers (default 2).
 *   node --import tsx research/models/throughput.ts [--limit 300] [--workers 2]
 */
import type { AnalyzeOptions } from '../../src/engine/engine.js';
import { createFaceApiEngine } from '../../src/engine/faceapi/engine.js';
import { argValue, lfwFiles, loadRgb } from './common.js';
import { FACE_ATTRIBUTES } from '../../src/core/types.js';

const OPTIONS: AnalyzeOptions = { minDetectionScore: 0.2, maxFaces: 100, minFaceSize: 20, needs: { embedding: true, attributes: FACE_ATTRIBUTES, crop: false } };
const workers = Number(argValue('workers') ?? 2);
const images = await Promise.all(lfwFiles().slice(0, Number(argValue('limit') ?? 300)).map((f) => loadRgb(f)));
const engine = await createFaceApiEngine({ workers });
await Promise.all(images.slice(0, workers * 2).map((image) => engine.analyze({ ...image, data: image.data.slice() }, OPTIONS)));
const started = performance.now();
await Promise.all(images.map((image) => engine.analyze(image, OPTIONS)));
const seconds = (performance.now() - started) / 1000;
await engine.close();
process.stdout.write(`${images.length} photos, ${workers} workers: ${(images.length / seconds).toFixed(2)} images/s (${((1000 * seconds * workers) / images.length).toFixed(0)} ms/image/thread)\n`);
