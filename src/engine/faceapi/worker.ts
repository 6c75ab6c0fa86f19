/** Inference worker thread: owns one face-api runtime (models loaded once) and answers analyze jobs. */
import type { FaceAnalysis } from '../engine.js';
import { serveJobs } from '../pool.js';
import type { AnalyzeJob } from '../pool-engine.js';
import { loadFaceApiRuntime } from './runtime.js';

serveJobs<AnalyzeJob, FaceAnalysis[]>(async () => {
  const runtime = await loadFaceApiRuntime();
  return async ({ image, options }) => {
    const faces = await runtime.analyze(image, options);
    // The runtime gives every embedding and crop its own buffer, so they can move back instead of being copied.
    const transfer = faces.flatMap((face) => [face.embedding?.buffer, face.alignedCrop?.buffer]).filter((buffer) => buffer instanceof ArrayBuffer);
    return { result: faces, transfer };
  };
});
