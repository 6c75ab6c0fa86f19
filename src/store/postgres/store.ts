import pg from 'pg';
import type { ModelInfo } from '../../core/types.js';
import { FacedbError } from '../../errors/errors.js';
import { CHANGE_LOG_KEPT, type EmbeddingChanges, type EmbeddingSnapshot, type Face, type GalleryStore, type NewFace, type Page, type PageOf, type Person } from '../store.js';
import type { Cluster, ClusterUpdate, NamedCluster, UnnamedEmbedding, UnnamedFace } from '../store.js';
import { canonicalName, normalizePersonName, personNameProblem } from '../../core/names.js';
import { FaultMemory, storageUnavailable, type StorageFault } from '../faults.js';
import { LookalikeIndex, lookalikeVerdict, type NamedPerson } from '../lookalikes.js';
import { checkModel, checkNewFaces, checkPage, checkPinnedModel } from '../validation.js';
import { migrate } from './migrations.js';
import { toUnnamedFace, UNNAMED_FACE_COLUMNS, type UnnamedFaceRow } from '../unnamed-rows.js';
import { PostgresUnnamedFaces } from './unnamed.js';
import { PostgresCalibration } from './calibration.js';
import type { GalleryCalibration } from '../calibration.js';
import { ensureVectorColumn, ensureVectorIndex, fillVectors, nearestPeopleInSql, type VectorSchema } from './vector.js';
import type { PersonMatch } from '../../core/search-index.js';
import * as sharedRows from '../rows.js';
import {
  copyEmbeddingPage,
  newFaceColumns,
  FACE_COLUMNS,
  insertedFace,
  LITTLE_ENDIAN_HOST,
  noChangesSince,
  notFound,
  snapshotTarget,
  swapFloat32Bytes,
  toEmbeddingChanges,
  type MetaRow,
} from '../rows.js';

/** A gallery does little concurrent database work: its searches run in memory. */
const POOL_SIZE = 4;
const CONNECT_TIMEOUT_MS = 10_000;
const EMBEDDING_PAGE = 8192;

/** bigint comes back as text from pg; change numbers stay far below 2^53, so float8 is exact. */
const CHANGE_BOUNDS = 'SELECT COALESCE(MAX(seq), 0)::float8 AS latest, MIN(seq)::float8 AS oldest FROM face_changes';
const PRUNE_CHANGES = 'DELETE FROM face_changes WHERE seq <= (SELECT MAX(seq) FROM face_changes) - $1';

/**
 * Connects to the gallery at a `postgres://` URL, bringing its schema up to date. The tables live
 * in the connection's current schema (normally `public`; pick another with
 * `?options=-c%20search_path%3Dname`). Errors name the server with the password masked.
 */
export interface PostgresOptions {
  /** Keep embeddings in a pgvector column too and answer `nearestPeople` in SQL (FACEDB_INDEX=pgvector). */
  vector?: boolean;
}

export async function openPostgresStore(url: string, options: PostgresOptions = {}): Promise<PostgresGalleryStore> {
  const where = redactUrl(url);
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // Without a listener, a pooled idle connection dropped by the server would crash the process;
  // the pool discards that connection by itself and opens a new one when next needed.
  pool.on('error', () => {});
  let readOnly: boolean;
  try {
    readOnly = await transaction(pool, 'BEGIN', async (client) => {
      await migrate(client, where);
      // A read-only role or database, or a hot standby: reads work, writes will answer storage_unavailable.
      const { rows } = await client.query<{ read_only: boolean }>("SELECT current_setting('transaction_read_only') = 'on' AS read_only");
      return rows[0]?.read_only ?? false;
    });
  } catch (error) {
    await pool.end();
    throw openFailure(error, where);
  }
  const store = new PostgresGalleryStore(pool, readOnly, options.vector === true ? where : undefined);
  if (options.vector === true) {
    try {
      await store.nearestPeople!(new Float32Array(0), 0); // sets the vector column up now if the gallery is pinned
    } catch (error) {
      await pool.end();
      throw openFailure(error, where);
    }
  }
  return store;
}

/** The URL with any password masked, fit for messages and logs. Throws invalid_input when it is no URL. */
export function redactUrl(url: string): string {
  // Like pg, accept credentials before an empty host (a Unix socket given by ?host=), which URL refuses.
  const emptyHost = url.includes('@/');
  let parsed: URL;
  try {
    parsed = new URL(emptyHost ? url.replace('@/', `@${PLACEHOLDER_HOST}/`) : url);
  } catch {
    // Not echoed: a URL we cannot parse is one whose password we cannot find to mask.
    throw new FacedbError('invalid_input', 'the PostgreSQL URL is malformed (not shown, as it may contain a password)');
  }
  if (parsed.password !== '') parsed.password = '***';
  if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
  return emptyHost ? parsed.href.replace(`@${PLACEHOLDER_HOST}/`, '@/') : parsed.href;
}

const PLACEHOLDER_HOST = 'facedb-no-host';

/** Any fixed number, the same in every facedb: with the schema's hash it names the person-creation lock. */
const PEOPLE_LOCK = 0x0fac_ed_b1;

type PersonRow = sharedRows.PersonRow<Date>;
type FaceRow = sharedRows.FaceRow<Date>;

const PERSON_COLUMNS = `p.id, p.name, p.created_at,
  (SELECT COUNT(*)::int FROM faces f WHERE f.person_id = p.id) AS face_count`;
/** Several reads that must agree with each other (a page and its total, a count and its rows). */
const READ_SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

/** The gallery in a PostgreSQL database, shared safely by any number of facedb processes. */
export class PostgresGalleryStore implements GalleryStore {
  readonly #pool: pg.Pool;
  readonly #unnamed: PostgresUnnamedFaces;
  readonly #calibration: PostgresCalibration;
  /** Opened as a read-only role or on a read-only database: its refused writes are no fault for readiness. */
  readonly #openedReadOnly: boolean;
  readonly #faults = new FaultMemory();
  readonly #lookalikes = new LookalikeIndex();

  /** Where the gallery is (redacted), when pgvector search was asked for. */
  readonly #vectorWhere: string | undefined;
  #vectorSchema: Promise<VectorSchema | null> | undefined;
  /** Present only when opened with pgvector search (see GalleryStore.nearestPeople). */
  readonly nearestPeople?: (query: Float32Array, k: number) => Promise<PersonMatch[]>;

  /** Use `openPostgresStore`, which also migrates the schema. */
  constructor(pool: pg.Pool, openedReadOnly = false, vectorWhere?: string) {
    this.#pool = pool;
    this.#vectorWhere = vectorWhere;
    if (vectorWhere !== undefined) this.nearestPeople = (query, k) => this.#nearestPeople(query, k);
    this.#unnamed = new PostgresUnnamedFaces({
      transaction: (begin, work) => transaction(pool, begin, work),
      readModel,
      readPerson: async (client, id) => toPerson(await onlyRow(client.query<PersonRow>(`SELECT ${PERSON_COLUMNS} FROM people p WHERE p.id = $1`, [id]))),
    });
    this.#calibration = new PostgresCalibration(pool, (begin, work) => transaction(pool, begin, work), readModel);
    this.#openedReadOnly = openedReadOnly;
  }

  getModel(): Promise<ModelInfo | null> {
    return run(() => readModel(this.#pool));
  }

  ensureModel(model: ModelInfo): Promise<void> {
    return this.#write(async () => {
      checkModel(model);
      await transaction(this.#pool, 'BEGIN', async (client) => {
        // DO NOTHING then read back: of two servers pinning at once, the loser sees the winner's pin.
        await client.query(
          `INSERT INTO meta (model_id, model_version, dimensions, metric, threshold) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (singleton) DO NOTHING`,
          [model.id, model.version, model.dimensions, model.metric, model.defaultThreshold],
        );
        checkPinnedModel(await readModel(client), model);
      });
      if (this.#vectorWhere !== undefined) await this.#vectors();
    });
  }

  upsertPerson(name: string): Promise<Person> {
    return this.#write(async () => {
      const normalized = normalizePersonName(name);
      return transaction(this.#pool, 'BEGIN', async (client) => {
        const personById = async (id: number): Promise<Person> =>
          toPerson(await onlyRow(client.query<PersonRow>(`SELECT ${PERSON_COLUMNS} FROM people p WHERE p.id = $1`, [id])));
        // FOR KEY SHARE: a concurrent removePerson cannot delete the person before we read them back.
        const existingId = async (): Promise<number | undefined> =>
          (await client.query<{ id: number }>('SELECT id FROM people WHERE name = $1 FOR KEY SHARE', [normalized])).rows[0]?.id;
        const found = await existingId();
        if (found !== undefined) return personById(found);
        // Creators take turns (per schema) until they commit: ids then grow in commit order, which the
        // look-alike index relies on, and two look-alikes cannot be created at once.
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))', [PEOPLE_LOCK]);
        const createdMeanwhile = await existingId();
        if (createdMeanwhile !== undefined) return personById(createdMeanwhile);
        const { rows: newer } = await client.query<NamedPerson>('SELECT id, name FROM people WHERE id > $1 ORDER BY id', [
          this.#lookalikes.seenUpTo,
        ]);
        this.#lookalikes.learn(newer);
        const candidates = this.#lookalikes.candidates(normalized);
        const lookalikes =
          candidates.length === 0
            ? []
            : (await client.query<NamedPerson>('SELECT id, name FROM people WHERE id = ANY($1) ORDER BY id FOR KEY SHARE', [candidates])).rows;
        for (const id of candidates) if (!lookalikes.some((person) => person.id === id)) this.#lookalikes.forget(id);
        const same = lookalikeVerdict(normalized, lookalikes);
        if (same !== null) return personById(same.id);
        const { rows } = await client.query<{ id: number }>('INSERT INTO people (name) VALUES ($1) RETURNING id', [normalized]);
        const id = rows[0]!.id;
        this.#lookalikes.learn([{ id, name: normalized }]);
        return personById(id);
      });
    });
  }

  getPerson(id: number): Promise<Person | null> {
    return run(async () => {
      const { rows } = await this.#pool.query<PersonRow>(`SELECT ${PERSON_COLUMNS} FROM people p WHERE p.id = $1`, [id]);
      return rows[0] === undefined ? null : toPerson(rows[0]);
    });
  }

  findPersonByName(name: string): Promise<Person | null> {
    return run(async () => {
      // As typed (names stored before the name rules), else in its normalised form. PostgreSQL text cannot hold
      // NUL, and such a name cannot exist: asking would only raise an error.
      const forms = [name, ...(personNameProblem(name) === null ? [canonicalName(name)] : [])].filter((form) => !form.includes('\0'));
      if (forms.length === 0) return null;
      const { rows } = await this.#pool.query<PersonRow>(
        `SELECT ${PERSON_COLUMNS} FROM people p WHERE p.name = ANY($1) ORDER BY p.name = $2 DESC LIMIT 1`,
        [forms, name],
      );
      return rows[0] === undefined ? null : toPerson(rows[0]);
    });
  }

  hasPhoto(personId: number, contentHash: string): Promise<boolean> {
    return run(async () => {
      const { rowCount } = await this.#pool.query('SELECT 1 FROM faces WHERE person_id = $1 AND content_hash = $2', [personId, contentHash]);
      return (rowCount ?? 0) > 0;
    });
  }

  listPeople(page: Page): Promise<PageOf<Person>> {
    return run(async () => {
      checkPage(page);
      return transaction(this.#pool, READ_SNAPSHOT, async (client) => {
        const { rows } = await client.query<PersonRow>(`SELECT ${PERSON_COLUMNS} FROM people p ORDER BY p.id LIMIT $1 OFFSET $2`, [
          page.limit,
          page.offset,
        ]);
        return { items: rows.map(toPerson), total: await count(client, 'SELECT COUNT(*)::int AS n FROM people') };
      });
    });
  }

  removePerson(id: number): Promise<number> {
    return this.#write(() =>
      transaction(this.#pool, 'BEGIN', async (client) => {
        // Locking the person first keeps a concurrent addFaces from slipping faces past the count.
        const { rowCount } = await client.query('SELECT 1 FROM people WHERE id = $1 FOR UPDATE', [id]);
        if (rowCount === 0) throw notFound('person', id);
        const faces = await count(client, 'SELECT COUNT(*)::int AS n FROM faces WHERE person_id = $1', [id]);
        await client.query('DELETE FROM people WHERE id = $1', [id]);
        await client.query(PRUNE_CHANGES, [CHANGE_LOG_KEPT]);
        return faces;
      }),
    );
  }

  addFaces(personId: number, faces: NewFace[]): Promise<Face[]> {
    return this.#write(() =>
      transaction(this.#pool, 'BEGIN', async (client) => {
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
             embedding, crop, model_id, model_version)
           SELECT $1, source_path, content_hash, box_x, box_y, box_w, box_h, detection_score, embedding, crop, $2, $3
           FROM unnest($4::text[], $5::text[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[],
                       $11::bytea[], $12::bytea[])
             WITH ORDINALITY AS batch (source_path, content_hash, box_x, box_y, box_w, box_h, detection_score, embedding, crop, position)
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
      }),
    );
  }

  getFace(id: number): Promise<Face | null> {
    return run(async () => {
      const { rows } = await this.#pool.query<FaceRow>(`SELECT ${FACE_COLUMNS} FROM faces f JOIN people p ON p.id = f.person_id WHERE f.id = $1`, [
        id,
      ]);
      return rows[0] === undefined ? null : toFace(rows[0]);
    });
  }

  listFaces(personId: number, page: Page): Promise<PageOf<Face>> {
    return run(async () => {
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
    });
  }

  removeFace(id: number): Promise<void> {
    return this.#write(() =>
      transaction(this.#pool, 'BEGIN', async (client) => {
        const { rowCount } = await client.query('DELETE FROM faces WHERE id = $1', [id]);
        if (rowCount === 0) throw notFound('face', id);
        await client.query(PRUNE_CHANGES, [CHANGE_LOG_KEPT]);
      }),
    );
  }

  getFaceCrop(id: number): Promise<Uint8Array | null> {
    return run(async () => {
      const crop = (await this.#pool.query<{ crop: Buffer | null }>('SELECT crop FROM faces WHERE id = $1', [id])).rows[0]?.crop;
      // A plain Uint8Array, not the driver's Buffer, so every store returns the same type.
      return crop == null ? null : new Uint8Array(crop);
    });
  }

  getFacePhoto(id: number): Promise<Uint8Array | null> {
    return run(async () => {
      const photo = (await this.#pool.query<{ photo: Buffer }>('SELECT photo FROM face_photos WHERE face_id = $1', [id])).rows[0]?.photo;
      return photo === undefined ? null : new Uint8Array(photo);
    });
  }

  enrolledContent(): Promise<Map<string, Set<string>>> {
    return run(async () => {
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
    });
  }

  countFaces(): Promise<number> {
    return run(() => count(this.#pool, 'SELECT COUNT(*)::int AS n FROM faces WHERE person_id IS NOT NULL'));
  }

  loadEmbeddings(): Promise<EmbeddingSnapshot> {
    return run(() =>
      transaction(this.#pool, READ_SNAPSHOT, async (client): Promise<EmbeddingSnapshot> => {
        const dimensions = (await readModel(client))?.dimensions ?? 0;
        const total = await count(client, 'SELECT COUNT(*)::int AS n FROM faces WHERE person_id IS NOT NULL');
        const target = snapshotTarget(total, dimensions);
        let row = 0;
        // Keyset pages on the primary key: memory stays bounded by one page however large the gallery.
        for (let after = 0; row < total; ) {
          const { rows: page } = await client.query<[number, number, Buffer]>({
            text: 'SELECT id, person_id, embedding FROM faces WHERE id > $1 AND person_id IS NOT NULL ORDER BY id LIMIT $2',
            values: [after, EMBEDDING_PAGE],
            rowMode: 'array',
          });
          if (page.length === 0) break;
          row = copyEmbeddingPage(page, target, row);
          after = page[page.length - 1]![0];
        }
        if (!LITTLE_ENDIAN_HOST) swapFloat32Bytes(target.bytes);
        const changeSeq = (await onlyRow(client.query<ChangeBounds>(CHANGE_BOUNDS))).latest;
        return { dimensions, faceIds: target.faceIds, personIds: target.personIds, vectors: target.vectors, changeSeq };
      }),
    );
  }

  embeddingChangesSince(changeSeq: number): Promise<EmbeddingChanges> {
    return run(async () => {
      // Nearly every call (one per search) finds nothing new: one round trip instead of a transaction's five.
      if ((await onlyRow(this.#pool.query<ChangeBounds>(CHANGE_BOUNDS))).latest === changeSeq) return noChangesSince(changeSeq);
      return transaction(this.#pool, READ_SNAPSHOT, async (client): Promise<EmbeddingChanges> => {
        const { latest, oldest } = await onlyRow(client.query<ChangeBounds>(CHANGE_BOUNDS));
        const { rows } = await client.query<[number, number | null, Buffer | null]>({
          text: `SELECT c.face_id, f.person_id, f.embedding
                 FROM (SELECT DISTINCT face_id FROM face_changes WHERE seq > $1 AND seq <= $2) c LEFT JOIN faces f ON f.id = c.face_id`,
          values: [changeSeq, latest],
          rowMode: 'array',
        });
        const dimensions = (await readModel(client))?.dimensions ?? 0;
        return toEmbeddingChanges(rows, { after: changeSeq, latest, oldest }, dimensions);
      });
    });
  }

  getCalibration(): Promise<GalleryCalibration | null> {
    return run(() => this.#calibration.get());
  }

  setCalibration(calibration: GalleryCalibration): Promise<void> {
    return run(() => this.#calibration.set(calibration));
  }

  clearCalibration(): Promise<boolean> {
    return run(() => this.#calibration.clear());
  }

  addUnnamedFaces(faces: NewFace[]): Promise<UnnamedFace[]> {
    return run(() => this.#unnamed.add(faces));
  }

  listUnnamedFaces(page: Page): Promise<PageOf<UnnamedFace>> {
    return run(async () => {
      checkPage(page);
      return transaction(this.#pool, READ_SNAPSHOT, async (client) => {
        const { rows } = await client.query<UnnamedFaceRow<Date>>(`SELECT ${UNNAMED_FACE_COLUMNS} FROM faces f WHERE f.person_id IS NULL ORDER BY f.id LIMIT $1 OFFSET $2`, [page.limit, page.offset]);
        const { rows: counted } = await client.query<{ total: number }>('SELECT COUNT(*)::int AS total FROM faces WHERE person_id IS NULL');
        return { items: rows.map((row) => toUnnamedFace(row, (t) => t.toISOString())), total: counted[0]!.total };
      });
    });
  }

  hasUnnamedPhoto(contentHash: string): Promise<boolean> {
    return run(async () => {
      const { rowCount } = await this.#pool.query('SELECT 1 FROM unnamed_photos WHERE content_hash = $1', [contentHash]);
      return (rowCount ?? 0) > 0;
    });
  }

  loadUnnamedEmbeddings(): Promise<UnnamedEmbedding[]> {
    return run(() => this.#unnamed.loadEmbeddings());
  }

  saveClusters(groups: ClusterUpdate[]): Promise<number[]> {
    return run(() => this.#unnamed.saveClusters(groups));
  }

  listClusters(page: Page, samples: number): Promise<PageOf<Cluster>> {
    return run(() => this.#unnamed.listClusters(page, samples));
  }

  countUnnamedFaces(): Promise<{ total: number; unclustered: number }> {
    return run(() => this.#unnamed.countUnnamed());
  }

  nameCluster(clusterId: number, personName: string): Promise<NamedCluster> {
    return run(() => this.#unnamed.nameCluster(clusterId, personName));
  }

  #nearestPeople(query: Float32Array, k: number): Promise<PersonMatch[]> {
    return run(async () => {
      if (!Number.isInteger(k) || k < 0) throw new FacedbError('invalid_input', `k must be a non-negative integer, got ${k}`);
      const schema = await this.#vectors();
      if (schema === null || k === 0) return [];
      const dimensions = (await readModel(this.#pool))?.dimensions;
      if (query.length !== dimensions) {
        throw new FacedbError('invalid_input', `embedding has ${query.length} dimensions, the gallery holds ${dimensions}-dimensional embeddings`);
      }
      // Faces written by a facedb without pgvector search have no vector yet.
      await fillVectors(this.#pool, schema);
      return transaction(this.#pool, 'BEGIN READ ONLY', (client) => nearestPeopleInSql(client, schema, query, k));
    });
  }

  /** The vector column's extension schema once set up; null while the gallery is unpinned (no dimensions yet). */
  #vectors(): Promise<VectorSchema | null> {
    const where = this.#vectorWhere!;
    this.#vectorSchema ??= (async () => {
      const model = await readModel(this.#pool);
      if (model === null) return null;
      const schema = await transaction(this.#pool, 'BEGIN', (client) => ensureVectorColumn(client, model.dimensions, where));
      await fillVectors(this.#pool, schema);
      await transaction(this.#pool, 'BEGIN', (client) => ensureVectorIndex(client, schema));
      return schema;
    })().then(
      (schema) => {
        if (schema === null) this.#vectorSchema = undefined; // look again once pinned
        return schema;
      },
      (error: unknown) => {
        this.#vectorSchema = undefined;
        throw error;
      },
    );
    return this.#vectorSchema;
  }

  ping(): Promise<void> {
    return run(async () => {
      await this.#pool.query('SELECT 1');
      const fault = this.#faults.current();
      if (fault !== undefined) throw fault;
    });
  }

  /** A write: a storage fault it runs into is remembered for `ping` until a write succeeds. */
  async #write<T>(work: () => Promise<T>): Promise<T> {
    try {
      const result = await run(work);
      this.#faults.succeeded();
      return result;
    } catch (error) {
      if (!(this.#openedReadOnly && (error as FacedbError).details?.fault === 'read_only')) this.#faults.record(error);
      throw error;
    }
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}

type Queryable = pg.Pool | pg.PoolClient;

interface ChangeBounds {
  latest: number;
  oldest: number | null;
}

/**
 * Runs `work` on one pooled connection between `begin` and COMMIT, rolling back on any error.
 * A connection that cannot even roll back is broken, and is dropped instead of going back to the pool.
 */
async function transaction<T>(pool: pg.Pool, begin: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

async function readModel(db: Queryable): Promise<ModelInfo | null> {
  const { rows } = await db.query<MetaRow>('SELECT model_id, model_version, dimensions, metric, threshold FROM meta');
  const row = rows[0];
  if (row === undefined) return null;
  return {
    id: row.model_id,
    version: row.model_version,
    dimensions: row.dimensions,
    metric: row.metric as ModelInfo['metric'],
    defaultThreshold: row.threshold,
  };
}

async function count(db: Queryable, sql: string, values: unknown[] = []): Promise<number> {
  return (await onlyRow(db.query<{ n: number }>(sql, values))).n;
}

async function onlyRow<R extends pg.QueryResultRow>(result: Promise<pg.QueryResult<R>>): Promise<R> {
  const row = (await result).rows[0];
  if (row === undefined) throw new FacedbError('internal', 'expected a row from the gallery database, got none');
  return row;
}

/** SQLSTATEs after which retrying later should succeed: lock and serialization conflicts, too many connections. */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03', '53300']);

/** SQLSTATEs that mean the database's storage or server, not the request, is at fault. */
const STORAGE_SQLSTATES: Readonly<Record<string, StorageFault>> = {
  '53100': 'full', // disk_full
  '25006': 'read_only', // read_only_sql_transaction (default_transaction_read_only, a hot standby)
  '58030': 'io', // io_error
  '58000': 'io', // system_error
  XX001: 'io', // data_corrupted
  XX002: 'io', // index_corrupted
  '57P01': 'unreachable', // admin_shutdown
  '57P02': 'unreachable', // crash_shutdown
  '57P03': 'unreachable', // cannot_connect_now (starting up, shutting down, recovering)
  '57P04': 'gone', // database_dropped
};

/** Socket errors and pg's own messages for a server that went away or cannot be reached. */
const UNREACHABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT', 'EAI_AGAIN']);
const UNREACHABLE_MESSAGE = /Connection terminated|connection error and is not queryable|Connection ended|server closed the connection/i;

/** The storage fault `error` reports, if it is one; null for everything else. */
export function postgresFault(error: unknown): FacedbError | null {
  if (error instanceof FacedbError) return error.code === 'storage_unavailable' ? error : null;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  let fault: StorageFault | undefined;
  if (typeof code === 'string') {
    fault = STORAGE_SQLSTATES[code] ?? (code.startsWith('08') || UNREACHABLE_ERRNOS.has(code) ? 'unreachable' : undefined);
  }
  if (fault === undefined && UNREACHABLE_MESSAGE.test(message)) fault = 'unreachable';
  if (fault === undefined) return null;
  const what: Record<StorageFault, string> = {
    full: 'the gallery database server is out of disk space',
    read_only: 'the gallery database is read-only',
    io: 'the gallery database server reported an I/O error or damaged data',
    gone: 'the gallery database is gone',
    unreachable: 'the gallery database server cannot be reached',
  };
  return storageUnavailable(fault, `${what[fault]}: ${message === '' ? String(code) : message}`, error);
}

/** Awaits driver work, turning contention (server busy, pool exhausted) into `overloaded` and storage faults into `storage_unavailable`. */
async function run<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof FacedbError) throw error;
    const fault = postgresFault(error);
    if (fault !== null) throw fault;
    const sqlState = (error as { code?: unknown }).code;
    const poolTimedOut = error instanceof Error && /timeout exceeded when trying to connect/.test(error.message);
    if ((typeof sqlState === 'string' && TRANSIENT_SQLSTATES.has(sqlState)) || poolTimedOut) {
      throw new FacedbError('overloaded', `the gallery database is busy: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  }
}

/** SQLSTATE classes that mean the URL's credentials, database or rights are wrong (28: authorization, 3D: catalog, 42501: privilege). */
function isConfigurationError(sqlState: string): boolean {
  return sqlState.startsWith('28') || sqlState === '3D000' || sqlState === '42501';
}

/**
 * Explains a failure to open: a wrong URL, credentials or database is invalid_input; a server that
 * cannot be reached, or cannot store the schema, is storage_unavailable. Messages carry the redacted URL only.
 */
function openFailure(error: unknown, where: string): FacedbError {
  if (error instanceof FacedbError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  const misconfigured =
    (typeof code === 'string' && (isConfigurationError(code) || code === 'ENOTFOUND')) || /password|SASL/i.test(reason);
  const fault = misconfigured ? null : postgresFault(error);
  if (fault !== null) {
    return new FacedbError('storage_unavailable', `cannot open gallery database ${where}: ${fault.message}`, {
      cause: error,
      details: { ...fault.details, url: where },
    });
  }
  return new FacedbError(
    misconfigured ? 'invalid_input' : 'internal',
    `cannot open gallery database ${where}: ${reason === '' ? 'connection failed' : reason}`,
    { cause: error, details: { url: where } },
  );
}

const toPerson = (row: PersonRow): Person => sharedRows.toPerson(row, (time) => time.toISOString());
const toFace = (row: FaceRow): Face => sharedRows.toFace(row, (time) => time.toISOString());
