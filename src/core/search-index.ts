/** A person found by a search, scored by their closest face. */
export interface PersonMatch {
  personId: number;
  /** The person's closest face. */
  faceId: number;
  /** Euclidean distance from the query to that face. */
  distance: number;
}

/**
 * What the service needs from an in-memory search index over the gallery's embeddings, whichever kind it is:
 * the exact `FlatIndex` (core) or an approximate one (src/index/). Face ids are unique; a person is ranked by
 * their closest face.
 */
export interface SearchIndex {
  readonly dimensions: number;
  /** Faces indexed. */
  readonly size: number;
  has(faceId: number): boolean;
  /** Throws invalid_input for a face already indexed, a vector of the wrong length or with NaN. */
  add(faceId: number, personId: number, vector: Float32Array): void;
  /** Returns false when the face was not indexed. */
  remove(faceId: number): boolean;
  /** Removes every face of the person; returns how many. */
  removePerson(personId: number): number;
  /** The `k` people closest to `query`, nearest first; fewer when fewer people are indexed. */
  searchPeople(query: Float32Array, k: number): PersonMatch[];
}
