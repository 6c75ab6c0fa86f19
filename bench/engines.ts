/**
 * The engines the benchmarks compare side by side (`--engine faceapi,onnx`), started directly from the engine
 * registry (no service). `fake` is left out: it is a stand-in for tests, not a model to measure.
 */
import type { FaceEngine } from '../src/engine/engine.js';
import { engineByName } from '../src/engine/registry.js';

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

export function startEngine(name: EngineName, workers: number | undefined): Promise<FaceEngine> {
  return engineByName(name).create(workers === undefined ? {} : { workers });
}
