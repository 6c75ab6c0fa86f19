/**
 * Schema step 4 (after step 3, which only adds a table of its own): faces may belong to nobody yet
 * (`enroll --unlabelled`) and may sit in a cluster, a candidate person. SQLite cannot drop NOT NULL from a
 * column, so `faces` is rebuilt (SQLite's 12-step procedure: other tables' foreign keys to `faces` name it
 * by name and point at the rebuilt table after the rename). Its triggers and indexes go with the old table and
 * are made again, logging only faces of people, plus one that logs a face whose person changes (a cluster being
 * named), so every process's search index picks named faces up through the change log.
 */
export const UNNAMED_FACES_MIGRATION = `
  CREATE TABLE clusters (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT    NOT NULL
  ) STRICT;

  -- Photos enrolled without a person, by content hash, so a re-run skips them whole.
  CREATE TABLE unnamed_photos (
    content_hash TEXT PRIMARY KEY,
    source_path  TEXT,
    created_at   TEXT NOT NULL
  ) STRICT;

  CREATE TABLE faces_next (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id       INTEGER REFERENCES people(id) ON DELETE CASCADE, -- NULL: nobody's yet
    cluster_id      INTEGER REFERENCES clusters(id) ON DELETE SET NULL, -- only while person_id is NULL
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
    UNIQUE (person_id, content_hash) -- also serves lookups and cascades by person; NULLs never collide
  ) STRICT;
  INSERT INTO faces_next (id, person_id, source_path, content_hash, box_x, box_y, box_w, box_h, detection_score,
      embedding, crop, model_id, model_version, created_at)
    SELECT id, person_id, source_path, content_hash, box_x, box_y, box_w, box_h, detection_score,
      embedding, crop, model_id, model_version, created_at
    FROM faces;
  -- Carry the id high-water mark over, so the id of a face removed before the rebuild is never handed out again.
  DELETE FROM sqlite_sequence WHERE name = 'faces_next';
  UPDATE sqlite_sequence SET name = 'faces_next' WHERE name = 'faces';

  DROP TABLE faces;
  ALTER TABLE faces_next RENAME TO faces;
  CREATE INDEX faces_content_hash ON faces (content_hash);
  CREATE INDEX faces_cluster ON faces (cluster_id) WHERE cluster_id IS NOT NULL;
  CREATE INDEX faces_unnamed ON faces (id) WHERE person_id IS NULL;

  -- Faces without a person are never in a search index, so adding or removing one is no change to log
  -- (a large unlabelled import must not push readers' change numbers out of the log).
  CREATE TRIGGER faces_log_insert AFTER INSERT ON faces
    WHEN NEW.person_id IS NOT NULL
  BEGIN
    INSERT INTO face_changes (face_id) VALUES (NEW.id);
  END;

  -- Also fires for the faces a person's removal cascades to.
  CREATE TRIGGER faces_log_delete AFTER DELETE ON faces
    WHEN OLD.person_id IS NOT NULL
  BEGIN
    INSERT INTO face_changes (face_id) VALUES (OLD.id);
  END;

  -- A face given to a person (or moved between people): readers re-read it and index it under its person.
  CREATE TRIGGER faces_log_person AFTER UPDATE OF person_id ON faces
    WHEN OLD.person_id IS NOT NEW.person_id
  BEGIN
    INSERT INTO face_changes (face_id) VALUES (NEW.id);
  END;
`;
