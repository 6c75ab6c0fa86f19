/**
 * Moving a gallery to another model: every face of the old gallery is embedded again, by the new gallery's engine,
 * from the photo it was enrolled from (its source path, or the upload bytes the gallery kept), and added to the new
 * gallery under the same person's name. The old gallery is only read, never written; the new one can be used once
 * the run reports nothing left to move. Resumable: a face the new gallery already has (same person, same photo
 * hash) is skipped, so an interrupted run is simply started again.
 */
import { FacedbError, toFacedbError } from '../errors/errors.js';
import { sha256Hex } from '../image/hash.js';
import { readImageBytes } from '../image/decode.js';
import type { Box } from '../core/types.js';
import type { FaceAnalysis, FaceEngine } from '../engine/engine.js';
import type { Face } from '../store/store.js';
import { lanesFor, runInLanes } from './batch.js';
import type { ServiceContext } from './context.js';
import { NEEDS } from './face-results.js';
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

/**
 * A detection of the new engine is the enrolled face when its box overlaps the stored one at least this much
 * (intersection over union). Two detectors' boxes of one face overlap far more (their centres and sizes differ by
 * a fraction of the face); neighbouring faces in a group photo overlap far less.
 */
const SAME_FACE_IOU = 0.3;
const PAGE = 500;

const UPLOAD = '(upload)';

export async function reembedGallery(source: ServiceContext, target: ServiceContext, options: ReembedOptions = {}): Promise<ReembedSummary> {
  const started = performance.now();
  if (sameGallery(source.config.db, target.config.db)) {
    throw new FacedbError('invalid_input', `the new gallery must be another database than the one it is moved from (${source.config.db})`);
  }
  const from = await source.store.getModel();
  const engine = await target.engine();
  await target.store.ensureModel(engine.model);
  const moved = await target.store.enrolledContent();
  const faces = await allFaces(source);

  const outcomes = await runInLanes(faces, (face) => moveFace(source, target, engine, face, moved), {
    lanes: lanesFor(target.config.workers),
    signal: options.signal,
    onResult: options.onOutcome,
  });

  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<ReembedStatus, number>;
  for (const outcome of outcomes) counts[outcome.status] += 1;
  return {
    from: from && { id: from.id, version: from.version },
    to: { id: engine.model.id, version: engine.model.version },
    total: faces.length,
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
  const faces: Face[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const people = await service.store.listPeople({ limit: PAGE, offset });
    for (const person of people.items) {
      for (let at = 0; at < person.faceCount; at += PAGE) {
        faces.push(...(await service.store.listFaces(person.id, { limit: PAGE, offset: at })).items);
      }
    }
    if (offset + PAGE >= people.total) break;
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
    // The photo the gallery kept (uploads) needs no file; otherwise the file it was enrolled from.
    const kept = await source.store.getFacePhoto(face.id);
    let bytes: Uint8Array;
    if (kept) {
      bytes = kept;
    } else if (face.sourcePath === null) {
      return fail('no_photo', 'enrolled from an upload before facedb kept upload photos: enroll this person again from a photo');
    } else {
      try {
        bytes = await readImageBytes(face.sourcePath, target.config);
      } catch (error) {
        const failure = toFacedbError(error);
        return fail(failure.code === 'not_found' ? 'missing_file' : 'unreadable', failure.message);
      }
    }
    const hash = sha256Hex(bytes);
    if (hash !== face.contentHash) {
      return fail('changed_content', `${base.source} is no longer the photo that was enrolled (SHA-256 ${hash.slice(0, 12)}…, enrolled ${face.contentHash.slice(0, 12)}…)`);
    }
    let found: FaceAnalysis[];
    try {
      const { image } = await target.load({ bytes });
      found = await engine.analyze(image, target.analyzeOptions({}, NEEDS.enroll));
    } catch (error) {
      const failure = toFacedbError(error);
      if (failure.code === 'internal') throw failure;
      return fail('unreadable', failure.message);
    }
    if (found.length === 0) return fail('no_face', 'the new engine finds no face in this photo');
    const match = bestOverlap(found, face.box);
    if (!match) {
      return found.length > 1
        ? fail('several_faces', `the new engine finds ${found.length} faces, none where the enrolled one was (${describeBox(face.box)})`)
        : fail('other_face', `the new engine finds a face elsewhere than the enrolled one (${describeBox(face.box)})`);
    }
    if (!match.embedding) throw new FacedbError('internal', 'the engine returned a face without the embedding it was asked for');
    const person = await target.store.upsertPerson(face.personName);
    const [added] = await target.store.addFaces(person.id, [
      {
        sourcePath: face.sourcePath,
        contentHash: face.contentHash,
        box: match.box,
        detectionScore: match.detectionScore,
        embedding: match.embedding,
        crop: match.alignedCrop ?? null,
        photo: face.sourcePath === null ? bytes : null,
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

/** The detection whose box overlaps `box` most, if it overlaps enough to be the same face. */
function bestOverlap(found: readonly FaceAnalysis[], box: Box): FaceAnalysis | undefined {
  let best: FaceAnalysis | undefined;
  let bestIou = SAME_FACE_IOU;
  for (const face of found) {
    const overlap = iou(face.box, box);
    if (overlap >= bestIou) {
      best = face;
      bestIou = overlap;
    }
  }
  return best;
}

export function iou(a: Box, b: Box): number {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  return intersection / (a.width * a.height + b.width * b.height - intersection);
}

function describeBox(box: Box): string {
  return `box ${Math.round(box.x)},${Math.round(box.y)} ${Math.round(box.width)}×${Math.round(box.height)}`;
}
