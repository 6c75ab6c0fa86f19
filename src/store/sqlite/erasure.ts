import type Database from 'better-sqlite3';

/** How the SQLite store erases: every removal of people, faces or clusters goes through `erase`. */
export class Erasure {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Runs `work` (deletions) in one write transaction. */
  erase<T>(work: () => T): T {
    return this.#db.transaction(work).immediate();
  }
}
