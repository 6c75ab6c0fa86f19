/** Inference worker thread: owns one set of ONNX sessions (loaded once) and answers analyze jobs. */
import { workerData } from 'node:worker_threads';
import type { FaceAnalysis } from '../engine.js';
import type { ModelPack } from './pack.js';
import { serveJobs } from '../pool.js';
import { analyzeFaces } from './pipeline.js';
import { loadSessions } from './runtime.js';
import type { AnalyzeJob } from '../pool-engine.js';

/** What createOnnxEngine hands each worker: the model pack's recogniser, when one is used. */
export interface OnnxWorkerData {
  pack?: ModelPack['recognition'];
}

serveJobs<AnalyzeJob, FaceAnalysis[]>(async () => {
  const { pack } = (workerData ?? {}) as OnnxWorkerData;
  // One thread per net: the pool already runs one worker per core, and more threads per worker only contend.
  const sessions = await loadSessions({ intraOpThreads: 1 }, pack);
  return async ({ image, options }) => {
    const faces = await analyzeFaces(sessions.run, image, options, pack);
    // Every embedding and crop has its own buffer, so they can move back instead of being copied.
    const transfer = faces.flatMap((face) => [face.embedding?.buffer, face.alignedCrop?.buffer]).filter((buffer) => buffer instanceof ArrayBuffer);
    return { result: faces, transfer };
  };
});
