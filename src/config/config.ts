import { createHash } from 'node:crypto';
import { z } from 'zod';
import { FacedbError } from '../errors/errors.js';

export const API_SCOPES = ['read', 'admin'] as const;
export const INDEX_MODES = ['auto', 'exact', 'sketch', 'ann', 'pgvector'] as const;
/** Target FAR accepted (CLI, environment, HTTP): rates below 1e-6 were never measured, and above 0.1 one probe in ten matches anyone. */
export const FAR_RANGE = { min: 1e-6, max: 0.1 } as const;
export type IndexMode = (typeof INDEX_MODES)[number];
export type ApiScope = (typeof API_SCOPES)[number];

/** An accepted API key, kept only as the SHA-256 of the key so plaintext keys do not linger in memory or logs. */
export interface ApiKey {
  scope: ApiScope;
  sha256: string;
}

/**
 * Parses API key entries `scope:key` (or `scope:sha256:<hex>` for a pre-hashed key), separated by
 * commas (environment) or newlines with `#` comments (key file). Throws a message naming the bad entry.
 */
export function parseApiKeys(text: string, source: string): ApiKey[] {
  const keys: ApiKey[] = [];
  const entries = text.split(/[,\n]/).map((line) => line.replace(/#.*$/, '').trim());
  entries.forEach((entry, i) => {
    if (entry === '') return;
    const colon = entry.indexOf(':');
    const scope = entry.slice(0, colon);
    const secret = entry.slice(colon + 1).trim();
    if (colon < 0 || !(API_SCOPES as readonly string[]).includes(scope) || secret === '') {
      throw new Error(`${source} entry ${i + 1} must look like read:<key> or admin:<key>`);
    }
    const hashed = /^sha256:([0-9a-fA-F]{64})$/.exec(secret);
    if (!hashed && secret.startsWith('sha256:')) throw new Error(`${source} entry ${i + 1}: sha256: needs 64 hex digits`);
    if (!hashed && secret.length < 16) throw new Error(`${source} entry ${i + 1}: keys must be at least 16 characters`);
    const sha256 = hashed?.[1]?.toLowerCase() ?? createHash('sha256').update(secret).digest('hex');
    keys.push({ scope: scope as ApiScope, sha256 });
  });
  return keys;
}

/**
 * All settings, parsed once at start-up from environment variables and command-line overrides.
 * Nothing else in facedb reads process.env.
 */
export const configSchema = z.object({
  /** SQLite file path (default store). */
  db: z.string().min(1).default('./facedb.sqlite'),
  /** Inference worker threads; default one per core. */
  workers: z.coerce.number().int().min(1).max(64).optional(),
  /**
   * Face engine by name (see src/engine/registry.ts, which checks the name when the gallery is opened): what a new
   * gallery is enrolled with. An existing gallery always opens with the engine it was enrolled with; naming another
   * one is refused (model_mismatch). Unset: the default engine for new galleries.
   */
  engine: z.string().trim().min(1).optional(),
  /**
   * Folder of a model pack (an ArcFace-convention recogniser and its `facedb-pack.json`, src/engine/onnx/pack.ts) that
   * embeds instead of the onnx engine's built-in recogniser; a gallery enrolled with it needs it to open.
   */
  modelPack: z.string().trim().min(1).optional(),
  /** Distance at or below which a face matches; default: the model's calibrated threshold. */
  threshold: z.coerce.number().positive().max(4).optional(),
  /**
   * Target false-accept rate (e.g. 0.001) instead of a threshold: the threshold is looked up in the model's
   * measured ROC (the engine's calibration, src/engine/<engine>/calibration.ts). Not together with `threshold`.
   */
  targetFar: z.coerce.number().min(FAR_RANGE.min).max(FAR_RANGE.max).optional(),
  topK: z.coerce.number().int().min(1).max(100).default(5),
  minDetectionScore: z.coerce.number().min(0).max(1).default(0.2),
  minFaceSize: z.coerce.number().int().min(0).default(20),
  maxFaces: z.coerce.number().int().min(1).max(1000).default(100),
  /** Largest decoded image accepted, in pixels (decompression-bomb guard). */
  maxPixels: z.coerce.number().int().positive().default(50_000_000),
  /** Largest encoded file accepted, in bytes. */
  maxFileBytes: z.coerce.number().int().positive().default(32 * 1024 * 1024),
  /**
   * Photos whose longer side exceeds this are shrunk to it while decoding: it bounds the memory one photo
   * takes (pixels and the engine's tensors) and costs no accuracy, since the detectors see 256-512 pixels.
   */
  maxImageSide: z.coerce.number().int().min(256).max(20_000).default(2048),

  // ---- HTTP server (`facedb serve`)
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port (tests). */
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  /**
   * `admin:<key>,read:<key>,…`; parsed here so a bad entry stops start-up. Already-parsed keys pass
   * through, because openFacedb() re-validates a parsed configuration.
   */
  apiKeys: z.preprocess(
    (value, ctx) => {
      if (typeof value !== 'string') return value;
      try {
        return parseApiKeys(value, 'FACEDB_API_KEYS');
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return [];
      }
    },
    z.array(z.object({ scope: z.enum(API_SCOPES), sha256: z.string().regex(/^[0-9a-f]{64}$/) })).default([]),
  ),
  /** File with one `scope:key` per line, added to apiKeys; read by `facedb serve` at start-up. */
  apiKeyFile: z.string().min(1).optional(),
  /** Largest request body; uploads are also held to maxFileBytes per image. */
  bodyLimitBytes: z.coerce.number().int().positive().default(20 * 1024 * 1024),
  /** A request still unanswered after this long gets 503 overloaded. */
  requestTimeoutMs: z.coerce.number().int().positive().default(30_000),
  /** Inference jobs allowed to wait for a worker before new requests get 503 overloaded. */
  maxQueue: z.coerce.number().int().min(1).default(32),
  /** Highest `max_faces` a request may ask for. */
  maxFacesPerImage: z.coerce.number().int().min(1).max(1000).default(100),
  /** Longest a shutdown waits for in-flight requests. */
  shutdownTimeoutMs: z.coerce.number().int().positive().default(30_000),

  // ---- search index (src/search/)
  /**
   * `auto`: exact search below annThreshold faces, the binary-sketch search (the nearest sketches ranked by exact
   * distance, src/search/sketch-settings.ts) from there on; `exact` / `sketch` / `ann` (an HNSW graph, saved between
   * runs): always that one; `pgvector`: search in PostgreSQL with the vector extension (PostgreSQL galleries only).
   */
  index: z.enum(INDEX_MODES).default('auto'),
  /** Faces from which `auto` switches from exact search to the sketch search. */
  annThreshold: z.coerce.number().int().min(0).default(100_000),
  /**
   * Candidates the HNSW search (`ann`) keeps (ef_search): higher finds more of the exact answers, slower. Default: 256 for
   * embeddings up to 256-D, 1024 above (bench:scale). Applied when the index is loaded; no rebuild needed.
   */
  annEfSearch: z.coerce.number().int().min(16).max(100_000).optional(),
  /**
   * Where the approximate index of a PostgreSQL gallery is saved between runs (a SQLite gallery's is saved beside
   * its file); unset: rebuilt at each start.
   */
  indexCacheDir: z.string().min(1).optional(),

  /** Makes the test-only engines (`fake`) choosable; facedb's own test runner sets it. Off in production. */
  testEngines: z.preprocess((value) => (typeof value === 'string' ? value === '1' || value.toLowerCase() === 'true' : value), z.boolean().default(false)),

  // ---- video (`facedb watch`)
  /** A stream or camera that delivers no frame for this long has stopped: the watch ends and says so. */
  watchStallMs: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** The ffmpeg binary that decodes video (default: `ffmpeg` on the PATH). */
  ffmpeg: z.string().min(1).default('ffmpeg'),
});

export type FacedbConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

const ENV_KEYS: Record<keyof FacedbConfig, string> = {
  db: 'FACEDB_DB',
  workers: 'FACEDB_WORKERS',
  engine: 'FACEDB_ENGINE',
  modelPack: 'FACEDB_MODEL_PACK',
  threshold: 'FACEDB_THRESHOLD',
  targetFar: 'FACEDB_TARGET_FAR',
  topK: 'FACEDB_TOP_K',
  minDetectionScore: 'FACEDB_MIN_DETECTION_SCORE',
  minFaceSize: 'FACEDB_MIN_FACE_SIZE',
  maxFaces: 'FACEDB_MAX_FACES',
  maxPixels: 'FACEDB_MAX_PIXELS',
  maxFileBytes: 'FACEDB_MAX_FILE_BYTES',
  maxImageSide: 'FACEDB_MAX_IMAGE_SIDE',
  host: 'FACEDB_HOST',
  port: 'FACEDB_PORT',
  apiKeys: 'FACEDB_API_KEYS',
  apiKeyFile: 'FACEDB_API_KEY_FILE',
  bodyLimitBytes: 'FACEDB_BODY_LIMIT_BYTES',
  requestTimeoutMs: 'FACEDB_REQUEST_TIMEOUT_MS',
  maxQueue: 'FACEDB_MAX_QUEUE',
  maxFacesPerImage: 'FACEDB_MAX_FACES_PER_IMAGE',
  shutdownTimeoutMs: 'FACEDB_SHUTDOWN_TIMEOUT_MS',
  index: 'FACEDB_INDEX',
  annThreshold: 'FACEDB_ANN_THRESHOLD',
  annEfSearch: 'FACEDB_ANN_EF_SEARCH',
  indexCacheDir: 'FACEDB_INDEX_CACHE_DIR',
  testEngines: 'FACEDB_TEST_ENGINES',
  watchStallMs: 'FACEDB_WATCH_STALL_MS',
  ffmpeg: 'FACEDB_FFMPEG',
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
  if (parsed.data.index === 'pgvector' && !isPostgresUrl(parsed.data.db)) {
    throw new FacedbError('invalid_input', 'invalid configuration: index (FACEDB_INDEX) pgvector needs a PostgreSQL gallery (db is not a postgres:// URL)');
  }
  return parsed.data;
}

/** A PostgreSQL URL selects the PostgreSQL store; anything else is a SQLite file. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}
