import pg from 'pg';
import type { FaceMatch, PersonMatch } from '../../core/search-index.js';
import type { ModelInfo } from '../../core/types.js';
import type { FacedbError } from '../../errors/errors.js';
import { FaultMemory } from '../faults.js';
import { findPerson, givePerson, renamePerson, upsertPerson } from '../lookalikes.js';
import type { FaceCursor, FaceFilter, FaceListing, GalleryConstraints, MergedClusters, MergedPeople, MovedFaces, StoredFace } from '../curation.js';
import { notFound } from '../rows.js';
import { PostgresCuration } from './curation.js';
import type { Cluster, ClusterUpdate, EmbeddingChanges, EmbeddingSnapshot, Face, FaceRecord, GalleryStore, NamedCluster, NewFace, Page, PageOf, Person, UnnamedEmbedding, UnnamedFace } from '../store.js';
import { checkModel, checkPinnedModel } from '../validation.js';
import { openFailure, readModel, redactUrl, run, transaction } from './connection.js';
import { PostgresEmbeddings } from './embeddings.js';
import { Erasure } from './erasure.js';
import { PostgresFaces } from './faces.js';
import { migrate } from './migrations.js';
import { PostgresPeople } from './people.js';
import { PostgresUnnamedFaces } from './unnamed.js';
import { PostgresCalibration } from './calibration.js';
import type { GalleryCalibration } from '../calibration.js';

/** A gallery does little concurrent database work: its searches run in memory. */
const POOL_SIZE = 4;
const CONNECT_TIMEOUT_MS = 10_000;

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

/**
 * The gallery in a PostgreSQL database, shared safely by any number of facedb processes; composed of one part
 * per kind of thing stored (people, faces, embeddings, unnamed faces).
 */
export class PostgresGalleryStore implements GalleryStore {
  readonly #pool: pg.Pool;
  /** Opened as a read-only role or on a read-only database: its refused writes are no fault for readiness. */
  readonly #openedReadOnly: boolean;
  readonly #faults = new FaultMemory();
  readonly #people: PostgresPeople;
  readonly #faces: PostgresFaces;
  readonly #embeddings: PostgresEmbeddings;
  readonly #unnamed: PostgresUnnamedFaces;
  readonly #calibration: PostgresCalibration;
  readonly #curation: PostgresCuration;
  /** Present only when opened with pgvector search (see GalleryStore.nearestPeople). */
  readonly nearestPeople?: (query: Float32Array, k: number) => Promise<PersonMatch[]>;
  readonly nearestFaces?: (query: Float32Array, k: number, unnamedOnly: boolean) => Promise<FaceMatch[]>;

  /** Use `openPostgresStore`, which also migrates the schema. */
  constructor(pool: pg.Pool, openedReadOnly = false, vectorWhere?: string) {
    this.#pool = pool;
    this.#openedReadOnly = openedReadOnly;
    const erasure = new Erasure(pool);
    this.#people = new PostgresPeople(pool, erasure);
    this.#faces = new PostgresFaces(pool, erasure);
    this.#embeddings = new PostgresEmbeddings(pool, vectorWhere);
    this.#unnamed = new PostgresUnnamedFaces(pool, this.#people, erasure);
    this.#calibration = new PostgresCalibration(pool, (begin, work) => transaction(pool, begin, work), readModel);
    this.#curation = new PostgresCuration(pool, this.#people);
    if (vectorWhere !== undefined) this.nearestPeople = (query, k) => run(() => this.#embeddings.nearestPeople(query, k));
    if (vectorWhere !== undefined) this.nearestFaces = (query, k, unnamedOnly) => run(() => this.#embeddings.nearestFaces(query, k, unnamedOnly));
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
      await this.#embeddings.vectors();
    });
  }

  upsertPerson(name: string): Promise<Person> {
    return this.#write(() => upsertPerson(this.#people.records, name));
  }

  getPerson(id: number): Promise<Person | null> {
    return run(() => this.#people.byId(this.#pool, id));
  }

  findPersonByName(name: string): Promise<Person | null> {
    return run(() => findPerson(this.#people.records, name));
  }

  listPeople(page: Page): Promise<PageOf<Person>> {
    return run(() => this.#people.list(page));
  }

  removePerson(id: number): Promise<number> {
    return this.#write(() => this.#people.remove(id));
  }

  addFaces(personId: number, faces: NewFace[]): Promise<Face[]> {
    return this.#write(() => this.#faces.add(personId, faces));
  }

  hasPhoto(personId: number, contentHash: string): Promise<boolean> {
    return run(() => this.#faces.hasPhoto(personId, contentHash));
  }

  getFace(id: number): Promise<Face | null> {
    return run(() => this.#faces.get(id));
  }

  listFaces(personId: number, page: Page): Promise<PageOf<Face>> {
    return run(() => this.#faces.list(personId, page));
  }

  removeFace(id: number): Promise<void> {
    return this.#write(() => this.#faces.remove(id));
  }

  getFaceCrop(id: number): Promise<Uint8Array | null> {
    return run(() => this.#faces.crop(id));
  }

  facesAfter(afterId: number, limit: number): Promise<FaceRecord[]> {
    return run(() => this.#faces.after(afterId, limit));
  }


  getFacePhoto(id: number): Promise<Uint8Array | null> {
    return run(() => this.#faces.photo(id));
  }

  enrolledContent(): Promise<Map<string, Set<string>>> {
    return run(() => this.#faces.enrolledContent());
  }

  countFaces(): Promise<number> {
    return run(() => this.#faces.count());
  }

  loadEmbeddings(): Promise<EmbeddingSnapshot> {
    return run(() => this.#embeddings.snapshot());
  }

  embeddingChangesSince(changeSeq: number): Promise<EmbeddingChanges> {
    return run(() => this.#embeddings.changesSince(changeSeq));
  }

  addUnnamedFaces(faces: NewFace[]): Promise<UnnamedFace[]> {
    return run(() => this.#unnamed.add(faces));
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

  hasUnnamedPhoto(contentHash: string): Promise<boolean> {
    return run(() => this.#unnamed.hasPhoto(contentHash));
  }

  listUnnamedFaces(page: Page): Promise<PageOf<UnnamedFace>> {
    return run(() => this.#unnamed.list(page));
  }

  countUnnamedFaces(): Promise<{ total: number; unclustered: number }> {
    return run(() => this.#unnamed.countUnnamed());
  }

  nameCluster(clusterId: number, personName: string): Promise<NamedCluster> {
    return run(() => givePerson(this.#people.records, (person) => this.#unnamed.nameCluster(clusterId, person), personName));
  }


  removeUnnamedFace(id: number): Promise<void> {
    return this.#write(() => this.#unnamed.removeFace(id));
  }

  removeCluster(id: number): Promise<number> {
    return this.#write(() => this.#unnamed.removeCluster(id));
  }

  listStoredFaces(filter: FaceFilter, page: FaceCursor): Promise<FaceListing> {
    return run(() => this.#curation.listFaces(filter, page));
  }

  getStoredFaces(faceIds: number[]): Promise<StoredFace[]> {
    return run(() => this.#curation.getFaces(faceIds));
  }

  moveFaces(faceIds: number[], personName: string): Promise<MovedFaces> {
    return this.#write(() => givePerson(this.#people.records, (person) => this.#curation.move(faceIds, person), personName));
  }

  unassignFaces(faceIds: number[]): Promise<number> {
    return this.#write(() => this.#curation.unassign(faceIds));
  }

  renamePerson(personId: number, name: string): Promise<Person> {
    return this.#write(async () => {
      const current = await this.#people.byId(this.#pool, personId);
      if (current === null) throw notFound('person', personId);
      return renamePerson(this.#people.records, current, name, (to) => this.#curation.rename(personId, to));
    });
  }

  mergePeople(fromId: number, intoId: number): Promise<MergedPeople> {
    return this.#write(() => this.#curation.mergePeople(fromId, intoId));
  }

  mergeClusters(fromId: number, intoId: number): Promise<MergedClusters> {
    return this.#write(() => this.#curation.mergeClusters(fromId, intoId));
  }

  rejectCluster(clusterId: number, personId: number): Promise<void> {
    return this.#write(() => this.#curation.reject(clusterId, personId));
  }

  listConstraints(): Promise<GalleryConstraints> {
    return run(() => this.#curation.constraints());
  }

  addConstraints(constraints: GalleryConstraints): Promise<number> {
    return this.#write(() => this.#curation.addConstraints(constraints));
  }

  loadClusterEmbeddings(clusterIds: number[], perCluster: number): Promise<UnnamedEmbedding[]> {
    return run(() => this.#curation.clusterEmbeddings(clusterIds, perCluster));
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
