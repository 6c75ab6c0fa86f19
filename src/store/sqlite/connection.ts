import { constants, existsSync, statSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { FacedbError } from '../../errors/errors.js';
import { storageUnavailable } from '../faults.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';

/*
 * Opening a gallery file (writable, or read-only when it cannot be written), the storage faults SQLite and the
 * file system report, and running synchronous driver work as the store's promises.
 */

export function openWritable(path: string): Database.Database {
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
export async function unwritableReason(path: string): Promise<string | null> {
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
export async function openReadOnly(path: string, why: string): Promise<Database.Database> {
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

export interface FileIdentity {
  dev: bigint;
  ino: bigint;
}

export function fileIdentity(path: string): FileIdentity | null {
  try {
    const { dev, ino } = statSync(path, { bigint: true });
    return { dev, ino };
  } catch {
    return null;
  }
}

export interface StoreFile {
  path: string;
  /** Why the gallery cannot be written, or null when it can. */
  readOnly: string | null;
  /** The opened file's device and inode, to notice it being deleted or replaced; null in memory. */
  identity: FileIdentity | null;
}

/** Runs synchronous driver work, turning a throw into a rejection and lock timeouts into `overloaded`. */
export async function run<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY')) {
      throw new FacedbError('overloaded', 'the gallery database is locked by another writer', { cause: error });
    }
    throw error instanceof Error ? error : new Error(String(error));
  }
}

export function now(): string {
  return new Date().toISOString();
}
