import { canonicalName, escapeInvisible, nameSkeleton } from '../core/names.js';
import { FacedbError } from '../errors/errors.js';

export interface NamedPerson {
  id: number;
  name: string;
}

/**
 * People by the skeleton of their name (core/names.ts), so a store can refuse to create a look-alike of an
 * existing person without reading every name on every creation. Filled lazily, on the first creation, and
 * then incrementally: person ids only grow (AUTOINCREMENT / identity) and the stores create people one at a
 * time (SQLite's write lock, an advisory lock in PostgreSQL), so `id > seenUpTo` finds everyone created since,
 * by this process or another. Removed people linger until a candidate is checked against the database.
 */
export class LookalikeIndex {
  readonly #bySkeleton = new Map<string, Map<number, string>>();
  #seenUpTo = 0;

  /** The highest person id learnt so far: read people with a higher id and `learn` them. */
  get seenUpTo(): number {
    return this.#seenUpTo;
  }

  learn(people: Iterable<NamedPerson>): void {
    for (const { id, name } of people) {
      const skeleton = nameSkeleton(name);
      let ids = this.#bySkeleton.get(skeleton);
      if (ids === undefined) {
        ids = new Map<number, string>();
        this.#bySkeleton.set(skeleton, ids);
      }
      ids.set(id, name);
      if (id > this.#seenUpTo) this.#seenUpTo = id;
    }
  }

  /** Ids of people, possibly removed since, whose names look like `name`. */
  candidates(name: string): number[] {
    return [...(this.#bySkeleton.get(nameSkeleton(name))?.keys() ?? [])];
  }

  forget(id: number): void {
    for (const ids of this.#bySkeleton.values()) ids.delete(id);
  }
}

/**
 * Given the existing people (checked against the database) whose names look like the normalised `name`: the
 * one to use when one is the same name stored un-normalised (before the name rules), else null to create
 * `name`. Throws invalid_input naming the existing person when `name` would be a look-alike of them.
 */
export function lookalikeVerdict(name: string, existing: readonly NamedPerson[]): NamedPerson | null {
  const same = existing.find((person) => canonicalName(person.name) === name);
  if (same) return same;
  const first = existing[0];
  if (first === undefined) return null;
  throw new FacedbError(
    'invalid_input',
    `person name "${escapeInvisible(name)}" looks like the existing person "${escapeInvisible(first.name)}" (#${first.id}): ` +
      'use that name, or one that cannot be mistaken for it',
    { details: { rule: 'lookalike_name', existingPersonId: first.id } },
  );
}
