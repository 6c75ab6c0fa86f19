/**
 * The engines the benchmarks compare side by side (`--engine faceapi,onnx`), started directly (no service).
 * The face-api engine is wrapped when it still speaks the v4 interface (one `withCrop` flag, attributes at the top
 * level); once it implements the v5 interface it is used as it is.
 */
import type { ModelCalibration } from '../src/core/confidence.js';
import type { EmotionScores, Gender } from '../src/core/types.js';
import type { AnalyzeOptions, FaceAnalysis, FaceEngine } from '../src/engine/engine.js';
import { CALIBRATION as FACEAPI_CALIBRATION, CALIBRATION_MODEL as FACEAPI_CALIBRATION_MODEL } from '../src/engine/faceapi/calibration.js';
import { createFaceApiEngine } from '../src/engine/faceapi/engine.js';
import { createOnnxEngine } from '../src/engine/onnx/engine.js';
import type { RgbImage } from '../src/image/image.js';

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

/** The v4 face-api result, for the adapter. */
interface V4Analysis {
  box: FaceAnalysis['box'];
  detectionScore: number;
  landmarks: FaceAnalysis['landmarks'];
  embedding: Float32Array;
  emotion: EmotionScores;
  age: number;
  gender: Gender;
  genderProbability: number;
  alignedCrop?: Uint8Array;
}
interface V4Engine {
  model: FaceEngine['model'];
  queueDepth: number;
  analyze(image: RgbImage, options: Omit<AnalyzeOptions, 'needs'> & { withCrop: boolean }): Promise<V4Analysis[]>;
  close(): Promise<void>;
}

function adaptV4(engine: V4Engine, calibration: ModelCalibration | undefined): FaceEngine {
  return {
    model: engine.model,
    landmarkLayout: 'ibug68',
    calibration,
    get queueDepth() {
      return engine.queueDepth;
    },
    analyze: async (image, options) => {
      const { needs, ...rest } = options;
      const faces = await engine.analyze(image, { ...rest, withCrop: needs.crop });
      return faces.map((f): FaceAnalysis => {
        const out: FaceAnalysis = { box: f.box, detectionScore: f.detectionScore, landmarks: f.landmarks };
        if (needs.embedding) out.embedding = f.embedding;
        if (needs.attributes) out.attributes = { emotion: f.emotion, age: f.age, gender: f.gender, genderProbability: f.genderProbability };
        if (needs.crop && f.alignedCrop) out.alignedCrop = f.alignedCrop;
        return out;
      });
    },
    close: () => engine.close(),
  };
}

export async function startEngine(name: EngineName, workers: number | undefined): Promise<FaceEngine> {
  const options = workers === undefined ? {} : { workers };
  if (name === 'onnx') return createOnnxEngine(options);
  const engine = (await createFaceApiEngine(options)) as unknown as FaceEngine | V4Engine;
  if ('landmarkLayout' in engine) return engine;
  const key = `${engine.model.id}@${engine.model.version}`;
  return adaptV4(engine, FACEAPI_CALIBRATION_MODEL === key ? FACEAPI_CALIBRATION : undefined);
}
