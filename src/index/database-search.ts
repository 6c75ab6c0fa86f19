import { FacedbError } from '../errors/errors.js';
import type { PersonMatch, SearchIndex } from '../core/search-index.js';

/**
 * Stands in for the in-memory index when the database searches (FACEDB_INDEX=pgvector): the gallery's own rows are
 * the index, so adding and removing here does nothing and nothing is held in memory.
 */
export class DatabaseSearch implements SearchIndex {
  readonly dimensions: number;
  readonly size = 0;

  constructor(dimensions: number) {
    this.dimensions = dimensions;
  }

  has(): boolean {
    return false;
  }

  add(): void {}

  remove(): boolean {
    return false;
  }

  removePerson(): number {
    return 0;
  }

  searchPeople(): PersonMatch[] {
    throw new FacedbError('internal', 'this gallery is searched by the database, not in memory');
  }
}
