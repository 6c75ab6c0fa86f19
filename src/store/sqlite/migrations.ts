import type Database from 'better-sqlite3';
import { SQLITE_CURATION_MIGRATION } from '../curation-migration.js';
import { FacedbError } from '../../errors/errors.js';
import { lookalikeKey } from '../lookalikes.js';
import { UNNAMED_FACES_MIGRATION } from './migration-unnamed-faces.js';
import { GALLERY_CALIBRATION_MIGRATION } from './calibration.js';

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
  `
  -- Ids are never handed out twice from now on (AUTOINCREMENT): a plain INTEGER PRIMARY KEY gives the
  -- highest id again once its row is deleted, and a client or another process still holding that id
  -- would then reach a different face or person. SQLite cannot add AUTOINCREMENT to a table, so both are
  -- rebuilt (migrate() runs this with foreign keys off and checks them before committing).
  CREATE TABLE people_next (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    created_at TEXT    NOT NULL
  ) STRICT;
  INSERT INTO people_next (id, name, created_at) SELECT id, name, created_at FROM people;

  CREATE TABLE faces_next (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
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
  INSERT INTO faces_next (id, person_id, source_path, content_hash, box_x, box_y, box_w, box_h, detection_score,
      embedding, crop, model_id, model_version, created_at)
    SELECT id, person_id, source_path, content_hash, box_x, box_y, box_w, box_h, detection_score,
      embedding, crop, model_id, model_version, created_at
    FROM faces;

  DROP TABLE faces;
  DROP TABLE people;
  ALTER TABLE people_next RENAME TO people;
  ALTER TABLE faces_next RENAME TO faces;
  CREATE INDEX faces_content_hash ON faces (content_hash);

  -- Every face added or removed, whoever did it, so a process holding an in-memory index of the
  -- embeddings can catch up with other processes' writes (see GalleryStore.embeddingChangesSince).
  -- Writers are serialised by SQLite's write lock, so numbers are handed out in commit order.
  CREATE TABLE face_changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    face_id INTEGER NOT NULL
  ) STRICT;

  CREATE TRIGGER faces_log_insert AFTER INSERT ON faces
  BEGIN
    INSERT INTO face_changes (face_id) VALUES (NEW.id);
  END;

  -- Also fires for the faces a person's removal cascades to.
  CREATE TRIGGER faces_log_delete AFTER DELETE ON faces
  BEGIN
    INSERT INTO face_changes (face_id) VALUES (OLD.id);
  END;
  `,
  `
  -- The photo bytes of faces enrolled without a source path (uploads), so \`facedb reembed\` can move them to
  -- another model. One row per face at most; goes with its face.
  CREATE TABLE face_photos (
    face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
    photo   BLOB    NOT NULL
  ) STRICT;
  `,
  UNNAMED_FACES_MIGRATION,
  GALLERY_CALIBRATION_MIGRATION,
  `
  -- Each person's look-alike key (src/store/lookalikes.ts), UNIQUE so that two processes cannot create
  -- look-alikes at once. Filled by keyPeople (JavaScript) within this step.
  ALTER TABLE people ADD COLUMN name_key TEXT;
  CREATE UNIQUE INDEX people_name_key ON people (name_key);

  -- An unlabelled photo is remembered (to skip it on re-runs) only while one of its faces is in the gallery:
  -- once all are erased (named and then erased, or erased unnamed), so are its hash and path, and it can be
  -- enrolled again. Photos erased before this step are forgotten now.
  DELETE FROM unnamed_photos WHERE NOT EXISTS (SELECT 1 FROM faces f WHERE f.content_hash = unnamed_photos.content_hash);
  CREATE TRIGGER faces_forget_unnamed_photo AFTER DELETE ON faces
  BEGIN
    DELETE FROM unnamed_photos
    WHERE content_hash = OLD.content_hash AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.content_hash = OLD.content_hash);
  END;
  `,
  SQLITE_CURATION_MIGRATION,
  `
  -- Unnamed faces are searched too (facedb search): every face added or removed is logged, named or not, so each
  -- process's index of unnamed faces follows other writers as its index of people's faces does. (A face changing
  -- person, named or unnamed, is logged by faces_log_person already.)
  DROP TRIGGER faces_log_insert;
  DROP TRIGGER faces_log_delete;
  CREATE TRIGGER faces_log_insert AFTER INSERT ON faces
  BEGIN
    INSERT INTO face_changes (face_id) VALUES (NEW.id);
  END;
  -- Also fires for the faces a person's or a cluster's removal cascades to.
  CREATE TRIGGER faces_log_delete AFTER DELETE ON faces
  BEGIN
    INSERT INTO face_changes (face_id) VALUES (OLD.id);
  END;
  `,
];

/** Work a step needs beyond its SQL, run after it in the same transaction, by the step's number (1-based). */
const AFTER_STEP: Readonly<Record<number, (db: Database.Database) => void>> = { 6: keyPeople };

/**
 * Gives every person their look-alike key, oldest first. A person stored before the name rules whose key an
 * older person already holds keeps none (NULLs never collide): they are still found by their name, and a new
 * name with that key is refused as a look-alike of the older one.
 */
export function keyPeople(db: Database.Database): void {
  const setKey = db.prepare('UPDATE OR IGNORE people SET name_key = ? WHERE id = ?');
  for (const { id, name } of db.prepare('SELECT id, name FROM people WHERE name_key IS NULL ORDER BY id').all() as Array<{ id: number; name: string }>) {
    setKey.run(lookalikeKey(name), id);
  }
}

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the schema up to date. Each step runs in its own IMMEDIATE transaction together with
 * the user_version bump, so a crash leaves the database at a whole version, and two processes
 * opening a fresh file at once cannot both apply the same step. Foreign keys are off meanwhile,
 * as SQLite's table-rebuild procedure requires (dropping a parent table would otherwise cascade),
 * and checked before each step commits.
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
  if (found === SCHEMA_VERSION) return;
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF');
  try {
    for (let next = found; next < SCHEMA_VERSION; next++) {
      db.transaction(() => {
        // Another process may have migrated while we waited for the write lock.
        if (version() !== next) return;
        db.exec(MIGRATIONS[next]!);
        AFTER_STEP[next + 1]?.(db);
        const broken = db.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0) {
          throw new FacedbError('internal', `migrating ${path} to schema version ${next + 1} broke ${broken.length} foreign keys; nothing was changed`);
        }
        db.pragma(`user_version = ${next + 1}`);
      }).immediate();
    }
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys}`);
  }
  // Photos, crops and embeddings erased before erasure zeroed them (src/store/sqlite/erasure.ts, from step 6 on)
  // still sit in free pages: the file is rebuilt once, without them.
  if (found > 0 && found < SECURE_ERASURE_STEP) db.exec('VACUUM');
}

/** The schema step from which erasures zero what they delete. */
const SECURE_ERASURE_STEP = 6;
