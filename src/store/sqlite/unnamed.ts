import type Database from 'better-sqlite3';
import type { ModelInfo } from '../../core/types.js';
import { FacedbError } from '../../errors/errors.js';
import { newFaceRow, notFound } from '../rows.js';
import type { NewPerson } from '../lookalikes.js';
import type { Cluster, ClusterUpdate, NamedCluster, NewFace, Page, PageOf, Person, UnnamedEmbedding, UnnamedFace } from '../store.js';
import { CHANGE_LOG_KEPT } from '../store.js';
import { checkClusterUpdates, checkSamples, toUnnamedEmbedding, toUnnamedFace, UNNAMED_FACE_COLUMNS, type UnnamedFaceRow } from '../unnamed-rows.js';
import type { Erasure } from './erasure.js';
import type { SqlitePeople } from './people.js';
import { checkNewFaces, checkPage } from '../validation.js';

type FaceRow = UnnamedFaceRow<string>;

/** The SQLite store's unnamed faces and clusters (see GalleryStore). Synchronous; the store wraps each call. */
export class SqliteUnnamedFaces {
  readonly #db: Database.Database;
  readonly #model: () => ModelInfo | null;
  readonly #people: SqlitePeople;
  readonly #erasure: Erasure;
  readonly #sql: ReturnType<typeof prepare>;

  constructor(db: Database.Database, model: () => ModelInfo | null, people: SqlitePeople, erasure: Erasure) {
    this.#db = db;
    this.#model = model;
    this.#people = people;
    this.#erasure = erasure;
    this.#sql = prepare(db);
  }

  add(faces: NewFace[]): UnnamedFace[] {
    return this.#db
      .transaction(() => {
        const model = this.#model();
        if (model === null) throw new FacedbError('invalid_input', 'the gallery is not pinned to a model yet (call ensureModel first)');
        checkNewFaces(faces, model.dimensions);
        const createdAt = new Date().toISOString();
        const fresh = new Set<string>();
        const added: UnnamedFace[] = [];
        for (const face of faces) {
          // A photo is new the first time its hash is recorded (in this batch or ever); its other faces follow it.
          if (!fresh.has(face.contentHash)) {
            if (this.#sql.insertPhoto.run(face.contentHash, face.sourcePath, createdAt).changes === 0) continue;
            fresh.add(face.contentHash);
          }
          const { lastInsertRowid } = this.#sql.insertFace.run(newFaceRow(face, model, createdAt));
          added.push({
            id: Number(lastInsertRowid),
            clusterId: null,
            sourcePath: face.sourcePath,
            contentHash: face.contentHash,
            box: { ...face.box },
            detectionScore: face.detectionScore,
            createdAt,
          });
        }
        this.#sql.pruneChanges.run(CHANGE_LOG_KEPT);
        return added;
      })
      .immediate();
  }

  loadEmbeddings(): UnnamedEmbedding[] {
    return this.#db.transaction(() => {
      const dimensions = this.#model()?.dimensions ?? 0;
      return (this.#sql.unnamedEmbeddings.all() as Array<[number, number | null, string, Buffer]>).map(([id, cluster, hash, blob]) =>
        toUnnamedEmbedding(id, cluster, hash, blob, dimensions),
      );
    })();
  }

  saveClusters(groups: ClusterUpdate[]): number[] {
    checkClusterUpdates(groups);
    return this.#db
      .transaction(() => {
        const createdAt = new Date().toISOString();
        const ids = groups.map((group) => {
          const id =
            group.clusterId !== null && this.#sql.clusterExists.get(group.clusterId) !== undefined
              ? group.clusterId
              : Number(this.#sql.insertCluster.run(createdAt).lastInsertRowid);
          for (const faceId of group.faceIds) this.#sql.assignFace.run(id, faceId);
          return id;
        });
        this.#sql.deleteEmptyClusters.run();
        return ids;
      })
      .immediate();
  }

  listClusters(page: Page, samples: number): PageOf<Cluster> {
    checkPage(page);
    checkSamples(samples);
    return this.#db.transaction(() => {
      const rows = this.#sql.listClusters.all(page.limit, page.offset) as Array<{ id: number; size: number; created_at: string }>;
      const sampled = new Map<number, UnnamedFace[]>(rows.map((row) => [row.id, []]));
      if (samples > 0 && rows.length > 0) {
        for (const face of this.#sql.clusterSamples.all(JSON.stringify(rows.map((row) => row.id)), samples) as FaceRow[]) {
          sampled.get(face.cluster_id!)?.push(toUnnamedFace(face, (t) => t));
        }
      }
      return {
        items: rows.map((row) => ({ id: row.id, size: row.size, samples: sampled.get(row.id) ?? [], createdAt: row.created_at })),
        total: this.#sql.countClusters.get() as number,
      };
    })();
  }

  countUnnamed(): { total: number; unclustered: number } {
    return this.#sql.countUnnamed.get() as { total: number; unclustered: number };
  }

  hasPhoto(contentHash: string): boolean {
    return this.#sql.unnamedPhotoExists.get(contentHash) !== undefined;
  }

  list(page: Page): PageOf<UnnamedFace> {
    checkPage(page);
    return this.#db.transaction(() => ({
      items: (this.#sql.listUnnamed.all(page.limit, page.offset) as FaceRow[]).map((row) => toUnnamedFace(row, (t) => t)),
      total: (this.#sql.countUnnamed.get() as { total: number }).total,
    }))();
  }

  /**
   * Gives a cluster's faces to an existing person, or to a new one inserted now (the name rules chose which, see
   * ../lookalikes.ts); null, changing nothing, when that person is gone or the new one's name or key was taken.
   * Throws not_found for an unknown or empty cluster.
   */
  nameCluster(clusterId: number, to: Person | NewPerson): NamedCluster | null {
    return this.#db
      .transaction(() => {
        const size = this.#sql.clusterSize.get(clusterId) as number | undefined;
        if (size === undefined || size === 0) throw notFound('cluster', clusterId);
        const person = 'id' in to ? this.#people.byId(to.id) : this.#people.insert(to);
        if (person === null) return null;
        const personId = person.id;
        const facesNamed = this.#sql.nameFaces.run({ person_id: personId, cluster_id: clusterId }).changes;
        const facesLeft = size - facesNamed;
        if (facesLeft === 0) this.#sql.deleteCluster.run(clusterId);
        this.#sql.pruneChanges.run(CHANGE_LOG_KEPT);
        return { person: this.#people.byId(personId)!, facesNamed, facesLeft };
      })
      .immediate();
  }

  /** Erases an unnamed face; its cluster goes too when left empty. Throws not_found. */
  removeFace(id: number): void {
    this.#erasure.erase(() => {
      const clusterId = this.#sql.unnamedFaceCluster.get(id) as number | null | undefined;
      if (clusterId === undefined) throw notFound('face', id);
      this.#sql.deleteFace.run(id);
      if (clusterId !== null && (this.#sql.clusterSize.get(clusterId) as number) === 0) this.#sql.deleteCluster.run(clusterId);
    });
  }

  /** Erases a cluster and its unnamed faces; returns how many faces went. Throws not_found. */
  removeCluster(id: number): number {
    return this.#erasure.erase(() => {
      if (this.#sql.clusterExists.get(id) === undefined) throw notFound('cluster', id);
      const faces = this.#sql.deleteClusterFaces.run(id).changes;
      this.#sql.deleteCluster.run(id);
      return faces;
    });
  }
}

function prepare(db: Database.Database) {
  return {
    insertPhoto: db.prepare('INSERT INTO unnamed_photos (content_hash, source_path, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    insertFace: db.prepare(`INSERT INTO faces (person_id, source_path, content_hash, box_x, box_y, box_w, box_h,
        detection_score, embedding, crop, upload_name, model_id, model_version, created_at)
      VALUES (NULL, @source_path, @content_hash, @box_x, @box_y, @box_w, @box_h,
        @detection_score, @embedding, @crop, @upload_name, @model_id, @model_version, @created_at)`),
    unnamedEmbeddings: db.prepare('SELECT id, cluster_id, content_hash, embedding FROM faces WHERE person_id IS NULL ORDER BY id').raw(),
    clusterExists: db.prepare('SELECT 1 FROM clusters WHERE id = ?'),
    insertCluster: db.prepare('INSERT INTO clusters (created_at) VALUES (?)'),
    assignFace: db.prepare('UPDATE faces SET cluster_id = ? WHERE id = ? AND person_id IS NULL'),
    deleteEmptyClusters: db.prepare('DELETE FROM clusters WHERE NOT EXISTS (SELECT 1 FROM faces f WHERE f.cluster_id = clusters.id)'),
    listClusters: db.prepare(`SELECT c.id, COUNT(*) AS size, c.created_at
      FROM clusters c JOIN faces f ON f.cluster_id = c.id AND f.person_id IS NULL
      GROUP BY c.id ORDER BY size DESC, c.id LIMIT ? OFFSET ?`),
    countClusters: db
      .prepare('SELECT COUNT(DISTINCT cluster_id) FROM faces WHERE person_id IS NULL AND cluster_id IS NOT NULL')
      .pluck(),
    clusterSamples: db.prepare(`SELECT ${UNNAMED_FACE_COLUMNS} FROM (
        SELECT f.*, row_number() OVER (PARTITION BY f.cluster_id ORDER BY f.id) AS position
        FROM faces f WHERE f.person_id IS NULL AND f.cluster_id IN (SELECT value FROM json_each(?))
      ) f WHERE f.position <= ? ORDER BY f.cluster_id, f.id`),
    unnamedPhotoExists: db.prepare('SELECT 1 FROM unnamed_photos WHERE content_hash = ?'),
    listUnnamed: db.prepare(`SELECT ${UNNAMED_FACE_COLUMNS} FROM faces f WHERE f.person_id IS NULL ORDER BY f.id LIMIT ? OFFSET ?`),
    countUnnamed: db.prepare(
      'SELECT COUNT(*) AS total, COALESCE(SUM(cluster_id IS NULL), 0) AS unclustered FROM faces WHERE person_id IS NULL',
    ),
    clusterSize: db
      .prepare('SELECT (SELECT COUNT(*) FROM faces f WHERE f.cluster_id = c.id AND f.person_id IS NULL) FROM clusters c WHERE c.id = ?')
      .pluck(),
    // One face per photo and person: a photo the person already has, or a second face of one photo, stays behind.
    nameFaces: db.prepare(`UPDATE faces SET person_id = @person_id, cluster_id = NULL
      WHERE id IN (
        SELECT MIN(f.id) FROM faces f
        WHERE f.cluster_id = @cluster_id AND f.person_id IS NULL
          AND f.content_hash NOT IN (SELECT content_hash FROM faces WHERE person_id = @person_id)
          -- A face taken from this person never goes back by itself (store/curation.ts).
          AND NOT EXISTS (SELECT 1 FROM curation_constraints c WHERE c.kind = 'face_not_person' AND c.face_id = f.id AND c.person_id = @person_id)
        GROUP BY f.content_hash
      )`),
    deleteCluster: db.prepare('DELETE FROM clusters WHERE id = ?'),
    unnamedFaceCluster: db.prepare('SELECT cluster_id FROM faces WHERE id = ? AND person_id IS NULL').pluck(),
    deleteFace: db.prepare('DELETE FROM faces WHERE id = ?'),
    deleteClusterFaces: db.prepare('DELETE FROM faces WHERE cluster_id = ? AND person_id IS NULL'),
    pruneChanges: db.prepare('DELETE FROM face_changes WHERE seq <= (SELECT MAX(seq) FROM face_changes) - ?'),
  };
}
