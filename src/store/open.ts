import { access } from 'node:fs/promises';
import { isPostgresUrl } from '../config/config.js';
import { FacedbError } from '../errors/errors.js';
import type { GalleryStore } from './store.js';
import type { PostgresOptions } from './postgres/store.js';
import { openSqliteStore } from './sqlite/store.js';

export interface StoreOpenOptions extends PostgresOptions {
  /**
   * Refuse a SQLite gallery file that does not exist (not_found) instead of creating it, with its folder: for
   * commands that only read or change what a gallery holds. A PostgreSQL database must exist anyway (its tables are
   * created on first open).
   */
  mustExist?: boolean;
}

/** Picks the store implementation from the database setting: a PostgreSQL URL, else a SQLite file path. */
export async function openStore(db: string, options: StoreOpenOptions = {}): Promise<GalleryStore> {
  // Loaded only for a PostgreSQL URL: the driver costs every SQLite user start-up time.
  if (isPostgresUrl(db)) return (await import('./postgres/store.js')).openPostgresStore(db, options);
  if (options.mustExist && db !== ':memory:') {
    await access(db).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return; // there, but not for us: opening it says why
      throw new FacedbError('not_found', `no gallery at ${db}: the file does not exist (nothing was created)`, {
        cause: error,
        details: { path: db, gallery: 'missing' },
      });
    });
  }
  return openSqliteStore(db);
}
