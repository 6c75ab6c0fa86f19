import { toFacedbError, type FacedbError } from '../errors/errors.js';
import type { ServiceContext } from './context.js';

export interface Health {
  models: boolean;
  db: boolean;
  storage?: string;
  problem?: FacedbError;
}

/** Readiness and counts, for /healthz, /readyz and /metrics: never loads the models to answer. */
export class HealthService {
  readonly #context: ServiceContext;

  constructor(context: ServiceContext) {
    this.#context = context;
  }

  /**
   * Readiness: models loaded, and the gallery reachable, its file still the one opened, and no recent storage
   * fault on writes. `storage` names the fault (full, read_only, io, gone, unreachable) without details, which
   * stay in the server's log.
   */
  async health(): Promise<Health> {
    const models = this.#context.engineLoaded;
    try {
      await this.#context.store.ping();
      return { models, db: true };
    } catch (error) {
      const problem = toFacedbError(error);
      const fault = problem.details?.fault;
      return { models, db: false, storage: typeof fault === 'string' ? fault : 'error', problem };
    }
  }

  /** How many people and faces the gallery holds (metrics). */
  async counts(): Promise<{ people: number; faces: number }> {
    const { store } = this.#context;
    const [{ total: people }, faces] = await Promise.all([store.listPeople({ limit: 1, offset: 0 }), store.countFaces()]);
    return { people, faces };
  }

  /** The engine's waiting jobs, without loading the models to find out (0 while not loaded). */
  queueDepth(): number {
    return this.#context.queueDepth;
  }
}
