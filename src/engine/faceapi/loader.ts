/**
 * The only module of the face-api engine that loads the model runtime (tfjs with its wasm backend through
 * ../tfjs-loader.ts, face-api and Human's graph models): once per thread, shared by every later call. The job
 * modules (detect.ts, describe.ts, attributes.ts) get the loaded instances from here and only import their types.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as FaceApi from '@vladmandic/face-api';
import type * as Tfjs from '@tensorflow/tfjs';
import { loadOnce } from '../load-once.js';
import { loadTfjs } from '../tfjs-loader.js';
import { loadHumanModels, type HumanModels } from './human.js';

const require = createRequire(import.meta.url);

export type Tensor3D = FaceApi.tf.Tensor3D;

/** The loaded runtime and nets of one thread. */
export interface Loaded {
  faceapi: typeof FaceApi;
  tfjs: typeof Tfjs;
  human: HumanModels;
}

/** Loads tfjs (wasm backend) and the models once per thread; a failed load is retried by the next call. */
export const loadModels: () => Promise<Loaded> = loadOnce(load);

async function load(): Promise<Loaded> {
  // face-api's wasm bundle requires @tensorflow/tfjs itself; loadTfjs's require yields that same instance.
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as typeof FaceApi;
  const tfjs = await loadTfjs();
  const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  const { nets } = faceapi;
  await Promise.all([
    nets.ssdMobilenetv1.loadFromDisk(modelDir),
    nets.faceLandmark68Net.loadFromDisk(modelDir),
    nets.faceRecognitionNet.loadFromDisk(modelDir),
    nets.faceExpressionNet.loadFromDisk(modelDir),
    nets.ageGenderNet.loadFromDisk(modelDir),
  ]);
  const human = await loadHumanModels(tfjs);
  return { faceapi, tfjs, human };
}

/** Faces per forward pass of the per-face nets: batching helps, unbounded batches would not fit in memory. */
export const FACE_BATCH_SIZE = 16;

/** face-api returns a single result, not an array, for a batch of one. */
export function asArray<T>(result: T | T[]): T[] {
  return Array.isArray(result) ? result : [result];
}
