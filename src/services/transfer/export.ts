import { createHash } from 'node:crypto';
import { FacedbError } from '../../errors/errors.js';
import { constraintRows } from '../../store/curation.js';
import type { FaceRecord } from '../../store/store.js';
import type { ServiceContext } from '../context.js';
import { eachPage, GALLERY_PAGE } from '../gallery-pages.js';
import { COUNTED, EMBEDDING_ENCODING, encodeEmbedding, FORMAT_NAME, FORMAT_VERSION, zeroCounts, type TransferHeader, type TransferRecord } from './format.js';

export interface ExportOptions {
  /** Also the photo bytes facedb keeps (of uploads: enrolled files are not copied). Default false. */
  photos?: boolean;
}

/**
 * The gallery as the lines of a portable file (format.ts), produced as they are read: people, clusters, faces and
 * unnamed faces a page at a time, so the whole gallery is never in memory (only the ids of people, clusters and faces,
 * to keep the file self-consistent, and the constraints). Writes made while it runs may or may not be in the file; a face whose person or
 * cluster is not in it (removed meanwhile) is left out or unclustered.
 */
export async function* exportGallery(context: ServiceContext, options: ExportOptions = {}): AsyncGenerator<string> {
  const { store } = context;
  const model = await store.getModel();
  if (model === null) throw new FacedbError('invalid_input', 'the gallery is empty and not pinned to a model: there is nothing to export');
  const digest = createHash('sha256');
  const counts = zeroCounts();
  const line = (record: TransferHeader | TransferRecord): string => {
    const text = `${JSON.stringify(record)}\n`;
    digest.update(text, 'utf8');
    if (record.type !== 'header') counts[COUNTED[record.type]] += 1;
    return text;
  };

  const [people, faces, unnamed, clusters, calibration, constraints] = await Promise.all([
    store.listPeople({ limit: 0, offset: 0 }),
    store.countFaces(),
    store.countUnnamedFaces(),
    store.listClusters({ limit: 0, offset: 0 }, 0),
    store.getCalibration(),
    store.listConstraints(),
  ]);
  yield line({
    type: 'header',
    format: FORMAT_NAME,
    version: FORMAT_VERSION,
    model: { id: model.id, version: model.version, dimensions: model.dimensions, metric: model.metric, default_threshold: model.defaultThreshold },
    embedding_encoding: EMBEDDING_ENCODING,
    photos: options.photos === true,
    exported_at: new Date().toISOString(),
    counts: { people: people.total, faces, unnamed_faces: unnamed.total, clusters: clusters.total, calibrations: calibration === null ? 0 : 1, constraints: constraintRows(constraints).length },
  });

  const personIds = new Set<number>();
  for await (const page of eachPage((at) => store.listPeople(at))) {
    for (const person of page) {
      personIds.add(person.id);
      yield line({ type: 'person', id: person.id, name: person.name, created_at: person.createdAt });
    }
  }
  const clusterIds = new Set<number>();
  for await (const page of eachPage((at) => store.listClusters(at, 0))) {
    for (const cluster of page) {
      clusterIds.add(cluster.id);
      yield line({ type: 'cluster', id: cluster.id, created_at: cluster.createdAt });
    }
  }
  const faceIds = new Set<number>();
  for (let after = 0; ; ) {
    const page = await store.facesAfter(after, GALLERY_PAGE);
    for (const face of page) {
      const record = await faceRecord(context, face, options.photos === true, personIds, clusterIds);
      if (record === null) continue;
      faceIds.add(face.id);
      if (record.photo !== undefined) counts.photos += 1;
      yield line(record);
    }
    const last = page[page.length - 1];
    if (last === undefined) break;
    after = last.id;
  }
  if (calibration !== null) yield line({ type: 'calibration', calibration: { ...calibration } });
  // As they were when the export began, of the people, clusters and faces in the file.
  const inFile = (ids: ReadonlySet<number>, id: number | null): boolean => id === null || ids.has(id);
  for (const row of constraintRows(constraints)) {
    if (!inFile(faceIds, row.face) || !inFile(faceIds, row.other) || !inFile(clusterIds, row.cluster) || !inFile(personIds, row.person)) continue;
    yield line({ type: 'constraint', kind: row.kind, face: row.face, other_face: row.other, cluster: row.cluster, person: row.person });
  }

  yield `${JSON.stringify({ type: 'trailer', counts, sha256: digest.digest('hex') })}\n`;
}

async function faceRecord(
  context: ServiceContext,
  face: FaceRecord,
  photos: boolean,
  personIds: ReadonlySet<number>,
  clusterIds: ReadonlySet<number>,
): Promise<Extract<TransferRecord, { type: 'face' | 'unnamed_face' }> | null> {
  const photo = photos && face.hasPhoto ? await context.store.getFacePhoto(face.id) : null;
  const fields = {
    id: face.id,
    source_path: face.sourcePath,
    upload_name: face.uploadName,
    content_hash: face.contentHash,
    box: face.box,
    detection_score: face.detectionScore,
    created_at: face.createdAt,
    embedding: encodeEmbedding(face.embedding),
    crop: face.crop === null ? null : Buffer.from(face.crop).toString('base64'),
    ...(photo === null ? {} : { photo: Buffer.from(photo).toString('base64') }),
  };
  if (face.personId === null) {
    const cluster = face.clusterId !== null && clusterIds.has(face.clusterId) ? face.clusterId : null;
    return { type: 'unnamed_face', cluster, ...fields };
  }
  return personIds.has(face.personId) ? { type: 'face', person: face.personId, ...fields } : null;
}
