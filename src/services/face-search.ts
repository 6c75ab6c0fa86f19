import { FacedbError } from '../errors/errors.js';
import type { ImageSource } from '../image/image.js';
import { checkPinnedModel } from '../store/validation.js';
import type { DetectOptions, ServiceContext } from './context.js';
import { embeddingOf, imageInfo, NEEDS, round, roundBox } from './face-results.js';
import type { FaceSearchMatch, FaceSearchResult } from './results.js';

export interface FaceSearchOptions extends DetectOptions {
  /** Only faces nobody named yet (default: every stored face, named or not). */
  unnamed?: boolean;
  /** Nearest stored faces listed per face of the photo, 1..MAX_SEARCH_TOP (default DEFAULT_SEARCH_TOP). */
  top?: number;
}

export const DEFAULT_SEARCH_TOP = 10;
export const MAX_SEARCH_TOP = 100;

/**
 * Search by face: "where else does this face appear". For every face of a photo, the stored faces nearest to it,
 * of people and unnamed, with person or cluster and source, from the gallery's one search owner (GallerySearch), so
 * it answers from the same kind of index identify uses at every gallery size. No threshold: the distances are the
 * answer, nearest first.
 */
export async function searchByFace(context: ServiceContext, source: ImageSource, options: FaceSearchOptions = {}): Promise<FaceSearchResult> {
  const top = options.top ?? DEFAULT_SEARCH_TOP;
  if (!Number.isInteger(top) || top < 1 || top > MAX_SEARCH_TOP) {
    throw new FacedbError('invalid_input', `top must be an integer from 1 to ${MAX_SEARCH_TOP}, got ${top}`);
  }
  const engine = await context.engine();
  checkPinnedModel(await context.store.getModel(), engine.model);
  const loaded = await context.load(source);
  const [faces, nearestFaces] = await Promise.all([
    engine.analyze(loaded.image, context.analyzeOptions(options, NEEDS.search)),
    context.search.faceSearcher(),
  ]);
  const scope = options.unnamed === true ? 'unnamed' : 'all';
  const hits = await Promise.all(faces.map((face) => nearestFaces(embeddingOf(face), top, scope)));
  // One read for every face found, whichever face of the photo found it.
  const refs = new Map((await context.store.getStoredFaces([...new Set(hits.flat().map((hit) => hit.faceId))])).map((ref) => [ref.id, ref]));
  return {
    image: imageInfo(loaded.image),
    faces: faces.map((face, i) => ({
      box: roundBox(face.box),
      detectionScore: round(face.detectionScore),
      matches: hits[i]!.flatMap((hit): FaceSearchMatch[] => {
        const ref = refs.get(hit.faceId);
        if (ref === undefined) return []; // erased between the search and the read
        const person = ref.personId === null ? null : { id: ref.personId, name: ref.personName ?? `#${ref.personId}` };
        return [{ faceId: ref.id, person, cluster: ref.clusterId, source: { path: ref.sourcePath, uploadName: ref.uploadName }, distance: round(hit.distance) }];
      }),
    })),
  };
}
