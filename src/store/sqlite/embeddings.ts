import type Database from 'better-sqlite3';
import type { ModelInfo } from '../../core/types.js';
import { copyEmbeddingPage, LITTLE_ENDIAN_HOST, noChangesSince, snapshotTarget, swapFloat32Bytes, toEmbeddingChanges } from '../rows.js';
import type { EmbeddingChanges, EmbeddingSnapshot } from '../store.js';

const EMBEDDING_PAGE = 4096;

interface ChangeBounds {
  latest: number;
  oldest: number | null;
}

/** The SQLite store's embeddings of people, for the search index: the snapshot and the change log. Synchronous. */
export class SqliteEmbeddings {
  readonly #db: Database.Database;
  readonly #sql: ReturnType<typeof prepare>;
  readonly #model: () => ModelInfo | null;

  constructor(db: Database.Database, model: () => ModelInfo | null) {
    this.#db = db;
    this.#sql = prepare(db);
    this.#model = model;
  }

  snapshot(): EmbeddingSnapshot {
    // One read transaction, so the count and the rows come from the same snapshot.
    return this.#db.transaction((): EmbeddingSnapshot => {
      const dimensions = this.#model()?.dimensions ?? 0;
      const count = this.#sql.count.get() as number;
      const target = snapshotTarget(count, dimensions);
      let row = 0;
      // Pages of .all() rather than .iterate(): fewer crossings into the driver per row, ~20%
      // faster at 1M faces. Keyset paging on the rowid costs nothing extra.
      for (let after = 0; row < count; ) {
        const page = this.#sql.embeddingsAfter.all(after, EMBEDDING_PAGE) as Array<[number, number, Buffer]>;
        if (page.length === 0) break;
        row = copyEmbeddingPage(page, target, row);
        after = page[page.length - 1]![0];
      }
      if (!LITTLE_ENDIAN_HOST) swapFloat32Bytes(target.bytes);
      const changeSeq = (this.#sql.changeBounds.get() as ChangeBounds).latest;
      return { dimensions, faceIds: target.faceIds, personIds: target.personIds, vectors: target.vectors, changeSeq };
    })();
  }

  changesSince(changeSeq: number): EmbeddingChanges {
    return this.#db.transaction((): EmbeddingChanges => {
      const { latest, oldest } = this.#sql.changeBounds.get() as ChangeBounds;
      // Nearly every call (one per search) finds nothing new.
      if (latest === changeSeq) return noChangesSince(changeSeq);
      const rows = this.#sql.changesAfter.all(changeSeq, latest) as Array<[number, number | null, Buffer | null]>;
      return toEmbeddingChanges(rows, { after: changeSeq, latest, oldest }, this.#model()?.dimensions ?? 0);
    })();
  }
}

function prepare(db: Database.Database) {
  return {
    count: db.prepare('SELECT COUNT(*) FROM faces WHERE person_id IS NOT NULL').pluck(),
    embeddingsAfter: db
      .prepare('SELECT id, person_id, embedding FROM faces WHERE id > ? AND person_id IS NOT NULL ORDER BY id LIMIT ?')
      .raw(),
    changeBounds: db.prepare('SELECT COALESCE(MAX(seq), 0) AS latest, MIN(seq) AS oldest FROM face_changes'),
    changesAfter: db
      .prepare(
        `SELECT c.face_id, f.person_id, f.embedding
         FROM (SELECT DISTINCT face_id FROM face_changes WHERE seq > ? AND seq <= ?) c LEFT JOIN faces f ON f.id = c.face_id`,
      )
      .raw(),
  };
}
