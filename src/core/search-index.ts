/**
 * A person found by a search, scored by their closest face: the answer of every search over the gallery, whether
 * the exact index (flat-index.ts), the ANN index or the database searches (src/search owns which).
 */
export interface PersonMatch {
  personId: number;
  /** The person's closest face. */
  faceId: number;
  /** Euclidean distance from the query to that face. */
  distance: number;
}
