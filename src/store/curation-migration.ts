/** Schema step for curation (src/store/curation.ts), the same in both drivers but for column types. */

export const SQLITE_CURATION_MIGRATION = `
  -- Curation (src/store/curation.ts): the file name an upload came with, and the constraints a person's
  -- corrections leave behind, one row each, going with the faces, people and clusters they name.
  ALTER TABLE faces ADD COLUMN upload_name TEXT;
  CREATE TABLE curation_constraints (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL CHECK (kind IN ('faces_apart', 'face_not_person', 'cluster_not_person')),
    face_id       INTEGER REFERENCES faces (id) ON DELETE CASCADE,
    other_face_id INTEGER REFERENCES faces (id) ON DELETE CASCADE,
    cluster_id    INTEGER REFERENCES clusters (id) ON DELETE CASCADE,
    person_id     INTEGER REFERENCES people (id) ON DELETE CASCADE,
    created_at    TEXT    NOT NULL,
    CHECK (
      (kind = 'faces_apart' AND face_id IS NOT NULL AND other_face_id IS NOT NULL AND face_id < other_face_id AND cluster_id IS NULL AND person_id IS NULL)
      OR (kind = 'face_not_person' AND face_id IS NOT NULL AND person_id IS NOT NULL AND other_face_id IS NULL AND cluster_id IS NULL)
      OR (kind = 'cluster_not_person' AND cluster_id IS NOT NULL AND person_id IS NOT NULL AND face_id IS NULL AND other_face_id IS NULL)
    )
  ) STRICT;
  CREATE UNIQUE INDEX curation_constraints_once ON curation_constraints
    (kind, COALESCE(face_id, 0), COALESCE(other_face_id, 0), COALESCE(cluster_id, 0), COALESCE(person_id, 0));
  CREATE INDEX curation_constraints_face ON curation_constraints (face_id) WHERE face_id IS NOT NULL;
  CREATE INDEX curation_constraints_other_face ON curation_constraints (other_face_id) WHERE other_face_id IS NOT NULL;
  CREATE INDEX curation_constraints_cluster ON curation_constraints (cluster_id) WHERE cluster_id IS NOT NULL;
  CREATE INDEX curation_constraints_person ON curation_constraints (person_id) WHERE person_id IS NOT NULL;
`;

export const POSTGRES_CURATION_MIGRATION = `
  -- Curation (src/store/curation.ts): the file name an upload came with, and the constraints a person's
  -- corrections leave behind, one row each, going with the faces, people and clusters they name.
  ALTER TABLE faces ADD COLUMN upload_name TEXT;
  CREATE TABLE curation_constraints (
    id            bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('faces_apart', 'face_not_person', 'cluster_not_person')),
    face_id       integer REFERENCES faces (id) ON DELETE CASCADE,
    other_face_id integer REFERENCES faces (id) ON DELETE CASCADE,
    cluster_id    integer REFERENCES clusters (id) ON DELETE CASCADE,
    person_id     integer REFERENCES people (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (
      (kind = 'faces_apart' AND face_id IS NOT NULL AND other_face_id IS NOT NULL AND face_id < other_face_id AND cluster_id IS NULL AND person_id IS NULL)
      OR (kind = 'face_not_person' AND face_id IS NOT NULL AND person_id IS NOT NULL AND other_face_id IS NULL AND cluster_id IS NULL)
      OR (kind = 'cluster_not_person' AND cluster_id IS NOT NULL AND person_id IS NOT NULL AND face_id IS NULL AND other_face_id IS NULL)
    )
  );
  CREATE UNIQUE INDEX curation_constraints_once ON curation_constraints
    (kind, COALESCE(face_id, 0), COALESCE(other_face_id, 0), COALESCE(cluster_id, 0), COALESCE(person_id, 0));
  CREATE INDEX curation_constraints_face ON curation_constraints (face_id) WHERE face_id IS NOT NULL;
  CREATE INDEX curation_constraints_other_face ON curation_constraints (other_face_id) WHERE other_face_id IS NOT NULL;
  CREATE INDEX curation_constraints_cluster ON curation_constraints (cluster_id) WHERE cluster_id IS NOT NULL;
  CREATE INDEX curation_constraints_person ON curation_constraints (person_id) WHERE person_id IS NOT NULL;
`;
