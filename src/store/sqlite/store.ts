import { constants, existsSync, statSync } from 'node:fs';
import { access, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ModelInfo } from '../../core/types.js';
import { FacedbError } from '../../errors/errors.js';
import { CHANGE_LOG_KEPT, type EmbeddingChanges, type EmbeddingSnapshot, type Face, type GalleryStore, type NewFace, type Page, type PageOf, type Person } from '../store.js';
import type { Cluster, ClusterUpdate, NamedCluster, UnnamedEmbedding, UnnamedFace } from '../store.js';
import { toUnnamedFace, UNNAMED_FACE_COLUMNS, type UnnamedFaceRow } from '../unnamed-rows.js';
import { SqliteUnnamedFaces } from './unnamed.js';
import { SqliteCalibration } from './calibration.js';
import type { GalleryCalibration } from '../calibration.js';
import { canonicalName, normalizePersonName, personNameProblem } from '../../core/names.js';
import { FaultMemory, storageUnavailable } from '../faults.js';
import { LookalikeIndex, lookalikeVerdict, type NamedPerson } from '../lookalikes.js';
import { checkModel, checkNewFaces, checkPage, checkPinnedModel } from '../validation.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import * as sharedRows from '../rows.js';
import {
  copyEmbeddingPage,
  newFaceRow,
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

function openWritable(path: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (error) {
    // Cannot open at all (a folder, a bad path): the setting is wrong, unless the disk is at fault.
    const fault = (error as { code?: unknown }).code === 'SQLITE_CANTOPEN' ? null : sqliteFault(error, path);
    throw fault ?? new FacedbError('invalid_input', `cannot open gallery database ${path}: ${(error as Error).message}`, {
      cause: error,
      details: { path },
    });
  }
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    // Migrating first: it reads the header (failing on a non-database) and refuses files that are
    // not ours before the persistent switch to WAL below could touch them.
    migrate(db, path);
    db.pragma('journal_mode = WAL');
    // Under WAL, NORMAL can lose the last commits on power loss but never corrupts, and a
    // crashed process loses nothing that was committed.
    db.pragma('synchronous = NORMAL');
  } catch (error) {
    db.close();
    throw notAGallery(error, path) ?? sqliteFault(error, path) ?? error;
  }
  return db;
}

/**
 * Why the gallery at `path` cannot be written here, or null when it can. Throws storage_unavailable when it does
 * not exist and cannot be created.
 */
async function unwritableReason(path: string): Promise<string | null> {
  // As root, access() ignores permission bits but still reports a read-only mount (EROFS).
  if (existsSync(path)) {
    const file = await access(path, constants.W_OK).then(() => null, (error: NodeJS.ErrnoException) => error.code ?? 'error');
    if (file !== null) return `${path} cannot be written (${file})`;
    // WAL needs to create its -wal and -shm files beside the database.
    const folder = await access(dirname(path), constants.W_OK).then(() => null, (error: NodeJS.ErrnoException) => error.code ?? 'error');
    if (folder !== null) return `the folder of ${path} cannot be written (${folder})`;
    return null;
  }
  const folder = dirname(path);
  if (existsSync(folder)) {
    const denied = await access(folder, constants.W_OK).then(() => null, (error: NodeJS.ErrnoException) => error.code ?? 'error');
    if (denied !== null) throw storageUnavailable('read_only', `cannot create the gallery ${path}: its folder cannot be written (${denied})`);
  }
  return null;
}

/**
 * Opens a gallery that cannot be written. SQLite reads a WAL-mode file read-only only when its -shm file exists
 * or can be created; when neither (a cleanly closed gallery on a read-only mount), the file is read into memory
 * and opened from there, marked as a rollback-journal database (header bytes 18-19), which is the same content.
 */
async function openReadOnly(path: string, why: string): Promise<Database.Database> {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.prepare('SELECT COUNT(*) FROM sqlite_schema').get();
  } catch (error) {
    db?.close();
    db = undefined;
    const code = error instanceof Database.SqliteError ? error.code : (error as NodeJS.ErrnoException).code;
    if (code !== 'SQLITE_CANTOPEN') throw notAGallery(error, path) ?? sqliteFault(error, path) ?? error;
  }
  if (db === undefined) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw sqliteFault(error, path) ?? error;
    }
    if (bytes.length >= 20 && bytes[18] === 2 && bytes[19] === 2) bytes.fill(1, 18, 20);
    try {
      db = new Database(bytes, { readonly: true });
      db.prepare('SELECT COUNT(*) FROM sqlite_schema').get();
    } catch (error) {
      db?.close();
      throw notAGallery(error, path) ?? sqliteFault(error, path) ?? error;
    }
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== SCHEMA_VERSION) {
    db.close();
    throw storageUnavailable(
      'read_only',
      version === 0
        ? `${path} is not a facedb gallery, and ${why}`
        : `${path} has gallery schema version ${version}, this facedb needs ${SCHEMA_VERSION}, and ${why}: open it once where it can be written`,
    );
  }
  db.pragma('foreign_keys = ON');
  return db;
}

function notAGallery(error: unknown, path: string): FacedbError | null {
  if (error instanceof FacedbError) return error;
  if (error instanceof Database.SqliteError && (error.code === 'SQLITE_NOTADB' || error.code === 'SQLITE_CORRUPT')) {
    return new FacedbError('invalid_input', `${path} is not a facedb gallery: not a SQLite database, or a damaged one`, {
      cause: error,
      details: { path },
    });
  }
  return null;
}

/** Node and SQLite error codes that mean the storage, not the request, is at fault. */
export function sqliteFault(error: unknown, path: string): FacedbError | null {
  if (error instanceof FacedbError) return error.code === 'storage_unavailable' ? error : null;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return null;
  const reason = (error as Error).message;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') {
    return storageUnavailable('full', `the gallery database ${path} is full (disk full or size limit reached): ${reason}`, error);
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return storageUnavailable('read_only', `the gallery database ${path} is read-only: ${reason}`, error);
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO' || code === 'SQLITE_PROTOCOL') {
    return storageUnavailable('io', `I/O error on the gallery database ${path}: ${reason}`, error);
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return storageUnavailable('gone', `the gallery database ${path} cannot be read (deleted, moved or damaged): ${reason}`, error);
  }
  return null;
}

interface FileIdentity {
  dev: bigint;
  ino: bigint;
}

function fileIdentity(path: string): FileIdentity | null {
  try {
    const { dev, ino } = statSync(path, { bigint: true });
    return { dev, ino };
  } catch {
    return null;
  }
}

interface StoreFile {
  path: string;
  /** Why the gallery cannot be written, or null when it can. */
  readOnly: string | null;
  /** The opened file's device and inode, to notice it being deleted or replaced; null in memory. */
  identity: FileIdentity | null;
}

type PersonRow = sharedRows.PersonRow<string>;
type FaceRow = sharedRows.FaceRow<string>;

const PERSON_COLUMNS = `p.id, p.name, p.created_at,
  (SELECT COUNT(*) FROM faces f WHERE f.person_id = p.id) AS face_count`;

const EMBEDDING_PAGE = 4096;

interface ChangeBounds {
  latest: number;
  oldest: number | null;
}

/**
 * The gallery in one SQLite file. better-sqlite3 is synchronous, so each method does its work
 * inline and the Promise only matches the interface shared with networked stores.
 */
export class SqliteGalleryStore implements GalleryStore {
  readonly #db: Database.Database;
  readonly #statements: ReturnType<typeof prepareStatements>;
  readonly #unnamed: SqliteUnnamedFaces;
  readonly #calibration: SqliteCalibration;
  readonly #file: StoreFile;
  readonly #faults = new FaultMemory();
  readonly #lookalikes = new LookalikeIndex();

  /** Use `openSqliteStore`, which also migrates the schema. */
  constructor(db: Database.Database, file: StoreFile) {
    this.#db = db;
    this.#file = file;
    this.#statements = prepareStatements(db);
    this.#unnamed = new SqliteUnnamedFaces(db, () => this.#model(), (id) => toPerson(this.#statements.personById.get(id) as PersonRow));
    this.#calibration = new SqliteCalibration(db, () => this.#model());
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
            this.#statements.pinModel.run(model.id, model.version, model.dimensions, model.metric, model.defaultThreshold);
          }
          checkPinnedModel(current, model);
        })
        .immediate();
    });
  }

  upsertPerson(name: string): Promise<Person> {
    return this.#write(() => {
      const normalized = normalizePersonName(name);
      const existing = this.#statements.personByName.get(normalized) as PersonRow | undefined;
      if (existing !== undefined) return toPerson(existing);
      return this.#db
        .transaction(() => {
          // Under the write lock: another process may have created the name, or a look-alike, meanwhile.
          const created = this.#statements.personByName.get(normalized) as PersonRow | undefined;
          if (created !== undefined) return toPerson(created);
          this.#lookalikes.learn(this.#statements.peopleAfter.all(this.#lookalikes.seenUpTo) as NamedPerson[]);
          const lookalikes: NamedPerson[] = [];
          for (const id of this.#lookalikes.candidates(normalized)) {
            const row = this.#statements.personById.get(id) as PersonRow | undefined;
            if (row === undefined) this.#lookalikes.forget(id);
            else lookalikes.push({ id: row.id, name: row.name });
          }
          const same = lookalikeVerdict(normalized, lookalikes);
          if (same !== null) return toPerson(this.#statements.personById.get(same.id) as PersonRow);
          const { lastInsertRowid } = this.#statements.insertPerson.run(normalized, now());
          this.#lookalikes.learn([{ id: Number(lastInsertRowid), name: normalized }]);
          return toPerson(this.#statements.personById.get(lastInsertRowid) as PersonRow);
        })
        .immediate();
    });
  }

  getPerson(id: number): Promise<Person | null> {
    return this.#read(() => {
      const row = this.#statements.personById.get(id) as PersonRow | undefined;
      return row === undefined ? null : toPerson(row);
    });
  }

  findPersonByName(name: string): Promise<Person | null> {
    return this.#read(() => {
      // As typed (names stored before the name rules), else in its normalised form.
      let row = this.#statements.personByName.get(name) as PersonRow | undefined;
      if (row === undefined && personNameProblem(name) === null) row = this.#statements.personByName.get(canonicalName(name)) as PersonRow | undefined;
      return row === undefined ? null : toPerson(row);
    });
  }

  hasPhoto(personId: number, contentHash: string): Promise<boolean> {
    return this.#read(() => this.#statements.hasPhoto.get(personId, contentHash) !== undefined);
  }

  listPeople(page: Page): Promise<PageOf<Person>> {
    return this.#read(() => {
      checkPage(page);
      return this.#db.transaction(() => ({
        items: (this.#statements.listPeople.all(page.limit, page.offset) as PersonRow[]).map(toPerson),
        total: this.#statements.countPeople.get() as number,
      }))();
    });
  }

  removePerson(id: number): Promise<number> {
    return this.#write(() =>
      this.#db
        .transaction(() => {
          const faces = this.#statements.countFacesOf.get(id) as number;
          if (this.#statements.deletePerson.run(id).changes === 0) throw notFound('person', id);
          this.#statements.pruneChanges.run(CHANGE_LOG_KEPT);
          return faces;
        })
        .immediate(),
    );
  }

  addFaces(personId: number, faces: NewFace[]): Promise<Face[]> {
    return this.#write(() =>
      this.#db
        .transaction(() => {
          const person = this.#statements.personById.get(personId) as PersonRow | undefined;
          if (person === undefined) throw notFound('person', personId);
          const model = this.#model();
          if (model === null) {
            throw new FacedbError('invalid_input', 'the gallery is not pinned to a model yet (call ensureModel first)');
          }
          checkNewFaces(faces, model.dimensions);
          const createdAt = now();
          const added: Face[] = [];
          for (const face of faces) {
            const { changes, lastInsertRowid } = this.#statements.insertFace.run({ person_id: personId, ...newFaceRow(face, model, createdAt) });
            // ON CONFLICT DO NOTHING: the person already has this photo (possibly earlier in this batch).
            if (changes === 0) continue;
            if (face.photo) this.#statements.insertPhoto.run(lastInsertRowid, face.photo);
            added.push(insertedFace(face, Number(lastInsertRowid), person, model, createdAt));
          }
          this.#statements.pruneChanges.run(CHANGE_LOG_KEPT);
          return added;
        })
        .immediate(),
    );
  }

  getFace(id: number): Promise<Face | null> {
    return this.#read(() => {
      const row = this.#statements.faceById.get(id) as FaceRow | undefined;
      return row === undefined ? null : toFace(row);
    });
  }

  listFaces(personId: number, page: Page): Promise<PageOf<Face>> {
    return this.#read(() => {
      checkPage(page);
      return this.#db.transaction(() => {
        if (this.#statements.personById.get(personId) === undefined) throw notFound('person', personId);
        return {
          items: (this.#statements.listFaces.all(personId, page.limit, page.offset) as FaceRow[]).map(toFace),
          total: this.#statements.countFacesOf.get(personId) as number,
        };
      })();
    });
  }

  removeFace(id: number): Promise<void> {
    return this.#write(() =>
      this.#db
        .transaction(() => {
          if (this.#statements.deleteFace.run(id).changes === 0) throw notFound('face', id);
          this.#statements.pruneChanges.run(CHANGE_LOG_KEPT);
        })
        .immediate(),
    );
  }

  getFaceCrop(id: number): Promise<Uint8Array | null> {
    return this.#read(() => {
      const crop = this.#statements.faceCrop.get(id) as Buffer | null | undefined;
      // A plain Uint8Array, not the driver's Buffer, so every store returns the same type.
      return crop == null ? null : new Uint8Array(crop);
    });
  }

  getFacePhoto(id: number): Promise<Uint8Array | null> {
    return run(() => {
      const photo = this.#statements.facePhoto.get(id) as Buffer | undefined;
      return photo === undefined ? null : new Uint8Array(photo);
    });
  }

  enrolledContent(): Promise<Map<string, Set<string>>> {
    return this.#read(() => {
      const content = new Map<string, Set<string>>();
      for (const [hash, name] of this.#statements.enrolledContent.iterate() as IterableIterator<[string, string]>) {
        const names = content.get(hash);
        if (names) names.add(name);
        else content.set(hash, new Set([name]));
      }
      return content;
    });
  }

  countFaces(): Promise<number> {
    return this.#read(() => this.#statements.countFaces.get() as number);
  }

  loadEmbeddings(): Promise<EmbeddingSnapshot> {
    return this.#read(() =>
      // One read transaction, so the count and the rows come from the same snapshot.
      this.#db.transaction((): EmbeddingSnapshot => {
        const dimensions = this.#model()?.dimensions ?? 0;
        const count = this.#statements.countFaces.get() as number;
        const target = snapshotTarget(count, dimensions);
        let row = 0;
        // Pages of .all() rather than .iterate(): fewer crossings into the driver per row, ~20%
        // faster at 1M faces. Keyset paging on the rowid costs nothing extra.
        for (let after = 0; row < count; ) {
          const page = this.#statements.embeddingsAfter.all(after, EMBEDDING_PAGE) as Array<[number, number, Buffer]>;
          if (page.length === 0) break;
          row = copyEmbeddingPage(page, target, row);
          after = page[page.length - 1]![0];
        }
        if (!LITTLE_ENDIAN_HOST) swapFloat32Bytes(target.bytes);
        const changeSeq = (this.#statements.changeBounds.get() as ChangeBounds).latest;
        return { dimensions, faceIds: target.faceIds, personIds: target.personIds, vectors: target.vectors, changeSeq };
      })(),
    );
  }

  embeddingChangesSince(changeSeq: number): Promise<EmbeddingChanges> {
    return this.#read(() =>
      this.#db.transaction((): EmbeddingChanges => {
        const { latest, oldest } = this.#statements.changeBounds.get() as ChangeBounds;
        // Nearly every call (one per search) finds nothing new.
        if (latest === changeSeq) return noChangesSince(changeSeq);
        const rows = this.#statements.changesAfter.all(changeSeq, latest) as Array<[number, number | null, Buffer | null]>;
        return toEmbeddingChanges(rows, { after: changeSeq, latest, oldest }, this.#model()?.dimensions ?? 0);
      })(),
    );
  }

  addUnnamedFaces(faces: NewFace[]): Promise<UnnamedFace[]> {
    return this.#write(() => this.#unnamed.add(faces));
  }

  hasUnnamedPhoto(contentHash: string): Promise<boolean> {
    return this.#read(() => this.#db.prepare('SELECT 1 FROM unnamed_photos WHERE content_hash = ?').get(contentHash) !== undefined);
  }

  listUnnamedFaces(page: Page): Promise<PageOf<UnnamedFace>> {
    return this.#read(() => {
      checkPage(page);
      return this.#db.transaction(() => ({
        items: (this.#db.prepare(`SELECT ${UNNAMED_FACE_COLUMNS} FROM faces f WHERE f.person_id IS NULL ORDER BY f.id LIMIT ? OFFSET ?`).all(page.limit, page.offset) as UnnamedFaceRow<string>[]).map((row) => toUnnamedFace(row, (t) => t)),
        total: this.#db.prepare('SELECT COUNT(*) FROM faces WHERE person_id IS NULL').pluck().get() as number,
      }))();
    });
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

  countUnnamedFaces(): Promise<{ total: number; unclustered: number }> {
    return this.#read(() => this.#unnamed.countUnnamed());
  }

  nameCluster(clusterId: number, personName: string): Promise<NamedCluster> {
    return this.#write(() => this.#unnamed.nameCluster(clusterId, personName));
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
      this.#statements.ping.get();
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
  #read<T>(work: () => T): Promise<T> {
    return run(() => {
      try {
        return work();
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
  #write<T>(work: () => T): Promise<T> {
    return run(() => {
      try {
        if (this.#file.readOnly !== null) {
          throw storageUnavailable('read_only', `the gallery ${this.#file.path} is read-only: ${this.#file.readOnly}`);
        }
        this.#checkFile();
        const result = work();
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
    const row = this.#statements.model.get() as MetaRow | undefined;
    if (row === undefined) return null;
    return {
      id: row.model_id,
      version: row.model_version,
      dimensions: row.dimensions,
      metric: row.metric as ModelInfo['metric'],
      defaultThreshold: row.threshold,
    };
  }
}

function prepareStatements(db: Database.Database) {
  return {
    model: db.prepare('SELECT model_id, model_version, dimensions, metric, threshold FROM meta WHERE singleton = 1'),
    pinModel: db.prepare(
      'INSERT INTO meta (singleton, model_id, model_version, dimensions, metric, threshold) VALUES (1, ?, ?, ?, ?, ?)',
    ),
    insertPerson: db.prepare('INSERT INTO people (name, created_at) VALUES (?, ?)'),
    peopleAfter: db.prepare('SELECT id, name FROM people WHERE id > ? ORDER BY id'),
    hasPhoto: db.prepare('SELECT 1 FROM faces WHERE person_id = ? AND content_hash = ?').pluck(),
    personById: db.prepare(`SELECT ${PERSON_COLUMNS} FROM people p WHERE p.id = ?`),
    personByName: db.prepare(`SELECT ${PERSON_COLUMNS} FROM people p WHERE p.name = ?`),
    listPeople: db.prepare(`SELECT ${PERSON_COLUMNS} FROM people p ORDER BY p.id LIMIT ? OFFSET ?`),
    countPeople: db.prepare('SELECT COUNT(*) FROM people').pluck(),
    deletePerson: db.prepare('DELETE FROM people WHERE id = ?'),
    insertFace: db.prepare(`INSERT INTO faces (person_id, source_path, content_hash, box_x, box_y, box_w, box_h,
        detection_score, embedding, crop, model_id, model_version, created_at)
      VALUES (@person_id, @source_path, @content_hash, @box_x, @box_y, @box_w, @box_h,
        @detection_score, @embedding, @crop, @model_id, @model_version, @created_at)
      ON CONFLICT (person_id, content_hash) DO NOTHING`),
    faceById: db.prepare(`SELECT ${FACE_COLUMNS} FROM faces f JOIN people p ON p.id = f.person_id WHERE f.id = ?`),
    listFaces: db.prepare(
      `SELECT ${FACE_COLUMNS} FROM faces f JOIN people p ON p.id = f.person_id WHERE f.person_id = ? ORDER BY f.id LIMIT ? OFFSET ?`,
    ),
    countFacesOf: db.prepare('SELECT COUNT(*) FROM faces WHERE person_id = ?').pluck(),
    countFaces: db.prepare('SELECT COUNT(*) FROM faces WHERE person_id IS NOT NULL').pluck(),
    deleteFace: db.prepare('DELETE FROM faces WHERE id = ?'),
    faceCrop: db.prepare('SELECT crop FROM faces WHERE id = ?').pluck(),
    insertPhoto: db.prepare('INSERT INTO face_photos (face_id, photo) VALUES (?, ?)'),
    facePhoto: db.prepare('SELECT photo FROM face_photos WHERE face_id = ?').pluck(),
    enrolledContent: db
      .prepare('SELECT DISTINCT f.content_hash, p.name FROM faces f JOIN people p ON p.id = f.person_id')
      .raw(),
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
    pruneChanges: db.prepare('DELETE FROM face_changes WHERE seq <= (SELECT MAX(seq) FROM face_changes) - ?'),
    ping: db.prepare('SELECT 1'),
  };
}

/** Runs synchronous driver work, turning a throw into a rejection and lock timeouts into `overloaded`. */
function run<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    if (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY')) {
      return Promise.reject(new FacedbError('overloaded', 'the gallery database is locked by another writer', { cause: error }));
    }
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function now(): string {
  return new Date().toISOString();
}

const toPerson = (row: PersonRow): Person => sharedRows.toPerson(row, (time) => time);
const toFace = (row: FaceRow): Face => sharedRows.toFace(row, (time) => time);
