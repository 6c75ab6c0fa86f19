import { loadConfig, type ConfigInput, type FacedbConfig } from './config/config.js';
import { calibrationKey } from './core/confidence.js';
import type { FaceEngine } from './engine/engine.js';
import { DEFAULT_ENGINE, ENGINE_NAMES, engineByName, engineForModel, registerTestEngines, type EngineEntry } from './engine/registry.js';
import { FacedbError } from './errors/errors.js';
import { isPackModel, packIdOf, readModelPack, type ModelPack } from './engine/onnx/pack.js';
import { FaceService } from './services/face-service.js';
import { openStore } from './store/open.js';
import type { GalleryStore } from './store/store.js';

export interface OpenOptions extends Omit<ConfigInput, 'engine'> {
  /**
   * An engine by name (as FACEDB_ENGINE), or an engine instance to use instead of loading one (sharing one engine
   * between services, tests); an instance is checked against the gallery's pin when it is used.
   */
  engine?: FaceEngine | string;
  /** Refuse a gallery that does not exist yet (not_found) instead of creating it; see StoreOpenOptions. */
  mustExist?: boolean;
}

/**
 * Opens a gallery and returns the service that enrolls, identifies, verifies and analyses.
 * Models load on first use, with the engine the gallery was enrolled with (a new gallery: the configured engine,
 * else the default). Call `close()` when done.
 */
export async function openFacedb(options: OpenOptions | FacedbConfig = {}): Promise<FaceService> {
  const { engine, mustExist = false, ...settings } = options as OpenOptions;
  const config = loadConfig(typeof engine === 'string' ? { ...settings, engine } : settings);
  if (config.testEngines) await registerTestEngines();
  // A misspelt engine name or a bad model pack fails here, before anything is opened.
  const pack = config.modelPack === undefined ? undefined : readModelPack(config.modelPack);
  if (config.engine !== undefined || pack !== undefined) engineByName(config.engine ?? 'onnx', pack);
  const store = await openStore(config.db, { vector: config.index === 'pgvector', mustExist });
  const createEngine =
    engine !== undefined && typeof engine !== 'string'
      ? () => Promise.resolve(engine)
      : async () => (await galleryEngine(store, config.engine, pack)).create(config.workers === undefined ? {} : { workers: config.workers });
  return new FaceService(config, store, createEngine);
}

/**
 * The engine a gallery opens with: the one that embeds with the model it is pinned to; for a gallery not pinned
 * yet, the configured engine or the default. A configured engine that disagrees with the pin is refused, naming
 * the way to move the gallery; so is a pin no engine of this facedb can open.
 */
export async function galleryEngine(store: GalleryStore, configured: string | undefined, pack?: ModelPack): Promise<EngineEntry> {
  const pinned = await store.getModel();
  if (pinned === null) return engineByName(configured ?? DEFAULT_ENGINE, pack);
  const own = engineForModel(pinned, pack);
  if (configured !== undefined || pack !== undefined) {
    const wanted = engineByName(configured ?? 'onnx', pack);
    if (calibrationKey(wanted.model) !== calibrationKey(pinned)) {
      const given = pack ? `model pack ${pack.id} ${pack.version} (--model-pack/FACEDB_MODEL_PACK)` : `engine ${wanted.name}`;
      const moveWith = pack ? `--model-pack ${pack.dir}` : `--engine ${wanted.name}`;
      throw new FacedbError(
        'model_mismatch',
        `the gallery was enrolled with ${calibrationKey(pinned)}${own ? ` (engine ${own.name})` : ''}, but ${given} ` +
          `embeds with ${calibrationKey(wanted.model)}: open it without ${pack ? '--model-pack/FACEDB_MODEL_PACK' : '--engine/FACEDB_ENGINE'}, or move it with ` +
          `\`facedb reembed --to <new db> ${moveWith}\``,
        { details: { pinned: calibrationKey(pinned), engine: wanted.name } },
      );
    }
  }
  if (!own && isPackModel(pinned)) {
    throw new FacedbError(
      'model_mismatch',
      `the gallery was enrolled with model pack ${packIdOf(pinned)} ${pinned.version} (${calibrationKey(pinned)}): give that pack's folder with ` +
        '--model-pack <dir> (or FACEDB_MODEL_PACK) to open it',
      { details: { pinned: calibrationKey(pinned) } },
    );
  }
  if (!own) {
    throw new FacedbError(
      'model_mismatch',
      `the gallery was enrolled with ${calibrationKey(pinned)}, which no engine of this facedb embeds with ` +
        `(engines: ${ENGINE_NAMES.map((name) => `${name} → ${calibrationKey(engineByName(name).model)}`).join(', ')}); ` +
        'move it with `facedb reembed --to <new db>` (it embeds the enrolled photos again with the default engine), ' +
        'or open it with the facedb version that enrolled it',
      { details: { pinned: calibrationKey(pinned) } },
    );
  }
  return own;
}
