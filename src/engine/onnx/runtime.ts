/**
 * The only module that touches onnxruntime-node: loads faceplugin-face-recognition-js's ONNX files from the
 * installed package (never copied into this repository), and Human's emotion net converted from its tfjs files in
 * memory, and runs them on plain float arrays.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { humanEmotionOnnxModel } from '../human-emotion/net.js';

const require = createRequire(import.meta.url);

/** The nets facedb uses, by file name in the package's model/ folder. */
export const NET_FILES = {
  detect: 'fr_detect.onnx',
  landmark: 'fr_landmark.onnx',
  feature: 'fr_feature.onnx',
  expression: 'fr_expression.onnx',
  age: 'fr_age.onnx',
  gender: 'fr_gender.onnx',
} as const;

/** Nets built in memory from another package's files: name → the serialised ONNX model. */
const BUILT_NETS = {
  humanEmotion: humanEmotionOnnxModel,
} as const;

export type NetName = keyof typeof NET_FILES | keyof typeof BUILT_NETS;

/** Runs one net on a single input tensor; returns every output by name. */
export type RunNet = (net: NetName, input: Float32Array, dims: readonly number[]) => Promise<Record<string, Float32Array>>;

export interface OnnxSessions {
  run: RunNet;
  release(): Promise<void>;
}

export interface SessionSettings {
  /** Threads each net may use inside one operator; 1 when every core already runs its own worker. */
  intraOpThreads: number;
}

/** Folder of the installed package's ONNX files. */
export function modelDirectory(): string {
  return path.join(path.dirname(require.resolve('faceplugin-face-recognition-js/package.json')), 'model');
}

/** One loaded net: runs it on a single input tensor and returns every output by name. */
export interface OnnxNet {
  run(input: Float32Array, dims: readonly number[]): Promise<Record<string, Float32Array>>;
  release(): Promise<void>;
}

/** Loads one net from an .onnx file or a serialised model (see model-proto.ts). */
export async function openNet(model: string | Uint8Array, settings: SessionSettings, label = typeof model === 'string' ? path.basename(model) : 'net'): Promise<OnnxNet> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: settings.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // The age and gender graphs list their weights as inputs too (an old exporter); ORT warns about each one.
    logSeverityLevel: 3,
  };
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  const [inputName] = session.inputNames;
  if (inputName === undefined) {
    await session.release();
    throw new Error(`net ${label} has no input`);
  }
  return {
    run: async (input, dims) => {
      const outputs = await session.run({ [inputName]: new ort.Tensor('float32', input, dims) });
      const result: Record<string, Float32Array> = {};
      for (const [name, tensor] of Object.entries(outputs)) {
        if (!(tensor.data instanceof Float32Array)) throw new Error(`net ${label} output ${name} is not float32`);
        result[name] = tensor.data;
      }
      return result;
    },
    release: () => session.release(),
  };
}

/** Every net the engine uses, loaded once. */
export async function loadSessions(settings: SessionSettings): Promise<OnnxSessions> {
  const dir = modelDirectory();
  const nets = new Map<NetName, OnnxNet>();
  try {
    for (const [name, file] of Object.entries(NET_FILES) as [NetName, string][]) nets.set(name, await openNet(path.join(dir, file), settings, name));
    for (const [name, build] of Object.entries(BUILT_NETS) as [NetName, () => Promise<Uint8Array>][]) nets.set(name, await openNet(await build(), settings, name));
  } catch (error) {
    await Promise.all([...nets.values()].map((net) => net.release()));
    throw error;
  }
  return {
    run: async (name, input, dims) => {
      const net = nets.get(name);
      if (!net) throw new Error(`net ${name} is not loaded`);
      return net.run(input, dims);
    },
    release: async () => {
      await Promise.all([...nets.values()].map((net) => net.release()));
      nets.clear();
    },
  };
}
