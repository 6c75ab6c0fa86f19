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
} as const satisfies Record<string, EngineEntry>;

/** An engine a user can choose. */
export type ProductEngineName = keyof typeof ENGINES;
/** Any engine, the test-only ones included. */
export type EngineName = ProductEngineName | 'fake';

/** The engine a new gallery gets when none is configured. */
export const DEFAULT_ENGINE: EngineName = 'onnx';

/** The engines a user can choose. */
export const ENGINE_NAMES = Object.keys(ENGINES) as ProductEngineName[];

/**
 * Engines for facedb's own tests (`fake`: a deterministic stand-in that recognises only the very same photo). They are
 * not part of the product build (tsconfig.json leaves src/engine/fake out; `npm test` builds with
 * tsconfig.test-build.json) and exist only after registerTestEngines(), which openFacedb calls when the configuration
 * says so (FACEDB_TEST_ENGINES=1, set by the test runner).
 */
const testEngines = new Map<string, EngineEntry>();

/** Loads the test-only engines; invalid_input in a product build, which does not have them. */
export async function registerTestEngines(): Promise<void> {
  if (testEngines.size > 0) return;
  // Not a literal, so the compiler does not pull the test engine into the product build.
  const fakeModule: string = './fake/engine.js';
  let loaded: { FAKE_MODEL: ModelInfo; createFakeEngine: () => Promise<FaceEngine> };
  try {
    loaded = (await import(fakeModule)) as typeof loaded;
  } catch (error) {
    throw new FacedbError('invalid_input', 'FACEDB_TEST_ENGINES is set, but this build of facedb has no test engines (they are built by `npm test` only)', { cause: error });
  }
  testEngines.set('fake', {
    model: loaded.FAKE_MODEL,
    calibration: undefined,
    description: 'a deterministic stand-in for tests: recognises only the very same photo',
    create: () => loaded.createFakeEngine(),
  });
}

/** A chosen engine by name: a product engine, or a test engine once registered. */
function entryByName(name: string): EngineEntry | undefined {
  return Object.hasOwn(ENGINES, name) ? ENGINES[name as keyof typeof ENGINES] : testEngines.get(name);
}

/** Every engine that can be chosen now (test engines only once registered). */
function availableNames(): EngineName[] {
  return [...ENGINE_NAMES, ...([...testEngines.keys()] as EngineName[])];
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
  const entry = entryByName(name);
  if (entry === undefined) {
    throw new FacedbError('invalid_input', `unknown engine ${JSON.stringify(name)}: choose one of ${ENGINE_NAMES.join(', ')}`);
  }
  return { name: name as EngineName, ...entry };
}

/** The engine that embeds with exactly this model id and version (the given model pack's included), if any. */
export function engineForModel(model: Pick<ModelInfo, 'id' | 'version'>, pack?: ModelPack): (EngineEntry & { name: EngineName }) | undefined {
  if (pack !== undefined && calibrationKey(packModel(pack)) === calibrationKey(model)) return packEngine(pack);
  const name = availableNames().find((candidate) => calibrationKey(entryByName(candidate)!.model) === calibrationKey(model));
  return name === undefined ? undefined : engineByName(name);
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
