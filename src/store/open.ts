import { isPostgresUrl } from '../config/config.js';
import type { GalleryStore } from './store.js';
import { openPostgresStore, type PostgresOptions } from './postgres/store.js';
import { openSqliteStore } from './sqlite/store.js';

/** Picks the store implementation from the database setting: a PostgreSQL URL, else a SQLite file path. */
export function openStore(db: string, options: PostgresOptions = {}): Promise<GalleryStore> {
  return isPostgresUrl(db) ? openPostgresStore(db, options) : openSqliteStore(db);
}
