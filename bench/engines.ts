/**
 * The engines the benchmarks compare side by side (`--engine faceapi,onnx`), started directly from the engine
 * registry (no service). `fake` is left out: it is a stand-in for tests, not a model to measure.
 */
import { calibrationKey } from '../src/core/confidence.js';
import type { FaceEngine } from '../src/engine/engine.js';
import { engineByName, engineForModel, ENGINES, ENGINE_NAMES as BUILT } from '../src/engine/registry.js';

export const ENGINE_NAMES = ['faceapi', 'onnx'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** Parses `--engine a,b` (default: every engine). */
export function engineList(value: string | undefined): EngineName[] {
  const names = (value ?? ENGINE_NAMES.join(',')).split(',').map((n) => n.trim()).filter(Boolean);
  for (const name of names) {
    if (!(ENGINE_NAMES as readonly string[]).includes(name)) throw new Error(`unknown engine ${name}: use ${ENGINE_NAMES.join(', ')}`);
  }
  return names as EngineName[];
}

/** Starts an engine by name (`onnx`) or by the model it runs (`faceapi-resnet128@4`, as bench:cluster's cache names it). */
export function startEngine(spec: string, workers: number | undefined): Promise<FaceEngine> {
  const [id = '', version] = spec.split('@');
  const entry = version === undefined ? engineByName(spec) : engineForModel({ id, version });
  if (entry === undefined) throw new Error(`engine ${spec} is not available here (this build has ${BUILT.map((name) => calibrationKey(ENGINES[name].model)).join(', ')})`);
  return entry.create(workers === undefined ? {} : { workers });
}
