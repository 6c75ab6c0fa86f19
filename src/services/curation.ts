import { FacedbError } from '../errors/errors.js';
import type { FaceListing, MergedClusters, MergedPeople, MovedFaces, StoredFace } from '../store/curation.js';
import type { Person } from '../store/store.js';
import type { ServiceContext } from './context.js';
import { GalleryService } from './gallery.js';

/**
 * Corrections a person makes to the gallery: faces listed as objects, moved between people, taken out of their
 * person or cluster; people renamed and merged; clusters merged and rejected for a person. The rules (what is a
 * conflict, what constraints are kept) are the store's (src/store/curation.ts), each correction one transaction;
 * this service resolves names and ids, and keeps this process's search index and name cache in step at once
 * (other processes follow through the change log).
 */

export interface FaceQuery {
  /** A person's faces, by name or id. */
  person?: string | number;
  /** A cluster's faces. */
  cluster?: number;
  /** Only faces with no person. */
  unnamed?: boolean;
}

export interface FacePage {
  limit: number;
  /** Where the previous page ended (its `nextCursor`); the first page without. */
  cursor?: string | null;
}

export interface FacesPage {
  items: StoredFace[];
  nextCursor: string | null;
}

export const DEFAULT_FACE_PAGE = 100;

export class CurationService {
  readonly #context: ServiceContext;
  readonly #gallery: GalleryService;

  constructor(context: ServiceContext, gallery: GalleryService = new GalleryService(context)) {
    this.#context = context;
    this.#gallery = gallery;
  }

  /** Stored faces, in id order, a page at a time. not_found for an unknown person or cluster. */
  async listFaces(query: FaceQuery, page: FacePage): Promise<FacesPage> {
    const personId = query.person === undefined ? undefined : (await this.#gallery.findPerson(query.person)).id;
    if (personId !== undefined && (query.cluster !== undefined || query.unnamed === true)) {
      throw new FacedbError('invalid_input', 'a person has no clusters or unnamed faces: give a person, or a cluster and/or --unnamed');
    }
    const listing: FaceListing = await this.#context.store.listStoredFaces(
      { personId, clusterId: query.cluster, unnamed: query.unnamed },
      { limit: page.limit, afterId: cursorToId(page.cursor) },
    );
    return { items: listing.items, nextCursor: listing.nextAfterId === null ? null : String(listing.nextAfterId) };
  }

  /** The faces with these ids; not_found naming any that do not exist. */
  async getFaces(faceIds: number[]): Promise<StoredFace[]> {
    const faces = await this.#context.store.getStoredFaces(faceIds);
    const found = new Set(faces.map((face) => face.id));
    const missing = faceIds.filter((id) => !found.has(id));
    if (missing.length > 0) throw new FacedbError('not_found', `no face with id ${missing.join(', ')}`, { details: { faceIds: missing } });
    return faces;
  }

  /** Gives faces (named or unnamed) to a person, created when the name is new (name rules apply). */
  async moveFaces(faceIds: number[], to: string): Promise<MovedFaces> {
    const before = await this.#context.store.getStoredFaces(faceIds);
    const moved = await this.#context.store.moveFaces(faceIds, to);
    await this.#changed([moved.person.id, ...before.flatMap((face) => (face.personId === null ? [] : [face.personId]))]);
    return moved;
  }

  /** Takes faces out of their person or cluster: each becomes an unnamed face of its own that never goes back by itself. */
  async unassignFaces(faceIds: number[]): Promise<{ unassigned: number }> {
    const before = await this.#context.store.getStoredFaces(faceIds);
    const unassigned = await this.#context.store.unassignFaces(faceIds);
    await this.#changed(before.flatMap((face) => (face.personId === null ? [] : [face.personId])));
    return { unassigned };
  }

  /** Renames a person (name rules and look-alike checks; conflict for a name in use or alike). */
  async renamePerson(person: string | number, name: string): Promise<Person> {
    const current = await this.#gallery.findPerson(person);
    const renamed = await this.#context.store.renamePerson(current.id, name);
    await this.#changed([current.id]);
    return renamed;
  }

  /** Gives every face of one person to another and removes the first. conflict when they are the same. */
  async mergePeople(from: string | number, into: string | number): Promise<MergedPeople> {
    const [source, target] = [await this.#gallery.findPerson(from), await this.#gallery.findPerson(into)];
    const merged = await this.#context.store.mergePeople(source.id, target.id);
    await this.#changed([source.id, target.id]);
    return merged;
  }

  /** Puts every face of one cluster into another. conflict when they are the same. */
  mergeClusters(from: number, into: number): Promise<MergedClusters> {
    return this.#context.store.mergeClusters(from, into);
  }

  /** Records that a cluster is not this person: never suggested for them, and naming it so needs --force. */
  async rejectCluster(clusterId: number, person: string | number): Promise<{ clusterId: number; person: Person }> {
    const target = await this.#gallery.findPerson(person);
    await this.#context.store.rejectCluster(clusterId, target.id);
    return { clusterId, person: target };
  }

  /** This process follows its own change at once: names re-read, the loaded index synced with the change log. */
  async #changed(personIds: readonly number[]): Promise<void> {
    for (const id of personIds) this.#context.forgetName(id);
    await this.#context.search.refresh();
  }
}

function cursorToId(cursor: string | null | undefined): number {
  if (cursor === undefined || cursor === null || cursor === '') return 0;
  const id = Number(cursor);
  if (!/^\d{1,10}$/.test(cursor) || !Number.isSafeInteger(id)) throw new FacedbError('invalid_input', `not a cursor from this listing: ${JSON.stringify(cursor)}`);
  return id;
}
