import { toFacedbError, type FacedbError } from '../errors/errors.js';
import type { GalleryStore } from '../store/store.js';

/**
 * Which person each name of one enrollment run refers to, so that erasing a person is final even while a run
 * enrolls them (from this process, another process on the same SQLite file, or another server on the same
 * PostgreSQL database):
 *
 * - names that exist when the run starts are bound to those people's ids at once (`bindExisting`);
 * - a name that does not exist yet is created when its first face is found, once: every later photo of that
 *   name in the run uses the same id (`idFor` shares one creation between concurrent photos);
 * - faces are only ever added by id, and the store refuses to add to an id that is gone. When that happens the
 *   name is marked removed, and the run's remaining photos of it report `not_found` without analysing them;
 *   the run never creates that name again.
 */
export class EnrollmentPeople {
  readonly #store: GalleryStore;
  readonly #ids = new Map<string, Promise<number>>();
  readonly #refused = new Map<string, FacedbError>();
  readonly #removed = new Set<string>();

  constructor(store: GalleryStore) {
    this.#store = store;
  }

  /** Binds every name in `names` that exists now to its person. */
  async bindExisting(names: Iterable<string>): Promise<void> {
    for (const name of new Set(names)) {
      const person = await this.#store.findPersonByName(name);
      if (person !== null) this.#ids.set(name, Promise.resolve(person.id));
    }
  }

  /** Binds `name` to a known person id (an enrollment addressed by id). */
  bind(name: string, id: number): void {
    this.#ids.set(name, Promise.resolve(id));
  }

  /** The person id already bound to `name`, if any. */
  boundId(name: string): Promise<number> | undefined {
    return this.#ids.get(name);
  }

  /** Why `name` can no longer take faces in this run (removed meanwhile, or refused on creation), if so. */
  blocked(name: string): { removed: true } | { refused: FacedbError } | undefined {
    if (this.#removed.has(name)) return { removed: true };
    const refused = this.#refused.get(name);
    return refused === undefined ? undefined : { refused };
  }

  /** The id faces of `name` go to: bound at the start, or created now, once per run. */
  idFor(name: string): Promise<number> {
    let id = this.#ids.get(name);
    if (id === undefined) {
      id = this.#store.upsertPerson(name).then((person) => person.id);
      // A refused name (a look-alike of an existing person) stays refused for the rest of the run.
      id.catch((error: unknown) => {
        const failure = toFacedbError(error);
        if (failure.code === 'invalid_input') this.#refused.set(name, failure);
        else this.#ids.delete(name); // e.g. a busy database: a later photo may try again
      });
      this.#ids.set(name, id);
    }
    return id;
  }

  /** The person bound to `name` was removed: nothing more is added under that name in this run. */
  markRemoved(name: string): void {
    this.#removed.add(name);
  }
}
