import type pg from 'pg';
import { FacedbError } from '../../errors/errors.js';
import * as sharedRows from '../rows.js';
import { FACE_COLUMNS, insertedFace, newFaceColumns, notFound } from '../rows.js';
import type { Face, FaceRecord, NewFace, Page, PageOf } from '../store.js';
import { CHANGE_LOG_KEPT } from '../store.js';
import { checkNewFaces, checkPage } from '../validation.js';
import { count, PRUNE_CHANGES, READ_SNAPSHOT, readModel, transaction } from './connection.js';
import type { Erasure } from './erasure.js';

type FaceRow = sharedRows.FaceRow<Date>;

/** The PostgreSQL store's faces of people, with their crops and kept photos. */
export class PostgresFaces {
  readonly #pool: pg.Pool;
  readonly #erasure: Erasure;

  constructor(pool: pg.Pool, erasure: Erasure) {
    this.#pool = pool;
    this.#erasure = erasure;
  }

  add(personId: number, faces: NewFace[]): Promise<Face[]> {
    return transaction(this.#pool, 'BEGIN', async (client) => {
      // FOR KEY SHARE: the person cannot be removed under us, yet other batches for them proceed.
      const person = (await client.query<{ name: string }>('SELECT name FROM people WHERE id = $1 FOR KEY SHARE', [personId])).rows[0];
      if (person === undefined) throw notFound('person', personId);
      const model = await readModel(client);
      if (model === null) {
        throw new FacedbError('invalid_input', 'the gallery is not pinned to a model yet (call ensureModel first)');
      }
      checkNewFaces(faces, model.dimensions);
      const seen = new Set<string>();
      const firstOfEachPhoto = faces.filter((face) => !seen.has(face.contentHash) && seen.add(face.contentHash));
      if (firstOfEachPhoto.length === 0) return [];
      // One statement for the whole batch; ORDER BY keeps ids in the batch's order. ON CONFLICT
      // skips photos the person already had before this batch.
      const { rows } = await client.query<{ id: number; content_hash: string; created_at: Date }>(
        `INSERT INTO faces (person_id, source_path, content_hash, box_x, box_y, box_w, box_h, detection_score,
           embedding, crop, upload_name, model_id, model_version)
         SELECT $1, source_path, content_hash, box_x, box_y, box_w, box_h, detection_score, embedding, crop, upload_name, $2, $3
         FROM unnest($4::text[], $5::text[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[],
                     $11::bytea[], $12::bytea[], $13::text[])
           WITH ORDINALITY AS batch (source_path, content_hash, box_x, box_y, box_w, box_h, detection_score, embedding, crop, upload_name, position)
         ORDER BY position
         ON CONFLICT (person_id, content_hash) DO NOTHING
         RETURNING id, content_hash, created_at`,
        [personId, model.id, model.version, ...newFaceColumns(firstOfEachPhoto)],
      );
      const inserted = new Map(rows.map((row) => [row.content_hash, row]));
      const photos = firstOfEachPhoto.flatMap((face) => {
        const row = inserted.get(face.contentHash);
        return row && face.photo ? [{ id: row.id, photo: face.photo }] : [];
      });
      if (photos.length > 0) {
        await client.query('INSERT INTO face_photos (face_id, photo) SELECT * FROM unnest($1::int[], $2::bytea[])', [
          photos.map((p) => p.id),
          photos.map((p) => p.photo),
        ]);
      }
      await client.query(PRUNE_CHANGES, [CHANGE_LOG_KEPT]);
      return firstOfEachPhoto.flatMap((face): Face[] => {
        const row = inserted.get(face.contentHash);
        if (row === undefined) return [];
        return [insertedFace(face, row.id, { id: personId, name: person.name }, model, row.created_at.toISOString())];
      });
    });
  }

  hasPhoto(personId: number, contentHash: string): Promise<boolean> {
    return this.#pool
      .query('SELECT 1 FROM faces WHERE person_id = $1 AND content_hash = $2', [personId, contentHash])
      .then(({ rowCount }) => (rowCount ?? 0) > 0);
  }

  async get(id: number): Promise<Face | null> {
    const { rows } = await this.#pool.query<FaceRow>(`SELECT ${FACE_COLUMNS} FROM faces f JOIN people p ON p.id = f.person_id WHERE f.id = $1`, [id]);
    return rows[0] === undefined ? null : toFace(rows[0]);
  }

  /** GalleryStore.facesAfter. */
  async after(afterId: number, limit: number): Promise<FaceRecord[]> {
    checkPage({ limit, offset: 0 });
    return transaction(this.#pool, READ_SNAPSHOT, async (client) => {
      const dimensions = (await readModel(client))?.dimensions ?? 0;
      const { rows } = await client.query<sharedRows.FaceRecordRow<Date>>(
        `SELECT ${sharedRows.FACE_RECORD_COLUMNS} FROM faces f LEFT JOIN people p ON p.id = f.person_id
         LEFT JOIN face_photos fp ON fp.face_id = f.id WHERE f.id > $1 ORDER BY f.id LIMIT $2`,
        [afterId, limit],
      );
      return rows.map((row) => sharedRows.toFaceRecord(row, (time) => time.toISOString(), dimensions));
    });
  }

  list(personId: number, page: Page): Promise<PageOf<Face>> {
    checkPage(page);
    return transaction(this.#pool, READ_SNAPSHOT, async (client) => {
      const { rowCount } = await client.query('SELECT 1 FROM people WHERE id = $1', [personId]);
      if (rowCount === 0) throw notFound('person', personId);
      const { rows } = await client.query<FaceRow>(
        `SELECT ${FACE_COLUMNS} FROM faces f JOIN people p ON p.id = f.person_id WHERE f.person_id = $1 ORDER BY f.id LIMIT $2 OFFSET $3`,
        [personId, page.limit, page.offset],
      );
      return { items: rows.map(toFace), total: await count(client, 'SELECT COUNT(*)::int AS n FROM faces WHERE person_id = $1', [personId]) };
    });
  }

  /** Removes a person's face. Throws not_found. */
  remove(id: number): Promise<void> {
    return this.#erasure.erase(async (client) => {
      const { rowCount } = await client.query('DELETE FROM faces WHERE id = $1', [id]);
      if (rowCount === 0) throw notFound('face', id);
      await client.query(PRUNE_CHANGES, [CHANGE_LOG_KEPT]);
    });
  }

  async crop(id: number): Promise<Uint8Array | null> {
    const crop = (await this.#pool.query<{ crop: Buffer | null }>('SELECT crop FROM faces WHERE id = $1', [id])).rows[0]?.crop;
    // A plain Uint8Array, not the driver's Buffer, so every store returns the same type.
    return crop == null ? null : new Uint8Array(crop);
  }

  async photo(id: number): Promise<Uint8Array | null> {
    const photo = (await this.#pool.query<{ photo: Buffer }>('SELECT photo FROM face_photos WHERE face_id = $1', [id])).rows[0]?.photo;
    return photo === undefined ? null : new Uint8Array(photo);
  }

  async enrolledContent(): Promise<Map<string, Set<string>>> {
    const { rows } = await this.#pool.query<[string, string]>({
      text: 'SELECT DISTINCT f.content_hash, p.name FROM faces f JOIN people p ON p.id = f.person_id',
      rowMode: 'array',
    });
    const content = new Map<string, Set<string>>();
    for (const [hash, name] of rows) {
      const names = content.get(hash);
      if (names) names.add(name);
      else content.set(hash, new Set([name]));
    }
    return content;
  }

  /** Faces that belong to a person. */
  count(): Promise<number> {
    return count(this.#pool, 'SELECT COUNT(*)::int AS n FROM faces WHERE person_id IS NOT NULL');
  }
}

const toFace = (row: FaceRow): Face => sharedRows.toFace(row, (time) => time.toISOString());
