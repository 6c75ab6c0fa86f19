import { loadConfig, type ConfigInput, type FacedbConfig } from './config/config.js';
import { createFaceApiEngine } from './engine/faceapi/engine.js';
import type { FaceEngine } from './engine/engine.js';
import { FaceService } from './services/face-service.js';
import { openStore } from './store/open.js';

export interface OpenOptions extends ConfigInput {
  /** Use this engine instead of loading the default models (sharing one engine between services). */
  engine?: FaceEngine;
}

/**
 * Opens a gallery and returns the service that enrolls, identifies, verifies and analyses.
 * Models load on first use. Call `close()` when done.
 */
export async function openFacedb(options: OpenOptions | FacedbConfig = {}): Promise<FaceService> {
  const { engine, ...settings } = options as OpenOptions;
  const config = loadConfig(settings);
  const store = await openStore(config.db, { vector: config.index === 'pgvector' });
  const createEngine = engine
    ? () => Promise.resolve(engine)
    : () => createFaceApiEngine(config.workers === undefined ? {} : { workers: config.workers });
  return new FaceService(config, store, createEngine);
}
