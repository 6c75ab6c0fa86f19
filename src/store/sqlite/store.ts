import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type { ModelInfo } from '../../core/types.js';
import { FaultMemory, storageUnavailable } from '../faults.js';
import { findPerson, givePerson, renamePerson, upsertPerson } from '../lookalikes.js';
import type { FaceCursor, FaceFilter, FaceListing, GalleryConstraints, MergedClusters, MergedPeople, MovedFaces, StoredFace } from '../curation.js';
import { SqliteCuration } from './curation.js';
import { notFound, toModelInfo, type MetaRow } from '../rows.js';
import type { Cluster, ClusterUpdate, EmbeddingChanges, EmbeddingSnapshot, Face, FaceRecord, GalleryStore, NamedCluster, NewFace, Page, PageOf, Person, UnnamedEmbedding, UnnamedFace } from '../store.js';
import { checkModel, checkPinnedModel } from '../validation.js';
import { fileIdentity, openReadOnly, openWritable, run, sqliteFault, unwritableReason, type StoreFile } from './connection.js';
import { SqliteEmbeddings } from './embeddings.js';
import { Erasure } from './erasure.js';
import { SqliteFaces } from './faces.js';
import { SqlitePeople } from './people.js';
import { SqliteUnnamedFaces } from './unnamed.js';
import { SqliteCalibration } from './calibration.js';
import type { GalleryCalibration } from '../calibration.js';

export interface SqliteOpenOptions {
  /**
   * Open without writing anything (no migration, no WAL switch): every write then fails with
   * storage_unavailable. Chosen by itself when the file or its folder cannot be written.
   */
  readOnly?: boolean;
}

/**
 * Opens (creating if needed) a gallery file, bringing its schema up to date. A gallery that cannot be written
 * (read-only file system or file) is opened read-only: reads work, writes fail with storage_unavailable.
 */
export async function openSqliteStore(path: string, options: SqliteOpenOptions = {}): Promise<SqliteGalleryStore> {
  if (path === ':memory:') return new SqliteGalleryStore(openWritable(path), { path, readOnly: null, identity: null });
  const readOnly = options.readOnly ? 'it was opened read-only' : await unwritableReason(path);
  if (readOnly !== null) {
    const db = await openReadOnly(path, readOnly);
    return new SqliteGalleryStore(db, { path, readOnly, identity: fileIdentity(path) });
  }
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (error) {
    throw sqliteFault(error, path) ?? error;
  }
  const db = openWritable(path);
  return new SqliteGalleryStore(db, { path, readOnly: null, identity: fileIdentity(path) });
}

/**
 * The gallery in one SQLite file, composed of one part per kind of thing stored (people, faces, embeddings,
 * unnamed faces). better-sqlite3 is synchronous, so each method does its work inline and the Promise only
 * matches the interface shared with networked stores.
 */
export class SqliteGalleryStore implements GalleryStore {
  readonly #db: Database.Database;
  readonly #file: StoreFile;
  readonly #faults = new FaultMemory();
  readonly #sql: ReturnType<typeof prepare>;
  readonly #people: SqlitePeople;
  readonly #faces: SqliteFaces;
  readonly #embeddings: SqliteEmbeddings;
  readonly #unnamed: SqliteUnnamedFaces;
  readonly #calibration: SqliteCalibration;
  readonly #curation: SqliteCuration;

  /** Use `openSqliteStore`, which also migrates the schema. */
  constructor(db: Database.Database, file: StoreFile) {
    this.#db = db;
    this.#file = file;
    this.#sql = prepare(db);
    const model = (): ModelInfo | null => this.#model();
    const erasure = new Erasure(db);
    this.#people = new SqlitePeople(db, erasure);
    this.#faces = new SqliteFaces(db, model, this.#people, erasure);
    this.#embeddings = new SqliteEmbeddings(db, model);
    this.#unnamed = new SqliteUnnamedFaces(db, model, this.#people, erasure);
    this.#calibration = new SqliteCalibration(db, model);
    this.#curation = new SqliteCuration(db, this.#people);
  }


  /** Why writes fail (the gallery could only be opened read-only), or null when it is writable. */
  get readOnly(): string | null {
    return this.#file.readOnly;
  }

  /** The underlying connection, for SQLite-specific tests and tooling. */
  get database(): Database.Database {
    return this.#db;
  }

  getModel(): Promise<ModelInfo | null> {
    return this.#read(() => this.#model());
  }

  ensureModel(model: ModelInfo): Promise<void> {
    return this.#write(() => {
      checkModel(model);
      // Already pinned (the usual case): no write lock needed.
      const pinned = this.#model();
      if (pinned !== null) return checkPinnedModel(pinned, model);
      this.#db
        .transaction(() => {
          const current = this.#model();
          if (current === null) {
            this.#sql.pinModel.run(model.id, model.version, model.dimensions, model.metric, model.defaultThreshold);
          }
          checkPinnedModel(current, model);
        })
        .immediate();
    });
  }

  upsertPerson(name: string): Promise<Person> {
    return this.#write(() => upsertPerson(this.#people.records, name));
  }

  getPerson(id: number): Promise<Person | null> {
    return this.#read(() => this.#people.byId(id));
  }

  findPersonByName(name: string): Promise<Person | null> {
    return this.#read(() => findPerson(this.#people.records, name));
  }

  listPeople(page: Page): Promise<PageOf<Person>> {
    return this.#read(() => this.#people.list(page));
  }

  removePerson(id: number): Promise<number> {
    return this.#write(() => this.#people.remove(id));
  }

  addFaces(personId: number, faces: NewFace[]): Promise<Face[]> {
    return this.#write(() => this.#faces.add(personId, faces));
  }

  hasPhoto(personId: number, contentHash: string): Promise<boolean> {
    return this.#read(() => this.#faces.hasPhoto(personId, contentHash));
  }

  getFace(id: number): Promise<Face | null> {
    return this.#read(() => this.#faces.get(id));
  }

  listFaces(personId: number, page: Page): Promise<PageOf<Face>> {
    return this.#read(() => this.#faces.list(personId, page));
  }

  removeFace(id: number): Promise<void> {
    return this.#write(() => this.#faces.remove(id));
  }

  getFaceCrop(id: number): Promise<Uint8Array | null> {
    return this.#read(() => this.#faces.crop(id));
  }

  facesAfter(afterId: number, limit: number): Promise<FaceRecord[]> {
    return this.#read(() => this.#faces.after(afterId, limit, this.#model()?.dimensions ?? 0));
  }


  getFacePhoto(id: number): Promise<Uint8Array | null> {
    return run(() => this.#faces.photo(id));
  }

  enrolledContent(): Promise<Map<string, Set<string>>> {
    return this.#read(() => this.#faces.enrolledContent());
  }

  countFaces(): Promise<number> {
    return this.#read(() => this.#faces.count());
  }

  loadEmbeddings(): Promise<EmbeddingSnapshot> {
    return this.#read(() => this.#embeddings.snapshot());
  }

  embeddingChangesSince(changeSeq: number): Promise<EmbeddingChanges> {
    return this.#read(() => this.#embeddings.changesSince(changeSeq));
  }


  addUnnamedFaces(faces: NewFace[]): Promise<UnnamedFace[]> {
    return this.#write(() => this.#unnamed.add(faces));
  }

  loadUnnamedEmbeddings(): Promise<UnnamedEmbedding[]> {
    return this.#read(() => this.#unnamed.loadEmbeddings());
  }

  saveClusters(groups: ClusterUpdate[]): Promise<number[]> {
    return this.#write(() => this.#unnamed.saveClusters(groups));
  }

  listClusters(page: Page, samples: number): Promise<PageOf<Cluster>> {
    return this.#read(() => this.#unnamed.listClusters(page, samples));
  }

  hasUnnamedPhoto(contentHash: string): Promise<boolean> {
    return this.#read(() => this.#unnamed.hasPhoto(contentHash));
  }

  listUnnamedFaces(page: Page): Promise<PageOf<UnnamedFace>> {
    return this.#read(() => this.#unnamed.list(page));
  }

  countUnnamedFaces(): Promise<{ total: number; unclustered: number }> {
    return this.#read(() => this.#unnamed.countUnnamed());
  }

  nameCluster(clusterId: number, personName: string): Promise<NamedCluster> {
    return this.#write(() => givePerson(this.#people.records, (person) => Promise.resolve(this.#unnamed.nameCluster(clusterId, person)), personName));
  }

  removeUnnamedFace(id: number): Promise<void> {
    return this.#write(() => this.#unnamed.removeFace(id));
  }

  removeCluster(id: number): Promise<number> {
    return this.#write(() => this.#unnamed.removeCluster(id));
  }

  listStoredFaces(filter: FaceFilter, page: FaceCursor): Promise<FaceListing> {
    return this.#read(() => this.#curation.listFaces(filter, page));
  }

  getStoredFaces(faceIds: number[]): Promise<StoredFace[]> {
    return this.#read(() => this.#curation.getFaces(faceIds));
  }

  moveFaces(faceIds: number[], personName: string): Promise<MovedFaces> {
    return this.#write(() => givePerson(this.#people.records, (person) => Promise.resolve(this.#curation.move(faceIds, person)), personName));
  }

  unassignFaces(faceIds: number[]): Promise<number> {
    return this.#write(() => this.#curation.unassign(faceIds));
  }

  renamePerson(personId: number, name: string): Promise<Person> {
    return this.#write(async () => {
      const current = this.#people.byId(personId);
      if (current === null) throw notFound('person', personId);
      return renamePerson(this.#people.records, current, name, (to) => Promise.resolve(this.#curation.rename(personId, to)));
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
    return this.#read(() => this.#curation.constraints());
  }

  addConstraints(constraints: GalleryConstraints): Promise<number> {
    return this.#write(() => this.#curation.addConstraints(constraints));
  }

  loadClusterEmbeddings(clusterIds: number[], perCluster: number): Promise<UnnamedEmbedding[]> {
    return this.#read(() => this.#curation.clusterEmbeddings(clusterIds, perCluster, this.#model()?.dimensions ?? 0));
  }

  getCalibration(): Promise<GalleryCalibration | null> {
    return this.#read(() => this.#calibration.get());
  }

  setCalibration(calibration: GalleryCalibration): Promise<void> {
    return this.#write(() => this.#calibration.set(calibration));
  }

  clearCalibration(): Promise<boolean> {
    return this.#write(() => this.#calibration.clear());
  }

  ping(): Promise<void> {
    return this.#read(() => {
      this.#sql.ping.get();
      this.#checkFile();
      const fault = this.#faults.current();
      if (fault !== undefined) throw fault;
    });
  }

  close(): Promise<void> {
    return run(() => {
      this.#db.close();
    });
  }

  /** Reads, with storage faults (I/O errors, a damaged file) reported as such. */
  #read<T>(work: () => T | Promise<T>): Promise<T> {
    return run(async () => {
      try {
        return await work();
      } catch (error) {
        throw sqliteFault(error, this.#file.path) ?? error;
      }
    });
  }

  /**
   * Writes, refused at once when the gallery is read-only or its file was deleted or replaced (SQLite would
   * write on into the unlinked file, and everything would be lost at the next start), and remembered when
   * they hit a storage fault, for `ping`.
   */
  #write<T>(work: () => T | Promise<T>): Promise<T> {
    return run(async () => {
      try {
        if (this.#file.readOnly !== null) {
          throw storageUnavailable('read_only', `the gallery ${this.#file.path} is read-only: ${this.#file.readOnly}`);
        }
        this.#checkFile();
        const result = await work();
        this.#faults.succeeded();
        return result;
      } catch (error) {
        const fault = sqliteFault(error, this.#file.path);
        // A gallery opened read-only is working as opened: no fault for readiness to report.
        if (this.#file.readOnly === null) this.#faults.record(fault);
        throw fault ?? error;
      }
    });
  }

  /** Throws storage_unavailable when the path no longer leads to the file this store has open. */
  #checkFile(): void {
    const opened = this.#file.identity;
    if (opened === null) return;
    const now = fileIdentity(this.#file.path);
    if (now === null || now.dev !== opened.dev || now.ino !== opened.ino) {
      throw storageUnavailable(
        'gone',
        `the gallery database ${this.#file.path} was ${now === null ? 'deleted' : 'replaced by another file'} while open: restart to use the file now there`,
      );
    }
  }

  #model(): ModelInfo | null {
    const row = this.#sql.model.get() as MetaRow | undefined;
    if (row === undefined) return null;
    return toModelInfo(row);
  }
}

function prepare(db: Database.Database) {
  return {
    model: db.prepare('SELECT model_id, model_version, dimensions, metric, threshold FROM meta WHERE singleton = 1'),
    pinModel: db.prepare(
      'INSERT INTO meta (singleton, model_id, model_version, dimensions, metric, threshold) VALUES (1, ?, ?, ?, ?, ?)',
    ),
    ping: db.prepare('SELECT 1'),
  };
}
