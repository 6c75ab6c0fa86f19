/**
 * Moving the faces nobody has named yet (and their clusters) to the new gallery, alongside the named ones
 * (reembed.ts). An unnamed photo's faces are stored together (the store records the photo once), so they move
 * photo by photo; each face is matched to the new engine's face where it was, as a named face is. Clusters are
 * carried as they were: the moved faces of one old cluster form one new cluster (ids are the new gallery's).
 */
import type { FaceEngine } from '../engine/engine.js';
import { toFacedbError } from '../errors/errors.js';
import type { NewFace, UnnamedFace } from '../store/store.js';
import type { ServiceContext } from './context.js';
import { embeddingOf } from './face-results.js';
import { eachPage } from './gallery-pages.js';
import { enrolledPhoto, facesAgain, isFailure, sameFace, UPLOAD } from './reembed-photo.js';
import type { ReembedOutcome } from './results.js';

/** Every unnamed face of the gallery, grouped by photo (content hash), in face id order. */
export async function unnamedPhotos(source: ServiceContext): Promise<UnnamedFace[][]> {
  const photos = new Map<string, UnnamedFace[]>();
  for await (const page of eachPage((at) => source.store.listUnnamedFaces(at))) {
    for (const face of page) photos.set(face.contentHash, [...(photos.get(face.contentHash) ?? []), face]);
  }
  return [...photos.values()];
}

/** One unnamed photo's faces: each an outcome; those matched are added to the new gallery in one go. */
export async function moveUnnamedPhoto(source: ServiceContext, target: ServiceContext, engine: FaceEngine, faces: readonly UnnamedFace[]): Promise<ReembedOutcome[]> {
  const first = faces[0];
  if (!first) return [];
  const base = (face: UnnamedFace): ReembedOutcome => ({ faceId: face.id, person: '', unnamed: true, cluster: face.clusterId, source: face.sourcePath ?? UPLOAD, status: 'failed' });
  const all = (status: ReembedOutcome['status'], message?: string): ReembedOutcome[] =>
    faces.map((face) => ({ ...base(face), status, ...(message === undefined ? {} : { message }) }));
  try {
    if (await target.store.hasUnnamedPhoto(first.contentHash)) return all('already_moved');
    const photo = await enrolledPhoto(target, first, await source.store.getFacePhoto(first.id));
    if (isFailure(photo)) return all(photo.status, photo.message);
    const found = await facesAgain(target, engine, photo.bytes);
    if (isFailure(found)) return all(found.status, found.message);
    const uploadNames = new Map((await source.store.getStoredFaces(faces.map((face) => face.id))).map((stored) => [stored.id, stored.uploadName]));
    const outcomes: ReembedOutcome[] = [];
    const matched: Array<{ outcome: ReembedOutcome; face: NewFace }> = [];
    for (const face of faces) {
      const match = sameFace(found, face.box);
      if (isFailure(match)) {
        outcomes.push({ ...base(face), status: match.status, message: match.message });
        continue;
      }
      const outcome: ReembedOutcome = { ...base(face), status: 'moved' };
      outcomes.push(outcome);
      matched.push({
        outcome,
        face: {
          sourcePath: face.sourcePath,
          uploadName: uploadNames.get(face.id) ?? null,
          contentHash: face.contentHash,
          box: match.box,
          detectionScore: match.detectionScore,
          embedding: embeddingOf(match),
          crop: match.alignedCrop ?? null,
        },
      });
    }
    if (matched.length === 0) return outcomes;
    const added = await target.store.addUnnamedFaces(matched.map((m) => m.face));
    // Another run recorded the photo meanwhile: nothing was added by this one.
    if (added.length === 0) return all('already_moved');
    matched.forEach((m, i) => {
      const newFace = added[i];
      if (newFace) m.outcome.newFaceId = newFace.id;
    });
    return outcomes;
  } catch (error) {
    const failure = toFacedbError(error);
    if (failure.code === 'model_mismatch' || failure.code === 'internal') throw failure;
    return all('failed', failure.message);
  }
}

/**
 * Groups the faces this run moved as their old clusters grouped them, as new clusters of the new gallery; returns
 * each old cluster's new id. Faces that were not in a cluster stay unclustered (`facedb cluster` places them).
 */
export async function carryClusters(target: ServiceContext, outcomes: readonly ReembedOutcome[]): Promise<Map<number, number>> {
  const groups = new Map<number, number[]>();
  for (const outcome of outcomes) {
    if (!outcome.unnamed || outcome.newFaceId === undefined || outcome.cluster == null) continue;
    groups.set(outcome.cluster, [...(groups.get(outcome.cluster) ?? []), outcome.newFaceId]);
  }
  if (groups.size === 0) return new Map();
  // saveClusters answers in the order of the groups it was given.
  const ids = await target.store.saveClusters([...groups.values()].map((faceIds) => ({ clusterId: null, faceIds })));
  return new Map([...groups.keys()].map((oldId, i): [number, number] => [oldId, ids[i]!]));
}
