import type pg from 'pg';
import { FacedbError } from '../../errors/errors.js';
import { transaction } from './connection.js';

/**
 * Tables rewritten after an erasure: the ones holding photo bytes, crops, embeddings (and pgvector's copy),
 * names and photo paths.
 */
const ERASED_TABLES = 'faces, face_photos, people, unnamed_photos';

/**
 * How the PostgreSQL store erases: every removal of people, faces or clusters goes through `erase`, so that the
 * erased photo bytes, crops and embeddings cannot be read back from the database's table files afterwards.
 *
 * A DELETE only marks rows dead; plain VACUUM makes their space reusable but leaves most of their bytes in the
 * heap and TOAST files (measured: 231 of 236 256-byte pieces of an erased photo, crop and embedding remained).
 * VACUUM FULL writes the tables anew, live rows only, and deletes the old files: afterwards none remained. It
 * holds an exclusive lock on each table while it rewrites it, so erasures are slower on large galleries, and
 * other work on the gallery waits meanwhile. The WAL and backups are the operator's part (docs/erasure.md).
 */
export class Erasure {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Runs `work` (deletions) in one transaction, then rewrites the tables the erased rows were in. */
  async erase<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const result = await transaction(this.#pool, 'BEGIN', work);
    try {
      await this.#pool.query(`VACUUM (FULL) ${ERASED_TABLES}`);
    } catch (error) {
      throw new FacedbError(
        'internal',
        `erased, but the erased rows' bytes could not be purged from the table files: VACUUM FULL failed (${(error as Error).message}); ` +
          `run VACUUM (FULL) ${ERASED_TABLES} as the gallery's owner`,
        { cause: error },
      );
    }
    return result;
  }
}
