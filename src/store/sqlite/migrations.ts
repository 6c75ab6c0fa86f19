import type Database from 'better-sqlite3';
import { FacedbError } from '../../errors/errors.js';

/**
 * Schema migrations, applied in order. The database's `PRAGMA user_version` is the number of
 * migrations already applied. Append new steps; never edit a released one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  -- At most one row: the model every embedding in this gallery comes from.
  CREATE TABLE meta (
    singleton     INTEGER PRIMARY KEY CHECK (singleton = 1),
    model_id      TEXT    NOT NULL,
    model_version TEXT    NOT NULL,
    dimensions    INTEGER NOT NULL CHECK (dimensions > 0),
    metric        TEXT    NOT NULL,
    threshold     REAL    NOT NULL
  ) STRICT;

  CREATE TABLE people (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    created_at TEXT    NOT NULL
  ) STRICT;

  CREATE TABLE faces (
    id              INTEGER PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    source_path     TEXT,
    content_hash    TEXT    NOT NULL,
    box_x           REAL    NOT NULL,
    box_y           REAL    NOT NULL,
    box_w           REAL    NOT NULL,
    box_h           REAL    NOT NULL,
    detection_score REAL    NOT NULL,
    embedding       BLOB    NOT NULL, -- float32 little-endian
    crop            BLOB,
    model_id        TEXT    NOT NULL,
    model_version   TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    UNIQUE (person_id, content_hash) -- also serves lookups and cascades by person
  ) STRICT;

  CREATE INDEX faces_content_hash ON faces (content_hash);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the schema up to date. Each step runs in its own IMMEDIATE transaction together with
 * the user_version bump, so a crash leaves the database at a whole version, and two processes
 * opening a fresh file at once cannot both apply the same step.
 */
export function migrate(db: Database.Database, path: string): void {
  const version = (): number => db.pragma('user_version', { simple: true }) as number;
  const found = version();
  if (found > SCHEMA_VERSION) {
    throw new FacedbError(
      'invalid_input',
      `${path} has schema version ${found}, newer than the ${SCHEMA_VERSION} this facedb understands; upgrade facedb to open it`,
      { details: { path, version: found, supported: SCHEMA_VERSION } },
    );
  }
  if (found === 0 && (db.prepare('SELECT COUNT(*) FROM sqlite_schema').pluck().get() as number) > 0) {
    // Version 0 with tables in it is some other program's database: migrating would mix the two.
    throw new FacedbError('invalid_input', `${path} is a SQLite database but not a facedb gallery`, { details: { path } });
  }
  for (let next = found; next < SCHEMA_VERSION; next++) {
    db.transaction(() => {
      // Another process may have migrated while we waited for the write lock.
      if (version() !== next) return;
      db.exec(MIGRATIONS[next]!);
      db.pragma(`user_version = ${next + 1}`);
    }).immediate();
  }
}
