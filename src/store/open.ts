import type { GalleryStore } from './store.js';
import { openSqliteStore } from './sqlite/store.js';

/** Picks the store implementation from the database setting (a SQLite file path for now). */
export function openStore(db: string): Promise<GalleryStore> {
  return openSqliteStore(db);
}
