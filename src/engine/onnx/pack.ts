/**
 * Model packs: a folder holding an ArcFace-convention recogniser (ONNX, 112x112 crop aligned on the five ArcFace
 * points) and a manifest `facedb-pack.json` saying how to feed it. The ONNX engine runs it in place of its built-in
 * recogniser; detection, landmarks, emotion, age and gender stay the built-in nets. This module reads and checks the
 * manifest (no runtime here); runtime.ts checks the net itself against it when a worker loads it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ModelInfo } from '../../core/types.js';
import { FacedbError } from '../../errors/errors.js';

export const PACK_MANIFEST = 'facedb-pack.json';

/** The crop side every ArcFace-convention recogniser takes (the template of src/engine/align.ts). */
export const ARCFACE_INPUT = 112;

/** How the recogniser is fed: the aligned crop's side, plane order, and pixel → (pixel − mean) / std. */
export interface Recogniser {
  input: number;
  channels: 'bgr' | 'rgb';
  mean: number;
  std: number;
  /** Length of its output, the embedding. */
  dimensions: number;
}

export interface ModelPack {
  /** The folder, absolute. */
  dir: string;
  id: string;
  version: string;
  recognition: Recogniser & { /** The .onnx file, absolute. */ file: string };
}

/**
 * A gallery enrolled with a pack is pinned to `pack:<id>` at the pack's version, so the pin alone says that it needs
 * a pack (and which), and no pack can pass for a built-in model.
 */
const PACK_ID_PREFIX = 'pack:';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

const manifestSchema = z.object({
  id: z.string().regex(NAME, 'letters, digits and . _ + - (at most 64, starting with a letter or digit)'),
  version: z.string().regex(NAME, 'letters, digits and . _ + - (at most 64, starting with a letter or digit)'),
  recognition: z.object({
    file: z.string().min(1),
    input: z.literal(ARCFACE_INPUT, { error: `must be ${ARCFACE_INPUT}: facedb aligns faces to ArcFace's ${ARCFACE_INPUT}x${ARCFACE_INPUT} template` }),
    channels: z.enum(['BGR', 'RGB'], { error: 'must be "BGR" or "RGB" (the order of the colour planes the net reads)' }),
    mean: z.number(),
    std: z.number().positive(),
    dimensions: z.number().int().min(2).max(4096),
  }),
});

/** Reads and checks `<dir>/facedb-pack.json`; invalid_input naming the problem (the manifest's path in each message). */
export function readModelPack(dir: string): ModelPack {
  const root = path.resolve(dir);
  const manifestPath = path.join(root, PACK_MANIFEST);
  if (!existsSync(manifestPath)) {
    throw new FacedbError('invalid_input', `model pack ${root} has no ${PACK_MANIFEST} (see README, "Model packs")`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw new FacedbError('invalid_input', `model pack manifest ${manifestPath} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(manifest)'}: ${issue.message}`);
    throw new FacedbError('invalid_input', `model pack manifest ${manifestPath}: ${problems.join('; ')}`);
  }
  const { id, version, recognition } = parsed.data;
  const file = path.resolve(root, recognition.file);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new FacedbError('invalid_input', `model pack manifest ${manifestPath}: recognition.file ${recognition.file} does not exist (looked for ${file})`);
  }
  return {
    dir: root,
    id,
    version,
    recognition: { ...recognition, file, channels: recognition.channels === 'BGR' ? 'bgr' : 'rgb' },
  };
}

/**
 * What a gallery enrolled with the pack is pinned to. Unit-length embeddings compared by euclidean distance, as the
 * built-in recogniser's. A pack has no measured threshold: `defaultThreshold` is stored with the pin but never used
 * (packDefaultThreshold refuses until the gallery is calibrated or a threshold is given).
 */
export function packModel(pack: Pick<ModelPack, 'id' | 'version' | 'recognition'>): ModelInfo {
  return { id: PACK_ID_PREFIX + pack.id, version: pack.version, dimensions: pack.recognition.dimensions, metric: 'euclidean', defaultThreshold: 0 };
}

/** True when the model is a pack's (see packModel). */
export function isPackModel(model: Pick<ModelInfo, 'id'>): boolean {
  return model.id.startsWith(PACK_ID_PREFIX);
}

/** The pack's own id from a pinned model id (`pack:<id>` → `<id>`). */
export function packIdOf(model: Pick<ModelInfo, 'id'>): string {
  return model.id.slice(PACK_ID_PREFIX.length);
}
