/** Inference worker thread: owns one set of ONNX sessions (loaded once) and answers analyze jobs. */
import type { FaceAnalysis } from '../engine.js';
import { serveJobs } from '../pool.js';
import { analyzeFaces } from './pipeline.js';
import { loadSessions } from './runtime.js';
import type { AnalyzeJob } from '../pool-engine.js';

serveJobs<AnalyzeJob, FaceAnalysis[]>(async () => {
  // One thread per net: the pool already runs one worker per core, and more threads per worker only contend.
  const sessions = await loadSessions({ intraOpThreads: 1 });
  return async ({ image, options }) => {
    const faces = await analyzeFaces(sessions.run, image, options);
    // Every embedding and crop has its own buffer, so they can move back instead of being copied.
    const transfer = faces.flatMap((face) => [face.embedding?.buffer, face.alignedCrop?.buffer]).filter((buffer) => buffer instanceof ArrayBuffer);
    return { result: faces, transfer };
  };
});
