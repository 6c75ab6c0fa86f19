/**
 * The engines facedb can run, by name: one entry each. A gallery remembers the model it was enrolled with
 * (id and version); `engineForModel` finds the engine that embeds with exactly that model, so an existing gallery
 * always opens with its own engine, whatever the default is today.
 */
import { calibrationKey, type ModelCalibration } from '../core/confidence.js';
import type { ModelInfo } from '../core/types.js';
import { FacedbError } from '../errors/errors.js';
import type { FaceEngine } from './engine.js';
import { createFaceApiEngine, FACEAPI_CALIBRATION, FACEAPI_MODEL } from './faceapi/engine.js';
import { createFakeEngine, FAKE_MODEL } from './fake/engine.js';
import { createOnnxEngine, ONNX_CALIBRATION, ONNX_MODEL } from './onnx/engine.js';

export interface EngineOptions {
  /** Inference worker threads; default one per core. */
  workers?: number;
}

export interface EngineEntry {
  /** The model every face it embeds is pinned to. */
  model: ModelInfo;
  /** Its measured calibration (the same object the engine reports), readable without loading the models. */
  calibration: ModelCalibration | undefined;
  /** One line for `--help` and error messages. */
  description: string;
  create(options: EngineOptions): Promise<FaceEngine>;
}

/** Every engine, by the name `FACEDB_ENGINE` / `--engine` takes. Adding an engine is adding one entry. */
export const ENGINES = {
  onnx: {
    model: ONNX_MODEL,
    calibration: ONNX_CALIBRATION,
    description: 'MobileFaceNet-512 on ONNX Runtime (faceplugin-face-recognition-js): 5-point ArcFace alignment, expression net',
    create: (options) => createOnnxEngine(options),
  },
  faceapi: {
    model: FACEAPI_MODEL,
    calibration: FACEAPI_CALIBRATION,
    description: 'face-api ResNet-128 descriptor (128-D) on tfjs-wasm, BlazeFace/SSD detection',
    create: (options) => createFaceApiEngine(options),
  },
  fake: {
    model: FAKE_MODEL,
    calibration: undefined,
    description: 'a deterministic stand-in for tests: recognises only the very same photo',
    create: () => createFakeEngine(),
  },
} as const satisfies Record<string, EngineEntry>;

export type EngineName = keyof typeof ENGINES;

/** The engine a new gallery gets when none is configured. */
export const DEFAULT_ENGINE: EngineName = 'onnx';

export const ENGINE_NAMES = Object.keys(ENGINES) as EngineName[];

function isEngineName(name: string): name is EngineName {
  return Object.hasOwn(ENGINES, name);
}

/** The engine of a configured name; invalid_input naming the known ones otherwise. */
export function engineByName(name: string): EngineEntry & { name: EngineName } {
  if (!isEngineName(name)) {
    throw new FacedbError('invalid_input', `unknown engine ${JSON.stringify(name)}: choose one of ${ENGINE_NAMES.join(', ')}`);
  }
  return { name, ...ENGINES[name] };
}

/** The engine that embeds with exactly this model id and version, if any. */
export function engineForModel(model: Pick<ModelInfo, 'id' | 'version'>): (EngineEntry & { name: EngineName }) | undefined {
  const name = ENGINE_NAMES.find((candidate) => calibrationKey(ENGINES[candidate].model) === calibrationKey(model));
  return name === undefined ? undefined : { name, ...ENGINES[name] };
}
