import type Database from 'better-sqlite3';
import type { ModelInfo } from '../../core/types.js';
import { checkMeasuredWithPinned, parseGalleryCalibration, serializeGalleryCalibration, type GalleryCalibration } from '../calibration.js';

/** Migration: at most one row, the gallery's own calibration (see store/calibration.ts). */
export const GALLERY_CALIBRATION_MIGRATION = `
  CREATE TABLE gallery_calibration (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    model_key   TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
  ) STRICT;
`;

/** The SQLite store's gallery calibration. Synchronous; the store wraps each call (read / write). */
export class SqliteCalibration {
  readonly #db: Database.Database;
  readonly #model: () => ModelInfo | null;

  constructor(db: Database.Database, model: () => ModelInfo | null) {
    this.#db = db;
    this.#model = model;
  }

  get(): GalleryCalibration | null {
    // A gallery opened read-only at an older schema version has no such table: it has no calibration either.
    if (this.#db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'gallery_calibration'").get() === undefined) return null;
    const row = this.#db.prepare('SELECT body FROM gallery_calibration').get() as { body: string } | undefined;
    return row === undefined ? null : parseGalleryCalibration(row.body);
  }

  set(calibration: GalleryCalibration): void {
    const body = serializeGalleryCalibration(calibration);
    this.#db
      .transaction(() => {
        checkMeasuredWithPinned(this.#model(), calibration);
        this.#db
          .prepare(
            'INSERT INTO gallery_calibration (singleton, model_key, body, created_at) VALUES (1, ?, ?, ?) ' +
              'ON CONFLICT (singleton) DO UPDATE SET model_key = excluded.model_key, body = excluded.body, created_at = excluded.created_at',
          )
          .run(calibration.model, body, new Date().toISOString());
      })
      .immediate();
  }

  clear(): boolean {
    return this.#db.prepare('DELETE FROM gallery_calibration').run().changes > 0;
  }
}
