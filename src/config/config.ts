import { z } from 'zod';
import { FacedbError } from '../errors/errors.js';

/**
 * All settings, parsed once at start-up from environment variables and command-line overrides.
 * Nothing else in facedb reads process.env.
 */
export const configSchema = z.object({
  /** SQLite file path (default store). */
  db: z.string().min(1).default('./facedb.sqlite'),
  /** Inference worker threads; default one per core. */
  workers: z.coerce.number().int().min(1).max(64).optional(),
  /** Distance at or below which a face matches; default: the model's calibrated threshold. */
  threshold: z.coerce.number().positive().max(4).optional(),
  topK: z.coerce.number().int().min(1).max(100).default(5),
  minDetectionScore: z.coerce.number().min(0).max(1).default(0.2),
  minFaceSize: z.coerce.number().int().min(0).default(20),
  maxFaces: z.coerce.number().int().min(1).max(1000).default(100),
  /** Largest decoded image accepted, in pixels (decompression-bomb guard). */
  maxPixels: z.coerce.number().int().positive().default(50_000_000),
  /** Largest encoded file accepted, in bytes. */
  maxFileBytes: z.coerce.number().int().positive().default(32 * 1024 * 1024),
});

export type FacedbConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

const ENV_KEYS: Record<keyof FacedbConfig, string> = {
  db: 'FACEDB_DB',
  workers: 'FACEDB_WORKERS',
  threshold: 'FACEDB_THRESHOLD',
  topK: 'FACEDB_TOP_K',
  minDetectionScore: 'FACEDB_MIN_DETECTION_SCORE',
  minFaceSize: 'FACEDB_MIN_FACE_SIZE',
  maxFaces: 'FACEDB_MAX_FACES',
  maxPixels: 'FACEDB_MAX_PIXELS',
  maxFileBytes: 'FACEDB_MAX_FILE_BYTES',
};

/** Environment first, then explicit overrides (CLI flags, library options) win. */
export function loadConfig(overrides: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): FacedbConfig {
  const fromEnv: Record<string, string> = {};
  for (const [key, envName] of Object.entries(ENV_KEYS)) {
    const value = env[envName];
    if (value !== undefined && value !== '') fromEnv[key] = value;
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const parsed = configSchema.safeParse({ ...fromEnv, ...defined });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.join('.');
      const envName = ENV_KEYS[key as keyof FacedbConfig];
      return `${key}${envName ? ` (${envName})` : ''}: ${issue.message}`;
    });
    throw new FacedbError('invalid_input', `invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
