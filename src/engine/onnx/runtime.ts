/**
 * The only module that touches onnxruntime-node: loads faceplugin-face-recognition-js's ONNX files from the
 * installed package (never copied into this repository), and Human's emotion net converted from its tfjs files in
 * memory, and runs them on plain float arrays.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { FacedbError } from '../../errors/errors.js';
import { humanEmotionOnnxModel } from '../human-emotion/net.js';
import type { ModelPack } from './pack.js';

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

/**
 * A pack's recogniser, refused (invalid_input) unless it loads, takes a 1x3xNxN crop of the manifest's size and
 * answers with the manifest's number of dimensions.
 */
async function openRecogniser(pack: ModelPack['recognition'], settings: SessionSettings): Promise<OnnxNet> {
  const refuse = (why: string): FacedbError => new FacedbError('invalid_input', `model pack recogniser ${pack.file}: ${why}`);
  const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));
  const net = await openNet(pack.file, settings, 'recogniser').catch((error: unknown) => {
    throw refuse(`ONNX Runtime cannot load it: ${reason(error)}`);
  });
  try {
    const side = pack.input;
    const outputs = await net.run(new Float32Array(3 * side * side), [1, 3, side, side]).catch((error: unknown) => {
      throw refuse(`it does not take the 1x3x${side}x${side} crop the manifest's input ${side} says: ${reason(error)}`);
    });
    const lengths = Object.values(outputs).map((output) => output.length);
    if (lengths[0] !== pack.dimensions) {
      throw refuse(`its output has ${lengths.join(', ')} values, but the manifest says dimensions ${pack.dimensions}`);
    }
    // Packs name their output as their exporter did; the pipeline reads the embedding as 'output' (fr_feature's name).
    return {
      run: async (input, dims): Promise<Record<string, Float32Array>> => {
        const [embedding] = Object.values(await net.run(input, dims));
        return embedding === undefined ? {} : { output: embedding };
      },
      release: () => net.release(),
    };
  } catch (error) {
    await net.release();
    throw error;
  }
}

/**
 * Every net the engine uses, loaded once; a model pack's recogniser (see pack.ts) in place of the built-in
 * 'feature' net, checked against its manifest on a blank crop.
 */
export async function loadSessions(settings: SessionSettings, pack?: ModelPack['recognition']): Promise<OnnxSessions> {
  const dir = modelDirectory();
  const nets = new Map<NetName, OnnxNet>();
  try {
    for (const [name, file] of Object.entries(NET_FILES) as [NetName, string][]) {
      if (name === 'feature' && pack) nets.set(name, await openRecogniser(pack, settings));
      else nets.set(name, await openNet(path.join(dir, file), settings, name));
    }
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
