/**
 * Worker thread entry that builds an ANN graph (see build-in-worker.ts) and writes it to the path it was given.
 * Building a million-face graph takes minutes of native work; here it cannot stall the server's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toFacedbError } from '../errors/errors.js';
import { AnnIndex } from './ann-index.js';
import type { BuildReply, BuildRequest } from './build-in-worker.js';

const request = workerData as BuildRequest;
let reply: BuildReply;
try {
  AnnIndex.writeGraph(request.dimensions, request, request.options, request.graphPath);
  reply = { ok: true, vectors: request.vectors };
} catch (error) {
  const failure = toFacedbError(error);
  reply = { ok: false, code: failure.code, message: failure.message };
}
parentPort?.postMessage(reply, reply.ok ? [reply.vectors.buffer as ArrayBuffer] : []);
