import { normalizePersonName } from '../core/names.js';
import { FacedbError, toFacedbError } from '../errors/errors.js';
import type { Face, Page, PageOf, Person } from '../store/store.js';
import type { ServiceContext } from './context.js';

/** The gallery itself: people and their faces, listed, created, looked up and erased. */
export class GalleryService {
  readonly #context: ServiceContext;

  constructor(context: ServiceContext) {
    this.#context = context;
  }

  listPeople(page: Page): Promise<PageOf<Person>> {
    return this.#context.store.listPeople(page);
  }

  async findPerson(nameOrId: string | number): Promise<Person> {
    const { store } = this.#context;
    const person = typeof nameOrId === 'number' ? await store.getPerson(nameOrId) : await store.findPersonByName(nameOrId);
    if (!person) throw new FacedbError('not_found', `no person ${JSON.stringify(nameOrId)} in the gallery`);
    return person;
  }

  /**
   * Finds a person by name or creates them; `created` says which. invalid_input when the name breaks the name
   * rules (core/names.ts) or is a look-alike of an existing person's.
   */
  async createPerson(name: string): Promise<{ person: Person; created: boolean }> {
    const { store } = this.#context;
    const normalized = normalizePersonName(name);
    const existing = await store.findPersonByName(normalized);
    if (existing) return { person: existing, created: false };
    return { person: await store.upsertPerson(normalized), created: true };
  }

  /** Erases a person with all their faces and embeddings; returns how many faces went. */
  async removePerson(nameOrId: string | number): Promise<{ person: Person; facesRemoved: number }> {
    const person = await this.findPerson(nameOrId);
    const facesRemoved = await this.#context.store.removePerson(person.id);
    await this.#context.search.removedPerson(person.id);
    this.#context.forgetName(person.id);
    return { person, facesRemoved };
  }

  /**
   * Erases one face, named or not (faces share one id space), with its crop, photo bytes and embedding. An unnamed
   * face is erased through the store's unnamed path first, so its cluster goes too when left empty; it was never in
   * the search index. Throws not_found when there is no such face.
   */
  async removeFace(faceId: number): Promise<{ named: boolean }> {
    const { store, search } = this.#context;
    try {
      await store.removeUnnamedFace(faceId);
      return { named: false };
    } catch (error) {
      if (toFacedbError(error).code !== 'not_found') throw error;
    }
    await store.removeFace(faceId);
    await search.removed(faceId);
    return { named: true };
  }

  /** A person's enrolled faces (no embeddings). Throws not_found for an unknown person. */
  listFaces(personId: number, page: Page): Promise<PageOf<Face>> {
    return this.#context.store.listFaces(personId, page);
  }

  /** JPEG of a face's aligned crop, kept at enrollment. */
  async faceCrop(faceId: number): Promise<Uint8Array> {
    const crop = await this.#context.store.getFaceCrop(faceId);
    if (!crop) throw new FacedbError('not_found', `no face #${faceId}, or no image kept for it`);
    return crop;
  }
}
