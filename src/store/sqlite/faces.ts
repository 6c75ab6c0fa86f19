import type Database from 'better-sqlite3';
import type { ModelInfo } from '../../core/types.js';
import { FacedbError } from '../../errors/errors.js';
import * as sharedRows from '../rows.js';
import { FACE_COLUMNS, insertedFace, newFaceRow, notFound } from '../rows.js';
import type { Face, FaceRecord, NewFace, Page, PageOf } from '../store.js';
import { CHANGE_LOG_KEPT } from '../store.js';
import { checkNewFaces, checkPage } from '../validation.js';
import { now } from './connection.js';
import type { Erasure } from './erasure.js';
import type { SqlitePeople } from './people.js';

type FaceRow = sharedRows.FaceRow<string>;

/** The SQLite store's faces of people, with their crops and kept photos. Synchronous; the store wraps each call. */
export class SqliteFaces {
  readonly #db: Database.Database;
  readonly #sql: ReturnType<typeof prepare>;
  readonly #model: () => ModelInfo | null;
  readonly #people: SqlitePeople;
  readonly #erasure: Erasure;

  constructor(db: Database.Database, model: () => ModelInfo | null, people: SqlitePeople, erasure: Erasure) {
    this.#db = db;
    this.#sql = prepare(db);
    this.#model = model;
    this.#people = people;
    this.#erasure = erasure;
  }

  add(personId: number, faces: NewFace[]): Face[] {
    return this.#db
      .transaction(() => {
        const person = this.#people.byId(personId);
        if (person === null) throw notFound('person', personId);
        const model = this.#model();
        if (model === null) {
          throw new FacedbError('invalid_input', 'the gallery is not pinned to a model yet (call ensureModel first)');
        }
        checkNewFaces(faces, model.dimensions);
        const createdAt = now();
        const added: Face[] = [];
        for (const face of faces) {
          const { changes, lastInsertRowid } = this.#sql.insert.run({ person_id: personId, ...newFaceRow(face, model, createdAt) });
          // ON CONFLICT DO NOTHING: the person already has this photo (possibly earlier in this batch).
          if (changes === 0) continue;
          if (face.photo) this.#sql.insertPhoto.run(lastInsertRowid, face.photo);
          added.push(insertedFace(face, Number(lastInsertRowid), person, model, createdAt));
        }
        this.#sql.pruneChanges.run(CHANGE_LOG_KEPT);
        return added;
      })
      .immediate();
  }

  hasPhoto(personId: number, contentHash: string): boolean {
    return this.#sql.hasPhoto.get(personId, contentHash) !== undefined;
  }

  get(id: number): Face | null {
    const row = this.#sql.byId.get(id) as FaceRow | undefined;
    return row === undefined ? null : toFace(row);
  }

  list(personId: number, page: Page): PageOf<Face> {
    checkPage(page);
    return this.#db.transaction(() => {
      if (this.#people.byId(personId) === null) throw notFound('person', personId);
      return {
        items: (this.#sql.list.all(personId, page.limit, page.offset) as FaceRow[]).map(toFace),
        total: this.#sql.countOf.get(personId) as number,
      };
    })();
  }

  /** Removes a person's face. Throws not_found. */
  remove(id: number): void {
    this.#erasure.erase(() => {
      if (this.#sql.delete.run(id).changes === 0) throw notFound('face', id);
      this.#sql.pruneChanges.run(CHANGE_LOG_KEPT);
    });
  }

  crop(id: number): Uint8Array | null {
    const crop = this.#sql.crop.get(id) as Buffer | null | undefined;
    // A plain Uint8Array, not the driver's Buffer, so every store returns the same type.
    return crop == null ? null : new Uint8Array(crop);
  }

  photo(id: number): Uint8Array | null {
    const photo = this.#sql.photo.get(id) as Buffer | undefined;
    return photo === undefined ? null : new Uint8Array(photo);
  }

  enrolledContent(): Map<string, Set<string>> {
    const content = new Map<string, Set<string>>();
    for (const [hash, name] of this.#sql.enrolledContent.iterate() as IterableIterator<[string, string]>) {
      const names = content.get(hash);
      if (names) names.add(name);
      else content.set(hash, new Set([name]));
    }
    return content;
  }

  /** GalleryStore.facesAfter. */
  after(afterId: number, limit: number, dimensions: number): FaceRecord[] {
    checkPage({ limit, offset: 0 });
    const rows = this.#sql.after.all(afterId, limit) as Array<sharedRows.FaceRecordRow<string>>;
    return rows.map((row) => sharedRows.toFaceRecord(row, (time) => time, dimensions));
  }

  /** Faces that belong to a person. */
  count(): number {
    return this.#sql.count.get() as number;
  }
}

const toFace = (row: FaceRow): Face => sharedRows.toFace(row, (time) => time);

function prepare(db: Database.Database) {
  return {
    insert: db.prepare(`INSERT INTO faces (person_id, source_path, content_hash, box_x, box_y, box_w, box_h,
        detection_score, embedding, crop, upload_name, model_id, model_version, created_at)
      VALUES (@person_id, @source_path, @content_hash, @box_x, @box_y, @box_w, @box_h,
        @detection_score, @embedding, @crop, @upload_name, @model_id, @model_version, @created_at)
      ON CONFLICT (person_id, content_hash) DO NOTHING`),
    hasPhoto: db.prepare('SELECT 1 FROM faces WHERE person_id = ? AND content_hash = ?').pluck(),
    byId: db.prepare(`SELECT ${FACE_COLUMNS} FROM faces f JOIN people p ON p.id = f.person_id WHERE f.id = ?`),
    list: db.prepare(
      `SELECT ${FACE_COLUMNS} FROM faces f JOIN people p ON p.id = f.person_id WHERE f.person_id = ? ORDER BY f.id LIMIT ? OFFSET ?`,
    ),
    countOf: db.prepare('SELECT COUNT(*) FROM faces WHERE person_id = ?').pluck(),
    count: db.prepare('SELECT COUNT(*) FROM faces WHERE person_id IS NOT NULL').pluck(),
    delete: db.prepare('DELETE FROM faces WHERE id = ?'),
    crop: db.prepare('SELECT crop FROM faces WHERE id = ?').pluck(),
    after: db.prepare(
      `SELECT ${sharedRows.FACE_RECORD_COLUMNS} FROM faces f LEFT JOIN people p ON p.id = f.person_id
       LEFT JOIN face_photos fp ON fp.face_id = f.id WHERE f.id > ? ORDER BY f.id LIMIT ?`,
    ),
    insertPhoto: db.prepare('INSERT INTO face_photos (face_id, photo) VALUES (?, ?)'),
    photo: db.prepare('SELECT photo FROM face_photos WHERE face_id = ?').pluck(),
    enrolledContent: db.prepare('SELECT DISTINCT f.content_hash, p.name FROM faces f JOIN people p ON p.id = f.person_id').raw(),
    pruneChanges: db.prepare('DELETE FROM face_changes WHERE seq <= (SELECT MAX(seq) FROM face_changes) - ?'),
  };
}
