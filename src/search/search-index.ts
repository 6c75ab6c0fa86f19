import type { PersonMatch } from '../core/search-index.js';

export type { PersonMatch } from '../core/search-index.js';

/**
 * What an in-memory search index over the gallery's embeddings offers, whichever kind it is: the exact `FlatIndex`
 * (core, which also serves clustering) or the approximate `AnnIndex`. Face ids are unique; a person is ranked by
 * their closest face. Only src/search holds these: services ask `GallerySearch` for answers.
 */
export interface SearchIndex {
  readonly dimensions: number;
  /** Faces indexed. */
  readonly size: number;
  has(faceId: number): boolean;
  /** The person a face is indexed under, or undefined when it is not indexed. */
  personOf(faceId: number): number | undefined;
  /** Throws invalid_input for a face already indexed, a vector of the wrong length or with NaN. */
  add(faceId: number, personId: number, vector: Float32Array): void;
  /** Returns false when the face was not indexed. */
  remove(faceId: number): boolean;
  /** Removes every face of the person; returns how many. */
  removePerson(personId: number): number;
  /** The `k` people closest to `query`, nearest first; fewer when fewer people are indexed. */
  searchPeople(query: Float32Array, k: number): PersonMatch[];
  /** The `k` faces closest to `query`, nearest first, several of one person if they are nearest. */
  searchFaces(query: Float32Array, k: number): PersonMatch[];
}
