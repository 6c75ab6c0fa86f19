/**
 * A person found by a search, scored by their closest face: the answer of every search over the gallery, whether
 * the exact or sketch index (flat-index.ts), the HNSW index or the database searches (src/search owns which).
 */
export interface PersonMatch {
  personId: number;
  /** The person's closest face. */
  faceId: number;
  /** Euclidean distance from the query to that face. */
  distance: number;
}

/** A face found by a search over faces (`facedb search`): a person's face, or (personId null) a face nobody named yet. */
export interface FaceMatch {
  faceId: number;
  personId: number | null;
  /** Euclidean distance from the query to the face. */
  distance: number;
}
