/**
 * The only module that touches onnxruntime-node: loads faceplugin-face-recognition-js's ONNX files from the
 * installed package (never copied into this repository) and runs them on plain float arrays.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

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
export type NetName = keyof typeof NET_FILES;

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

export async function loadSessions(settings: SessionSettings): Promise<OnnxSessions> {
  const dir = modelDirectory();
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: settings.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // The age and gender graphs list their weights as inputs too (an old exporter); ORT warns about each one.
    logSeverityLevel: 3,
  };
  const names = Object.keys(NET_FILES) as NetName[];
  const sessions = new Map<NetName, ort.InferenceSession>();
  try {
    for (const name of names) sessions.set(name, await ort.InferenceSession.create(path.join(dir, NET_FILES[name]), options));
  } catch (error) {
    await Promise.all([...sessions.values()].map((s) => s.release()));
    throw error;
  }
  return {
    run: async (net, input, dims) => {
      const session = sessions.get(net);
      if (!session) throw new Error(`net ${net} is not loaded`);
      const [inputName] = session.inputNames;
      if (inputName === undefined) throw new Error(`net ${net} has no input`);
      const outputs = await session.run({ [inputName]: new ort.Tensor('float32', input, dims) });
      const result: Record<string, Float32Array> = {};
      for (const [name, tensor] of Object.entries(outputs)) {
        if (!(tensor.data instanceof Float32Array)) throw new Error(`net ${net} output ${name} is not float32`);
        result[name] = tensor.data;
      }
      return result;
    },
    release: async () => {
      await Promise.all([...sessions.values()].map((s) => s.release()));
      sessions.clear();
    },
  };
}
