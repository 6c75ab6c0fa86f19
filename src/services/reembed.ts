/**
 * Moving a gallery to another model: every face of the old gallery is embedded again, by the new gallery's engine,
 * from the photo it was enrolled from (its source path, or the upload bytes the gallery kept), and added to the new
 * gallery under the same person's name, with the file name it was uploaded with. Faces nobody has named yet move too,
 * with their clusters (reembed-unnamed.ts), and so do the curation constraints (reembed-constraints.ts). The old
 * gallery is only read, never written; the new one can be used once the run reports nothing left to move.
 * Resumable: a face the new gallery already has (same person, same photo hash; for unnamed faces, the same photo) is
 * skipped, so an interrupted run is simply started again.
 */
import { FacedbError, toFacedbError } from '../errors/errors.js';
import type { FaceEngine } from '../engine/engine.js';
import type { Face, UnnamedFace } from '../store/store.js';
import { lanesFor, runInLanes } from './batch.js';
import { eachPage } from './gallery-pages.js';
import type { ServiceContext } from './context.js';
import { embeddingOf } from './face-results.js';
import { enrolledPhoto, facesAgain, isFailure, sameFace, UPLOAD } from './reembed-photo.js';
import { carryConstraints } from './reembed-constraints.js';
import { carryClusters, moveUnnamedPhoto, unnamedPhotos } from './reembed-unnamed.js';
import type { ReembedOutcome, ReembedStatus, ReembedSummary } from './results.js';

export type { ReembedOutcome, ReembedStatus, ReembedSummary } from './results.js';

export interface ReembedOptions {
  /** Called once per face as soon as its outcome is known (completion order). */
  onOutcome?: (outcome: ReembedOutcome, done: number, total: number) => void;
  /** Stops taking new faces; faces in flight finish and are committed. */
  signal?: AbortSignal;
}

const STATUSES: readonly ReembedStatus[] = [
  'moved',
  'already_moved',
  'missing_file',
  'changed_content',
  'no_photo',
  'unreadable',
  'no_face',
  'several_faces',
  'other_face',
  'failed',
];

/** One unit of work: a named face, or an unnamed photo with all its faces (they are stored together). */
type Work = { named: Face } | { unnamed: UnnamedFace[] };

export async function reembedGallery(source: ServiceContext, target: ServiceContext, options: ReembedOptions = {}): Promise<ReembedSummary> {
  const started = performance.now();
  if (sameGallery(source.config.db, target.config.db)) {
    throw new FacedbError('invalid_input', `the new gallery must be another database than the one it is moved from (${source.config.db})`);
  }
  const from = await source.store.getModel();
  const engine = await target.engine();
  await target.store.ensureModel(engine.model);
  const moved = await target.store.enrolledContent();
  const named = await allFaces(source);
  const unnamed = await unnamedPhotos(source);
  const work: Work[] = [...named.map((face) => ({ named: face })), ...unnamed.map((faces) => ({ unnamed: faces }))];
  const unnamedFaces = unnamed.reduce((sum, faces) => sum + faces.length, 0);
  const total = named.length + unnamedFaces;

  const outcomes: ReembedOutcome[] = [];
  await runInLanes(
    work,
    async (item) => ('named' in item ? [await moveFace(source, target, engine, item.named, moved)] : moveUnnamedPhoto(source, target, engine, item.unnamed)),
    {
      lanes: lanesFor(target.config.workers),
      signal: options.signal,
      onResult: (done) => {
        for (const outcome of done) {
          outcomes.push(outcome);
          options.onOutcome?.(outcome, outcomes.length, total);
        }
      },
    },
  );
  const clusters = await carryClusters(target, outcomes);
  const constraints = await carryConstraints(source, target, outcomes, clusters);

  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<ReembedStatus, number>;
  for (const outcome of outcomes) counts[outcome.status] += 1;
  return {
    from: from && { id: from.id, version: from.version },
    to: { id: engine.model.id, version: engine.model.version },
    total,
    unnamedFaces,
    clustersCarried: clusters.size,
    constraintsCarried: constraints.carried,
    constraintsLeft: constraints.left,
    counts,
    outcomes,
    elapsedMs: performance.now() - started,
  };
}

function sameGallery(a: string, b: string): boolean {
  return a === b && a !== ':memory:';
}

/** Every face of the gallery, person by person, page by page (no embeddings). */
async function allFaces(service: ServiceContext): Promise<Face[]> {
  const { store } = service;
  const faces: Face[] = [];
  for await (const people of eachPage((page) => store.listPeople(page))) {
    for (const person of people) {
      for await (const page of eachPage((at) => store.listFaces(person.id, at))) faces.push(...page);
    }
  }
  return faces;
}

async function moveFace(
  source: ServiceContext,
  target: ServiceContext,
  engine: FaceEngine,
  face: Face,
  moved: Map<string, Set<string>>,
): Promise<ReembedOutcome> {
  const base = { faceId: face.id, person: face.personName, source: face.sourcePath ?? UPLOAD };
  const fail = (status: ReembedStatus, message: string): ReembedOutcome => ({ ...base, status, message });
  if (moved.get(face.contentHash)?.has(face.personName)) return { ...base, status: 'already_moved' };
  try {
    const photo = await enrolledPhoto(target, face, await source.store.getFacePhoto(face.id));
    if (isFailure(photo)) return fail(photo.status, photo.message);
    const found = await facesAgain(target, engine, photo.bytes);
    if (isFailure(found)) return fail(found.status, found.message);
    const match = sameFace(found, face.box);
    if (isFailure(match)) return fail(match.status, match.message);
    const person = await target.store.upsertPerson(face.personName);
    const [stored] = await source.store.getStoredFaces([face.id]);
    const [added] = await target.store.addFaces(person.id, [
      {
        sourcePath: face.sourcePath,
        uploadName: stored?.uploadName ?? null,
        contentHash: face.contentHash,
        box: match.box,
        detectionScore: match.detectionScore,
        embedding: embeddingOf(match),
        crop: match.alignedCrop ?? null,
        photo: face.sourcePath === null ? photo.bytes : null,
      },
    ]);
    const owners = moved.get(face.contentHash);
    if (owners) owners.add(face.personName);
    else moved.set(face.contentHash, new Set([face.personName]));
    if (!added) return { ...base, status: 'already_moved' };
    return { ...base, status: 'moved', newFaceId: added.id };
  } catch (error) {
    const failure = toFacedbError(error);
    if (failure.code === 'model_mismatch') throw failure;
    return fail('failed', failure.message);
  }
}
