import type Database from 'better-sqlite3';

/**
 * How the SQLite store erases: every removal of people, faces or clusters goes through `erase`, so that the
 * erased photo bytes, crops and embeddings cannot be read back from the gallery's files afterwards.
 *
 * - `secure_delete` (set on every connection by the constructor) makes SQLite overwrite deleted content with
 *   zeros, in the pages that stay and in the pages it frees, instead of leaving it in free space;
 * - under WAL the pages written before the deletion may still sit in the -wal file, so after each erasure a
 *   TRUNCATE checkpoint copies the zeroed pages into the database and empties the -wal file. When another
 *   connection is reading at that moment the checkpoint cannot finish; the next erasure, or the last connection
 *   closing (which checkpoints and deletes the -wal file), completes it.
 */
export class Erasure {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
    db.pragma('secure_delete = ON');
  }

  /** Runs `work` (deletions) in one write transaction, then clears the -wal file. */
  erase<T>(work: () => T): T {
    const result = this.#db.transaction(work).immediate();
    if (!this.#db.memory && !this.#db.readonly) this.#db.pragma('wal_checkpoint(TRUNCATE)');
    return result;
  }
}
