import type pg from 'pg';
import { transaction } from './connection.js';

/** How the PostgreSQL store erases: every removal of people, faces or clusters goes through `erase`. */
export class Erasure {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Runs `work` (deletions) in one transaction. */
  erase<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return transaction(this.#pool, 'BEGIN', work);
  }
}
