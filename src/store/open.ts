import type { GalleryStore } from './store.js';
import { openPostgresStore } from './postgres/store.js';
import { openSqliteStore } from './sqlite/store.js';

/** Picks the store implementation from the database setting: a PostgreSQL URL, else a SQLite file path. */
export function openStore(db: string): Promise<GalleryStore> {
  return /^postgres(ql)?:\/\//i.test(db) ? openPostgresStore(db) : openSqliteStore(db);
}
