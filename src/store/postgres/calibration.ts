import type pg from 'pg';
import type { ModelInfo } from '../../core/types.js';
import { checkMeasuredWithPinned, parseGalleryCalibration, serializeGalleryCalibration, type GalleryCalibration } from '../calibration.js';

/** Migration: at most one row, the gallery's own calibration (see store/calibration.ts). */
export const GALLERY_CALIBRATION_MIGRATION = `
  CREATE TABLE gallery_calibration (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    model_key  text        NOT NULL,
    body       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  );
`;

type Queryable = pg.Pool | pg.PoolClient;

/** The PostgreSQL store's gallery calibration; `transaction` and `readModel` are the store's own. */
export class PostgresCalibration {
  constructor(
    private readonly pool: pg.Pool,
    private readonly transaction: <T>(begin: string, work: (client: pg.PoolClient) => Promise<T>) => Promise<T>,
    private readonly readModel: (db: Queryable) => Promise<ModelInfo | null>,
  ) {}

  async get(): Promise<GalleryCalibration | null> {
    // A gallery opened read-only at an older schema version has no such table: it has no calibration either.
    const table = await this.pool.query<{ present: boolean }>("SELECT to_regclass('gallery_calibration') IS NOT NULL AS present");
    if (!table.rows[0]?.present) return null;
    const { rows } = await this.pool.query<{ body: string }>('SELECT body FROM gallery_calibration');
    const row = rows[0];
    return row === undefined ? null : parseGalleryCalibration(row.body);
  }

  async set(calibration: GalleryCalibration): Promise<void> {
    const body = serializeGalleryCalibration(calibration);
    await this.transaction('BEGIN', async (client) => {
      // The pin is read in the same transaction the row is written in (meta is only ever written once).
      checkMeasuredWithPinned(await this.readModel(client), calibration);
      await client.query(
        'INSERT INTO gallery_calibration (singleton, model_key, body) VALUES (true, $1, $2) ' +
          'ON CONFLICT (singleton) DO UPDATE SET model_key = excluded.model_key, body = excluded.body, created_at = now()',
        [calibration.model, body],
      );
    });
  }

  async clear(): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM gallery_calibration');
    return (rowCount ?? 0) > 0;
  }
}
