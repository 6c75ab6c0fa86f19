/**
 * The only module that loads tfjs, on its wasm backend, once per thread: engine v4 (faceapi/loader.ts) runs
 * face-api and Human's graph models on the whole @tensorflow/tfjs bundle (loadTfjs), on top of tfjs-core and its
 * wasm backend (loadTfjsCore). Engine v5 never loads tfjs: it runs Human's emotion net converted to ONNX.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Tfjs from '@tensorflow/tfjs';
import type * as TfjsWasm from '@tensorflow/tfjs-backend-wasm';
import type * as TfjsConverter from '@tensorflow/tfjs-converter';
import type * as TfjsCore from '@tensorflow/tfjs-core';
import { loadOnce } from './load-once.js';

const require = createRequire(import.meta.url);

export interface TfjsCoreRuntime {
  tf: typeof TfjsCore;
  loadGraphModel: typeof TfjsConverter.loadGraphModel;
}

/** tfjs-core with the wasm backend ready, and the converter's loadGraphModel; a failed load is retried by the next call. */
export const loadTfjsCore: () => Promise<TfjsCoreRuntime> = loadOnce(initCore);

async function initCore(): Promise<TfjsCoreRuntime> {
  const tf = require('@tensorflow/tfjs-core') as typeof TfjsCore;
  const converter = require('@tensorflow/tfjs-converter') as typeof TfjsConverter;
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof TfjsWasm;
  // A plain path prefix: with the platform-fetch flag tfjs would try Node's fetch, which cannot read files.
  wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend could not be initialised');
  await tf.ready();
  tf.enableProdMode();
  return { tf, loadGraphModel: converter.loadGraphModel };
}

/** The whole @tensorflow/tfjs bundle (what face-api requires) on the same tfjs-core instance and wasm backend. */
export async function loadTfjs(): Promise<typeof Tfjs> {
  // face-api's wasm bundle requires @tensorflow/tfjs itself; requiring it here yields that same instance.
  const tfjs = require('@tensorflow/tfjs') as typeof Tfjs;
  await loadTfjsCore();
  if (tfjs.getBackend() !== 'wasm') throw new Error(`tfjs runs on ${tfjs.getBackend()}, not wasm`);
  return tfjs;
}
