import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FacedbError, type ErrorCode } from '../errors/errors.js';
import { startWorker, workerModuleUrl } from '../threads/start-worker.js';
import { AnnIndex, type AnnOptions } from './ann-index.js';

/** What the build worker is given (the vectors' buffer moves to it). */
export interface BuildRequest {
  dimensions: number;
  faceIds: Int32Array;
  personIds: Int32Array;
  vectors: Float32Array;
  options: AnnOptions;
  graphPath: string;
}

/** A finished build hands the vectors back (moved again): the index keeps them to re-rank its candidates. */
export type BuildReply = { ok: true; vectors: Float32Array } | { ok: false; code: ErrorCode; message: string };

/**
 * `AnnIndex.build` in a worker thread. usearch builds the graph in one synchronous native call (on every core):
 * at a million 512-D faces that is about ten minutes in which a server on the main thread would answer nothing,
 * not even /healthz. The worker writes the graph to a file and the index is restored from it here (about two
 * seconds at a million faces). `faces.vectors` is moved to the worker and back: unusable to the caller afterwards.
 *
 * With `graphPath` the worker writes there and the file is the caller's afterwards: saveIndex moves it into place
 * instead of writing the same graph again (about 1.3 GB at a million 512-D faces). Without it a temporary file is
 * used and removed.
 */
export async function buildAnnIndexInWorker(
  dimensions: number,
  faces: { faceIds: Int32Array; personIds: Int32Array; vectors: Float32Array },
  options: AnnOptions,
  graphPath?: string,
): Promise<AnnIndex> {
  if (faces.faceIds.length === 0) {
    const empty = new AnnIndex(dimensions, options);
    if (graphPath !== undefined) empty.saveGraph(graphPath);
    return empty;
  }
  const dir = graphPath === undefined ? await mkdtemp(join(tmpdir(), 'facedb-ann-build-')) : undefined;
  try {
    const target = graphPath ?? join(dir!, 'index.graph');
    // Only a whole buffer can move; a view into a larger one is copied once.
    const { vectors } = faces;
    const owned = vectors.byteOffset === 0 && vectors.byteLength === vectors.buffer.byteLength && vectors.buffer instanceof ArrayBuffer ? vectors : vectors.slice();
    const request: BuildRequest = { dimensions, faceIds: faces.faceIds, personIds: faces.personIds, vectors: owned, options, graphPath: target };
    const vectorsBack = await new Promise<Float32Array>((resolve, reject) => {
      const worker = startWorker(workerModuleUrl('./build-worker', import.meta.url), {
        workerData: request,
        transferList: [owned.buffer as ArrayBuffer],
      });
      worker.once('message', (reply: BuildReply) => {
        if (reply.ok) resolve(reply.vectors);
        else reject(new FacedbError(reply.code, reply.message));
      });
      worker.once('error', (error) => reject(new FacedbError('internal', `the ANN index build failed: ${error.message}`, { cause: error })));
      worker.once('exit', (code) => reject(new FacedbError('internal', `the ANN index build worker exited (code ${code}) before answering`)));
    });
    return AnnIndex.restore(dimensions, options, target, { faceIds: faces.faceIds, personIds: faces.personIds, vectors: vectorsBack });
  } catch (error) {
    if (graphPath !== undefined) await rm(graphPath, { force: true });
    throw error;
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}
