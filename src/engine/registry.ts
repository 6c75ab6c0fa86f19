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
import { isPackModel, packIdOf, packModel, type ModelPack } from './onnx/pack.js';

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

/** The onnx engine running a model pack's recogniser (see onnx/pack.ts) beside its built-in nets. */
export function packEngine(pack: ModelPack): EngineEntry & { name: EngineName } {
  return {
    name: 'onnx',
    model: packModel(pack),
    calibration: undefined,
    description: `model pack ${pack.id} ${pack.version} (${pack.dir}) on the onnx engine`,
    create: (options) => createOnnxEngine({ ...options, pack }),
  };
}

/**
 * The engine of a configured name; invalid_input naming the known ones otherwise. With a model pack, the onnx
 * engine running it (the only engine a pack runs on).
 */
export function engineByName(name: string, pack?: ModelPack): EngineEntry & { name: EngineName } {
  if (pack !== undefined) {
    if (name !== 'onnx') throw new FacedbError('invalid_input', `a model pack runs on the onnx engine, not ${JSON.stringify(name)}: drop --engine/FACEDB_ENGINE or the pack`);
    return packEngine(pack);
  }
  if (!isEngineName(name)) {
    throw new FacedbError('invalid_input', `unknown engine ${JSON.stringify(name)}: choose one of ${ENGINE_NAMES.join(', ')}`);
  }
  return { name, ...ENGINES[name] };
}

/** The engine that embeds with exactly this model id and version (the given model pack's included), if any. */
export function engineForModel(model: Pick<ModelInfo, 'id' | 'version'>, pack?: ModelPack): (EngineEntry & { name: EngineName }) | undefined {
  if (pack !== undefined && calibrationKey(packModel(pack)) === calibrationKey(model)) return packEngine(pack);
  const name = ENGINE_NAMES.find((candidate) => calibrationKey(ENGINES[candidate].model) === calibrationKey(model));
  return name === undefined ? undefined : { name, ...ENGINES[name] };
}

/**
 * The threshold a model falls back to when nothing else gives one (no threshold or FAR asked for, no calibration of
 * the gallery's or the engine's). A model pack has no measured threshold: invalid_input saying how to get one.
 */
export function fallbackThreshold(model: ModelInfo): number {
  if (!isPackModel(model)) return model.defaultThreshold;
  throw new FacedbError(
    'invalid_input',
    `model pack ${packIdOf(model)} ${model.version} has no calibration, so facedb cannot tell a match from a stranger yet: ` +
      'calibrate the gallery on labelled photos of your people with `facedb evaluate <folder> --apply`, or give a threshold (--threshold / FACEDB_THRESHOLD)',
    { details: { model: calibrationKey(model) } },
  );
}
